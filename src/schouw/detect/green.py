"""Green-area detectors: dry or dead grass, bare soil, overgrowth onto paving (pixel space, pure).

Colour is judged in chromaticity (r, g, b normalised to sum 1), which does not
change with brightness, and brightness is judged relative to the healthy lawn
of the same tile, so sun angle and exposure shift both alike (white balance is
normalised once per flight, see :mod:`schouw.orthophoto`). With a NIR band,
living vegetation is NDVI > ``ndvi_living`` instead of a colour rule.

Traps, and the rule that keeps each out:
- shadows of trees and buildings: darker than 0.6 x the lawn, or sky-lit blue;
- tree crowns: living vegetation (green / high NDVI) is never dry or bare;
- flowers and fallen leaves: far more saturated than straw or soil;
- water: dark or bluish (a shadow by the rules above), and never a green area in
  automatic segmentation without living vegetation around it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .base import Defect, DetectorSpec, chromaticity, components, disk

SPEC = DetectorSpec(
    name="green-classic",
    version="0.2.0",
    area="green",
    types=("dry_grass", "bare_soil", "overgrowth"),
    min_gsd_m=0.005,
    max_gsd_m=0.30,
)


@dataclass(frozen=True)
class GreenParams:
    """Green detector parameters (metres and square metres unless named otherwise)."""

    min_patch_m2: float = 0.15
    smooth_m: float = 0.06
    green_margin: float = 0.012  # g - max(r, b) above which a pixel is living vegetation
    ndvi_living: float = 0.3  # with NIR: NDVI above which a pixel is living vegetation
    shadow_ratio: float = 0.6  # brightness below this share of the lawn's is shadow
    shadow_blue: float = 0.36  # chromaticity b above this is sky-lit shade (or water)
    max_saturation: float = 0.30  # more saturated than this is flowers or leaves, not straw or soil
    soil_redness: float = 0.075  # r - g of soil; dry grass is yellower (r close to g)
    soil_texture: float = 0.9  # soil is smoother than grass: local contrast below this share of the lawn's
    overgrowth_min_m: float = 0.2  # vegetation reaching further than this beyond the green border
    overgrowth_min_area_m2: float = 0.02


def living_vegetation(image: np.ndarray, valid: np.ndarray, nir: np.ndarray | None = None, p: GreenParams = GreenParams()) -> np.ndarray:
    """Living vegetation: NDVI when a NIR band is given, else green chromaticity dominance."""
    if nir is not None:
        red = image[..., 0].astype(np.float32)
        n = nir.astype(np.float32)
        ndvi = (n - red) / np.maximum(n + red, 1.0)
        return (ndvi > p.ndvi_living) & valid
    r, g, b, _ = chromaticity(image)
    return (g - np.maximum(r, b) > p.green_margin) & valid


def vegetation_classes(image: np.ndarray, valid: np.ndarray, p: GreenParams = GreenParams(), nir: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per-pixel boolean maps ``green``, ``dry``, ``soil``, ``shadow``, ``vivid`` (no area restriction), and ``texture``.

    ``texture`` is the local contrast (std / mean over 5 x 5 px, smoothed): grass is rough, soil and water smooth.
    ``vivid`` marks saturated warm colours (flowers, autumn leaves), which are neither dry grass nor soil.
    """
    r, g, b, bright = chromaticity(image)
    green = living_vegetation(image, valid, nir, p)
    ref = np.median(bright[green]) if green.sum() > 200 else np.median(bright[valid]) if valid.any() else 128.0
    shadow = (bright < p.shadow_ratio * ref) | (b > p.shadow_blue)
    sat = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
    vivid = sat > p.max_saturation
    warm = (r > b + 0.04) & ~green & ~shadow & ~vivid & valid
    if nir is None:
        warm &= g - np.maximum(r, b) <= p.green_margin
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    mean = cv2.blur(gray, (5, 5))
    sq = cv2.blur(gray * gray, (5, 5))
    tex = np.sqrt(np.maximum(sq - mean * mean, 0)) / np.maximum(mean, 1)
    lawn_tex = float(np.median(tex[green])) if green.sum() > 200 else 0.08
    tex_s = cv2.blur(tex, (9, 9))
    soil = warm & (r - g >= p.soil_redness) & (tex_s < p.soil_texture * lawn_tex + 0.02)
    dry = warm & ~soil
    return {"green": green, "dry": dry, "soil": soil, "shadow": shadow & valid, "vivid": vivid & valid, "texture": tex_s}


def _patches(kind: str, mask: np.ndarray, region: np.ndarray, gsd_m: float, p: GreenParams) -> list[Defect]:
    rad = max(1.0, p.smooth_m / gsd_m)
    m = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, disk(rad))
    m = cv2.morphologyEx(m, cv2.MORPH_OPEN, disk(rad)) > 0
    m &= region
    min_px = max(4, int(p.min_patch_m2 / gsd_m**2))
    out = []
    for crop, r0, c0, _ in components(m, min_area_px=min_px):
        h, w = crop.shape
        purity = float(mask[r0 : r0 + h, c0 : c0 + w][crop].mean())
        out.append(Defect(kind, crop, r0, c0, float(np.clip(0.3 + 0.7 * purity, 0.05, 1.0))))
    return out


def detect_green(
    image: np.ndarray, valid: np.ndarray, area: np.ndarray, gsd_m: float, p: GreenParams = GreenParams(), nir: np.ndarray | None = None
) -> list[Defect]:
    """Dry grass and bare-soil patches inside the green area."""
    region = valid & area
    if region.sum() < 100:
        return []
    cls = vegetation_classes(image, valid, p, nir)
    return _patches("dry_grass", cls["dry"] & region, region, gsd_m, p) + _patches("bare_soil", cls["soil"] & region, region, gsd_m, p)


def detect_overgrowth(
    image: np.ndarray,
    valid: np.ndarray,
    road: np.ndarray,
    green: np.ndarray,
    gsd_m: float,
    p: GreenParams = GreenParams(),
    nir: np.ndarray | None = None,
) -> list[Defect]:
    """Vegetation reaching from the green area onto paving further than ``overgrowth_min_m``.

    ``road`` and ``green`` are the reference areas (the AREAS polygons, or the coarse
    automatic segmentation). A clump on the paving that touches the green border and
    reaches beyond ``overgrowth_min_m`` is one defect; ``extra['border_px']`` is the
    length of green border it covers (pixels), ``extra['reach_px']`` how far it reaches.
    """
    veg = living_vegetation(image, valid, nir, p) & road & valid
    if not veg.any() or not green.any():
        return []
    rad = max(1.0, 0.03 / gsd_m)
    veg = cv2.morphologyEx(veg.astype(np.uint8), cv2.MORPH_CLOSE, disk(rad)) > 0
    veg &= road & valid
    # distance (px) of every pixel from the green area
    dist = cv2.distanceTransform((~green).astype(np.uint8), cv2.DIST_L2, 5)
    border = road & (dist <= 1.5)
    min_reach = p.overgrowth_min_m / gsd_m
    min_px = max(4, int(p.overgrowth_min_area_m2 / gsd_m**2))
    out: list[Defect] = []
    for crop, r0, c0, area_px in components(veg, min_area_px=min_px):
        h, w = crop.shape
        d = dist[r0 : r0 + h, c0 : c0 + w][crop]
        if d.min() > 1.5:  # not attached to the green area: weeds in the pavement, not overgrowth
            continue
        reach = float(d.max())
        if reach < min_reach:
            continue
        border_px = int((border[r0 : r0 + h, c0 : c0 + w] & crop).sum())
        score = float(np.clip(0.5 + 0.5 * (reach - min_reach) / max(min_reach, 1.0), 0.05, 1.0))
        out.append(Defect("overgrowth", crop, r0, c0, score, None, {"border_px": border_px, "reach_px": reach}))
    return out
