"""Crack pieces along an estimated verge are its edge (``schouw.detect.verge``): only where the road/green border is
the automatic segmentation's estimate, only along it, and only beside a road wide enough to have a middle."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import rasterio.features
from rasterio.crs import CRS
from rasterio.transform import from_origin
from shapely.geometry import box

from helpers import paint_line, run_library
from schouw.detect.base import defects_mask
from schouw.detect.road import RoadParams, detect_road
from schouw.detect.verge import verge_band
from schouw.photos import detect_photo
from schouw.synth import plain_asphalt, write_geotiff

GSD = 0.025  # drone resolution, m per pixel


def verge_scene(road_m: float = 6.0, verge_m: float = 2.0, h_m: float = 5.0, at_m: float = 0.4, lawn_right: bool = False,
                transverse: bool = False, seed: int = 0):
    """A lawn ``verge_m`` wide left of a road ``road_m`` wide (and another right of it with ``lawn_right``), and a
    wandering crack 3 m long: along the road between 0.2 and 0.6 m from the lawn (about ``at_m``), or across it from
    the lawn with ``transverse``. Returns (RGB uint8, road, green, crack's pixels)."""
    h, wv, wr = round(h_m / GSD), round(verge_m / GSD), round(road_m / GSD)
    w = wv + wr + (wv if lawn_right else 0)
    img = plain_asphalt(h, w, seed)
    rng = np.random.default_rng(seed)
    green = np.zeros((h, w), bool)
    green[:, :wv] = True
    if lawn_right:
        green[:, wv + wr :] = True
    lawn = np.array([72, 118, 48], np.float32) + rng.normal(0, 10, (h, w, 1)).astype(np.float32)
    img[green] = np.clip(lawn, 0, 255).astype(np.uint8)[green]
    if transverse:
        x, y, a = wv + 2.0, h / 2, 0.0
    else:
        x, y, a = wv + at_m / GSD, (h - 3.0 / GSD) / 2, math.pi / 2
    pts = []
    for _ in range(round(3.0 / GSD / 4) + 1):
        pts.append((x, y))
        a += rng.normal(0, 0.15)
        x, y = x + 4 * math.cos(a), y + 4 * math.sin(a)
        if not transverse:
            x = min(max(x, wv + 0.2 / GSD), wv + 0.6 / GSD)
    crack = paint_line(img, np.round(pts).astype(np.int32), 2, 0.45)
    return img, ~green, green, crack


def found_share(img, road, green, crack, estimated: bool, p: RoadParams = RoadParams()) -> float:
    """The share of the painted crack's pixels that the road detectors report as crack."""
    cracks = [d for d in detect_road(img, np.ones(road.shape, bool), road, GSD, p, green, estimated=estimated)
              if d.type == "crack"]
    return float((defects_mask(cracks, road.shape) & crack).sum() / crack.sum())


def test_a_crack_along_an_estimated_verge_is_its_edge():
    img, road, green, crack = verge_scene()
    assert found_share(img, road, green, crack, estimated=False) > 0.9  # the crack is found ...
    assert found_share(img, road, green, crack, estimated=True) == 0.0  # ... and dropped where the border is estimated
    assert found_share(img, road, green, crack, True, RoadParams(verge_band_m=0)) > 0.9  # the rule off


@pytest.mark.parametrize("seed", [0, 1])
def test_a_crack_running_across_the_road_from_the_verge_is_kept(seed):
    img, road, green, crack = verge_scene(transverse=True, seed=seed)
    assert found_share(img, road, green, crack, estimated=True) > 0.9


def test_a_footpath_between_lawns_keeps_its_cracks():
    img, road, green, crack = verge_scene(road_m=2.5, lawn_right=True)
    assert found_share(img, road, green, crack, estimated=True) > 0.9
    ones = np.ones(road.shape, bool)
    assert not verge_band(road, green, ones, GSD).any()
    _, road, green, _ = verge_scene(road_m=4.5, lawn_right=True)  # a street of 4.5 m between verges is judged
    assert verge_band(road, green, np.ones(road.shape, bool), GSD).any()


def test_the_band_is_a_metre_of_road_beside_the_green_and_none_beside_other_borders():
    """Beside the lawn a metre of road; beside a border that is not green (a kerb, a painted median: 30 cm of
    non-road on the road's other side) none."""
    _, road, green, _ = verge_scene()
    kerb = np.zeros_like(road)
    kerb[:, -round(0.3 / GSD) :] = True
    band = verge_band(road & ~kerb, green, np.ones(road.shape, bool), GSD)
    d_px = np.arange(road.shape[1]) - round(2.0 / GSD)  # pixels from the lawn's edge
    cover = band.mean(axis=0)
    assert cover[(d_px >= 0) & (d_px < 0.9 / GSD)].min() > 0.9
    assert cover[d_px > 1.15 / GSD].max() == 0.0  # the kerb's side included
    assert not verge_band(road, np.zeros_like(green), np.ones(road.shape, bool), GSD).any()


def test_photo_mode_judges_the_verge_of_a_drone_photo():
    """detect-image segments a drone photo itself, so its road edge is an estimate."""
    img, _, _, crack = verge_scene(h_m=8.0)
    mask, _ = detect_photo(img, GSD)
    assert (mask[crack] > 0).mean() == 0.0
    mask, _ = detect_photo(img, GSD, RoadParams(verge_band_m=0))
    assert (mask[crack] > 0).mean() > 0.9


def test_an_orthophoto_with_areas_keeps_the_crack_and_one_without_drops_it(tmp_path):
    """With an AREAS file the border is surveyed: the rule is for the automatic segmentation only."""
    img, road, green, crack = verge_scene(h_m=8.0)
    transform = from_origin(120_000.0, 480_000.0, GSD, GSD)
    crs = CRS.from_epsg(28992)
    tif = tmp_path / "verge.tif"
    write_geotiff(tif, img.astype(np.float32), np.ones(road.shape, bool), transform, crs, quality=95)
    x_verge = 120_000.0 + 2.0
    top, bottom = 480_000.0, 480_000.0 - img.shape[0] * GSD
    areas = tmp_path / "areas.gpkg"
    gpd.GeoDataFrame({"area": ["green", "road"]},
                     geometry=[box(120_000.0, bottom, x_verge, top), box(x_verge, bottom, 120_000.0 + img.shape[1] * GSD, top)],
                     crs="EPSG:28992").to_file(areas)

    def reported(areas_file) -> float:
        _, issues = run_library(tif, areas_file, tmp_path / ("with" if areas_file else "without"))
        geoms = [i.geometry for i in issues if i.type == "crack"]
        if not geoms:
            return 0.0
        drawn = rasterio.features.rasterize(geoms, out_shape=road.shape, transform=transform, all_touched=True) > 0
        return float(drawn[crack].mean())

    assert reported(areas) > 0.9
    assert reported(None) == 0.0
