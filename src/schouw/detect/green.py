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

from .base import (
    Defect,
    DetectorSpec,
    block_mean,
    block_up,
    chromaticity,
    components,
    disk,
    subsample,
)

SPEC = DetectorSpec(
    name="green-classic",
    version="0.4.0",
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
    green_margin: float = 0.012  # g - max(r, b) above which a pixel is living vegetation (at least)
    dead_greenness: float = -0.04  # typical g - max(r, b) of straw and soil
    ndvi_living: float = 0.3  # with NIR: NDVI above which a pixel is living vegetation (at least)
    dead_ndvi: float = 0.05  # typical NDVI of straw and soil
    shadow_ratio: float = 0.6  # brightness below this share of the lawn's is shadow
    shadow_blue: float = 0.36  # chromaticity b above this is sky-lit shade (or water)
    max_saturation: float = 0.30  # more saturated than this is flowers or leaves, not straw or soil
    soil_max_hue_deg: float = 35.0  # warm ground with a hue below this is soil; above, dry grass
    type_scale_m: float = 0.15  # soil or dry grass is decided by the majority within about this distance
    type_majority: float = 0.7  # a patch this much one type is wholly that type (its soft rim included)
    overgrowth_min_m: float = 0.2  # vegetation reaching further than this beyond the green border
    overgrowth_min_area_m2: float = 0.02
    work_gsd_m: float = 0.04  # automatic road/green segmentation works on a grid of about this (areas are metres across)


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
    """Per-pixel boolean maps ``green``, ``dry``, ``soil``, ``shadow``, ``vivid`` (no area restriction), and ``deadness``.

    ``deadness`` (0-1) says how far below the living threshold a pixel's greenness is.
    ``vivid`` marks saturated warm colours (flowers, autumn leaves), which are neither dry grass nor soil.
    """
    r, g, b, bright = chromaticity(image)
    # Halfway between this tile's healthy lawn and dead vegetation: a soft patch edge then
    # splits where the mix is half and half, whatever the lawn's own saturation.
    greenness = g - np.maximum(r, b)
    living0 = (greenness > p.green_margin) & valid
    thr = p.green_margin
    if np.count_nonzero(living0) > 500:
        lawn = float(np.median(subsample(greenness[::2, ::2][living0[::2, ::2]])))
        thr = float(np.clip(0.5 * (lawn + p.dead_greenness), p.green_margin, 0.1))
    green = (greenness > thr) & valid
    if nir is not None:
        # NDVI adds living plants that do not look green (red-leaved, or under a colour cast);
        # the same halfway rule between this tile's living median and dead ground.
        red = image[..., 0].astype(np.float32)
        n = nir.astype(np.float32)
        ndvi = (n - red) / np.maximum(n + red, 1.0)
        alive0 = (ndvi > p.ndvi_living) & valid
        t = p.ndvi_living
        if np.count_nonzero(alive0) > 500:
            t = float(np.clip(0.5 * (np.median(subsample(ndvi[alive0])) + p.dead_ndvi), p.ndvi_living, 0.6))
        green |= (ndvi > t) & valid
    n_green = np.count_nonzero(green)
    ref = np.median(subsample(bright[::2, ::2][green[::2, ::2]])) if n_green > 200 else np.median(subsample(bright[valid])) if valid.any() else 128.0
    shadow = (bright < p.shadow_ratio * ref) | (b > p.shadow_blue)
    sat = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
    vivid = sat > p.max_saturation
    warm = (r > b + 0.04) & ~green & ~shadow & ~vivid & valid
    # Soil is orange-brown (hue 20-32 degrees), dead grass straw-yellow (38-50 degrees). Hue does not
    # depend on how pale or saturated the patch is, which redness (r - g) does.
    hue_deg = cv2.cvtColor(image, cv2.COLOR_RGB2HSV_FULL)[..., 0].astype(np.float32) * (360.0 / 256.0)
    soil = warm & (hue_deg < p.soil_max_hue_deg)
    dry = warm & ~soil
    deadness = np.clip((thr - greenness) / 0.06, 0, 1).astype(np.float32)
    return {"green": green, "dry": dry, "soil": soil, "shadow": shadow & valid, "vivid": vivid & valid,
            "deadness": deadness}


def _patches(cls: dict[str, np.ndarray], region: np.ndarray, gsd_m: float, p: GreenParams) -> list[Defect]:
    """Patches of non-living ground, split into soil and dry grass by the local majority.

    Typing by neighbourhood rather than by pixel matters at soft edges: where soil blends
    into grass the mix has the hue of straw, and pixel by pixel a soil patch would be
    ringed with dry grass (and a worn path touching a dry patch swallowed by it).
    """
    rad = max(1.0, p.smooth_m / gsd_m)
    dead = (cls["dry"] | cls["soil"]) & region
    m = cv2.morphologyEx(dead.astype(np.uint8), cv2.MORPH_CLOSE, disk(rad))
    m = cv2.morphologyEx(m, cv2.MORPH_OPEN, disk(rad)) > 0
    m &= region
    sigma = max(1.5, p.type_scale_m / gsd_m)
    # Votes weighted by how dead a pixel is: blended rim pixels (half grass) hardly vote.
    w = cls["deadness"]
    # The vote is a smooth field at type_scale_m: blurred on a block grid (sigma >= 2.5 cells there), not every pixel.
    f = max(1, int(sigma / 2.5))
    soil_s = cv2.GaussianBlur(block_mean(cls["soil"] * w, f), (0, 0), sigma / f)
    dry_s = cv2.GaussianBlur(block_mean(cls["dry"] * w, f), (0, 0), sigma / f)
    is_soil = block_up(soil_s - dry_s, f, region.shape) > 0
    min_px = max(4, int(p.min_patch_m2 / gsd_m**2))
    out = []
    for crop, r0, c0, _ in components(m, min_area_px=min_px):
        h, w = crop.shape
        soil_here = is_soil[r0 : r0 + h, c0 : c0 + w]
        frac = float(soil_here[crop].mean())
        if frac >= p.type_majority or frac <= 1 - p.type_majority:
            parts = [("bare_soil" if frac >= 0.5 else "dry_grass", crop, 0, 0)]
        else:  # e.g. a worn path running into a dry patch: two defects
            # Thin slivers of one type along the other's rim are blend, not a patch: open them away.
            k = disk(max(1.0, 0.1 / gsd_m))
            dry_part = cv2.morphologyEx((crop & ~soil_here).astype(np.uint8), cv2.MORPH_OPEN, k) > 0
            soil_part = cv2.morphologyEx((crop & ~dry_part).astype(np.uint8), cv2.MORPH_OPEN, k) > 0
            parts = [("bare_soil", sub, y, x) for sub, y, x, _ in components(soil_part, min_px)]
            parts += [("dry_grass", sub, y, x) for sub, y, x, _ in components(dry_part, min_px)]
        for kind, sub, y, x in parts:
            sh, sw = sub.shape
            own = cls["soil" if kind == "bare_soil" else "dry"][r0 + y : r0 + y + sh, c0 + x : c0 + x + sw][sub]
            out.append(Defect(kind, sub, r0 + y, c0 + x, float(np.clip(0.3 + 0.7 * own.mean(), 0.05, 1.0))))
    return out


def detect_green(
    image: np.ndarray, valid: np.ndarray, area: np.ndarray, gsd_m: float, p: GreenParams = GreenParams(), nir: np.ndarray | None = None
) -> list[Defect]:
    """Dry grass and bare-soil patches inside the green area.

    On every pixel: judged on a coarser grid, block-averaged colours blend flower petals and
    leaves with the grass into straw-like browns (measured: 70 % of a flower bed became dry
    grass at 1-2 cm, and dry/bare IoU fell from 0.98/0.94 to 0.93/0.86).
    """
    region = valid & area
    if np.count_nonzero(region) < 100:
        return []
    return _patches(vegetation_classes(image, valid, p, nir), region, gsd_m, p)


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
    min_reach = max(p.overgrowth_min_m / gsd_m, 2.0)  # and at least 2 px: one blended edge pixel is no evidence
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
