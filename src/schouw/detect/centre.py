"""A crack's centre line as measured: spurs pruned, its length counted step by step along the chain (pure, pixel space).

Thinning a crack's mask gives a centre line with a spur at every bump of the mask's edge, and an 8-connected line
that turns a corner holds both the two side-by-side steps and the diagonal that cuts it, so counting every pair of
neighbours counts the corner twice. On CrackForest the reported length was 1.2-1.4 times that of the labelled cracks
(the median photo of each half; ``benchmarks/crack_widths.py`` prints it), and since a width is the light a crack
takes out of the road per unit of length (:mod:`.widths`), every width read short by as much. A crack wider than
``2 * WIDE_HALF_PX`` found at a smaller size has a staircase edge, and its thinned mask was a ladder: it is measured on
its mask smoothed. The shape rules of :mod:`.cracks` keep the length they were tuned with; the lengths and widths
reported use this one.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .base import quick_percentile

_SQUARE = np.ones((3, 3), np.uint8)
#: The 8 neighbours of a pixel in order round it (row, col offsets)
_RING = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))
#: Each neighbour's bit in a pixel's neighbourhood code (a correlation kernel: the weight at a neighbour's offset)
_CODE = np.zeros((3, 3), np.float32)
for _bit, (_dy, _dx) in enumerate(_RING):
    _CODE[1 + _dy, 1 + _dx] = 1 << _bit
#: Per neighbourhood code: whether its neighbours lie in at most one run round the pixel (alone, or at an end)
_AT_END = np.array([sum(not (c >> k) & 1 and (c >> ((k + 1) % 8)) & 1 for k in range(8)) <= 1 for c in range(256)])


def _ends(line: np.ndarray) -> np.ndarray:
    """The pixels of a bool line image at an end: alone, or with their neighbours in one run round them. A spur's last
    pixel, which touches three pixels of the line it stands on, is one; a pixel within a line or at a fork is not."""
    code = cv2.filter2D(line.view(np.uint8), -1, _CODE, borderType=cv2.BORDER_CONSTANT)  # 0-255: exact in uint8
    return line & _AT_END[code]


def prune_spurs(line: np.ndarray, spur_px: int) -> np.ndarray:
    """A thinned line (bool) without its end branches of up to ``spur_px`` pixels: that many rounds of taking off its
    end pixels, then the ends left grown back along the line by as many. A line with nothing left after the rounds
    (shorter than twice ``spur_px``) is returned as it is."""
    if spur_px <= 0 or not line.any():
        return line
    core = line.copy()
    for _ in range(spur_px):
        ends = _ends(core)
        if not ends.any():
            break
        core &= ~ends
    if not core.any():
        return line
    front = _ends(core)
    for _ in range(spur_px):
        front = (cv2.dilate(front.view(np.uint8), _SQUARE) > 0) & line & ~core
        if not front.any():
            break
        core |= front
    return core


def chain_length_px(line: np.ndarray) -> float:
    """Length (px) of a thinned line: side-by-side steps count 1, diagonal steps sqrt 2, and a diagonal that cuts a
    corner already made of two side-by-side steps not at all. At least 1 for a line with a pixel, 0 for none."""
    if not line.any():
        return 0.0
    orth = np.count_nonzero(line[:, :-1] & line[:, 1:]) + np.count_nonzero(line[:-1, :] & line[1:, :])
    a, b, c, d = line[:-1, :-1], line[:-1, 1:], line[1:, :-1], line[1:, 1:]
    diag = np.count_nonzero(a & d & ~b & ~c) + np.count_nonzero(b & c & ~a & ~d)
    return max(float(orth + math.sqrt(2) * diag), 1.0)


#: A crack at least twice this wide (px; half its width: the 90th percentile of the distance from its thinned mask to
#: the mask's edge) is measured on its mask smoothed first. A wide crack's mask, decided at a smaller size and scaled
#: back, has a staircase edge, and thinning sent a branch to every step: a ladder of rungs across the crack, longer than
#: the spurs of a thin one. Of CrackForest's cracks none is that wide
WIDE_HALF_PX = 6.0
#: ... smoothed by a Gaussian of this share of its half width (at least a pixel) and cut at 0.5, and its end branches
#: pruned up to its half width and two pixels more
SMOOTH_SHARE = 0.08


def measured_centre_line(line: np.ndarray, mask: np.ndarray) -> tuple[float, np.ndarray]:
    """(length px, centre line) of a crack: its ``mask`` (bool) and that mask thinned (``line``).

    A thin crack: ``line`` without end branches up to its width and a pixel long (the width being the mask's pixels
    over the line's length: a bump of the mask's edge), and the pruned line's chain length. A crack at least
    ``2 * WIDE_HALF_PX`` wide: the same of its mask smoothed and thinned again, pruned by half its width and two
    pixels (see ``WIDE_HALF_PX``)."""
    if not line.any():
        return 0.0, line
    pad = 2
    framed = cv2.copyMakeBorder(mask.view(np.uint8), pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    half = quick_percentile(cv2.distanceTransform(framed, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[pad:-pad, pad:-pad][line], 90)
    if half >= WIDE_HALF_PX:
        sigma = max(1.0, SMOOTH_SHARE * half)
        pad = int(3 * sigma) + 2
        m = cv2.copyMakeBorder(mask.view(np.uint8) * np.float32(1), pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        m = (cv2.GaussianBlur(m, (0, 0), sigma) >= 0.5).view(np.uint8)
        smooth = cv2.ximgproc.thinning(m * np.uint8(255), thinningType=cv2.ximgproc.THINNING_GUOHALL) > 0
        if smooth.any():
            pruned = prune_spurs(smooth, int(math.ceil(half)) + 2)[pad:-pad, pad:-pad]
            return chain_length_px(pruned), pruned
    width_px = np.count_nonzero(mask) / chain_length_px(line)
    pruned = prune_spurs(line, int(math.ceil(max(width_px, 1.0))) + 1)
    return chain_length_px(pruned), pruned
