"""Round manhole, gully and valve covers seen from above: not cracks, potholes or ravelling (pixel space, pure).

From above (drone GSDs of about 1-5 cm per pixel, and finer) the gap between a cover and its frame,
and the frame's outer edge, are thin dark lines: the crack detector finds them as crack pieces that run round a
near-perfect circle of manhole size (measured on RDD2022 China_Drone, models/road-classic/MODEL_CARD.md).
No crack runs three quarters round a perfect circle of 0.4-1.4 m. The circle is found on the
crack pieces themselves (cheap: they are sparse), by OpenCV's circle Hough transform, whose
``HOUGH_GRADIENT_ALT`` threshold is how perfect a circle must be.

A cover is also a disc: a dark cast-iron one in a light frame is as dark as a hole, a small valve cover
(15-30 cm) is a hole's size, and a cover's raised anti-slip pattern is as coarse as a ravelled surface. Its
outline is a circle no hole or rough patch draws: :func:`cover_discs` looks for it in the photo itself, round each
such candidate (measured on RDD2022 China_Drone, models/road-classic/MODEL_CARD.md).
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
#: cover_discs: Canny's upper threshold (grey levels per pixel, on the photo blurred by 1 px) for a cover's outline ...
COVER_EDGE_GREY = 60.0
#: ... and this share of the defect's pixels inside the circle (and its band) ...
HOLD_SHARE = 0.9
#: ... and the circle an edge all round (manhole_ring_coverage of its directions): at least this share of its strongest.
CLOSED_EDGE_SHARE = 0.4
#: cover_patterns: a crack piece whose box is longer than this times its width is no cover's ring.
COVER_BOX_ASPECT = 1.5


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


def cover_discs(gray: np.ndarray, defects: list[Defect], gsd_m: float, p: RoadParams = RoadParams(),
                margin_px: float = 0.0) -> list[tuple[float, float, float] | None]:
    """For each area defect (a pothole or ravelling candidate), the round cover it lies on: (x, y, radius) in pixels,
    or None.

    The cover is a circle in the grey image ``gray`` of ``cover_min_diameter_m`` to ``manhole_ring_max_diameter_m``
    (``gsd_m`` m/px), at least ``cover_disc_perfectness`` perfect to OpenCV's ``HOUGH_GRADIENT_ALT``, found in a window
    round the defect. The defect must lie on it: ``HOLD_SHARE`` of its pixels within the radius plus the outline's
    band (:func:`_band_px`) plus ``margin_px`` (how far the defect's own mask reaches beyond what caused it:
    half a texture window for ravelling). The circle must be closed, an edge on it in ``manhole_ring_coverage`` of the
    directions (:func:`_closed_share`), and a ring: a valley or a ridge at least ``cover_ring_min_grey`` deep or high
    across it (:func:`_ring_contrast`), not a hole's step.
    """
    found: list[tuple[float, float, float] | None] = [None] * len(defects)
    r_lo = max(p.cover_min_diameter_m / 2 / gsd_m, MIN_RING_RADIUS_PX)
    r_hi = p.manhole_ring_max_diameter_m / 2 / gsd_m
    if r_lo > r_hi or p.cover_disc_perfectness >= 1:  # 1 or more: no circle is that perfect (the rule is off)
        return found
    reach_max = r_hi + _band_px(r_hi) + margin_px
    for i, d in enumerate(defects):
        ys, xs = np.nonzero(d.mask)
        if HOLD_SHARE * xs.size > math.pi * reach_max**2:
            continue  # too large for any cover to hold (a large rough patch: no window to search)
        ys, xs = ys + d.row0, xs + d.col0
        cy, cx = float(ys.mean()), float(xs.mean())
        half = int(math.ceil(max(r_hi, float(np.hypot(ys - cy, xs - cx).max())) * 1.2)) + 3
        y0, x0 = max(0, int(cy) - half), max(0, int(cx) - half)
        win = cv2.GaussianBlur(gray[y0 : int(cy) + half + 1, x0 : int(cx) + half + 1], (0, 0), 1.0)
        if min(win.shape) < 2 * r_lo:
            continue
        circles = cv2.HoughCircles(win, cv2.HOUGH_GRADIENT_ALT, 1.5, minDist=2, param1=COVER_EDGE_GREY,
                                   param2=p.cover_disc_perfectness, minRadius=int(r_lo),
                                   maxRadius=int(math.ceil(r_hi)))
        grad = None
        for ccx, ccy, r in ([] if circles is None else circles[0]):
            reach = r + _band_px(r) + margin_px
            if np.mean(np.hypot(xs - x0 - ccx, ys - y0 - ccy) < reach) < HOLD_SHARE:
                continue
            if grad is None:
                grad = cv2.magnitude(cv2.Sobel(win, cv2.CV_32F, 1, 0), cv2.Sobel(win, cv2.CV_32F, 0, 1))
            if _closed_share(grad, float(ccx), float(ccy), float(r)) < p.manhole_ring_coverage:
                continue
            if cover_ring(win, float(ccx), float(ccy), float(r)) >= p.cover_ring_min_grey:
                found[i] = (float(ccx) + x0, float(ccy) + y0, float(r))
                break
    return found


def cover_ring(blurred: np.ndarray, cx: float, cy: float, r: float) -> float:
    """:func:`_ring_contrast` of a circle found by the transform in ``blurred`` (a grey image blurred by 1 px), at the
    best of the centres within 1 px of its own: that centre is good to the accumulator's 1.5 px, and a ring 1 px wide
    is lost 1 px off its centre."""
    return max(_ring_contrast(blurred, cx + dx, cy + dy, r) for dx in (-1, 0, 1) for dy in (-1, 0, 1))


def _ring_contrast(win: np.ndarray, cx: float, cy: float, r: float) -> float:
    """How much a ring on a circle stands out (grey levels): the deepest valley or highest ridge of the image's mean
    over circles round (``cx``, ``cy``), within 3 px of radius ``r``, against the radii up to 4 px either side.

    A cover is a lid in a frame: its gap is a dark ring, its frame a light one (valley or ridge). A hole's edge is a
    step, dark inside and light outside, whatever its shape: it has neither (measured on RDD2022's potholes that a
    circle holds, ``benchmarks/cover_circles.py``).
    """
    prof = win[_on_circles(cx, cy, r + np.arange(-7.0, 8.0), win.shape)].astype(np.float32).mean(axis=1)  # r-7 ... r+7
    best = -np.inf
    for i in range(4, 11):  # r - 3 ... r + 3
        inner, outer, here = prof[i - 4 : i], prof[i + 1 : i + 5], prof[i]
        valley = min(inner.max(), outer.max()) - here
        ridge = here - max(inner.min(), outer.min())
        best = max(best, valley, ridge)
    return float(best)


def _closed_share(grad: np.ndarray, cx: float, cy: float, r: float) -> float:
    """Share of the directions round a circle (``ANGLE_BINS``) in which the image has an edge on it: the gradient
    magnitude ``grad`` within 1.5 px of the circle at least ``CLOSED_EDGE_SHARE`` of its 90th percentile over all
    directions. A cover is round all the way; a crack curving along half a circle is a perfect arc, not a cover."""
    on = _on_circles(cx, cy, r + np.array([-1.5, -0.75, 0.0, 0.75, 1.5], np.float32), grad.shape)
    per_bin = grad[on].max(axis=0).reshape(ANGLE_BINS, 4).max(axis=1)
    return float(np.mean(per_bin >= CLOSED_EDGE_SHARE * np.percentile(per_bin, 90)))


def _on_circles(cx: float, cy: float, radii: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Pixel indices (rows, cols), clipped to an image of ``shape``, of ``4 * ANGLE_BINS`` points evenly round each
    circle of these ``radii`` about (``cx``, ``cy``): one row of points per radius."""
    ang = np.linspace(0, 2 * math.pi, 4 * ANGLE_BINS, endpoint=False)
    radii = np.asarray(radii)[:, None]
    xs = np.clip(np.rint(cx + radii * np.cos(ang)), 0, shape[1] - 1).astype(int)
    ys = np.clip(np.rint(cy + radii * np.sin(ang)), 0, shape[0] - 1).astype(int)
    return ys, xs


def _band_px(r: float) -> float:
    """How far (px) either side of a cover's circle of radius ``r`` px its outline may lie."""
    return max(2.0, 0.15 * r)


def cover_patterns(gray: np.ndarray, cracks: list[Defect], gsd_m: float, p: RoadParams = RoadParams()) -> list[bool]:
    """For each crack, whether it lies on a round cover (:func:`cover_discs`): a cover's ring and its raised pattern,
    found together as one piece the size of a cover, which :func:`cover_rims` keeps because the pattern touches the ring.

    Only pieces that could be a cover are looked at (a Hough transform each): their box
    ``manhole_min_diameter_m`` to ``manhole_ring_max_diameter_m`` (and its band) on each side, at most
    ``COVER_BOX_ASPECT`` times as long as wide, and with pixels all round their middle (in at least
    ``manhole_ring_coverage`` of the directions). At drone GSDs only (a cover's radius at most ``MAX_HOUGH_RADIUS_PX``
    pixels): a close-range photo holds part of a cover at most.
    """
    out = [False] * len(cracks)
    lo = p.manhole_min_diameter_m / gsd_m
    hi = p.manhole_ring_max_diameter_m / gsd_m
    if hi / 2 > MAX_HOUGH_RADIUS_PX:
        return out
    hi += 2 * _band_px(hi / 2)
    sized = [i for i, d in enumerate(cracks)
             if lo <= min(d.mask.shape) and max(d.mask.shape) <= min(hi, COVER_BOX_ASPECT * min(d.mask.shape))
             and _all_round(d.mask) >= p.manhole_ring_coverage]
    for i, c in zip(sized, cover_discs(gray, [cracks[i] for i in sized], gsd_m, p)):
        out[i] = c is not None
    return out


def _all_round(mask: np.ndarray) -> float:
    """Share of the directions from a piece's centroid (``ANGLE_BINS``) in which it has pixels at least half its box's
    half-width away: about 1 for a ring, or a patch round its middle; a line or a bend covers a few."""
    ys, xs = np.nonzero(mask)
    dy, dx = ys - ys.mean(), xs - xs.mean()
    far = np.hypot(dx, dy) >= min(mask.shape) / 4
    bins = ((np.arctan2(dy[far], dx[far]) + math.pi) / (2 * math.pi) * ANGLE_BINS).astype(int) % ANGLE_BINS
    return np.unique(bins).size / ANGLE_BINS


def discs_mask(circles: list[tuple[float, float, float] | None], shape: tuple[int, int]) -> np.ndarray:
    """Boolean mask of an image of ``shape`` (rows, cols) with the discs of ``circles`` ((x, y, radius) px; None: none)."""
    out = np.zeros(shape, np.uint8)
    for c in circles:
        if c is not None:
            cv2.circle(out, (round(c[0]), round(c[1])), math.ceil(c[2]), 1, -1)
    return out > 0
