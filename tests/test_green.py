"""Green-area detectors: patches measured by IoU on varied synthetic scenes, traps left alone,
NIR, overgrowth with and without AREAS, and per-area quality levels."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import CRS

from conftest import ROOT, write_tif
from helpers import run_library_with_areas
from schouw.detect.segment import segment_areas
from schouw.quality import area_records, quality_level, share_severity
from schouw.synth_green import green_scene

sys.path.insert(0, str(ROOT / "benchmarks"))
from score_green import CASTS, predict  # noqa: E402  (the benchmark's own scoring path)

RD = CRS.from_epsg(28992)


def _iou(a, b):
    return (a & b).sum() / max((a | b).sum(), 1)


@pytest.mark.parametrize("seed, gsd, light, cast", [(11, 0.02, 1.0, "neutral"), (12, 0.05, 0.7, "warm"), (13, 0.10, 1.3, "cool")])
def test_dry_and_bare_iou_and_no_false_alarms_on_traps(seed, gsd, light, cast):
    s = green_scene(seed, gsd, light=light, cast=CASTS[cast])
    pred = predict(s)
    assert _iou(pred["dry_grass"], s.truth["dry_grass"]) >= 0.8
    assert _iou(pred["bare_soil"], s.truth["bare_soil"]) >= 0.8
    flagged = pred["dry_grass"] | pred["bare_soil"]
    assert (flagged & s.traps["shadow_lawn"]).sum() <= 0.01 * s.traps["shadow_lawn"].sum()
    for trap in ("crown", "flowers", "leaves", "water"):
        assert (flagged & s.traps[trap]).sum() <= 0.01 * max(s.traps[trap].sum(), 1), trap


def test_nir_band_gives_the_same_quality():
    s = green_scene(21, 0.03)
    pred = predict(s, nir=True)
    assert _iou(pred["dry_grass"], s.truth["dry_grass"]) >= 0.8
    assert _iou(pred["bare_soil"], s.truth["bare_soil"]) >= 0.8


def test_water_and_roofs_are_never_green_areas_automatically():
    s = green_scene(5, 0.05)
    img = s.rgb.copy()
    img[:120, :200] = (150, 90, 70)  # a red-brown roof, 6 x 10 m
    seg = segment_areas(img, np.ones(img.shape[:2], bool), 0.05)
    assert seg["green"][10:110, 10:190].mean() < 0.05
    assert seg["green"][s.traps["water"]].mean() < 0.2  # a pond inside a lawn: at most its rim


def _scene_tif(tmp_path: Path, s, nir: bool = False) -> tuple[Path, Affine]:
    t = Affine(s.gsd_m, 0, 127000.0, 0, -s.gsd_m, 428000.0)
    bands = np.moveaxis(s.rgb, -1, 0)
    kw = {}
    if nir:
        bands = np.concatenate([bands, s.nir[None]])
    path = write_tif(tmp_path / "scene.tif", bands, RD, t, **kw)
    if nir:
        import rasterio

        with rasterio.open(path, "r+") as ds:
            ds.set_band_description(4, "nir")
    return path, t


def _areas_file(tmp_path: Path, s, t: Affine) -> Path:
    import geopandas as gpd

    n = s.rgb.shape[0]
    road_cols = np.nonzero(s.road[0])[0]
    x_split = (t * (road_cols.min(), 0))[0]
    left, top = t * (0, 0)
    right, bottom = t * (n, n)
    gdf = gpd.GeoDataFrame({"area": ["green", "road"], "name": ["park", "street"]},
                           geometry=[shapely.box(left, bottom, x_split, top), shapely.box(x_split, bottom, right, top)], crs=RD)
    gdf.to_file(tmp_path / "areas.gpkg", layer="areas")
    return tmp_path / "areas.gpkg"


@pytest.mark.parametrize("with_areas", [True, False], ids=["areas-file", "automatic"])
def test_overgrowth_onto_the_road(tmp_path, with_areas):
    s = green_scene(31, 0.04)
    tif, t = _scene_tif(tmp_path, s)
    areas = _areas_file(tmp_path, s, t) if with_areas else None
    _, issues, records = run_library_with_areas(tif, areas, tmp_path / "w", tile_px=256)
    over = [i for i in issues if i.type == "overgrowth"]
    assert len(over) == 1, [(i.type, i.area_m2) for i in issues]
    truth_m2 = s.truth["overgrowth"].sum() * s.gsd_m**2
    assert over[0].area_m2 == pytest.approx(truth_m2, rel=0.35)
    assert over[0].length_m == pytest.approx(2.5, rel=0.3)  # painted along 2.5 m of the border
    assert not [i for i in issues if i.type == "weeds_in_pavement"]
    kinds = {r.kind for r in records}
    assert kinds == {"road", "green"}


def test_nir_orthophoto_through_the_pipeline(tmp_path):
    s = green_scene(41, 0.05)
    tif, t = _scene_tif(tmp_path, s, nir=True)
    o, issues, records = run_library_with_areas(tif, _areas_file(tmp_path, s, t), tmp_path / "w", tile_px=256)
    assert o.nir_band == 4
    found = {i.type for i in issues}
    assert {"dry_grass", "bare_soil"} <= found
    green = [r for r in records if r.kind == "green"][0]
    painted = (s.truth["dry_grass"].sum() + s.truth["bare_soil"].sum()) * s.gsd_m**2
    props = green.properties()
    assert props["dry_grass_m2"] + props["bare_soil_m2"] == pytest.approx(painted, rel=0.2)
    assert props["quality_level"] == quality_level(props["affected_share"], "green")


def test_quality_levels_follow_the_crow_table():
    assert [quality_level(x, "weeds") for x in (0.0, 0.01, 0.03, 0.07, 0.09)] == ["A+", "A", "B", "C", "D"]
    assert quality_level(0.02, "weeds") == "A" and quality_level(0.0201, "weeds") == "B"
    assert [quality_level(x, "green") for x in (0, 0.02, 0.05, 0.15, 0.3)] == ["A+", "A", "B", "C", "D"]


def test_area_records_measure_shares_in_pixel_space():
    lawn = shapely.box(0, 0, 100, 100)  # 10,000 px
    street = shapely.box(100, 0, 150, 100)
    issues = [("dry_grass", shapely.box(10, 10, 30, 30)), ("bare_soil", shapely.box(90, 0, 120, 10)), ("weeds_in_pavement", shapely.box(110, 10, 120, 20)),
              ("ravelling", shapely.box(120, 50, 160, 70)), ("crack", shapely.box(105, 80, 145, 82))]
    recs = area_records({"green": [("lawn", lawn)], "road": [("street", street)]}, issues, shapely.box(0, 0, 150, 100), 0.0004)
    green = next(r for r in recs if r.kind == "green").properties()
    road = next(r for r in recs if r.kind == "road").properties()
    assert green["dry_grass_m2"] == pytest.approx(400 * 0.0004)
    assert green["bare_soil_m2"] == pytest.approx(100 * 0.0004)  # only the part inside the lawn
    assert green["affected_share"] == pytest.approx(0.05) and green["quality_level"] == "B"
    assert road["weeds_share"] == pytest.approx(100 / 5000) and road["weeds_level"] == "A"
    # ravelling: its area and its share of the road surface (only the part inside the street: 30 x 20 px)
    assert road["ravelling_m2"] == pytest.approx(600 * 0.0004) and road["ravelling_share"] == pytest.approx(600 / 5000)
    assert road["damaged_share"] == pytest.approx((600 + 80) / 5000) and road["quality_level"] == quality_level(0.136, "road_damage")
    assert share_severity("L", 0.3) == "E" and share_severity("M", 0.01) == "M"


def _mesh(x0: int, y0: int, size_px: int, cell_px: int, line_px: int = 2):
    """A network of cracks: lines ``line_px`` wide every ``cell_px`` over a square of ``size_px`` (pixel space)."""
    lines = [shapely.box(x0 + k, y0, x0 + k + line_px, y0 + size_px) for k in range(0, size_px + 1, cell_px)]
    lines += [shapely.box(x0, y0 + k, x0 + size_px + line_px, y0 + k + line_px) for k in range(0, size_px + 1, cell_px)]
    return shapely.union_all(lines)


def test_alligator_cracking_counts_by_the_surface_it_covers():
    """ASTM D6433 measures alligator cracking by its surface: the network with its cells (up to 0.3 m), not its lines.
    Longitudinal cracks of the same lines count by their own area, and so does a mesh of cells larger than 0.3 m."""
    street = shapely.box(0, 0, 500, 500)  # 10 x 10 m at 2 cm per pixel: 250,000 px
    fine = _mesh(100, 100, 100, 10)  # 2 x 2 m of 20 cm cells
    coarse = _mesh(300, 300, 150, 30)  # 3 x 3 m of 60 cm cells
    box = shapely.box(0, 0, 500, 500)

    def damaged(issues):
        rec = area_records({"road": [("street", street)]}, issues, box, 0.0004)[0].properties()
        return rec["damaged_m2"] / 0.0004

    assert damaged([("crack", fine, "alligator")]) == pytest.approx(102 * 102, rel=0.01)  # lines and cells
    assert fine.area < 0.5 * 102 * 102
    assert damaged([("crack", fine, "longitudinal")]) == pytest.approx(fine.area, rel=0.01)
    assert damaged([("crack", fine)]) == pytest.approx(fine.area, rel=0.01)  # no subtype: its own geometry
    # cells over 0.3 m stay open (only their corners fill, as any closing's do): far from the 152 x 152 px surface
    assert coarse.area <= damaged([("crack", coarse, "alligator")]) < 0.3 * 152 * 152
