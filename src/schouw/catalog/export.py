"""A flight's issues with their review status as GeoPackage (flight CRS), RFC 7946 GeoJSON or CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import shapely

from .models import Flight, Issue, iso
from .review import ISSUE_FIELDS, issue_feature

FORMATS = {"gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json", "csv": "text/csv"}
COLUMNS = ["id", "pipeline_id", *ISSUE_FIELDS, "updated_at"]


def _row(i: Issue) -> dict:
    return {"id": i.id, "pipeline_id": i.pipeline_id, **{k: getattr(i, k) for k in ISSUE_FIELDS}, "updated_at": iso(i.updated_at)}


def export_issues(flight: Flight, issues: list[Issue], fmt: str, path: Path) -> None:
    """Write ``issues`` to ``path`` in ``fmt`` (gpkg: layer ``issues`` in the flight's CRS; csv: a point inside each issue as x, y and lon, lat)."""
    if fmt == "geojson":
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [issue_feature(i) for i in issues]}), encoding="utf-8")
    elif fmt == "gpkg":
        import geopandas as gpd
        import pandas as pd
        from pyproj import CRS

        from ..export import _multi

        df = pd.DataFrame([_row(i) for i in issues], columns=COLUMNS)
        geoms = [_multi(shapely.from_wkb(i.geom_wkb)) for i in issues]
        gpd.GeoDataFrame(df, geometry=geoms, crs=CRS.from_wkt(flight.crs_wkt)).to_file(
            path, layer="issues", driver="GPKG", engine="pyogrio", geometry_type="MultiPolygon")
    elif fmt == "csv":
        from pyproj import CRS, Transformer

        to_ll = Transformer.from_crs(CRS.from_wkt(flight.crs_wkt), CRS.from_epsg(4326), always_xy=True)
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(COLUMNS + ["x", "y", "lon", "lat"])
            for i in issues:
                p = shapely.point_on_surface(shapely.from_wkb(i.geom_wkb))
                lon, lat = to_ll.transform(p.x, p.y)
                r = _row(i)
                w.writerow([("" if r[k] is None else r[k]) for k in COLUMNS] + [f"{p.x:.6f}", f"{p.y:.6f}", f"{lon:.8f}", f"{lat:.8f}"])
    else:
        raise ValueError(f"export format {fmt!r} is not known; expected one of {', '.join(FORMATS)}")
