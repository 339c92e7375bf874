"""Batch runs: many orthophotos, each into its own folder, bad ones listed and skipped."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys

from conftest import SAMPLE
from flows.inspect_batch import output_dirs


def test_output_dirs_are_unique_per_input():
    dirs = output_dirs(["a/x.tif", "b/x.tif", "c/y.tif"], "out")
    assert len(set(dirs)) == 3 and dirs[2] == os.path.join("out", "y")


def test_batch_goes_on_past_a_bad_file(tmp_path):
    flights = tmp_path / "flights"
    flights.mkdir()
    shutil.copy(SAMPLE / "sample_orthophoto.tif", flights / "good.tif")
    (flights / "broken.tif").write_bytes(b"not a tiff at all")
    (flights / "zz-empty.tif").write_bytes(b"")  # last: its failure is logged just before the server stops
    env = dict(os.environ, PREFECT_HOME=str(tmp_path / "ph"))
    env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
    r = subprocess.run([sys.executable, "-m", "schouw", "batch", str(flights), "--out-root", str(tmp_path / "out")],
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "good.tif" in r.stdout and "bad_input" in r.stdout and "ok" in r.stdout
    errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2 and "broken.tif" in errors[0] and "zz-empty.tif" in errors[1]
    assert "Traceback" not in r.stderr, r.stderr[-2000:]  # bad input is said in one line, not as a crash
    # every log line reached the Prefect API before its server stopped, the last one too
    assert "Error logging to API" not in r.stderr, r.stderr[-2000:]
    with sqlite3.connect(tmp_path / "ph" / "prefect.db") as db:
        logged = " ".join(m for (m,) in db.execute("select message from log"))
    assert "broken.tif" in logged and "zz-empty.tif" in logged
    run = json.loads((tmp_path / "out" / "good" / "run.json").read_text())
    assert run["counts"]["total"] > 0
    assert not (tmp_path / "out" / "broken").exists()
