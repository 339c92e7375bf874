"""Potholes: compact dark bowls in a lighter road, not shadows, manhole covers, stains or dark textures (pixel space,
pure)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from .base import (
    Defect,
    block_mean,
    block_up,
    centre_lines,
    chromaticity,
    components,
    disk,
    label,
    odd,
    padded,
    to_gray,
)
from .road_params import RoadParams

#: A hole's own rim and shaded edge (m): left out of the road looked at round it.
RIM_M = 0.075
#: Round a hole, dark lines at least this long (m) and at most this wide on average (m) are cracks or joints running
#: up to it, not a dark texture.
LINE_MIN_M, LINE_MAX_WIDTH_M = 0.25, 0.05


def road_background(gray: np.ndarray, region: np.ndarray, radius_px: float) -> np.ndarray:
    """Local road brightness (grey levels) at a scale of ``radius_px``, ignoring pixels outside ``region``."""
    f = max(1, int(radius_px / 8))
    small_g = block_mean(gray.astype(np.float32) * region, f)
    small_w = block_mean(region.astype(np.float32), f)
    k = odd(2 * radius_px / f + 1)
    num = cv2.GaussianBlur(small_g, (k, k), 0)
    den = cv2.GaussianBlur(small_w, (k, k), 0)
    bg = num / np.maximum(den, 1e-3)
    return block_up(bg, f, gray.shape)


def _edge_width_px(gray: np.ndarray, bg: np.ndarray, crop: np.ndarray, r0: int, c0: int, pad: int = 4) -> float:
    """How many pixels a dark blob's edge takes to reach the road's brightness: contrast / mean gradient on its rim.

    A hole's broken edge is a step (1-3 px); a stain fades out over many pixels.
    """
    h, w = crop.shape
    y0, x0 = max(r0 - pad, 0), max(c0 - pad, 0)
    y1, x1 = min(r0 + h + pad, gray.shape[0]), min(c0 + w + pad, gray.shape[1])
    g = gray[y0:y1, x0:x1]
    m = np.zeros(g.shape, np.uint8)
    m[r0 - y0 : r0 - y0 + h, c0 - x0 : c0 - x0 + w] = crop
    rim = cv2.morphologyEx(m, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
    grad = float(np.sqrt(gx * gx + gy * gy)[rim].mean()) if rim.any() else 0.0
    inside = m > 0
    contrast = float(bg[y0:y1, x0:x1][inside].mean() - g[inside].mean())
    return contrast / max(grad, 1e-3)


def _lines(dark: np.ndarray, min_length_px: float, max_width_px: float) -> np.ndarray:
    """Pixels (bool) of the components of ``dark`` (bool) that are thin lines: at least ``min_length_px`` long (the longer
    side of their box) and at most ``max_width_px`` wide on average (pixels per pixel of centre line)."""
    n, lab, st = label(dark)
    long = np.flatnonzero(np.maximum(st[:, cv2.CC_STAT_WIDTH], st[:, cv2.CC_STAT_HEIGHT]) >= min_length_px)
    long = long[long > 0]
    thin = np.zeros(n, bool)
    if long.size:
        centre_px = np.bincount(lab[centre_lines(dark, (lab, long, st))], minlength=n)
        thin[long] = st[long, cv2.CC_STAT_AREA] <= max_width_px * np.maximum(centre_px[long], 1)
    return thin[lab]


def _ring(region: np.ndarray, crop: np.ndarray, r0: int, c0: int,
          gsd_m: float) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray]:
    """(window, near, ring) round a blob (``crop`` at ``r0``, ``c0``): the window's slices into the image, the blob with
    its rim (out to ``RIM_M``) and the road (``region``) beyond that, out to the blob's own size (the root of its area),
    as bool arrays of the window. The window has room for the lines that cross the ring."""
    gap_px = max(2, round(RIM_M / gsd_m))
    out_px = max(int(math.sqrt(np.count_nonzero(crop))), gap_px + 2)
    m, win, _ = padded(crop, r0, c0, 2 * out_px, region.shape)
    near = cv2.dilate(m, disk(gap_px)) > 0
    return win, near, (cv2.dilate(m, disk(out_px)) > 0) & ~near & region[win]


def _ring_dark_share(dark: np.ndarray, win: tuple[slice, slice], near: np.ndarray, ring: np.ndarray,
                     gsd_m: float) -> float:
    """Share of the road round a blob (:func:`_ring`) that is ``dark`` as well, in spots and patches rather than thin
    lines. A hole lies in a lighter road, though cracks may run up to it; a dark blob among many (gravel, rubble, the
    debris in a gutter) is a piece of a dark texture."""
    if not ring.any():
        return 0.0
    around = dark[win] & ~near
    spots = around & ~_lines(around, LINE_MIN_M / gsd_m, max(2.0, LINE_MAX_WIDTH_M / gsd_m))
    return float(spots[ring].mean())


def _ring_ratio(gray: np.ndarray, crop: np.ndarray, r0: int, c0: int, win: tuple[slice, slice],
                ring: np.ndarray) -> float:
    """A blob's mean grey level over the darkest tenth (10th percentile) of the road round it (:func:`_ring`); 0 where
    no road is round it.

    A hole is darker than even the darker stones just round it. A blob that is dark only against a mean lifted by
    something bright (the asphalt between the bars of a zebra crossing) or against a lighter road farther off (a stain
    or a dark patch within darker asphalt) is not much darker than that. A tenth, not more: paint may cover most of
    the ring, as beside a short bar."""
    if not ring.any():
        return 0.0
    h, w = crop.shape
    inside = float(gray[r0 : r0 + h, c0 : c0 + w][crop].mean())
    return inside / max(float(np.percentile(gray[win][ring], 10)), 1.0)


def _warmth(r: np.ndarray, b: np.ndarray, crop: np.ndarray, r0: int, c0: int, win: tuple[slice, slice],
            ring: np.ndarray) -> float:
    """How much browner a blob is than the road round it (:func:`_ring`): its mean chromaticity r - b (the image's
    planes ``r``, ``b``) less the ring's median; 0 where no road is round it."""
    if not ring.any():
        return 0.0
    h, w = crop.shape
    box = slice(r0, r0 + h), slice(c0, c0 + w)
    return float((r[box][crop] - b[box][crop]).mean()) - float(np.median(r[win][ring] - b[win][ring]))


def round_as_cover(contour: np.ndarray, area_px: float, gsd_m: float, min_fill: float, min_m: float,
                   max_m: float) -> bool:
    """Whether a blob (its OpenCV ``contour`` and its pixel count) is as round as a cover: it fills at least ``min_fill``
    of its enclosing circle, which is ``min_m`` to ``max_m`` across (``gsd_m`` m/px). A hole's outline is irregular."""
    (_, _), radius = cv2.minEnclosingCircle(contour)
    return area_px / max(math.pi * radius**2, 1.0) >= min_fill and min_m <= 2 * radius * gsd_m <= max_m


def elongation(crop: np.ndarray, area_px: float) -> float:
    """How many times longer than wide a blob is along its own course, bent or not: its area over the square of the
    widest disc that fits in it (about L / W for a band L long and W wide, less where it bends sharply, as a disc fits
    wider in a corner; 0.8 for a disc, 3 for a 3:1 rectangle).

    A wide crack wandering or curling across a photo fills much of its box, so the box's aspect calls it compact."""
    dist = cv2.distanceTransform(np.pad(crop.view(np.uint8), 1), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return area_px / max(4.0 * float(dist.max()) ** 2, 1.0)


def frame_share(contour: np.ndarray, r0: int, c0: int, shape: tuple[int, int]) -> float:
    """Share of a blob's outline (an OpenCV contour of its crop, placed at ``r0``, ``c0``) on the border of an image of ``shape``."""
    pts = contour.reshape(-1, 2) + (c0, r0)
    on = (pts[:, 0] == 0) | (pts[:, 1] == 0) | (pts[:, 0] == shape[1] - 1) | (pts[:, 1] == shape[0] - 1)
    return float(on.mean()) if len(pts) else 0.0


def detect_potholes(image: np.ndarray, valid: np.ndarray, area: np.ndarray, gsd_m: float, p: RoadParams = RoadParams(),
                    frame: bool = False) -> list[Defect]:
    """Compact dark blobs clearly darker than the surrounding road, not bluish (shadows), not thin (cracks), and alone
    in a lighter road (:func:`_ring_dark_share`; not one of many, as in gravel or gutter debris).

    ``frame``: the image is a whole photo, its border the photo's frame. A dark area reaching the frame along more
    than ``pothole_max_frame_share`` of its outline is then not a pothole: its rim cannot be seen, and such an area is
    mostly light (the photographer's or a car's shadow, the dark side of an unevenly lit photo). A tile's border is
    not a frame: a hole there is whole in the next tile.
    """
    region = valid & area
    if np.count_nonzero(region) < 100:
        return []
    gray = to_gray(image).astype(np.float32)
    bg = road_background(gray, region, 1.5 / gsd_m)
    dark = (gray < p.pothole_darkness * bg) & region
    r, g, b, _ = chromaticity(image)
    dark &= b < 0.36  # shadows on grey asphalt turn blue (sky light)
    dark_px = dark  # before the blobs are cleaned (a new array below): round a hole, the small stones of a texture count
    dark = cv2.morphologyEx(dark.astype(np.uint8), cv2.MORPH_OPEN, disk(max(1.0, 0.02 / gsd_m)))
    dark = cv2.morphologyEx(dark, cv2.MORPH_CLOSE, disk(max(1.0, 0.04 / gsd_m))) > 0
    dark &= region
    min_px = p.pothole_min_area_m2 / gsd_m**2
    max_px = p.pothole_max_area_m2 / gsd_m**2
    out: list[Defect] = []
    for crop, r0, c0, area_px in components(dark, min_area_px=int(min_px)):
        if area_px > max_px:
            continue
        cnts, _ = cv2.findContours(crop.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        c = max(cnts, key=cv2.contourArea)
        hull_area = cv2.contourArea(cv2.convexHull(c))
        solidity = area_px / max(hull_area, 1.0)
        (_, _), (w_r, h_r), _ = cv2.minAreaRect(c)
        aspect = max(w_r, h_r) / max(min(w_r, h_r), 1.0)
        if solidity < p.pothole_min_solidity or aspect > p.pothole_max_aspect:
            continue
        if elongation(crop, area_px) > p.pothole_max_elongation:
            continue  # a wide crack, bent or curled
        if frame and frame_share(c, r0, c0, gray.shape) > p.pothole_max_frame_share:
            continue  # a shadow over the frame's edge, or a hole whose rim is out of the photo
        if round_as_cover(c, area_px, gsd_m, p.manhole_min_fill, p.manhole_min_diameter_m, p.manhole_max_diameter_m):
            continue  # manhole / gully cover
        if _edge_width_px(gray, bg, crop, r0, c0) > max(5.0, p.stain_min_edge_m / gsd_m):
            continue  # oil or water stain: darkness fading out, no broken edge
        win, near, ring = _ring(region, crop, r0, c0, gsd_m)
        if _ring_dark_share(dark_px, win, near, ring, gsd_m) > p.pothole_max_ring_dark:
            continue  # one dark blob among many: a dark texture, not a hole in a lighter road
        if _ring_ratio(gray, crop, r0, c0, win, ring) > p.pothole_max_ring_ratio:
            continue  # dark against a lighter road farther off or against paint, not against the road round it
        if area_px * gsd_m**2 < p.pothole_warm_max_area_m2 and _warmth(r, b, crop, r0, c0, win, ring) > p.pothole_max_warmth:
            continue  # a fallen leaf, a clod or litter: small and browner than the road, where a hole that small is grey
        h, w = crop.shape
        rel = float((gray[r0 : r0 + h, c0 : c0 + w][crop] / np.maximum(bg[r0 : r0 + h, c0 : c0 + w][crop], 1)).mean())
        score = float(np.clip(0.5 + (p.pothole_darkness - rel) * 2.0 + 0.2 * (solidity - p.pothole_min_solidity), 0.05, 1.0))
        out.append(Defect("pothole", crop, r0, c0, score, None, {"solidity": solidity}))
    return out
