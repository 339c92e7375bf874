"""Broken-out patches: potholes where the top layer has gone (pixel space, pure).

From a drone most potholes on RDD2022 are not dark bowls. The wearing course has broken out and the lighter base
course shows: a pale, compact patch whose broken edge (a step, and its shadow) the crack detector finds as cracks
round it. Paint, litter and leaves are pale patches too, but whiter, more mottled or more coloured than base course.
"""

from __future__ import annotations

import cv2
import numpy as np

from .alligator import direction_coherence
from .base import Defect, components, disk, padded, tighten, to_gray
from .potholes import road_background, round_as_cover
from .road_params import RoadParams

#: Local road brightness is judged over this radius (m): a patch of up to a few square metres stands out of it.
BACKGROUND_M = 0.75
#: Specks under this radius (m) are opened away from the pale mask, and gaps under this radius (m) closed.
OPEN_M, CLOSE_M = 0.02, 0.0375


def _filled(mask: np.ndarray) -> np.ndarray:
    """``mask`` (uint8 0/1) with its holes filled, as bool."""
    cnts, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return cv2.drawContours(np.zeros_like(mask), cnts, -1, 1, cv2.FILLED) > 0


def detect_spalls(image: np.ndarray, region: np.ndarray, cracks: np.ndarray, gsd_m: float,
                  p: RoadParams = RoadParams()) -> list[Defect]:
    """Pale patches of ``spall_min_area_m2``–``spall_max_area_m2`` in ``region`` (bool: road to look in), with at least
    ``spall_min_rim_crack`` of the road round them (a band of ``spall_rim_m``) on ``cracks`` (bool: crack pixels found),
    as ``pothole`` defects: the patch (holes filled) and the crack pixels of its edge.

    A patch is at least ``spall_paleness`` times the local road brightness (grey levels on the photo median-filtered
    over 3 px, against their local mean over ``BACKGROUND_M``). It is not one when it is compact in name
    only (longer than ``spall_max_aspect`` times its width: a lane line), paint (its brightest tenth above
    ``spall_max_paleness`` times the road), coloured (mean HSV saturation above ``spall_max_saturation`` of 255:
    leaves, soil, yellow paint), mottled (grey-level spread above ``spall_max_texture`` of the road brightness:
    litter, shadows of objects), square (its outline following one square grid more than
    ``spall_max_square_coherence``: a pale paving tile or slab with its joints round it) or round
    (:func:`~.potholes.round_as_cover` with ``manhole_min_fill``, up to ``manhole_ring_max_diameter_m``: a pale cover's
    lid whose gap ring is found in part).
    """
    if np.count_nonzero(region) < 100 or not cracks.any():
        return []
    gray = cv2.medianBlur(to_gray(image), 3).astype(np.float32)  # sensor noise and single stones are no patch
    bg = road_background(gray, region, BACKGROUND_M / gsd_m)
    ratio = gray / np.maximum(bg, 1.0)
    pale = ((ratio > p.spall_paleness) & region).astype(np.uint8)
    pale = cv2.morphologyEx(pale, cv2.MORPH_OPEN, disk(max(1.0, OPEN_M / gsd_m)))
    pale = cv2.morphologyEx(pale, cv2.MORPH_CLOSE, disk(max(1.0, CLOSE_M / gsd_m))) > 0
    pale &= region
    rim_px = max(1.0, p.spall_rim_m / gsd_m)
    max_px = p.spall_max_area_m2 / gsd_m**2
    out: list[Defect] = []
    for crop, r0, c0, area_px in components(pale, min_area_px=int(p.spall_min_area_m2 / gsd_m**2)):
        if area_px > max_px:
            continue
        cnts, _ = cv2.findContours(crop.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        (_, _), (w_r, h_r), _ = cv2.minAreaRect(max(cnts, key=cv2.contourArea))
        if max(w_r, h_r) > p.spall_max_aspect * max(min(w_r, h_r), 1.0):
            continue
        win, img, _ = padded(crop, r0, c0, int(np.ceil(rim_px)) + 1, pale.shape)
        patch = _filled(win)  # its darker stones are in the hole too
        rim = (cv2.dilate(win, disk(rim_px)) > 0) & ~patch & region[img]
        if np.count_nonzero(rim) < 10:
            continue
        rim_crack = float(cracks[img][rim].mean())
        if rim_crack < p.spall_min_rim_crack:
            continue
        seen = win > 0  # the pale pixels themselves
        g, b = gray[img][seen], bg[img][seen]
        if np.percentile(ratio[img][seen], 90) > p.spall_max_paleness:
            continue  # paint: far whiter than base course
        if float(cv2.cvtColor(image[img], cv2.COLOR_RGB2HSV)[..., 1][seen].mean()) > p.spall_max_saturation:
            continue  # leaves, soil, yellow paint
        if float(g.std()) > p.spall_max_texture * float(b.mean()):
            continue  # litter, an object and its shadow
        edge = rim & cracks[img]  # the broken edge belongs to the hole
        mask = _filled((patch | edge).astype(np.uint8))
        if direction_coherence(mask, fold=4) > p.spall_max_square_coherence:
            continue  # a pale tile or slab, its joints round it: a broken edge is not square
        cnts, _ = cv2.findContours(mask.view(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        outline, lid_m = max(cnts, key=cv2.contourArea), p.manhole_ring_max_diameter_m
        if round_as_cover(outline, np.count_nonzero(mask), gsd_m, p.manhole_min_fill, 0.0, lid_m):
            continue  # a pale cover's lid in its gap ring (found in part): a broken edge is not round either
        mask, row0, col0 = tighten(mask, img[0].start, img[1].start)
        score = float(np.clip(0.4 + rim_crack, 0.05, 1.0))
        out.append(Defect("pothole", mask, row0, col0, score, None, {"rim_crack_share": rim_crack}))
    return out
