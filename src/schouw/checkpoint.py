"""Per-tile checkpoints: a crashed or killed run resumes where it stopped.

Each finished tile's result is saved under ``<out_root>/.schouw-cache/<flight>/<key>/``
(written to a temporary name, then renamed, so a checkpoint is whole or absent). The key
hashes the orthophoto's *content*, the effective parameters, the areas file's content, the
tiling and the detector versions: change any of them and nothing stale is reused. The cache
is removed once the run's outputs are in place.

Why files rather than Prefect's result persistence: the cache lives beside the output it
belongs to, needs no global ``PREFECT_LOCAL_STORAGE_PATH``, and is simply deleted on success.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import uuid
from pathlib import Path

from .orthophoto import file_sha256


def run_key(*parts: object) -> str:
    """A short stable key from the things a result depends on."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:20]


def file_digest(path: str | None) -> str:
    """SHA-256 of an input file (the areas file), or ``automatic`` for none."""
    return "automatic" if path is None else file_sha256(path)


class Checkpoints:
    """Saved tile results of one flight run identified by ``key``."""

    def __init__(self, out_dir: Path, key: str):
        self.root = out_dir.parent / ".schouw-cache" / out_dir.name
        self.dir = self.root / key

    def _path(self, key: str) -> Path:
        return self.dir / f"{key}.pickle"

    def load(self, key: str):
        p = self._path(key)
        if not p.exists():
            return None
        try:
            with open(p, "rb") as fh:
                return pickle.load(fh)
        except Exception:  # a damaged checkpoint is recomputed, never trusted
            return None

    def save(self, key: str, result) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f".{key}.{uuid.uuid4().hex[:6]}.tmp"
        with open(tmp, "wb") as fh:
            pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self._path(key))

    def count(self) -> int:
        return len(list(self.dir.glob("*.pickle"))) if self.dir.exists() else 0

    def clear(self) -> None:
        """Remove this flight's cache (all keys) and the cache folder if it is left empty."""
        shutil.rmtree(self.root, ignore_errors=True)
        try:
            self.root.parent.rmdir()
        except OSError:
            pass
