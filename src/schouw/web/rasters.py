"""Raster views of a flight for the web map: the cloud-optimised GeoTIFF made at ingest, web-mercator tiles, issue chips.

rio-tiler is imported here, once, when the app is created: its first import from several request
threads at once fails (a circular import inside the package).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from rio_tiler.errors import TileOutsideBounds
from rio_tiler.io import Reader
from rio_tiler.models import ImageData

from ..orthophoto import Orthophoto, crs_units_per_metre, gdal_env

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


def _to_8bit(img: ImageData, rgb_range: list | None) -> ImageData:
    """``img`` as 8 bit: 16-bit data stretched with the flight's own ``rgb_range`` (``[[lo, hi]] * 3``)."""
    if img.data.dtype == np.uint8:
        return img
    return img.rescale(in_range=[tuple(r) for r in rgb_range] if rgb_range else [(0, 65535)] * 3)


def render_tile(cog: str, z: int, x: int, y: int, rgb_range: list | None = None) -> bytes | None:
    """The web-mercator tile z/x/y of ``cog`` as PNG (transparent where there is no data); None outside the orthophoto."""
    with gdal_env(), Reader(cog) as r:
        try:
            img = r.tile(x, y, z, tilesize=TILE_PX, resampling_method="bilinear")
        except TileOutsideBounds:
            return None
    return _to_8bit(img, rgb_range).render(img_format="PNG")


def render_chip(cog: str, geom_flight_crs, margin_m: float, gsd_m: float, rgb_range: list | None = None, max_px: int = 320) -> bytes:
    """A PNG of the orthophoto around an issue (``geom_flight_crs``, a shapely geometry in the COG's CRS) with its outline in red.

    ``margin_m``: ground around the issue's bounds (metres; at least a tenth of the issue's size).
    """
    from rasterio.features import rasterize

    with gdal_env(), Reader(cog) as r:
        w, s, e, n = geom_flight_crs.bounds
        pad = max(margin_m * crs_units_per_metre(r.dataset.transform, gsd_m), 0.1 * max(e - w, n - s))
        img = _to_8bit(r.part((w - pad, s - pad, e + pad, n + pad), dst_crs=r.crs, bounds_crs=r.crs, max_size=max_px), rgb_range)
    outline = rasterize([geom_flight_crs.boundary], out_shape=(img.height, img.width), transform=img.transform,
                        all_touched=True, dtype="uint8").astype(bool)
    arr = img.array[:3].copy()  # masked: outside the orthophoto stays transparent
    arr[:, outline] = np.array([255, 40, 40], np.uint8)[:, None]
    return ImageData(arr, bounds=img.bounds, crs=img.crs).render(img_format="PNG")
