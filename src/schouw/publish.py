"""Run outputs: written into a staging folder, then swapped into place in one rename.

A reader never sees a half-written result: either the previous complete
result or the new complete one. A failed run leaves no staging folder behind.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections import Counter
from pathlib import Path

from .errors import OutputError
from .export import IssueLayers
from .issues import Issue
from .orthophoto import Orthophoto
from .preview import PreviewCanvas
from .report import REPORT_ISSUES, count_table, write_report


def make_folder(path: Path, name: str) -> None:
    """Create the folder ``path`` and its parents; if that cannot be, an :class:`OutputError` for ``name`` (what it is for)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # read-only, not permitted, a file where a folder should be, ...
        in_the_way = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
        why = f"{in_the_way} is a file, not a folder" if in_the_way else (exc.strerror or str(exc))
        raise OutputError(f"{name}: cannot create {path} ({why}); expected a folder you can write to") from exc


def default_out_dir(orthophoto: str | os.PathLike) -> Path:
    """Where a run of ``orthophoto`` writes when no output folder is given: ``./schouw-out/<stem>``."""
    return Path("schouw-out") / Path(orthophoto).stem


def make_out_parent(out_dir: Path) -> None:
    """Create the folder that will hold ``out_dir`` (and its staging folder); :class:`OutputError` if it cannot be.

    The CLI calls it with the input checks, so an output that cannot be written is said before any flow run."""
    make_folder(Path(out_dir).parent, f"output {out_dir}")


def staging_dir(out_dir: Path) -> Path:
    """A fresh hidden folder beside ``out_dir`` (same file system, so the final rename is atomic).

    Staging folders left by a run that was killed (SIGKILL, power loss) are removed first.
    """
    make_out_parent(out_dir)
    for stale in out_dir.parent.glob(f".{out_dir.name}.partial-*"):
        shutil.rmtree(stale, ignore_errors=True)
    d = out_dir.parent / f".{out_dir.name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        d.mkdir()
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot write the output there ({exc.strerror or exc}); "
                          "expected a folder you can write to") from exc
    return d


def commit_dir(staging: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by ``staging``: a rerun of the same orthophoto replaces the previous result."""
    old = None
    if out_dir.exists():
        old = out_dir.parent / f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}"
        out_dir.rename(old)
    staging.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def discard_dir(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


class Outputs:
    """Every output file of a run but run.json, in ``staging``, fed issue batch by batch.

    Memory is bounded by one batch and the preview, whatever the number of issues: layers
    are appended (:class:`IssueLayers`), outlines drawn into the preview as they come
    (:class:`PreviewCanvas`), and the report keeps the counts and its first issues only.
    """

    def __init__(self, staging: Path, ortho: Orthophoto):
        self.staging, self.ortho = staging, ortho
        self.layers = IssueLayers(staging, ortho.crs_wkt)
        self.preview = PreviewCanvas(ortho)
        self.by_type_severity: Counter = Counter()
        self.listed: list[Issue] = []
        self.total = 0

    def add_thumbs(self, thumbs: list) -> None:
        self.preview.add_thumbs(thumbs)

    def add(self, issues: list[Issue]) -> None:
        self.layers.add(issues)
        self.preview.add_issues(issues)
        self.by_type_severity.update((i.type, i.severity) for i in issues)
        self.listed += issues[: max(0, REPORT_ISSUES - len(self.listed))]
        self.total += len(issues)

    def abort(self) -> None:
        """Close the open files after a failure (the caller discards the staging folder)."""
        self.layers.abort()

    def close(self, run: dict, areas: list | None = None) -> dict:
        """Finish every file; return the run record with counts and area quality added.

        run.json is written last, once, by :func:`write_run_record`, when the timings are complete.
        """
        areas = areas or []
        layer_counts = self.layers.close(areas, self.ortho.affine)
        run["area_quality"] = {
            kind: dict(Counter(r.properties()["quality_level"] for r in areas if r.kind == kind)) for kind in ("road", "green")
        }
        self.preview.write(self.staging / "preview.png")
        counts = count_table(self.by_type_severity)
        run["counts"] = {"total": self.total, "by_layer": layer_counts, "by_type_severity": counts}
        write_report(self.staging / "report.html", run, self.listed, areas, counts=counts, total=self.total)
        return run


def write_run_record(staging: Path, run: dict) -> None:
    """``run.json``: input checksum, CRS, GSD, parameters, detector versions, timings, counts."""
    (staging / "run.json").write_text(json.dumps(run, indent=2), encoding="utf-8")
