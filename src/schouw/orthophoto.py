"""Open and validate an orthophoto; read tiles as 8-bit RGB plus a valid-data mask.

:func:`open_orthophoto` checks everything a run depends on *before* any work
starts, so bad input fails fast with one clear message. :class:`Orthophoto` is
a small frozen description (no open handle) that travels between tasks; each
task opens the file itself and reads only its own window.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS, Geod, Transformer
from rasterio.enums import ColorInterp, MaskFlags
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.windows import Window

from .errors import OrthophotoError
from .per_file import Job, PerFile

#: Largest raster side accepted (pixels). 1 M px at 2 cm is 20 km: larger is a broken header.
MAX_SIDE_PX = 1_000_000
#: Largest raster accepted (pixels): 200 gigapixel, far beyond any drone flight.
MAX_PIXELS = 200_000_000_000
SUPPORTED_DTYPES = ("uint8", "uint16")
#: GDAL block cache per process (bytes). The default of 5 % of RAM grows RSS with file size.
GDAL_CACHE_BYTES = 128 * 1024 * 1024
#: Long side of the low-resolution overview read once at open (pixels).
OVERVIEW_PX = 1024

NIR_NAMES = ("nir", "near infrared", "near-infrared", "nearinfrared", "infrared")


def gdal_env(**options: object) -> rasterio.Env:
    """A rasterio environment with the block cache capped (memory must not grow with file size)."""
    options = {"GDAL_CACHEMAX": GDAL_CACHE_BYTES, "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR", **options}
    return rasterio.Env(**options)


@dataclass(frozen=True)
class Orthophoto:
    """What the pipeline needs to know of an orthophoto file.

    ``transform`` maps pixel (col, row) to map coordinates in ``crs`` (any CRS,
    possibly rotated). ``gsd_m`` is the ground size of one pixel in metres
    (geodesic, at the image centre). ``scale_lo``/``scale_hi`` give the per-band
    linear stretch to 8 bit for 16-bit data (the file's own 0.2/99.8 percentiles).
    """

    path: str
    name: str
    width: int
    height: int
    count: int
    dtype: str
    crs_wkt: str
    transform: tuple[float, float, float, float, float, float]
    gsd_x_m: float
    gsd_y_m: float
    rgb_bands: tuple[int, int, int]
    nir_band: int | None
    has_alpha: bool
    scale_lo: tuple[float, ...] = field(default=())
    scale_hi: tuple[float, ...] = field(default=())
    size_bytes: int = 0
    valid_fraction: float = 1.0
    wb_gains: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @property
    def affine(self) -> Affine:
        return Affine(*self.transform)

    @property
    def crs(self) -> CRS:
        return CRS.from_wkt(self.crs_wkt)

    @property
    def gsd_m(self) -> float:
        """Mean ground sample distance (metres per pixel)."""
        return math.sqrt(self.gsd_x_m * self.gsd_y_m)

    @property
    def pixel_area_m2(self) -> float:
        return self.gsd_x_m * self.gsd_y_m

    def footprint(self):
        """The raster's outline as a shapely polygon in its own CRS."""
        from shapely.geometry import Polygon

        t = self.affine
        corners = [(0, 0), (self.width, 0), (self.width, self.height), (0, self.height)]
        return Polygon([t * c for c in corners])


def _fail(path: Path, what: str, expected: str) -> OrthophotoError:
    return OrthophotoError(f"{path}: {what}; {expected}")


#: Words of the GDAL warnings that say a block's data is damaged. libjpeg (JPEG-compressed GeoTIFFs, the usual
#: drone export) decodes what it can of a corrupt block and only warns: the pixels are garbage all the same.
DAMAGE_WORDS = ("jpeglib", "corrupt", "premature end")


class _DamageLog(logging.Handler):
    """GDAL's damaged-data warnings (as rasterio logs them) raised in one thread."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if record.thread == self.thread and any(w in msg.lower() for w in DAMAGE_WORDS):
            msg = re.sub(r"^CPLE_\w+:", "", msg).split(" (this warning can be")[0]  # GDAL's class and its advice
            self.messages.append(msg)


def in_rows_columns(row0: int, row1: int, col0: int, col1: int) -> str:
    """Where in the raster, as the damage errors say it (pixel rows and columns, end exclusive)."""
    return f" in rows {row0}-{row1}, columns {col0}-{col1}"


def damaged_data(path: Path, where: str, why: str) -> OrthophotoError:
    """The error for a file whose data is damaged (``where``: which part, :func:`in_rows_columns`; ``why``: what
    said so)."""
    return _fail(path, f"has damaged data{where} ({why})", "expected an intact GeoTIFF (copy or export it again)")


def _unreadable(path: Path, exc: BaseException, where: str = "") -> OrthophotoError:
    """The error for a file GDAL fails to read (``where``: which part), with GDAL's own reason: rasterio's
    "Read failed. See previous exception for details." leaves it to the deepest exception it was raised from."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return _fail(path, f"cannot be read{where} ({msg})", "the file is damaged or truncated; expected a complete GeoTIFF")


@contextmanager
def refuse_damaged(path: Path, where: str = ""):
    """Reads made in the block raise :class:`OrthophotoError` if GDAL finds the data damaged (``where``: which part).

    A read error (a block that cannot be decoded) and a warning of corrupt data both count: without this a
    damaged block was read as garbage pixels and inspected, and its false defects reported.
    """
    log = logging.getLogger("rasterio._err")
    watch = _DamageLog()
    log.addHandler(watch)
    try:
        yield
    except RasterioError as exc:
        raise _unreadable(path, exc, where) from None
    finally:
        log.removeHandler(watch)
    if watch.messages:
        raise damaged_data(path, where, watch.messages[0])


def ground_sample_distance_m(crs: CRS, transform: Affine, width: int, height: int) -> tuple[float, float]:
    """Ground size (metres) of one pixel along columns and rows, at the raster centre.

    Geodesic distances on the WGS 84 ellipsoid between pixel-centre neighbours,
    so the answer is right for projected (any unit, any scale factor), geographic
    and rotated rasters alike.
    """
    to_ll = Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True)
    geod = Geod(ellps="WGS84")
    cx, cy = width / 2.0, height / 2.0
    step = max(1.0, min(width, height) / 10.0)
    pts = [transform * (cx, cy), transform * (cx + step, cy), transform * (cx, cy + step)]
    lons, lats = to_ll.transform([p[0] for p in pts], [p[1] for p in pts])
    if not all(np.isfinite(lons)) or not all(np.isfinite(lats)):
        raise ValueError("pixel centre cannot be transformed to WGS 84")
    _, _, dx = geod.inv(lons[0], lats[0], lons[1], lats[1])
    _, _, dy = geod.inv(lons[0], lats[0], lons[2], lats[2])
    return dx / step, dy / step


def _band_roles(src: rasterio.DatasetReader) -> tuple[tuple[int, int, int], int | None, bool]:
    ci = list(src.colorinterp)
    desc = [(d or "").strip().lower() for d in src.descriptions]
    has_alpha = ColorInterp.alpha in ci
    nir = None
    for i, d in enumerate(desc):
        if d in NIR_NAMES or d.startswith("nir"):
            nir = i + 1
    if ColorInterp.red in ci and ColorInterp.green in ci and ColorInterp.blue in ci:
        rgb = (ci.index(ColorInterp.red) + 1, ci.index(ColorInterp.green) + 1, ci.index(ColorInterp.blue) + 1)
    else:
        rgb = (1, 2, 3)
    if nir is None and src.count >= 4:
        # A 4th band that is not alpha: RGB+NIR (the usual multispectral layout).
        extra = [b for b in range(1, src.count + 1) if b not in rgb and ci[b - 1] != ColorInterp.alpha]
        if extra:
            nir = extra[0]
    return rgb, nir, has_alpha


def white_balance_gains(rgb8: np.ndarray, valid: np.ndarray, max_chroma_dev: float = 0.035) -> tuple[float, float, float]:
    """Per-band gains that make the flight's near-neutral surfaces (paving, roofs, roads) grey.

    ``rgb8`` is (3, H, W) uint8. Pixels within ``max_chroma_dev`` of neutral chromaticity
    (after the current estimate) vote; two rounds. The tolerance is tight on purpose:
    pale dead grass is only a little warmer than grey and must not be "corrected" away. Returns (1, 1, 1) when fewer than 2 %
    of the valid pixels are near-neutral: then there is nothing to judge the cast by.
    """
    f = rgb8.reshape(3, -1)[:, valid.ravel()].astype(np.float64)
    f = f[:, (f.sum(axis=0) > 60) & (f.max(axis=0) < 250)]
    gains = np.ones(3)
    if f.shape[1] < 100:
        return (1.0, 1.0, 1.0)
    for _ in range(2):
        g = f * gains[:, None]
        chroma = g / np.maximum(g.sum(axis=0), 1)
        neutral = np.abs(chroma - 1 / 3).max(axis=0) < max_chroma_dev
        if neutral.mean() < 0.02:
            return (1.0, 1.0, 1.0)
        means = g[:, neutral].mean(axis=1)
        gains = gains * means.mean() / means
    gains = np.clip(gains / gains[1], 0.85, 1.18)
    return tuple(float(round(v, 4)) for v in gains)


_described: dict[tuple, Orthophoto] = {}


def open_orthophoto(path: str | os.PathLike, nir_band: int | None = None) -> Orthophoto:
    """Validate ``path`` and describe it; raise :class:`OrthophotoError` with a clear message if unusable.

    ``nir_band``: None detects the NIR band from band descriptions / layout, 0 means
    none, N (1-based) names it. The description of an unchanged file (same size and
    modification time) is remembered in this process: the CLI validates the file before the
    flow starts, and the flow does not sample the flight's colours a second time.
    """
    p = Path(path)
    if not p.exists():
        raise _fail(p, "file not found", "give the path of a GeoTIFF orthophoto")
    if p.is_dir():
        raise _fail(p, "is a folder", "give the path of a GeoTIFF orthophoto file")
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns, nir_band)
    if key not in _described:
        if len(_described) > 64:
            _described.clear()
        _described[key] = _open(p, st.st_size, nir_band)
    return _described[key]


def _open(p: Path, size: int, nir_band: int | None) -> Orthophoto:
    if size == 0:
        raise _fail(p, "file is empty (0 bytes)", "expected a GeoTIFF orthophoto; the upload or copy may have failed")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)  # reported as a clear error below instead
            with gdal_env(), rasterio.open(p) as src:
                if nir_band is not None and not (0 <= nir_band <= src.count):
                    raise _fail(p, f"has no band {nir_band} for --nir-band", f"expected 0 (no NIR) to {src.count}")
                return _describe(p, src, size, nir_band)
    except OrthophotoError:
        raise
    except RasterioError as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "not recognized as" in msg or "not recognised" in msg or "not a supported" in msg:
            raise _fail(p, "not a raster file GDAL can read", "expected a GeoTIFF orthophoto") from None
        raise _unreadable(p, exc) from None


def _describe(p: Path, src: rasterio.DatasetReader, size: int, nir_override: int | None = None) -> Orthophoto:
    if src.width > MAX_SIDE_PX or src.height > MAX_SIDE_PX or src.width * src.height > MAX_PIXELS:
        raise _fail(
            p,
            f"header claims {src.width} x {src.height} pixels",
            f"expected at most {MAX_SIDE_PX} pixels a side and {MAX_PIXELS // 10**9} gigapixels; the header is damaged",
        )
    if src.count < 3:
        raise _fail(p, f"has {src.count} band(s)", "expected at least 3 bands: RGB, RGBA or RGB+NIR")
    dtype = src.dtypes[0]
    if dtype not in SUPPORTED_DTYPES or len(set(src.dtypes)) != 1:
        raise _fail(p, f"has data type {','.join(sorted(set(src.dtypes)))}", "expected uint8 or uint16 bands")
    if src.crs is None:
        raise _fail(p, "has no CRS", "export it as a GeoTIFF with a coordinate reference system")
    if src.transform.is_identity:
        if src.gcps[0]:
            raise _fail(p, "is georeferenced by ground control points only", "warp it to a geotransform first (gdalwarp)")
        raise _fail(p, "has no geotransform", "export it as a GeoTIFF with a geotransform (georeferenced orthophoto)")
    if src.transform.determinant == 0:
        raise _fail(p, "has a degenerate geotransform (zero pixel size)", "expected a valid geotransform")
    try:
        crs = CRS.from_wkt(src.crs.to_wkt())
        gx, gy = ground_sample_distance_m(crs, src.transform, src.width, src.height)
    except Exception:
        raise _fail(p, f"its CRS ({src.crs}) cannot be related to the Earth", "expected a projected or geographic CRS") from None
    if not (1e-4 < gx < 100 and 1e-4 < gy < 100):
        raise _fail(p, f"ground sample distance {gx:.4g} x {gy:.4g} m per pixel is implausible", "expected 0.1 mm to 100 m")
    rgb, nir, has_alpha = _band_roles(src)
    if nir_override is not None:
        nir = nir_override or None

    # Check the last block is present: a truncated file fails here, not hours into a run.
    bh, bw = src.block_shapes[0]
    last = Window(max(0, src.width - bw), max(0, src.height - bh), min(bw, src.width), min(bh, src.height))
    src.read(1, window=last)

    # A look at the whole flight for the no-data check, 16-bit statistics and white balance.
    stat_bands = list(rgb) + ([nir] if nir is not None else [])
    with refuse_damaged(p):
        small_all, valid = _flight_sample(src, stat_bands)
    valid_fraction = float(valid.mean())
    if valid_fraction == 0:
        raise _fail(p, "is entirely no-data", "expected an orthophoto with valid pixels")
    small = small_all[:3]
    lo: tuple[float, ...] = ()
    hi: tuple[float, ...] = ()
    if dtype == "uint16":
        vals = small_all[:, valid]
        lo_a = np.percentile(vals, 0.2, axis=1)
        hi_a = np.percentile(vals, 99.8, axis=1)
        hi_a = np.maximum(hi_a, lo_a + 1)
        lo, hi = tuple(float(v) for v in lo_a), tuple(float(v) for v in hi_a)
    gains = white_balance_gains(stretch_to_uint8(small, dtype, lo, hi), valid)
    return Orthophoto(
        wb_gains=gains,
        path=str(p.resolve()),
        name=p.stem,
        width=src.width,
        height=src.height,
        count=src.count,
        dtype=dtype,
        crs_wkt=crs.to_wkt(),
        transform=tuple(src.transform)[:6],
        gsd_x_m=float(gx),
        gsd_y_m=float(gy),
        rgb_bands=rgb,
        nir_band=nir,
        has_alpha=has_alpha,
        scale_lo=lo,
        scale_hi=hi,
        size_bytes=size,
        valid_fraction=valid_fraction,
    )


def crs_units_per_metre(transform, gsd_m: float) -> float:
    """Map units per metre on the ground: a pixel's size in CRS units (rotation included) over its size in metres."""
    a, b, _, d, e, _ = tuple(transform)[:6]
    return math.sqrt(abs(a * e - b * d)) / gsd_m


def valid_mask(src: rasterio.DatasetReader, rgb: np.ndarray, window: Window | None, out_shape=None) -> np.ndarray:
    """Boolean valid-data mask for ``rgb`` (3 x H x W) read from ``window``.

    Honours nodata values, alpha bands and internal masks through GDAL's mask
    bands. A file with no mask at all gets exact-black pixels treated as padding
    (drone mosaics pad with 0,0,0 without declaring it).
    """
    flags = src.mask_flag_enums
    declared = any(MaskFlags.all_valid not in f for f in flags)
    if declared:
        kw = {"window": window}
        if out_shape is not None:
            kw["out_shape"] = out_shape
        m = src.read_masks(1, **kw) > 0
        for b in (2, 3):
            if src.mask_flag_enums[b - 1] != src.mask_flag_enums[0] or MaskFlags.nodata in src.mask_flag_enums[b - 1]:
                m &= src.read_masks(b, **kw) > 0
        return m
    return cv2.bitwise_or(cv2.bitwise_or(rgb[0], rgb[1]), rgb[2]) > 0


def _decimated(src: rasterio.DatasetReader, bands: list[int]) -> tuple[np.ndarray, np.ndarray]:
    f = max(1.0, max(src.width, src.height) / OVERVIEW_PX)
    shape = (max(1, round(src.height / f)), max(1, round(src.width / f)))
    data = src.read(bands, out_shape=(len(bands), *shape))
    return data, valid_mask(src, data[:3], None, out_shape=shape)


def _flight_sample(src: rasterio.DatasetReader, bands: list[int], grid: int = 8, win_px: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Pixels that represent the whole flight: (bands, H, W) and a valid mask.

    Small files and files with overviews: one decimated read. A large file without overviews
    would need a full decode for that (as long as reading it all), so a grid of ``grid`` x ``grid``
    windows spread over it is read instead; only if none of them holds valid data is the full
    decimated read made, to be sure before calling the file empty.
    """
    if src.width * src.height <= 4096 * 4096 or src.overviews(1):
        return _decimated(src, bands)
    tiles, masks = [], []
    for gy in range(grid):
        row_t, row_m = [], []
        for gx in range(grid):
            c = int((gx + 0.5) * src.width / grid - win_px / 2)
            r = int((gy + 0.5) * src.height / grid - win_px / 2)
            w = Window(max(0, c), max(0, r), min(win_px, src.width), min(win_px, src.height))
            data = src.read(bands, window=w, out_shape=(len(bands), win_px, win_px))
            row_t.append(data)
            row_m.append(valid_mask(src, data[:3], w, out_shape=(win_px, win_px)))
        tiles.append(np.concatenate(row_t, axis=2))
        masks.append(np.concatenate(row_m, axis=1))
    data, valid = np.concatenate(tiles, axis=1), np.concatenate(masks, axis=0)
    if not valid.any():
        return _decimated(src, bands)
    return data, valid


def _sha256(path: str | os.PathLike, beat: Callable[[], None] = lambda: None, chunk: int = 8 * 1024 * 1024) -> str:
    """SHA-256 of the file's bytes, read ``chunk`` bytes at a time, calling ``beat()`` after each."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
            beat()
    return h.hexdigest()


_hashing: PerFile[str] = PerFile("file hash", _sha256)


def start_file_sha256(path: str | os.PathLike) -> Job[str]:
    """Begin hashing ``path`` in a background thread; a later :func:`file_sha256` of the unchanged file waits for it.

    The CLI calls this before the flow starts: the checkpoint key needs the hash before any tile
    is detected, and a gigapixel file takes seconds to read when it is not in the page cache
    (7.5 s for 364 MB here), which would otherwise be spent with every core idle. The flow begins it too (the
    job is shared) and waits for it with a stall limit (:meth:`schouw.per_file.Job.result`).
    """
    return _hashing.start(path)


def file_sha256(path: str | os.PathLike) -> str:
    """Content hash of the input (identifies a flight across runs); reuses a hash begun by :func:`start_file_sha256`."""
    fut = _hashing.begun(path)
    return fut.result() if fut is not None else _sha256(path)


def stretch_to_uint8(bands: np.ndarray, dtype: str, lo: tuple[float, ...], hi: tuple[float, ...]) -> np.ndarray:
    """Scale a (3, H, W) array to uint8: uint8 as is, uint16 linearly from ``lo`` to ``hi`` per band."""
    if dtype == "uint8":
        return bands.astype(np.uint8, copy=False)
    lo_a = np.asarray(lo[:3], dtype=np.float32)[:, None, None]
    hi_a = np.asarray(hi[:3], dtype=np.float32)[:, None, None]
    return np.clip((bands.astype(np.float32) - lo_a) * (255.0 / (hi_a - lo_a)), 0, 255).astype(np.uint8)


def to_uint8(ortho: Orthophoto, bands: np.ndarray) -> np.ndarray:
    """Scale a (3, H, W) array of the RGB bands to uint8 using the flight's own statistics."""
    return stretch_to_uint8(bands, ortho.dtype, ortho.scale_lo, ortho.scale_hi)


@dataclass
class TilePixels:
    """Pixels of one tile: ``rgb`` (H, W, 3) uint8, ``valid`` (H, W) bool, ``nir`` (H, W) uint8 or None."""

    rgb: np.ndarray
    valid: np.ndarray
    nir: np.ndarray | None


def read_window(ortho: Orthophoto, src: rasterio.DatasetReader, window: Window) -> TilePixels:
    """Read one window as 8-bit RGB (H, W, 3), valid mask and optional NIR; pixels outside the raster are invalid.

    :class:`OrthophotoError` if the window's data is damaged (:func:`refuse_damaged`).
    """
    where = in_rows_columns(int(window.row_off), int(window.row_off + window.height), int(window.col_off),
                            int(window.col_off + window.width))
    with refuse_damaged(Path(ortho.path), where):
        bands = src.read(list(ortho.rgb_bands), window=window, boundless=False)
        valid = valid_mask(src, bands, window)
        n = src.read(ortho.nir_band, window=window) if ortho.nir_band is not None else None
    rgb8 = to_uint8(ortho, bands)
    if any(abs(g - 1.0) > 0.02 for g in ortho.wb_gains):
        gains = np.asarray(ortho.wb_gains, np.float32)[:, None, None]
        rgb8 = np.clip(rgb8 * gains, 0, 255).astype(np.uint8)
    nir = None
    if n is not None:
        if ortho.dtype == "uint16":
            lo, hi = ortho.scale_lo[3], ortho.scale_hi[3]
            n = np.clip((n.astype(np.float32) - lo) * (255.0 / (hi - lo)), 0, 255)
        nir = n.astype(np.uint8)
    return TilePixels(rgb=cv2.merge(list(rgb8)), valid=valid, nir=nir)
