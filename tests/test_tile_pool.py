"""The tile worker pool: lean workers, a fresh pool after a worker was killed, and stuck workers stopped."""

from __future__ import annotations

import os
import signal
import re
import subprocess
import sys
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from schouw.tile_pool import shared_pool

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "sample_orthophoto.tif"


def _modules(_: int = 0) -> tuple[int, bool, bool]:
    return os.getpid(), "prefect" in sys.modules, "geopandas" in sys.modules


def test_workers_do_not_import_prefect_or_geopandas():
    pool = shared_pool(2)
    pid, prefect, geopandas = pool.submit(_modules).result(timeout=60)
    assert pid != os.getpid() and not prefect and not geopandas


def test_a_killed_worker_breaks_the_pool_and_the_next_run_gets_a_fresh_one():
    pool = shared_pool(2)
    pid = pool.submit(os.getpid).result(timeout=60)
    with pytest.raises(BrokenProcessPool):
        pool.submit(os.kill, pid, signal.SIGKILL).result(timeout=60)
        # the other worker may have run the kill and keep answering until the pool notices the death (asynchronously)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pool.submit(os.getpid).result(timeout=60)
            time.sleep(0.05)
    assert pool.broken
    fresh = shared_pool(2)
    assert fresh is not pool and not fresh.broken
    assert fresh.submit(os.getpid).result(timeout=60) != pid


def test_shutting_down_with_a_timeout_kills_a_stuck_worker():
    """A worker stuck in its work does not hold the exit: after the timeout it is killed (the exit waits 30 s)."""
    from schouw.tile_pool import TilePool

    pool = TilePool(1)
    pid = pool.submit(os.getpid).result(timeout=60)
    pool.submit(time.sleep, 600)
    time.sleep(0.5)  # the worker is asleep in its task
    t0 = time.monotonic()
    pool.shutdown(timeout_s=2.0)
    assert time.monotonic() - t0 < 10
    with pytest.raises(ProcessLookupError):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # killed: gone once reaped
            os.kill(pid, 0)
            time.sleep(0.1)


def test_the_exit_does_not_wait_for_ever_for_a_stuck_worker():
    """A process that exits with a worker stuck in its work is gone after EXIT_WAIT_S, with the worker.

    concurrent.futures' own exit hook waits for running work with no bound, before atexit runs: with the pool's
    shutdown registered with atexit, this process never ended (CI hung twice in a bad-input CLI test).
    """
    script = (
        "import os, sys, time\n"
        "from schouw import tile_pool\n"
        "tile_pool.EXIT_WAIT_S = 2.0\n"
        "pool = tile_pool.shared_pool(1)\n"
        "print(pool.submit(os.getpid).result(timeout=60), flush=True)\n"
        "pool.submit(time.sleep, 600)\n"
        "time.sleep(0.5)\n"
        "sys.exit(3)\n"
    )
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=90)
    assert r.returncode == 3, r.stderr
    assert time.monotonic() - t0 < 45
    worker = int(r.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # killed, and reaped by its forkserver
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"worker {worker} outlived the process that owned it")


def _pids_gone(pids, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                os.kill(pid, 0)
                alive.append(pid)
            except ProcessLookupError:
                pass
        if not alive:
            return True
        time.sleep(0.1)
    return False


def test_a_read_that_never_returns_stops_the_run_and_a_rerun_resumes(tmp_path):
    """A worker stuck in a read (here: the orthophoto's path is a FIFO no one writes) stops the run after the stall
    limit with StallError; the workers are killed, the tiles finished before are kept, and a rerun resumes from them."""
    from dataclasses import replace

    from schouw.checkpoint import Checkpoints
    from schouw.errors import StallError
    from schouw.orthophoto import open_orthophoto
    from schouw.params import InspectParams
    from schouw.pipeline import make_tiles, process_tiles

    ortho = open_orthophoto(SAMPLE)
    params = InspectParams(tile_px=512)
    specs = make_tiles(ortho, params)
    assert len(specs) >= 8
    store = Checkpoints(tmp_path / "out", "k")
    pool = shared_pool(2)
    first = process_tiles(ortho, specs[:4], None, params, store=store, pool=pool)
    assert first.tiles == 4

    fifo = tmp_path / "hangs.tif"
    os.mkfifo(fifo)
    stuck = replace(ortho, path=str(fifo))  # the workers' open blocks until a writer comes: never
    workers = [p.pid for p in pool._ex._processes.values()]
    raised: list[BaseException] = []

    def run() -> None:
        try:
            process_tiles(stuck, specs, None, params, store=store, pool=pool, stall_s=3.0)
        except BaseException as exc:  # noqa: BLE001 - looked at below
            raised.append(exc)

    t0 = time.monotonic()
    waiting = threading.Thread(target=run, daemon=True)
    waiting.start()
    waiting.join(60)
    if waiting.is_alive():  # the watch failed: free the test run from the stuck workers, then say so
        pool.shutdown(timeout_s=0.0)
        pytest.fail("a run with its workers stuck was still waiting after 60 s")
    assert 3.0 <= time.monotonic() - t0 < 20
    assert len(raised) == 1 and isinstance(raised[0], StallError), raised
    assert re.search(r"no tile finished in 3 s: .* the same command resumes", str(raised[0])), raised[0]
    assert pool.broken and _pids_gone(workers), "the stuck workers were left running"

    fresh = shared_pool(2)
    assert fresh is not pool
    again = process_tiles(ortho, specs, None, params, store=store, pool=fresh)
    assert (again.tiles, again.resumed_tiles) == (len(specs), 4)


def _beating(n: int, each_s: float) -> int:
    from schouw.tile_pool import beat

    for _ in range(n):
        time.sleep(each_s)
        beat()
    return n


def test_work_queued_behind_other_work_or_after_an_idle_spell_is_not_taken_for_stuck():
    """The stall clock is the whole pool's: it runs only while work waits, and restarts when any work finishes."""
    from schouw.errors import StallError
    from schouw.tile_pool import TilePool

    pool = TilePool(1)
    try:
        pool.submit(os.getpid).result(timeout=60)
        time.sleep(2.5)  # idle: must not count
        chain = [pool.submit(time.sleep, 0.8) for _ in range(4)]  # 3.2 s in all, each well within the limit
        assert len(list(pool.as_completed(chain, stall_s=2.0))) == 4
        assert not pool.broken and pool.still_s() == 0.0
        # one piece of work of 4 s that beats every 0.8 s (a run of tiles, each tile a beat) moves on
        assert [f.result() for f in pool.as_completed([pool.submit(_beating, 5, 0.8)], stall_s=2.0)] == [5]
        # and one that stops beating is stuck
        with pytest.raises(StallError, match="no tile finished in 2 s"):
            list(pool.as_completed([pool.submit(_beating, 1, 4.0)], stall_s=2.0))
        assert pool.broken
    finally:
        pool.shutdown(timeout_s=5.0)
