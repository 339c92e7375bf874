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


def test_broken_out_pothole_over_four_tiles_is_one_issue_as_in_one_tile(tmp_path):
    """A broken-out pothole (detect.spalls) is known by the cracks round it, found in each tile's own window: where
    four tiles meet on it, it is still one pothole, of the area one tile finds, and its edge no crack."""
    from schouw.synth import paint_broken_out

    img = np.ascontiguousarray(np.moveaxis(asphalt(300, 300), 0, -1))
    truth = paint_broken_out(img, 128, 128, 0.45 / 0.025, seed=1, edge_px=2)
    tif = write_tif(tmp_path / "hole.tif", np.ascontiguousarray(np.moveaxis(img, -1, 0)), RD,
                    Affine(0.025, 0, 127000.0, 0, -0.025, 428000.0))
    areas = footprint_areas(tmp_path / "areas.geojson", open_orthophoto(tif).footprint(), RD, kind="road")
    _, whole = run_library(tif, areas, tmp_path / "one", tile_px=1024)
    _, issues = run_library(tif, areas, tmp_path / "four", tile_px=128, overlap_m=1.0)
    assert [(i.type, i.tiles) for i in issues] == [("pothole", 4)], [(i.type, i.tiles) for i in issues]
    assert [i.type for i in whole] == ["pothole"]
    assert issues[0].area_m2 == pytest.approx(whole[0].area_m2, rel=0.02)
    assert issues[0].area_m2 == pytest.approx(truth.sum() * 0.025**2, rel=0.3)


def test_streamed_publish_equals_merging_everything_at_once(tmp_path, monkeypatch):
    """Row-by-row merging from the checkpoint store gives exactly the issues of an all-at-once merge,
    while holding only about a row of tiles' pieces at a time."""
    from conftest import SAMPLE
    from schouw.checkpoint import Checkpoints
    from schouw.params import InspectParams
    from schouw.pipeline import SeamMerger, finish, make_tiles, prepare_areas, process_tiles, publish_stream

    o = open_orthophoto(SAMPLE / "sample_orthophoto.tif")
    p = InspectParams(tile_px=128)  # 12 rows of tiles
    ap, _ = prepare_areas(o, SAMPLE / "sample_areas.geojson", tmp_path)
    specs = make_tiles(o, p)
    store = Checkpoints(tmp_path / "out", "k")
    summary = process_tiles(o, specs, ap, p, store=store)
    assert summary.pieces == [] and summary.tiles == len(specs)  # defect pieces stay in the store

    most_open = []
    add = SeamMerger.add

    def watching_add(self, pieces, done_above_px=None):
        out = add(self, pieces, done_above_px)
        most_open.append(sum(len(v) for v in self._open.values()))
        return out

    class Collect:
        def __init__(self):
            self.issues, self.thumbs = [], 0

        def add_thumbs(self, thumbs):
            self.thumbs += len(thumbs)

        def add(self, issues):
            self.issues += issues

    got = Collect()
    monkeypatch.setattr(SeamMerger, "add", watching_add)
    records = publish_stream(o, store, specs, summary, "k", p, ap, got)
    monkeypatch.undo()
    want, want_records = finish(o, process_tiles(o, specs, ap, p), "k", p, ap)
    key = lambda i: (i.type, i.id)  # noqa: E731
    assert len(got.issues) == len(want) > 10
    for a, b in zip(sorted(got.issues, key=key), sorted(want, key=key)):
        assert (a.id, a.type, a.subtype, a.severity, a.tiles) == (b.id, b.type, b.subtype, b.severity, b.tiles)
        assert a.area_m2 == pytest.approx(b.area_m2) and a.geometry.equals(b.geometry)
    assert [r.properties() for r in records] == [r.properties() for r in want_records]
    assert got.thumbs == len(specs)
    total_pieces = sum(len(store.load(s.tile_id).pieces) for s in specs)
    assert max(most_open) < total_pieces / 3  # never the whole flight's pieces at once
