"""DEFLATE blocks whose checksum does not match: GDAL reads them silently as garbage, schouw refuses them."""

from __future__ import annotations

import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.windows
from affine import Affine
from rasterio.crs import CRS

from conftest import SAMPLE, asphalt, write_tif
from schouw.errors import OrthophotoError
from schouw.integrity import check_blocks, damaged_blocks, intact

RD = CRS.from_epsg(28992)
T_RD = Affine(0.02, 0, 127000.0, 0, -0.02, 428000.0)


def _damage(path: Path, row: int, col: int, band: int = 1) -> None:
    """Flip one bit of the stored block at block ``row``, ``col`` (of ``band``), the first from the middle on after
    which the block still decodes to at least a full block before any error: GDAL (libtiff) then stops at a full
    block and never sees the checksum, and the pixels are wrong without a word. (A flip that breaks the codes before
    that, or leaves the length and breaks only the checksum, GDAL reports itself.)"""
    with rasterio.open(path) as src:
        off = int(src.get_tag_item(f"BLOCK_OFFSET_{col}_{row}", "TIFF", bidx=band))
        size = int(src.get_tag_item(f"BLOCK_SIZE_{col}_{row}", "TIFF", bidx=band))
        full = len(zlib.decompress(path.read_bytes()[off : off + size]))  # the bytes of an intact block
    data = bytearray(path.read_bytes())
    block = data[off : off + size]
    for at in range(size // 2, size - 8):
        for bit in range(8):
            block[at] ^= 1 << bit
            d = zlib.decompressobj()
            try:
                got = len(d.decompress(bytes(block), full + 1))
            except zlib.error:
                got = 0
            if got > full:  # decodes past a full block: silent for GDAL
                data[off : off + size] = block
                path.write_bytes(bytes(data))
                return
            block[at] ^= 1 << bit
    raise AssertionError("no silent one-bit damage found in the block")


def _deflate(tmp: Path, name: str = "f.tif", **kw) -> Path:
    profile = dict(compress="deflate", tiled=True, blockxsize=256, blockysize=256) | kw
    return write_tif(tmp / name, asphalt(1024, 1024), RD, T_RD, **profile)


def test_the_checksum_tells_an_intact_stream_from_a_damaged_one():
    data = np.random.default_rng(0).integers(0, 40, 200_000, dtype=np.uint8).tobytes()
    z = zlib.compress(data)
    assert intact(z)
    assert not intact(z[:-1])  # cut short: no complete stream
    flipped = bytearray(z)
    flipped[len(z) // 2] ^= 0xFF
    assert not intact(bytes(flipped))
    assert not intact(b"not zlib at all")


@pytest.mark.parametrize("kw", [{}, {"predictor": 2}, {"interleave": "band"}, {"zlevel": 9, "predictor": 2}, {"BIGTIFF": "YES"}])
def test_an_intact_deflate_file_has_no_damaged_block(tmp_path, kw):
    assert damaged_blocks(_deflate(tmp_path, **kw)) == []


def test_strips_and_sparse_blocks_are_checked_too(tmp_path):
    """A file in strips (rasterio's default layout) is checked strip by strip; blocks a sparse file leaves out are
    skipped, not taken for damage."""
    strips = write_tif(tmp_path / "strips.tif", asphalt(512, 512), RD, T_RD, compress="deflate", blockysize=64)
    with rasterio.open(strips) as src:
        assert src.block_shapes[0] == (64, 512)
    assert damaged_blocks(strips) == []
    _damage(strips, row=5, col=0)
    assert damaged_blocks(strips) == [(5, 0, 1)]
    sparse = tmp_path / "sparse.tif"
    with rasterio.open(sparse, "w", driver="GTiff", width=1024, height=1024, count=3, dtype="uint8", crs=RD,
                       transform=T_RD, compress="deflate", tiled=True, blockxsize=256, blockysize=256,
                       SPARSE_OK=True) as dst:
        dst.write(asphalt(256, 256), window=rasterio.windows.Window(256, 512, 256, 256))  # one block of sixteen
    with rasterio.open(sparse) as src:
        assert sum(bool(int(src.get_tag_item(f"BLOCK_OFFSET_{c}_{r}", "TIFF", bidx=1) or 0))
                   for r in range(4) for c in range(4)) == 1
    assert damaged_blocks(sparse) == []


@pytest.mark.parametrize("interleave, band", [("pixel", 1), ("band", 2)])
def test_a_damaged_deflate_block_is_found_where_gdal_reads_garbage_without_a_word(tmp_path, interleave, band):
    path = _deflate(tmp_path, interleave=interleave, predictor=2)
    with rasterio.open(path) as src:
        before = src.read()
    _damage(path, row=2, col=1, band=band)
    with rasterio.open(path) as src:
        after = src.read()  # no error, no warning: the premise of the check
    changed = np.argwhere((before != after).any(0))
    assert len(changed) and changed.min(0).tolist() >= [512, 256] and changed.max(0).tolist() < [768, 512]
    assert damaged_blocks(path) == [(2, 1, band)]
    with pytest.raises(OrthophotoError, match=r"has damaged data in rows 512-768, columns 256-512 \(a DEFLATE block's"):
        check_blocks(path)


def test_other_compressions_are_not_checked(tmp_path):
    for compress in ("lzw", "jpeg", None):
        kw = {"compress": compress, "tiled": True, "blockxsize": 256, "blockysize": 256} if compress else {}
        path = write_tif(tmp_path / f"{compress}.tif", asphalt(512, 512), RD, T_RD, **kw)
        assert damaged_blocks(path) == []


def test_a_damaged_deflate_orthophoto_stops_the_run_as_bad_input(tmp_path):
    """The sample as DEFLATE (OpenDroneMap's export) with one block damaged: the run stops with one error line that
    names the block, exit 2; no output and no checkpoints are left."""
    with rasterio.open(SAMPLE / "sample_orthophoto.tif") as src:
        profile, data = src.profile, src.read()
    profile.update(compress="deflate", predictor=2, tiled=True, blockxsize=256, blockysize=256, photometric="RGB")
    path = tmp_path / "flight.tif"
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    _damage(path, row=3, col=5)
    out = tmp_path / "out" / "flight"
    r = subprocess.run([sys.executable, "-m", "schouw", "inspect", str(path), "--out", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr[-2000:]
    errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "has damaged data in rows 768-1024, columns 1280-1536" in errors[0], r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    assert list((tmp_path / "out").iterdir()) == [], "output, staging or checkpoints were left"


def test_a_damage_found_after_the_tiles_ran_leaves_no_checkpoints(prefect_harness, tmp_path):
    """A flow run without the CLI begins the check itself; on a larger file it ends after the tiles started, and
    the run is refused before publishing: nothing written, and the damaged file's tile checkpoints removed."""
    from flows.inspect_flight import inspect_flight

    tile = asphalt(512, 512)
    bands = np.tile(tile, (1, 8, 8))  # 4096 x 4096: its check takes longer than opening and hashing it
    path = write_tif(tmp_path / "big.tif", bands, RD, T_RD, compress="deflate", predictor=2, tiled=True,
                     blockxsize=512, blockysize=512)
    _damage(path, row=6, col=2)
    out = tmp_path / "out" / "big"
    with pytest.raises(OrthophotoError, match=r"has damaged data in rows 3072-3584, columns 1024-1536"):
        inspect_flight(orthophoto=str(path), out_dir=str(out))
    assert list((tmp_path / "out").iterdir()) == [], "output, staging or checkpoints were left"
