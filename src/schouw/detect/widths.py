"""Crack widths below the pixel (pure: arrays in, numbers out; no I/O, no CRS).

From a drone at 2 cm per pixel most cracks are narrower than a pixel. The pixels that are
clearly darker than the road are then one or two wide whatever the crack's real width, so a
width counted in pixels reads every crack as at least one GSD wide (2.5 cm: M in the severity
table however fine the crack is), and a blurred 1 px crack as three.

What a crack does to the photo at any resolution is take light out of the road. Summed across
the crack, the grey-level deficit (the road's brightness minus the pixel's) is the crack's
width times how much darker its inside is than the road. Averaging pixels (a coarser GSD, or
blur) keeps that sum, so

    width = deficit per unit length / depth of the inside.

The depth is the one seen on the centre line, or ``interior_depth`` of the road's brightness
if that is more. On a crack narrower than its blur the centre line is a blend of crack and
road, so the depth seen there is too shallow; the assumed one is the typical depth of resolved
cracks (``benchmarks/crack_widths.py`` measures it on CrackForest). A crack seen to be darker
is measured with its own depth. The assumption is what makes a subpixel width a width: a faint
wide crack and a dark narrow one take the same light out of the road.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .base import disk, padded, quick_median, quick_percentile


#: How far beyond a crack's mask (px) its deficit is summed: the tails of the blur
TAIL_PX = 2


def _profile(gray: np.ndarray, mask: np.ndarray, skeleton: np.ndarray, row0: int, col0: int, ring_px: float,
             tail_px: float = TAIL_PX, road: np.ndarray | None = None):
    """Round a crack (its mask and centre line, crops at row0, col0): the deficit within ``tail_px`` of its mask
    (float32, 0 elsewhere), the road's brightness there, the centre line and the square (px) both were taken over,
    on a window of ``gray``.

    The road's brightness is the mean of the ring ``ring_px`` wide beyond that, taken locally (along a long crack
    the light may change), over the ``road`` pixels of the ring where that mask (the whole image's) is given: a
    kerb or a verge beside the crack is not the road it darkens.
    """
    pad = int(math.ceil(tail_px + ring_px)) + 1
    crack, win, inner = padded(mask, row0, col0, pad, gray.shape)
    on = np.zeros(crack.shape, bool)
    on[inner] = skeleton
    band = cv2.dilate(crack, disk(tail_px)) > 0
    ring = (cv2.dilate(crack, disk(tail_px + ring_px)) > 0) & ~band
    if road is not None:
        ring &= road[win]
    g = gray[win].astype(np.float32)
    k = (2 * pad + 1, 2 * pad + 1)  # every pixel of the band sees the ring on both sides
    ring_sum = cv2.boxFilter(g * ring, -1, k, normalize=False, borderType=cv2.BORDER_CONSTANT)  # g >= 0: no -0.0
    ring_n = cv2.boxFilter(ring.astype(np.float32), -1, k, normalize=False, borderType=cv2.BORDER_CONSTANT)
    seen = ring_n > 0
    bright = ring_sum / np.maximum(ring_n, np.float32(1.0))
    if not seen.all():
        # where no ring pixel lies within the square (deep inside a wide blob, or a crack whose ring is off the road),
        # the ring's mean as a whole: 0 there made the road black and a max width of metres
        bright[~seen] = float(g[ring].mean()) if ring.any() else float(g[band].max())
    deficit = np.where(band & seen, bright - g, np.float32(0))
    return deficit, bright, on, k


def _ring_px(core_width_px: float) -> float:
    """How wide (px) the ring is whose brightness is the road's: at least 3 px, and half the crack's core more."""
    return max(3.0, core_width_px / 2 + 1.0)


def inside_depth(gray: np.ndarray, mask: np.ndarray, skeleton: np.ndarray, row0: int, col0: int,
                 core_width_px: float) -> float:
    """How much darker than the road a crack's centre line is, as a share of the road's brightness (median along it).

    For a crack wider than its blur this is the depth of its inside (``benchmarks/crack_widths.py``)."""
    deficit, bright, line, _ = _profile(gray, mask, skeleton, row0, col0, _ring_px(core_width_px))
    return quick_median(deficit[line] / np.maximum(bright[line], 1.0))


def crack_width_px(gray: np.ndarray, mask: np.ndarray, skeleton: np.ndarray, row0: int, col0: int, length_px: float,
                   core_width_px: float, interior_depth: float, beyond_px: float = 0.0,
                   road: np.ndarray | None = None) -> tuple[float, float]:
    """Mean and max width (px, may be below 1) of a crack: its ``mask`` and centre line ``skeleton``, crops placed at
    row0, col0 of the whole image ``gray``.

    ``length_px`` is the centre line's length; ``core_width_px`` the width of the pixels clearly darker than the
    road (how far the crack is resolved). The deficit is summed over the mask and ``TAIL_PX`` round it (and
    ``beyond_px`` more where the mask marks only the middle of a wider crack), against the brightness of the ``road``
    pixels round it (:func:`_profile`), per unit of the length it spans: the centre line's, and the core's width
    that the mask reaches beyond the centre line's ends. The max is the 95th percentile of the width over short
    stretches along the line.
    """
    if not skeleton.any() or length_px <= 0:
        return 0.0, 0.0
    # the road lies beyond half the crack's width: of its core (the pixels clearly darker), or of its mask where that is
    # wider (a crack too wide for the black-hat, found whole by the learned stage at a smaller size)
    ring_px = _ring_px(max(core_width_px, float(np.count_nonzero(mask)) / length_px))
    deficit, bright, line, k = _profile(gray, mask, skeleton, row0, col0, ring_px, TAIL_PX + beyond_px, road)
    road_line = quick_median(bright[line])
    seen = quick_median(deficit[line])
    depth = max(seen, interior_depth * road_line, 1.0)
    mean_px = max(float(deficit.sum()) / (length_px + core_width_px) / depth, 0.0)
    # along the line: the deficit and the centre-line pixels within the same square round each of its pixels, over
    # the depth there (as a share of the road's brightness, the depth follows the light)
    sums = cv2.boxFilter(deficit, -1, k, normalize=False, borderType=cv2.BORDER_CONSTANT)[line]
    steps = cv2.boxFilter(line.astype(np.float32), -1, k, normalize=False, borderType=cv2.BORDER_CONSTANT)[line]
    steps *= length_px / np.count_nonzero(line)  # a diagonal step is longer than a pixel
    local = depth / max(road_line, 1.0) * np.maximum(bright[line], 1.0)
    max_px = max(quick_percentile(sums / steps / local, 95), mean_px)
    return mean_px, max_px
