"""Pipeline stages as plain functions; ``flows/`` wires them into Prefect tasks.

Stage by stage: :func:`prepare` (validate inputs, build the tile grid),
:func:`process_tiles` (read each tile's pixels, pick the area masks, run the
detectors, vectorize the core part), :func:`finish` (seam merge into issues).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import rasterio

from . import areas as areas_mod
from .detect import green as green_det
from .detect import road as road_det
from .detect.segment import segment_areas
from .merge import merge_pieces
from .orthophoto import Orthophoto, gdal_env, read_window
from .params import InspectParams
from .tiling import TileSpec, tile_grid
from .vectorize import Piece, defect_to_piece

DETECTOR_VERSIONS = {road_det.SPEC.name: road_det.SPEC.version, green_det.SPEC.name: green_det.SPEC.version}
SPECS = (road_det.SPEC, green_det.SPEC)


def detectors_applied(gsd_m: float) -> dict[str, str]:
    """For each detector: ``applied`` or why not (its resolution range, metres per pixel)."""
    out = {}
    for s in SPECS:
        if s.min_gsd_m <= gsd_m <= s.max_gsd_m:
            out[s.name] = "applied"
        else:
            out[s.name] = f"skipped: GSD {gsd_m:.3f} m outside its range {s.min_gsd_m}-{s.max_gsd_m} m"
    return out


@dataclass
class TileResult:
    """What one batch of tiles found: pieces plus pixel counts of the inspected core areas."""

    pieces: list[Piece] = field(default_factory=list)
    tiles: int = 0
    valid_px: int = 0
    road_px: int = 0
    green_px: int = 0
    seconds: float = 0.0

    def add(self, other: "TileResult") -> None:
        self.pieces.extend(other.pieces)
        for k in ("tiles", "valid_px", "road_px", "green_px", "seconds"):
            setattr(self, k, getattr(self, k) + getattr(other, k))


def make_tiles(ortho: Orthophoto, params: InspectParams) -> list[TileSpec]:
    """The tile grid of ``ortho`` with an overlap of ``params.overlap_m`` (at least ``min_overlap_px``)."""
    return tile_grid(ortho.width, ortho.height, ortho.affine, params.tile_px, params.overlap_px(ortho.gsd_m))


def detect_tile(ortho: Orthophoto, src: rasterio.DatasetReader, spec: TileSpec, areas_path: str | None, params: InspectParams) -> TileResult:
    """Read one tile, run the detectors that apply, and return its core-window pieces."""
    t0 = time.perf_counter()
    px = read_window(ortho, src, spec.window)
    gsd = ortho.gsd_m
    if areas_path:
        masks = areas_mod.rasterize_areas(areas_path, px.valid.shape, spec.affine)
        road, green = masks["road"], masks["green"]
    else:
        road, green = segment_areas(px.rgb, px.valid, gsd)
    road &= px.valid
    green &= px.valid
    defects = []
    applies = detectors_applied(gsd)
    if road.any() and applies[road_det.SPEC.name] == "applied":
        defects += road_det.detect_road(px.rgb, px.valid, road, gsd, params.road_params())
    if green.any() and applies[green_det.SPEC.name] == "applied":
        defects += green_det.detect_green(px.rgb, px.valid, green, gsd, params.green_params())
    pieces = [p for d in defects if (p := defect_to_piece(d, spec)) is not None]
    rs, cs = spec.core_slices()
    return TileResult(
        pieces=pieces,
        tiles=1,
        valid_px=int(px.valid[rs, cs].sum()),
        road_px=int(road[rs, cs].sum()),
        green_px=int(green[rs, cs].sum()),
        seconds=time.perf_counter() - t0,
    )


def process_tiles(
    ortho: Orthophoto,
    specs: list[TileSpec],
    areas_path: str | None,
    params: InspectParams,
    on_tile: Callable[[TileSpec], None] | None = None,
) -> TileResult:
    """Run :func:`detect_tile` over ``specs`` with one open dataset; ``on_tile`` is called after each tile."""
    cv2.setNumThreads(1)  # parallelism comes from running batches side by side; OpenCV releases the GIL
    total = TileResult()
    with gdal_env(), rasterio.open(ortho.path) as src:
        for spec in specs:
            total.add(detect_tile(ortho, src, spec, areas_path, params))
            if on_tile is not None:
                on_tile(spec)
    return total


def finish(ortho: Orthophoto, result: TileResult, flight_key: str, params: InspectParams | None = None):
    """Seam-merge pieces into issues (ids stable for ``flight_key``)."""
    rp = (params or InspectParams()).road_params()
    return merge_pieces(
        result.pieces,
        link_gap_m={"crack": rp.crack_link_gap_m, "weeds_in_pavement": rp.weeds_link_gap_m},
        flight=ortho.name,
        flight_key=flight_key,
        gsd_x_m=ortho.gsd_x_m,
        gsd_y_m=ortho.gsd_y_m,
        transform=ortho.affine,
    )


def prepare_areas(ortho: Orthophoto, areas_file: str | Path | None, work_dir: Path, mapping=None) -> tuple[str | None, dict]:
    """Read and reproject AREAS into ``work_dir``; return (path for tasks, run.json description)."""
    if areas_file is None:
        return None, {"mode": "automatic", "method": "colour/texture segmentation (schouw.detect.segment)"}
    a = areas_mod.read_areas(areas_file, ortho.crs_wkt, ortho.footprint(), mapping)
    path = work_dir / "areas.wkb.pickle"
    areas_mod.save_areas(a, path)
    return str(path), {"mode": "file", "file": str(Path(areas_file).resolve()), "recognised_by": a.recognised_by, "polygons": a.counts()}
