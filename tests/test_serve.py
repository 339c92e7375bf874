"""Server use: a real Prefect server, `schouw serve-flows`, and a run triggered with `prefect deployment run`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import SAMPLE
from flows.server import prefect_server


def test_deployment_run_on_a_real_server(tmp_path):
    prefect = str(Path(sys.executable).with_name("prefect"))
    with prefect_server(tmp_path / "server-home") as url:
        env = dict(os.environ, PREFECT_API_URL=url, PREFECT_HOME=str(tmp_path / "client-home"))
        env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
        serve = subprocess.Popen([sys.executable, "-m", "schouw", "serve-flows", "--limit", "1"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:  # wait until the deployment is registered
                ls = subprocess.run([prefect, "deployment", "ls"], env=env, capture_output=True, text=True)
                if "inspect-flight" in ls.stdout:
                    break
                time.sleep(1)
            out = tmp_path / "served"
            r = subprocess.run(
                [prefect, "deployment", "run", "inspect_flight/inspect-flight", "--watch", "--watch-timeout", "300",
                 "-p", f"orthophoto={SAMPLE / 'sample_orthophoto.tif'}", "-p", f"out_dir={out}",
                 "-p", f"areas={SAMPLE / 'sample_areas.geojson'}"],
                env=env, capture_output=True, text=True, timeout=360,
            )
            assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
            run = json.loads((out / "run.json").read_text())
            assert run["counts"]["total"] > 10
        finally:
            serve.terminate()
            serve.wait(timeout=30)
