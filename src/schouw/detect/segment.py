"""Automatic road / green segmentation from colour and texture (used when no AREAS file is given).

Paved surfaces are grey (low saturation); green areas are living vegetation,
plus dry-grass and soil colours only where living vegetation surrounds them
within a few metres: a muddy river, a sand pit or a brown roof is not a lawn
(colour alone cannot tell brown water from dead grass). A field with no living
grass at all is therefore not found without an AREAS file. Labels are smoothed at about half a metre, so a dry
patch inside a lawn stays part of the lawn.
"""

from __future__ import annotations

import cv2
import numpy as np

from .base import chromaticity, odd
from .green import GreenParams, vegetation_classes


def segment_areas(
    image: np.ndarray, valid: np.ndarray, gsd_m: float, scale_m: float = 0.5, context_m: float = 5.0, min_context: float = 0.2
) -> tuple[np.ndarray, np.ndarray]:
    """Return boolean (road, green) masks for an RGB uint8 tile (scales in metres)."""
    cls = vegetation_classes(image, valid, GreenParams())
    r, g, b, bright = chromaticity(image)
    sat = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
    grey = (sat < 0.06) & (bright > 25) & (bright < 235) & valid
    plant = cls["green"] & valid
    bare = (cls["soil"] | cls["dry"]) & valid
    f = max(1, int(round(scale_m / gsd_m / 8)))
    small = lambda m: cv2.resize(m.astype(np.float32), None, fx=1 / f, fy=1 / f, interpolation=cv2.INTER_AREA)
    size = (image.shape[1], image.shape[0])

    def smooth(m: np.ndarray, metres: float) -> np.ndarray:
        k = odd(metres / gsd_m / f)
        return cv2.resize(cv2.GaussianBlur(small(m), (k, k), 0), size, interpolation=cv2.INTER_LINEAR)

    p_b = smooth(grey, scale_m)
    plant_b = smooth(plant, scale_m)
    bare_b = smooth(bare, scale_m)
    context = smooth(plant, context_m)
    g_b = plant_b + np.where(context > min_context, bare_b, 0)
    road = (p_b > g_b) & (p_b > 0.35) & valid
    green_m = (g_b >= p_b) & (g_b > 0.35) & valid
    return road, green_m
