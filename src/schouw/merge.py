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
    if len(geoms) < 64 or n_threads == 1:
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


class SeamMerger:
    """Seam merge in a stream: tile rows go in top to bottom, finished issues come out.

    A group of touching pieces is finished once none of its pieces lies within the
    type's link distance of the bottom of the last row added: every later piece lies
    in a core window below that line, so nothing can join it any more. Only unfinished
    pieces are kept, about one tile row's worth, so memory does not grow with the
    number of rows. The groups, and so the issues, are exactly those of merging all
    pieces at once.

    Measures are in metres from pixel counts times the ground sample distance (right
    whatever the CRS); ``transform`` (the orthophoto's Affine) places the issues in its CRS.
    """

    def __init__(self, *, flight: str, flight_key: str, gsd_x_m: float, gsd_y_m: float, transform: Affine,
                 link_gap_m: dict[str, float] | None = None):
        self.flight, self.flight_key, self.transform = flight, flight_key, transform
        self.px_area = gsd_x_m * gsd_y_m
        self.gsd = math.sqrt(self.px_area)
        self.link_gap_m = link_gap_m or {}
        self._open: dict[str, list[tuple[Piece, object]]] = {}

    def tol_px(self, issue_type: str) -> float:
        """Pieces of ``issue_type`` closer than this (pixels) belong to one issue."""
        return max(0.01, self.link_gap_m.get(issue_type, 0.0) / self.gsd)

    def add(self, pieces: list[Piece], done_above_px: float | None = None) -> list[Issue]:
        """Add pieces; return the issues finished above row ``done_above_px`` (global pixel row; None: all)."""
        for p, g in zip(pieces, shapely.from_wkb([p.wkb for p in pieces]) if pieces else []):
            self._open.setdefault(p.type, []).append((p, g))
        groups: list[tuple[str, list[Piece], list]] = []
        for t in sorted(self._open):
            items = self._open[t]
            geoms = [g for _, g in items]
            tol = self.tol_px(t)
            keep = []
            bottom = shapely.bounds(np.asarray(geoms, dtype=object))[:, 3] if geoms else None  # largest row of each piece
            for group in _groups(geoms, tol):
                if done_above_px is not None and bottom[group].max() >= done_above_px - tol:
                    keep += [items[i] for i in group]  # may still touch a piece of the next row
                else:
                    groups.append((t, [items[i][0] for i in group], [geoms[i] for i in group]))
            self._open[t] = keep
        return self._finish(groups)

    def close(self) -> list[Issue]:
        """All remaining issues (after the last row)."""
        return self.add([], None)

    def _finish(self, groups: list[tuple[str, list[Piece], list]]) -> list[Issue]:
        if not groups:
            return []
        # a piece alone is already valid (vectorize.mask_to_geometry); only seams need a union
        merged = [g[0] if len(g) == 1 else shapely.union_all(g) for _, _, g in groups]
        geoms_px = _valid(np.asarray(merged, dtype=object))
        # Pixel staircases carry no information beyond half a pixel: simplify for lighter layers.
        geoms_px = _threaded(shapely.simplify, geoms_px, 0.5, preserve_topology=True)
        centroids = shapely.get_coordinates(shapely.centroid(geoms_px))
        geoms_map = _valid(to_map(geoms_px, self.transform))
        issues = [self._issue(t, members, gp, gm, float(cx), float(cy))
                  for (t, members, _), gp, gm, (cx, cy) in zip(groups, geoms_px, geoms_map, centroids)]
        issues.sort(key=lambda i: (i.type, i.id))
        return issues

    def _issue(self, t: str, members: list[Piece], geom_px, geom, cx: float, cy: float) -> Issue:
        gsd = self.gsd
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
        area_m2 = area_px * self.px_area
        measures = {"area_m2": area_m2, "length_m": length_m or 0.0, "mean_width_m": mean_w or 0.0}
        return Issue(
            id=issue_id(self.flight_key, t, cx, cy, 1.0),
            type=t,
            subtype=subtype,
            severity=severity(t, measures),
            confidence=score,
            length_m=length_m,
            area_m2=area_m2,
            mean_width_m=mean_w,
            max_width_m=max_w,
            geometry=geom,
            flight=self.flight,
            tiles=len({m.tile_id for m in members}),
            geometry_px=geom_px,
        )


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
