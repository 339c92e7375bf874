"""Wide cracks in close-range photos, labelled across their whole width: how much of them detect-image marks.

    .venv/bin/python benchmarks/score_wide_cracks.py [--widths 2,4,8,12,16,24,32] [--photos 12] [--size 544x384]
        [--blotch PX] [--model-dir DIR]

CrackForest's cracks are 1-5 px wide and its labels thinner still, so it cannot show what the learned stage does with a
crack 16 or 24 px wide, as in a photo of a wide crack taken from close by (several public crack sets hold such photos
and label them across their whole width). This benchmark paints them: a wandering dark crack of a given width, soft at
its edges and uneven inside, across a photo of 544 x 384 px of coarse asphalt texture. The truth is the crack's whole
width. ``--size WxH`` paints larger photos of the same texture (a camera with more pixels, as larger crack sets have).
The photos go through the crack mask ``schouw detect-image`` writes without ``--gsd-m`` (all road detectors,
2 mm per pixel assumed, the learned stage not told the GSD), and are scored as ``score_cracks.py`` scores CrackForest:
tolerant pixel precision, recall and F1 at 2 and 5 px, counts summed over the photos. Printed per width, with the
median share of the truth's pixel count that the mask holds, the median of the width detect-image reports (the
photo's cracks' ``mean_width_px``, length-weighted) over the painted width, and ms per photo.

``--blotch PX`` smooths the unevenness inside the crack over about PX px: a blotchy inside rather than a grainy one. The
scores move a lot with it (models/crack-mlp/NOTEBOOK.md, *Blotchy insides*): how the inside is painted is a choice
this benchmark cannot make for a real crack set.

Synthetic: a measure of what the detector can reach, not of a real data set.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from score_cracks import precision_recall_f1, tolerant_counts  # noqa: E402

from schouw.detect.crack_mlp import CrackMLP, default_model_dir  # noqa: E402
from schouw.detect.road import RoadParams  # noqa: E402
from schouw.detect.base import defects_mask  # noqa: E402
from schouw.photos import DEFAULT_GSD_M, photo_defects  # noqa: E402

#: The photos' size (rows, cols): that of DeepCrack's photos, a public set of close-range crack photos
SHAPE = (384, 544)


def close_range_asphalt(rng: np.random.Generator, shape: tuple[int, int], stone_px: float = 3.0) -> np.ndarray:
    """Grey levels (float32) of asphalt seen from close by: stones about ``stone_px`` across, sensor noise."""
    h, w = shape
    coarse = rng.normal(0, 1, (int(h / stone_px) + 2, int(w / stone_px) + 2)).astype(np.float32)
    stones = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    return 115 + 14 * stones + rng.normal(0, 5, shape).astype(np.float32)


def wide_crack_photo(width_px: float, seed: int, shape: tuple[int, int] = SHAPE,
                     blotch_px: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 RGB photo, bool truth) of one crack ``width_px`` wide wandering across asphalt (see the module doc).

    Inside, the crack is 0.45 of the road's light, give or take 0.1 per pixel; with ``blotch_px`` > 0 that unevenness
    is smoothed over about so many px (the same spread): a blotchy inside, as broken stones and debris might make."""
    rng = np.random.default_rng(seed)
    h, w = shape
    grey = close_range_asphalt(rng, shape)
    pts = [np.array([rng.uniform(0.1, 0.3) * w, rng.uniform(0.2, 0.8) * h])]
    angle = rng.uniform(-0.4, 0.4)
    while 0 <= pts[-1][0] < w and 0 <= pts[-1][1] < h and len(pts) < 400:  # a random walk of 4 px steps
        angle += math.radians(rng.normal(0, 12))
        pts.append(pts[-1] + 4 * np.array([math.cos(angle), math.sin(angle)]))
    line = np.zeros(shape, np.uint8)
    cv2.polylines(line, [np.round(np.array(pts) * 16).astype(np.int32)], False, 255, max(1, round(width_px)), cv2.LINE_AA,
                  shift=4)
    soft = cv2.GaussianBlur(line.astype(np.float32) / 255, (0, 0), 1.0)  # its edges a pixel soft
    uneven = rng.normal(0, 1, shape).astype(np.float32)
    if blotch_px > 0:
        uneven = cv2.GaussianBlur(uneven, (0, 0), blotch_px)
        uneven /= max(float(uneven.std()), 1e-6)
    depth = 0.45 + 0.1 * uneven  # about half as bright inside, unevenly
    grey *= 1 - soft * (1 - depth)
    return np.repeat(np.clip(grey, 0, 255).astype(np.uint8)[..., None], 3, axis=2), line > 127


def score(widths_px: list[float], photos: int, model: CrackMLP, shape: tuple[int, int] = SHAPE,
          blotch_px: float = 0.0) -> dict[float, dict]:
    """Per crack width: {tolerance px: (P, R, F1), "mask_share": median mask / truth pixels, "ms_per_photo"}, on photos
    of ``shape`` (rows, cols)."""
    out = {}
    for width in widths_px:
        counts = {2: np.zeros(4), 5: np.zeros(4)}
        shares, widths, seconds = [], [], 0.0
        for seed in range(photos):
            rgb, truth = wide_crack_photo(width, seed, shape, blotch_px)
            t0 = time.perf_counter()
            defects = photo_defects(rgb, DEFAULT_GSD_M, RoadParams(), crack_model=model)[0]  # as without --gsd-m
            seconds += time.perf_counter() - t0
            cracks = [d for d in defects if d.type == "crack"]
            mask = defects_mask(cracks, truth.shape)  # the mask detect-image writes
            if cracks:  # the width detect-image reports, length-weighted over the photo's cracks
                lengths = [d.extra["length_px"] for d in cracks]
                widths.append(float(np.average([d.extra["mean_width_px"] for d in cracks], weights=lengths)) / width)
            for tol in counts:
                counts[tol] += tolerant_counts(mask, truth, tol)
            shares.append(mask.sum() / max(truth.sum(), 1))
        res: dict = {"mask_share": float(np.median(shares)), "ms_per_photo": 1000 * seconds / max(photos, 1),
                     "width_read": float(np.median(widths)) if widths else float("nan")}
        for tol, summed in counts.items():
            res[tol] = precision_recall_f1(summed)
        out[width] = res
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--widths", default="2,4,8,12,16,24,32", help="crack widths to paint, px (comma-separated)")
    ap.add_argument("--photos", type=int, default=12, help="photos per width (seeds 0 .. N-1)")
    ap.add_argument("--size", default=f"{SHAPE[1]}x{SHAPE[0]}", help="photo size, WxH px")
    ap.add_argument("--model-dir", type=Path, default=None, help="the learned stage to score (default: models/crack-mlp)")
    ap.add_argument("--blotch", type=float, default=0.0, metavar="PX",
                    help="smooth the unevenness inside the crack over about PX px (0: per pixel)")
    args = ap.parse_args()
    try:
        cols, rows = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        ap.error(f"--size {args.size!r}: expected WxH in pixels, e.g. 544x384")
    model = CrackMLP.load(args.model_dir or default_model_dir())
    print(f"wide cracks, {args.photos} synthetic photos of {cols} x {rows} px per width"
          + (f", insides blotchy over {args.blotch:g} px" if args.blotch else "") + f", crack-mlp {model.version}, "
          "as detect-image without --gsd-m")
    for width, r in score([float(w) for w in args.widths.split(",")], args.photos, model, (rows, cols), args.blotch).items():
        print(f"width {width:4g} px  " + "  ".join(f"@{t}px P {r[t][0]:.3f} R {r[t][1]:.3f} F1 {r[t][2]:.3f}" for t in (2, 5))
              + f"  mask/truth {r['mask_share']:.2f}  width read/painted {r['width_read']:.2f}  {r['ms_per_photo']:.0f} ms/photo")


if __name__ == "__main__":
    main()
