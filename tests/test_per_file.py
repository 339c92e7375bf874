"""A background job per unchanged file: begun once, its result reused, begun anew when the file changes."""

from __future__ import annotations

import os

import pytest

from schouw.per_file import PerFile


def test_a_job_is_begun_once_per_unchanged_file_and_anew_when_it_changes(tmp_path):
    calls = []

    def size(path) -> int:
        calls.append(path)
        return os.path.getsize(path)

    jobs = PerFile("size", size)
    f = tmp_path / "a.bin"
    f.write_bytes(b"x" * 10)
    assert jobs.begun(f) is None
    first = jobs.start(f)
    assert jobs.start(str(f)) is first and jobs.begun(f) is first and first.result(timeout=10) == 10
    assert len(calls) == 1
    f.write_bytes(b"x" * 20)
    os.utime(f, ns=(1, 1))  # a new modification time whatever the clock's resolution
    assert jobs.begun(f) is None
    assert jobs.start(f).result(timeout=10) == 20 and len(calls) == 2


def test_a_job_that_fails_hands_its_error_to_whoever_waits(tmp_path):
    def fail(path):
        raise ValueError(f"{path} is bad")

    f = tmp_path / "b.bin"
    f.write_bytes(b"y")
    with pytest.raises(ValueError, match="b.bin is bad"):
        PerFile("fail", fail).start(f).result(timeout=10)
