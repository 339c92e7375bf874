"""A coarser working grid for detectors that judge areas, not lines (pure, pixel space).

Dry grass, bare soil, overgrowth, potholes and the road/green segmentation are
decided at a scale of decimetres: on a 1–2 cm orthophoto they need not look at
every pixel. Cracks do (a crack is one or two pixels wide) and stay on the full
grid. :func:`reduce` block-averages a tile by an integer factor; :meth:`Grid.up`
and :meth:`Grid.up_defects` bring masks and defects back to the tile's own
pixels with smooth (bilinear, half-way) edges, not blocky staircases.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from .base import Defect, block_mean, block_up, tighten


@dataclass(frozen=True)
class Grid:
    """A tile seen at ``1/f`` of its resolution; ``shape`` is the full tile's (rows, cols)."""

    f: int
    shape: tuple[int, int]
    image: np.ndarray
    valid: np.ndarray
    nir: np.ndarray | None
    gsd_m: float

    def down(self, mask: np.ndarray) -> np.ndarray:
        """A full-grid boolean mask on this grid (a cell is True when at least half of it is)."""
        if self.f == 1:
            return mask
        return block_mean(mask.astype(np.uint8) * 255, self.f) >= 128

    def up(self, mask: np.ndarray) -> np.ndarray:
        """A boolean mask of this grid on the full grid: bilinear, cut half way (smooth edges)."""
        if self.f == 1:
            return mask
        return block_up(mask.astype(np.float32), self.f, self.shape) >= 0.5

    def up_defects(self, defects: list[Defect]) -> list[Defect]:
        """Defects found on this grid, with masks, origins and ``*_px`` measures on the full grid."""
        if self.f == 1:
            return defects
        f, (H, W) = self.f, self.shape
        out = []
        for d in defects:
            h, w = d.mask.shape
            padded = np.pad(d.mask.astype(np.float32), 1)
            big = cv2.resize(padded, ((w + 2) * f, (h + 2) * f), interpolation=cv2.INTER_LINEAR) >= 0.5
            r0, c0 = (d.row0 - 1) * f, (d.col0 - 1) * f
            # clip to the tile
            top, left = max(0, -r0), max(0, -c0)
            big = big[top : max(top, H - r0), left : max(left, W - c0)]
            mask, r0, c0 = tighten(big, r0 + top, c0 + left)
            if not mask.any():
                continue
            extra = {k: (v * f if k.endswith("_px") else v) for k, v in d.extra.items()}
            out.append(replace(d, mask=mask, row0=r0, col0=c0, extra=extra))
        return out


def reduce(image: np.ndarray, valid: np.ndarray, nir: np.ndarray | None, gsd_m: float, work_gsd_m: float) -> Grid:
    """The tile on a grid of about ``work_gsd_m`` (metres per pixel), by an integer factor; never finer than it is.

    A coarse cell is valid only when all of its pixels are (no-data must not tint the colours).
    """
    f = max(1, int(work_gsd_m / gsd_m + 0.01))  # 1.9999 (a GSD a hair over 2 cm) counts as 2
    if f == 1:
        return Grid(1, valid.shape, image, valid, nir, gsd_m)
    small = block_mean(image, f)
    v = block_mean(valid.astype(np.uint8) * 255, f) == 255
    n = block_mean(nir, f) if nir is not None else None
    return Grid(f, valid.shape, small, v, n, gsd_m * f)
