"""Every real orthophoto in ../shared/data/orthophotos is inspected or refused with a clear error line."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import pyogrio
import pytest
import rasterio

from conftest import SHARED
from schouw.errors import InputError
from schouw.orthophoto import open_orthophoto

FILES = sorted((SHARED / "orthophotos").glob("*.tif")) if (SHARED / "orthophotos").is_dir() else []


@pytest.mark.skipif(not FILES, reason="../shared/data/orthophotos not present")
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_inspected_or_refused_clearly(path, prefect_harness, tmp_path):
    try:
        open_orthophoto(path)
    except InputError:
        r = subprocess.run([sys.executable, "-m", "schouw", "inspect", str(path), "--out", str(tmp_path / "o")],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and r.stderr.startswith("error: ") and path.name in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "o").exists()
        return
    from flows.inspect_flight import inspect_flight

    out = tmp_path / path.stem
    run = inspect_flight(orthophoto=str(path), out_dir=str(out))
    with rasterio.open(path) as src:
        crs = src.crs
    layers = dict(pyogrio.list_layers(out / "issues.gpkg"))
    assert {"road_issues", "green_issues"} <= set(layers)
    for layer in ("road_issues", "green_issues"):
        gdf = gpd.read_file(out / "issues.gpkg", layer=layer)
        assert gdf.crs == crs
        assert gdf.geometry.is_valid.all()
        if len(gdf):
            # every issue lies on the orthophoto
            with rasterio.open(path) as src:
                b = src.bounds
            assert gdf.total_bounds[0] >= b.left - 1e-6 and gdf.total_bounds[2] <= b.right + 1e-6
            assert gdf.total_bounds[1] >= b.bottom - 1e-6 and gdf.total_bounds[3] <= b.top + 1e-6
    assert run["counts"]["total"] == sum(len(gpd.read_file(out / "issues.gpkg", layer=l)) for l in ("road_issues", "green_issues"))
    gj = gpd.read_file(out / "issues.geojson")
    assert len(gj) == run["counts"]["total"]
