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

A worker can get stuck (a read of an orthophoto on network storage that never returns); an unattended
run must not wait for it for ever. :meth:`TilePool.as_completed` watches the whole pool: when no work
in it finishes for ``stall_s`` while work waits, it stops the workers and raises
:class:`schouw.errors.StallError`. The tiles finished are in the checkpoints, so a rerun resumes.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from .errors import ParameterError, StallError

_lock = threading.Lock()
_pool: "TilePool | None" = None


#: How long the pool may go without finishing any work while work waits (s) before a run is stopped as stuck.
#: Workers beat after each tile (:func:`beat`), and a tile of 1024 px takes 0.12-0.28 s on this VM (run.json's
#: detect_cpu per tile, the sample and two of ../shared/data's orthophotos); 8192 px, the largest, is 64 times the
#: pixels. So 600 s is only reached by work that does not move at all.
STALL_S = 600.0


def stall_limit_s(value: float | None, name: str = "stall_timeout_s") -> float:
    """The stall limit (s) for an option or parameter ``name`` of ``value`` (None: :data:`STALL_S`); a value that is
    not above 0 raises :class:`schouw.errors.ParameterError`."""
    if value is None:
        return STALL_S
    if not value > 0:  # also NaN
        raise ParameterError(f"{name} {value:g} is not valid; expected seconds above 0")
    return float(value)


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
        self._tally = threading.Lock()
        self._waiting = 0  # work submitted and not yet finished
        self._moved_at = time.monotonic()  # when work last finished, or was submitted to an idle pool
        self.stalled: str | None = None  # why the pool was stopped as stuck, once it was
        self._beats = ctx.RawValue("Q", 0)  # workers count finished pieces of work here (:func:`beat`)
        self._beats_seen = 0
        self._ex = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                       initargs=(os.getpid(), self._beats))

    @property
    def broken(self) -> bool:
        """True once a worker died abruptly (killed, out of memory) or the pool was stopped as stuck."""
        return self.stalled is not None or bool(getattr(self._ex, "_broken", False))

    def submit(self, fn, *args) -> Future:
        """Run ``fn(*args)`` in a worker; raise :class:`StallError` once the pool was stopped as stuck."""
        if self.stalled is not None:  # late to a stopped pool: the reason, not BrokenProcessPool
            raise StallError(self.stalled)
        with self._tally:
            if self._waiting == 0:
                self._moved_at = time.monotonic()  # idle until now: the stall clock starts with this work
            self._waiting += 1
        try:
            f = self._ex.submit(fn, *args)
        except BaseException:
            self._finished(None)
            raise
        f.add_done_callback(self._finished)
        return f

    def _finished(self, _f: Future | None) -> None:
        with self._tally:
            self._waiting -= 1
            self._moved_at = time.monotonic()

    def still_s(self) -> float:
        """Seconds since work in the pool last finished or beat (a tile of a run finished), while work waits (0 when
        none does)."""
        with self._tally:
            beats = self._beats.value
            if beats != self._beats_seen:
                self._beats_seen = beats
                self._moved_at = time.monotonic()
            return time.monotonic() - self._moved_at if self._waiting else 0.0

    def as_completed(self, futures: Iterable[Future], stall_s: float = STALL_S) -> Iterator[Future]:
        """Yield ``futures`` (submitted here) as they finish; raise :class:`StallError` when the pool is stuck.

        Stuck: no work in the whole pool finished (nor beat, see :func:`beat`) for ``stall_s`` while work waited.
        Work waiting behind another caller's is not stuck while that moves. The pool is then stopped (its workers
        killed) and every caller waiting on it gets the same error; :func:`shared_pool` makes a new one.
        """
        pending = set(futures)
        poll_s = min(1.0, stall_s)
        while pending:
            done, pending = wait(pending, timeout=poll_s, return_when=FIRST_COMPLETED)
            if self.stalled is not None:  # stopped by this or another caller: its work was killed or cancelled
                raise StallError(self.stalled)
            yield from done
            if not done and self.still_s() >= stall_s:
                self.stop_stuck(stall_s)
                raise StallError(self.stalled)

    def stop_stuck(self, stall_s: float) -> None:
        """Stop the pool as stuck (no work finished for ``stall_s``): say why, kill its workers."""
        with self._tally:
            if self.stalled is not None:
                return
            self.stalled = str(StallError.after(
                stall_s, "a tile worker is stuck (a read of the orthophoto that never returns?) and the workers were stopped"))
        self.shutdown(timeout_s=0.0)

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


def _init_worker(owner_pid: int, beats) -> None:
    global _beats
    _beats = beats
    from .tile_worker import init

    init(owner_pid)


_beats = None  # in a worker: its pool's count of finished pieces of work


def beat() -> None:
    """In a worker: say a piece of work finished (a tile of a run of tiles): the pool's stall watch counts from here.

    A run of tiles may take minutes with large tiles; the watch must not take it for stuck while its tiles finish.
    Unlocked: two workers beating at once may count one, which still counts as moving."""
    if _beats is not None:
        _beats.value += 1


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
