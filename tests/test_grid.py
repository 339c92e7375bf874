"""The coarse working grid: block means, smooth upsampling, defects brought back to full-grid pixels."""

import numpy as np
import pytest

from schouw.detect.base import Defect, block_mean, block_up
from schouw.detect.grid import reduce


def disc(shape, cy, cx, r):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


@pytest.mark.parametrize("shape", [(100, 100), (101, 97)])
def test_block_mean_and_up_keep_geometry(shape):
    m = disc(shape, 40.3, 55.7, 20).astype(np.float32)
    small = block_mean(m, 4)
    assert small.shape == (-(-shape[0] // 4), -(-shape[1] // 4))
    back = block_up(small, 4, shape) >= 0.5
    assert back.shape == shape
    inter, union = (back & (m > 0)).sum(), (back | (m > 0)).sum()
    assert inter / union > 0.93  # a 20 px disc survives a 4x round trip within a pixel or so
    ys, xs = np.nonzero(back)
    assert abs(ys.mean() - 40.3) < 1.0 and abs(xs.mean() - 55.7) < 1.0  # and is not shifted


def test_reduce_factor_from_gsd_and_invalid_cells():
    img = np.full((64, 64, 3), 100, np.uint8)
    valid = np.ones((64, 64), bool)
    valid[:, :3] = False  # a no-data strip 3 px wide
    g = reduce(img, valid, None, 0.0200015, 0.04)  # a hair over 2 cm still gives factor 2
    assert g.f == 2 and g.image.shape == (32, 32, 3) and abs(g.gsd_m - 0.040003) < 1e-6
    assert not g.valid[:, :2].any() and g.valid[:, 2:].all()  # a half-valid cell is not valid
    assert reduce(img, valid, None, 0.05, 0.04).f == 1


def test_up_defects_scales_masks_origins_and_pixel_measures():
    shape = (90, 90)
    g = reduce(np.zeros((*shape, 3), np.uint8), np.ones(shape, bool), None, 0.01, 0.03)
    assert g.f == 3
    crop = disc((10, 10), 4.5, 4.5, 4)
    d = Defect("dry_grass", crop, 12, 20, 0.8, None, {"reach_px": 5.0, "solidity": 0.9})
    (up,) = g.up_defects([d])
    full = np.zeros(shape, bool)
    full[up.row0 : up.row0 + up.mask.shape[0], up.col0 : up.col0 + up.mask.shape[1]] = up.mask
    ys, xs = np.nonzero(full)
    # centre of the coarse disc (12 + 4.5, 20 + 4.5) cells -> (16.5 * 3 + 1, 24.5 * 3 + 1) pixels
    assert abs(ys.mean() - (16.5 * 3 + 1)) < 1.0 and abs(xs.mean() - (24.5 * 3 + 1)) < 1.0
    assert abs(full.sum() - crop.sum() * 9) / (crop.sum() * 9) < 0.1
    assert up.extra == {"reach_px": 15.0, "solidity": 0.9}


def test_up_defects_clips_to_the_tile():
    shape = (30, 30)
    g = reduce(np.zeros((*shape, 3), np.uint8), np.ones(shape, bool), None, 0.01, 0.02)
    d = Defect("bare_soil", np.ones((4, 4), bool), 13, 13, 0.5)  # reaches the last cells
    (up,) = g.up_defects([d])
    assert up.row0 + up.mask.shape[0] <= 30 and up.col0 + up.mask.shape[1] <= 30
