"""Worker processes for tile detection on one machine.

Why processes, not the thread pool alone: OpenCV releases the GIL, but about a fifth
of a tile's work is Python (component loops, tracing shapes, shapely), and two threads
of one process contend for it. On 2 cores: 1.61x for 2 threads over 1 (session 2,
``benchmarks/bench_inspect.py --workers-compare``), median 1.84x for 2 worker processes
(``benchmarks/profile_tiles.py ORTHOPHOTO --pool-compare 3``). The workers import
only the detection code (not Prefect, not geopandas), start from a forkserver that has
it preloaded and keep their dataset open between tiles. (They are not recycled with
``max_tasks_per_child``: on Python 3.11 a pool that replaces a worker can hang.)

Results do not travel back: each worker saves its tile's result to the run's checkpoint
store (:mod:`schouw.checkpoint`) and returns it without its defect pieces, so the
parent's memory does not grow with the number of defects.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor

_lock = threading.Lock()
_pool: "TilePool | None" = None


def default_workers() -> int:
    """One tile worker per core."""
    return max(1, os.cpu_count() or 1)


class TilePool:
    """A pool of ``workers`` detection processes; :meth:`submit` runs ``fn(*args)`` in one of them."""

    def __init__(self, workers: int):
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["schouw.tile_worker"])
        self.workers = workers
        self._warming: threading.Thread | None = None
        self._ex = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                       initargs=(os.getpid(),))

    @property
    def broken(self) -> bool:
        """True once a worker died abruptly (killed, out of memory): the pool then refuses work."""
        return bool(getattr(self._ex, "_broken", False))

    def submit(self, fn, *args) -> Future:
        return self._ex.submit(fn, *args)

    def warm(self) -> None:
        """Start the worker processes now, in the background (the forkserver imports the detection code once).

        Only the first call does anything."""
        if self._warming is not None:
            return

        def start() -> None:
            try:
                for _ in range(self.workers):
                    self._ex.submit(os.getpid)
            except RuntimeError:  # shut down meanwhile (the run stopped on bad input): nothing to warm
                pass

        self._warming = threading.Thread(target=start, name="tile-pool-warm", daemon=True)
        self._warming.start()

    def shutdown(self, timeout_s: float | None = None) -> None:
        """Stop the workers once their running work is done; after ``timeout_s`` (if given) kill those still there.

        The warm-up is waited for first (within the same time): while it is starting a worker it holds the
        executor's lock, and a worker it starts after the kill below would be joined for ever at exit.
        """
        if timeout_s is None:
            self._ex.shutdown(wait=True, cancel_futures=True)
            return
        deadline = time.monotonic() + timeout_s
        if self._warming is not None:
            self._warming.join(timeout_s)
        stopping = threading.Thread(target=self._ex.shutdown, kwargs={"wait": True, "cancel_futures": True},
                                    name="tile-pool-shutdown", daemon=True)
        stopping.start()
        stopping.join(max(0.0, deadline - time.monotonic()))
        if stopping.is_alive():  # a worker stuck (or still starting): multiprocessing would join it for ever at exit
            for proc in list((getattr(self._ex, "_processes", None) or {}).values()):
                proc.kill()
            stopping.join(5.0)


def _init_worker(owner_pid: int) -> None:
    from .tile_worker import init

    init(owner_pid)


def shared_pool(workers: int) -> TilePool:
    """The process-wide pool with ``workers`` processes (created, or re-created with a new size, on demand).

    Shared by the flights of a batch and by the runs of a long-running ``serve-flows``; shut down at exit.
    """
    global _pool
    with _lock:
        if _pool is None or _pool.workers != workers or _pool.broken:
            if _pool is not None:
                _pool.shutdown()
            _pool = TilePool(workers)
        return _pool


#: How long the exit waits for the workers' running work (s) before it kills them
EXIT_WAIT_S = 30.0


def _shutdown() -> None:
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(EXIT_WAIT_S)
            _pool = None


# Registered to run before the threads are joined at exit, not with atexit: concurrent.futures' own
# exit hook runs there too (before atexit) and waits, without a bound, for every running work item,
# so a worker stuck in its work (or in starting) held the exit for ever and EXIT_WAIT_S never applied.
# Hooks there run in reverse order, so this one (registered after concurrent.futures.process was
# imported) runs first; the executor's hook then finds its workers done or killed.
_register = getattr(threading, "_register_atexit", None)  # CPython 3.9+
if _register is not None:
    _register(_shutdown)
else:  # pragma: no cover - other interpreters
    atexit.register(_shutdown)
