"""Vectorizing masks: exact pixel outlines, and areas too small for the coarse area grid."""

import numpy as np
import shapely
import pytest
from affine import Affine

from schouw.tiling import tile_grid
from schouw.vectorize import area_to_pieces, mask_to_geometry


def test_mask_outline_is_pixel_exact():
    m = np.zeros((10, 10), bool)
    m[2:5, 3:7] = True
    g = mask_to_geometry(m, Affine.translation(100, 200))
    assert g.area == 12 and g.bounds == (103, 202, 107, 205)
    assert mask_to_geometry(np.zeros((4, 4), bool), Affine.identity()).is_empty


@pytest.mark.parametrize("pixels", [1, 3])
def test_tiny_area_on_the_coarse_grid_is_skipped_not_an_error(pixels):
    spec = tile_grid(256, 256, Affine.identity(), 256, 0)[0]
    m = np.zeros((256, 256), bool)
    m[5, 5 : 5 + pixels] = True  # on a 12-px grid cell, nearest sampling may miss it
    pieces = area_to_pieces({"green": m}, spec, gsd_m=0.02)  # raised IndexError before the fix
    assert len(pieces) <= 1
    for p in pieces:
        g = shapely.from_wkb(p.wkb)
        assert g.is_valid and not g.is_empty and g.within(shapely.box(0, 0, 256, 256))
