"""A flight's issues with their review status as GeoPackage (flight CRS), RFC 7946 GeoJSON or CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import shapely

from ..export import _multi, csv_points, to_lonlat
from .models import Flight, Issue
from .review import ISSUE_FIELDS, issue_feature, issue_properties

FORMATS = {"gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json", "csv": "text/csv"}
#: The properties of :func:`~schouw.catalog.review.issue_properties` that the gpkg and csv exports carry.
COLUMNS = ["id", "pipeline_id", *ISSUE_FIELDS, "updated_at"]


def _row(i: Issue) -> dict:
    p = issue_properties(i)
    return {k: p[k] for k in COLUMNS}


def export_issues(flight: Flight, issues: list[Issue], fmt: str, path: Path) -> None:
    """Write ``issues`` to ``path`` in ``fmt`` (gpkg: layer ``issues`` in the flight's CRS; csv: each issue's point
    as x, y and lon, lat, chosen as in the run's own issues.csv)."""
    if fmt == "geojson":
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [issue_feature(i) for i in issues]}), encoding="utf-8")
    elif fmt == "gpkg":
        import geopandas as gpd
        import pandas as pd
        from pyproj import CRS

        df = pd.DataFrame([_row(i) for i in issues], columns=COLUMNS)
        geoms = [_multi(shapely.from_wkb(i.geom_wkb)) for i in issues]
        gpd.GeoDataFrame(df, geometry=geoms, crs=CRS.from_wkt(flight.crs_wkt)).to_file(
            path, layer="issues", driver="GPKG", engine="pyogrio", geometry_type="MultiPolygon")
    elif fmt == "csv":
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(COLUMNS + ["x", "y", "lon", "lat"])
            if issues:
                xy, lon, lat = csv_points([shapely.from_wkb(i.geom_wkb) for i in issues], [i.type for i in issues], to_lonlat(flight.crs_wkt))
                for i, (x, y), lo, la in zip(issues, xy, lon, lat):
                    r = _row(i)
                    w.writerow([("" if r[k] is None else r[k]) for k in COLUMNS] + [f"{x:.6f}", f"{y:.6f}", f"{lo:.8f}", f"{la:.8f}"])
    else:
        raise ValueError(f"export format {fmt!r} is not known; expected one of {', '.join(FORMATS)}")
