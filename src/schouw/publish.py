"""Run outputs: written into a staging folder, then swapped into place in one rename.

A reader never sees a half-written result: either the previous complete
result or the new complete one. A failed run leaves no staging folder behind.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections import Counter
from pathlib import Path

from .export import write_csv, write_geojson, write_gpkg
from .issues import Issue
from .orthophoto import Orthophoto
from .preview import render_preview
from .report import summary_counts, write_report


def staging_dir(out_dir: Path) -> Path:
    """A fresh hidden folder beside ``out_dir`` (same file system, so the final rename is atomic).

    Staging folders left by a run that was killed (SIGKILL, power loss) are removed first.
    """
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.parent.glob(f".{out_dir.name}.partial-*"):
        shutil.rmtree(stale, ignore_errors=True)
    d = out_dir.parent / f".{out_dir.name}.partial-{uuid.uuid4().hex[:8]}"
    d.mkdir()
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


def write_outputs(staging: Path, ortho: Orthophoto, issues: list[Issue], run: dict, areas: list | None = None, thumbs: list | None = None) -> dict:
    """Write every output file but run.json into ``staging``; return the run record with counts added.

    run.json is written last, once, by :func:`write_run_record`, when the timings are complete.
    """
    areas = areas or []
    layer_counts = write_gpkg(issues, ortho.crs_wkt, staging / "issues.gpkg", areas, ortho.affine)
    run["area_quality"] = {
        kind: dict(Counter(r.properties()["quality_level"] for r in areas if r.kind == kind)) for kind in ("road", "green")
    }
    write_geojson(issues, ortho.crs_wkt, staging / "issues.geojson")
    write_csv(issues, ortho.crs_wkt, staging / "issues.csv")
    render_preview(ortho, issues, staging / "preview.png", thumbs=thumbs)
    run["counts"] = {"total": len(issues), "by_layer": layer_counts, "by_type_severity": summary_counts(issues)}
    write_report(staging / "report.html", run, issues, areas)
    return run


def write_run_record(staging: Path, run: dict) -> None:
    """``run.json``: input checksum, CRS, GSD, parameters, detector versions, timings, counts."""
    (staging / "run.json").write_text(json.dumps(run, indent=2), encoding="utf-8")
