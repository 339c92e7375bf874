"""Damage that GDAL does not report: DEFLATE blocks whose checksum does not match their data.

Every DEFLATE-compressed block of a GeoTIFF is a zlib stream ending in an Adler-32 checksum of its data.
libtiff stops decoding once a block's pixels are filled and never reads that checksum, so a block damaged
in transfer or on disk is decoded as garbage pixels without a word (a copy of the sample with 5 kB
overwritten read 45 828 wrong pixels silently) and inspected: its false defects would be reported.
This module checks the checksums. DEFLATE is OpenDroneMap's and most GIS tools' default; JPEG damage is
reported by libjpeg and caught by :func:`schouw.orthophoto.refuse_damaged`; LZW and ZSTD (as GDAL writes
it) carry no checksum. What that leaves, measured 2026-12-01 (a throwaway script: 64 bytes flipped at four places
in each of the 48 blocks of a 256 px tiled copy of the sample, one damage per read): GDAL reports 185 of 192
damaged LZW blocks (the refusal above applies) but only 73 of 192 ZSTD blocks, and a full zstd decode of the block
reports no more; DEFLATE's 89 silent ones are what this module catches.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Callable, Iterator

import rasterio
from rasterio.enums import Compression

from .orthophoto import damaged_data, in_rows_columns
from .per_file import Job, PerFile


def _blocks(src: rasterio.DatasetReader) -> Iterator[tuple[int, int, int, int, int]]:
    """(row, column, band, file offset, byte count) of every full-resolution block of ``src``, each stored block
    once (a pixel-interleaved file gives every band the same block)."""
    bh, bw = src.block_shapes[0]
    for r in range((src.height + bh - 1) // bh):
        for c in range((src.width + bw - 1) // bw):
            here: set[int] = set()
            for b in src.indexes:
                off = int(src.get_tag_item(f"BLOCK_OFFSET_{c}_{r}", "TIFF", bidx=b) or 0)
                size = int(src.get_tag_item(f"BLOCK_SIZE_{c}_{r}", "TIFF", bidx=b) or 0)
                if off and size and off not in here:  # a sparse file leaves empty blocks out (offset 0)
                    here.add(off)
                    yield r, c, b, off, size


def intact(data: bytes) -> bool:
    """True if ``data`` is one complete zlib stream whose Adler-32 checksum matches what it decodes to."""
    d = zlib.decompressobj()
    try:
        while data:
            d.decompress(data, 1 << 20)  # at most 1 MB out at a time: a block's size does not set the memory
            data = d.unconsumed_tail
        d.flush()
    except zlib.error:
        return False
    return d.eof


def damaged_blocks(path: str | os.PathLike, beat: Callable[[], None] = lambda: None) -> list[tuple[int, int, int]]:
    """The (block row, block column, band) of every DEFLATE block of ``path`` whose data does not match its
    checksum; [] for an intact file and for any other compression. Reads the whole file once, a block at a time,
    calling ``beat()`` after each."""
    bad = []
    with rasterio.open(path) as src, open(path, "rb") as fh:
        if src.compression != Compression.deflate or src.driver != "GTiff":
            return []
        for r, c, b, off, size in _blocks(src):
            if not intact(os.pread(fh.fileno(), size, off)):
                bad.append((r, c, b))
            beat()
    return bad


def check_blocks(path: str | os.PathLike, beat: Callable[[], None] = lambda: None) -> None:
    """Raise :class:`schouw.errors.OrthophotoError` naming the pixel rows and columns of the first damaged block, and
    how many more there are, if any DEFLATE block of ``path`` fails its checksum (:func:`damaged_blocks`)."""
    bad = damaged_blocks(path, beat)
    if not bad:
        return
    with rasterio.open(path) as src:
        bh, bw = src.block_shapes[0]
    r, c, _ = bad[0]
    more = f" and {len(bad) - 1} more block(s)" if len(bad) > 1 else ""
    where = in_rows_columns(r * bh, (r + 1) * bh, c * bw, (c + 1) * bw) + more
    raise damaged_data(Path(path), where, "a DEFLATE block's checksum does not match its data")


_checking: PerFile[None] = PerFile("block check", check_blocks)


def start_check(path: str | os.PathLike) -> Job[None]:
    """:func:`check_blocks` in a background thread; the job's result is its error, if any (waited for with a
    stall limit by :meth:`schouw.per_file.Job.result`).

    Begun once per unchanged file in a process (:class:`schouw.per_file.PerFile`): the CLI begins it while Prefect
    boots, as it does the file hash, and the flow's call gets the same future. It reads the file once more, at
    about 1.4-1.8 times a plain rasterio read of every window (``benchmarks/bench_integrity.py``), in the cores'
    idle time during the boot, and beside the tile workers after it for a large file.
    """
    return _checking.start(path)
