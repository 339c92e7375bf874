"""Seam merge: a defect crossing tile borders and corners comes out as exactly one issue, whole."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from affine import Affine
from pyproj import CRS

from conftest import asphalt, lawn, write_tif
from helpers import footprint_areas, paint_disc, run_library
from schouw.orthophoto import open_orthophoto

RD = CRS.from_epsg(28992)
T = Affine(0.02, 0, 127000.0, 0, -0.02, 428000.0)


def _crack(bands: np.ndarray, pts: np.ndarray, width_px: int = 2, darkness: float = 0.4) -> None:
    m = np.zeros(bands.shape[1:], np.uint8)
    cv2.polylines(m, [np.round(pts * 16).astype(np.int32)], False, 255, width_px, cv2.LINE_AA, shift=4)
    a = m.astype(np.float32) / 255.0
    bands[:] = (bands * (1 - a * (1 - darkness))).astype(np.uint8)


@pytest.mark.parametrize("tile_px", [128, 96])
def test_crack_through_tile_corners_is_one_issue(tmp_path, tile_px):
    bands = asphalt(400, 400)
    # Through the points where four tiles meet (multiples of 128), with a gentle bend.
    t = np.linspace(0, 1, 60)
    pts = np.column_stack([20 + 350 * t, 20 + 350 * t + 6 * np.sin(t * 9)])
    _crack(bands, pts)
    tif = write_tif(tmp_path / "crack.tif", bands, RD, T)
    o = open_orthophoto(tif)
    areas = footprint_areas(tmp_path / "areas.geojson", o.footprint(), RD, kind="road")
    _, issues = run_library(tif, areas, tmp_path / "w", tile_px=tile_px, overlap_m=0.5)
    cracks = [i for i in issues if i.type == "crack"]
    assert len(cracks) == 1, [(i.type, i.length_m) for i in issues]
    assert cracks[0].tiles >= 5  # it really was stitched from many tiles
    painted_m = np.hypot(*np.diff(pts, axis=0).T).sum() * 0.02
    assert cracks[0].length_m == pytest.approx(painted_m, rel=0.12)
    assert cracks[0].subtype in ("longitudinal", "transverse")
    assert not [i for i in issues if i.type != "crack"]


def test_patch_over_four_tiles_is_one_issue_with_full_area(tmp_path):
    bands = lawn(300, 300)
    paint_disc(bands, 128.0, 128.0, 40.0, (186, 166, 104))
    tif = write_tif(tmp_path / "dry.tif", bands, RD, T)
    o = open_orthophoto(tif)
    areas = footprint_areas(tmp_path / "areas.geojson", o.footprint(), RD)
    _, issues = run_library(tif, areas, tmp_path / "w", tile_px=128, overlap_m=0.4)
    assert [i.type for i in issues] == ["dry_grass"]
    assert issues[0].tiles == 4
    assert issues[0].area_m2 == pytest.approx(np.pi * (40 * 0.02) ** 2, rel=0.08)
    assert issues[0].geometry.geom_type == "Polygon"  # pieces share exact pixel edges: no slivers
