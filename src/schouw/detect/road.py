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
from .grid import reduce
from .potholes import detect_potholes
from .ravelling import detect_ravelling
from .road_params import SPEC, RoadParams
from .weeds import detect_weeds

__all__ = [
    "SPEC", "RoadParams", "detect_cracks", "detect_potholes", "detect_ravelling", "detect_road", "detect_weeds",
    "road_direction", "skeleton_length_px",
]


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
) -> list[Defect]:
    """All road detectors on one tile. Pixels claimed by a pothole, weeds or ``exclude`` are not also reported as crack.

    ``green`` is the neighbouring green area (vegetation attached to it is not weeds);
    ``exclude`` marks pixels already explained otherwise (overgrowth); ``crack_model``: the
    learned crack stage (:class:`~schouw.detect.crack_mlp.CrackMLP`) for close-range photos; ``frame``: the tile
    is a whole photo (see :func:`~schouw.detect.potholes.detect_potholes`).
    """
    # Holes and stones are decimetres and centimetres: a grid of about 1 cm sees them (close-range photos are 1-5 mm)
    g = reduce(image, valid, None, gsd_m, p.area_work_gsd_m)
    g_gray = None
    covers: list[tuple[float, float, float]] = []  # (x, y, radius) on the grid g

    def off_covers(found: list[Defect], margin_px: float = 0.0) -> list[Defect]:
        """``found`` (on the grid g) without the candidates that lie on a round cover, whose discs join ``covers``."""
        nonlocal g_gray
        if not found:
            return found
        if g_gray is None:
            g_gray = to_gray(g.image)
        discs = cover_discs(g_gray, found, g.gsd_m, p, margin_px)
        covers.extend(c for c in discs if c is not None)
        return [d for d, c in zip(found, discs) if c is None]

    # a dark cast-iron cover is as dark as a hole, a small valve cover a hole's size (detect.covers)
    potholes = g.up_defects(off_covers(detect_potholes(g.image, g.valid, g.down(area), g.gsd_m, p, frame)))
    attached = green if exclude is None else (exclude if green is None else green | exclude)
    weeds = detect_weeds(image, valid, area, gsd_m, p, attached)
    taken = defects_mask(potholes + weeds, area.shape)
    if exclude is not None:
        taken |= exclude
    if covers:  # a cover is explained: neither its pattern nor its dark disc is anything else
        taken |= g.up(discs_mask(covers, g.image.shape[:2]))
    if taken.any():  # a 3 cm margin; at 2 mm that is a 31 px disk, worth skipping on the usual empty mask
        taken = cv2.dilate(taken.astype(np.uint8), disk(max(1.0, 0.03 / gsd_m))) > 0
    # A ravelled surface is all small dark gaps: its candidates are that texture, not cracks. A cover's raised pattern
    # is as coarse, and the texture window blurs the patch's edge by half a window.
    n_covers = len(covers)
    ravelling = detect_ravelling(g.image, g.valid, g.down(area & ~taken), g.gsd_m, p)
    ravelling = g.up_defects(off_covers(ravelling, p.ravelling_window_m / g.gsd_m / 2))
    if len(covers) > n_covers:
        taken |= g.up(discs_mask(covers[n_covers:], g.image.shape[:2]))
    if ravelling:  # its rim too: the texture window blurs the patch's edge by half a window
        rough = defects_mask(ravelling, area.shape).astype(np.uint8)
        taken |= cv2.dilate(rough, disk(p.ravelling_window_m / gsd_m / 2)) > 0
    cracks = detect_cracks(image, valid, area & ~taken, gsd_m, p, model=crack_model)
    return cracks + potholes + ravelling + weeds
