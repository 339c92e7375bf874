"""The tile grid: core windows partition the raster; tiles add only overlap context."""

import numpy as np
import pytest
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st

from schouw.tiling import batched, tile_grid


@settings(max_examples=200, deadline=None)
@given(
    width=st.integers(1, 700),
    height=st.integers(1, 700),
    tile=st.integers(16, 300),
    overlap=st.integers(0, 80),
)
def test_core_windows_cover_every_pixel_exactly_once(width, height, tile, overlap):
    specs = tile_grid(width, height, Affine.identity(), tile, overlap)
    cover = np.zeros((height, width), np.int32)
    for s in specs:
        cover[s.core_row_off : s.core_row_off + s.core_height, s.core_col_off : s.core_col_off + s.core_width] += 1
        # the tile window contains its core plus up to `overlap` pixels each side, inside the raster
        assert 0 <= s.col_off <= s.core_col_off and s.core_col_off + s.core_width <= s.col_off + s.width <= width
        assert 0 <= s.row_off <= s.core_row_off and s.core_row_off + s.core_height <= s.row_off + s.height <= height
        assert s.core_col_off - s.col_off == min(overlap, s.core_col_off)
        rs, cs = s.core_slices()
        assert rs.stop - rs.start == s.core_height and cs.stop - cs.start == s.core_width
    assert (cover == 1).all()
    assert len({s.tile_id for s in specs}) == len(specs)


def test_tile_transform_maps_tile_pixels_to_map():
    t = Affine(0.02, 0, 1000.0, 0, -0.02, 2000.0)
    spec = tile_grid(3000, 2000, t, 1024, 64)[1]
    assert spec.affine * (0, 0) == pytest.approx(t * (spec.col_off, spec.row_off))
    assert spec.affine * (10, 7) == pytest.approx(t * (spec.col_off + 10, spec.row_off + 7))


def test_rotated_transform_is_carried():
    t = Affine.translation(500.0, 800.0) * Affine.rotation(30) * Affine.scale(0.1, -0.1)
    for spec in tile_grid(500, 400, t, 128, 16):
        assert spec.affine * (3, 5) == pytest.approx(t * (spec.col_off + 3, spec.row_off + 5))


def test_batches_keep_every_tile_once():
    specs = tile_grid(5000, 3000, Affine.identity(), 256, 8)
    batches = batched(specs, 7)
    assert len(batches) <= 7
    assert [s for b in batches for s in b] == specs


def test_bad_tile_size_is_refused():
    with pytest.raises(ValueError, match="too small"):
        tile_grid(100, 100, Affine.identity(), 4, 0)
