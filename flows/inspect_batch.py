"""The ``inspect_batch`` flow: many orthophotos, each into its own folder; one bad file never stops the batch."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from prefect import flow, get_run_logger

from flows.inspect_flight import inspect_flight
from schouw.errors import InputError, StallError


def output_dirs(paths: list[str], out_root: str) -> list[str]:
    """One folder per input under ``out_root``, named by the file stem (plus a short hash when stems collide)."""
    stems = [Path(p).stem for p in paths]
    out = []
    for p, stem in zip(paths, stems):
        name = stem if stems.count(stem) == 1 else f"{stem}-{hashlib.sha1(str(Path(p).resolve()).encode()).hexdigest()[:6]}"
        out.append(str(Path(out_root) / name))
    return out


@flow(name="inspect_batch", log_prints=False)
def inspect_batch(paths: list[str], out_root: str = "schouw-out", areas: str | None = None, params: dict | None = None,
                  stall_timeout_s: float | None = None) -> list[dict]:
    """Inspect every orthophoto in ``paths``; return one record per input: ``status`` ok / bad_input / failed.

    A flight whose tile workers get stuck (no tile finished for ``stall_timeout_s``) fails; the next one gets
    fresh workers."""
    logger = get_run_logger()
    results = []
    for path, out in zip(paths, output_dirs(paths, out_root)):
        t0 = time.perf_counter()
        rec = {"path": path, "output_dir": out}
        try:
            run = inspect_flight(orthophoto=path, out_dir=out, areas=areas, params=params, stall_timeout_s=stall_timeout_s)
            rec |= {"status": "ok", "issues": run["counts"]["total"], "seconds": round(time.perf_counter() - t0, 2)}
        except InputError as exc:
            rec |= {"status": "bad_input", "error": " ".join(str(exc).split()), "seconds": round(time.perf_counter() - t0, 2)}
        except StallError as exc:  # said in one line: the traceback is the pool's, not the flight's
            logger.error("flight %s failed: %s", path, exc)
            rec |= {"status": "failed", "error": str(exc), "seconds": round(time.perf_counter() - t0, 2)}
        except Exception as exc:  # an unexpected failure of one flight must not stop the others
            logger.exception("flight %s failed", path)
            rec |= {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "seconds": round(time.perf_counter() - t0, 2)}
        results.append(rec)
    return results
