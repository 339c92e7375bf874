"""Pipeline stages as plain functions; ``flows/`` wires them into Prefect tasks.

Stage by stage: :func:`prepare` (validate inputs, build the tile grid),
:func:`process_tiles` (read each tile's pixels, pick the area masks, run the
detectors, vectorize the core part), :func:`finish` (seam merge into issues).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import rasterio
import shapely

from . import areas as areas_mod
from .detect import green as green_det
from .detect import road as road_det
from .detect.segment import segment_areas
from .heap import keep_heap
from .merge import SeamMerger, merge_areas
from .quality import AreaTally
from .orthophoto import Orthophoto, gdal_env, read_window
from .params import InspectParams
from .preview import thumbnail
from .tiling import TileSpec, tile_grid
from .detect.base import defects_mask
from .vectorize import Piece, area_to_pieces, defect_to_piece, to_map

DETECTOR_VERSIONS = {road_det.SPEC.name: road_det.SPEC.version, green_det.SPEC.name: green_det.SPEC.version}
SPECS = (road_det.SPEC, green_det.SPEC)
#: Most consecutive tiles handed to a pool worker at once (neighbours share image blocks).
POOL_RUN_TILES = 16
#: Automatic areas smaller than this (m2) are not reported as areas of their own (their issues still are).
MIN_AUTO_AREA_M2 = 4.0


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
    area_pieces: list[Piece] = field(default_factory=list)
    tiles: int = 0
    valid_px: int = 0
    road_px: int = 0
    green_px: int = 0
    seconds: float = 0.0
    resumed_tiles: int = 0  # loaded from checkpoints of an interrupted run, not recomputed
    thumbs: list = field(default_factory=list)  # preview pixels of each tile's core (preview.thumbnail)

    def without_pieces(self) -> "TileResult":
        """This result without its defect pieces (they stay in the checkpoint store until publishing).

        What is left is small whatever the flight's size: counts, the thumbnails (together no
        bigger than the preview) and the coarse automatic area pieces.
        """
        return TileResult(area_pieces=self.area_pieces, thumbs=self.thumbs, tiles=self.tiles, valid_px=self.valid_px,
                          road_px=self.road_px, green_px=self.green_px, seconds=self.seconds, resumed_tiles=self.resumed_tiles)

    def add(self, other: "TileResult") -> None:
        self.pieces.extend(other.pieces)
        self.area_pieces.extend(other.area_pieces)
        self.thumbs.extend(other.thumbs)
        for k in ("tiles", "valid_px", "road_px", "green_px", "seconds", "resumed_tiles"):
            setattr(self, k, getattr(self, k) + getattr(other, k))


def make_tiles(ortho: Orthophoto, params: InspectParams) -> list[TileSpec]:
    """The tile grid of ``ortho`` with an overlap of ``params.overlap_m`` (at least ``min_overlap_px``)."""
    return tile_grid(ortho.width, ortho.height, ortho.affine, params.tile_px, params.overlap_px(ortho.gsd_m))


def detect_tile(ortho: Orthophoto, src: rasterio.DatasetReader, spec: TileSpec, areas_path: str | None, params: InspectParams) -> TileResult:
    """Read one tile, run the detectors that apply, and return its core-window pieces."""
    t0 = time.perf_counter()
    px = read_window(ortho, src, spec.window)
    gsd = ortho.gsd_m
    gp = params.green_params()
    if areas_path:
        masks = areas_mod.rasterize_areas(areas_path, px.valid.shape, spec.affine)
        road, green = masks["road"] & px.valid, masks["green"] & px.valid
        road_ref, green_ref, green_big = road, green, green
        area_pieces: list[Piece] = []
    else:
        seg = segment_areas(px.rgb, px.valid, gsd, px.nir, work_gsd_m=gp.work_gsd_m)
        road, green, road_ref, green_ref = seg["road"], seg["green"], seg["road_ref"], seg["green_ref"]
        green_big = seg["green_coarse"] | green_ref
        area_pieces = area_to_pieces({"road": road, "green": green}, spec, gsd)
    defects = []
    applies = detectors_applied(gsd)
    over: list = []
    if green_ref.any() and road_ref.any() and applies[green_det.SPEC.name] == "applied":
        over = green_det.detect_overgrowth(px.rgb, px.valid, road_ref, green_ref, gsd, gp, px.nir)
    if road.any() and applies[road_det.SPEC.name] == "applied":
        explained = defects_mask(over, road.shape)
        defects += road_det.detect_road(px.rgb, px.valid, road, gsd, params.road_params(), green_big, explained,
                                        estimated=not areas_path)
    if green.any() and applies[green_det.SPEC.name] == "applied":
        defects += green_det.detect_green(px.rgb, px.valid, green, gsd, gp, px.nir)
    defects += over
    pieces = [p for d in defects if (p := defect_to_piece(d, spec)) is not None]
    rs, cs = spec.core_slices()
    thumb = thumbnail(px.rgb, px.valid, spec, ortho.width, ortho.height)
    return TileResult(
        thumbs=[thumb] if thumb is not None else [],
        pieces=pieces,
        area_pieces=area_pieces,
        tiles=1,
        valid_px=np.count_nonzero(px.valid[rs, cs]),
        road_px=np.count_nonzero(road[rs, cs]),
        green_px=np.count_nonzero(green[rs, cs]),
        seconds=time.perf_counter() - t0,
    )


def process_tiles(
    ortho: Orthophoto,
    specs: list[TileSpec],
    areas_path: str | None,
    params: InspectParams,
    on_tile: Callable[[TileSpec], None] | None = None,
    store=None,
    pool=None,
    stall_s: float | None = None,
) -> TileResult:
    """Run :func:`detect_tile` over ``specs``; ``on_tile`` is called after each tile.

    ``store`` (optional, a :class:`schouw.checkpoint.Checkpoints`) keeps each tile's result,
    so an interrupted run recomputes only the tiles it had not finished; with a store the
    return value leaves the defect pieces out (:meth:`TileResult.without_pieces`) and
    :func:`publish_stream` reads them back. ``pool`` (a :class:`schouw.tile_pool.TilePool`,
    needs ``store``) runs the tiles in its worker processes instead of this thread; when none of its work finishes
    for ``stall_s`` seconds (default ``tile_pool.STALL_S``) the run stops with :class:`schouw.errors.StallError`.
    """
    total = TileResult()
    todo = []
    for spec in specs:
        done = store.load(spec.tile_id) if store is not None else None
        if done is None:
            todo.append(spec)
            continue
        done.resumed_tiles = done.tiles
        total.add(done.without_pieces())
        if on_tile is not None:
            on_tile(spec)
    if pool is not None and store is not None:
        from .tile_pool import STALL_S
        from .tile_worker import run_tiles

        # runs of consecutive tiles per job (neighbours, in tiling.block_order): blocks they share are decoded once
        n = max(1, min(POOL_RUN_TILES, len(todo) // (2 * pool.workers)))
        runs = [todo[i : i + n] for i in range(0, len(todo), n)]
        futures = {pool.submit(run_tiles, ortho, run, areas_path, params, store): run for run in runs}
        try:
            for f in pool.as_completed(futures, stall_s or STALL_S):
                total.add(f.result())
                for spec in futures[f] if on_tile is not None else ():
                    on_tile(spec)
        finally:
            for f in futures:
                f.cancel()
        return total
    cv2.setNumThreads(1)  # parallelism comes from running batches side by side; OpenCV releases the GIL
    keep_heap()
    with gdal_env(), rasterio.open(ortho.path) as src:
        for spec in todo:
            total.add(detect_and_store(ortho, src, spec, areas_path, params, store))
            if on_tile is not None:
                on_tile(spec)
    return total


def detect_and_store(ortho: Orthophoto, src: rasterio.DatasetReader, spec: TileSpec, areas_path: str | None, params: InspectParams,
                     store=None) -> TileResult:
    """:func:`detect_tile`; with a ``store``, the full result is saved there and returned without its pieces."""
    done = detect_tile(ortho, src, spec, areas_path, params)
    if store is None:
        return done
    store.save(spec.tile_id, done)
    return done.without_pieces()


def finish(ortho: Orthophoto, result: TileResult, flight_key: str, params: InspectParams | None = None, areas_path: str | None = None):
    """Seam-merge pieces into issues (ids stable for ``flight_key``) and measure each road/green area.

    Returns ``(issues, area_records)``. Green issues get their severity raised by the
    share of their green area they cover. For results held in memory; a flight run
    streams instead (:func:`publish_stream`).
    """
    tally = area_tally(ortho, areas_path, result.area_pieces)
    issues = seam_merger(ortho, flight_key, params).add(result.pieces, None)
    _measured(issues, tally)
    return issues, tally.records


def _measured(issues: list, tally: AreaTally) -> list:
    """Count ``issues`` into their areas (raising green severities by share), then drop their pixel geometry."""
    tally.add(issues)
    for i in issues:  # pixel geometry served the per-area shares; the outputs need the map geometry only
        i.geometry_px = None
    return issues


def area_tally(ortho: Orthophoto, areas_path: str | None, area_pieces: list[Piece]) -> AreaTally:
    """The road/green areas of the flight, ready to count issues into: the areas file's polygons,
    else the automatic area pieces merged (in tile order, so reruns give the same polygons)."""
    if areas_path:
        inv = ~ortho.affine
        polys = {k: [(name, to_map(g, inv)) for name, g in v] for k, v in areas_mod.load_area_polygons(areas_path).items()}
    else:
        pieces = sorted(area_pieces, key=lambda p: p.tile_id)
        polys = merge_areas(pieces, min_area_px=MIN_AUTO_AREA_M2 / ortho.pixel_area_m2)
    return AreaTally(polys, shapely.box(0, 0, ortho.width, ortho.height), ortho.pixel_area_m2)


def publish_stream(ortho: Orthophoto, store, specs: list[TileSpec], summary: TileResult, flight_key: str,
                   params: InspectParams, areas_path: str | None, out) -> list:
    """Seam-merge the stored tile results into issues row of tiles by row, feeding them to ``out``.

    ``store``: the run's :class:`schouw.checkpoint.Checkpoints`; ``specs`` in grid order;
    ``summary``: what :func:`process_tiles` returned for them (thumbnails, area pieces, counts);
    ``out``: a :class:`schouw.publish.Outputs`. Each tile's checkpoint is read once. Memory
    holds the preview, the (coarse) area polygons and about one row of tiles' pieces, not the
    flight's issues. Returns the area records.
    """
    out.add_thumbs(summary.thumbs)
    tally = area_tally(ortho, areas_path, summary.area_pieces)
    merger = seam_merger(ortho, flight_key, params)
    rows: dict[int, list[TileSpec]] = {}
    for spec in specs:
        rows.setdefault(spec.core_row_off, []).append(spec)
    for row in rows.values():
        pieces = [p for spec in row for p in _stored(store, spec).pieces]
        out.add(_measured(merger.add(pieces, done_above_px=row[0].core_row_off + row[0].core_height), tally))
    out.add(_measured(merger.close(), tally))
    return tally.records


def _stored(store, spec: TileSpec) -> TileResult:
    r = store.load(spec.tile_id)
    if r is None:
        raise RuntimeError(f"tile {spec.tile_id} has no saved result in {store.dir}; rerun to compute it")
    return r


def seam_merger(ortho: Orthophoto, flight_key: str, params: InspectParams | None = None) -> SeamMerger:
    """The seam merger for one flight: link gaps from the road parameters, placed by the orthophoto's Affine."""
    rp = (params or InspectParams()).road_params()
    return SeamMerger(
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
        return None, {"mode": "automatic", "method": "colour segmentation (schouw.detect.segment)"}
    a = areas_mod.read_areas(areas_file, ortho.crs_wkt, ortho.footprint(), mapping)
    path = work_dir / "areas.wkb.pickle"
    areas_mod.save_areas(a, path)
    return str(path), {"mode": "file", "file": str(Path(areas_file).resolve()), "recognised_by": a.recognised_by, "polygons": a.counts()}
