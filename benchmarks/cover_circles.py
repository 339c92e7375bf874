"""How perfect a circle holds each pothole and ravelling candidate on RDD2022 China_Drone: the margin of the cover rule.

    .venv/bin/python benchmarks/cover_circles.py [--gsd-m 0.025] [--data ../shared/data] [--list N] [--no-ring]

Since road-classic 0.20.0 a pothole or ravelling candidate that lies on a round cover is dropped
(``schouw.detect.covers.cover_discs``): a closed circle of cover size in the photo, at least
``cover_disc_perfectness`` perfect to OpenCV's ``HOUGH_GRADIENT_ALT``, holds it. Here the detectors
run with that rule off, and for every candidate the highest perfectness at which ``cover_discs``
still finds its cover is searched (bisection, to 0.001; 0 where none is found at 0.5). Prints how
many candidates the rule would drop at several thresholds, how many of those lie in D40 (pothole)
boxes, and the N most perfect candidates with the ring contrast of their circle (the valley of a
cover's gap or the ridge of its frame, in grey levels; ``cover_ring_min_grey`` asks 8), to be looked
at: a real cover should head the list, a pothole should not. ``--no-ring`` leaves out the ring test (``cover_ring_min_grey``: a cover's gap or
frame is a dark or light ring, a hole's edge a step), to see what the circle alone would do.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

import cv2
import numpy as np

from schouw.detect.base import to_gray
from schouw.detect.covers import cover_discs, cover_ring
from schouw.detect.road import RoadParams
from schouw.photos import photo_defects, read_photo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from score_rdd import load  # noqa: E402

THRESHOLDS = (0.8, 0.85, 0.9, 0.95)


def best_perfectness(gray: np.ndarray, d, gsd_m: float, p: RoadParams, margin_px: float) -> tuple[float, float]:
    """The highest ``cover_disc_perfectness`` (to 0.001) at which :func:`cover_discs` finds a cover under ``d`` (0 where
    none at 0.5), and the ring contrast (grey levels, :func:`cover_ring`) of that cover's circle (nan where none)."""
    def found(x: float):
        return cover_discs(gray, [d], gsd_m, dataclasses.replace(p, cover_disc_perfectness=x), margin_px)[0]

    lo, hi = 0.5, 0.999
    circle = found(lo)
    if circle is None:
        return 0.0, float("nan")
    while hi - lo > 0.001:
        mid = (lo + hi) / 2
        c = found(mid)
        if c is not None:
            lo, circle = mid, c
        else:
            hi = mid
    return lo, cover_ring(cv2.GaussianBlur(gray, (0, 0), 1.0), *circle)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gsd-m", type=float, default=0.025)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("SCHOUW_SHARED_DATA", ROOT.parent / "shared" / "data")))
    ap.add_argument("--list", type=int, default=10, metavar="N", help="print the N most perfect candidates")
    ap.add_argument("--no-ring", action="store_true", help="without the ring test (cover_ring_min_grey)")
    args = ap.parse_args()
    images, boxes = load(args.data)
    p = dataclasses.replace(RoadParams(), cover_ring_min_grey=-np.inf) if args.no_ring else RoadParams()
    off = dataclasses.replace(p, cover_disc_perfectness=1.0)
    rows = []
    for path in images:
        rgb = read_photo(path)
        gray = to_gray(rgb)
        d40 = np.zeros(rgb.shape[:2], bool)
        for cls, x0, y0, x1, y1 in boxes.get(path.name, []):
            if cls == "D40":
                d40[y0:y1, x0:x1] = True
        for d in photo_defects(rgb, args.gsd_m, off)[0]:
            if d.type not in ("pothole", "ravelling"):
                continue
            margin = p.ravelling_window_m / args.gsd_m / 2 if d.type == "ravelling" else 0.0
            h, w = d.mask.shape
            in_d40 = bool(d40[d.row0 : d.row0 + h, d.col0 : d.col0 + w][d.mask].mean() > 0.5)
            rows.append((*best_perfectness(gray, d, args.gsd_m, p, margin), path.stem, d.type, d.bbox_px, in_d40))
    rows.sort(key=lambda r: -r[0])
    print(f"RDD2022 China_Drone, {len(images)} photos at {args.gsd_m} m: {len(rows)} pothole and ravelling candidates "
          f"with the cover rule off ({sum(r[5] for r in rows)} of them in D40 boxes); "
          f"{'no ring test' if args.no_ring else f'ring test at {p.cover_ring_min_grey:g} grey levels'}")
    for t in THRESHOLDS:
        held = [r for r in rows if r[0] >= t]
        print(f"  held by a closed circle at least {t} perfect: {len(held)} ({sum(r[5] for r in held)} in D40 boxes)")
    print(f"the {min(args.list, len(rows))} most perfect (perfectness, ring contrast in grey levels, photo, type, bbox_px, "
          "in a D40 box):")
    for r in rows[: args.list]:
        print(f"  {r[0]:.3f}  {r[1]:5.1f}  {r[2]}  {r[3]:9s}  {r[4]}  {'D40' if r[5] else ''}")


if __name__ == "__main__":
    main()
