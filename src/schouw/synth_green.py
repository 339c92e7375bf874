"""Synthetic green-area scenes with exact truth, for measuring the green detectors.

A scene is a lawn beside a road, with irregular soft-edged dry and bare patches,
and every trap the detectors must leave alone: tree crowns and their shadows, a
building shadow, a flower bed, fallen leaves, a pond. Light level, colour cast
and ground sample distance vary with the arguments; everything is in metres and
converted with ``gsd_m``. Deterministic for a seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

GRASSES = [np.array(c, np.float32) for c in ((72, 118, 48), (95, 125, 60), (60, 100, 55), (100, 130, 70), (80, 110, 40))]
STRAWS = [np.array(c, np.float32) for c in ((186, 166, 104), (170, 150, 100), (200, 185, 130), (158, 132, 88))]
SOILS = [np.array(c, np.float32) for c in ((122, 93, 68), (135, 105, 75), (105, 80, 60))]
ASPHALT = np.array([92, 92, 96], np.float32)
SHADE = np.array([0.5, 0.54, 0.66], np.float32)
NIR = {"grass": 185, "dry": 120, "soil": 80, "road": 60, "water": 15, "crown": 175, "flower": 150, "leaf": 110}


@dataclass
class GreenScene:
    """Pixels and truth: ``rgb`` (H, W, 3) uint8, ``nir`` (H, W) uint8, masks (H, W) bool."""

    rgb: np.ndarray
    nir: np.ndarray
    gsd_m: float
    green: np.ndarray  # the green area (as an AREAS polygon would give it)
    road: np.ndarray
    truth: dict[str, np.ndarray] = field(default_factory=dict)  # dry_grass, bare_soil, overgrowth
    traps: dict[str, np.ndarray] = field(default_factory=dict)  # shadow_lawn, crown, flowers, leaves, water


def _noise(rng, shape, scale_px):
    small = (max(2, int(shape[0] / max(scale_px, 1)) + 2), max(2, int(shape[1] / max(scale_px, 1)) + 2))
    n = cv2.resize(rng.standard_normal(small).astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    return (n - n.mean()) / (n.std() + 1e-6)


def _blob(rng, shape, cx, cy, rx, ry, rough=0.35, soft_px=4.0):
    """Soft irregular patch (alpha 0-1, full image), computed only in its bounding box."""
    out = np.zeros(shape, np.float32)
    m = 1.6 * max(rx, ry) + 2 * soft_px
    y0, y1 = max(0, int(cy - m)), min(shape[0], int(cy + m) + 1)
    x0, x1 = max(0, int(cx - m)), min(shape[1], int(cx + m) + 1)
    if y0 >= y1 or x0 >= x1:
        return out
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)
    f = 1.0 - d + rough * 0.5 * _noise(rng, (y1 - y0, x1 - x0), min(rx, ry) / 1.5)
    out[y0:y1, x0:x1] = np.clip(0.5 + f * (min(rx, ry) / max(soft_px, 0.5)), 0, 1)
    return out


def green_scene(seed: int = 0, gsd_m: float = 0.02, size_m: float = 30.0, light: float = 1.0,
                cast: tuple[float, float, float] = (1.0, 1.0, 1.0), overgrowth: bool = True) -> GreenScene:
    """Paint one scene (``size_m`` square) at ``gsd_m``; ``light`` scales brightness, ``cast`` each channel."""
    rng = np.random.default_rng(seed)
    n = int(round(size_m / gsd_m))
    shape = (n, n)
    px = lambda m: m / gsd_m  # noqa: E731
    img = np.empty((n, n, 3), np.float32)
    nir = np.full(shape, NIR["grass"], np.float32)
    # lawn texture: blades at ~1 cm, clumps at ~0.5 m
    blades = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (1, 3), 0) * (20 if gsd_m < 0.03 else 10)
    grass = GRASSES[seed % len(GRASSES)]
    img[:] = grass * (1 + 0.08 * _noise(rng, shape, px(0.8)))[..., None]
    img += blades[..., None] * np.array([0.6, 1.0, 0.5], np.float32)

    road = np.zeros(shape, bool)
    road_w = int(px(3.0))
    road[:, n - road_w :] = True
    green = ~road
    img[road] = ASPHALT + rng.normal(0, 7, (int(road.sum()), 1)).astype(np.float32)
    nir[road] = NIR["road"]
    truth = {"dry_grass": np.zeros(shape, bool), "bare_soil": np.zeros(shape, bool), "overgrowth": np.zeros(shape, bool)}
    traps = {k: np.zeros(shape, bool) for k in ("shadow_lawn", "crown", "flowers", "leaves", "water")}
    occupied = np.zeros(shape, bool)
    lawn_w = n - road_w

    def place(r_m: float, margin_m: float = 0.5) -> tuple[float, float]:
        for _ in range(200):
            cx = rng.uniform(px(r_m + margin_m), lawn_w - px(r_m + margin_m))
            cy = rng.uniform(px(r_m + margin_m), n - px(r_m + margin_m))
            r = int(px(r_m + margin_m))
            y0, y1, x0, x1 = max(0, int(cy) - r), int(cy) + r, max(0, int(cx) - r), int(cx) + r
            if not occupied[y0:y1, x0:x1].any():
                occupied[y0:y1, x0:x1] = True
                return cx, cy
        raise RuntimeError("scene too crowded")

    soft = max(1.5, px(0.08))
    for kind, colours, count, (rmin, rmax) in (("dry_grass", STRAWS, 3, (0.8, 2.2)), ("bare_soil", SOILS, 2, (0.6, 1.5))):
        for _ in range(count):
            r = rng.uniform(rmin, rmax)
            cx, cy = place(r)
            a = _blob(rng, shape, cx, cy, px(r), px(r * rng.uniform(0.6, 1.0)), soft_px=soft)
            colour = colours[rng.integers(len(colours))]
            tex = 1 + (0.09 if kind == "dry_grass" else 0.035) * rng.standard_normal(shape).astype(np.float32)
            img[:] = img * (1 - a[..., None]) + (colour * tex[..., None]) * a[..., None]
            nir[:] = nir * (1 - a) + NIR["dry" if kind == "dry_grass" else "soil"] * a
            truth[kind] |= a >= 0.5
    # a worn path of bare soil across the lawn
    path = np.zeros(shape, np.uint8)
    y = rng.uniform(0.2, 0.8) * n
    cv2.line(path, (0, int(y)), (lawn_w, int(y + rng.uniform(-0.2, 0.2) * n)), 255, max(2, int(px(0.5))), cv2.LINE_AA)
    a = cv2.GaussianBlur(path.astype(np.float32) / 255, (0, 0), max(0.5, soft / 2)) * (~occupied)
    img[:] = img * (1 - a[..., None]) + SOILS[0] * a[..., None]
    nir[:] = nir * (1 - a) + NIR["soil"] * a
    truth["bare_soil"] |= a >= 0.5
    occupied |= cv2.dilate((a > 0.05).astype(np.uint8), np.ones((int(px(0.6)) | 1,) * 2, np.uint8)) > 0

    # traps: pond, flower bed, fallen leaves
    cx, cy = place(1.2)
    pond = _blob(rng, shape, cx, cy, px(1.2), px(0.9), rough=0.2, soft_px=1.0) >= 0.5
    img[pond] = np.array([38, 62, 72], np.float32) + rng.normal(0, 3, (int(pond.sum()), 1)).astype(np.float32)
    nir[pond] = NIR["water"]
    traps["water"] = pond
    cx, cy = place(1.0)
    bed = np.zeros(shape, bool)
    bed[int(cy - px(0.8)) : int(cy + px(0.8)), int(cx - px(1.0)) : int(cx + px(1.0))] = True
    flowers = bed & (rng.random(shape) < 0.35)
    flowers = cv2.dilate(flowers.astype(np.uint8), np.ones((max(1, int(px(0.03))),) * 2, np.uint8)) > 0
    palette = np.array([[220, 40, 50], [235, 200, 40], [150, 60, 170], [240, 140, 40]], np.float32)
    img[flowers & bed] = palette[rng.integers(4, size=int((flowers & bed).sum()))]
    nir[flowers & bed] = NIR["flower"]
    traps["flowers"] = bed
    cx, cy = place(1.2)
    zone = _blob(rng, shape, cx, cy, px(1.2), px(1.2), rough=0.1, soft_px=1) >= 0.5
    leaves = zone & (rng.random(shape) < 0.08)
    leaves = cv2.dilate(leaves.astype(np.uint8), np.ones((max(1, int(px(0.04))),) * 2, np.uint8)) > 0
    leaf_col = np.array([[200, 110, 30], [170, 80, 25], [215, 150, 40]], np.float32)
    img[leaves] = leaf_col[rng.integers(3, size=int(leaves.sum()))]
    nir[leaves] = NIR["leaf"]
    traps["leaves"] = zone

    # overgrowth: grass reaching 0.5 m onto the road along 2-3 m of its edge
    if overgrowth:
        y0 = int(rng.uniform(0.1, 0.6) * n)
        over = np.zeros(shape, bool)
        reach = int(px(0.5))
        over[y0 : y0 + int(px(2.5)), n - road_w : n - road_w + reach] = True
        edge = _noise(rng, shape, px(0.3)) * px(0.08)
        xx = np.arange(n)[None, :] - (n - road_w)
        over &= xx < reach + edge
        img[over] = grass * (1 + 0.1 * rng.standard_normal((int(over.sum()), 1))).astype(np.float32)
        nir[over] = NIR["grass"]
        truth["overgrowth"] = over

    # tree crowns (living, dark green, rough) with shadows cast south-east on the lawn
    sun = np.array([px(rng.uniform(1.5, 3.0)), px(rng.uniform(1.0, 2.5))])
    for _ in range(2):
        r = rng.uniform(1.0, 1.6)
        cx, cy = place(r + 0.8, margin_m=0.2)
        sh = _blob(rng, shape, cx + sun[0], cy + sun[1], px(r), px(r), rough=0.3, soft_px=soft * 2) * green * ~occupied
        img *= 1 - sh[..., None] * (1 - SHADE)
        traps["shadow_lawn"] |= (sh > 0.5) & ~truth["dry_grass"] & ~truth["bare_soil"]
        crown = _blob(rng, shape, cx, cy, px(r), px(r), rough=0.4, soft_px=soft) >= 0.5
        img[crown] = np.array([40, 75, 35], np.float32) * (1 + 0.25 * rng.standard_normal((int(crown.sum()), 1))).astype(np.float32)
        nir[crown] = NIR["crown"]
        traps["crown"] |= crown
        traps["shadow_lawn"] &= ~crown
    # a building's shadow along the top edge of the lawn
    bh = int(px(rng.uniform(1.5, 3.0)))
    bshadow = np.zeros(shape, bool)
    bshadow[:bh, : lawn_w // 2] = True
    bshadow &= ~occupied
    img[bshadow] *= SHADE
    traps["shadow_lawn"] |= bshadow

    img = img * light * np.asarray(cast, np.float32)
    for k in truth:
        truth[k] &= ~traps["crown"]
    return GreenScene(np.clip(img, 0, 255).round().astype(np.uint8), np.clip(nir * light, 0, 255).astype(np.uint8),
                      gsd_m, green, road, truth, traps)
