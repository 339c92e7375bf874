"""Render the detectors' results on the real orthophotos in ../shared/data/orthophotos into docs/overlays/.

    .venv/bin/python benchmarks/render_overlays.py [NAME ...]

Automatic areas (no AREAS file), default parameters. Each PNG is the orthophoto at most
640 px wide with issues outlined by severity (yellow L, orange M, red E); a line per file
with the issue counts is printed for the model card.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

import cv2

from schouw.orthophoto import open_orthophoto
from schouw.params import InspectParams
from schouw.pipeline import finish, make_tiles, prepare_areas, process_tiles
from schouw.preview import render_preview

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SCHOUW_SHARED_DATA", ROOT.parent / "shared" / "data")) / "orthophotos"
DEFAULT = ["dry_pasture_10cm", "colorado_culdesac_15cm", "gorinchem_nl_rd_25cm", "dry_grass_shrub_1p8cm", "manila_roads_bridge_10cm"]
#: Also rendered with the whole raster given as a green AREAS polygon (a pasture has no living grass
#: to tell the automatic segmentation it is a green area).
AS_GREEN = ["dry_pasture_10cm", "dry_grass_shrub_1p8cm"]


def main() -> None:
    names = sys.argv[1:] or DEFAULT
    out = ROOT / "docs" / "overlays"
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
        ap, _ = prepare_areas(o, areas_file, work)
        issues, areas = finish(o, process_tiles(o, make_tiles(o, p), ap, p), "docs", p, ap)
        png = out / f"{name}{'_as_green' if as_green else ''}.png"
        render_preview(o, issues, png, max_px=560)
        img = cv2.imread(str(png))
        cv2.imwrite(str(png), (img // 8) * 8 + 4, [cv2.IMWRITE_PNG_COMPRESSION, 9])  # posterised: a third of the bytes
        name = png.stem
        counts = Counter((i.type, i.severity) for i in issues)
        levels = Counter(r.properties()["quality_level"] for r in areas if r.kind == "green")
        print(f"{name}: gsd {o.gsd_m:.3f} m; " + ", ".join(f"{t} {s}: {n}" for (t, s), n in sorted(counts.items()))
              + f"; green areas by level {dict(levels)}")


if __name__ == "__main__":
    main()
