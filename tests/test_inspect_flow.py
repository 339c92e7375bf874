"""The demo, end to end through a real Prefect flow run: outputs, truth recall, no-data, reruns."""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from conftest import SAMPLE
from schouw import synth
from schouw.issues import ISSUE_TYPES

ORTHO = SAMPLE / "sample_orthophoto.tif"
AREAS = SAMPLE / "sample_areas.geojson"
TRUTH = SAMPLE / "sample_truth.geojson"


@pytest.fixture(scope="module")
def demo(prefect_harness, tmp_path_factory):
    from flows.inspect_flight import inspect_flight

    out = tmp_path_factory.mktemp("demo") / "sample"
    run = inspect_flight(orthophoto=str(ORTHO), out_dir=str(out), areas=str(AREAS))
    return run, out


def _layers(out):
    parts = [gpd.read_file(out / "issues.gpkg", layer=name) for name in ("road_issues", "green_issues")]
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)


def test_all_outputs_written(demo):
    run, out = demo
    names = {p.name for p in out.iterdir()}
    assert names == {"issues.gpkg", "issues.geojson", "issues.csv", "preview.png", "report.html", "run.json"}
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_geopackage_layers_crs_and_qgis_styles(demo):
    run, out = demo
    layers = dict(pyogrio.list_layers(out / "issues.gpkg"))
    assert {"road_issues", "green_issues", "road_areas", "green_areas", "layer_styles"} <= set(layers)
    road = gpd.read_file(out / "issues.gpkg", layer="road_issues")
    green = gpd.read_file(out / "issues.gpkg", layer="green_issues")
    assert road.crs.to_epsg() == 28992 and green.crs.to_epsg() == 28992
    assert set(road["type"]) <= {"crack", "pothole", "ravelling", "weeds_in_pavement"} and len(road)
    assert set(green["type"]) <= {"dry_grass", "bare_soil", "overgrowth"} and len(green)
    assert len(road) + len(green) == run["counts"]["total"]
    areas = gpd.read_file(out / "issues.gpkg", layer="road_areas")
    assert len(areas) and {"weeds_share", "ravelling_m2", "ravelling_share", "damaged_share", "quality_level"} <= set(areas.columns)
    assert ((areas["ravelling_share"] >= 0) & (areas["ravelling_share"] <= areas["damaged_share"])).all()
    con = sqlite3.connect(out / "issues.gpkg")
    rows = con.execute("SELECT f_table_name, styleQML, useAsDefault FROM layer_styles").fetchall()
    con.close()
    assert {r[0] for r in rows} == {"road_issues", "green_issues", "road_areas", "green_areas"} and all(r[2] == 1 for r in rows)
    for name, qml, _ in rows:
        root = ET.fromstring(qml.split("\n", 1)[1])
        attr = "quality_level" if name.endswith("_areas") else "severity"
        assert root.find("renderer-v2").get("attr") == attr
        values = {c.get("value") for c in root.iter("category")}
        assert values == ({"A+", "A", "B", "C", "D"} if name.endswith("_areas") else {"L", "M", "E"})


def test_geojson_is_rfc7946_with_required_properties(demo):
    run, out = demo
    fc = json.loads((out / "issues.geojson").read_text())
    assert "crs" not in fc and len(fc["features"]) == run["counts"]["total"]
    for f in fc["features"]:
        p = f["properties"]
        assert p["type"] in ISSUE_TYPES and p["severity"] in ("L", "M", "E")
        assert 0 <= p["confidence"] <= 1 and p["area_m2"] > 0 and p["flight"] == "sample_orthophoto"
        assert (p["length_m"] is not None) == (p["type"] in ("crack", "overgrowth"))
        lon, lat = np.array(f["geometry"]["coordinates"][0][0]).mean(axis=0)
        assert 4.98 < lon < 4.99 and 51.84 < lat < 51.85  # Gorinchem, in lon/lat order
    ids = [f["properties"]["id"] for f in fc["features"]]
    assert len(set(ids)) == len(ids)


def test_csv_one_row_per_issue_with_both_coordinates(demo):
    run, out = demo
    with open(out / "issues.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == run["counts"]["total"]
    for r in rows:
        assert 127400 < float(r["x"]) < 127441 and 428500 < float(r["y"]) < 428531
        assert 4.98 < float(r["lon"]) < 4.99 and 51.84 < float(r["lat"]) < 51.85


def test_run_record(demo):
    run, out = demo
    rec = json.loads((out / "run.json").read_text())
    assert rec["input"]["sha256"] == hashlib.sha256(ORTHO.read_bytes()).hexdigest()
    assert rec["input"]["crs"] == "EPSG:28992" and rec["input"]["gsd_m"] == pytest.approx(0.02, rel=1e-3)
    assert rec["areas"]["mode"] == "file" and rec["areas"]["recognised_by"] == "property 'area'"
    assert rec["detectors"] and rec["parameters"]["tile_px"] == 1024
    assert rec["tiles"]["count"] == 4 and rec["timings_s"]["total"] > 0
    assert rec["area_inspected_m2"]["road"] == pytest.approx(0.02**2 * 2048 * 560, rel=0.02)
    html = (out / "report.html").read_text()
    assert "preview.png" in html and "crack" in html


def test_every_truth_defect_found_with_its_type(demo):
    run, out = demo
    truth = gpd.read_file(TRUTH)
    issues = _layers(out)
    missed = []
    for _, t in truth.iterrows():
        same = issues[issues["type"] == t["type"]]
        if not same.intersects(t.geometry.buffer(0.1)).any():
            missed.append((t["truth_id"], t["type"]))
    assert not missed, f"truth defects not found: {missed}"


def test_every_truth_crack_is_typed_its_subtype(demo):
    """Most of the crack length over each painted crack has its subtype: four single cracks (longitudinal and
    transverse, one across a tile seam), a closed alligator network, and an alligator patch as a drone sees it, broken
    into cracks that close no cell (detect.alligator; road-classic 0.20.0 typed that one by its pieces' directions)."""
    run, out = demo
    truth = gpd.read_file(TRUTH)
    issues = _layers(out)
    cracks = issues[issues["type"] == "crack"]
    wrong = []
    for _, t in truth[truth["type"] == "crack"].iterrows():
        on = cracks[cracks.intersects(t.geometry.buffer(0.1))]
        share = on.loc[on["subtype"] == t["subtype"], "length_m"].sum() / on["length_m"].sum()
        if share <= 0.5:
            wrong.append((t["truth_id"], t["subtype"], sorted(on["subtype"])))
    assert len(truth[truth["type"] == "crack"]) == 6 and not wrong, wrong


def test_crack_widths_in_the_geopackage_are_the_painted_ones(demo):
    """Each single painted crack (27-109 mm wide: OpenCV's anti-aliased lines of 1-3 px, at 2 cm per pixel) has the
    width it was painted with in issues.gpkg, within 25 %, across tiles and merging: the width from the light a crack
    takes out of the road (detect.widths). Counted in core pixels (before road-classic 0.19.0) the 68 mm crack read
    31 mm and the 27 mm one 40 mm."""
    run, out = demo
    truth = gpd.read_file(TRUTH)
    issues = _layers(out)
    cracks = issues[issues["type"] == "crack"]
    lines = truth[(truth["type"] == "crack") & (truth.geometry.geom_type == "LineString")]
    assert len(lines) == 4
    for _, t in lines.iterrows():
        on = cracks[cracks.intersects(t.geometry.buffer(0.1))]
        painted = t["pixels"] * synth.GSD_M**2 / t.geometry.length
        measured = float(np.average(on["mean_width_m"], weights=on["length_m"]))
        assert measured == pytest.approx(painted, rel=0.25), (t["truth_id"], painted, measured)
        assert (on["max_width_m"] >= on["mean_width_m"]).all()


def test_every_issue_is_a_truth_defect_and_the_traps_give_none(demo):
    """The sample's traps are not defects: lane markings, tree shadows, a lamp post's shadow, the manhole cover's dark
    rings, a valve cover's dark lid, a cover's rough lid, the gully grate's slots and the paver joints. Every issue lies
    on a truth defect of its type (10 cm tolerance), and none on the covers, the grate or the post's shadow."""
    run, out = demo
    truth = gpd.read_file(TRUTH)
    issues = _layers(out)
    false = [(i["type"], i.geometry.centroid.coords[0]) for _, i in issues.iterrows()
             if not truth[truth["type"] == i["type"]].intersects(i.geometry.buffer(0.1)).any()]
    assert not false, f"issues on no truth defect: {false}"
    t = synth.sample_transform()
    cover = shapely.Point(t * (300, 660)).buffer(19 * synth.GSD_M)
    grate = shapely.Point(t * synth.GULLY_PX).buffer(15 * synth.GSD_M)
    post_shadow = shapely.LineString([t * xy for xy in synth.POST_SHADOW_PX]).buffer(3 * synth.GSD_M)
    valve, rough = (shapely.Point(t * (x, y)).buffer((r + 4) * synth.GSD_M) for x, y, r in (synth.VALVE_COVER_PX, synth.ROUGH_COVER_PX))
    for name, trap in (("manhole cover", cover), ("grate", grate), ("post shadow", post_shadow), ("valve cover", valve),
                       ("rough cover", rough)):
        assert not issues.intersects(trap).any(), f"an issue on the {name}: {issues[issues.intersects(trap)]['type'].tolist()}"


def test_no_issue_on_no_data(demo):
    run, out = demo
    t = synth.sample_transform()
    # the no-data triangle of the sample, shrunk by a pixel
    tri = shapely.Polygon([t * (1650, synth.HEIGHT), t * (synth.WIDTH, 1100), t * (synth.WIDTH, synth.HEIGHT)]).buffer(-0.02)
    issues = _layers(out)
    assert not issues.intersects(tri).any()


def test_rerun_replaces_with_same_ids(demo, prefect_harness):
    from flows.inspect_flight import inspect_flight

    run, out = demo
    before = sorted(f["properties"]["id"] for f in json.loads((out / "issues.geojson").read_text())["features"])
    inspect_flight(orthophoto=str(ORTHO), out_dir=str(out), areas=str(AREAS))
    after = sorted(f["properties"]["id"] for f in json.loads((out / "issues.geojson").read_text())["features"])
    assert before == after
    assert [p.name for p in out.parent.iterdir()] == [out.name]


def test_automatic_areas_without_file(prefect_harness, tmp_path):
    from flows.inspect_flight import inspect_flight

    run = inspect_flight(orthophoto=str(ORTHO), out_dir=str(tmp_path / "auto"))
    assert run["areas"]["mode"] == "automatic"
    rec = json.loads((tmp_path / "auto" / "run.json").read_text())
    assert rec["areas"]["mode"] == "automatic"
    issues = gpd.read_file(tmp_path / "auto" / "issues.geojson").to_crs(28992)
    truth = gpd.read_file(TRUTH)
    found = {
        t["truth_id"]
        for _, t in truth.iterrows()
        if issues[issues["type"] == t["type"]].intersects(t.geometry.buffer(0.1)).any()
    }
    # Without polygons the segmentation must still put road detectors on the road and green ones on the lawn.
    assert len(found) >= 0.8 * len(truth), f"found {len(found)} of {len(truth)}"


def _descendants(pid: int) -> list[int]:
    """Process ids of all descendants of ``pid`` (Linux /proc)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        out += kids
        todo += kids
    return out


def test_killed_run_resumes_computing_only_unfinished_tiles(prefect_harness, tmp_path):
    """SIGKILL a real `schouw inspect` mid-way; the rerun loads every finished tile and computes only the rest."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from flows.inspect_flight import inspect_flight

    params = {"tile_px": 128}
    out = tmp_path / "killed" / "sample"
    env = dict(os.environ, PREFECT_HOME=str(tmp_path / "ph"))
    env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "schouw", "inspect", str(ORTHO), "--areas", str(AREAS), "--out", str(out),
                             "--tile-px", "128"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    cache = out.parent / ".schouw-cache" / out.name
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and len(list(cache.glob("*/*.pickle"))) < 30:
        time.sleep(0.05)
    # the temporary Prefect server (a session of its own), the forkserver and the tile worker processes
    children = _descendants(proc.pid)
    assert len(children) >= 3
    os.kill(proc.pid, signal.SIGKILL)  # the inspect process alone, as the OOM killer would
    proc.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(Path(f"/proc/{c}").exists() for c in children):
        time.sleep(0.1)
    left = [Path(f"/proc/{c}/cmdline").read_text().replace("\0", " ")[:80] for c in children if Path(f"/proc/{c}").exists()]
    assert not left, f"the killed run left processes running: {left}"
    done = len(list(cache.glob("*/*.pickle")))
    assert 30 <= done < 192, done  # killed mid-way (the sample has 16 x 12 = 192 tiles of 128 px)
    assert not out.exists()  # nothing published by the killed run

    run = inspect_flight(orthophoto=str(ORTHO), out_dir=str(out), areas=str(AREAS), params=params)
    assert run["tiles"]["count"] == 192
    assert run["tiles"]["resumed_tiles"] == done and run["tiles"]["computed_tiles"] == 192 - done
    fresh = inspect_flight(orthophoto=str(ORTHO), out_dir=str(tmp_path / "fresh"), areas=str(AREAS), params=params)
    assert fresh["tiles"]["resumed_tiles"] == 0
    fc = lambda d: json.loads((d / "issues.geojson").read_text())["features"]  # noqa: E731
    assert fc(out) == fc(tmp_path / "fresh")  # same geometry, ids and attributes as an uninterrupted run
    assert sorted(p.name for p in out.parent.iterdir()) == ["sample"]  # cache and stale staging folder gone


@pytest.mark.parametrize("stall", [0.0, -5.0, float("nan")])
def test_a_stall_limit_not_above_0_is_refused_before_any_work(prefect_harness, tmp_path, stall):
    """A deployment run's ``stall_timeout_s`` is checked by the flow itself (the CLI checks its option first)."""
    from flows.inspect_flight import inspect_flight
    from schouw.errors import ParameterError

    with pytest.raises(ParameterError, match="stall_timeout_s .* is not valid; expected seconds above 0"):
        inspect_flight(orthophoto=str(ORTHO), out_dir=str(tmp_path / "out"), stall_timeout_s=stall)
    assert not (tmp_path / "out").exists() and not (tmp_path / ".schouw-cache").exists()
