"""A background job per unchanged file: begun once, its result reused, begun anew when the file changes or the job
failed; waited for with a stall limit that a job stuck in a read trips and a slow job that moves does not."""

from __future__ import annotations

import os
import re
import threading
import time

import pytest

from schouw.errors import StallError
from schouw.per_file import PerFile


def test_a_job_is_begun_once_per_unchanged_file_and_anew_when_it_changes(tmp_path):
    calls = []

    def size(path, beat) -> int:
        calls.append(path)
        return os.path.getsize(path)

    jobs = PerFile("size", size)
    f = tmp_path / "a.bin"
    f.write_bytes(b"x" * 10)
    assert jobs.begun(f) is None
    first = jobs.start(f)
    assert jobs.start(str(f)) is first and jobs.begun(f) is first and first.result(stall_s=10) == 10
    assert len(calls) == 1
    f.write_bytes(b"x" * 20)
    os.utime(f, ns=(1, 1))  # a new modification time whatever the clock's resolution
    assert jobs.begun(f) is None
    assert jobs.start(f).result(stall_s=10) == 20 and len(calls) == 2


def test_a_job_that_fails_hands_its_error_to_whoever_waits(tmp_path):
    calls = []

    def fail(path, beat):
        calls.append(path)
        raise OSError(f"{path} is bad")

    f = tmp_path / "b.bin"
    f.write_bytes(b"y")
    jobs = PerFile("fail", fail)
    with pytest.raises(OSError, match="b.bin is bad"):
        jobs.start(f).result(stall_s=10)
    # a failed job is not kept for the unchanged file: a retry (the flow's checksum task retries I/O errors) reads again
    with pytest.raises(OSError, match="b.bin is bad"):
        jobs.start(f).result(stall_s=10)
    assert len(calls) == 2


def test_a_job_that_does_not_move_for_the_limit_stops_the_wait_and_a_slow_one_that_moves_does_not(tmp_path):
    f = tmp_path / "c.bin"
    f.write_bytes(b"z")
    release = threading.Event()

    def stuck(path, beat):
        release.wait(60)
        return "late"

    def slow(path, beat):
        for _ in range(8):  # 0.8 s in all, far over the limit, but moving every 0.1 s
            time.sleep(0.1)
            beat()
        return "done"

    jobs = PerFile("stuck read", stuck)
    job = jobs.start(f)
    t0 = time.monotonic()
    with pytest.raises(StallError) as err:
        job.result(stall_s=0.4, then="nothing was written", poll_s=0.05)
    assert 0.4 <= time.monotonic() - t0 < 5
    assert re.search(r"c\.bin: the stuck read read nothing for 0\.4 s.*nothing was written once the file reads again",
                     str(err.value)), err.value
    # a rerun in the same process (serve-flows) reads afresh, as the storage may answer again, not the stuck job
    again = jobs.start(f)
    assert again is not job and jobs.begun(f) is again
    release.set()
    assert job.result() == "late" and again.result() == "late"  # the stuck job was left to end on its own
    assert PerFile("slow read", slow).start(f).result(stall_s=0.4, poll_s=0.05) == "done"


def test_a_hash_stuck_in_a_read_that_never_returns_stops_the_checksum_task(tmp_path):
    """The real hash of a path no one writes to (a FIFO: its open blocks until a writer comes) trips the flow's
    checksum task after the stall limit, instead of holding the run for ever."""
    from flows.inspect_flight import checksum_task

    fifo = tmp_path / "hangs.tif"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    try:
        with pytest.raises(StallError, match=r"hangs\.tif: the file hash read nothing for 1 s.*no tile was begun"):
            checksum_task.fn(str(fifo), 1.0)
        assert 1.0 <= time.monotonic() - t0 < 10
    finally:  # let the stuck reader go: a writer comes and leaves, so it reads the end of the file
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
