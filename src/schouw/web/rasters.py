"""Raster views of a flight for the web map: the cloud-optimised GeoTIFF made at ingest, web-mercator tiles, issue chips.

rio-tiler is imported here, once, when the app is created: its first import from several request
threads at once fails (a circular import inside the package).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from rio_tiler.errors import TileOutsideBounds
from rio_tiler.io import Reader

from ..orthophoto import Orthophoto, gdal_env

TILE_PX = 256


def make_cog(ortho: Orthophoto, dst: Path) -> None:
    """Write the RGB bands of ``ortho`` as a COG at ``dst`` (written beside it, then renamed: never half there).

    Alpha, nodata and internal masks become the COG's internal mask, so tiles are transparent
    outside the flown area. Windowed: memory does not grow with the orthophoto.
    """
    from rio_cogeo.cogeo import cog_translate
    from rio_cogeo.profiles import cog_profiles

    tmp = dst.with_name(dst.name + ".tmp")
    profile = cog_profiles.get("deflate")
    profile.update(blockxsize=512, blockysize=512, predictor=2)
    with gdal_env():
        cog_translate(ortho.path, str(tmp), profile, indexes=list(ortho.rgb_bands), add_mask=True, overview_resampling="average",
                      in_memory=False, quiet=True)
    os.replace(tmp, dst)


def _to_png(img, rgb_range: list | None) -> bytes:
    if img.data.dtype != np.uint8:
        img = img.rescale(in_range=[tuple(r) for r in rgb_range] if rgb_range else [(0, 65535)] * 3)
    return img.render(img_format="PNG")


def render_tile(cog: str, z: int, x: int, y: int, rgb_range: list | None = None) -> bytes | None:
    """The web-mercator tile z/x/y of ``cog`` as PNG (transparent where there is no data); None outside the orthophoto."""
    with gdal_env(), Reader(cog) as r:
        try:
            img = r.tile(x, y, z, tilesize=TILE_PX, resampling_method="bilinear")
        except TileOutsideBounds:
            return None
    return _to_png(img, rgb_range)


def render_chip(cog: str, geom_flight_crs, margin_m: float, gsd_m: float, rgb_range: list | None = None, max_px: int = 320) -> bytes:
    """A PNG of the orthophoto around an issue (``geom_flight_crs``, a shapely geometry in the COG's CRS) with its outline drawn."""
    units = margin_m / gsd_m  # margin in pixels ...
    with gdal_env(), Reader(cog) as r:
        px = abs(r.dataset.transform.a)
        w, s, e, n = geom_flight_crs.bounds
        pad = max(units * px, 0.1 * max(e - w, n - s))  # ... in CRS units
        img = r.part((w - pad, s - pad, e + pad, n + pad), dst_crs=r.crs, bounds_crs=r.crs, max_size=max_px)
    if img.data.dtype != np.uint8:
        img = img.rescale(in_range=[tuple(x) for x in rgb_range] if rgb_range else [(0, 65535)] * 3)
    rgb = np.ascontiguousarray(np.moveaxis(img.data[:3], 0, -1))
    inv = ~img.transform
    polys = getattr(geom_flight_crs, "geoms", [geom_flight_crs])
    for poly in polys:
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.array([inv * c for c in ring.coords], dtype=np.float64)
            cv2.polylines(rgb, [np.round(xy).astype(np.int32)], True, (255, 40, 40), 1, cv2.LINE_AA)
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return buf.tobytes()
