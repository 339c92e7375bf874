"""A process-local progress hook: the CLI listens, tile tasks report.

Kept out of flow parameters on purpose (parameters are serialised to the
Prefect API; a callback is not data).
"""

from __future__ import annotations

import threading
from typing import Callable

_lock = threading.Lock()
_listener: Callable[[str, int], None] | None = None


def set_listener(fn: Callable[[str, int], None] | None) -> None:
    """``fn(event, n)``: ``("total", n_tiles)`` once, then ``("tile", 1)`` per finished tile."""
    global _listener
    with _lock:
        _listener = fn


def emit(event: str, n: int = 1) -> None:
    fn = _listener
    if fn is not None:
        with _lock:
            fn(event, n)
