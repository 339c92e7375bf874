"""Shared helpers for tests: run the library pipeline without Prefect, paint defects."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pyproj import CRS

from schouw.orthophoto import open_orthophoto
from schouw.params import InspectParams
from schouw.pipeline import finish, make_tiles, prepare_areas, process_tiles


def run_library_with_areas(tif: Path, areas: Path | None, work: Path, **params):
    """Inspect ``tif`` with the library stages directly (the flow wires the same calls): (ortho, issues, area records)."""
    o = open_orthophoto(tif)
    p = InspectParams(**params)
    work.mkdir(parents=True, exist_ok=True)
    ap, _ = prepare_areas(o, areas, work)
    result = process_tiles(o, make_tiles(o, p), ap, p)
    issues, records = finish(o, result, "test", p, ap)
    return o, issues, records


def run_library(tif: Path, areas: Path | None, work: Path, **params):
    """Like :func:`run_library_with_areas`, returning (ortho, issues)."""
    o, issues, _ = run_library_with_areas(tif, areas, work, **params)
    return o, issues


def paint_disc(bands: np.ndarray, cx: float, cy: float, r: float, colour) -> None:
    """Paint a filled disc of radius ``r`` px centred at pixel coordinates (cx, cy) (pixel centres at +0.5)."""
    h, w = bands.shape[1:]
    yy, xx = np.mgrid[0:h, 0:w]
    m = (xx + 0.5 - cx) ** 2 + (yy + 0.5 - cy) ** 2 <= r * r
    for b, c in enumerate(colour):
        bands[b][m] = c


def paint_line(img: np.ndarray, pts, width: int, darkness: float) -> np.ndarray:
    """Darken an anti-aliased polyline into an (H, W, 3) uint8 image (``darkness``: factor at its core); its mask."""
    import cv2

    m = np.zeros(img.shape[:2], np.uint8)
    cv2.polylines(m, [np.asarray(pts, np.int32)], False, 255, width, cv2.LINE_AA)
    a = (m.astype(np.float32) / 255)[..., None]
    img[:] = (img * (1 - a * (1 - darkness))).astype(np.uint8)
    return m > 0


def footprint_areas(path: Path, o_footprint, crs: CRS, kind: str = "green") -> Path:
    """A GeoJSON (RFC 7946, lon/lat) with one polygon of ``kind`` covering the footprint given in ``crs``."""
    import geopandas as gpd

    gdf = gpd.GeoDataFrame({"area": [kind]}, geometry=[o_footprint.buffer(o_footprint.length * 0.01)], crs=crs).to_crs(4326)
    gdf.to_file(path, driver="GeoJSON")
    return path


def load_geojson(path: Path) -> dict:
    return json.loads(Path(path).read_text())
