"""A crack's centre line as measured: spurs pruned, its length counted step by step along the chain (pure, pixel space).

Thinning a crack's mask gives a centre line with a spur at every bump of the mask's edge, and an 8-connected line
that turns a corner holds both the two side-by-side steps and the diagonal that cuts it, so counting every pair of
neighbours counts the corner twice. On CrackForest the reported length was 1.2-1.4 times that of the labelled cracks
(the median photo of each half; ``benchmarks/crack_widths.py`` prints it), and since a width is the light a crack
takes out of the road per unit of length (:mod:`.widths`), every width read short by as much. The shape rules of
:mod:`.cracks` keep the length they were tuned with; the lengths and widths reported use this one.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

_SQUARE = np.ones((3, 3), np.uint8)
#: The 8 neighbours of a pixel in order round it (row, col offsets)
_RING = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))


def _ends(line: np.ndarray) -> np.ndarray:
    """The pixels of a bool line image at an end: alone, or with their neighbours in one run round them. A spur's last
    pixel, which touches three pixels of the line it stands on, is one; a pixel within a line or at a fork is not."""
    p = np.pad(line, 1)
    h, w = line.shape
    ring = [p[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy, dx in _RING]
    runs = sum((~a & b).view(np.uint8) for a, b in zip(ring, ring[1:] + ring[:1]))  # 0 -> 1 steps round the pixel
    return line & (runs <= 1)


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


def measured_centre_line(line: np.ndarray, width_px: float) -> tuple[float, np.ndarray]:
    """(length px, centre line) of a crack whose thinned mask is ``line`` and that is about ``width_px`` wide: the line
    without spurs up to one width and a pixel long (a bump of the mask's edge), and its chain length."""
    pruned = prune_spurs(line, int(math.ceil(max(width_px, 1.0))) + 1)
    return chain_length_px(pruned), pruned
