"""Automatic road / green segmentation from colour (used when no AREAS file is given).

Paved surfaces are grey (low saturation); green areas are living vegetation,
plus dry-grass and soil colours only where living vegetation surrounds them
within a few metres: a muddy river, a sand pit or a brown roof is not a lawn
(colour alone cannot tell brown water from dead grass). A field with no living
grass at all is therefore not found without an AREAS file.

The *detector* masks are smoothed at about half a metre (a dry patch inside a
lawn stays lawn). The *reference* masks for overgrowth need the paved edge as
it was laid, under the grass growing over it: road edges run straight along
the road, so the road mask is closed with a line of a few metres *along the
road's direction* (never across it, which would swallow a verge between road
and footpath), and only up to ``max_reach_m`` from the visible paving.

Grey is not enough for paving at drone resolution: dry grass, litter, soil and gravel can be
as unsaturated as asphalt. What tells them apart there is the ground's grain: blades, twigs
and stones cast many small shadows, where paving is smooth between its joints and cracks
(:func:`rough_ground`).
"""

from __future__ import annotations

import cv2
import numpy as np

from .base import block_mean, block_up, chromaticity, disk, odd, to_gray
from .green import GreenParams, vegetation_classes
from .grid import reduce
from .ravelling import off_grid
from .road import road_direction


#: Rough ground is looked for from this GSD down (m/px): coarser, grass blades' and stones' shadows are not resolved.
ROUGH_MAX_GSD_M = 0.05
#: A pixel is a small shadow when darker than this share of the mean over ``ROUGH_SPECK_M`` (m) round it ...
ROUGH_DARK_RATIO, ROUGH_SPECK_M = 0.7, 0.25
#: ... and ground is rough where such pixels are more than this share of a square of ``ROUGH_AREA_M`` (m) ...
ROUGH_MIN_SHARE, ROUGH_AREA_M = 0.06, 1.0
#: ... over an area at least this wide (m): a crack, a pothole or an alligator patch is a dark part of a road ...
ROUGH_MIN_WIDTH_M = 2.5
#: ... and where its edges follow no square grid over ``ROUGH_AREA_M`` (0-1, as ravelling's): paving blocks' joints do.
ROUGH_MAX_GRID_COHERENCE = 0.25


def rough_ground(image: np.ndarray, valid: np.ndarray, gsd_m: float) -> np.ndarray:
    """Ground far more grainy than paving (bool, the image's grid): at least ``ROUGH_MIN_SHARE`` of it small shadows,
    over an area at least ``ROUGH_MIN_WIDTH_M`` wide. All False coarser than ``ROUGH_MAX_GSD_M`` m/px.

    Dry grass, leaf litter, soil with stones and gravel are as grey as asphalt, but their blades, twigs and stones
    cast shadows a few centimetres across everywhere. Paving has them only along its joints and defects: on
    RDD2022's roads (2.5 cm per pixel) 95 % of the road has under 0.016 of its metre round it in such shadows, and
    what has more is narrower than ``ROUGH_MIN_WIDTH_M`` (on those 200 photos rough ground is hedges, shrubs, soil
    verges and a car). Paving blocks with dark joints have more, but along a square grid (:func:`~.ravelling.off_grid`).
    """
    rough = np.zeros(image.shape[:2], bool)
    if gsd_m > ROUGH_MAX_GSD_M or not valid.any():
        return rough
    gray = to_gray(image)
    k = odd(ROUGH_SPECK_M / gsd_m, 3)
    g = gray.astype(np.float32)
    dark = ((g < ROUGH_DARK_RATIO * cv2.blur(g, (k, k))) & valid).astype(np.float32)
    f = max(1, int(0.2 / gsd_m))  # judged on cells of about 20 cm: the shares are metres across
    dark_c, valid_c = block_mean(dark, f), block_mean(valid.astype(np.float32), f)
    n = odd(ROUGH_AREA_M / (gsd_m * f), 3)
    share = cv2.blur(dark_c, (n, n)) / np.maximum(cv2.blur(valid_c, (n, n)), 1e-3)
    wide = disk(max(1.0, ROUGH_MIN_WIDTH_M / 2 / (gsd_m * f)))
    cells = cv2.morphologyEx(((share > ROUGH_MIN_SHARE) & (valid_c > 0.5)).astype(np.uint8), cv2.MORPH_OPEN, wide) > 0
    if not cells.any():
        return rough
    # paving's joints are dark too, but run along a square grid
    cells = off_grid(cells, gray, valid, gsd_m, ROUGH_AREA_M, f, ROUGH_MAX_GRID_COHERENCE)
    cells = cv2.morphologyEx(cells.astype(np.uint8), cv2.MORPH_OPEN, wide)
    return block_up(cells.astype(np.float32), f, image.shape[:2]) >= 0.5


def segment_areas(
    image: np.ndarray,
    valid: np.ndarray,
    gsd_m: float,
    nir: np.ndarray | None = None,
    scale_m: float = 0.5,
    ref_scale_m: float = 2.0,
    context_m: float = 6.0,
    min_context: float = 0.3,
    edge_line_m: float = 4.0,
    max_reach_m: float = 1.0,
    work_gsd_m: float = GreenParams().work_gsd_m,
) -> dict[str, np.ndarray]:
    """Boolean masks ``road``, ``green`` (detector areas), ``road_ref``, ``green_ref`` (overgrowth reference)
    and ``green_coarse`` (green at the 2 m scale: lawns and verges, not a weed clump on a footpath).

    Decided on a grid of about ``work_gsd_m`` (areas are metres across), returned on the tile's own grid.
    """
    g = reduce(image, valid, nir, gsd_m, work_gsd_m)
    rough = rough_ground(image, valid, gsd_m)  # at the tile's own GSD: the shadows are a few centimetres across
    rough = block_mean(rough, g.f) >= 0.5 if g.f > 1 else rough
    out = _segment(g.image, g.valid, g.gsd_m, g.nir, rough, scale_m, ref_scale_m, context_m, min_context, edge_line_m,
                   max_reach_m)
    return {k: g.up(m) & valid for k, m in out.items()}


def _segment(image, valid, gsd_m, nir, rough, scale_m, ref_scale_m, context_m, min_context, edge_line_m, max_reach_m) -> dict[str, np.ndarray]:
    cls = vegetation_classes(image, valid, GreenParams(), nir)
    r, g, b, bright = chromaticity(image)
    sat = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
    grey = (sat < 0.06) & (bright > 25) & (bright < 235) & valid & ~rough  # rough: grass, litter, soil, gravel
    plant = cls["green"] & valid
    bare = (cls["soil"] | cls["dry"] | rough) & valid & ~plant
    f = max(1, int(round(scale_m / gsd_m / 8)))
    small = {k: block_mean(m.astype(np.float32), f) for k, m in
             (("grey", grey), ("plant", plant), ("bare", bare))}

    def smooth(key: str, metres: float) -> np.ndarray:
        k = odd(metres / gsd_m / f)
        return cv2.GaussianBlur(small[key], (k, k), 0)

    context = smooth("plant", context_m) > min_context
    up = lambda m: block_up(m, f, image.shape[:2])
    # Reference scale first: soil/dry colours count as green only inside green surroundings, so a
    # brown pothole in the asphalt stays road while a dry patch in the lawn stays lawn.
    p_ref = smooth("grey", ref_scale_m)
    g_ref = smooth("plant", ref_scale_m) + np.where(context, smooth("bare", ref_scale_m), 0)
    green_ref_small = (g_ref >= p_ref) & (g_ref > 0.35)
    p_b = smooth("grey", scale_m)
    g_b = smooth("plant", scale_m) + np.where(context & green_ref_small, smooth("bare", scale_m), 0)
    out = {}
    for name, pb, gb in (("", p_b, g_b), ("_coarse", p_ref, g_ref)):
        pb, gb = up(pb), up(gb)
        out["road" + name] = (pb > gb) & (pb > 0.35) & valid
        out["green" + name] = (gb >= pb) & (gb > 0.35) & valid
    # Inside the road at the coarse scale, whatever is not green is road surface (a large
    # dark pothole is not grey, but it is in the road).
    out["road"] |= out.pop("road_coarse") & ~out["green"]
    green_coarse = out["green_coarse"]
    road_ref = laid_edge(out["road"], gsd_m, edge_line_m, max_reach_m)
    if road_ref is None:  # no single straight road here: no trustworthy paved edge, no overgrowth reference
        out["road_ref"] = np.zeros_like(out["road"])
        out["green_ref"] = np.zeros_like(out["green"])
    else:
        out["road_ref"] = road_ref & valid
        out["green_ref"] = (out["green"] | green_coarse) & ~out["road_ref"] & valid
    return out


def laid_edge(road: np.ndarray, gsd_m: float, line_m: float = 4.0, max_reach_m: float = 1.0, min_share: float = 0.05) -> np.ndarray | None:
    """The road mask with bays along its edges filled (where vegetation hides the paving).

    Closing with a line of ``line_m`` along the road's principal direction. None
    when the tile has no single clear road direction (a crossing, a square, a
    town block) or hardly any road: then the paved edge cannot be inferred.
    """
    if road.mean() < min_share:
        return None
    theta = road_direction(road, min_ratio=5.0)
    if theta is None:
        return None
    L = max(3, int(line_m / gsd_m))
    f = max(1, L // 64)  # close on a reduced grid: a 4 m line at 1 cm would be 400 px
    small = cv2.resize(road.astype(np.uint8), None, fx=1 / f, fy=1 / f, interpolation=cv2.INTER_NEAREST)
    n = odd(L / f)
    k = np.zeros((n, n), np.uint8)
    c = n // 2
    dx, dy = np.cos(theta) * c, np.sin(theta) * c
    cv2.line(k, (int(round(c - dx)), int(round(c - dy))), (int(round(c + dx)), int(round(c + dy))), 1, 1)
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, k, borderType=cv2.BORDER_REPLICATE)
    closed = cv2.resize(closed, (road.shape[1], road.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
    near = cv2.distanceTransform((~road).astype(np.uint8), cv2.DIST_L2, 5) <= max_reach_m / gsd_m
    return road | (closed & near)
