"""AREAS files: recognition (plain 'area', BGT layers and attributes, user mapping), reprojection, refusals."""

from __future__ import annotations

import shutil
import subprocess
import sys

import geopandas as gpd
import pytest
import shapely
from affine import Affine
from pyproj import CRS

from conftest import lawn, write_tif
from schouw.areas import AreaMapping, rasterize_areas, read_areas, save_areas
from schouw.errors import AreasError
from schouw.orthophoto import open_orthophoto

RD = CRS.from_epsg(28992)
T = Affine(0.02, 0, 127000.0, 0, -0.02, 428000.0)
ROAD_BOX = shapely.box(127000.0, 427999.0, 127002.0, 428000.0)  # top half of a 2 x 2 m raster
GREEN_BOX = shapely.box(127000.0, 427998.0, 127002.0, 427999.0)


@pytest.fixture
def ortho(tmp_path):
    return open_orthophoto(write_tif(tmp_path / "o.tif", lawn(100, 100), RD, T))


def _gdf(rows, crs=RD, **cols):
    return gpd.GeoDataFrame(cols, geometry=rows, crs=crs)


def test_plain_geojson_area_property_in_wgs84(tmp_path, ortho):
    p = tmp_path / "a.geojson"
    _gdf([ROAD_BOX, GREEN_BOX], area=["road", "green"]).to_crs(4326).to_file(p, driver="GeoJSON")
    a = read_areas(p, ortho.crs_wkt, ortho.footprint())
    assert a.counts() == {"road": 1, "green": 1} and a.recognised_by == "property 'area'"
    # reprojected back into RD New: the road box is where it was, to the millimetre
    assert a.road[0].hausdorff_distance(ROAD_BOX) < 0.005


def test_bgt_layers_in_geopackage(tmp_path, ortho):
    p = tmp_path / "bgt.gpkg"
    _gdf([ROAD_BOX], fysiekVoorkomen=["gesloten verharding"]).to_file(p, layer="wegdeel")
    _gdf([GREEN_BOX], fysiekVoorkomen=["groenvoorziening"]).to_file(p, layer="begroeidterreindeel")
    a = read_areas(p, ortho.crs_wkt, ortho.footprint())
    assert a.counts() == {"road": 1, "green": 1}
    assert "BGT" in a.recognised_by


def test_bgt_layer_name_alone(tmp_path, ortho):
    p = tmp_path / "bgt2.gpkg"
    _gdf([ROAD_BOX], lokaalid=["G0001"]).to_file(p, layer="bgt_wegdeel")
    a = read_areas(p, ortho.crs_wkt, ortho.footprint())
    assert a.counts() == {"road": 1, "green": 0}


def test_shapefile_with_user_mapping(tmp_path, ortho):
    p = tmp_path / "landuse.shp"
    _gdf([ROAD_BOX, GREEN_BOX, shapely.box(127000, 427998, 127000.5, 427998.5)], kind=["Asphalt", "lawn", "pond"]).to_file(p)
    a = read_areas(p, ortho.crs_wkt, ortho.footprint(), AreaMapping("kind", road=("asphalt",), green=("lawn",)))
    assert a.counts() == {"road": 1, "green": 1}


def test_rasterized_masks_follow_the_polygons(tmp_path, ortho):
    p = tmp_path / "a.geojson"
    _gdf([ROAD_BOX, GREEN_BOX], area=["road", "green"]).to_file(p, driver="GeoJSON")
    a = read_areas(p, ortho.crs_wkt, ortho.footprint())
    save_areas(a, tmp_path / "areas.pickle")
    m = rasterize_areas(str(tmp_path / "areas.pickle"), (100, 100), T)
    assert m["road"][:50].all() and not m["road"][50:].any()
    assert m["green"][50:].all() and not m["green"][:50].any()


@pytest.mark.parametrize(
    "case, fragment",
    [
        ("unreadable", "cannot be read as a vector file"),
        ("points", "contains no polygons"),
        ("elsewhere", "do not overlap the orthophoto"),
        ("unrecognised", "no feature is recognised as road or green"),
        ("empty", "empty (0 bytes)"),
    ],
)
def test_bad_areas_refused(tmp_path, ortho, case, fragment):
    p = tmp_path / f"{case}.geojson"
    if case == "unreadable":
        p.write_text("{ this is not json")
    elif case == "empty":
        p.write_text("")
    elif case == "points":
        _gdf([shapely.Point(127001, 427999)], area=["road"]).to_file(p, driver="GeoJSON")
    elif case == "elsewhere":
        _gdf([shapely.box(150000, 450000, 150010, 450010)], area=["road"]).to_file(p, driver="GeoJSON")
    else:
        _gdf([ROAD_BOX], colour=["grey"]).to_file(p, driver="GeoJSON")
    with pytest.raises(AreasError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        read_areas(p, ortho.crs_wkt, ortho.footprint())
    # and through the CLI: exit 2, one error line, no output folder
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "schouw", "inspect", ortho.path, "--areas", str(p), "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 2 and r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not out.exists()


def test_a_raster_given_as_areas_is_said_in_gdals_first_sentence(tmp_path, ortho):
    """The orthophoto itself given as AREAS: GDAL's reason is given whole up to its first full stop, without the hint it
    appends ("It might help to specify the correct driver …") cut off mid-word, as the error line once had it."""
    raster = tmp_path / "the_orthophoto_given_as_areas.tif"
    shutil.copy(ortho.path, raster)
    with pytest.raises(AreasError) as err:
        read_areas(raster, ortho.crs_wkt, ortho.footprint())
    assert str(err.value) == (f"{raster}: cannot be read as a vector file ('{raster}' not recognized as being in a "
                              "supported file format); expected GeoPackage, GeoJSON or Shapefile")
