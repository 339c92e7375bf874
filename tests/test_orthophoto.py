"""Opening orthophotos: band layouts, GSD in metres whatever the CRS, and clear refusals of bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

from conftest import SHARED, lawn, write_tif
from schouw.errors import OrthophotoError
from schouw.orthophoto import open_orthophoto, read_window
from rasterio.windows import Window

RD = CRS.from_epsg(28992)
T_RD = Affine(0.02, 0, 127000.0, 0, -0.02, 428000.0)


def test_rgb_uint8_projected(tmp_path):
    p = write_tif(tmp_path / "a.tif", lawn(64, 80), RD, T_RD)
    o = open_orthophoto(p)
    assert (o.width, o.height, o.count, o.dtype) == (80, 64, 3, "uint8")
    # RD New has a scale factor of ~0.9999 near Amersfoort: ground distance is within 0.1 % of 2 cm
    assert o.gsd_m == pytest.approx(0.02, rel=1e-3)
    assert o.nir_band is None and not o.has_alpha


def test_gsd_of_geographic_raster_is_in_metres(tmp_path):
    # 1e-6 degree at 52 N: 0.111 m north-south, 0.0687 m east-west
    t = Affine(1e-6, 0, 5.0, 0, -1e-6, 52.0)
    o = open_orthophoto(write_tif(tmp_path / "g.tif", lawn(50, 50), CRS.from_epsg(4326), t))
    assert o.gsd_y_m == pytest.approx(0.1113, rel=5e-3)
    assert o.gsd_x_m == pytest.approx(0.0687, rel=5e-3)


def test_gsd_of_rotated_raster(tmp_path):
    t = Affine.translation(127000, 428000) @ Affine.rotation(25) @ Affine.scale(0.05, -0.05)
    o = open_orthophoto(write_tif(tmp_path / "r.tif", lawn(60, 60), RD, t))
    assert o.gsd_m == pytest.approx(0.05, rel=1e-3)


def test_rgba_alpha_is_the_valid_mask(tmp_path):
    rgb = lawn(40, 40)
    alpha = np.full((1, 40, 40), 255, np.uint8)
    alpha[:, :, :10] = 0
    p = write_tif(tmp_path / "rgba.tif", np.concatenate([rgb, alpha]), RD, T_RD, photometric="RGB", alpha="YES")
    o = open_orthophoto(p)
    assert o.has_alpha and o.nir_band is None
    with rasterio.open(p) as src:
        px = read_window(o, src, Window(0, 0, 40, 40))
    assert not px.valid[:, :10].any() and px.valid[:, 10:].all()


def test_rgb_nir_detected_and_16_bit_scaled(tmp_path):
    rgb = (lawn(40, 40).astype(np.uint16) * 16)
    nir = np.full((1, 40, 40), 3000, np.uint16)
    p = write_tif(tmp_path / "nir.tif", np.concatenate([rgb, nir]), RD, T_RD)
    o = open_orthophoto(p)
    assert o.nir_band == 4 and o.dtype == "uint16"
    with rasterio.open(p) as src:
        px = read_window(o, src, Window(0, 0, 40, 40))
    assert px.rgb.dtype == np.uint8 and px.rgb.max() == 255 and px.rgb.min() == 0
    assert px.nir is not None


def test_nodata_value_honoured(tmp_path):
    rgb = lawn(40, 40)
    rgb[:, 30:, :] = 0
    o = open_orthophoto(p := write_tif(tmp_path / "nd.tif", rgb, RD, T_RD, nodata=0))
    with rasterio.open(p) as src:
        px = read_window(o, src, Window(0, 0, 40, 40))
    assert not px.valid[30:].any() and px.valid[:30].all()


# --- bad input: each case is (file maker, fragment the message must contain) -------------------------


def _truncated(tmp: Path) -> Path:
    p = write_tif(tmp / "trunc.tif", lawn(512, 512), RD, T_RD, tiled=True, blockxsize=256, blockysize=256)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    return p


def _absurd(tmp: Path) -> Path:
    p = tmp / "absurd.tif"
    with rasterio.Env(GDAL_TIFF_OVR_BLOCKSIZE=256):
        with rasterio.open(p, "w", driver="GTiff", width=2_000_000, height=2_000_000, count=3, dtype="uint8",
                           crs=RD, transform=T_RD, tiled=True, sparse_ok=True) as dst:
            dst.write(np.zeros((3, 16, 16), np.uint8), window=Window(0, 0, 16, 16))
    return p


def _all_nodata(tmp: Path) -> Path:
    return write_tif(tmp / "empty.tif", np.zeros((3, 32, 32), np.uint8), RD, T_RD, nodata=0)


def _text(p: Path, text: str) -> Path:
    p.write_text(text)
    return p


BAD = {
    "missing": (lambda t: t / "nope.tif", "file not found"),
    "zero-byte": (lambda t: _text(t / "zero.tif", ""), "empty (0 bytes)"),
    "truncated": (_truncated, "truncated"),
    "not-a-raster": (lambda t: _text(t / "notes.tif", "hello, I am text\n" * 50), "not a raster"),
    "no-crs": (lambda t: write_tif(t / "nocrs.tif", lawn(32, 32), None, T_RD), "no CRS"),
    "no-geotransform": (lambda t: write_tif(t / "nogt.tif", lawn(32, 32), RD, Affine.identity()), "no geotransform"),
    "two-bands": (lambda t: write_tif(t / "two.tif", lawn(32, 32)[:2], RD, T_RD), "2 band(s)"),
    "float32": (lambda t: write_tif(t / "f.tif", lawn(32, 32).astype(np.float32), RD, T_RD), "data type float32"),
    "all-nodata": (_all_nodata, "entirely no-data"),
    "absurd-size": (_absurd, "header claims 2000000 x 2000000"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_orthophoto_is_refused_clearly(tmp_path, case):
    make, fragment = BAD[case]
    path = make(tmp_path)
    with pytest.raises(OrthophotoError) as exc:
        open_orthophoto(path)
    msg = str(exc.value)
    assert fragment in msg and str(path.name) in msg and ";" in msg  # what is wrong; what is expected


@pytest.mark.parametrize("case", sorted(BAD))
def test_cli_bad_orthophoto_exit_2_one_line_nothing_left(tmp_path, case):
    make, fragment = BAD[case]
    path = make(tmp_path)
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "schouw", "inspect", str(path), "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists() and not any(p.name.startswith(".out") for p in tmp_path.iterdir())


def test_single_band_shared_orthophoto_refused():
    p = SHARED / "orthophotos" / "vegas_pan_uint16_wgs84.tif"
    if not p.exists():
        pytest.skip("shared data not present")
    with pytest.raises(OrthophotoError, match="1 band"):
        open_orthophoto(p)


def _sparse(tmp: Path, name: str, patch: bool) -> Path:
    """A 5000 x 5000 tiled file without overviews, nodata 0, empty but for an optional small patch."""
    p = tmp / name
    with rasterio.open(p, "w", driver="GTiff", width=5000, height=5000, count=3, dtype="uint8", crs=RD, transform=T_RD,
                       tiled=True, sparse_ok=True, nodata=0) as dst:
        if patch:  # between the sampling grid's windows: only the full check can see it
            dst.write(lawn(64, 64), window=Window(10, 10, 64, 64))
    return p


def test_large_file_is_judged_by_samples_then_confirmed(tmp_path):
    with pytest.raises(OrthophotoError, match="entirely no-data"):
        open_orthophoto(_sparse(tmp_path, "empty.tif", patch=False))
    o = open_orthophoto(_sparse(tmp_path, "patch.tif", patch=True))
    assert 0 < o.valid_fraction < 0.01


def test_background_hash_is_reused_only_for_the_unchanged_file(tmp_path):
    import hashlib
    import os

    from schouw.orthophoto import file_sha256, start_file_sha256

    f = tmp_path / "x.tif"
    f.write_bytes(b"a" * 1_000_000)
    start_file_sha256(f)
    assert file_sha256(f) == hashlib.sha256(b"a" * 1_000_000).hexdigest()
    f.write_bytes(b"b" * 1_000_001)  # changed: a new size (and mtime) is a new key
    os.utime(f, ns=(1, 1))
    assert file_sha256(f) == hashlib.sha256(b"b" * 1_000_001).hexdigest()


def test_bad_orthophoto_exits_before_any_tile_worker_starts(tmp_path, monkeypatch):
    """Bad input is refused before the tile workers are started: nothing to wait for, or to kill, at exit."""
    from typer.testing import CliRunner

    from schouw import tile_pool
    from schouw.cli import app

    monkeypatch.setattr(tile_pool, "_pool", None)  # this test process's pool, if any, comes back afterwards
    # The CLI points PREFECT_API_URL at its temporary server: set it first so monkeypatch unsets it afterwards (it
    # undoes only what it changed), or the later tests' subprocesses would look for that stopped server.
    monkeypatch.setenv("PREFECT_API_URL", "")
    monkeypatch.delenv("PREFECT_API_URL")
    monkeypatch.setenv("PREFECT_UI_ENABLED", "false")  # configure_prefect's one default conftest does not set
    path = _all_nodata(tmp_path)
    r = CliRunner().invoke(app, ["inspect", str(path), "--out", str(tmp_path / "out")])
    assert r.exit_code == 2 and "entirely no-data" in r.output
    assert tile_pool._pool is None
    monkeypatch.undo()
    assert "PREFECT_API_URL" not in os.environ


def _damaged_jpeg(tmp: Path, overviews: bool, start: bool = False) -> Path:
    """A JPEG-compressed tiled orthophoto (2048 x 2048, blocks of 256) whose block at rows 512-767, columns 768-1023
    has 64 bytes of its data overwritten, the header intact; with ``overviews`` they are built before the damage
    (opening then reads the overview of half size, not the blocks). With ``start`` the block's first 64 bytes are
    zeroed instead: libjpeg cannot decode it at all."""
    path = write_tif(tmp / "damaged.tif", lawn(2048, 2048), RD, T_RD, compress="jpeg", tiled=True, blockxsize=256, blockysize=256)
    if overviews:
        with rasterio.open(path, "r+") as dst:
            dst.build_overviews([2, 4])
    with rasterio.open(path) as src:
        off, size = (int(src.get_tag_item(f"BLOCK_{k}_3_2", "TIFF", bidx=1)) for k in ("OFFSET", "SIZE"))
    with open(path, "r+b") as fh:
        fh.seek(off if start else off + size // 3)
        fh.write(bytes(64) if start else np.random.default_rng(0).integers(0, 256, 64, dtype=np.uint8).tobytes())
    return path


def test_a_damaged_block_is_refused_at_open(tmp_path):
    """libjpeg decodes what it can of a corrupt block and only warns: the check at open says the file is damaged."""
    path = _damaged_jpeg(tmp_path, overviews=False)
    with pytest.raises(OrthophotoError, match=r"damaged.tif: has damaged data \(.*Corrupt JPEG data.*\); expected an intact GeoTIFF"):
        open_orthophoto(path)


def test_a_damaged_block_behind_intact_overviews_stops_the_run_as_bad_input(tmp_path):
    """Opening reads the overviews only; the tile that holds the damaged block stops the run: exit 2, one error line
    naming the rows and columns, no output. The tiles that do not hold it read as before."""
    path = _damaged_jpeg(tmp_path, overviews=True)
    ortho = open_orthophoto(path)
    with rasterio.open(path) as src:
        read_window(ortho, src, Window(0, 0, 512, 512))  # blocks left of and above the damage: fine
        with pytest.raises(OrthophotoError, match=r"has damaged data in rows 512-768, columns 768-1024 \(.*Corrupt JPEG"):
            read_window(ortho, src, Window(768, 512, 256, 256))
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "schouw", "inspect", str(path), "--out", str(out), "--tile-px", "512"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr[-2000:]
    errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "has damaged data in rows" in errors[0], r.stderr[-2000:]
    assert "Traceback" not in r.stderr and not out.exists()
    assert not any(p.name.startswith(".out") for p in tmp_path.iterdir())


def test_a_block_that_cannot_be_decoded_is_said_with_gdals_reason(tmp_path):
    """A read error names the rows and columns and GDAL's own reason, not rasterio's "Read failed. See previous
    exception for details." (it was a RasterioIOError traceback, exit 1, in a run)."""
    path = _damaged_jpeg(tmp_path, overviews=True, start=True)
    ortho = open_orthophoto(path)
    with rasterio.open(path) as src, pytest.raises(OrthophotoError) as exc:
        read_window(ortho, src, Window(768, 512, 256, 256))
    assert "cannot be read in rows 512-768, columns 768-1024 (JPEGLib:Not a JPEG file" in str(exc.value)
    assert "Read failed" not in str(exc.value) and "damaged or truncated" in str(exc.value)
