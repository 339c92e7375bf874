"""Crack widths below the pixel (detect.widths): the light a crack takes out of the road, over its depth.

A crack is painted on plain road at 1 mm per pixel, its inside ``depth`` of the road's brightness
darker, and the photo is then averaged down to the GSD under test (a camera farther away), with
sensor noise added there. Its width must come out in millimetres, whatever the GSD.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conftest import asphalt
from schouw.detect.base import to_gray
from schouw.detect.cracks import detect_cracks, skeleton_length_px
from schouw.detect.road_params import RoadParams
from schouw.detect.widths import crack_width_px, inside_depth

DEPTH = RoadParams().crack_interior_depth


def _photo(width_mm, gsd_mm: int, depth: float, light=None, size_mm=(480, 1200), seed=0):
    """(grey photo at ``gsd_mm``, the crack's centre line there): a crack across a road seen at 1 mm per pixel.

    ``width_mm`` is one width or a (first half, second half) pair; ``light`` a function of x (0-1) scaling the road.
    """
    h, w = size_mm
    road = np.full((h, w), 130.0, np.float32)
    if light is not None:
        road *= light(np.linspace(0, 1, w, dtype=np.float32))[None, :]
    crack = np.zeros((h, w), np.float32)
    widths = width_mm if isinstance(width_mm, tuple) else (width_mm, width_mm)
    for (x0, x1), wd in zip(((40, w // 2), (w // 2, w - 40)), widths):
        m = np.zeros((h, w), np.uint8)
        cv2.line(m, (x0, h // 2 - 10), (x1, h // 2 - 10 + (x1 - x0) // 20), 255, int(wd), cv2.LINE_AA)
        crack = np.maximum(crack, m / 255.0)
    fine = road * (1 - depth * crack)
    size = (w // gsd_mm, h // gsd_mm)
    gray = cv2.resize(fine, size, interpolation=cv2.INTER_AREA)
    gray += np.random.default_rng(seed).normal(0, 2.0, gray.shape).astype(np.float32)
    cover = cv2.resize(crack, size, interpolation=cv2.INTER_AREA)  # the share of each pixel the crack covers
    mark = cover > 0.3 * cover.max()
    return np.clip(gray, 0, 255).astype(np.uint8), mark


def _measure(gray: np.ndarray, mark: np.ndarray, core_px: float = 1.0) -> tuple[float, float]:
    length, sk = skeleton_length_px(mark)
    return crack_width_px(gray, mark, sk, 0, 0, length, core_px, DEPTH)


@pytest.mark.parametrize("gsd_mm", [3, 6, 12, 25])
def test_a_crack_thinner_than_a_pixel_keeps_its_width(gsd_mm):
    """A 6 mm crack as dark inside as assumed reads 6 mm at 3 mm per pixel and at 25 mm per pixel alike (a pixel
    count would say at least one GSD: 25 mm, a medium crack instead of a light one)."""
    gray, mark = _photo(6, gsd_mm, DEPTH)
    mean_px, max_px = _measure(gray, mark)
    assert mean_px * gsd_mm == pytest.approx(6, rel=0.25)
    assert mean_px <= max_px <= 1.6 * mean_px


def test_a_wide_crack_is_measured_with_its_own_depth():
    """An 8 cm crack at 2 cm per pixel, half as bright as the road inside: resolved, so the depth seen on its centre
    line is used. With the assumed depth it would read 0.5 / 0.18 times too wide."""
    gray, mark = _photo(80, 20, 0.5, size_mm=(1200, 2400))
    assert inside_depth(gray, mark, skeleton_length_px(mark)[1], 0, 0, 4.0) == pytest.approx(0.5, abs=0.05)
    mean_px, _ = _measure(gray, mark, core_px=4.0)
    assert mean_px * 20 == pytest.approx(80, rel=0.15)


def test_the_road_brightness_is_taken_along_the_crack():
    """Light falling from 1.4 to 0.5 along a crack: its width stays, mean and max, since the road beside each stretch
    is its own."""
    flat, mark = _photo(8, 12, DEPTH)
    lit, mark_lit = _photo(8, 12, DEPTH, light=lambda x: 1.4 - 0.9 * x)
    assert _measure(lit, mark_lit) == pytest.approx(_measure(flat, mark), rel=0.15)


def test_the_road_beside_a_crack_is_road_not_kerb():
    """A 6 mm crack at 12 mm per pixel running 3 px from a bright kerb outside the road area: measured against the
    road's brightness it keeps its width; with the kerb taken for road it reads wider."""
    gray, mark = _photo(6, 12, DEPTH)
    rows = np.nonzero(mark.any(axis=1))[0]
    kerb = np.zeros(gray.shape, bool)
    kerb[: rows.min() - 3] = True
    gray[kerb] = 230
    length, sk = skeleton_length_px(mark)
    on_road = crack_width_px(gray, mark, sk, 0, 0, length, 1.0, DEPTH, road=~kerb)[0]
    anywhere = crack_width_px(gray, mark, sk, 0, 0, length, 1.0, DEPTH)[0]
    assert on_road * 12 == pytest.approx(6, rel=0.25)
    assert anywhere > 1.5 * on_road


def test_the_max_width_is_the_widest_stretch():
    """Half the crack 5 mm, half 15 mm, at 12 mm per pixel: the mean lies between, the max near 15 mm."""
    gray, mark = _photo((5, 15), 12, DEPTH)
    mean_px, max_px = _measure(gray, mark)
    assert 7 <= mean_px * 12 <= 13
    assert max_px * 12 == pytest.approx(15, rel=0.25)


def test_the_detector_reports_the_width_from_the_light():
    """Through the crack detector at 2 cm per pixel on textured asphalt: a 3 cm crack as deep as assumed is reported
    about 3 cm wide, by :func:`crack_width_px` on the crack's own centre line."""
    img = np.ascontiguousarray(np.moveaxis(asphalt(200, 400), 0, -1))
    m = np.zeros((2000, 4000), np.uint8)  # the crack at 2 mm per pixel, averaged down tenfold
    cv2.polylines(m, [np.array([(300, 900), (2000, 1000), (3700, 950)], np.int32)], False, 255, 15, cv2.LINE_AA)
    dark = cv2.resize(m.astype(np.float32) / 255, (400, 200), interpolation=cv2.INTER_AREA)
    img[:] = np.round(img * (1 - DEPTH * dark)[..., None]).astype(np.uint8)
    ones = np.ones(img.shape[:2], bool)
    found = detect_cracks(img, ones, ones, 0.02)
    assert len(found) == 1
    d = found[0]
    assert d.extra["mean_width_px"] * 0.02 == pytest.approx(0.03, rel=0.3)
    length, sk = skeleton_length_px(d.mask)
    own = crack_width_px(to_gray(img), d.mask, sk, d.row0, d.col0, length, d.extra["core_width_px"], DEPTH)
    assert (d.extra["mean_width_px"], d.extra["max_width_px"]) == pytest.approx(own)


def test_a_blob_wider_than_its_ring_window_has_no_width_of_metres():
    """Deep inside a dark blob 24 px wide taken as one crack, no road pixel lies within the square round its centre line
    that the road's brightness is taken over. That brightness was 0 there, and the max width came out at hundreds of
    pixels (up to 2 191 px, 55 m, on RDD2022 at 2.5 cm). It is now the ring's as a whole: the max stays near the
    blob's width."""
    gray = np.full((80, 120), 130, np.uint8)
    gray[28:52, 20:100] = 65
    mark = gray < 100
    mean_px, max_px = _measure(gray, mark)
    assert 0 < mean_px <= max_px <= 2 * 24, (mean_px, max_px)


def test_a_crack_wider_than_its_core_is_measured_against_the_road_beyond_its_mask():
    """A 40 mm crack at 1 mm per pixel, found whole (its mask 40 px wide) while the black-hat sees a core of 2 px only
    (its disk is capped at 10 px). The road's brightness is taken beyond half the mask's width, not half the core's:
    with the core's, the deficit was counted only where the ring lay within a few pixels, along the crack's edges,
    and the crack read about half its width (road-classic 0.33.0)."""
    gray, mark = _photo(40, 1, 0.5, size_mm=(300, 600))
    mean_px, _ = _measure(gray, mark, core_px=2.0)
    assert mean_px == pytest.approx(40, rel=0.15)
