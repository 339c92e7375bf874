"""Automatic road / green segmentation from colour and texture (used when no AREAS file is given).

Paved surfaces are grey (low saturation); green areas are living vegetation
or the warm colours of dry grass and soil. Labels are smoothed at a scale of
about half a metre, so a dry patch inside a lawn stays part of the lawn.
"""

from __future__ import annotations

import cv2
import numpy as np

from .base import chromaticity, odd
from .green import GreenParams, vegetation_classes


def segment_areas(image: np.ndarray, valid: np.ndarray, gsd_m: float, scale_m: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Return boolean (road, green) masks for an RGB uint8 tile."""
    cls = vegetation_classes(image, valid, GreenParams())
    r, g, b, bright = chromaticity(image)
    sat = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
    grey = (sat < 0.06) & (bright > 25) & (bright < 235) & valid
    green = (cls["green"] | cls["dry"] | cls["soil"]) & valid
    f = max(1, int(round(scale_m / gsd_m / 8)))
    k = odd(scale_m / gsd_m / f)
    small = lambda m: cv2.resize(m.astype(np.float32), None, fx=1 / f, fy=1 / f, interpolation=cv2.INTER_AREA)
    g_s = cv2.GaussianBlur(small(green), (k, k), 0)
    p_s = cv2.GaussianBlur(small(grey), (k, k), 0)
    size = (image.shape[1], image.shape[0])
    g_b = cv2.resize(g_s, size, interpolation=cv2.INTER_LINEAR)
    p_b = cv2.resize(p_s, size, interpolation=cv2.INTER_LINEAR)
    road = (p_b > g_b) & (p_b > 0.35) & valid
    green_m = (g_b >= p_b) & (g_b > 0.35) & valid
    return road, green_m
