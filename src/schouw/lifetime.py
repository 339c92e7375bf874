"""Child processes that do not outlive the process that started them."""

from __future__ import annotations


def die_with_parent() -> None:
    """In a child process: SIGTERM when its parent dies, however it dies (SIGKILL included).

    Linux only (``prctl(PR_SET_PDEATHSIG)``); elsewhere children are still stopped on every normal exit.
    Without it a killed ``schouw inspect`` would leave its Prefect server and tile workers running for ever.
    """
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def exit_when_dead(pid: int) -> None:
    """Exit this process (at once, without cleanup) as soon as process ``pid`` has ended.

    For pool workers whose parent is not the process that owns the pool (a forkserver): they
    would otherwise wait for work for ever once their owner is killed. A daemon thread waits
    on a pidfd (Linux >= 5.3), else checks once a second.
    """
    import os
    import select
    import threading
    import time

    def watch() -> None:
        try:
            fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            fd = None
        if fd is not None:
            select.select([fd], [], [])  # readable once the process has ended
        else:
            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                except PermissionError:
                    pass
                time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name=f"exit-when-{pid}-ends", daemon=True).start()
