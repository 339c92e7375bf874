"""Thin cast shadows: the shadow of a pole, a sign post or a kerb is a straight, bluish line, not a crack (pixel space, pure).

A lamp post or sign post 4-10 cm thick casts a shadow metres long across the road; from a drone at 1-3 cm per
pixel it is a dark line of a crack's width, which the black-hat finds. Two things tell it from a crack. It is
straight: its centre line keeps to a straight line within a pixel over a metre or more, where a crack wanders. And
it is lit by the sky alone, so it is bluer than the sunlit road beside it, where a crack's floor is as grey as its
surroundings (measured on RDD2022 China_Drone: no crack piece is both, models/road-classic/MODEL_CARD.md). A crack
inside a cast shadow is as blue as the shadow around it, so it is kept.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .base import Defect, chromaticity
from .road_params import RoadParams

#: Finer than this (metres per pixel) no test is made: at close range (CrackForest: 1-2 mm per pixel) a post's
#: shadow is wider than the widest crack, and the photo is under a metre across.
MIN_GSD_M = 0.004
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
    if np.percentile(np.abs((xs - x0) * vy - (ys - y0) * vx), 100 * STRAIGHT_SHARE) > max_wander_px:
        return 0.0
    along = (xs - x0) * vx + (ys - y0) * vy
    return float(along.max() - along.min())


def shadow_lines(cracks: list[Defect], image: np.ndarray, region: np.ndarray, gsd_m: float,
                 p: RoadParams = RoadParams()) -> list[bool]:
    """For each crack, whether it is the cast shadow of a thin upright object.

    A crack is such a shadow when its centre line is straight (:func:`_straight_length_px`, within
    ``shadow_max_wander_px``) over at least ``shadow_min_length_m`` (metres; ``gsd_m`` in metres per pixel, from 4 mm),
    and its pixels' blue chromaticity b / (r + g + b) exceeds that of the ``region`` pixels within ``RING_PX`` of it by
    at least ``shadow_min_blue_shift``. ``image``: RGB.
    """
    out = [False] * len(cracks)
    if gsd_m < MIN_GSD_M or not cracks:
        return out
    min_len = p.shadow_min_length_m / gsd_m
    blue = None
    kernel = np.ones((2 * RING_PX + 1, 2 * RING_PX + 1), np.uint8)
    rows, cols = region.shape
    for i, d in enumerate(cracks):
        h, w = d.mask.shape
        if math.hypot(h, w) < min_len or _straight_length_px(d.mask, p.shadow_max_wander_px) < min_len:
            continue
        if blue is None:
            blue = chromaticity(image)[2]
        y0, x0 = max(d.row0 - RING_PX, 0), max(d.col0 - RING_PX, 0)
        y1, x1 = min(d.row0 + h + RING_PX, rows), min(d.col0 + w + RING_PX, cols)
        line = np.zeros((y1 - y0, x1 - x0), np.uint8)
        line[d.row0 - y0 : d.row0 - y0 + h, d.col0 - x0 : d.col0 - x0 + w] = d.mask
        ring = (cv2.dilate(line, kernel) > 0) & (line == 0) & region[y0:y1, x0:x1]
        if not ring.any():
            continue
        b = blue[y0:y1, x0:x1]
        out[i] = float(b[line > 0].mean()) - float(b[ring].mean()) >= p.shadow_min_blue_shift
    return out
