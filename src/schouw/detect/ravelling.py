"""Ravelling (rafeling): road patches that have lost their fine stones (pixel space, pure)."""

from __future__ import annotations

import cv2
import numpy as np

from .base import (
    Defect,
    block_mean,
    block_up,
    components,
    disk,
    odd,
    padded,
    robust_sigma,
    subsample,
    tighten,
    to_gray,
)
from .road_params import RoadParams


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
    return np.sqrt(np.maximum(num, 0.0) / np.maximum(den, 1e-3)), f  # a box sum of zeros may round below 0


def grid_coherence(gray: np.ndarray, region: np.ndarray, gsd_m: float, window_m: float, f: int) -> np.ndarray:
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


def off_grid(cells: np.ndarray, gray: np.ndarray, region: np.ndarray, gsd_m: float, window_m: float, f: int,
             max_coherence: float) -> np.ndarray:
    """``cells`` (bool, on the grid ``f`` times coarser than the grey image ``gray``) less those whose edges over
    ``window_m`` follow one square grid more than ``max_coherence`` (:func:`grid_coherence`): the joints of paving
    blocks, not lost stones or litter. Measured only round the cells set (the rest of the image cannot change the
    answer, and it costs)."""
    if not cells.any():
        return cells
    ys, xs = np.nonzero(cells)
    m = odd(window_m / gsd_m / f, 3)
    y0, y1 = max(int(ys.min()) - m, 0), min(int(ys.max()) + m + 1, cells.shape[0])
    x0, x1 = max(int(xs.min()) - m, 0), min(int(xs.max()) + m + 1, cells.shape[1])
    box = (slice(y0 * f, y1 * f), slice(x0 * f, x1 * f))
    coh = grid_coherence(gray[box], region[box], gsd_m, window_m, f)
    out = cells.copy()
    out[y0:y1, x0:x1] &= coh[: y1 - y0, : x1 - x0] < max_coherence
    return out


def detect_ravelling(image: np.ndarray, valid: np.ndarray, area: np.ndarray, gsd_m: float, p: RoadParams = RoadParams()) -> list[Defect]:
    """Ravelling (rafeling): road patches whose stone-scale texture is far coarser than this tile's typical road.

    Relative to the tile's own road (median texture), so camera, exposure and asphalt mix
    shift the reference, not the result. ``extra['texture_ratio']`` says how much coarser.
    """
    region = valid & area
    if np.count_nonzero(region) < 400:
        return []
    gray = to_gray(image)
    tex, f = texture_px(gray, region, gsd_m, p.ravelling_window_m)
    reg = block_mean(region.astype(np.float32), f) > 0.5
    if np.count_nonzero(reg) < 16:
        return []
    ref = float(np.median(tex[reg]))
    rough = (tex > p.ravelling_ratio * max(ref, 1.0)) & reg
    min_cells = p.ravelling_min_area_m2 / (gsd_m * f) ** 2
    if np.count_nonzero(rough) < min_cells:
        return []
    # Paving blocks are rough too, but along two perpendicular joint directions; lost stones leave no direction.
    rough = off_grid(rough, gray, region, gsd_m, p.ravelling_window_m, f, p.ravelling_max_grid_coherence)
    # A patch, not a strip: the bands along markings, kerbs and slab edges are narrower than the window.
    rough = cv2.morphologyEx(rough.astype(np.uint8), cv2.MORPH_OPEN, disk(max(1.0, p.ravelling_window_m / gsd_m / f / 2))) > 0
    smooth = (tex < p.ravelling_smooth_ratio * max(ref, 1.0)) & reg
    ring_k = disk(max(1.0, p.ravelling_ring_m / (gsd_m * f)))
    out = []
    for crop, r0, c0, _ in components(rough, min_area_px=max(4, int(min_cells))):
        # Lost fines are a rough patch *in* a smooth road; a rough surface next to another rough one
        # (tiles, gravel, kerb-side debris, a tree's shadow on a footpath) is a different surface.
        h, w = crop.shape
        blob, win, _ = padded(crop, r0, c0, ring_k.shape[0], rough.shape)
        ring = (cv2.dilate(blob, ring_k) > 0) & (blob == 0) & reg[win]
        if not ring.any() or smooth[win][ring].mean() < p.ravelling_min_smooth_ring:
            continue
        y, x = r0 * f, c0 * f
        mine = region[y : y + h * f, x : x + w * f]
        up = block_up(crop.astype(np.float32), f, mine.shape) >= 0.5
        up &= mine
        if np.count_nonzero(up) * gsd_m**2 < p.ravelling_min_area_m2:
            continue
        ratio = float(tex[r0 : r0 + h, c0 : c0 + w][crop].mean() / max(ref, 1.0))
        m, y, x = tighten(up, y, x)
        score = float(np.clip(0.4 + 0.3 * (ratio - p.ravelling_ratio), 0.05, 1.0))
        out.append(Defect("ravelling", m.copy(), y, x, score, None, {"texture_ratio": ratio}))
    return out
