"""The web API of a real ``schouw serve`` process, on SQLite and on PostgreSQL: auth, upload, runs, issues, review, export, tiles."""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import pytest
import shapely
from shapely.geometry import box, shape

from conftest import SAMPLE, fresh_postgres
from webserver import Server, upload, wait_run

ORTHO, AREAS = SAMPLE / "sample_orthophoto.tif", SAMPLE / "sample_areas.geojson"
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(fresh_postgres()) if request.param == "postgresql" else None
        srv = Server(tmp_path_factory.mktemp("serve"), url, max_upload_mb=3)
        stack.callback(srv.stop)
        yield srv


@pytest.fixture(scope="module")
def clients(server):
    return {role: server.client(server.token(role, f"{role}-1")) for role in ("uploader", "reviewer", "admin")}


@pytest.fixture(scope="module")
def flight(server, clients):
    r = upload(clients["uploader"], ORTHO, AREAS, name="Sample street")
    assert r.status_code == 202, r.text
    ids = r.json()
    run = wait_run(clients["uploader"], ids["run_id"])
    assert run["state"] == "COMPLETED", (run, server.read_log()[-3000:])
    return ids


def test_every_request_needs_a_valid_token_and_the_right_role(server, clients, flight):
    with server.client(None) as anon, server.client("schouw_not-a-token") as bogus:
        assert anon.get("/api/flights").status_code == 401
        assert bogus.get("/api/flights").status_code == 401
        assert anon.get(f"/api/flights/{flight['flight_id']}/tiles/20/1/1.png").status_code == 401
    assert clients["uploader"].get("/api/flights").status_code == 200  # reading: any role
    issue_id = clients["reviewer"].get(f"/api/flights/{flight['flight_id']}/issues").json()["features"][0]["id"]
    assert clients["uploader"].patch(f"/api/issues/{issue_id}", json={"status": "confirmed"}).status_code == 403
    r = upload(clients["reviewer"], ORTHO)
    assert r.status_code == 403 and "needs uploader" in r.json()["detail"]
    from schouw.catalog.db import open_catalog
    from schouw.catalog.tokens import list_tokens, revoke_token

    tok = server.token("reviewer", "leaver")
    with server.client(tok) as leaver:
        assert leaver.get("/api/flights").status_code == 200
        with open_catalog(server.data_dir, server.database_url) as cat:
            revoke_token(cat, next(t["id"] for t in list_tokens(cat) if t["name"] == "leaver"))
        assert leaver.get("/api/flights").status_code == 401  # at once, no restart


def test_upload_is_inspected_and_the_flight_counts_its_issues(clients, flight):
    run = clients["reviewer"].get(f"/api/runs/{flight['run_id']}").json()
    assert run["state"] == "COMPLETED" and run["progress"] == 1.0 and run["error"] is None
    f = clients["reviewer"].get(f"/api/flights/{flight['flight_id']}").json()
    fc = clients["reviewer"].get(f"/api/flights/{flight['flight_id']}/issues").json()
    assert f["name"] == "Sample street" and f["crs"] == "EPSG:28992" and f["latest_run"]["run_id"] == flight["run_id"]
    assert f["counts"]["total"] == len(fc["features"]) == run["counts"]["total"] > 0
    assert sum(f["counts"]["by_type"].values()) == sum(f["counts"]["by_status"].values()) == f["counts"]["total"]
    assert any(x["flight_id"] == flight["flight_id"] for x in clients["uploader"].get("/api/flights").json())


def test_issues_are_rfc7946_and_filter_by_type_severity_status_and_bbox(clients, flight):
    c, url = clients["reviewer"], f"/api/flights/{flight['flight_id']}/issues"
    fc = c.get(url).json()
    w, s, e, n = c.get(f"/api/flights/{flight['flight_id']}").json()["bounds_wgs84"]
    assert fc["type"] == "FeatureCollection" and "crs" not in fc
    for feat in fc["features"]:
        g = shape(feat["geometry"])
        assert g.is_valid and box(w, s, e, n).buffer(1e-6).contains(g)  # lon/lat, inside the flight
        assert feat["properties"]["status"] in ("open", "confirmed", "rejected", "fixed")
    types = {f["properties"]["type"] for f in fc["features"]}
    for t in types:
        sub = c.get(url, params={"type": t}).json()["features"]
        assert sub and {f["properties"]["type"] for f in sub} == {t}
    both = c.get(url, params={"severity": "M,E"}).json()["features"]
    assert len(both) == sum(f["properties"]["severity"] in ("M", "E") for f in fc["features"])
    one = fc["features"][0]
    bx = shape(one["geometry"]).bounds
    near = c.get(url, params={"bbox": ",".join(map(str, bx))}).json()["features"]
    assert one["id"] in {f["id"] for f in near} and len(near) < len(fc["features"])
    assert c.get(url, params={"bbox": "1,2,3"}).status_code == 422
    assert c.get(url, params={"status": "lost"}).status_code == 422
    assert c.get("/api/flights/nope/issues").status_code == 404


def test_review_is_recorded_with_who_and_when_and_exported(clients, flight, tmp_path):
    c, fid = clients["reviewer"], flight["flight_id"]
    issue = c.get(f"/api/flights/{fid}/issues", params={"type": "crack"}).json()["features"][0]
    r = c.patch(f"/api/issues/{issue['id']}", json={"status": "confirmed", "comment": "seal this winter"})
    assert r.status_code == 200 and r.json()["properties"]["status"] == "confirmed"
    hist = c.get(f"/api/issues/{issue['id']}/history").json()
    assert hist[-1]["status"] == "confirmed" and hist[-1]["actor"] == "reviewer-1" and hist[-1]["at"].endswith("+00:00")
    assert c.patch(f"/api/issues/{issue['id']}", json={"status": "gone"}).status_code == 422
    assert [f["id"] for f in c.get(f"/api/flights/{fid}/issues", params={"status": "confirmed"}).json()["features"]] == [issue["id"]]
    gj = c.get(f"/api/flights/{fid}/export", params={"format": "geojson"})
    assert gj.status_code == 200 and "attachment" in gj.headers["content-disposition"]
    props = {f["id"]: f["properties"] for f in gj.json()["features"]}
    assert props[issue["id"]]["status"] == "confirmed" and props[issue["id"]]["comment"] == "seal this winter"
    csv_text = c.get(f"/api/flights/{fid}/export", params={"format": "csv"}).text
    assert "confirmed,seal this winter" in next(line for line in csv_text.splitlines() if line.startswith(issue["id"]))
    import pyogrio

    gpkg = c.get(f"/api/flights/{fid}/export", params={"format": "gpkg"})
    (tmp_path / "x.gpkg").write_bytes(gpkg.content)
    df = pyogrio.read_dataframe(tmp_path / "x.gpkg", layer="issues")
    assert df.crs.to_epsg() == 28992 and df.set_index("id").loc[issue["id"], "status"] == "confirmed"
    assert c.get(f"/api/flights/{fid}/export", params={"format": "shp"}).status_code == 422


def test_map_tiles_and_issue_chips_are_png(clients, flight):
    import cv2
    import morecantile

    c, fid = clients["reviewer"], flight["flight_id"]
    w, s, e, n = c.get(f"/api/flights/{fid}").json()["bounds_wgs84"]
    t = morecantile.tms.get("WebMercatorQuad").tile((w + e) / 2, (s + n) / 2, 20)
    r = c.get(f"/api/flights/{fid}/tiles/{t.z}/{t.x}/{t.y}.png")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_UNCHANGED)
    assert img.shape == (256, 256, 4) and img[..., 3].mean() > 200 and img[..., :3].std() > 5  # the orthophoto, opaque
    assert c.get(f"/api/flights/{fid}/tiles/20/1/1.png").status_code == 404
    issue = c.get(f"/api/flights/{fid}/issues").json()["features"][0]
    chip = c.get(f"/api/issues/{issue['id']}/chip.png")
    assert chip.status_code == 200 and cv2.imdecode(np.frombuffer(chip.content, np.uint8), cv2.IMREAD_COLOR).shape[0] > 20


def test_refused_uploads_leave_nothing_behind(server, clients, tmp_path):
    c = clients["uploader"]
    before = len(c.get("/api/flights").json())
    flights_dir = server.data_dir / "flights"
    n_dirs = len(list(flights_dir.iterdir()))
    for name in ("../evil.tif", "sub/dir.tif", "..\\win.tif"):
        r = upload(c, ORTHO, filename=name)
        assert r.status_code == 422 and "without a path" in r.json()["detail"], r.text
    junk = tmp_path / "notes.tif"
    junk.write_bytes(b"this is not a raster\n" * 100)
    r = upload(c, junk)
    assert r.status_code == 422 and "notes.tif" in r.json()["detail"]
    big = tmp_path / "big.tif"
    big.write_bytes(b"\0" * (4 * 1024 * 1024))
    r = upload(c, big)
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    with server.client(None) as anon:
        assert upload(anon, ORTHO).status_code == 401
    r = c.post("/api/flights", files={"areas": ("a.geojson", AREAS.read_bytes())})
    assert r.status_code == 422 and "'file' part" in r.json()["detail"]
    assert len(c.get("/api/flights").json()) == before
    assert len(list(flights_dir.iterdir())) == n_dirs
    assert list((server.data_dir / "uploads").iterdir()) == []


def test_two_uploads_at_once_both_complete(clients):
    c = clients["uploader"]
    results: list = [None, None]

    def go(k: int) -> None:
        results[k] = upload(c, ORTHO, AREAS, name=f"parallel {k}")

    threads = [threading.Thread(target=go, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [202, 202]
    runs = [wait_run(c, r.json()["run_id"]) for r in results]
    assert [r["state"] for r in runs] == ["COMPLETED", "COMPLETED"]
    assert runs[0]["counts"]["total"] == runs[1]["counts"]["total"] > 0


def test_rerun_replaces_issues_and_keeps_reviews_of_persisting_defects(clients, flight):
    c, fid = clients["admin"], flight["flight_id"]
    issue = c.get(f"/api/flights/{fid}/issues", params={"type": "pothole"}).json()["features"][0]
    assert c.patch(f"/api/issues/{issue['id']}", json={"status": "fixed", "comment": "patched"}).status_code == 200
    r = c.post(f"/api/flights/{fid}/runs", json={"params": {"tile_px": 512}})
    assert r.status_code == 202
    run = wait_run(c, r.json()["run_id"])
    assert run["state"] == "COMPLETED" and run["params"] == {"tile_px": 512}
    after = c.get(f"/api/flights/{fid}/issues").json()["features"]
    assert {f["properties"]["run_id"] for f in after} == {run["run_id"]}
    same = next(f for f in after if f["id"] == issue["id"])
    assert same["properties"]["status"] == "fixed" and same["properties"]["pipeline_id"] != issue["properties"]["pipeline_id"]
    assert shapely.geometry.shape(same["geometry"]).intersects(shape(issue["geometry"]))
    assert [h["comment"] for h in c.get(f"/api/issues/{issue['id']}/history").json()][-1] == "patched"
    assert c.post(f"/api/flights/{fid}/runs", json={"params": {"tile_px": 5}}).status_code == 422


def test_openapi_documents_the_endpoints(server):
    with server.client(None) as anon:
        paths = anon.get("/openapi.json").json()["paths"]
    for p in ("/api/flights", "/api/runs/{run_id}", "/api/flights/{flight_id}/issues", "/api/issues/{issue_id}",
              "/api/issues/{issue_id}/history", "/api/flights/{flight_id}/export", "/api/flights/{flight_id}/tiles/{z}/{x}/{y}.png"):
        assert p in paths, p


def test_a_16_bit_rgb_nir_orthophoto_in_lon_lat_is_inspected_and_mapped(clients, tmp_path):
    import cv2
    import morecantile
    from affine import Affine

    from conftest import asphalt, lawn, write_tif

    rgb = np.concatenate([lawn(256, 512), asphalt(256, 512)], axis=1).astype(np.uint16) * 16  # 12-bit values in uint16
    nir = np.full((1, 512, 512), 3000, np.uint16)
    px = 0.02 / 111_320  # about 2 cm in degrees of latitude
    tif = write_tif(tmp_path / "geo16.tif", np.concatenate([rgb, nir]), "EPSG:4326", Affine(px / 0.62, 0, 4.98, 0, -px, 51.85))
    r = upload(clients["uploader"], tif)
    assert r.status_code == 202, r.text
    run = wait_run(clients["uploader"], r.json()["run_id"])
    assert run["state"] == "COMPLETED", run
    f = clients["reviewer"].get(f"/api/flights/{r.json()['flight_id']}").json()
    assert f["crs"] == "EPSG:4326"
    w, s, e, n = f["bounds_wgs84"]
    assert abs(w - 4.98) < 1e-9 and abs(n - 51.85) < 1e-9
    t = morecantile.tms.get("WebMercatorQuad").tile((w + e) / 2, (s + n) / 2, 23)  # about 3 m across: inside the 10 m image
    png = clients["reviewer"].get(f"/api/flights/{f['flight_id']}/tiles/{t.z}/{t.x}/{t.y}.png")
    assert png.status_code == 200
    img = cv2.imdecode(np.frombuffer(png.content, np.uint8), cv2.IMREAD_UNCHANGED)
    opaque = img[..., 3] > 0
    assert opaque.mean() > 0.95 and img[..., :3][opaque].mean() > 40  # stretched to 8 bit with the flight's range, not black
