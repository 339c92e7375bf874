"""Process-wide allocator setting for detection work (the tile pool's workers, detect-image)."""

from __future__ import annotations


def keep_heap(mmap_threshold: int = 64 << 20, trim_threshold: int = 128 << 20) -> None:
    """glibc: serve a tile's (or a photo's) large arrays from the heap and keep freed memory for the next one.

    By default glibc maps blocks over its (adaptive) threshold afresh and returns freed heap
    tops to the system, so every tile pays page faults for memory it just gave back; with two
    workers that also competes for memory bandwidth. RSS stays at one tile's working set.
    ``benchmarks/photo_speed.py`` measures detect-image with and without it (``--default-malloc``).
    No effect (and no error) where glibc's ``mallopt`` is absent.
    """
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, mmap_threshold)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, trim_threshold)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass
