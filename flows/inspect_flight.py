"""The ``inspect_flight`` flow: one orthophoto in, georeferenced issue layers out.

Tasks receive tile specs and read their own pixels; tiles are batched so a
flight of thousands of tiles is a few dozen task runs, not thousands.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.futures import wait
from prefect.task_runners import ThreadPoolTaskRunner

from flows.progress import emit
from schouw import __version__
from schouw.areas import AreaMapping
from schouw.checkpoint import Checkpoints, file_digest, run_key
from schouw.errors import OrthophotoError, StallError
from schouw.integrity import start_check
from schouw.orthophoto import Orthophoto, open_orthophoto, start_file_sha256
from schouw.params import InspectParams
from schouw.pipeline import DETECTOR_VERSIONS, TileResult, detectors_applied, make_tiles, prepare_areas, process_tiles, publish_stream
from schouw.publish import Outputs, commit_dir, default_out_dir, discard_dir, staging_dir, write_run_record
from schouw.tile_pool import TilePool, default_workers, shared_pool, stall_limit_s
from schouw.tiling import TileSpec, batched, block_order


def _is_io_error(task, task_run, state) -> bool:
    try:
        state.result()
    except OSError:
        return True
    except Exception:
        return False
    return False


@task(name="open-orthophoto", cache_policy=NO_CACHE)
def open_task(path: str, nir_band: int | None = None) -> Orthophoto:
    return open_orthophoto(path, nir_band)


@task(name="checksum", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, retry_condition_fn=_is_io_error)
def checksum_task(path: str, stall_s: float) -> str:
    """The file's SHA-256, hashed in a thread of the flow's own process on any task runner (begun by the CLI or the
    flow, or again after an I/O error), and waited for with the stall limit: a read that never returns stops the run."""
    return start_file_sha256(path).result(stall_s, then="no tile was begun and nothing was written, so the same "
                                                        "command starts over")


@task(name="detect-tiles", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=1, retry_condition_fn=_is_io_error)
def detect_batch(ortho: Orthophoto, specs: list[TileSpec], areas_path: str | None, params: InspectParams, ckpt: Checkpoints,
                 pool: TilePool | None = None, stall_s: float | None = None) -> TileResult:
    """Detect on a batch of tiles (in ``pool``'s processes when given, else here) and checkpoint each tile.

    Returns the batch's result without its defect pieces (those wait in the checkpoints for
    publishing); tiles checkpointed by an earlier, interrupted run are not recomputed. With a pool, the
    run stops with StallError when no tile finishes for ``stall_s`` seconds (default ``tile_pool.STALL_S``).
    """
    return process_tiles(ortho, specs, areas_path, params, on_tile=lambda s: emit("tile", 1), store=ckpt, pool=pool,
                         stall_s=stall_s)


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(staging: Path, ortho: Orthophoto, ckpt: Checkpoints, specs: list[TileSpec], summary: TileResult, run: dict,
                 flight_key: str, params: InspectParams, areas_path: str | None) -> dict:
    """Seam-merge the checkpointed tile results row by row and write every output file into ``staging``."""
    out = Outputs(staging, ortho)
    try:
        areas = publish_stream(ortho, ckpt, specs, summary, flight_key, params, areas_path, out)
    except BaseException:
        out.abort()
        raise
    return out.close(run, areas)


def flight_checkpoints(out: Path, digest: str, p: InspectParams, areas: str | None, area_mapping, nir_band) -> Checkpoints:
    """The checkpoint store of one flight run: keyed on everything its tile results depend on."""
    return Checkpoints(out, run_key(digest, p.digest(), file_digest(areas), area_mapping, nir_band, DETECTOR_VERSIONS, __version__))


#: Seconds a Dask worker found stuck is given to restart (its nanny kills it after 0.8 of them at most)
RESTART_S = 30.0


def _wait_while_moving(futures: list, ckpt: Checkpoints, stall_s: float, client, poll_s: float = 2.0) -> None:
    """Wait for ``futures`` (tile batches on Dask); raise :class:`StallError` when for ``stall_s`` seconds none of them
    finished and no tile was checkpointed. A failed batch raises at once. Before raising, the run's tasks are cancelled
    and the ``client``'s workers running them restarted (:func:`free_stuck_workers`); the message says what was done."""
    pending = list(futures)
    seen, moved = ckpt.count(), time.monotonic()
    while pending:
        done, not_done = wait(pending, timeout=min(poll_s, stall_s))
        for f in done:
            f.result()  # a failed batch fails the run now, not after the others
        pending = list(not_done)
        n = ckpt.count()
        if done or n != seen:
            seen, moved = n, time.monotonic()
        elif time.monotonic() - moved >= stall_s:
            raise StallError.after(stall_s, "a Dask worker is stuck (a read of the orthophoto that never returns?); "
                                            + free_stuck_workers(client, pending))


def free_stuck_workers(client, pending: list) -> str:
    """Cancel the run's ``pending`` tile tasks (Prefect Dask futures) and restart, through their nannies, the Dask
    workers of ``client`` that run them: a task's thread cannot be stopped, its process can. Says what was done.

    Another run's task on such a worker is rescheduled by Dask, as for any lost worker. A worker without a nanny is
    shut down instead (Dask's ``restart_workers``), for its deployment to start again."""
    try:
        keys = {f.wrapped_future.key for f in pending}
        stuck = sorted(w for w, running in client.processing().items() if keys.intersection(running))
        client.cancel([f.wrapped_future for f in pending])  # nothing of the stopped run is taken up again
        status = client.restart_workers(stuck, timeout=RESTART_S, raise_for_error=False) if stuck else {}
    except Exception as exc:  # a scheduler that went away, an older Dask: the operator restarts the worker
        return f"restarting it from here failed ({type(exc).__name__}: {exc}), so restart that worker"
    if not stuck:
        return "its tasks were cancelled, but no worker was found running them"
    said = {"OK": "restarted", "removed": "shut down (it has no nanny to restart it)",
            "timed out": f"not restarted within {RESTART_S:g} s, so restart it"}
    return "its tasks were cancelled and " + "; ".join(f"worker {w} {said.get(s, s)}" for w, s in status.items())


@flow(name="inspect_flight", task_runner=ThreadPoolTaskRunner(max_workers=default_workers()), log_prints=False)
def inspect_flight(
    orthophoto: str,
    out_dir: str | None = None,
    areas: str | None = None,
    area_mapping: dict | None = None,
    params: dict | None = None,
    batches_per_worker: int = 4,
    nir_band: int | None = None,
    workers: int | None = None,
    stall_timeout_s: float | None = None,
) -> dict:
    """Inspect one orthophoto; write issues.gpkg, issues.geojson, issues.csv, preview.png, report.html, run.json.

    Returns the run record (also written as run.json). Output appears atomically
    in ``out_dir`` (default ``./schouw-out/<stem>``); a rerun replaces it. With the
    thread-pool task runner the tiles are detected in ``workers`` processes (default
    one per core, see :mod:`schouw.tile_pool`); with Dask, in the Dask workers. When no tile finishes
    for ``stall_timeout_s`` seconds (default ``tile_pool.STALL_S``) a worker is stuck: the run stops with
    StallError, keeping the tiles done for a rerun to resume from (this machine's workers are killed; on Dask the
    run's tasks are cancelled and the workers running them restarted, see :func:`free_stuck_workers`). The file's hash and block check, read in
    this process on either runner, stop the run the same way when they read nothing for that long.
    """
    t0 = time.perf_counter()
    logger = get_run_logger()
    stall_s = stall_limit_s(stall_timeout_s)  # refused here, before any work, when not above 0
    pool = None
    if isinstance(FlowRunContext.get().task_runner, ThreadPoolTaskRunner):
        pool = shared_pool(workers or default_workers())
        pool.warm()  # its processes start while the orthophoto is opened and checksummed (the CLI did already)
    p = InspectParams(**(params or {}))
    mapping = AreaMapping(**area_mapping) if area_mapping else None
    out = Path(out_dir) if out_dir else default_out_dir(orthophoto)
    ortho = open_task(orthophoto, nir_band)
    start_file_sha256(orthophoto)  # hashed beside the set-up below; the checksum task waits for it
    blocks = start_check(orthophoto)  # DEFLATE checksums, read beside the detection; a damaged block fails the run
    # (checked once every tile is done: tasks still running would write checkpoints after they were cleared)
    t_open = time.perf_counter()
    staging = staging_dir(out)
    try:
        work = staging / ".work"
        work.mkdir()
        areas_path, areas_info = prepare_areas(ortho, areas, work, mapping)
        specs = make_tiles(ortho, p)
        emit("total", len(specs))
        n_batches = min(len(specs), default_workers() * batches_per_worker)
        logger.info("%s: %d tiles in %d batches", ortho.name, len(specs), n_batches)
        digest = checksum_task(orthophoto, stall_s)
        if blocks.done():
            blocks.result()  # checked already (the CLI began it while Prefect booted): a damaged file runs no tile
        ckpt = flight_checkpoints(out, digest, p, areas, area_mapping, nir_band)
        batches = batched(block_order(specs), n_batches)  # spatially compact batches: neighbours share image blocks
        futures = [detect_batch.submit(ortho, b, areas_path, p, ckpt, pool, stall_s) for b in batches]
        result = TileResult()  # without defect pieces: those stay in the checkpoints until publishing
        if pool is None:  # Dask: no pool watches the tiles here, so the flow watches the checkpoints
            _wait_while_moving(futures, ckpt, stall_s, FlowRunContext.get().task_runner.client)
        for f, b in zip(futures, batches):
            r = f.result()
            emit("batch", len(b))  # progress from tasks that ran in other processes (Dask workers)
            result.add(r)
        try:
            blocks.result(stall_s, then="the tiles finished are kept, so the same command resumes from them")  # before publishing
        except OrthophotoError:
            ckpt.clear()  # every tile is done: nothing writes them any more, and a damaged file's are no use
            raise
        t_detect = time.perf_counter()
        flight_key = f"{digest}|{p.digest()}"
        px_area = ortho.pixel_area_m2
        run = {
            "schouw_version": __version__,
            "input": {
                "path": ortho.path,
                "name": ortho.name,
                "sha256": digest,
                "size_bytes": ortho.size_bytes,
                "crs": ortho.crs.to_string(),
                "crs_wkt": ortho.crs_wkt,
                "transform": list(ortho.transform),
                "width": ortho.width,
                "height": ortho.height,
                "bands": ortho.count,
                "dtype": ortho.dtype,
                "rgb_bands": list(ortho.rgb_bands),
                "nir_band": ortho.nir_band,
                "gsd_m": ortho.gsd_m,
                "gsd_x_m": ortho.gsd_x_m,
                "gsd_y_m": ortho.gsd_y_m,
                "white_balance_gains": list(ortho.wb_gains),
            },
            "areas": areas_info,
            "parameters": p.effective(),
            "parameters_digest": p.digest(),
            "detectors": DETECTOR_VERSIONS,
            "detectors_applied": detectors_applied(ortho.gsd_m),
            "tiles": {"count": len(specs), "batches": n_batches, "resumed_tiles": result.resumed_tiles, "computed_tiles": result.tiles - result.resumed_tiles, "tile_px": p.tile_px,
                      "overlap_px": p.overlap_px(ortho.gsd_m)},
            "area_inspected_m2": {
                "valid": result.valid_px * px_area,
                "road": result.road_px * px_area,
                "green": result.green_px * px_area,
            },
            "timings_s": {"open": round(t_open - t0, 3), "detect": round(t_detect - t_open, 3), "detect_cpu": round(result.seconds, 3)},
            "host": {"python": platform.python_version(), "cpus": os.cpu_count()},
        }
        t_pub = time.perf_counter()
        run["timings_s"]["total"] = round(t_pub - t0, 3)
        run = publish_task(staging, ortho, ckpt, specs, result, run, flight_key, p, areas_path)
        discard_dir(work)
        run["timings_s"]["publish"] = round(time.perf_counter() - t_pub, 3)
        run["timings_s"]["total"] = round(time.perf_counter() - t0, 3)
        write_run_record(staging, run)
        commit_dir(staging, out)
        ckpt.clear()
    except BaseException:
        discard_dir(staging)
        raise
    run["output_dir"] = str(out.resolve())
    return run


def task_runner_for(executor: str = "threads", dask_address: str | None = None, workers: int | None = None):
    """The task runner for ``executor``: a thread pool (default) or Dask (an existing cluster, or a local one).

    ``workers``: threads (or local Dask worker processes); default one per core.
    """
    workers = workers or default_workers()
    if executor == "threads":
        return ThreadPoolTaskRunner(max_workers=workers)
    if executor == "dask":
        from prefect_dask import DaskTaskRunner

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True})
    raise ValueError(f"executor {executor!r} is not known; expected 'threads' or 'dask'")
