"""The flights catalog on real databases (SQLite and PostgreSQL): schema, tokens, rerun matching, review, export."""

from __future__ import annotations

import json

import pytest
import shapely
from shapely.geometry import box

from conftest import SAMPLE
from schouw.catalog.db import Catalog
from schouw.catalog.export import export_issues
from schouw.catalog.flights import queue_run, register_flight
from schouw.catalog.ingest import ingest_run, match_issues
from schouw.catalog.models import Flight, Issue, Run
from schouw.catalog.review import history, query_issues, review
from schouw.catalog.tokens import create_token, hash_token, lookup

ORTHO, AREAS = SAMPLE / "sample_orthophoto.tif", SAMPLE / "sample_areas.geojson"


@pytest.fixture(scope="module")
def two_runs(prefect_harness, tmp_path_factory):
    """Real run outputs of the sample: default parameters, and a rerun with 512 px tiles (other ids, same defects)."""
    from flows.inspect_flight import inspect_flight

    base = tmp_path_factory.mktemp("runs")
    inspect_flight(orthophoto=str(ORTHO), out_dir=str(base / "a"), areas=str(AREAS))
    inspect_flight(orthophoto=str(ORTHO), out_dir=str(base / "b"), areas=str(AREAS), params={"tile_px": 512})
    return base / "a", base / "b"


def test_migrated_schema_equals_the_models(database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from schouw.catalog.models import Base

    cat = Catalog(database_url)
    with cat.engine.connect() as con:
        diff = compare_metadata(MigrationContext.configure(con), Base.metadata)
    cat.close()
    assert diff == []


def test_tokens_are_stored_hashed_and_checked(database_url):
    cat = Catalog(database_url)
    tok = create_token(cat, "reviewer", "Ann")
    with cat.engine.connect() as con:
        stored = [r[0] for r in con.exec_driver_sql("SELECT token_hash FROM tokens")]
    assert stored == [hash_token(tok)] and tok not in stored
    assert lookup(cat, tok).role == "reviewer" and lookup(cat, tok).name == "Ann"
    assert lookup(cat, tok + "x") is None
    with pytest.raises(ValueError, match="expected one of uploader, reviewer, admin"):
        create_token(cat, "boss")
    cat.close()


def test_match_pairs_a_shifted_defect_of_the_same_type_only():
    crack = box(0, 0, 2.0, 0.02)
    old = [("crack", crack), ("pothole", box(10, 10, 10.5, 10.5)), ("crack", box(20, 0, 22, 0.02))]
    new = [("crack", shapely.affinity.translate(crack, 0.03, 0.02)),  # the same crack, 3 cm off
           ("crack", box(10, 10, 10.5, 10.5)),  # a crack where a pothole was: another defect
           ("crack", box(40, 0, 42, 0.02))]  # a new crack
    assert match_issues(old, new, tolerance=0.25) == {0: 0}
    assert match_issues(old, [], 0.25) == {} and match_issues([], new, 0.25) == {}


def _flight_with_run(cat: Catalog, tmp_path, out_dir) -> tuple[str, str]:
    part = tmp_path / "up.part"
    part.write_bytes(ORTHO.read_bytes())
    fid, rid = register_flight(cat, tmp_path / "data", part, "sample", "tester")
    with cat.session() as s:
        run = s.get(Run, rid)
        ingest_run(s, run, out_dir)
        run.state = "COMPLETED"
    return fid, rid


def test_rerun_replaces_issues_and_keeps_review_history_of_persisting_ones(database_url, two_runs, tmp_path):
    a, b = two_runs
    cat = Catalog(database_url)
    fid, rid = _flight_with_run(cat, tmp_path, a)
    tok = lookup(cat, create_token(cat, "reviewer", "Ann"))
    with cat.session() as s:
        issues = query_issues(s, fid)
        n_a = len(issues)
        crack = next(i for i in issues if i.type == "crack")
        review(s, crack.id, "confirmed", "needs sealing", tok)
        kept_id, kept_geom = crack.id, shapely.from_wkb(crack.geom_wkb)
    rid2 = queue_run(cat, fid, {"tile_px": 512})
    with cat.session() as s:
        counts = ingest_run(s, s.get(Run, rid2), b)
    with cat.session() as s:
        after = query_issues(s, fid)
        assert {i.run_id for i in after} == {rid2}  # the rerun's issues replaced the first run's
        assert len(after) == len(json.loads((b / "issues.geojson").read_text())["features"])
        same = s.get(Issue, kept_id)
        assert same is not None and same.status == "confirmed" and same.comment == "needs sealing"
        assert shapely.from_wkb(same.geom_wkb).intersects(kept_geom)
        assert same.pipeline_id != next(i for i in issues if i.id == kept_id).pipeline_id  # new run, new pipeline id
        assert [h["status"] for h in history(s, kept_id)] == ["confirmed"]
    assert counts["kept"] >= 0.8 * n_a  # nearly all defects persist between tile sizes
    cat.close()


def test_export_carries_review_status_in_every_format(database_url, two_runs, tmp_path):
    import pyogrio

    a, _ = two_runs
    cat = Catalog(database_url)
    fid, _ = _flight_with_run(cat, tmp_path, a)
    tok = lookup(cat, create_token(cat, "reviewer"))
    with cat.session() as s:
        first = query_issues(s, fid)[0]
        review(s, first.id, "rejected", "a shadow", tok)
    with cat.session() as s:
        flight, issues = s.get(Flight, fid), query_issues(s, fid)
        for fmt in ("gpkg", "geojson", "csv"):
            export_issues(flight, issues, fmt, tmp_path / f"x.{fmt}")
    gj = json.loads((tmp_path / "x.geojson").read_text())
    st = {f["id"]: f["properties"]["status"] for f in gj["features"]}
    assert st[first.id] == "rejected" and list(st.values()).count("rejected") == 1
    df = pyogrio.read_dataframe(tmp_path / "x.gpkg", layer="issues")
    assert df.crs.to_epsg() == 28992 and df.set_index("id").loc[first.id, "comment"] == "a shadow"
    rows = (tmp_path / "x.csv").read_text().splitlines()
    assert len(rows) == len(issues) + 1 and any(r.startswith(first.id) and ",rejected,a shadow," in r for r in rows)
    cat.close()


def test_bad_upload_leaves_nothing(database_url, tmp_path):
    from schouw.errors import InputError

    cat = Catalog(database_url)
    part = tmp_path / "up.part"
    part.write_bytes(b"not a raster at all")
    with pytest.raises(InputError):
        register_flight(cat, tmp_path / "data", part, "junk", "tester")
    assert not any((tmp_path / "data" / "flights").iterdir())
    with cat.session() as s:
        assert s.query(Flight).count() == 0
    cat.close()
