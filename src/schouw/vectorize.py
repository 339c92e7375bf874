"""Defect masks to geometry, and the one place georeference is attached.

A defect's mask is clipped to its tile's core window (the tile owns only those
pixels) and traced with ``rasterio.features.shapes`` in *global pixel
coordinates* of the orthophoto: integers, so pieces from neighbouring tiles
share their edges exactly and union cleanly. :func:`to_map` then applies the
orthophoto's Affine once, which handles any CRS and rotated geotransforms alike.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import cv2
import numpy as np
import shapely
from affine import Affine
from rasterio import features
from rasterio.errors import NotGeoreferencedWarning

from .detect.base import Defect
from .detect.road import skeleton_length_px
from .tiling import TileSpec


# Pixel-space tracing uses an identity transform on purpose (tile at the raster origin); rasterio warns
# about that from worker threads, where a local catch_warnings does not reach.
warnings.filterwarnings("ignore", category=NotGeoreferencedWarning, module="rasterio.features")


@dataclass
class Piece:
    """The part of one defect inside one tile's core window; ``wkb`` in global pixel coordinates (col, row)."""

    type: str
    subtype: str | None
    wkb: bytes
    area_px: int
    length_px: float
    max_width_px: float
    mean_width_px: float
    score: float
    tile_id: str


def mask_to_geometry(mask: np.ndarray, transform: Affine):
    """Polygon(s) covering the True pixels of ``mask``; ``transform`` maps mask pixel (col, row) to map coordinates."""
    polys = [
        shapely.geometry.shape(geom)
        for geom, val in features.shapes(mask.astype(np.uint8), mask=mask, transform=transform, connectivity=8)
        if val == 1
    ]
    if not polys:
        return shapely.Polygon()
    geom = shapely.union_all(polys) if len(polys) > 1 else polys[0]
    if not geom.is_valid:
        geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    return geom


def defect_to_piece(defect: Defect, spec: TileSpec) -> Piece | None:
    """Clip ``defect`` to the core window of ``spec`` and trace it in map coordinates; None if nothing is left."""
    rs, cs = spec.core_slices()
    h, w = defect.mask.shape
    r0, c0 = max(defect.row0, rs.start), max(defect.col0, cs.start)
    r1, c1 = min(defect.row0 + h, rs.stop), min(defect.col0 + w, cs.stop)
    if r0 >= r1 or c0 >= c1:
        return None
    m = defect.mask[r0 - defect.row0 : r1 - defect.row0, c0 - defect.col0 : c1 - defect.col0]
    area_px = int(np.count_nonzero(m))
    if area_px == 0:
        return None
    if defect.type == "crack":
        whole = m.shape == defect.mask.shape and "length_px" in defect.extra
        length_px = defect.extra["length_px"] if whole else skeleton_length_px(m)[0]
    elif "border_px" in defect.extra:  # overgrowth: length along the green border, in the core part
        full = max(int(np.count_nonzero(defect.mask)), 1)
        length_px = defect.extra["border_px"] * area_px / full
    else:
        length_px = 0.0
    geom = mask_to_geometry(m, Affine.translation(spec.col_off + c0, spec.row_off + r0))
    return Piece(
        type=defect.type,
        subtype=defect.subtype,
        wkb=shapely.to_wkb(geom),
        area_px=area_px,
        length_px=float(length_px),
        max_width_px=float(defect.extra.get("max_width_px", 0.0)),
        mean_width_px=float(defect.extra.get("mean_width_px", 0.0)),
        score=defect.score,
        tile_id=spec.tile_id,
    )


def to_map(geom, transform: Affine):
    """Pixel-space geometry (col, row), or an array of them, to the orthophoto's CRS through its ``transform`` (any rotation).

    A single geometry is repaired if the transform made it invalid; arrays are returned as transformed.
    """
    a, b, c, d, e, f = transform[:6]

    def apply(xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0], xy[:, 1]
        return np.column_stack([a * x + b * y + c, d * x + e * y + f])

    out = shapely.transform(geom, apply)
    if isinstance(out, np.ndarray):
        return out
    if not out.is_valid:
        out = shapely.make_valid(out, method="structure", keep_collapsed=False)
    return out


def area_to_pieces(masks: dict[str, np.ndarray], spec: TileSpec, gsd_m: float, cell_m: float = 0.25) -> list[Piece]:
    """Automatic road/green areas of one tile's core as pieces (type ``area_<kind>``), traced on a coarse grid.

    Areas are for per-area quality levels, not for measuring defects: a cell of
    ``cell_m`` keeps the polygons light on gigapixel flights.
    """
    rs, cs = spec.core_slices()
    f = max(1, int(round(cell_m / gsd_m)))
    out = []
    for kind, mask in masks.items():
        core = mask[rs, cs]
        if not core.any():
            continue
        h, w = core.shape
        small = cv2.resize(core.astype(np.uint8), (-(-w // f), -(-h // f)), interpolation=cv2.INTER_NEAREST) > 0
        if not small.any():  # too small to show on the coarse grid
            continue
        # cell (i, j) covers core pixels [j*f, (j+1)*f): scale by f, clip to the core, shift to global pixels
        geom = mask_to_geometry(small, Affine.translation(spec.core_col_off, spec.core_row_off) @ Affine.scale(f))
        geom = shapely.intersection(geom, shapely.box(spec.core_col_off, spec.core_row_off, spec.core_col_off + w, spec.core_row_off + h))
        if geom.is_empty:
            continue
        out.append(Piece(f"area_{kind}", None, shapely.to_wkb(geom), int(core.sum()), 0.0, 0.0, 0.0, 1.0, spec.tile_id))
    return out
