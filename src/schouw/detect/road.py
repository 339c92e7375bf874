"""Road-surface detectors: cracks, potholes, weeds in pavement (pixel space, pure).

All parameters are in metres and converted with ``gsd_m``. The crack detector
adapts to each tile: its threshold is a multiple of the tile's own black-hat
noise level (robust sigma over the road), so camera, exposure and asphalt
texture change the threshold, not the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .base import Defect, DetectorSpec, block_mean, block_up, chromaticity, components, disk, label, odd, robust_sigma, subsample, tighten
from .grid import reduce

SPEC = DetectorSpec(
    name="road-classic",
    version="0.6.0",
    area="road",
    types=("crack", "pothole", "ravelling", "weeds_in_pavement"),
    min_gsd_m=0.0005,
    max_gsd_m=0.08,
)


@dataclass(frozen=True)
class RoadParams:
    """Road detector parameters (metres unless named otherwise)."""

    crack_max_width_m: float = 0.12
    crack_max_radius_px: float = 10.0  # black-hat radius cap: at close range a 12 cm disk takes in the stones' texture
    crack_link_gap_m: float = 0.06  # pieces closer than this are one crack (networks, interrupted lines)
    crack_min_length_m: float = 0.25
    crack_k_sigma: float = 4.0
    crack_k_sigma_weak: float = 2.5
    crack_min_contrast: float = 8.0  # grey levels, black-hat response
    crack_min_elongation: float = 4.0
    crack_max_density: float = 0.2  # share of a window of crack_pattern_window_m: above it the lines are a paving joint pattern
    crack_pattern_window_m: float = 3.0
    marking_contrast: float = 60.0  # grey levels above the surroundings: a painted marking
    marking_min_area_m2: float = 0.02
    alligator_min_cell_m: float = 0.05  # side of the smallest enclosed surface piece of a crack network
    pothole_min_area_m2: float = 0.03
    pothole_max_area_m2: float = 4.0
    pothole_darkness: float = 0.72  # pothole brightness / local road brightness
    manhole_min_diameter_m: float = 0.4  # a near-perfect disc of this size ...
    manhole_max_diameter_m: float = 1.0  # ... to this is a manhole or gully cover
    manhole_min_fill: float = 0.85  # area / area of the enclosing circle: a disc ~0.9+, a pothole is irregular
    stain_min_edge_m: float = 0.10  # an edge this soft (contrast / boundary gradient) is a stain fading out, not a hole
    weeds_min_area_m2: float = 0.01
    ravelling_ratio: float = 2.5  # local stone-scale texture (std) this many times the road's typical texture
    ravelling_window_m: float = 0.3  # texture is measured over this
    ravelling_min_area_m2: float = 0.25
    ravelling_work_gsd_m: float = 0.01  # finer photos are judged for ravelling on a grid of about this
    ravelling_smooth_ratio: float = 1.5  # texture below this times the road's typical one is sound surface
    ravelling_ring_m: float = 0.5  # the ring around a rough patch that must be mostly sound road ...
    ravelling_min_smooth_ring: float = 0.6  # ... in at least this share
    ravelling_max_grid_coherence: float = 0.25  # edges this aligned with one square grid are paving joints
    weeds_link_gap_m: float = 0.10
    weeds_exg: float = 0.04  # excess green 2g-r-b in chromaticity


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def skeleton_length_px(mask: np.ndarray) -> tuple[float, np.ndarray]:
    """Centre-line length (pixels, diagonal steps count sqrt 2) and the skeleton of a binary mask."""
    m = mask.astype(np.uint8) * 255
    sk = cv2.ximgproc.thinning(np.pad(m, 1), thinningType=cv2.ximgproc.THINNING_GUOHALL)[1:-1, 1:-1] > 0
    if not sk.any():
        return 0.0, sk
    orth = np.count_nonzero(sk[:, :-1] & sk[:, 1:]) + np.count_nonzero(sk[:-1, :] & sk[1:, :])
    diag = np.count_nonzero(sk[:-1, :-1] & sk[1:, 1:]) + np.count_nonzero(sk[:-1, 1:] & sk[1:, :-1])
    length = float(orth + math.sqrt(2) * diag)
    return max(length, 1.0), sk


def _cells(mask: np.ndarray, min_cell_px: float) -> int:
    """Closed cells of a crack network: holes in the mask of at least ``min_cell_px`` pixels.

    Interconnected (alligator / block) cracking encloses pieces of surface; a
    single crack, however ragged, encloses none.
    """
    cnts, hier = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hier is None:
        return 0
    return sum(1 for c, h in zip(cnts, hier[0]) if h[3] >= 0 and cv2.contourArea(c) >= min_cell_px)


def crack_scale_px(gsd_m: float, p: "RoadParams") -> float:
    """Black-hat radius (px): ``crack_max_width_m`` on the ground, at least 1.5 px, at most ``crack_max_radius_px``.

    Measured on CrackForest (1.5 mm per pixel): an 80 px disk gives F1 0.55 @2px on 001-059,
    a 10 px disk 0.66, at an eighth of the time; at drone GSDs (>= 1.2 cm) the cap does not bite.
    """
    return float(min(max(1.5, p.crack_max_width_m / gsd_m), p.crack_max_radius_px))


def crack_response(gray: np.ndarray, gsd_m: float, max_width_m: float, max_radius_px: float = 1e9) -> np.ndarray:
    """Black-hat response (grey levels): how much darker a pixel is than its surroundings at crack scale."""
    r = min(max(1.5, max_width_m / gsd_m), max_radius_px)
    smooth = cv2.GaussianBlur(gray, (3, 3), 0)  # single-pixel noise and aggregate speckles are not cracks
    return cv2.morphologyEx(smooth, cv2.MORPH_BLACKHAT, disk(r)).astype(np.float32)


def road_direction(area: np.ndarray, min_ratio: float = 2.0) -> float | None:
    """Principal direction (radians, image x axis, rows down) of a road mask, or None if it is not elongated.

    Elongated means the variance along the principal axis is at least ``min_ratio`` times the variance across it.
    """
    ys, xs = np.nonzero(area[::4, ::4])
    if xs.size < 50:
        return None
    cov = np.cov(np.vstack([xs, ys]).astype(np.float64))
    evals, evecs = np.linalg.eigh(cov)
    if evals[1] < min_ratio * max(evals[0], 1e-9):
        return None
    v = evecs[:, 1]
    return float(math.atan2(v[1], v[0]))


def _orientation(sk: np.ndarray) -> float | None:
    ys, xs = np.nonzero(sk)
    if xs.size < 5:
        return None
    cov = np.cov(np.vstack([xs, ys]).astype(np.float64))
    evals, evecs = np.linalg.eigh(cov)
    v = evecs[:, 1]
    return float(math.atan2(v[1], v[0]))


def _box_mean(mask: np.ndarray, f: int, win_px: float) -> np.ndarray:
    """Share of ``mask`` in a window of ``win_px`` around each pixel, computed on a grid ``f`` times coarser."""
    h, w = mask.shape
    small = block_mean(mask.astype(np.float32), f)
    k = odd(win_px / f, 3)
    box = cv2.boxFilter(small, -1, (k, k), borderType=cv2.BORDER_REFLECT)
    if f == 1:
        return box
    return block_up(box, f, (h, w))


def _beside_marking(gray: np.ndarray, rad: float, gsd_m: float, p: RoadParams) -> np.ndarray:
    """Pixels within ``rad`` of a painted marking stripe (bright, long and narrow).

    Beside a bright lane marking the plain asphalt is "darker than its surroundings" to a
    black-hat: a line of candidates that mostly hugs a marking is that artefact, not a crack.
    Markings are a decimetre wide: found on a grid half as fine when that still gives 3 px.
    """
    f = 2 if rad >= 5 else 1
    h, w = gray.shape
    g = cv2.resize(gray, (w // f, h // f), interpolation=cv2.INTER_AREA) if f > 1 else gray
    r = rad / f
    marking = cv2.morphologyEx(g, cv2.MORPH_TOPHAT, disk(r)) > p.marking_contrast
    n, lab, stats = label(marking)
    stripe = np.zeros(n, bool)
    for i in np.nonzero(stats[1:, cv2.CC_STAT_AREA] >= p.marking_min_area_m2 / (gsd_m * f) ** 2)[0] + 1:
        x, y, bw, bh = stats[i, :4]  # paint is a long stripe; a sunlit patch of aggregate is not
        pts = np.column_stack(np.nonzero(lab[y : y + bh, x : x + bw] == i)).astype(np.float32)
        (_, _), (a, b), _ = cv2.minAreaRect(pts)
        stripe[i] = max(a, b) >= 5 * max(min(a, b), 1.0)
    if not stripe.any():
        return np.zeros(gray.shape, bool)
    near = cv2.dilate(stripe[lab].astype(np.uint8), disk(r + 1))
    if f > 1:
        near = cv2.resize(near, (w, h), interpolation=cv2.INTER_NEAREST)
    return near > 0


def detect_cracks(image: np.ndarray, valid: np.ndarray, area: np.ndarray, gsd_m: float, p: RoadParams = RoadParams()) -> list[Defect]:
    """Thin dark lines on the road: black-hat, hysteresis threshold on the tile's own noise level, shape filter."""
    region = valid & area
    if np.count_nonzero(region) < 100:
        return []
    gray = _gray(image)
    scale = crack_scale_px(gsd_m, p)
    resp = crack_response(gray, gsd_m, p.crack_max_width_m, p.crack_max_radius_px)
    resp[~region] = 0
    # Do not let the border of the valid region (no-data edges, area borders) look like a crack.
    edge = cv2.erode(region.astype(np.uint8), disk(max(2.0, scale))) == 0
    vals = subsample(resp[region])
    sigma = max(robust_sigma(vals), 1.0)
    base = float(np.median(vals))
    strong_t = max(base + p.crack_k_sigma * sigma, p.crack_min_contrast)
    weak_t = max(base + p.crack_k_sigma_weak * sigma, 0.6 * p.crack_min_contrast)
    weak = (resp >= weak_t) & region & ~edge
    strong = resp >= strong_t
    # Dense regular line patterns (paving joints) are not cracks. Densities over metres: on a coarse grid.
    win = p.crack_pattern_window_m / gsd_m
    fp = max(1, int(win // 16))
    density = _box_mean(weak, fp, win)
    area_share = _box_mean(region, fp, win)
    pattern = density > p.crack_max_density * np.maximum(area_share, 1e-3)
    weak &= ~pattern

    min_len = p.crack_min_length_m / gsd_m
    max_w = scale
    road_dir = road_direction(area)
    out: list[Defect] = []
    rad = scale
    beside_marking = _beside_marking(gray, rad, gsd_m, p)
    # the gap is capped in pixels: at close range 6 cm is 30 px, and linking that far gathers texture into the crack
    linked = cv2.dilate(weak.astype(np.uint8), disk(min(max(1.0, p.crack_link_gap_m / gsd_m / 2), 3.0)))
    for crop, r0, c0, _ in components(linked, min_area_px=max(3, int(min_len * 0.5)), seeds=strong & weak):
        h, w = crop.shape
        crop, r0, c0 = tighten(crop & weak[r0 : r0 + h, c0 : c0 + w], r0, c0)
        h, w = crop.shape
        if beside_marking[r0 : r0 + h, c0 : c0 + w][crop].mean() > 0.5:
            continue
        if not strong[r0 : r0 + h, c0 : c0 + w][crop].any():
            continue
        length, sk = skeleton_length_px(crop)
        if length < min_len:
            continue
        # Width from the crack's core (response above half its typical peak): the weak mask is widened by blur.
        core = resp[r0 : r0 + h, c0 : c0 + w] >= max(weak_t, 0.5 * float(np.percentile(resp[r0 : r0 + h, c0 : c0 + w][crop], 90)))
        core &= crop
        width_px = float(core.sum()) / length
        if width_px > max_w or length / max(width_px, 1.0) < p.crack_min_elongation:
            continue
        contrast = float(resp[r0 : r0 + h, c0 : c0 + w][crop].mean())
        score = float(np.clip(0.5 + 0.5 * (contrast - strong_t) / strong_t + 0.1 * math.log10(length / min_len + 1), 0.05, 1.0))
        if _cells(crop, (p.alligator_min_cell_m / gsd_m) ** 2) >= 2:
            subtype = "alligator"
        else:
            ang = _orientation(sk)
            if ang is None or road_dir is None:
                subtype = "longitudinal" if h >= w else "transverse"
            else:
                d = abs(math.remainder(ang - road_dir, math.pi))
                subtype = "longitudinal" if d < math.pi / 4 else "transverse"
        dist = cv2.distanceTransform(np.pad(core.astype(np.uint8), 1), cv2.DIST_L2, 3)
        out.append(
            Defect(
                "crack",
                crop,
                r0,
                c0,
                score,
                subtype,
                {"max_width_px": float(2 * dist.max()), "mean_width_px": width_px, "contrast": contrast, "length_px": length},
            )
        )
    return out


def _background(gray: np.ndarray, region: np.ndarray, radius_px: float) -> np.ndarray:
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


def detect_potholes(image: np.ndarray, valid: np.ndarray, area: np.ndarray, gsd_m: float, p: RoadParams = RoadParams()) -> list[Defect]:
    """Compact dark blobs clearly darker than the surrounding road, not bluish (shadows) and not thin (cracks)."""
    region = valid & area
    if np.count_nonzero(region) < 100:
        return []
    gray = _gray(image).astype(np.float32)
    bg = _background(gray, region, 1.5 / gsd_m)
    dark = (gray < p.pothole_darkness * bg) & region
    r, g, b, _ = chromaticity(image)
    dark &= b < 0.36  # shadows on grey asphalt turn blue (sky light)
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
        if solidity < 0.6 or aspect > 3.0:
            continue
        (_, _), radius = cv2.minEnclosingCircle(c)
        lo_m, hi_m = p.manhole_min_diameter_m, p.manhole_max_diameter_m
        if area_px / max(math.pi * radius**2, 1.0) >= p.manhole_min_fill and lo_m <= 2 * radius * gsd_m <= hi_m:
            continue  # manhole / gully cover
        if _edge_width_px(gray, bg, crop, r0, c0) > max(5.0, p.stain_min_edge_m / gsd_m):
            continue  # oil or water stain: darkness fading out, no broken edge
        h, w = crop.shape
        rel = float((gray[r0 : r0 + h, c0 : c0 + w][crop] / np.maximum(bg[r0 : r0 + h, c0 : c0 + w][crop], 1)).mean())
        score = float(np.clip(0.5 + (p.pothole_darkness - rel) * 2.0 + 0.2 * (solidity - 0.6), 0.05, 1.0))
        out.append(Defect("pothole", crop, r0, c0, score, None, {"solidity": solidity}))
    return out


def detect_weeds(
    image: np.ndarray, valid: np.ndarray, area: np.ndarray, gsd_m: float, p: RoadParams = RoadParams(), green: np.ndarray | None = None
) -> list[Defect]:
    """Green vegetation on paving (excess-green index), clumps closer than 10 cm joined.

    Clumps touching the ``green`` area are the lawn's edge or overgrowth, not weeds in the pavement.
    """
    region = valid & area
    if np.count_nonzero(region) < 100:
        return []
    r, g, b, bright = chromaticity(image)
    exg = 2 * g - r - b
    veg = (exg > p.weeds_exg) & (g > r + 0.02) & (g > b + 0.02) & (bright > 35) & region
    veg = cv2.morphologyEx(veg.astype(np.uint8), cv2.MORPH_CLOSE, disk(max(1.0, 0.03 / gsd_m))) > 0
    veg &= region
    linked = cv2.dilate(veg.astype(np.uint8), disk(max(1.0, p.weeds_link_gap_m / gsd_m / 2)))
    min_px = max(4, int(p.weeds_min_area_m2 / gsd_m**2))
    near_green = None
    if green is not None and green.any():
        near_green = cv2.dilate(green.astype(np.uint8), disk(1.5)) > 0
    out: list[Defect] = []
    for crop, r0, c0, _ in components(linked):
        h, w = crop.shape
        crop = crop & veg[r0 : r0 + h, c0 : c0 + w]
        if np.count_nonzero(crop) < min_px:
            continue
        if near_green is not None and (near_green[r0 : r0 + h, c0 : c0 + w] & crop).any():
            continue
        m = float(exg[r0 : r0 + h, c0 : c0 + w][crop].mean())
        out.append(Defect("weeds_in_pavement", crop, r0, c0, float(np.clip(0.4 + 4 * (m - p.weeds_exg), 0.05, 1.0))))
    return out


def texture_px(gray: np.ndarray, region: np.ndarray, gsd_m: float, window_m: float) -> tuple[np.ndarray, int]:
    """Stone-scale texture (grey levels, std) averaged over ``window_m``, on a grid ``f`` times coarser; returns (map, f).

    The high-pass is clipped at 6 robust sigmas of the region, so a marking's edge or a crack
    (one strong step) adds little, while a surface that has lost its fines (many moderate
    steps everywhere) adds a lot.
    """
    g = gray.astype(np.float32)
    hp = g - cv2.GaussianBlur(g, (0, 0), max(1.0, 0.02 / gsd_m))
    vals = subsample(hp[region])
    clip = 6.0 * max(robust_sigma(vals), 0.5)
    e = np.minimum(hp * hp, clip * clip) * region
    win = window_m / gsd_m
    f = max(1, int(win // 4))
    num, den = block_mean(e, f), block_mean(region.astype(np.float32), f)
    k = odd(win / f, 3)
    num, den = cv2.blur(num, (k, k)), cv2.blur(den, (k, k))
    return np.sqrt(num / np.maximum(den, 1e-3)), f


def _grid_coherence(gray: np.ndarray, region: np.ndarray, gsd_m: float, window_m: float, f: int) -> np.ndarray:
    """How much the edges in each window follow one square grid (0: no direction, 1: all along two perpendicular ones).

    Gradient angles are folded four-fold (theta and theta + 90 degrees count the same), so
    the joints of paving blocks in any laying pattern add up, while random stones cancel.
    On the grid ``f`` times coarser that :func:`texture_px` uses.
    """
    g = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), max(0.7, 0.01 / gsd_m))
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    mag, ang = cv2.cartToPolar(gx, gy)
    mag *= region
    c4, s4 = cv2.polarToCart(mag, ang * 4)  # |g| cos 4 theta, |g| sin 4 theta
    win = window_m / gsd_m
    k = odd(win / f, 3)
    mean = lambda a: cv2.blur(block_mean(a, f), (k, k))  # noqa: E731
    return np.hypot(mean(c4), mean(s4)) / np.maximum(mean(mag), 1e-3)


def detect_ravelling(image: np.ndarray, valid: np.ndarray, area: np.ndarray, gsd_m: float, p: RoadParams = RoadParams()) -> list[Defect]:
    """Ravelling (rafeling): road patches whose stone-scale texture is far coarser than this tile's typical road.

    Relative to the tile's own road (median texture), so camera, exposure and asphalt mix
    shift the reference, not the result. ``extra['texture_ratio']`` says how much coarser.
    """
    region = valid & area
    if np.count_nonzero(region) < 400:
        return []
    tex, f = texture_px(_gray(image), region, gsd_m, p.ravelling_window_m)
    reg = block_mean(region.astype(np.float32), f) > 0.5
    if np.count_nonzero(reg) < 16:
        return []
    ref = float(np.median(tex[reg]))
    rough = (tex > p.ravelling_ratio * max(ref, 1.0)) & reg
    if np.count_nonzero(rough) < p.ravelling_min_area_m2 / (gsd_m * f) ** 2:
        return []
    # Paving blocks are rough too, but along two perpendicular joint directions; lost stones leave no direction.
    # (measured only around the rough cells: the rest of the tile cannot change the answer)
    ys, xs = np.nonzero(rough)
    m = odd(p.ravelling_window_m / gsd_m / f, 3)
    y0, y1 = max(int(ys.min()) - m, 0), min(int(ys.max()) + m + 1, rough.shape[0])
    x0, x1 = max(int(xs.min()) - m, 0), min(int(xs.max()) + m + 1, rough.shape[1])
    box = (slice(y0 * f, y1 * f), slice(x0 * f, x1 * f))
    coh = _grid_coherence(_gray(image)[box], region[box], gsd_m, p.ravelling_window_m, f)
    rough[y0:y1, x0:x1] &= coh[: y1 - y0, : x1 - x0] < p.ravelling_max_grid_coherence
    # A patch, not a strip: the bands along markings, kerbs and slab edges are narrower than the window.
    rough = cv2.morphologyEx(rough.astype(np.uint8), cv2.MORPH_OPEN, disk(max(1.0, p.ravelling_window_m / gsd_m / f / 2))) > 0
    min_cells = p.ravelling_min_area_m2 / (gsd_m * f) ** 2
    smooth = (tex < p.ravelling_smooth_ratio * max(ref, 1.0)) & reg
    ring_k = disk(max(1.0, p.ravelling_ring_m / (gsd_m * f)))
    out = []
    full = np.zeros(region.shape, bool)
    for crop, r0, c0, _ in components(rough, min_area_px=max(4, int(min_cells))):
        # Lost fines are a rough patch *in* a smooth road; a rough surface next to another rough one
        # (tiles, gravel, kerb-side debris, a tree's shadow on a footpath) is a different surface.
        h, w = crop.shape
        pad = ring_k.shape[0]
        y0, x0 = max(r0 - pad, 0), max(c0 - pad, 0)
        y1, x1 = min(r0 + h + pad, rough.shape[0]), min(c0 + w + pad, rough.shape[1])
        blob = np.zeros((y1 - y0, x1 - x0), np.uint8)
        blob[r0 - y0 : r0 - y0 + h, c0 - x0 : c0 - x0 + w] = crop
        ring = (cv2.dilate(blob, ring_k) > 0) & (blob == 0) & reg[y0:y1, x0:x1]
        if not ring.any() or smooth[y0:y1, x0:x1][ring].mean() < p.ravelling_min_smooth_ring:
            continue
        full[:] = False
        up = block_up(crop.astype(np.float32), f, (h * f, w * f)) >= 0.5
        full[r0 * f : r0 * f + h * f, c0 * f : c0 * f + w * f] = up[: region.shape[0] - r0 * f, : region.shape[1] - c0 * f]
        full &= region
        if np.count_nonzero(full) * gsd_m**2 < p.ravelling_min_area_m2:
            continue
        ratio = float(tex[r0 : r0 + h, c0 : c0 + w][crop].mean() / max(ref, 1.0))
        m, y, x = tighten(full[r0 * f : r0 * f + h * f, c0 * f : c0 * f + w * f], r0 * f, c0 * f)
        score = float(np.clip(0.4 + 0.3 * (ratio - p.ravelling_ratio), 0.05, 1.0))
        out.append(Defect("ravelling", m.copy(), y, x, score, None, {"texture_ratio": ratio}))
    return out


def detect_road(
    image: np.ndarray,
    valid: np.ndarray,
    area: np.ndarray,
    gsd_m: float,
    p: RoadParams = RoadParams(),
    green: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
) -> list[Defect]:
    """All road detectors on one tile. Pixels claimed by a pothole, weeds or ``exclude`` are not also reported as crack.

    ``green`` is the neighbouring green area (vegetation attached to it is not weeds);
    ``exclude`` marks pixels already explained otherwise (overgrowth).
    """
    potholes = detect_potholes(image, valid, area, gsd_m, p)
    attached = green if exclude is None else (exclude if green is None else green | exclude)
    weeds = detect_weeds(image, valid, area, gsd_m, p, attached)
    taken = np.zeros(area.shape, bool) if exclude is None else exclude.copy()
    for d in potholes + weeds:
        h, w = d.mask.shape
        taken[d.row0 : d.row0 + h, d.col0 : d.col0 + w] |= d.mask
    taken = cv2.dilate(taken.astype(np.uint8), disk(max(1.0, 0.03 / gsd_m))) > 0
    # A ravelled surface is all small dark gaps: its candidates are that texture, not cracks.
    g = reduce(image, valid, None, gsd_m, p.ravelling_work_gsd_m)  # stones: a 1 cm grid sees them
    ravelling = g.up_defects(detect_ravelling(g.image, g.valid, g.down(area & ~taken), g.gsd_m, p))
    if ravelling:  # its rim too: the texture window blurs the patch's edge by half a window
        rough = np.zeros(area.shape, np.uint8)
        for d in ravelling:
            h, w = d.mask.shape
            rough[d.row0 : d.row0 + h, d.col0 : d.col0 + w] |= d.mask
        taken |= cv2.dilate(rough, disk(p.ravelling_window_m / gsd_m / 2)) > 0
    cracks = detect_cracks(image, valid, area & ~taken, gsd_m, p)
    return cracks + potholes + ravelling + weeds
