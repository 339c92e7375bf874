"""Load a finished run's issues into the catalog, keeping review history for defects that persist.

A rerun (new parameters, new detector version, a later flight of the same area) gives new
pipeline ids; the reviewer's work must not be lost. :func:`match_issues` pairs each new issue
with the old issue of the same type whose outline overlaps it best (IoU of both outlines grown
by a tolerance, so a crack that moved by a pixel or two is still the same crack); paired issues
keep their catalog id, status, comment and history, unpaired old issues are removed.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import select

from ..orthophoto import crs_units_per_metre
from .models import Issue, Run, utcnow

#: Outlines are grown by this much (metres) before comparing: alignment noise between runs.
MATCH_TOLERANCE_M = 0.25
#: Pairs with a smaller IoU of the grown outlines are different defects.
MIN_MATCH_IOU = 0.2
PROPS = ("type", "subtype", "severity", "confidence", "length_m", "area_m2", "mean_width_m", "max_width_m")


@dataclass
class NewIssue:
    """One issue of a run's outputs: properties, geometry in the flight's CRS, RFC 7946 geometry (JSON text)."""

    pipeline_id: str
    props: dict
    geometry: shapely.Geometry
    geojson: str
    bounds_wgs84: tuple[float, float, float, float]


def read_run_issues(out_dir: Path) -> list[NewIssue]:
    """The issues a run wrote: WGS 84 geometry from ``issues.geojson``, the flight-CRS geometry from ``issues.gpkg``."""
    from pyogrio.raw import read

    native: dict[str, shapely.Geometry] = {}
    for layer in ("road_issues", "green_issues"):
        _, _, geoms, fields = read(out_dir / "issues.gpkg", layer=layer, columns=["id"])
        for pid, wkb in zip(fields[0], geoms):
            native[str(pid)] = shapely.from_wkb(wkb)
    features = json.loads((out_dir / "issues.geojson").read_text(encoding="utf-8"))["features"]
    out = []
    for f in features:
        pid = f["properties"]["id"]
        g = shapely.geometry.shape(f["geometry"])
        out.append(NewIssue(pid, {k: f["properties"].get(k) for k in PROPS}, native[pid], json.dumps(f["geometry"]), g.bounds))
    return out


def match_issues(old: list[tuple[str, shapely.Geometry]], new: list[tuple[str, shapely.Geometry]], tolerance: float,
                 min_iou: float = MIN_MATCH_IOU) -> dict[int, int]:
    """Pairs ``{new index: old index}`` of the same type (first element) by best IoU of outlines grown by ``tolerance``.

    ``tolerance`` in the units of the geometries' CRS. Greedy by descending IoU: each old issue
    pairs with at most one new issue.
    """
    if not old or not new:
        return {}
    old_g = shapely.buffer(np.array([g for _, g in old], dtype=object), tolerance)
    new_g = shapely.buffer(np.array([g for _, g in new], dtype=object), tolerance)
    tree = shapely.STRtree(old_g)
    ni, oi = tree.query(new_g, predicate="intersects")
    same = np.array([new[a][0] == old[b][0] for a, b in zip(ni, oi)], dtype=bool)
    ni, oi = ni[same], oi[same]
    if not len(ni):
        return {}
    inter = shapely.area(shapely.intersection(new_g[ni], old_g[oi]))
    iou = inter / np.maximum(shapely.area(shapely.union(new_g[ni], old_g[oi])), 1e-30)
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for k in np.argsort(-iou, kind="stable"):
        if iou[k] < min_iou:
            break
        a, b = int(ni[k]), int(oi[k])
        if a not in pairs and b not in used:
            pairs[a] = b
            used.add(b)
    return pairs


def ingest_run(session, run: Run, out_dir: Path) -> dict[str, int]:
    """Replace the flight's issues by ``run``'s, in the caller's transaction; returns counts kept / added / removed."""
    record = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
    new = read_run_issues(out_dir)
    old = list(session.scalars(select(Issue).where(Issue.flight_id == run.flight_id)))
    pairs = match_issues([(o.type, shapely.from_wkb(o.geom_wkb)) for o in old], [(n.props["type"], n.geometry) for n in new],
                         MATCH_TOLERANCE_M * crs_units_per_metre(record["input"]["transform"], record["input"]["gsd_m"]))
    now = utcnow()
    kept: set[int] = set()
    for k, n in enumerate(new):
        row = old[pairs[k]] if k in pairs else Issue(id=secrets.token_hex(8), flight_id=run.flight_id, status="open", updated_at=now)
        if k in pairs:
            kept.add(pairs[k])
        else:
            session.add(row)
        row.run_id = run.id
        row.pipeline_id = n.pipeline_id
        for key in PROPS:
            setattr(row, key, n.props[key])
        row.geom_wkb = shapely.to_wkb(n.geometry)
        row.geojson = n.geojson
        row.west, row.south, row.east, row.north = n.bounds_wgs84
    for j, o in enumerate(old):
        if j not in kept:
            session.delete(o)
    run.counts = record.get("counts")
    return {"kept": len(kept), "added": len(new) - len(kept), "removed": len(old) - len(kept)}
