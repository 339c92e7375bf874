"""Grey ground that is not paving (dry grass, litter, soil with stones): the automatic segmentation keeps it out of the
road, so the road detectors do not mark it (``schouw.detect.segment.rough_ground``)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import rasterio

import schouw.detect.segment as seg_mod
from conftest import SHARED
from schouw.detect.segment import rough_ground, segment_areas
from schouw.photos import read_photo
from schouw.synth import litter_ground, plain_asphalt

DRY_TILE = SHARED / "orthophotos" / "dry_grass_shrub_1p8cm.tif"
RDD = SHARED / "road_damage_drone" / "rdd2022_china_drone"


def _pavers(h: int, w: int, gsd_m: float, seed: int = 1) -> np.ndarray:
    """20 x 10 cm blocks in stretcher bond, each its own shade, with dark joints one pixel wide (grey, uint8)."""
    rng = np.random.default_rng(seed)
    bw, bh = round(0.2 / gsd_m), round(0.1 / gsd_m)
    img = np.zeros((h, w), np.float32)
    for r in range(0, h, bh):
        off = (r // bh % 2) * bw // 2
        for c in range(-off, w, bw):
            img[r : r + bh, max(c, 0) : c + bw] = rng.uniform(105, 175)
        img[r : r + bh, off::bw] = 70
    img[::bh, :] = 70
    img = np.clip(img + rng.normal(0, 5, img.shape), 0, 255).astype(np.uint8)
    return np.dstack([img] * 3)


@pytest.mark.parametrize("gsd", [0.01, 0.02, 0.03])
def test_litter_is_not_road_and_asphalt_beside_it_is(gsd, monkeypatch):
    n = int(6 / gsd)
    img = plain_asphalt(n, n)
    img[:, n // 2 :] = litter_ground(n, n - n // 2, gsd)
    valid = np.ones((n, n), bool)
    road = segment_areas(img, valid, gsd)["road"]
    assert road[:, : n // 2 - int(0.5 / gsd)].mean() > 0.95  # the asphalt, half a metre from the edge on
    assert road[:, n // 2 + int(0.5 / gsd) :].mean() < 0.02  # the litter
    monkeypatch.setattr(seg_mod, "ROUGH_MAX_GSD_M", 0.0)  # the rule off: the litter is as grey as asphalt
    assert segment_areas(img, valid, gsd)["road"][:, n // 2 + int(0.5 / gsd) :].mean() > 0.9


@pytest.mark.parametrize("gsd", [0.01, 0.02, 0.025])
def test_paving_blocks_with_dark_joints_stay_road(gsd, monkeypatch):
    n = int(6 / gsd)
    img, valid = _pavers(n, n, gsd), np.ones((n, n), bool)
    assert segment_areas(img, valid, gsd)["road"].mean() > 0.95
    monkeypatch.setattr(seg_mod, "ROUGH_MAX_GRID_COHERENCE", 2.0)  # without the grid test the joints' shade is litter's
    assert segment_areas(img, valid, gsd)["road"].mean() < 0.05


def test_coarser_than_the_shadows_the_rule_is_off():
    n = 200
    img = litter_ground(n, n, 0.1)
    assert not rough_ground(img, np.ones((n, n), bool), 0.1).any()


def test_the_sample_scenes_road_and_its_defects_are_not_rough():
    """The sample holds an alligator patch, dark cracks, potholes and tree shadows on its road."""
    with rasterio.open("sample_data/sample_orthophoto.tif") as src:
        img, valid = np.moveaxis(src.read([1, 2, 3]), 0, -1), src.read_masks(1) > 0
        gsd = abs(src.transform.a)
    assert not rough_ground(img, valid, gsd).any()


@pytest.mark.skipif(not DRY_TILE.is_file(), reason="../shared/data orthophotos not present")
def test_real_dry_grass_tile_is_hardly_road(monkeypatch):
    """A drone tile of shrub over dry grass, litter and soil (1.8 cm per pixel), without a road in it."""
    with rasterio.open(DRY_TILE) as src:
        img, valid = np.moveaxis(src.read([1, 2, 3]), 0, -1), src.read_masks(1) > 0
        gsd = abs(src.transform.a)
    assert segment_areas(img, valid, gsd)["road"][valid].mean() < 0.12  # 0.07 when written
    monkeypatch.setattr(seg_mod, "ROUGH_MAX_GSD_M", 0.0)
    assert segment_areas(img, valid, gsd)["road"][valid].mean() > 0.5  # 0.62 without the rule


@pytest.mark.skipif(not RDD.is_dir(), reason="../shared/data RDD2022 not present")
def test_real_drone_photos_rough_only_outside_damage_boxes():
    """On RDD2022's 200 road photos (2.5 cm per pixel) the rough ground found is hedges and verges, never in a box."""
    boxes: dict[str, list[tuple[int, int, int, int]]] = {}
    with open(RDD / "boxes.csv") as fh:
        for r in csv.DictReader(fh):
            boxes.setdefault(r["image"], []).append((int(r["xmin"]), int(r["ymin"]), int(r["xmax"]), int(r["ymax"])))
    photos_with = 0
    for path in sorted((RDD / "images").glob("*.jpg")):
        rgb = read_photo(path)
        rough = rough_ground(rgb, rgb.max(axis=2) > 8, 0.025)
        photos_with += bool(rough.any())
        for x0, y0, x1, y1 in boxes.get(path.name, []):
            assert not rough[y0:y1, x0:x1].any(), f"{path.name}: rough ground in a damage box"
    assert photos_with >= 10  # 17 when written: the photos with hedges and soil verges beside the road
