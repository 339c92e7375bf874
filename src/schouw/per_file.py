"""One background job per unchanged file: begun early (while Prefect boots), its result reused later."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


def file_key(path: str | os.PathLike) -> tuple:
    """What identifies an unchanged file: its real path, size, modification time and inode."""
    st = os.stat(path)
    return (os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino)


class PerFile(Generic[T]):
    """``fn(path)`` run in a daemon thread once per unchanged file in this process; the last file's future is kept
    (one flight at a time is enough to remember)."""

    def __init__(self, name: str, fn: Callable[[str | os.PathLike], T]):
        self.name, self.fn = name, fn
        self._lock = threading.Lock()
        self._jobs: dict[tuple, Future[T]] = {}

    def start(self, path: str | os.PathLike) -> Future[T]:
        """The job's future for ``path``: the one begun for the unchanged file, or a new one."""
        key = file_key(path)
        with self._lock:
            fut = self._jobs.get(key)
            if fut is not None:
                return fut
            self._jobs.clear()
            fut = self._jobs[key] = Future()

        def run() -> None:
            try:
                fut.set_result(self.fn(path))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
                fut.set_exception(exc)

        threading.Thread(target=run, name=self.name, daemon=True).start()
        return fut

    def begun(self, path: str | os.PathLike) -> Future[T] | None:
        """The future of a job begun for the unchanged file ``path``, or None."""
        with self._lock:
            return self._jobs.get(file_key(path))
