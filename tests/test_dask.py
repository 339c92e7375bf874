"""Tile tasks on a Dask cluster (2 worker processes) reporting to a real Prefect server: same result as threads."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import SAMPLE
from flows.server import prefect_server


def _inspect(out, env, *extra):
    cmd = [sys.executable, "-m", "schouw", "inspect", str(SAMPLE / "sample_orthophoto.tif"),
           "--areas", str(SAMPLE / "sample_areas.geojson"), "--out", str(out), "--tile-px", "512", *extra]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads((out / "issues.geojson").read_text())


def test_dask_cluster_result_equals_threaded_run(tmp_path):
    distributed = pytest.importorskip("distributed")
    with prefect_server(tmp_path / "server-home") as url:
        env = dict(os.environ, PREFECT_API_URL=url, PREFECT_HOME=str(tmp_path / "client-home"))
        env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            dask_fc = _inspect(tmp_path / "dask", env, "--executor", "dask", "--dask-address", cluster.scheduler_address)
            # the tile tasks really went through this cluster's scheduler
            assert cluster.scheduler.transition_counter > 0
        threads_fc = _inspect(tmp_path / "threads", env)
    assert dask_fc["features"] == threads_fc["features"] and len(dask_fc["features"]) > 10


@pytest.mark.parametrize("extra, fragment", [
    (["--executor", "dask", "--dask-address", "tcp://127.0.0.1:1"], "--dask-address tcp://127.0.0.1:1: no Dask scheduler answers"),
    (["--dask-address", "tcp://127.0.0.1:1"], "--dask-address tcp://127.0.0.1:1 needs --executor dask"),
])
def test_a_dask_address_without_a_scheduler_is_refused_before_any_run(tmp_path, extra, fragment):
    """No scheduler at --dask-address (or no --executor dask to use it): one error line, exit 2, nothing written."""
    pytest.importorskip("distributed")
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "schouw", "inspect", str(SAMPLE / "sample_orthophoto.tif"), "--out", str(out), *extra],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr[-2000:]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], r.stderr[-2000:]
    assert not out.exists()


def test_a_stuck_dask_worker_stops_the_run_is_restarted_and_a_rerun_resumes(tmp_path):
    """The Dask worker is stopped (SIGSTOP: stuck for good) once the first tiles are checkpointed: the run stops after
    --stall-timeout with one error line, exit 1, its finished tiles kept; its nanny has restarted the worker (nobody
    sends SIGCONT), nothing of the stopped run goes on, and the rerun on the new worker resumes."""
    distributed = pytest.importorskip("distributed")
    import signal
    import threading
    import time

    import numpy as np
    import rasterio

    with rasterio.open(SAMPLE / "sample_orthophoto.tif") as src:
        profile, data = src.profile, src.read()
    big = np.concatenate([np.concatenate([data, data[:, :, ::-1]], axis=2)] * 2, axis=1)  # 3072 x 4096 px
    profile.update(width=big.shape[2], height=big.shape[1])
    path = tmp_path / "flight.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(big)
    out = tmp_path / "out" / "flight"
    cache = tmp_path / "out" / ".schouw-cache"
    with prefect_server(tmp_path / "server-home") as url:
        env = dict(os.environ, PREFECT_API_URL=url, PREFECT_HOME=str(tmp_path / "client-home"))
        env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
        with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                distributed.Client(cluster) as client:
            (address, worker), = client.run(os.getpid).items()
            cmd = [sys.executable, "-m", "schouw", "inspect", str(path), "--out", str(out), "--tile-px", "256",
                   "--executor", "dask", "--dask-address", cluster.scheduler_address]
            proc = subprocess.Popen([*cmd, "--stall-timeout", "6"], env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            stopped = threading.Event()

            def stop_when_tiles_are_done() -> None:
                while proc.poll() is None and not stopped.is_set():
                    if cache.exists() and any(cache.rglob("*.pickle")):
                        os.kill(worker, signal.SIGSTOP)
                        stopped.set()
                    time.sleep(0.02)

            watcher = threading.Thread(target=stop_when_tiles_are_done, daemon=True)
            watcher.start()
            try:
                _, stderr = proc.communicate(timeout=120)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    _, stderr = proc.communicate()
            assert stopped.is_set(), "the run ended before the worker could be stopped"
            assert proc.returncode == 1, stderr[-3000:]
            errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
            assert len(errors) == 1 and "no tile finished in 6 s: a Dask worker is stuck" in errors[0], stderr[-3000:]
            assert re.search(r"its tasks were cancelled and worker tcp://\S+ restarted;", errors[0]), errors[0]
            def addresses() -> set[str]:  # as the scheduler knows them: asking a stopped worker would hang
                return set(client.scheduler_info()["workers"])

            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and addresses() in (set(), {address}):
                time.sleep(0.2)
            assert addresses() and address not in addresses(), f"the stuck worker was not restarted: {addresses()}"
            assert worker not in client.run(os.getpid).values()
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, 0)
                pytest.fail(f"the stuck worker process {worker} is still there")
            assert "Traceback" not in stderr and not out.exists()
            kept = len(list(cache.rglob("*.pickle")))
            assert kept >= 1
            again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
            assert again.returncode == 0, again.stderr[-3000:]
    run = json.loads((out / "run.json").read_text())
    # the stopped run's tasks were cancelled: the rerun resumes exactly the tiles it kept
    assert run["tiles"]["resumed_tiles"] == kept
    assert run["tiles"]["resumed_tiles"] + run["tiles"]["computed_tiles"] == run["tiles"]["count"]
