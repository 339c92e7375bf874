"""Weeds in pavement: green clumps on paving, not the lawn's edge (pixel space, pure)."""

from __future__ import annotations

import cv2
import numpy as np

from .base import Defect, chromaticity, components, disk
from .road_params import RoadParams


#: Excess green is judged in float32 chromaticities: a pixel whose exact (2 - e) G - (1 + e) (R + B) is below this
#: (grey levels) cannot come out above e there (their rounding moves it by less than 0.002)
EXG_ROUNDING_MARGIN = 0.01


def could_be_green(blurred: np.ndarray, exg_min: float) -> bool:
    """False only if no pixel of the uint8 RGB ``blurred`` can have an excess green (2g - r - b) above ``exg_min``.

    2g - r - b > e is ``(2 - e) G - (1 + e) (R + B) > 0``, linear in the channels: one float
    channel and its maximum instead of the chromaticity planes. On grey paving, most photos,
    that is all the weed detector does after its blur.
    """
    e = exg_min
    lin = cv2.transform(blurred.astype(np.float32), np.array([[-(1 + e), 2 - e, -(1 + e)]], np.float32))
    return float(lin.max()) > -EXG_ROUNDING_MARGIN


def green_cast(blurred: np.ndarray, region: np.ndarray) -> tuple[float, float, float]:
    """The road's own green colour cast (white balance, exposure): excess green 2g - r - b, g - r and g - b in
    chromaticity that three quarters of the ``region``'s pixels of the uint8 RGB ``blurred`` exceed, each at least 0.

    Grey paving has none, and keeps the fixed thresholds; on a greenish photo weeds must stand out from the road.
    Judged on every 8th pixel each way (a cast is everywhere), unless that leaves under 100 pixels of the region.
    """
    inside = region[::8, ::8]
    px = (blurred[::8, ::8][inside] if np.count_nonzero(inside) >= 100 else blurred[region]).astype(np.float32)
    r, g, b = (px / (px.sum(1, keepdims=True) + np.float32(1e-3))).T  # chromaticity, as chromaticity() has it
    k = len(px) // 4  # the lower quartile (no interpolation: a partition, not a sort)
    q = np.partition(np.stack([2 * g - r - b, g - r, g - b]), k, axis=1)[:, k]
    return tuple(max(0.0, float(v)) for v in q)


def detect_weeds(
    image: np.ndarray, valid: np.ndarray, area: np.ndarray, gsd_m: float, p: RoadParams = RoadParams(), green: np.ndarray | None = None
) -> list[Defect]:
    """Green vegetation on paving (excess-green index), clumps closer than 10 cm joined.

    Clumps touching the ``green`` area are the lawn's edge or overgrowth, not weeds in the pavement.
    """
    region = valid & area
    if np.count_nonzero(region) < 100:
        return []
    # Colour judged over about 5 mm (at least 0.7 px): sensor colour noise on grey paving is not green
    blurred = cv2.GaussianBlur(image, (0, 0), max(0.7, p.weeds_colour_scale_m / gsd_m))
    cast_exg, cast_gr, cast_gb = green_cast(blurred, region)
    if not could_be_green(blurred, p.weeds_exg + cast_exg):
        return []
    r, g, b, bright = chromaticity(blurred)
    exg = 2 * g - r - b
    veg = (exg > p.weeds_exg + cast_exg) & (g > r + 0.02 + cast_gr) & (g > b + 0.02 + cast_gb) & (bright > 35) & region
    if not veg.any():  # most road photos: no closing and linking of an empty mask at close range (disks of 15-25 px)
        return []
    veg = cv2.morphologyEx(veg.astype(np.uint8), cv2.MORPH_CLOSE, disk(max(1.0, 0.03 / gsd_m))) > 0
    veg &= region
    linked = cv2.dilate(veg.astype(np.uint8), disk(max(1.0, p.weeds_link_gap_m / gsd_m / 2)))
    min_px = max(4, int(p.weeds_min_area_m2 / gsd_m**2))
    near_green = None
    if green is not None and green.any():
        near_green = cv2.dilate(green.astype(np.uint8), disk(1.5)) > 0
    out: list[Defect] = []
    for crop, r0, c0, _ in components(linked):
        h, w = crop.shape
        crop = crop & veg[r0 : r0 + h, c0 : c0 + w]
        if np.count_nonzero(crop) < min_px:
            continue
        if near_green is not None and (near_green[r0 : r0 + h, c0 : c0 + w] & crop).any():
            continue
        m = float(exg[r0 : r0 + h, c0 : c0 + w][crop].mean())
        out.append(Defect("weeds_in_pavement", crop, r0, c0, float(np.clip(0.4 + 4 * (m - p.weeds_exg), 0.05, 1.0))))
    return out
