"""The tile worker pool: lean workers, and a fresh pool after a worker was killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool

import pytest

from schouw.tile_pool import shared_pool


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
