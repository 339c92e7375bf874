"""Tile tasks on a Dask cluster (2 worker processes) reporting to a real Prefect server: same result as threads."""

from __future__ import annotations

import json
import os
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
