"""Green-area detectors: dry or dead grass and bare soil (pixel space, pure).

Colour is judged in chromaticity (r, g, b normalised to sum 1), which does not
change with brightness, and brightness is judged relative to the healthy lawn
of the same tile, so sun angle and exposure shift both alike. Shadows (dark
relative to the lawn, bluish) are never classified.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .base import Defect, DetectorSpec, chromaticity, components, disk

SPEC = DetectorSpec(
    name="green-classic",
    version="0.1.0",
    area="green",
    types=("dry_grass", "bare_soil"),
    min_gsd_m=0.005,
    max_gsd_m=0.30,
)


@dataclass(frozen=True)
class GreenParams:
    """Green detector parameters (metres and square metres unless named otherwise)."""

    min_patch_m2: float = 0.15
    smooth_m: float = 0.06
    green_margin: float = 0.012  # g - max(r, b) above which a pixel is living vegetation
    shadow_ratio: float = 0.6  # brightness below this share of the lawn's is shadow
    soil_redness: float = 0.075  # r - g of soil; dry grass is yellower (r close to g)
    soil_texture: float = 0.9  # soil is smoother than grass: local contrast below this share of the lawn's


def vegetation_classes(image: np.ndarray, valid: np.ndarray, p: GreenParams = GreenParams()) -> dict[str, np.ndarray]:
    """Per-pixel boolean maps ``green``, ``dry``, ``soil``, ``shadow`` (no area restriction), and ``texture``.

    ``texture`` is the local contrast (std / mean over 5 x 5 px, smoothed): grass is rough, water and roofs are smooth.
    """
    r, g, b, bright = chromaticity(image)
    green = (g - np.maximum(r, b) > p.green_margin) & valid
    ref = np.median(bright[green]) if green.sum() > 200 else np.median(bright[valid]) if valid.any() else 128.0
    shadow = (bright < p.shadow_ratio * ref) | (b > 0.36)
    warm = (r > b + 0.04) & (g - np.maximum(r, b) <= p.green_margin) & ~shadow & valid
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    k = 5
    mean = cv2.blur(gray, (k, k))
    sq = cv2.blur(gray * gray, (k, k))
    tex = np.sqrt(np.maximum(sq - mean * mean, 0)) / np.maximum(mean, 1)
    lawn_tex = float(np.median(tex[green])) if green.sum() > 200 else 0.08
    tex_s = cv2.blur(tex, (9, 9))
    redness = r - g
    soil = warm & (redness >= p.soil_redness) & (tex_s < p.soil_texture * lawn_tex + 0.02)
    dry = warm & ~soil
    return {"green": green, "dry": dry, "soil": soil, "shadow": shadow & valid, "texture": tex_s}


def _patches(kind: str, mask: np.ndarray, region: np.ndarray, gsd_m: float, p: GreenParams, strength: np.ndarray) -> list[Defect]:
    rad = max(1.0, p.smooth_m / gsd_m)
    m = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, disk(rad))
    m = cv2.morphologyEx(m, cv2.MORPH_OPEN, disk(rad)) > 0
    m &= region
    min_px = max(4, int(p.min_patch_m2 / gsd_m**2))
    out = []
    for crop, r0, c0, _ in components(m, min_area_px=min_px):
        h, w = crop.shape
        purity = float(strength[r0 : r0 + h, c0 : c0 + w][crop].mean())
        out.append(Defect(kind, crop, r0, c0, float(np.clip(0.3 + 0.7 * purity, 0.05, 1.0))))
    return out


def detect_green(image: np.ndarray, valid: np.ndarray, area: np.ndarray, gsd_m: float, p: GreenParams = GreenParams()) -> list[Defect]:
    """Dry grass and bare-soil patches inside the green area."""
    region = valid & area
    if region.sum() < 100:
        return []
    cls = vegetation_classes(image, valid, p)
    dry = _patches("dry_grass", cls["dry"] & region, region, gsd_m, p, cls["dry"].astype(np.float32))
    soil = _patches("bare_soil", cls["soil"] & region, region, gsd_m, p, cls["soil"].astype(np.float32))
    return dry + soil
