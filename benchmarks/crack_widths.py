"""Crack widths across resolutions, on CrackForest (CFD): the same cracks seen close up and from farther away.

    .venv/bin/python benchmarks/crack_widths.py [--gsd-m 0.0015] [--factors 2,4,8] [--set NAME=VALUE]

CrackForest has no measured widths, but its cracks are two to six pixels wide at its own
resolution (about 1.5 mm per pixel), where a width can be seen. Each photo is shrunk by F
(``cv2.INTER_AREA``, as a camera F times farther away or a coarser GSD), run through the crack
detector detect-image would use at that GSD (crack-mlp finer than 1 cm per pixel, road-classic
from there), and every crack found there is matched to the full-size cracks under it (at least
half of a full-size crack's pixels within its footprint). Printed per F and per half of CFD
(001-059, where ``crack_interior_depth`` was chosen; 060-118 held out):

- the depth of the inside of the full-size cracks with a core of at least 3 px (their centre
  line darker than the road by this share of its brightness: ``detect.widths.inside_depth``),
  whose median is what ``crack_interior_depth`` should be;
- for the matched cracks, the median ratio of the width measured at F to the length-weighted
  width of the same cracks at full size, for the width detect-image reports (``mean_width_px``,
  from the light a crack takes out of the road) and for the width of its core (``core_width_px``,
  a pixel count: the width reported before road-classic 0.19.0), with their quartiles;
- the share of matched cracks whose severity (``schouw.issues.severity``) at F is the one at full size;
- at full size, per photo, the length-weighted width of the cracks found over the width of the labelled cracks
  (label pixels / label centre-line length; CrackForest's labels are drawn by hand, so a rough reference), and the
  length of the cracks found over that of the labelled ones (about the precision over the recall where lengths are
  measured right: false cracks add length, missed ones take it away).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

import cv2
import numpy as np

from schouw.detect.crack_mlp import CrackMLP, default_model_dir
from schouw.detect.cracks import detect_cracks, skeleton_length_px
from schouw.detect.road_params import RoadParams
from schouw.detect.centre import chain_length_px
from schouw.detect.widths import inside_depth
from schouw.issues import severity
from schouw.photos import learned_stage_applies

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SCHOUW_SHARED_DATA", ROOT.parent / "shared" / "data"))
HALVES = {"001-059": range(1, 60), "060-118": range(60, 119)}


def cracks(img: np.ndarray, gsd_m: float, params: RoadParams, model: CrackMLP) -> list:
    """The crack defects detect-image would find in a photo of this GSD (every pixel road)."""
    ones = np.ones(img.shape[:2], bool)
    return detect_cracks(img, ones, ones, gsd_m, params, model=model if learned_stage_applies(gsd_m) else None)


def placed(d, shape: tuple[int, int]) -> np.ndarray:
    """A defect's mask on an image of ``shape``."""
    m = np.zeros(shape, bool)
    h, w = d.mask.shape
    m[d.row0 : d.row0 + h, d.col0 : d.col0 + w] = d.mask
    return m


def severity_of(width_m: float) -> str:
    return severity("crack", {"mean_width_m": width_m})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gsd-m", type=float, default=0.0015, help="CrackForest's GSD at full size (m/px)")
    ap.add_argument("--factors", default="2,4,8", help="shrink factors, comma-separated")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a road-classic parameter")
    args = ap.parse_args()
    params = RoadParams()
    for kv in args.set:
        name, _, value = kv.partition("=")
        params = dataclasses.replace(params, **{name: type(getattr(params, name))(float(value))})
    model = CrackMLP.load(default_model_dir()).with_known_gsd()
    factors = [int(f) for f in args.factors.split(",")]
    cfd = SHARED / "cracks" / "cfd" / "images"
    if not cfd.is_dir():
        raise SystemExit(f"CrackForest not found at {cfd} (set SCHOUW_SHARED_DATA)")
    print(f"CrackForest at {args.gsd_m * 1000:g} mm per pixel, shrunk by {args.factors}; "
          f"crack_interior_depth {params.crack_interior_depth:g}")
    for half, ids in HALVES.items():
        depths: list[float] = []
        to_label: list[tuple[float, float, float]] = []
        rows: dict[int, list[tuple[float, float, float, float]]] = {f: [] for f in factors}
        for i in ids:
            img = cv2.cvtColor(cv2.imread(str(cfd / f"{i:03d}.jpg")), cv2.COLOR_BGR2RGB)
            gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
            full = cracks(img, args.gsd_m, params, model)
            masks = [placed(d, gray.shape) for d in full]
            truth = cv2.imread(str(cfd.parent / "masks_label2only" / f"{i:03d}.png"), cv2.IMREAD_GRAYSCALE) > 127
            label_len = chain_length_px(skeleton_length_px(truth)[1])
            label_w = truth.sum() / label_len if truth.any() else 0.0
            if full and label_w:
                wts = [d.extra["length_px"] for d in full]
                to_label.append((float(np.average([d.extra["mean_width_px"] for d in full], weights=wts)) / label_w,
                                 float(np.average([d.extra["core_width_px"] for d in full], weights=wts)) / label_w,
                                 sum(wts) / label_len))
            for d in full:
                if d.extra["core_width_px"] >= 3:
                    depths.append(inside_depth(gray, d.mask, skeleton_length_px(d.mask)[1], d.row0, d.col0, d.extra["core_width_px"]))
            for f in factors:
                small = cv2.resize(img, (img.shape[1] // f, img.shape[0] // f), interpolation=cv2.INTER_AREA)
                gsd = args.gsd_m * f
                for c in cracks(small, gsd, params, model):
                    foot = cv2.dilate(placed(c, small.shape[:2]).astype(np.uint8), np.ones((3, 3), np.uint8))
                    foot = cv2.resize(foot, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_NEAREST) > 0
                    under = [(d, m) for d, m in zip(full, masks) if (m & foot).sum() >= 0.5 * m.sum()]
                    if not under:
                        continue
                    wts = [d.extra["length_px"] for d, _ in under]
                    ref = float(np.average([d.extra["mean_width_px"] for d, _ in under], weights=wts)) * args.gsd_m
                    ref_core = float(np.average([d.extra["core_width_px"] for d, _ in under], weights=wts)) * args.gsd_m
                    rows[f].append((c.extra["mean_width_px"] * gsd, ref, c.extra["core_width_px"] * gsd, ref_core))
        d = np.array(depths)
        print(f"\n{half}: inside depth of {len(d)} resolved cracks at full size (core >= 3 px), "
              f"quartiles {np.percentile(d, 25):.3f} / {np.median(d):.3f} / {np.percentile(d, 75):.3f}")
        t = np.array(to_label)
        print(f"full size, {len(t)} photos: width / label width, quartiles "
              f"{' / '.join(f'{x:.2f}' for x in np.percentile(t[:, 0], [25, 50, 75]))}; "
              f"core / label width {' / '.join(f'{x:.2f}' for x in np.percentile(t[:, 1], [25, 50, 75]))}; "
              f"length found / label length {' / '.join(f'{x:.2f}' for x in np.percentile(t[:, 2], [25, 50, 75]))}")
        print("shrink  GSD mm  cracks  width/full (q1 median q3)   core/full (q1 median q3)   same severity: width  core")
        for f in factors:
            r = np.array(rows[f])
            if not len(r):
                print(f"{f:>6}  {args.gsd_m * f * 1000:6.1f}  {0:6d}")
                continue
            new, old = r[:, 0] / r[:, 1], r[:, 2] / r[:, 3]
            same_new = np.mean([severity_of(a) == severity_of(b) for a, b in r[:, :2]])
            same_old = np.mean([severity_of(a) == severity_of(b) for a, b in r[:, 2:]])
            q = lambda v: " ".join(f"{x:5.2f}" for x in np.percentile(v, [25, 50, 75]))  # noqa: E731
            print(f"{f:>6}  {args.gsd_m * f * 1000:6.1f}  {len(r):6d}  {q(new):>24}   {q(old):>24}   "
                  f"{same_new:18.2f}  {same_old:4.2f}")
        full_w = np.array([row[1] for f in factors for row in rows[f]])
        if len(full_w):
            print(f"full-size widths of the matched cracks: median {np.median(full_w) * 1000:.1f} mm (width), "
                  f"{np.median([row[3] for f in factors for row in rows[f]]) * 1000:.1f} mm (core)")


if __name__ == "__main__":
    main()
