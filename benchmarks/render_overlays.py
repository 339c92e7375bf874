"""Render the detectors' results on the real orthophotos in ../shared/data/orthophotos.

    .venv/bin/python benchmarks/render_overlays.py [--photo] [NAME ...]

Automatic areas (no AREAS file) and default parameters, plus an `_as_green` run with the
whole raster given as a green area where listed. Writes into build/overlays/ (ignored by git:
results derived from ../shared/data stay out of the project) a *result map* per file — road
areas grey, green areas pale green, issues outlined by severity (yellow L, orange M, red E) —
and with --photo also the outlines over the orthophoto itself. Prints the issue counts per file.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections import Counter
from pathlib import Path

from schouw.orthophoto import open_orthophoto
from schouw.params import InspectParams
from schouw.pipeline import finish, make_tiles, prepare_areas, process_tiles
from schouw.preview import render_preview, render_result_map

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SCHOUW_SHARED_DATA", ROOT.parent / "shared" / "data")) / "orthophotos"
DEFAULT = ["dry_pasture_10cm", "colorado_culdesac_15cm", "gorinchem_nl_rd_25cm", "dry_grass_shrub_1p8cm", "manila_roads_bridge_10cm"]
#: Also rendered with the whole raster given as a green AREAS polygon (a pasture has no living grass
#: to tell the automatic segmentation it is a green area).
AS_GREEN = ["dry_pasture_10cm", "dry_grass_shrub_1p8cm"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", metavar="NAME", help=f"orthophotos in {SHARED} (stem), default: {' '.join(DEFAULT)}")
    ap.add_argument("--photo", action="store_true", help="also draw the outlines over the orthophoto itself")
    args = ap.parse_args()
    photo, names = args.photo, args.names or DEFAULT
    missing = [n for n in names if not (SHARED / f"{n}.tif").is_file()]
    if missing:
        ap.error(f"no orthophoto {', '.join(missing)} in {SHARED}; expected the stem of a .tif there, e.g. {DEFAULT[0]}")
    out = ROOT / "build" / "overlays"
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(n, False) for n in names] + [(n, True) for n in names if n in AS_GREEN]
    for name, as_green in jobs:
        o = open_orthophoto(SHARED / f"{name}.tif")
        p = InspectParams()
        work = Path(tempfile.mkdtemp())
        areas_file = None
        if as_green:
            import geopandas as gpd

            areas_file = work / "green.gpkg"
            gpd.GeoDataFrame({"area": ["green"]}, geometry=[o.footprint()], crs=o.crs).to_file(areas_file)
        areas_path, _ = prepare_areas(o, areas_file, work)
        issues, areas = finish(o, process_tiles(o, make_tiles(o, p), areas_path, p), "docs", p, areas_path)
        name = f"{name}{'_as_green' if as_green else ''}"
        render_result_map(o, issues, areas, out / f"{name}.png", max_px=560)
        if photo:
            render_preview(o, issues, out / f"{name}_photo.png", max_px=800)
        counts = Counter((i.type, i.severity) for i in issues)
        levels = Counter(r.properties()["quality_level"] for r in areas if r.kind == "green")
        print(f"{name}: gsd {o.gsd_m:.3f} m; " + ", ".join(f"{t} {s}: {n}" for (t, s), n in sorted(counts.items()))
              + f"; green areas by level {dict(levels)}")


if __name__ == "__main__":
    main()
