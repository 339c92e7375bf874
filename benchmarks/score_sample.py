"""Detector quality on the synthetic sample scene: per type, truth defects found and issues that are true.

    .venv/bin/python benchmarks/score_sample.py [--auto] [--set NAME=VALUE ...]

An issue is true if it intersects a truth defect of the same type (truth buffered by
10 cm); a truth defect is found if such an issue exists. --auto runs without the
AREAS file (automatic road/green segmentation). For cracks it also prints how many found
truth cracks are typed their subtype (longitudinal, transverse, alligator) by most of the length
of the crack issues over them.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import geopandas as gpd
import shapely

from schouw.orthophoto import open_orthophoto
from schouw.params import InspectParams
from schouw.pipeline import finish, make_tiles, prepare_areas, process_tiles

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--auto", action="store_true", help="no AREAS file: automatic segmentation")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a RoadParams field at another value (repeatable), e.g. --set grate_min_slots=1000 switches "
                         "the grate rule off")
    args = ap.parse_args()
    o = open_orthophoto(SAMPLE / "sample_orthophoto.tif")
    p = InspectParams(road={k: float(v) for k, v in (s.split("=", 1) for s in args.set)})
    ap_path, _ = prepare_areas(o, None if args.auto else SAMPLE / "sample_areas.geojson", Path(tempfile.mkdtemp()))
    issues, _ = finish(o, process_tiles(o, make_tiles(o, p), ap_path, p), "bench", p, ap_path)
    truth = gpd.read_file(SAMPLE / "sample_truth.geojson")
    print(f"{'type':20s} {'truth':>5} {'found':>5} {'issues':>6} {'true':>5}  recall  precision")
    for t in sorted(set(truth["type"]) | {i.type for i in issues}):
        tg = [g.buffer(0.1) for g in truth[truth["type"] == t].geometry]
        ig = [i.geometry for i in issues if i.type == t]
        found = sum(any(shapely.intersects(a, b) for b in ig) for a in tg)
        true = sum(any(shapely.intersects(b, a) for a in tg) for b in ig)
        print(f"{t:20s} {len(tg):>5} {found:>5} {len(ig):>6} {true:>5}  {found / max(len(tg), 1):6.2f}  {true / max(len(ig), 1):9.2f}")
    cracks = truth[truth["type"] == "crack"]
    over = [[i for i in issues if i.type == "crack" and shapely.intersects(i.geometry, g.buffer(0.1))] for g in cracks.geometry]
    right = sum(sum(i.length_m for i in found if i.subtype == sub) > 0.5 * sum(i.length_m for i in found)
                for sub, found in zip(cracks["subtype"], over) if found)
    print(f"crack subtype: {right} of {sum(1 for f in over if f)} found truth cracks are typed their subtype by most of "
          f"the crack length over them ({', '.join(sorted(cracks['subtype']))})")
    # widths: a painted crack's is its painted pixels over its line's length (OpenCV's anti-aliased lines are about a
    # pixel wider than their thickness); an issue's is measured
    widths = []
    for g, n_px, found in zip(cracks.geometry, cracks["pixels"], over):
        if found and g.geom_type == "LineString":  # the alligator network is a polygon: no single width
            length = sum(i.length_m for i in found)
            measured = sum(i.mean_width_m * i.length_m for i in found) / max(length, 1e-9)
            widths.append(f"{n_px * o.pixel_area_m2 / g.length * 1000:.0f} -> {measured * 1000:.0f}")
    print(f"crack widths, painted -> measured (mm, length-weighted over the issues on it): {', '.join(widths)}")


if __name__ == "__main__":
    main()
