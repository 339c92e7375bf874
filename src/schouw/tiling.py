"""The tile grid: windows with overlap, each owning only its core window.

Why overlap: a detector looks at a neighbourhood (a black-hat kernel, a
smoothing radius). Near a tile edge that neighbourhood is cut off, so every
tile is read with ``overlap_px`` of context on each side, but keeps only
detections inside its *core window*. Core windows partition the raster: every
pixel belongs to exactly one core, so nothing is lost or counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from affine import Affine
from rasterio import windows
from rasterio.windows import Window


@dataclass(frozen=True)
class TileSpec:
    """One tile. Windows are in pixels of the full raster; ``transform`` maps the tile's own pixels to map coordinates."""

    tile_id: str
    col_off: int
    row_off: int
    width: int
    height: int
    core_col_off: int
    core_row_off: int
    core_width: int
    core_height: int
    transform: tuple[float, float, float, float, float, float]

    @property
    def window(self) -> Window:
        return Window(self.col_off, self.row_off, self.width, self.height)

    @property
    def core_window(self) -> Window:
        return Window(self.core_col_off, self.core_row_off, self.core_width, self.core_height)

    @property
    def affine(self) -> Affine:
        return Affine(*self.transform)

    def core_slices(self) -> tuple[slice, slice]:
        """Row and column slices of the core window within the tile's own array."""
        r0 = self.core_row_off - self.row_off
        c0 = self.core_col_off - self.col_off
        return slice(r0, r0 + self.core_height), slice(c0, c0 + self.core_width)


def tile_grid(width: int, height: int, transform: Affine, tile_px: int = 1024, overlap_px: int = 64) -> list[TileSpec]:
    """Cover a ``width`` x ``height`` raster with core windows of ``tile_px``, each read with ``overlap_px`` context."""
    if tile_px < 16:
        raise ValueError(f"tile size {tile_px} px is too small; expected at least 16 px")
    if overlap_px < 0:
        raise ValueError(f"overlap {overlap_px} px is negative; expected >= 0")
    specs: list[TileSpec] = []
    for row in range(0, height, tile_px):
        for col in range(0, width, tile_px):
            cw, ch = min(tile_px, width - col), min(tile_px, height - row)
            c0, r0 = max(0, col - overlap_px), max(0, row - overlap_px)
            c1, r1 = min(width, col + cw + overlap_px), min(height, row + ch + overlap_px)
            win = Window(c0, r0, c1 - c0, r1 - r0)
            specs.append(
                TileSpec(
                    tile_id=f"r{row // tile_px:05d}c{col // tile_px:05d}",
                    col_off=c0,
                    row_off=r0,
                    width=c1 - c0,
                    height=r1 - r0,
                    core_col_off=col,
                    core_row_off=row,
                    core_width=cw,
                    core_height=ch,
                    transform=tuple(windows.transform(win, transform))[:6],
                )
            )
    return specs


def batched(specs: list[TileSpec], n_batches: int) -> list[list[TileSpec]]:
    """Split tiles into at most ``n_batches`` contiguous batches (one Prefect task each)."""
    n_batches = max(1, min(n_batches, len(specs)))
    size = -(-len(specs) // n_batches)
    return [specs[i : i + size] for i in range(0, len(specs), size)]


def block_order(specs: list[TileSpec], block_tiles: int = 4) -> list[TileSpec]:
    """``specs`` reordered into squares of ``block_tiles`` x ``block_tiles`` tiles, row by row inside each square.

    Why: neighbouring tiles overlap and share image blocks. Handed out square by square (and a
    worker taking consecutive tiles of one square), a tile finds most of its blocks still in the
    worker's GDAL cache; in plain row order two workers would alternate and decode most blocks twice.
    """
    rows = {r: i for i, r in enumerate(sorted({s.core_row_off for s in specs}))}
    cols = {c: i for i, c in enumerate(sorted({s.core_col_off for s in specs}))}

    def key(s: TileSpec) -> tuple[int, int, int, int]:
        r, c = rows[s.core_row_off], cols[s.core_col_off]
        return r // block_tiles, c // block_tiles, r, c

    return sorted(specs, key=key)
