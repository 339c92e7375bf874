"""Geometry is sacred: a defect painted at known map coordinates comes out there, in any CRS."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from pyproj import CRS, Geod, Transformer

from conftest import lawn, write_tif
from helpers import footprint_areas, load_geojson, paint_disc, run_library
from schouw.export import write_geojson
from schouw.orthophoto import open_orthophoto

GSD = 0.02
CASES = {
    "rd_new": (28992, Affine(GSD, 0, 127000.0, 0, -GSD, 428000.0)),
    "utm31n": (32631, Affine(GSD, 0, 630000.0, 0, -GSD, 5750000.0)),
    # 52 N: 2 cm is 2.92e-7 degree of longitude and 1.80e-7 of latitude
    "wgs84_degrees": (4326, Affine(2.92e-7, 0, 5.0, 0, -1.80e-7, 52.0)),
    "web_mercator": (3857, Affine(GSD / 0.6157, 0, 556597.0, 0, -GSD / 0.6157, 6800125.0)),
    "rd_rotated_30": (28992, Affine.translation(127000.0, 428000.0) @ Affine.rotation(30) @ Affine.scale(GSD, -GSD)),
    "utm_rotated_-70": (32631, Affine.translation(630000.0, 5750000.0) @ Affine.rotation(-70) @ Affine.scale(GSD, -GSD)),
}
STRAW = (186, 166, 104)


@pytest.mark.parametrize("name", sorted(CASES))
def test_painted_patch_lands_on_its_map_coordinates(tmp_path, name):
    epsg, t = CASES[name]
    crs = CRS.from_epsg(epsg)
    bands = lawn(400, 420)
    cx, cy, r = 251.0, 143.0, 22.0
    paint_disc(bands, cx, cy, r, STRAW)
    tif = write_tif(tmp_path / f"{name}.tif", bands, crs, t)
    o = open_orthophoto(tif)
    assert o.gsd_m == pytest.approx(GSD, rel=0.01)
    areas = footprint_areas(tmp_path / "areas.geojson", o.footprint(), crs)
    o, issues = run_library(tif, areas, tmp_path / "work", tile_px=128)
    dry = [i for i in issues if i.type == "dry_grass"]
    assert len(dry) == 1, [(i.type, i.area_m2) for i in issues]
    issue = dry[0]
    # Back to pixels through the raster's own transform: independent of CRS units and rotation.
    col, row = ~t * (issue.geometry.centroid.x, issue.geometry.centroid.y)
    assert np.hypot(col - cx, row - cy) <= 2.0
    assert issue.area_m2 == pytest.approx(np.pi * (r * GSD) ** 2, rel=0.15)

    # GeoJSON is RFC 7946 lon/lat and puts the patch at the same place on the ground.
    write_geojson(issues, o.crs_wkt, tmp_path / "issues.geojson")
    fc = load_geojson(tmp_path / "issues.geojson")
    assert "crs" not in fc
    feat = next(f for f in fc["features"] if f["properties"]["type"] == "dry_grass")
    ring = np.array(feat["geometry"]["coordinates"][0][0])
    lon_c, lat_c = ring[:-1].mean(axis=0)
    assert -180 <= lon_c <= 180 and -90 <= lat_c <= 90
    lon_e, lat_e = Transformer.from_crs(crs, 4326, always_xy=True).transform(*(t * (cx, cy)))
    _, _, dist_m = Geod(ellps="WGS84").inv(lon_c, lat_c, lon_e, lat_e)
    assert dist_m <= 2 * GSD + 0.02  # ring-vertex mean vs area centroid differ slightly for a disc
