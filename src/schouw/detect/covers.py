"""Round manhole and gully covers seen from above: the dark gap around the cover is a ring, not a crack (pixel space, pure).

From above (drone GSDs of about 1-5 cm per pixel, and finer) the gap between a cover and its frame,
and the frame's outer edge, are thin dark lines: the crack detector finds them as crack pieces that run round a
near-perfect circle of manhole size (measured on RDD2022 China_Drone, models/road-classic/MODEL_CARD.md).
No crack runs three quarters round a perfect circle of 0.4-1.4 m. The circle is found on the
crack pieces themselves (cheap: they are sparse), by OpenCV's circle Hough transform, whose
``HOUGH_GRADIENT_ALT`` threshold is how perfect a circle must be.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .base import Defect, defects_mask
from .road_params import RoadParams

#: Below this radius (px) a cover's gap is lost in the pixels: no test is made.
MIN_RING_RADIUS_PX = 4.0
#: The circle transform looks for radii up to this (px): a finer image's crack mask is shrunk for it ...
MAX_HOUGH_RADIUS_PX = 80.0
#: ... by at most this factor, which is about 4.4 mm per pixel. A close-range photo (CrackForest: 1-2 mm, under a
#: metre across) holds at most part of a cover, and its time budget is tight (issue 3: 50 ms per 512 x 512).
MAX_SHRINK = 2
#: Angular bins in which the ring's share of the circle is counted.
ANGLE_BINS = 36


def cover_rims(cracks: list[Defect], shape: tuple[int, int], gsd_m: float, p: RoadParams = RoadParams()) -> list[bool]:
    """For each crack, whether it lies on the rim of a round cover.

    A circle is a cover's rim when its radius is ``manhole_min_diameter_m / 2`` to
    ``manhole_ring_max_diameter_m / 2`` (metres; ``gsd_m`` in metres per pixel), the Hough
    transform of the cracks' mask finds it at least ``manhole_ring_perfectness`` perfect, and the
    cracks that lie on it cover at least ``manhole_ring_coverage`` of its angles. A crack lies on
    it when at least ``manhole_ring_share`` of its pixels are in its band (``max(3 px, 0.25
    radius)`` either side): a short crack that reaches a cover is mostly off the band and is kept.
    And at least ``manhole_ring_purity`` of the pixels of all cracks that touch the band must lie
    in it: a circle that a crack network (alligator cells) happens to hold is crossed by many
    cracks. A cover that a long crack reaches is then kept whole, rim and crack.
    """
    on_rim = [False] * len(cracks)
    r_lo = p.manhole_min_diameter_m / 2 / gsd_m
    r_hi = p.manhole_ring_max_diameter_m / 2 / gsd_m
    f = max(1, math.ceil(r_hi / MAX_HOUGH_RADIUS_PX))  # finer than about 1 cm per pixel: the transform on a smaller mask
    if not cracks or r_lo < MIN_RING_RADIUS_PX or f > MAX_SHRINK or min(shape) < 2 * r_lo:
        return on_rim
    sheet = defects_mask(cracks, shape).view(np.uint8) * np.uint8(255)
    if f > 1:
        sheet = cv2.resize(sheet, (shape[1] // f, shape[0] // f), interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(sheet, (0, 0), 1.5)  # a line becomes a ridge with gradients either side
    circles = cv2.HoughCircles(blurred, cv2.HOUGH_GRADIENT_ALT, 1.5, minDist=2 * r_lo / f, param1=100,
                               param2=p.manhole_ring_perfectness, minRadius=int(r_lo / f),
                               maxRadius=int(math.ceil(r_hi / f)))
    if circles is None:
        return on_rim
    circles = circles * f
    pixels = []  # each crack's pixel coordinates in the image, computed once
    for d in cracks:
        ys, xs = np.nonzero(d.mask)
        pixels.append((xs + d.col0, ys + d.row0))
    for cx, cy, r in circles[0]:
        band = max(3.0, 0.25 * float(r))
        reach = r + band
        rim, angles, inside, touching = [], [], 0, 0
        for i, (d, (xs, ys)) in enumerate(zip(cracks, pixels)):
            x0, y0, x1, y1 = d.bbox_px
            if x1 < cx - reach or x0 > cx + reach or y1 < cy - reach or y0 > cy + reach:
                continue
            near = np.abs(np.hypot(xs - cx, ys - cy) - r) <= band
            n_near = int(near.sum())
            inside += n_near
            touching += xs.size if n_near else 0
            if n_near >= p.manhole_ring_share * xs.size:
                rim.append(i)
                angles.append(np.arctan2(ys[near] - cy, xs[near] - cx))
        if not rim or inside < p.manhole_ring_purity * touching:
            continue
        bins = ((np.concatenate(angles) + math.pi) / (2 * math.pi) * ANGLE_BINS).astype(int) % ANGLE_BINS
        if np.unique(bins).size >= p.manhole_ring_coverage * ANGLE_BINS:
            for i in rim:
                on_rim[i] = True
    return on_rim
