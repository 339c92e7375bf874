"""Seam merge: pieces of one defect from neighbouring core windows become one issue.

Core windows partition the raster, so pieces never overlap; pieces of the same
type that touch (within a hundredth of a pixel, to absorb floating-point noise
between tile transforms) are grouped, unioned and measured together.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely
from shapely import STRtree

from .issues import LINEAR_TYPES, Issue, issue_id, severity
from affine import Affine

from .vectorize import Piece, to_map


def _groups(geoms: list, tol: float) -> list[list[int]]:
    """Connected groups of geometries that lie within ``tol`` of each other (union-find)."""
    parent = list(range(len(geoms)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if len(geoms) > 1:
        tree = STRtree(geoms)
        left, right = tree.query(geoms, predicate="dwithin", distance=tol)
        for a, b in zip(left.tolist(), right.tolist()):
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[ra] = rb
    out: dict[int, list[int]] = {}
    for i in range(len(geoms)):
        out.setdefault(find(i), []).append(i)
    return list(out.values())


def _threaded(fn, geoms: np.ndarray, *args, **kwargs) -> np.ndarray:
    """``fn(geoms, ...)`` (a vectorized shapely function) on chunks of ``geoms`` in threads.

    Shapely's vectorized functions release the GIL, so on 2 cores this halves the time of
    simplifying and validating the issues of a gigapixel flight.
    """
    n_threads = min(os.cpu_count() or 1, 8)
    if len(geoms) < 512 or n_threads == 1:
        return fn(geoms, *args, **kwargs)
    with ThreadPoolExecutor(n_threads) as ex:
        parts = list(ex.map(lambda c: fn(c, *args, **kwargs), np.array_split(geoms, n_threads)))
    return np.concatenate(parts)


def _valid(geoms: np.ndarray) -> np.ndarray:
    """``geoms`` with the invalid ones repaired (structure method, collapsed parts dropped)."""
    bad = ~_threaded(shapely.is_valid, geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    return geoms


def merge_pieces(
    pieces: list[Piece],
    *,
    flight: str,
    flight_key: str,
    gsd_x_m: float,
    gsd_y_m: float,
    transform: Affine,
    link_gap_m: dict[str, float] | None = None,
) -> list[Issue]:
    """Union touching pieces per type into issues with measures in metres, severities and stable ids.

    ``link_gap_m`` per type joins pieces closer than that on the ground (the
    same gap the detector bridges inside a tile). Pieces are in global pixel
    coordinates; ``transform`` (the orthophoto's Affine) places the merged
    issues in its CRS. Areas and lengths come from pixel counts times the
    ground sample distance, so they are metres whatever the CRS.
    """
    px_area = gsd_x_m * gsd_y_m
    gsd = math.sqrt(px_area)
    by_type: dict[str, list[Piece]] = {}
    for p in pieces:
        by_type.setdefault(p.type, []).append(p)
    groups: list[tuple[str, list[Piece]]] = []
    merged = []
    for t in sorted(by_type):
        ps = by_type[t]
        geoms = shapely.from_wkb([p.wkb for p in ps])
        gap_px = (link_gap_m or {}).get(t, 0.0) / gsd
        for group in _groups(list(geoms), tol=max(0.01, gap_px)):
            groups.append((t, [ps[i] for i in group]))
            # a piece alone is already valid (vectorize.mask_to_geometry); only seams need a union
            merged.append(geoms[group[0]] if len(group) == 1 else shapely.union_all(geoms[group]))
    if not groups:
        return []
    geoms_px = _valid(np.asarray(merged, dtype=object))
    # Pixel staircases carry no information beyond half a pixel: simplify for lighter layers.
    geoms_px = _threaded(shapely.simplify, geoms_px, 0.5, preserve_topology=True)
    centroids = shapely.get_coordinates(shapely.centroid(geoms_px))
    geoms_map = _valid(to_map(geoms_px, transform))
    issues: list[Issue] = []
    for (t, members), geom_px, geom, (cx, cy) in zip(groups, geoms_px, geoms_map, centroids):
        area_px = sum(m.area_px for m in members)
        weights = np.array([m.area_px for m in members], float)
        score = float(np.average([m.score for m in members], weights=weights))
        if t == "overgrowth":
            length_m, mean_w, max_w, subtype = sum(m.length_px for m in members) * gsd, None, None, None
        elif t in LINEAR_TYPES:
            length_m = sum(m.length_px for m in members) * gsd
            lengths = np.array([max(m.length_px, 1e-6) for m in members])
            mean_w = float(np.average([m.mean_width_px for m in members], weights=lengths)) * gsd
            max_w = max(m.max_width_px for m in members) * gsd
            subs = [m.subtype for m in members]
            subtype = "alligator" if "alligator" in subs else max(set(subs), key=lambda s: sum(m.area_px for m in members if m.subtype == s))
        else:
            length_m, mean_w, max_w, subtype = None, None, None, members[0].subtype
        area_m2 = area_px * px_area
        measures = {"area_m2": area_m2, "length_m": length_m or 0.0, "mean_width_m": mean_w or 0.0}
        issues.append(
            Issue(
                id=issue_id(flight_key, t, float(cx), float(cy), 1.0),
                type=t,
                subtype=subtype,
                severity=severity(t, measures),
                confidence=score,
                length_m=length_m,
                area_m2=area_m2,
                mean_width_m=mean_w,
                max_width_m=max_w,
                geometry=geom,
                flight=flight,
                tiles=len({m.tile_id for m in members}),
                geometry_px=geom_px,
            )
        )
    issues.sort(key=lambda i: (i.type, i.id))
    return issues


def merge_areas(pieces: list[Piece], min_area_px: float = 0.0) -> dict[str, list[tuple[str, object]]]:
    """Automatic area pieces (types ``area_road`` / ``area_green``, pixel space) to named polygons per kind.

    Polygons smaller than ``min_area_px`` are dropped (slivers of a segmentation are not areas).
    """
    out: dict[str, list[tuple[str, object]]] = {}
    for kind in ("road", "green"):
        geoms = [shapely.from_wkb(p.wkb) for p in pieces if p.type == f"area_{kind}"]
        if not geoms:
            out[kind] = []
            continue
        u = shapely.union_all(geoms)
        parts = sorted(getattr(u, "geoms", [u]), key=lambda g: (-g.area, g.centroid.y, g.centroid.x))
        keep = [p for p in parts if p.geom_type == "Polygon" and p.area >= min_area_px]
        out[kind] = [(f"automatic {kind} {i + 1}", g) for i, g in enumerate(keep)]
    return out
