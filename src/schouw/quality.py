"""Per-area quality levels (CROW beeldkwaliteit A+ / A / B / C / D) and share-based severity (no I/O).

Everything here works in the orthophoto's pixel space (geometries in global pixel
coordinates), so shares and areas are right whatever the CRS; square metres come
from the pixel area.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from .issues import family

#: Upper bounds of the shares (0-1) for A+, A, B, C; above the last is D.
QUALITY_LEVELS: dict[str, tuple[tuple[float, float, float, float], str]] = {
    "weeds": ((0.0, 0.02, 0.04, 0.08), "CROW beeldkwaliteit, onkruid op verharding: A+ 0 %, A <= 2 %, B <= 4 %, C <= 8 %, D > 8 %"),
    "road_damage": (
        (0.0, 0.01, 0.03, 0.10),
        "project rule after CROW beeldkwaliteit (schade aan verharding): share of the surface covered by crack, "
        "pothole or ravelling issues (alligator cracking by the surface of its network and cells); A+ none, A <= 1 %, B <= 3 %, C <= 10 %, D > 10 %",
    ),
    "green": (
        (0.0, 0.02, 0.05, 0.15),
        "project rule after CROW beeldkwaliteit (kale plekken / verdord gras in gazon): share dry or bare; "
        "A+ none, A <= 2 %, B <= 5 %, C <= 15 %, D > 15 %",
    ),
}
LEVELS = ("A+", "A", "B", "C", "D")

#: A green issue covering at least this share of its area is at least M, resp. E.
GREEN_SHARE_SEVERITY = (0.10, 0.25)
#: A share this small is "none" (A+): a few pixels of noise do not lower a level.
EPSILON_SHARE = 1e-4

#: Alligator cracking is measured by the surface it covers, not by its lines (ASTM D6433: "square metres of surface
#: area"; CROW craquelé likewise by extent). Its pieces are "less than 0.3 m on the longest side" (ASTM), so the surface
#: is the network closed over cells up to this size (m).
ALLIGATOR_CELL_MAX_M = 0.3


def quality_level(share: float, kind: str) -> str:
    """A+ … D for ``share`` (0-1) of the surface affected, by the table for ``kind``."""
    bounds, _ = QUALITY_LEVELS[kind]
    if share <= max(bounds[0], EPSILON_SHARE):
        return "A+"
    for level, upper in zip(LEVELS[1:], bounds[1:]):
        if share <= upper:
            return level
    return "D"


def affected_geometry(issue_type: str, subtype: str | None, geometry_px, gsd_m: float):
    """The surface an issue affects, in pixel space: for alligator cracking the network with its cells (a closing
    over :data:`ALLIGATOR_CELL_MAX_M`, ``gsd_m`` m per pixel), for any other issue its own geometry."""
    if issue_type != "crack" or subtype != "alligator" or geometry_px is None or geometry_px.is_empty:
        return geometry_px
    r_px = ALLIGATOR_CELL_MAX_M / 2 / gsd_m
    closed = shapely.buffer(shapely.buffer(geometry_px, r_px, quad_segs=4), -r_px, quad_segs=4)
    return shapely.union(closed, geometry_px)  # a closing holds the set; the union keeps it so against rounding


@dataclass
class AreaRecord:
    """One road or green area with what was found in it. ``geometry_px`` in global pixel coordinates."""

    area_id: str
    kind: str
    name: str
    geometry_px: Any
    area_m2: float
    affected_m2: dict[str, float] = field(default_factory=dict)

    def properties(self) -> dict[str, Any]:
        a = max(self.area_m2, 1e-9)
        props: dict[str, Any] = {"area_id": self.area_id, "kind": self.kind, "name": self.name, "area_m2": round(self.area_m2, 3)}
        if self.kind == "green":
            dry, bare = self.affected_m2.get("dry_grass", 0.0), self.affected_m2.get("bare_soil", 0.0)
            share = (dry + bare) / a
            props |= {"dry_grass_m2": round(dry, 3), "bare_soil_m2": round(bare, 3), "overgrowth_m2": round(self.affected_m2.get("overgrowth", 0.0), 3),
                      "affected_share": round(share, 5), "quality_level": quality_level(share, "green")}
        else:
            weeds = self.affected_m2.get("weeds_in_pavement", 0.0)
            ravelled = self.affected_m2.get("ravelling", 0.0)
            dmg = sum(self.affected_m2.get(t, 0.0) for t in ("crack", "pothole", "ravelling"))
            props |= {"weeds_m2": round(weeds, 3), "weeds_share": round(weeds / a, 5), "weeds_level": quality_level(weeds / a, "weeds"),
                      "ravelling_m2": round(ravelled, 3), "ravelling_share": round(ravelled / a, 5),
                      "damaged_m2": round(dmg, 3), "damaged_share": round(dmg / a, 5), "quality_level": quality_level(dmg / a, "road_damage")}
        return props


class AreaTally:
    """Road and green areas, and the issue area found inside each, added issue batch by issue batch.

    ``areas``: ``{kind: [(name, polygon_px)]}`` in global pixel coordinates, clipped to
    ``raster_box_px``. Issues may arrive in any number of batches (a streamed publish); only
    the areas are kept, never the issues.
    """

    def __init__(self, areas: dict[str, list[tuple[str, Any]]], raster_box_px, pixel_area_m2: float):
        self.pixel_area_m2 = pixel_area_m2
        self.records: list[AreaRecord] = []
        for kind in ("road", "green"):
            for n, (name, poly) in enumerate(areas.get(kind, [])):
                clipped = shapely.intersection(poly, raster_box_px)
                if clipped.is_empty or clipped.area <= 0:
                    continue
                self.records.append(AreaRecord(f"{kind}-{n + 1}", kind, name, clipped, clipped.area * pixel_area_m2))
        self._tree = shapely.STRtree([r.geometry_px for r in self.records]) if self.records else None
        self._polys = np.asarray([r.geometry_px for r in self.records], dtype=object)

    def overlaps(self, geoms_px) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(issue index, record index, overlap in pixels)`` of every issue/area pair that intersects."""
        geoms_px = np.asarray(geoms_px, dtype=object)
        if self._tree is None or len(geoms_px) == 0:
            return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
        gi, ri = self._tree.query(geoms_px, predicate="intersects")
        inside = shapely.contains_properly(self._polys[ri], geoms_px[gi])  # no overlay needed for these
        px = shapely.area(geoms_px[gi])
        if (~inside).any():
            px[~inside] = shapely.area(shapely.intersection(geoms_px[gi][~inside], self._polys[ri][~inside]))
        return gi, ri, px

    def count(self, types: list[str], geoms_px: list, subtypes: list[str | None]) -> dict[int, int]:
        """Count issues (their ``types``, pixel geometries and ``subtypes``) into their areas, each by the surface it
        affects (:func:`affected_geometry`: an alligator network with its cells).

        Returns, for each green-family issue inside a green area, the index of the record it
        overlaps most.
        """
        gsd_m = self.pixel_area_m2 ** 0.5
        geoms_px = [affected_geometry(t, s, g, gsd_m) for t, s, g in zip(types, subtypes, geoms_px)]
        gi, ri, px = self.overlaps(geoms_px)
        best: dict[int, tuple[float, int]] = {}
        for g, r, a_px in zip(gi.tolist(), ri.tolist(), px.tolist()):
            rec, t = self.records[r], types[g]
            rec.affected_m2[t] = rec.affected_m2.get(t, 0.0) + a_px * self.pixel_area_m2
            if rec.kind == "green" and family(t) == "green" and (g not in best or a_px > best[g][0]):
                best[g] = (a_px, r)
        return {g: r for g, (_, r) in best.items()}

    def add(self, issues: list) -> None:
        """Count the issues into their areas (:meth:`count`) and raise the severity of green issues
        by the share of their green area they cover (:func:`share_severity`)."""
        for g, r in self.count([i.type for i in issues], [i.geometry_px for i in issues], [i.subtype for i in issues]).items():
            i = issues[g]
            i.severity = share_severity(i.severity, i.area_m2 / max(self.records[r].area_m2, 1e-9))


def area_records(areas: dict[str, list[tuple[str, Any]]], issues_px: list[tuple], raster_box_px, pixel_area_m2: float) -> list[AreaRecord]:
    """Measure each area (clipped to the raster) and the issue area inside it, per issue type.

    ``areas``: ``{kind: [(name, polygon_px)]}``; ``issues_px``: ``[(type, geometry_px)]`` or
    ``[(type, geometry_px, subtype)]``.
    """
    tally = AreaTally(areas, raster_box_px, pixel_area_m2)
    tally.count([i[0] for i in issues_px], [i[1] for i in issues_px], [i[2] if len(i) > 2 else None for i in issues_px])
    return tally.records


def share_severity(base: str, share: float) -> str:
    """Raise a green issue's severity by the share of its area it covers (see GREEN_SHARE_SEVERITY)."""
    order = ("L", "M", "E")
    by_share = "E" if share >= GREEN_SHARE_SEVERITY[1] else "M" if share >= GREEN_SHARE_SEVERITY[0] else "L"
    return max(base, by_share, key=order.index)
