"""Road detectors on the RDD2022 China_Drone photos: damage boxes hit, detections inside boxes, potholes typed right.

    .venv/bin/python benchmarks/score_rdd.py [--gsd-m 0.025] [--data ../shared/data] [--set NAME=VALUE ...]

The 200 nadir drone photos (512 x 512, ~2-3 cm per pixel judging by 15 cm lane markings)
carry boxes, not pixel masks, so the protocol of issue 3 is used:
- a damage box (D00, D10, D20, D40) is *hit* when detections of any road type cover at
  least 1 % of it; reported per class;
- *in boxes*: the share of all detected defect pixels that lie inside a damage or a repair
  box (the boxes cover only ~11 % of the pixels, so chance gives ~0.11);
- a hit pothole box (D40) counts as *typed right* when most of the detected pixels in it are
  ``pothole``.
The road detectors run as ``schouw detect-image --gsd-m`` runs them (a drone photo is
segmented into road and green first; black padding bands are never valid).
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from schouw.detect.road import RoadParams
from schouw.photos import photo_defects, read_photo

DAMAGE = ("D00", "D10", "D20", "D40")
ROOT = Path(__file__).resolve().parents[1]


def type_masks(rgb: np.ndarray, gsd_m: float, params: RoadParams = RoadParams(), crack_model=None) -> dict[str, np.ndarray]:
    """Boolean mask per detected road defect type, detected as `schouw detect-image` does (``crack_model``: its learned stage)."""
    defects, valid = photo_defects(rgb, gsd_m, params, crack_model)
    out: dict[str, np.ndarray] = {}
    for d in defects:
        m = out.setdefault(d.type, np.zeros(valid.shape, bool))
        h, w = d.mask.shape
        m[d.row0 : d.row0 + h, d.col0 : d.col0 + w] |= d.mask
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gsd-m", type=float, default=0.025)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--crack-model", choices=("classic", "mlp"), default="classic",
                    help="mlp: the learned crack stage (models/crack-mlp), as detect-image --crack-model mlp")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a RoadParams field to try at another value (repeatable), e.g. --set marking_contrast=40")
    args = ap.parse_args()
    params = RoadParams(**{k: float(v) for k, v in (s.split("=", 1) for s in args.set)})
    model = None
    if args.crack_model == "mlp":
        from schouw.detect.crack_mlp import CrackMLP, default_model_dir

        model = CrackMLP.load(default_model_dir())
    base = args.data / "road_damage_drone" / "rdd2022_china_drone"
    boxes: dict[str, list[tuple[str, int, int, int, int]]] = defaultdict(list)
    with open(base / "boxes.csv") as fh:
        for row in csv.DictReader(fh):
            boxes[row["image"]].append((row["class"], int(row["xmin"]), int(row["ymin"]), int(row["xmax"]), int(row["ymax"])))
    images = sorted(p for p in (base / "images").iterdir() if p.suffix.lower() == ".jpg")
    hits, total = defaultdict(int), defaultdict(int)
    pothole_right = 0
    det_px = det_in_px = box_px = all_px = 0
    by_type_px, by_type_in = defaultdict(int), defaultdict(int)
    seconds = 0.0
    for path in images:
        rgb = read_photo(path)
        t = time.perf_counter()
        masks = type_masks(rgb, args.gsd_m, params, crack_model=model)
        seconds += time.perf_counter() - t
        any_det = np.zeros(rgb.shape[:2], bool)
        for m in masks.values():
            any_det |= m
        in_box = np.zeros(rgb.shape[:2], bool)
        for cls, x0, y0, x1, y1 in boxes.get(path.name, []):
            in_box[y0:y1, x0:x1] = True
            if cls not in DAMAGE:
                continue
            total[cls] += 1
            area = max((x1 - x0) * (y1 - y0), 1)
            covered = int(any_det[y0:y1, x0:x1].sum())
            if covered >= 0.01 * area:
                hits[cls] += 1
                if cls == "D40":
                    pot = int(masks["pothole"][y0:y1, x0:x1].sum()) if "pothole" in masks else 0
                    pothole_right += pot * 2 > covered
        det_px += int(any_det.sum())
        det_in_px += int((any_det & in_box).sum())
        box_px += int(in_box.sum())
        all_px += in_box.size
        for t_, m in masks.items():
            by_type_px[t_] += int(m.sum())
            by_type_in[t_] += int((m & in_box).sum())
    print(f"RDD2022 China_Drone, {len(images)} photos, gsd {args.gsd_m} m, road-classic as in detect-image, cracks {args.crack_model}"
          + (f", {' '.join(args.set)}" if args.set else ""))
    print(f"{'class':6s} {'boxes':>6s} {'hit':>5s} {'hit share':>9s}")
    for cls in DAMAGE:
        print(f"{cls:6s} {total[cls]:>6d} {hits[cls]:>5d} {hits[cls] / max(total[cls], 1):>9.2f}")
    n, h = sum(total.values()), sum(hits.values())
    print(f"{'all':6s} {n:>6d} {h:>5d} {h / max(n, 1):>9.2f}   (target >= 0.85)")
    print(f"detected pixels inside damage or repair boxes: {det_in_px / max(det_px, 1):.2f} (target >= 0.60; "
          f"boxes cover {box_px / max(all_px, 1):.2f} of all pixels)")
    for t_ in sorted(by_type_px):
        print(f"  {t_:18s} {by_type_px[t_]:>8d} px, {by_type_in[t_] / max(by_type_px[t_], 1):.2f} inside boxes")
    print(f"D40 boxes hit and typed pothole: {pothole_right} of {hits['D40']} hit ({total['D40']} boxes)")
    print(f"{1000 * seconds / len(images):.0f} ms per photo (detection only, one core)")


if __name__ == "__main__":
    main()
