"""Crack pieces along an estimated verge: the automatic segmentation's road edge is no crack (pixel space, pure).

Where no AREAS file says where the road ends, the road/green border is estimated from colour, and at drone resolution
it is only known to about a metre: a soil verge as grey as the road, leaf litter, the shade under a hedge and the
verge's own edge all lie in the road mask there, and their dark lines are found as cracks. On RDD2022's drone photos
(``benchmarks/score_rdd.py``, models/road-classic/NOTEBOOK.md, *Along the verge*) crack pixels within a metre of
the estimated border lie in damage boxes less often than chance puts them there. A road's verge band is judged only
where the road is wide: on a footpath between lawns every crack lies within a metre of the grass.
"""

from __future__ import annotations

import cv2
import numpy as np

from .base import Defect, block_mean, block_up, disk
from .road_params import RoadParams


def verge_band(road: np.ndarray, green: np.ndarray, valid: np.ndarray, gsd_m: float, p: RoadParams = RoadParams()) -> np.ndarray:
    """Road pixels within ``verge_band_m`` of the green area, where the road is at least ``verge_min_road_width_m`` wide
    (bool, the image's grid; all False without green or with the rule off)."""
    band = np.zeros(road.shape, bool)
    off = green & valid & ~road
    if p.verge_band_m <= 0 or not off.any() or not road.any():
        return band
    # judged on cells of a tenth of the band: the band and the width are metres, the verge's edge ragged
    f = max(1, int(p.verge_band_m / 10 / gsd_m))
    cell_m = gsd_m * f
    road_c, off_c = block_mean(road.astype(np.float32), f) >= 0.5, block_mean(off.astype(np.float32), f) > 0
    near = cv2.distanceTransform((~off_c).astype(np.uint8), cv2.DIST_L2, 5) <= p.verge_band_m / cell_m
    # the road where a disk as wide as verge_min_road_width_m fits: a narrow path between lawns is left alone
    wide = cv2.morphologyEx(road_c.astype(np.uint8), cv2.MORPH_OPEN, disk(p.verge_min_road_width_m / 2 / cell_m)) > 0
    return (block_up((near & wide).astype(np.float32), f, road.shape) >= 0.5) & road


def off_verge(cracks: list[Defect], band: np.ndarray, p: RoadParams = RoadParams()) -> list[Defect]:
    """``cracks`` without the pieces that lie at least ``verge_min_share`` in ``band`` (:func:`verge_band`)."""
    if not band.any():
        return cracks
    kept = []
    for d in cracks:
        h, w = d.mask.shape
        if band[d.row0 : d.row0 + h, d.col0 : d.col0 + w][d.mask].mean() < p.verge_min_share:
            kept.append(d)
    return kept
