"""Train the learned crack stage (src/schouw/detect/crack_mlp.py) on CrackForest 001-059 and write models/crack-mlp/.

    .venv/bin/python benchmarks/train_crack_mlp.py [--out models/crack-mlp]

Deterministic (fixed seeds). Samples per training image: every ground-truth crack pixel,
twice as many random non-crack pixels (farther than 2 px from a crack) and twice as many
"hard" non-crack pixels (black-hat above 2 sigma: stains, joints, texture); 200 000 in all.
A 12-24-12-1 MLP (symmetric sigmoid, RPROP). The decision thresholds (hysteresis high / low
on the probability, least extent of a piece) are then chosen on 001-059 too, by F1 at 2 px of
the full crack detector (score_cracks.py's protocol). Images 060-118 are never seen: score
them with benchmarks/score_cracks.py --detector mlp.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from score_cracks import ROOT, SHARED, score
from schouw.detect.crack_mlp import CrackMLP, crack_features
from schouw.detect.road import RoadParams

VERSION = "0.1.0"
CANDIDATE_MIN = 1.0  # black-hat (r = 4) in sigmas below which a pixel is not classified (speed)
GRID = [(hi, lo, ext) for hi in (0.5, 0.6, 0.7) for lo in (0.3, 0.4) for ext in (10, 20, 30) if lo < hi]


def samples(ids, rng) -> tuple[np.ndarray, np.ndarray]:
    cfd = SHARED / "cracks" / "cfd"
    xs, ys = [], []
    for i in ids:
        gray = cv2.imread(str(cfd / "images" / f"{i:03d}.jpg"), cv2.IMREAD_GRAYSCALE)
        gt = cv2.imread(str(cfd / "masks_label2only" / f"{i:03d}.png"), cv2.IMREAD_GRAYSCALE) > 127
        f = crack_features(gray)
        near = cv2.dilate(gt.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))) > 0
        pos, neg, hard = np.argwhere(gt), np.argwhere(~near), np.argwhere(~near & (f[..., 2] > 2))
        k = len(pos)
        picks = [(pos, 1)]
        for pool in (neg, hard):
            if len(pool):
                picks.append((pool[rng.choice(len(pool), min(len(pool), 2 * k), replace=False)], 0))
        for pts, lab in picks:
            xs.append(f[pts[:, 0], pts[:, 1]])
            ys.append(np.full(len(pts), lab, np.float32))
    x, y = np.concatenate(xs), np.concatenate(ys)
    sub = rng.choice(len(x), min(len(x), 200_000), replace=False)
    return x[sub], y[sub]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "crack-mlp")
    args = ap.parse_args()
    if not (SHARED / "cracks" / "cfd").is_dir():
        raise SystemExit(f"CrackForest not found under {SHARED}; set SCHOUW_SHARED_DATA")
    cv2.setRNGSeed(0)
    x, y = samples(range(1, 60), np.random.default_rng(0))
    mean, std = x.mean(0), x.std(0) + 1e-6
    net = cv2.ml.ANN_MLP_create()
    net.setLayerSizes(np.array([x.shape[1], 24, 12, 1]))
    net.setActivationFunction(cv2.ml.ANN_MLP_SIGMOID_SYM, 1, 1)
    net.setTrainMethod(cv2.ml.ANN_MLP_RPROP)
    net.setTermCriteria((cv2.TERM_CRITERIA_MAX_ITER + cv2.TERM_CRITERIA_EPS, 300, 1e-5))
    net.train(((x - mean) / std).astype(np.float32), cv2.ml.ROW_SAMPLE, ((y * 2 - 1) * 0.9)[:, None].astype(np.float32))
    args.out.mkdir(parents=True, exist_ok=True)
    net.save(str(args.out / "model.yml"))
    meta = {"detector": "crack-mlp", "version": VERSION, "trained_on": "CrackForest (CFD) images 001-059, masks_label2only",
            "samples": int(len(y)), "positive_share": round(float(y.mean()), 4),
            "feature_mean": [round(float(v), 6) for v in mean], "feature_std": [round(float(v), 6) for v in std],
            "candidate_min": CANDIDATE_MIN}
    best = None
    for hi, lo, ext in GRID:  # the decision, on the training half only
        meta.update(hi=hi, lo=lo, min_extent_px=ext)
        (args.out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        s = score(list(range(1, 60)), 0.0015, RoadParams(), CrackMLP.load(args.out))
        print(f"hi {hi} lo {lo} extent {ext:2d}: F1 @2px {s[2][2]:.3f} @5px {s[5][2]:.3f} on 001-059", flush=True)
        if best is None or s[2][2] > best[0]:
            best = (s[2][2], hi, lo, ext)
    meta.update(hi=best[1], lo=best[2], min_extent_px=best[3])
    (args.out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {args.out}/model.yml and meta.json ({len(y)} samples, {y.mean():.1%} crack); decision hi {best[1]} lo {best[2]} "
          f"extent {best[3]} (F1 @2px {best[0]:.3f} on 001-059)")


if __name__ == "__main__":
    main()
