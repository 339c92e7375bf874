"""Areas: where each detector applies (road or green), from a vector file in any CRS.

Recognised, in this order:
1. a user mapping (``field`` with lists of road and green values);
2. a property ``area`` with value ``road`` or ``green`` (plain GeoJSON works);
3. BGT: a layer named ``wegdeel`` (road) or ``begroeidterreindeel`` (green), or the
   physical-appearance attribute (``fysiekVoorkomen``: gesloten/open verharding → road,
   groenvoorziening, grasland … → green).
Polygons are reprojected to the orthophoto's CRS and rasterised per tile.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely
from affine import Affine
from pyproj import CRS
from rasterio import features

from .errors import AreasError

if TYPE_CHECKING:
    import geopandas as gpd

BGT_LAYERS = {"wegdeel": "road", "ondersteunendwegdeel": "road", "begroeidterreindeel": "green"}
BGT_APPEARANCE_FIELDS = ("fysiekvoorkomen", "bgt-fysiekvoorkomen", "bgt_fysiekvoorkomen", "fysiek_voorkomen", "plus-fysiekvoorkomen")
BGT_ROAD = ("gesloten verharding", "open verharding", "half verhard")
BGT_GREEN = (
    "groenvoorziening", "grasland overig", "grasland agrarisch", "struiken", "bodembedekkers",
    "heesters", "gras- en kruidachtigen", "houtwal", "onverhard", "bosplantsoen",
)
AREA_KINDS = ("road", "green")
NAME_FIELDS = ("name", "naam", "lokaalid", "identificatie", "gml_id", "id", "fid")


@dataclass(frozen=True)
class AreaMapping:
    """User mapping: features whose ``field`` is in ``road`` / ``green`` become that area (case-insensitive)."""

    field: str
    road: tuple[str, ...] = ()
    green: tuple[str, ...] = ()


@dataclass
class Areas:
    """Road and green polygons in the orthophoto's CRS and how they were recognised."""

    road: list = field(default_factory=list)
    green: list = field(default_factory=list)
    road_names: list[str] = field(default_factory=list)
    green_names: list[str] = field(default_factory=list)
    source: str = ""
    recognised_by: str = ""

    def counts(self) -> dict[str, int]:
        return {"road": len(self.road), "green": len(self.green)}


def _classify(df: "gpd.GeoDataFrame", layer: str, mapping: AreaMapping | None) -> tuple[np.ndarray, str]:
    cols = {c.lower(): c for c in df.columns if c != "geometry"}
    kinds = np.full(len(df), "", dtype=object)
    if mapping is not None:
        col = cols.get(mapping.field.lower())
        if col is None:
            raise AreasError(f"field {mapping.field!r} not found in layer {layer!r}; fields are: {', '.join(cols.values()) or 'none'}")
        v = df[col].astype(str).str.strip().str.lower()
        kinds[v.isin([s.lower() for s in mapping.road]).to_numpy()] = "road"
        kinds[v.isin([s.lower() for s in mapping.green]).to_numpy()] = "green"
        return kinds, f"mapping of field {mapping.field}"
    if "area" in cols:
        v = df[cols["area"]].astype(str).str.strip().str.lower()
        kinds[v.eq("road").to_numpy()] = "road"
        kinds[v.eq("green").to_numpy()] = "green"
        return kinds, "property 'area'"
    for f in BGT_APPEARANCE_FIELDS:
        if f in cols:
            v = df[cols[f]].astype(str).str.strip().str.lower()
            kinds[v.isin(BGT_ROAD).to_numpy()] = "road"
            kinds[v.isin(BGT_GREEN).to_numpy()] = "green"
            if layer.lower() in BGT_LAYERS:
                kinds[kinds == ""] = BGT_LAYERS[layer.lower()]
            return kinds, f"BGT attribute {cols[f]}"
    base = layer.lower().removeprefix("bgt_").removeprefix("bgt-")
    if base in BGT_LAYERS:
        kinds[:] = BGT_LAYERS[base]
        return kinds, f"BGT layer {layer}"
    return kinds, ""


def _reason(exc: Exception, most: int = 200) -> str:
    """GDAL's reason in an error line: its first sentence (GDAL adds hints such as "It might help to specify the
    correct driver"), cut at a word with "…" if still longer than ``most`` characters."""
    lines = str(exc).strip().splitlines()
    text = re.split(r"\.(?:;|\s|$)", lines[0], maxsplit=1)[0] if lines else type(exc).__name__
    return text if len(text) <= most else text[:most].rsplit(" ", 1)[0] + " …"


def read_areas(path: str | os.PathLike, crs_wkt: str, footprint, mapping: AreaMapping | None = None) -> Areas:
    """Read road/green polygons from ``path`` (GPKG, GeoJSON, Shapefile; any CRS) into ``crs_wkt``.

    Raises :class:`AreasError` when the file is unreadable, has no polygons, no
    recognisable road/green features, or does not overlap ``footprint`` (a shapely
    polygon in ``crs_wkt``).
    """
    import geopandas as gpd  # here, not at module level: tile workers import this module and never read files
    import pyogrio

    p = Path(path)
    if not p.exists():
        raise AreasError(f"{p}: areas file not found; give a GeoPackage, GeoJSON or Shapefile of road/green polygons")
    if p.is_file() and p.stat().st_size == 0:
        raise AreasError(f"{p}: areas file is empty (0 bytes); expected a GeoPackage, GeoJSON or Shapefile")
    try:
        layers = [name for name, gtype in pyogrio.list_layers(p)]
    except Exception as exc:
        raise AreasError(f"{p}: cannot be read as a vector file ({_reason(exc)}); expected GeoPackage, GeoJSON or Shapefile") from None
    target = CRS.from_wkt(crs_wkt)
    out = Areas(source=str(p))
    how: set[str] = set()
    seen_fields: set[str] = set()
    any_polygon = False
    for layer in layers:
        if layer in ("layer_styles",):
            continue
        try:
            df = gpd.read_file(p, layer=layer, engine="pyogrio")
        except Exception as exc:
            raise AreasError(f"{p}: layer {layer!r} cannot be read ({_reason(exc)})") from None
        if "geometry" not in df or df.geometry.isna().all():
            continue
        df = df[df.geometry.notna() & ~df.geometry.is_empty]
        poly = df.geom_type.isin(["Polygon", "MultiPolygon"])
        if not poly.any():
            continue
        any_polygon = True
        df = df[poly]
        seen_fields.update(c for c in df.columns if c != "geometry")
        if df.crs is None:
            raise AreasError(f"{p}: layer {layer!r} has no CRS; save it with a coordinate reference system")
        kinds, rule = _classify(df, layer, mapping)
        if rule:
            how.add(rule)
        df = df.to_crs(target)
        geoms = shapely.make_valid(df.geometry.to_numpy())
        name_col = next((cols[c] for c in NAME_FIELDS if c in (cols := {x.lower(): x for x in df.columns})), None)
        for i, (g, k) in enumerate(zip(geoms, kinds)):
            if k in AREA_KINDS and not g.is_empty:
                getattr(out, k).append(g)
                label = str(df[name_col].iloc[i]) if name_col else f"{layer}:{i + 1}"
                getattr(out, f"{k}_names").append(label)
    if not any_polygon:
        raise AreasError(f"{p}: contains no polygons; expected road/green area polygons")
    if not out.road and not out.green:
        raise AreasError(
            f"{p}: no feature is recognised as road or green (fields: {', '.join(sorted(seen_fields)) or 'none'}); "
            "expected a property 'area' = road|green, BGT wegdeel/begroeidterreindeel, or use --area-field with --road-values/--green-values"
        )
    allg = shapely.union_all(out.road + out.green)
    if not allg.intersects(footprint):
        raise AreasError(f"{p}: areas do not overlap the orthophoto (areas bounds {tuple(round(v, 2) for v in allg.bounds)} in the orthophoto's CRS)")
    out.recognised_by = "; ".join(sorted(how))
    return out


def save_areas(areas: Areas, path: str | os.PathLike) -> None:
    """Write prepared areas (already in the orthophoto's CRS) as WKB for the tile tasks."""
    import pickle

    with open(path, "wb") as fh:
        pickle.dump(
            {
                "road": shapely.to_wkb(areas.road).tolist(),
                "green": shapely.to_wkb(areas.green).tolist(),
                "road_names": areas.road_names,
                "green_names": areas.green_names,
            },
            fh,
        )


def load_area_polygons(path: str) -> dict[str, list[tuple[str, object]]]:
    """The prepared areas as ``{kind: [(name, polygon in the orthophoto's CRS), ...]}``."""
    import pickle

    with open(path, "rb") as fh:
        raw = pickle.load(fh)
    return {k: list(zip(raw[f"{k}_names"], shapely.from_wkb(raw[k]) if raw[k] else [])) for k in AREA_KINDS}


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> dict[str, tuple[shapely.STRtree, np.ndarray]]:
    import pickle

    with open(path, "rb") as fh:
        raw = pickle.load(fh)
    out = {}
    for k in AREA_KINDS:
        geoms = np.array(shapely.from_wkb(raw[k]) if raw[k] else [], dtype=object)
        out[k] = (shapely.STRtree(geoms), geoms)
    return out


def rasterize_areas(path: str, shape: tuple[int, int], transform: Affine) -> dict[str, np.ndarray]:
    """Boolean ``road`` and ``green`` masks of a tile of ``shape`` whose pixels map through ``transform``."""
    loaded = _load(path, os.path.getmtime(path))
    h, w = shape
    corners = [transform * c for c in ((0, 0), (w, 0), (w, h), (0, h))]
    tile_poly = shapely.Polygon(corners)
    out = {}
    for k, (tree, geoms) in loaded.items():
        idx = tree.query(tile_poly, predicate="intersects") if len(geoms) else []
        if len(idx) == 0:
            out[k] = np.zeros(shape, bool)
            continue
        out[k] = features.rasterize(((g, 1) for g in geoms[idx]), out_shape=shape, transform=transform, fill=0, dtype="uint8").astype(bool)
    # Where a road and a green polygon overlap, the road wins (paving is what gets inspected).
    out["green"] &= ~out["road"]
    return out
