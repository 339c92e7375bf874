"""A crack's centre line as measured (detect.centre): spurs pruned, steps counted along the chain."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from conftest import asphalt
from helpers import paint_line
from schouw.detect.centre import chain_length_px, measured_centre_line, prune_spurs
from schouw.detect.cracks import skeleton_length_px


def test_a_corner_and_a_diagonal_count_once():
    """Two side-by-side steps round a corner are 2 px, not 2 + sqrt 2 (the diagonal that cuts the corner); a diagonal
    line of 10 steps is 10 sqrt 2; one pixel is 1; nothing is 0."""
    corner = np.zeros((5, 5), bool)
    corner[1, 1] = corner[1, 2] = corner[2, 2] = True
    assert chain_length_px(corner) == pytest.approx(2.0)
    diagonal = np.eye(11, dtype=bool)
    assert chain_length_px(diagonal) == pytest.approx(10 * math.sqrt(2))
    dot = np.zeros((3, 3), bool)
    dot[1, 1] = True
    assert chain_length_px(dot) == 1.0 and chain_length_px(np.zeros((3, 3), bool)) == 0.0


def test_short_spurs_go_and_the_line_keeps_its_ends():
    """A 60 px line with three 3 px spurs: pruned by 4 px the spurs go and the line keeps every pixel, its two ends
    included; a 10 px branch stays. A line shorter than twice the pruning is kept as it is."""
    line = np.zeros((30, 80), bool)
    line[15, 10:70] = True
    for x in (20, 35, 50):
        line[12:15, x] = True  # a spur of 3 px
    line[16:26, 60] = True  # a branch of 10 px
    pruned = prune_spurs(line, 4)
    assert pruned[15, 10:70].all() and pruned[16:26, 60].all()
    assert not pruned[12:15, (20, 35, 50)].any()
    short = np.zeros((10, 10), bool)
    short[5, 2:8] = True
    assert (prune_spurs(short, 4) == short).all()


def test_a_ragged_crack_is_measured_about_as_long_as_it_is():
    """A 240 px crack 6 px wide whose edges are ragged (a mask thinned into a line with a spur at every bump): its
    thinned mask counted pair by pair reads far longer; measured, within 10 % of its length."""
    rng = np.random.default_rng(0)
    mask = np.zeros((80, 300), np.uint8)
    cv2.line(mask, (30, 40), (270, 40), 1, 6)
    bumps = rng.integers(30, 270, 60)
    for x, up in zip(bumps, rng.integers(0, 2, 60)):
        mask[(36 if up else 43) - 2 : (36 if up else 43) + 2, x : x + 2] = 1
    raw, line = skeleton_length_px(mask.astype(bool))
    length, _ = measured_centre_line(line, mask.astype(bool))
    assert raw > 1.15 * 240  # the trap is real
    assert length == pytest.approx(240, rel=0.1)


def test_the_learned_stage_reports_a_cracks_length():
    """A 2 px crack painted along a 317 px polyline on asphalt at 2 mm per pixel, through the learned stage: its
    reported length is within 15 % of the painted one (356 px; its mask reaches past the painted ends). Measured pair
    by pair, spurs and all, it read 397 px (road-classic 0.33.0)."""
    from schouw.detect.crack_mlp import CrackMLP, default_model_dir
    from schouw.detect.road import detect_cracks

    img = np.ascontiguousarray(np.moveaxis(asphalt(320, 480), 0, -1))
    pts = [(60, 120), (160, 150), (260, 140), (360, 190)]
    paint_line(img, pts, 2, 0.45)
    painted = sum(math.dist(a, b) for a, b in zip(pts, pts[1:]))
    ones = np.ones(img.shape[:2], bool)
    found = detect_cracks(img, ones, ones, 0.002, model=CrackMLP.load(default_model_dir()))
    assert sum(d.extra["length_px"] for d in found) == pytest.approx(painted, rel=0.15)


def test_a_wide_crack_in_a_large_photo_is_measured_about_as_wide_as_it_is():
    """A 48 px crack across 1632 x 1152 px (``score_wide_cracks.py --size 1632x1152``), found whole at a smaller size:
    its scaled-back mask has a staircase edge, and its thinned mask was a ladder, a branch to every step, two to four
    times its length; photos 1, 3 and 5 read 12-20 px wide. Measured on its mask smoothed (``WIDE_HALF_PX``), they read
    0.6-1.5 times its width (road-classic 0.35.0)."""
    import sys

    from conftest import ROOT
    from schouw.detect.crack_mlp import CrackMLP, default_model_dir
    from schouw.detect.road import RoadParams
    from schouw.photos import DEFAULT_GSD_M, photo_defects

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from score_wide_cracks import wide_crack_photo

    model = CrackMLP.load(default_model_dir())
    for seed in (1, 3, 5):
        rgb, _ = wide_crack_photo(48, seed, (1152, 1632))
        cracks = [d for d in photo_defects(rgb, DEFAULT_GSD_M, RoadParams(), model)[0] if d.type == "crack"]
        main = max(cracks, key=lambda d: d.mask.sum())
        assert 0.6 * 48 <= main.extra["mean_width_px"] <= 1.5 * 48, (seed, main.extra["mean_width_px"])
