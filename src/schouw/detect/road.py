"""Road-surface detectors: cracks, potholes, weeds in pavement (pixel space, pure).

All parameters are in metres and converted with ``gsd_m``. The crack detector
adapts to each tile: its threshold is a multiple of the tile's own black-hat
noise level (robust sigma over the road), so camera, exposure and asphalt
texture change the threshold, not the result.
"""

from __future__ import annotations

import cv2
import numpy as np

from .base import Defect, defects_mask, disk, to_gray
from .covers import cover_discs, discs_mask
from .cracks import detect_cracks, road_direction, skeleton_length_px
from .grid import Grid, reduce
from .potholes import detect_potholes
from .ravelling import detect_ravelling
from .road_params import SPEC, RoadParams
from .spalls import detect_spalls
from .verge import off_verge, verge_band
from .weeds import detect_weeds

__all__ = [
    "SPEC", "RoadParams", "detect_cracks", "detect_potholes", "detect_ravelling", "detect_road", "detect_weeds",
    "road_direction", "skeleton_length_px",
]


def _off_covers(found: list[Defect], g: Grid, p: RoadParams, margin_px: float = 0.0) -> tuple[list[Defect], np.ndarray | None]:
    """Candidates ``found`` on the grid ``g`` (potholes, ravelling) without those that lie on a round cover, on the full
    grid; and the discs of those covers on the full grid (None where there is none). ``margin_px``: see
    :func:`~schouw.detect.covers.cover_discs`."""
    if not found:
        return found, None
    discs = cover_discs(to_gray(g.image), found, g.gsd_m, p, margin_px)
    kept = g.up_defects([d for d, c in zip(found, discs) if c is None])
    on = [c for c in discs if c is not None]
    return kept, (g.up(discs_mask(on, g.image.shape[:2])) if on else None)


#: What a pothole, weeds, a cover or an excluded area explains reaches this far (m) beyond its mask: no crack there.
TAKEN_MARGIN_M = 0.03


def _with_margin(mask: np.ndarray, gsd_m: float) -> np.ndarray:
    """``mask`` (bool) grown by ``TAKEN_MARGIN_M``."""
    return cv2.dilate(mask.astype(np.uint8), disk(max(1.0, TAKEN_MARGIN_M / gsd_m))) > 0


def detect_road(
    image: np.ndarray,
    valid: np.ndarray,
    area: np.ndarray,
    gsd_m: float,
    p: RoadParams = RoadParams(),
    green: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    crack_model=None,
    frame: bool = False,
    estimated: bool = False,
) -> list[Defect]:
    """All road detectors on one tile. Pixels claimed by a pothole, weeds or ``exclude`` are not also reported as crack.

    ``green`` is the neighbouring green area (vegetation attached to it is not weeds);
    ``exclude`` marks pixels already explained otherwise (overgrowth); ``crack_model``: the
    learned crack stage (:class:`~schouw.detect.crack_mlp.CrackMLP`) for close-range photos; ``frame``: the tile
    is a whole photo (see :func:`~schouw.detect.potholes.detect_potholes`); ``estimated``: ``area`` and ``green`` come
    from the automatic segmentation, not an AREAS file, so crack pieces along their border are its edge
    (:mod:`~schouw.detect.verge`).
    """
    # Holes and stones are decimetres and centimetres: a grid of about 1 cm sees them (close-range photos are 1-5 mm)
    g = reduce(image, valid, None, gsd_m, p.area_work_gsd_m)
    # a dark cast-iron cover is as dark as a hole, a small valve cover a hole's size (detect.covers)
    potholes, covers = _off_covers(detect_potholes(g.image, g.valid, g.down(area), g.gsd_m, p, frame), g, p)
    attached = green if exclude is None else (exclude if green is None else green | exclude)
    weeds = detect_weeds(image, valid, area, gsd_m, p, attached)
    taken = defects_mask(potholes + weeds, area.shape)
    if exclude is not None:
        taken |= exclude
    if covers is not None:  # a cover is explained: neither its pattern nor its dark disc is anything else
        taken |= covers
    if taken.any():  # at 2 mm the margin is a 31 px disk, worth skipping on the usual empty mask
        taken = _with_margin(taken, gsd_m)
    # A ravelled surface is all small dark gaps: its candidates are that texture, not cracks. A cover's raised pattern
    # is as coarse, and the texture window blurs the patch's edge by half a window.
    ravelling, covers = _off_covers(detect_ravelling(g.image, g.valid, g.down(area & ~taken), g.gsd_m, p), g, p,
                                    p.ravelling_window_m / g.gsd_m / 2)
    if covers is not None:
        taken |= covers
    if ravelling:  # its rim too: the texture window blurs the patch's edge by half a window
        rough = defects_mask(ravelling, area.shape).astype(np.uint8)
        taken |= cv2.dilate(rough, disk(p.ravelling_window_m / gsd_m / 2)) > 0
    cracks = detect_cracks(image, valid, area & ~taken, gsd_m, p, model=crack_model)
    if gsd_m >= p.spall_min_gsd_m and cracks:  # a broken-out patch is known by the cracks round it (detect.spalls)
        spalls = detect_spalls(image, valid & area & ~taken, defects_mask(cracks, area.shape), gsd_m, p)
        if spalls:  # its edge is the hole's, and cracks running on from it are cut at it as at any pothole
            potholes = potholes + spalls
            taken |= _with_margin(defects_mask(spalls, area.shape), gsd_m)
            cracks = detect_cracks(image, valid, area & ~taken, gsd_m, p, model=crack_model)
    if estimated and green is not None and cracks:
        cracks = off_verge(cracks, verge_band(area, green, valid, gsd_m, p), p)
    return cracks + potholes + ravelling + weeds
