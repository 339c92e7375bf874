"""One background job per unchanged file: begun early (while Prefect boots), its result reused later, its wait watched."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future, wait
from typing import Callable, Generic, TypeVar

from .errors import StallError

T = TypeVar("T")


def file_key(path: str | os.PathLike) -> tuple:
    """What identifies an unchanged file: its real path, size, modification time and inode."""
    st = os.stat(path)
    return (os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino)


class Job(Generic[T]):
    """A job of :class:`PerFile`: its future, and when its function last said it moved (``beat``, as it reads)."""

    def __init__(self, name: str, path: str | os.PathLike):
        self.name, self.path = name, path
        self.future: Future[T] = Future()
        self.moved_at = time.monotonic()
        self.given_up = False  # a wait stopped on it: a later start reads afresh (the storage may answer again)

    def beat(self) -> None:
        """Called by the job's function each time it gets on (a chunk read): the wait's stall clock starts again."""
        self.moved_at = time.monotonic()

    def done(self) -> bool:
        return self.future.done()

    def failed(self) -> bool:
        """It ended in an error, or a wait gave up on it: not worth keeping for the unchanged file."""
        return self.given_up or (self.future.done() and self.future.exception() is not None)

    def result(self, stall_s: float | None = None, then: str = "nothing was written, so the same command starts over",
               poll_s: float = 1.0) -> T:
        """The job's result, or its error, once it ends. With ``stall_s``: :class:`StallError` when the job has not
        moved for ``stall_s`` seconds (a read that never returns), its message ending in ``then`` (what is kept and
        what a rerun does). The job's thread is left, as a thread cannot be stopped; it ends with the process, and a
        later :meth:`PerFile.start` for the file begins a new job instead of this one."""
        while not wait([self.future], timeout=None if stall_s is None else min(poll_s, stall_s)).done:
            if time.monotonic() - self.moved_at >= stall_s:
                self.given_up = True
                raise StallError(
                    f"{self.path}: the {self.name} read nothing for {stall_s:g} s, so its storage does not answer (a "
                    f"network share that hangs?); {then} once the file reads again (--stall-timeout, or the flow "
                    "parameter stall_timeout_s, sets the limit)")
        return self.future.result()


class PerFile(Generic[T]):
    """``fn(path, beat)`` run in a daemon thread once per unchanged file in this process (``beat()`` as it gets on);
    the last file's job is kept (one flight at a time is enough to remember), unless it failed or a wait gave up on it:
    a retry or a rerun reads again."""

    def __init__(self, name: str, fn: Callable[[str | os.PathLike, Callable[[], None]], T]):
        self.name, self.fn = name, fn
        self._lock = threading.Lock()
        self._jobs: dict[tuple, Job[T]] = {}

    def start(self, path: str | os.PathLike) -> Job[T]:
        """The job for ``path``: the one begun for the unchanged file, if it has not failed or been given up on, or a
        new one."""
        key = file_key(path)
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and not job.failed():
                return job
            self._jobs.clear()
            job = self._jobs[key] = Job(self.name, path)

        def run() -> None:
            try:
                job.future.set_result(self.fn(path, job.beat))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
                job.future.set_exception(exc)

        threading.Thread(target=run, name=self.name, daemon=True).start()
        return job

    def begun(self, path: str | os.PathLike) -> Job[T] | None:
        """The job begun for the unchanged file ``path``, or None."""
        with self._lock:
            return self._jobs.get(file_key(path))
