"""Publish issues: GeoPackage (styled for QGIS), RFC 7946 GeoJSON, CSV.

The GeoPackage has one layer per family (``road_issues``, ``green_issues``) in
the orthophoto's CRS and a ``layer_styles`` table holding a QGIS style per
layer (colour by severity), which QGIS applies when the layer is opened.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import MultiPolygon, Polygon

from .issues import Issue, family

SEVERITY_COLOURS = {"L": "#f2c94c", "M": "#f2994a", "E": "#d7263d"}
LAYERS = {"road": "road_issues", "green": "green_issues"}
#: Issues converted and written at a time (GeoJSON, GeoPackage): bounds the memory of publishing.
EXPORT_CHUNK = 1000
COLUMNS = ["id", "type", "subtype", "severity", "confidence", "length_m", "area_m2", "mean_width_m", "max_width_m", "flight"]


def _multi(g):
    if isinstance(g, Polygon):
        return MultiPolygon([g])
    if isinstance(g, MultiPolygon):
        return g
    polys = [p for p in getattr(g, "geoms", []) if isinstance(p, (Polygon, MultiPolygon))]
    parts = []
    for p in polys:
        parts.extend(p.geoms if isinstance(p, MultiPolygon) else [p])
    return MultiPolygon(parts)


def issues_frame(issues: list[Issue], crs_wkt: str) -> gpd.GeoDataFrame:
    """All issues as a GeoDataFrame in the orthophoto's CRS (MultiPolygon geometries)."""
    rows = [i.properties() for i in issues]
    df = pd.DataFrame(rows, columns=COLUMNS)
    for c in ("confidence", "length_m", "area_m2", "mean_width_m", "max_width_m"):
        df[c] = df[c].astype("float64")
    return gpd.GeoDataFrame(df, geometry=[_multi(i.geometry) for i in issues], crs=CRS.from_wkt(crs_wkt))


def qml_style(layer: str) -> str:
    """A QGIS style (QML) drawing polygons filled by severity, with a bold outline so thin cracks stay visible."""
    cats, syms = [], []
    for n, (sev, colour) in enumerate(SEVERITY_COLOURS.items()):
        label = {"L": "L - licht", "M": "M - matig", "E": "E - ernstig"}[sev]
        cats.append(f'<category render="true" symbol="{n}" value="{sev}" label="{label}"/>')
        rgb = ",".join(str(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
        syms.append(
            f'<symbol type="fill" name="{n}" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" enabled="1" locked="0" pass="0">'
            f'<Option type="Map"><Option type="QString" name="color" value="{rgb},140"/>'
            f'<Option type="QString" name="outline_color" value="{rgb},255"/>'
            f'<Option type="QString" name="outline_width" value="0.6"/>'
            f'<Option type="QString" name="outline_width_unit" value="MM"/>'
            f'<Option type="QString" name="style" value="solid"/></Option>'
            f'<prop k="color" v="{rgb},140"/><prop k="outline_color" v="{rgb},255"/><prop k="outline_width" v="0.6"/>'
            f'<prop k="outline_width_unit" v="MM"/><prop k="style" v="solid"/></layer></symbol>'
        )
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis version="3.34.0" styleCategories="Symbology|Labeling"><renderer-v2 type="categorizedSymbol" attr="severity" '
        f'enableorderby="0" forceraster="0" symbollevels="0"><categories>{"".join(cats)}</categories>'
        f'<symbols>{"".join(syms)}</symbols></renderer-v2>'
        f'<labeling type="simple"><settings calloutType="simple"><text-style fieldName="type" fontSize="8"/></settings></labeling>'
        f"<layerGeometryType>2</layerGeometryType></qgis>\n"
    )


def qml_area_style() -> str:
    """A QGIS style for area layers: outline coloured by quality level A+ (green) … D (red)."""
    colours = {"A+": "26,150,65", "A": "166,217,106", "B": "255,255,191", "C": "253,174,97", "D": "215,25,28"}
    cats = "".join(f'<category render="true" symbol="{n}" value="{lvl}" label="{lvl}"/>' for n, lvl in enumerate(colours))
    syms = "".join(
        f'<symbol type="fill" name="{n}" alpha="1"><layer class="SimpleFill" enabled="1">'
        f'<Option type="Map"><Option type="QString" name="color" value="{rgb},60"/><Option type="QString" name="outline_color" value="{rgb},255"/>'
        f'<Option type="QString" name="outline_width" value="0.8"/><Option type="QString" name="style" value="solid"/></Option>'
        f'<prop k="color" v="{rgb},60"/><prop k="outline_color" v="{rgb},255"/><prop k="outline_width" v="0.8"/></layer></symbol>'
        for n, rgb in enumerate(colours.values())
    )
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis version="3.34.0" styleCategories="Symbology"><renderer-v2 type="categorizedSymbol" attr="quality_level" '
        f'enableorderby="0" forceraster="0" symbollevels="0"><categories>{cats}</categories><symbols>{syms}</symbols></renderer-v2>'
        "<layerGeometryType>2</layerGeometryType></qgis>\n"
    )


def _write_layer_styles(path: Path, layers: dict[str, str]) -> None:
    """Create QGIS's ``layer_styles`` table (as QGIS itself does) with a default style per layer."""
    con = sqlite3.connect(path)
    try:
        con.execute(
            """CREATE TABLE IF NOT EXISTS layer_styles (
            id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
            f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
            styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
            update_time DATETIME DEFAULT CURRENT_TIMESTAMP)"""
        )
        con.execute(
            "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
            "VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS layer styles', strftime('%Y-%m-%dT%H:%M:%fZ','now'))"
        )
        for layer, qml in layers.items():
            by = "quality level" if layer.endswith("_areas") else "severity"
            con.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, "
                "styleQML, styleSLD, useAsDefault, description, owner, ui) VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, '', '')",
                (layer, f"{layer} by {by}", qml, f"schouw: {layer} coloured by {by}"),
            )
        con.commit()
    finally:
        con.close()


def areas_frame(records: list, crs_wkt: str, transform, kind: str) -> gpd.GeoDataFrame:
    """Road or green area records as a GeoDataFrame in the orthophoto's CRS."""
    from .vectorize import to_map

    rows = [r.properties() for r in records if r.kind == kind]
    geoms = [_multi(to_map(r.geometry_px, transform)) for r in records if r.kind == kind]
    cols = list(rows[0]) if rows else ["area_id", "kind", "name", "area_m2", "quality_level"]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry=geoms, crs=CRS.from_wkt(crs_wkt))


class IssueLayers:
    """``issues.gpkg``, ``issues.geojson`` and ``issues.csv`` in ``folder``, written issue batch by batch.

    Memory is bounded by :data:`EXPORT_CHUNK` issues whatever the number of issues: GeoJSON
    and CSV rows go straight to their files; GeoPackage layers are appended a chunk at a time.
    :meth:`close` adds the area layers and the QGIS styles and returns the row count per layer.

    - GeoPackage: layers ``road_issues``, ``green_issues`` (always, possibly empty), ``road_areas``
      and ``green_areas`` (per-area quality levels), in the orthophoto's CRS.
    - GeoJSON: RFC 7946, WGS 84 lon/lat rounded to 8 decimals (~1 mm), exterior rings counter-
      clockwise, no ``crs`` member; coordinates go through pyproj a chunk at a time and GEOS
      serialises the geometry (GDAL's driver gave the same file ~7x slower). Town-scale flights
      never cross the antimeridian, so no feature needs cutting there.
    - CSV: one row per issue with its centroid in the source CRS (x, y) and WGS 84 (lon, lat).
    """

    def __init__(self, folder: Path, crs_wkt: str):
        self.crs_wkt = crs_wkt
        self.gpkg = folder / "issues.gpkg"
        self._to_ll = to_lonlat(crs_wkt)
        self._pending: dict[str, list[Issue]] = {layer: [] for layer in LAYERS.values()}
        self.counts: dict[str, int] = {layer: 0 for layer in LAYERS.values()}
        self._geojson = open(folder / "issues.geojson", "w", encoding="utf-8")
        self._geojson.write('{"type": "FeatureCollection", "features": [\n')
        self._features = 0
        self._csv_fh = open(folder / "issues.csv", "w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._csv_fh)
        self._csv.writerow(COLUMNS + ["x", "y", "lon", "lat"])

    def add(self, issues: list[Issue]) -> None:
        for start in range(0, len(issues), EXPORT_CHUNK):
            chunk = issues[start : start + EXPORT_CHUNK]
            self._write_geojson(chunk)
            self._write_csv(chunk)
            for i in chunk:
                self._pending[LAYERS[family(i.type)]].append(i)
        for layer, pending in self._pending.items():
            if len(pending) >= EXPORT_CHUNK:
                self._flush(layer)

    def close(self, areas: list | None = None, transform=None) -> dict[str, int]:
        """Finish every file; ``areas`` (area records) become the ``*_areas`` layers."""
        for layer in LAYERS.values():
            self._flush(layer, create_empty=True)
        styled = {layer: qml_style(layer) for layer in LAYERS.values()}
        for kind in ("road", "green"):
            layer = f"{kind}_areas"
            part = areas_frame(areas or [], self.crs_wkt, transform, kind)
            part.to_file(self.gpkg, layer=layer, driver="GPKG", engine="pyogrio", geometry_type="MultiPolygon")
            self.counts[layer] = len(part)
            styled[layer] = qml_area_style()
        _write_layer_styles(self.gpkg, styled)
        self._geojson.write("]}\n")
        self.abort()
        return dict(self.counts)

    def abort(self) -> None:
        """Close the open files (the staging folder they are in is discarded by the caller)."""
        self._geojson.close()
        self._csv_fh.close()

    def _flush(self, layer: str, create_empty: bool = False) -> None:
        pending = self._pending[layer]
        if not pending and not (create_empty and self.counts[layer] == 0):
            return
        issues_frame(pending, self.crs_wkt).to_file(self.gpkg, layer=layer, driver="GPKG", engine="pyogrio",
                                                    geometry_type="MultiPolygon", append=self.counts[layer] > 0)
        self.counts[layer] += len(pending)
        self._pending[layer] = []

    def _write_geojson(self, issues: list[Issue]) -> None:
        for feature in geojson_features(issues, self._to_ll):
            self._geojson.write(f'{"," if self._features else ""}{feature}\n')
            self._features += 1

    def _write_csv(self, issues: list[Issue]) -> None:
        if not issues:
            return
        xy, lon, lat = csv_points([i.geometry for i in issues], [i.type for i in issues], self._to_ll)
        for i, (x, y), lo, la in zip(issues, xy, lon, lat):
            props = i.properties()
            self._csv.writerow([("" if props[k] is None else props[k]) for k in COLUMNS] + [f"{x:.6f}", f"{y:.6f}", f"{lo:.8f}", f"{la:.8f}"])


def to_lonlat(crs_wkt: str) -> Transformer:
    """Coordinates in the CRS of ``crs_wkt`` to WGS 84 longitude, latitude."""
    return Transformer.from_crs(CRS.from_wkt(crs_wkt), CRS.from_epsg(4326), always_xy=True)


def csv_points(geoms: list, types: list[str], to_ll: Transformer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each issue's point in the CSV: (x, y) in the source CRS, lon, lat. Cracks: their centroid; areas: a point inside."""
    g = np.asarray(geoms, dtype=object)
    points = np.where(np.array([t == "crack" for t in types]), shapely.centroid(g), shapely.point_on_surface(g))
    xy = shapely.get_coordinates(points)
    lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
    return xy, np.asarray(lon), np.asarray(lat)


def geojson_features(issues: list[Issue], to_ll: Transformer) -> list[str]:
    """One RFC 7946 Feature (JSON text) per issue; ``to_ll`` maps the orthophoto's CRS to WGS 84 lon/lat."""

    def lonlat(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_ll.transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), 8)

    geoms = np.asarray([_multi(i.geometry) for i in issues], dtype=object)
    texts = shapely.to_geojson(shapely.orient_polygons(shapely.transform(geoms, lonlat), exterior_cw=False)) if len(geoms) else []
    return [f'{{"type": "Feature", "properties": {json.dumps(i.properties(), ensure_ascii=False)}, "geometry": {g}}}'
            for i, g in zip(issues, texts)]


def write_geojson(issues: list[Issue], crs_wkt: str, path: Path) -> None:
    """Only ``issues.geojson`` (RFC 7946, see :class:`IssueLayers`) at ``path``."""
    to_ll = to_lonlat(crs_wkt)
    features = "\n,".join(geojson_features(issues, to_ll))  # the same bytes as IssueLayers writes
    path.write_text('{"type": "FeatureCollection", "features": [\n' + (features + "\n" if features else "") + "]}\n", encoding="utf-8")


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
