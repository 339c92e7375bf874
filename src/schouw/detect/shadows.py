"""Thin cast shadows: the shadow of a pole, a sign post or a kerb is a straight, bluish line, not a crack (pixel space, pure).

A lamp post or sign post 4-10 cm thick casts a shadow metres long across the road; from a drone at 1-3 cm per
pixel it is a dark line of a crack's width, which the black-hat finds. Two things tell it from a crack. It is
straight: its centre line keeps to a straight line within a pixel over a metre or more, where a crack wanders. And
it is lit by the sky alone, so it is bluer than the sunlit road beside it, where a crack's floor is as grey as its
surroundings (measured on RDD2022 China_Drone: no crack piece is both, models/road-classic/NOTEBOOK.md). A crack
inside a cast shadow is as blue as the shadow around it, so it is kept.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .base import DRONE_MIN_GSD_M, Defect, centre_lines, chromaticity, hits_across, label, padded, quick_percentile
from .road_params import RoadParams

#: This share of a shadow's centre line lies near its straight line: the rest may be spurs of noise joined to it.
STRAIGHT_SHARE = 0.8
#: The road beside a line is looked at this far out from it (px).
RING_PX = 3


def _straight_length_px(mask: np.ndarray, max_wander_px: float) -> float:
    """Length (px) of a mask's centre line along its best straight line (a robust fit), if ``STRAIGHT_SHARE`` of the
    centre line lies within ``max_wander_px`` of that line; else 0."""
    sk = cv2.ximgproc.thinning(np.pad(mask.view(np.uint8) * np.uint8(255), 1))[1:-1, 1:-1]
    ys, xs = np.nonzero(sk)
    if xs.size < 5:
        return 0.0
    vx, vy, x0, y0 = cv2.fitLine(np.column_stack((xs, ys)).astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
    if quick_percentile(np.abs((xs - x0) * vy - (ys - y0) * vx), 100 * STRAIGHT_SHARE) > max_wander_px:
        return 0.0
    along = (xs - x0) * vx + (ys - y0) * vy
    return float(along.max() - along.min())


def _blue_shift(blue: np.ndarray, on: np.ndarray, line: np.ndarray, beside: np.ndarray) -> float | None:
    """How much bluer (b / (r + g + b)) the pixels ``on`` (bool) are than the ``beside`` pixels (bool) within ``RING_PX``
    of ``line`` (uint8 0/1, holding them) and off it, on a crop ``blue`` of the image's blue chromaticity; None where
    there are none of either."""
    ring = (cv2.dilate(line, np.ones((2 * RING_PX + 1, 2 * RING_PX + 1), np.uint8)) > 0) & (line == 0) & beside
    if not ring.any() or not on.any():
        return None
    return float(blue[on].mean()) - float(blue[ring].mean())


def shadow_lines(cracks: list[Defect], image: np.ndarray, region: np.ndarray, gsd_m: float,
                 p: RoadParams = RoadParams()) -> list[bool]:
    """For each crack, whether it is the cast shadow of a thin upright object.

    A crack is such a shadow when its centre line is straight (:func:`_straight_length_px`, within
    ``shadow_max_wander_px``) over at least ``shadow_min_length_m`` (metres; ``gsd_m`` in metres per pixel, from 4 mm),
    and its pixels' blue chromaticity b / (r + g + b) exceeds that of the ``region`` pixels within ``RING_PX`` of it by
    at least ``shadow_min_blue_shift``. ``image``: RGB.
    """
    out = [False] * len(cracks)
    if gsd_m < DRONE_MIN_GSD_M or not cracks:
        return out
    min_len = p.shadow_min_length_m / gsd_m
    blue = None
    for i, d in enumerate(cracks):
        h, w = d.mask.shape
        if math.hypot(h, w) < min_len:
            continue
        if blue is None:
            blue = chromaticity(image)[2]
        # the colour first: a few pieces are bluer than the road beside them, and the robust line fit is the dearer test
        line, win, _ = padded(d.mask, d.row0, d.col0, RING_PX, region.shape)
        shift = _blue_shift(blue[win], line > 0, line, region[win])
        if shift is None or shift < p.shadow_min_blue_shift:
            continue
        out[i] = _straight_length_px(d.mask, p.shadow_max_wander_px) >= min_len
    return out


#: A centre line this share of whose length lies near a segment covers it (a shadow's line, not a crossing crack).
MIN_COVER = 0.8


def shadow_bands(weak: np.ndarray, image: np.ndarray, region: np.ndarray, gsd_m: float,
                 p: RoadParams = RoadParams()) -> np.ndarray:
    """Pixels (bool) of ``weak`` (crack candidates) on the cast shadows of thin upright objects.

    The candidate-level form of :func:`shadow_lines`, so that a crack crossing a shadow is still found on either side:
    OpenCV's ``HoughLinesP`` finds straight stretches of at least ``shadow_min_length_m`` (metres; ``gsd_m`` in metres
    per pixel, from 4 mm) in the candidates' centre lines. A stretch is a shadow when the centre line lies near it
    along ``MIN_COVER`` of it and within ``shadow_max_wander_px`` of it at ``STRAIGHT_SHARE`` of those points, and the
    candidates in its band (half the widest crack either side) are bluer than the ``region`` beside the band by
    ``shadow_min_blue_shift``. Those candidates are returned. ``image``: RGB.
    """
    out = np.zeros(weak.shape, bool)
    min_len = p.shadow_min_length_m / gsd_m
    if gsd_m < DRONE_MIN_GSD_M or min_len > math.hypot(*weak.shape) or not weak.any():
        return out
    n, lab, st = label(weak)
    ids = np.flatnonzero(np.hypot(st[:, cv2.CC_STAT_WIDTH], st[:, cv2.CC_STAT_HEIGHT]) >= min_len)
    ids = ids[ids > 0]
    if ids.size == 0:
        return out
    centre = centre_lines(weak, (lab, ids, st))
    segs = cv2.HoughLinesP(centre.view(np.uint8), 1, math.pi / 360, threshold=int(0.6 * min_len), minLineLength=min_len,
                           maxLineGap=2)
    if segs is None:
        return out
    blue = chromaticity(image)[2]
    h, w = weak.shape
    half = max(2, round(min(p.crack_max_width_m / gsd_m, 2 * p.crack_max_radius_px) / 2) + 1)
    for x0, y0, x1, y1 in segs.reshape(-1, 4).tolist():
        length = math.hypot(x1 - x0, y1 - y0)
        t = np.arange(0.0, length + 1.0)
        xs, ys = x0 + t * (x1 - x0) / length, y0 + t * (y1 - y0) / length
        nx, ny = -(y1 - y0) / length, (x1 - x0) / length
        near = hits_across(centre, xs, ys, nx, ny, half)  # the segment lies in the image: no point is off it
        if near.mean() < MIN_COVER or hits_across(centre, xs, ys, nx, ny, p.shadow_max_wander_px).sum() < STRAIGHT_SHARE * near.sum():
            continue
        # the band runs on along the line as far as the candidates do: the transform may find a shorter stretch
        t = np.arange(-length, 2 * length + 1.0)
        xs, ys = x0 + t * (x1 - x0) / length, y0 + t * (y1 - y0) / length
        run = hits_across(weak, xs, ys, nx, ny, half) & (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)
        seg0, seg1 = int(length), int(2 * length)
        lo = seg0 - int(np.argmin(run[seg0::-1])) if not run[: seg0 + 1].all() else 0
        hi = seg1 + int(np.argmin(run[seg1:])) if not run[seg1:].all() else t.size
        ex0, ey0, ex1, ey1 = (round(xs[lo]), round(ys[lo]), round(xs[max(hi - 1, lo)]), round(ys[max(hi - 1, lo)]))
        r0, c0 = max(min(ey0, ey1) - half - RING_PX, 0), max(min(ex0, ex1) - half - RING_PX, 0)
        r1, c1 = min(max(ey0, ey1) + half + RING_PX + 1, h), min(max(ex0, ex1) + half + RING_PX + 1, w)
        band = np.zeros((r1 - r0, c1 - c0), np.uint8)
        cv2.line(band, (ex0 - c0, ey0 - r0), (ex1 - c0, ey1 - r0), 1, 2 * half + 1)
        cand = weak[r0:r1, c0:c1] & (band > 0)
        shift = _blue_shift(blue[r0:r1, c0:c1], cand, band, region[r0:r1, c0:c1] & ~weak[r0:r1, c0:c1])
        if shift is not None and shift >= p.shadow_min_blue_shift:
            out[r0:r1, c0:c1] |= cand
    return out
