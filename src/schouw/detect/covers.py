"""Round manhole, gully and valve covers seen from above: not cracks, potholes or ravelling (pixel space, pure).

From above (drone GSDs of about 1-5 cm per pixel, and finer) the gap between a cover and its frame,
and the frame's outer edge, are thin dark lines: the crack detector finds them as crack pieces that run round a
near-perfect circle of manhole size (measured on RDD2022 China_Drone, models/road-classic/NOTEBOOK.md).
No crack runs three quarters round a perfect circle of 0.4-1.4 m. The circle is found on the
crack pieces themselves (cheap: they are sparse), by OpenCV's circle Hough transform, whose
``HOUGH_GRADIENT_ALT`` threshold is how perfect a circle must be.

A cover is also a disc: a dark cast-iron one in a light frame is as dark as a hole, a small valve cover
(15-30 cm) is a hole's size, and a cover's raised anti-slip pattern is as coarse as a ravelled surface. Its
outline is a circle no hole or rough patch draws: :func:`cover_discs` looks for it in the photo itself, round each
such candidate (measured on RDD2022 China_Drone, models/road-classic/NOTEBOOK.md).

A camera held by hand sees a cover close up at an angle, as an ellipse: :func:`cover_ellipses` finds it in the photo
with OpenCV's EdgeDrawing and asks the same of it (closed, a ring), and a patterned lid (CrackForest's close-ups).
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
#: Close range (finer than this, m/px): a round cover seen by a camera held at an angle is an ellipse, which the circle
#: transform does not find (from a drone, looking straight down, covers are circles: cover_rims, cover_patterns) ...
ELLIPSE_MAX_GSD_M = 0.01
#: ... found by OpenCV's EdgeDrawing (cv2.ximgproc) in the photo, or in a copy shrunk to at most this many pixels ...
ELLIPSE_WORK_PIXELS = 38_400
#: ... its semi-axes at least this many px there (smaller ellipses are stains, bolts and a cover's own lettering) ...
ELLIPSE_MIN_SEMI_AXIS_PX = 10.0
#: ... the minor at least this share of the major (seen more nearly edge-on, a cover is not told from a curved kerb)
ELLIPSE_MIN_AXIS_RATIO = 0.3
#: ... its ring (gap or frame) compared with the grey levels up to this share of its minor semi-axis either side ...
ELLIPSE_RING_SIDE = 0.15
#: ... its lid's fine texture (the grey image less its 3 px blur: a cover's cast pattern) at least this many times the
#: road's round it (a crack that closes a loop holds road) ...
ELLIPSE_LID_TEXTURE = 1.4
#: ... and at least this share of its outline inside the photo (a cover cut by the frame is still one)
ELLIPSE_IN_FRAME_SHARE = 0.6
#: Such a cover lies within its ellipse grown by this share of the minor semi-axis: the frame round the lid (seen close
#: up, the ellipse found may be the gap round the lid or the frame's outer edge)
ELLIPSE_FRAME = 0.3
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


def _ring_contrast(win: np.ndarray, cx: float, cy: float, r: float, ellipse: tuple[float, float] | None = None,
                   side_px: int = 4, in_frame: bool = False) -> float:
    """How much a ring on a circle stands out (grey levels): the deepest valley or highest ridge of the image's mean
    over circles round (``cx``, ``cy``), within 3 px of radius ``r``, against the radii up to ``side_px`` either side.
    With ``ellipse`` (the second semi-axis, px, and the first's angle, degrees), on the ellipse with semi-axes ``r``
    and that; ``in_frame``: the means over the points in the image only (a cover cut by the photo's frame).

    A cover is a lid in a frame: its gap is a dark ring, its frame a light one (valley or ridge). A hole's edge is a
    step, dark inside and light outside, whatever its shape: it has neither (measured on RDD2022's potholes that a
    circle holds, ``benchmarks/cover_circles.py``).
    """
    reach = 3 + side_px
    xs, ys = _ring_points(cx, cy, r, ellipse, np.arange(-reach, reach + 1.0))
    samples = win[_clipped(xs, ys, win.shape)].astype(np.float32)
    if in_frame:  # the directions in which every sample lies in the image
        inside = _inside(xs, ys, win.shape).all(axis=0)
        if not inside.any():
            return 0.0
        samples = samples[:, inside]
    prof = samples.mean(axis=1)
    best = -np.inf
    for i in range(side_px, side_px + 7):  # r - 3 ... r + 3
        inner, outer, here = prof[i - side_px : i], prof[i + 1 : i + 1 + side_px], prof[i]
        valley = min(inner.max(), outer.max()) - here
        ridge = here - max(inner.min(), outer.min())
        best = max(best, valley, ridge)
    return float(best)


def _closed_share(grad: np.ndarray, cx: float, cy: float, r: float, ellipse: tuple[float, float] | None = None,
                  in_frame: bool = False) -> float:
    """Share of the directions round a circle (``ANGLE_BINS``) in which the image has an edge on it: the gradient
    magnitude ``grad`` within 1.5 px of the circle at least ``CLOSED_EDGE_SHARE`` of its 90th percentile over all
    directions. A cover is round all the way; a crack curving along half a circle is a perfect arc, not a cover.
    ``ellipse``: as :func:`_ring_contrast`; ``in_frame``: of the directions in which the outline lies in the image
    only (a cover cut by the photo's frame)."""
    xs, ys = _ring_points(cx, cy, r, ellipse, np.array([-1.5, -0.75, 0.0, 0.75, 1.5], np.float32))
    per_bin = grad[_clipped(xs, ys, grad.shape)].max(axis=0).reshape(ANGLE_BINS, 4).max(axis=1)
    if in_frame:  # the outline itself (offset 0) in the image, all four points of a direction
        per_bin = per_bin[_inside(xs[2], ys[2], grad.shape).reshape(ANGLE_BINS, 4).all(axis=1)]
        if per_bin.size == 0:
            return 0.0
    return float(np.mean(per_bin >= CLOSED_EDGE_SHARE * np.percentile(per_bin, 90)))


def _ring_points(cx: float, cy: float, r: float, ellipse: tuple[float, float] | None,
                 offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_ellipse_points` of the circles of radii ``r`` + ``offsets``, or with ``ellipse`` (second semi-axis,
    angle of the first in degrees) of the ellipses with both semi-axes grown by ``offsets``."""
    b, angle = (r, 0.0) if ellipse is None else ellipse
    return _ellipse_points(cx, cy, r + offsets, b + offsets, angle)


def _clipped(xs: np.ndarray, ys: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Pixel indices (rows, cols) of points (x, y px) clipped to an image of ``shape``."""
    return np.clip(ys, 0, shape[0] - 1).astype(int), np.clip(xs, 0, shape[1] - 1).astype(int)


def _inside(xs: np.ndarray, ys: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Whether each point (x, y px) lies in an image of ``shape`` (bool, the points' shape)."""
    return (xs >= 0) & (xs < shape[1]) & (ys >= 0) & (ys < shape[0])


def _ellipse_points(cx: float, cy: float, semi_a: np.ndarray, semi_b: np.ndarray,
                    angle_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) px of ``4 * ANGLE_BINS`` points at even steps of the parameter of each ellipse about (``cx``, ``cy``)
    with these semi-axes (px, pairwise; one row of points per pair), the first turned ``angle_deg`` from the x axis
    (OpenCV's convention), rounded to whole pixels but not clipped to an image."""
    ang = np.linspace(0, 2 * math.pi, 4 * ANGLE_BINS, endpoint=False)
    semi_a, semi_b = np.asarray(semi_a)[:, None], np.asarray(semi_b)[:, None]
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    ex, ey = semi_a * np.cos(ang), semi_b * np.sin(ang)
    return np.rint(cx + ex * c - ey * s), np.rint(cy + ex * s + ey * c)


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


def cover_ellipses(gray: np.ndarray, gsd_m: float, p: RoadParams = RoadParams()) -> np.ndarray | None:
    """Where round covers seen at an angle lie in a close-range photo (finer than ``ELLIPSE_MAX_GSD_M``; bool, the
    photo's shape), their frames included; None where there is none. Nothing there is a crack: neither the gap round
    the lid, nor the frame's edge, nor the lid's pattern, which the circle transforms of :func:`cover_rims` and
    :func:`cover_patterns` do not find on an ellipse.

    The covers are the closed ellipses that OpenCV's EdgeDrawing finds in the grey photo ``gray``
    (:func:`photo_ellipses`) that are a cover's outline as :func:`cover_discs` asks of a circle: a ring, a valley or a
    ridge at least ``cover_ring_min_grey`` deep or high across it (against ``ELLIPSE_RING_SIDE`` of its minor
    semi-axis either side: close up, a frame is many pixels wide), not a hole's or a stain's step; and a lid, its fine
    texture ``ELLIPSE_LID_TEXTURE`` times the road's round it (:func:`_lid_texture`), not road inside a crack that
    closes a loop. Each is grown by ``ELLIPSE_FRAME`` of its minor semi-axis (the frame). A crack that reaches a cover,
    or crosses it, is cut at its frame.
    """
    if gsd_m >= ELLIPSE_MAX_GSD_M:
        return None
    held = None
    blurred = fine = None
    for cx, cy, a, b, angle in photo_ellipses(gray, p.manhole_ring_coverage):
        if blurred is None:  # a few photos in a hundred get here
            blurred = cv2.GaussianBlur(gray, (0, 0), 1.0)
            fine = gray.astype(np.float32) - cv2.GaussianBlur(gray.astype(np.float32), (0, 0), 3.0)
        side = max(4, round(ELLIPSE_RING_SIDE * min(a, b)))  # a close-range cover's frame is many pixels wide
        if _ring_contrast(blurred, cx, cy, a, (b, angle), side, in_frame=True) < p.cover_ring_min_grey:
            continue
        if _lid_texture(fine, cx, cy, a, b, angle) < ELLIPSE_LID_TEXTURE:
            continue
        if held is None:
            held = np.zeros(gray.shape, np.uint8)
        band = ELLIPSE_FRAME * min(a, b)
        cv2.ellipse(held, ((cx, cy), (2 * (a + band), 2 * (b + band)), angle), 1, -1)
    return None if held is None else held > 0


def photo_ellipses(gray: np.ndarray, closed_min: float) -> list[tuple[float, float, float, float, float]]:
    """Closed ellipses (centre x, y, semi-axes a, b, all in ``gray``'s px, and the angle of a in degrees) that OpenCV's
    EdgeDrawing (cv2.ximgproc, its fit validated as it validates it) finds in a grey image, looked at shrunk to at most
    ``ELLIPSE_WORK_PIXELS`` (a CrackForest photo at half size, about 1 ms): those with both semi-axes at least
    ``ELLIPSE_MIN_SEMI_AXIS_PX`` there, the minor at least ``ELLIPSE_MIN_AXIS_RATIO`` of the major,
    ``ELLIPSE_IN_FRAME_SHARE`` of the outline inside the image, and an edge on it in ``closed_min`` of the directions
    round it in which it is inside (:func:`_closed_share`, there)."""
    h, w = gray.shape
    f = min(1.0, math.sqrt(ELLIPSE_WORK_PIXELS / (h * w)))
    small = gray if f == 1 else cv2.resize(gray, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    ed = cv2.ximgproc.createEdgeDrawing()
    params = cv2.ximgproc_EdgeDrawing_Params()
    params.MinPathLength, params.MinLineLength = 50, 10
    ed.setParams(params)
    ed.detectEdges(small)
    ed.detectLines()
    found = ed.detectEllipses()
    out, grad = [], None
    for cx, cy, r, ea, eb, angle in ([] if found is None else np.asarray(found, np.float64).reshape(-1, 6)):
        a, b = r + ea, r + eb  # a circle is (r, 0, 0), an ellipse (0, a, b)
        if min(a, b) < ELLIPSE_MIN_SEMI_AXIS_PX or min(a, b) < ELLIPSE_MIN_AXIS_RATIO * max(a, b):
            continue
        outline = _ellipse_points(cx, cy, np.array([a]), np.array([b]), angle)
        if np.mean(_inside(*outline, small.shape)) < ELLIPSE_IN_FRAME_SHARE:
            continue
        if grad is None:
            blurred = cv2.GaussianBlur(small, (0, 0), 1.0)
            grad = cv2.magnitude(cv2.Sobel(blurred, cv2.CV_32F, 1, 0), cv2.Sobel(blurred, cv2.CV_32F, 0, 1))
        if _closed_share(grad, cx, cy, a, (b, angle), in_frame=True) >= closed_min:
            out.append(((cx + 0.5) / f - 0.5, (cy + 0.5) / f - 0.5, a / f, b / f, float(angle)))
    return out


def _lid_texture(fine: np.ndarray, cx: float, cy: float, a: float, b: float, angle: float) -> float:
    """The standard deviation of ``fine`` (a grey image less its blur) within 0.8 of an ellipse (centre, semi-axes in
    px, angle in degrees) over that in the ring 1.25-1.6 times its size round it: the lid's texture against the road's
    (0 where either is not in the image)."""
    lid = np.zeros(fine.shape, np.uint8)
    cv2.ellipse(lid, ((cx, cy), (1.6 * a, 1.6 * b), angle), 1, -1)
    road = np.zeros(fine.shape, np.uint8)
    cv2.ellipse(road, ((cx, cy), (3.2 * a, 3.2 * b), angle), 1, -1)
    cv2.ellipse(road, ((cx, cy), (2.5 * a, 2.5 * b), angle), 0, -1)
    if np.count_nonzero(lid) < 2 or np.count_nonzero(road) < 2:  # no road in view round it: not judged a lid
        return 0.0
    return float(np.std(fine[lid > 0]) / max(float(np.std(fine[road > 0])), 1e-3))
