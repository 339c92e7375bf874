"""Joints of concrete slabs seen from above: dark lines straight from one edge of the pavement to the other (pure).

A concrete road or path is cast in slabs. The joints between them (sawn, or formed and sealed
with dark filler) are dark lines of constant width that run dead straight across the slab, from
one edge of the paved area to the other (or out of the image). A crack wanders: over a couple of
metres its centre line leaves any straight line by more than a pixel, and even a crack with a
straight stretch does not run straight from edge to edge. A line is a joint when, along its whole
chord through the region, the crack candidates lie along most of it (a drone sees a joint broken
into pieces) and their centre lines stay within a pixel of it nearly everywhere they do. Its band
is taken out of the crack candidates, so a crack that crosses a joint is still found on either side.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .base import centre_lines, hits_across, label
from .road_params import RoadParams

#: Candidate pieces at least this share of ``joint_min_length_m`` long may hold a joint's pieces.
MIN_PIECE_SHARE = 0.5
#: Gaps (m) a joint's pieces may leave along it.
MAX_GAP_M = 0.15
#: A chord is a joint when candidates lie within ``BAND_HALF_PX`` of it along this share of its length ...
MIN_COVER = 0.85
#: ... and, where their centre line is within ``BAND_HALF_PX`` of it, it is within ``ON_LINE_PX`` at this share.
ON_LINE_PX = 1
MIN_ON_LINE = 0.9
#: Half the width (px) of the band taken out along a joint: its dark line and the blur on either side.
BAND_HALF_PX = 3


def chord(region: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> tuple[np.ndarray, np.ndarray]:
    """Points (x, y px, one per pixel of length) of the line through (x0, y0) and (x1, y1), over the run of ``region``
    that holds the segment's middle: the line from one edge of the region (or the image) to the other."""
    h, w = region.shape
    length = math.hypot(x1 - x0, y1 - y0)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    reach = int(math.hypot(h, w)) + 1
    t = np.arange(-reach, reach + 1, dtype=np.float64)
    xs, ys = mx + t * ux, my + t * uy
    ix, iy = np.rint(xs).astype(int), np.rint(ys).astype(int)
    inside = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
    inside[inside] = region[iy[inside], ix[inside]]
    mid = reach  # t == 0: the segment's middle
    if not inside[mid]:
        return xs[:0], ys[:0]
    lo = mid - int(np.argmin(inside[mid::-1])) + 1 if not inside[: mid + 1].all() else 0
    hi = mid + int(np.argmin(inside[mid:])) if not inside[mid:].all() else t.size
    return xs[lo:hi], ys[lo:hi]


def straight_joints(weak: np.ndarray, region: np.ndarray, gsd_m: float, p: RoadParams = RoadParams()) -> np.ndarray:
    """Pixels (bool) of ``weak`` (crack candidates) on joints: lines at least ``joint_min_length_m`` long (metres;
    ``gsd_m`` in metres per pixel), straight across ``region`` from edge to edge, that the candidates follow (module doc)."""
    out = np.zeros(weak.shape, bool)
    min_len = p.joint_min_length_m / gsd_m
    if min_len > math.hypot(*weak.shape) or not weak.any():
        return out
    # only pieces long enough to be part of a joint are thinned and transformed (the transform is the costly step)
    n, lab, st = label(weak)
    ids = np.flatnonzero(np.hypot(st[:, cv2.CC_STAT_WIDTH], st[:, cv2.CC_STAT_HEIGHT]) >= MIN_PIECE_SHARE * min_len)
    ids = ids[ids > 0]
    if ids.size == 0:
        return out
    centre = centre_lines(weak, (lab, ids, st))
    # the transform may find a sloping joint only in parts (its staircase is a pixel off the line): each part is
    # judged along its whole chord, so one part is enough
    segs = cv2.HoughLinesP(centre.view(np.uint8), 1, math.pi / 360, threshold=int(0.4 * min_len), minLineLength=min_len,
                           maxLineGap=max(2.0, MAX_GAP_M / gsd_m))
    if segs is None:
        return out
    band = np.zeros(weak.shape, np.uint8)
    for x0, y0, x1, y1 in segs.reshape(-1, 4).tolist():
        xs, ys = chord(region, x0, y0, x1, y1)
        if xs.size < min_len:
            continue
        length = math.hypot(x1 - x0, y1 - y0)
        nx, ny = -(y1 - y0) / length, (x1 - x0) / length  # unit normal of the segment, and of its chord
        near = hits_across(centre, xs, ys, nx, ny, BAND_HALF_PX)  # where the centre line is near the chord at all ...
        if (hits_across(weak, xs, ys, nx, ny, BAND_HALF_PX).mean() >= MIN_COVER
                and (hits_across(centre, xs, ys, nx, ny, ON_LINE_PX) & near).sum() >= MIN_ON_LINE * near.sum()):  # ... on it
            cv2.line(band, (round(xs[0]), round(ys[0])), (round(xs[-1]), round(ys[-1])), 1, 2 * BAND_HALF_PX + 1)
    return weak & (band > 0)
