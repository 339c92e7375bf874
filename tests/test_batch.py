"""Batch runs: many orthophotos, each into its own folder, bad ones listed and skipped."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

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


def _tile_workers(root: int) -> set[int]:
    """The tile worker processes under process ``root``: the children of its multiprocessing forkserver (/proc)."""
    parent, cmd = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                parent[int(d)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{d}/cmdline", "rb") as fh:
                cmd[int(d)] = fh.read()
        except OSError:  # gone meanwhile
            continue
    under, grew = {root}, True
    while grew:
        new = {p for p, pp in parent.items() if pp in under and p not in under}
        under |= new
        grew = bool(new)
    return {p for p in under if b"forkserver" in cmd.get(p, b"") and b"forkserver" in cmd.get(parent.get(p, 0), b"")}


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"  # a zombie: dead, not yet reaped
    except OSError:
        return True


def _hang_first_workers(proc: subprocess.Popen, stopped: set[int]) -> None:
    """SIGSTOP every tile worker of ``proc`` (a worker stuck for good, as in a read that never returns) until the
    first of them is killed; workers started after that (a fresh pool) are left alone."""
    while proc.poll() is None:
        if any(_gone(p) for p in stopped):
            return
        for pid in _tile_workers(proc.pid) - stopped:
            os.kill(pid, signal.SIGSTOP)
            stopped.add(pid)
        time.sleep(0.05)


def _run_with_hung_workers(args: list[str], tmp_path) -> tuple[subprocess.CompletedProcess, set[int]]:
    env = dict(os.environ, PREFECT_HOME=str(tmp_path / "ph"))
    env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "schouw", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    stopped: set[int] = set()
    stopper = threading.Thread(target=_hang_first_workers, args=(proc, stopped), daemon=True)
    stopper.start()
    try:
        stdout, stderr = proc.communicate(timeout=150)
    finally:
        if proc.poll() is None:  # the watch failed: free the test run, then let the asserts say so
            for pid in stopped:
                os.kill(pid, signal.SIGKILL)
            proc.kill()
            stdout, stderr = proc.communicate()
    stopper.join(5)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), stopped


def test_a_flight_whose_workers_hang_fails_in_one_line_and_the_batch_goes_on(tmp_path):
    """Tile workers stuck for good (stopped) fail their flight after --stall-timeout, said in one line; they are
    killed, and the next flight runs on fresh workers."""
    flights = tmp_path / "flights"
    flights.mkdir()
    for name in ("a.tif", "b.tif"):
        shutil.copy(SAMPLE / "sample_orthophoto.tif", flights / name)
    r, stopped = _run_with_hung_workers(["batch", str(flights), "--out-root", str(tmp_path / "out"), "--stall-timeout", "5"],
                                        tmp_path)
    assert stopped, "no tile worker was seen"
    assert r.returncode == 1, r.stderr[-3000:]
    errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "no tile finished in 5 s" in errors[0] and "resumes" in errors[0], r.stderr[-3000:]
    assert "Traceback" not in r.stderr and "BrokenProcessPool" not in r.stderr, r.stderr[-3000:]
    assert all(_gone(p) for p in stopped), "a stuck worker outlived its run"
    assert not (tmp_path / "out" / "a").exists()
    assert json.loads((tmp_path / "out" / "b" / "run.json").read_text())["counts"]["total"] > 0


def test_an_inspect_whose_workers_hang_exits_1_in_one_line(tmp_path):
    r, stopped = _run_with_hung_workers(["inspect", str(SAMPLE / "sample_orthophoto.tif"), "--out", str(tmp_path / "out"),
                                         "--workers", "1", "--stall-timeout", "4"], tmp_path)
    assert stopped, "no tile worker was seen"
    assert r.returncode == 1, r.stderr[-3000:]
    errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "no tile finished in 4 s" in errors[0], r.stderr[-3000:]
    assert "Traceback" not in r.stderr and "BrokenProcessPool" not in r.stderr, r.stderr[-3000:]
    assert all(_gone(p) for p in stopped) and not (tmp_path / "out").exists()
