"""New flights and runs: an uploaded orthophoto checked, put in place under server-chosen names, and queued."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

from shapely.ops import transform as shp_transform

from ..errors import AreasError
from ..export import to_lonlat
from ..params import InspectParams
from .db import Catalog
from .models import Flight, Run

AREA_SUFFIXES = (".gpkg", ".geojson", ".json")


def new_id() -> str:
    return secrets.token_hex(8)


def register_flight(catalog: Catalog, data_dir: Path, orthophoto_part: Path, name: str, created_by: str,
                    areas_part: Path | None = None, areas_filename: str | None = None, params: dict | None = None) -> tuple[str, str]:
    """Check an uploaded orthophoto (and areas), move them into ``data_dir/flights/<id>/`` and queue its first run.

    Raises :class:`schouw.errors.InputError` (nothing is left behind) when the orthophoto is not a
    georeferenced raster schouw can inspect, or the areas file is unusable. Returns (flight id, run id).
    """
    from ..orthophoto import open_orthophoto

    fid = new_id()
    folder = Path(data_dir) / "flights" / fid
    folder.mkdir(parents=True)
    try:
        ortho_path = folder / "orthophoto.tif"
        orthophoto_part.replace(ortho_path)
        ortho = open_orthophoto(ortho_path)
        p = InspectParams(**(params or {}))
        areas_path = None
        if areas_part is not None:
            suffix = Path(areas_filename or "").suffix.lower()
            if suffix not in AREA_SUFFIXES:
                raise AreasError(f"areas file {areas_filename!r}: expected a GeoPackage (.gpkg) or GeoJSON (.geojson) file")
            areas_path = folder / f"areas{suffix}"
            areas_part.replace(areas_path)
            from ..areas import read_areas

            read_areas(areas_path, ortho.crs_wkt, ortho.footprint(), None)
        to_ll = to_lonlat(ortho.crs_wkt)
        bounds = shp_transform(to_ll.transform, ortho.footprint().segmentize(max(ortho.width, ortho.height) * abs(ortho.transform[0]) / 16)).bounds
        rgb_range = None if ortho.dtype == "uint8" else [[lo, hi] for lo, hi in zip(ortho.scale_lo[:3], ortho.scale_hi[:3])]
        rid = new_id()
        with catalog.session() as s:
            s.add(Flight(id=fid, name=name or ortho.name, created_by=created_by, orthophoto_path=str(ortho_path),
                         areas_path=str(areas_path) if areas_path else None, size_bytes=ortho_path.stat().st_size,
                         crs_wkt=ortho.crs_wkt, crs=ortho.crs.to_string(), width=ortho.width, height=ortho.height,
                         bounds_wgs84=list(bounds), gsd_m=ortho.gsd_m, rgb_range=rgb_range))
            s.flush()
            s.add(Run(id=rid, flight_id=fid, state="PENDING", progress=0.0, params=p.model_dump(exclude_defaults=True)))
        return fid, rid
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def queue_run(catalog: Catalog, flight_id: str, params: dict | None = None) -> str:
    """A new PENDING run of an existing flight (e.g. with other parameters); its issues will replace the current ones."""
    p = InspectParams(**(params or {}))
    rid = new_id()
    with catalog.session() as s:
        if s.get(Flight, flight_id) is None:
            raise LookupError(f"flight {flight_id} does not exist")
        s.add(Run(id=rid, flight_id=flight_id, state="PENDING", progress=0.0, params=p.model_dump(exclude_defaults=True)))
    return rid
