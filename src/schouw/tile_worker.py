"""What runs inside a :mod:`schouw.tile_pool` worker process: tiles in, their results saved, a summary out."""

from __future__ import annotations

import os

import cv2
import rasterio

from .heap import keep_heap
from .lifetime import exit_when_dead
from .orthophoto import Orthophoto, gdal_env
from .params import InspectParams
from .pipeline import TileResult, detect_and_store
from .tile_pool import beat
from .tiling import TileSpec

#: GDAL block cache of one worker (bytes): the blocks of a run of neighbouring tiles, not the 128 MB of a whole process.
WORKER_GDAL_CACHE_BYTES = 64 * 1024 * 1024

_open: dict[tuple, rasterio.DatasetReader] = {}


def init(owner_pid: int) -> None:
    """Once per worker: exit with the pool's owner, one OpenCV thread (the pool is the parallelism), a capped GDAL cache."""
    exit_when_dead(owner_pid)  # the parent is the forkserver, which outlives a killed owner while workers hold its pipe
    keep_heap()
    cv2.setNumThreads(1)
    gdal_env(GDAL_CACHEMAX=WORKER_GDAL_CACHE_BYTES).__enter__()  # for the life of the worker process


def _dataset(path: str) -> rasterio.DatasetReader:
    """The worker's open dataset for ``path`` (kept between tiles: neighbouring tiles share blocks)."""
    st = os.stat(path)
    key = (path, st.st_mtime_ns, st.st_size)
    src = _open.get(key)
    if src is None:
        for old in _open.values():
            old.close()
        _open.clear()
        src = _open[key] = rasterio.open(path)
    return src


def run_tiles(ortho: Orthophoto, specs: list[TileSpec], areas_path: str | None, params: InspectParams, store) -> TileResult:
    """Detect on each tile of ``specs``, save each full result to ``store``; return them summed, without defect pieces."""
    total = TileResult()
    for spec in specs:
        total.add(detect_and_store(ortho, _dataset(ortho.path), spec, areas_path, params, store))
        beat()  # the pool's stall watch sees each tile, not only each run
    return total
