"""Train the learned crack stage (src/schouw/detect/crack_mlp.py) on CrackForest 001-059 and write models/crack-mlp/.

    .venv/bin/python benchmarks/train_crack_mlp.py [--out models/crack-mlp]

Deterministic (fixed seeds). Samples per training image: every ground-truth crack pixel, and
twice as many of each of three kinds of non-crack pixels farther than 2 px from a crack:
random ones, "hard" ones (black-hat above 2 sigma: stains, joints, texture) and ones in the
ring 3-6 px beside a crack (they teach the crack's edge, so the mask is as narrow as the
crack); 200 000 in all.
A 16-24-12-1 MLP (symmetric sigmoid, RPROP) on 16 pixel features (``crack_features``): ``model.yml``.

Stage 2 (``pieces.yml.gz``): an OpenCV random-trees regressor that judges each hysteresis piece
(27 shape and contrast features, ``piece_features``) by the share of its pixels within 2 px of
a ground-truth crack, samples weighted by the square root of their area.

The decision (hysteresis high / low on the probability, least extent of a piece, least forest
score to keep it, least probability of a kept pixel off the piece's centre line) is chosen over a grid by F1 at 2 px (score_cracks.py's protocol) of the
stage's mask on 001-059 with two-fold cross-fitting: a forest fitted on the odd images judges
the even ones and the other way round, so no choice is made on pieces the forest has learned.
The shipped forest is then fitted on all of 001-059. The half-size pass of
``CrackMLP.decide`` (``pyramid``, off with --no-pyramid) is outside the grid: it was chosen on
001-059 by F1 over photo scales 0.5-2 (score_cracks.py --scale F). Images 060-118 are never seen: score them
with benchmarks/score_cracks.py --detector mlp.

In use, not in training, two settings make the stage cheaper (both in meta.json, both written by
``write_gate``, with ``photo_gsd_m``, the GSD the training photos are taken to have, and ``wide_ratio``,
``wide_trim`` and ``thin_ratio``, for photos whose GSD is not told; ``--gate-only``
writes just these into an existing model folder):
``background_factor`` (the features' 31 px median background taken at a quarter of the size) and
``gate``, a linear pre-screen distilled from the network (``fit_gate``) on the candidates of
001-059 with those in-use features: it passes GATE_KEEP of the ones the network puts above the
hysteresis low, and only those it passes are put through the network.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np

from score_cracks import ROOT, SHARED, precision_recall_f1, rescale, tolerant_counts
from schouw.detect.crack_mlp import (
    ACTIVATION_PARAMS,
    CrackMLP,
    crack_features,
    fit_gate,
    hysteresis_pieces,
    piece_features,
    trim_to_core,
)

VERSION = "0.13.0"
#: Larger photos are decided at this many times the pixels of the largest training photo (CrackMLP.work_pixels):
#: chosen on 001-059 over scales 1.5-3 (score_cracks.py --scale), 2 rather than 1 so that a large photo of thin cracks
#: keeps more of its resolution (1 scored 0.02-0.03 higher on the resized CFD photos, whose cracks widen with the photo)
WORK_PIXELS_PER_TRAINING_PIXEL = 2
#: A half-size piece this wide there (px; 9 px at full size, beyond the 7 px black-hat) is added whole (CrackMLP.broad_px).
#: On 001-059 4.5 and 5 leave scales 1-3 within 0.001 (score_cracks.py --scale); 4 costs 0.003 at scale 1.
BROAD_PX = 4.5
CANDIDATE_MIN = 1.0  # black-hat (r = 4) in sigmas below which a pixel is not classified (speed)
GRID = [(hi, lo, ext) for hi in (0.5, 0.6, 0.7) for lo in (0.3, 0.4) for ext in (10, 20) if lo < hi]
PIECE_GRID = (0.2, 0.3, 0.4, 0.5, 0.6)  # least forest score to keep a piece
CORE_GRID = (0.0, 0.6, 0.7, 0.8)  # least probability off a kept piece's centre line (0: keep all of it)
TRAIN_IDS = range(1, 60)
#: The linear pre-screen (CrackMLP.gate) passes this share of the training candidates the network puts above ``lo``
GATE_KEEP = 0.999
#: In use (not in training) the features' median background is taken at a quarter of the size (CrackMLP.background_factor):
#: scored on 001-059 with the network trained on the exact median, see models/crack-mlp/NOTEBOOK.md
BACKGROUND_FACTOR = 4
#: CrackForest's photos are taken to be 1.5 mm per pixel (score_cracks.py's default): in use a photo said to be finer
#: is decided shrunk to that (CrackMLP.photo_gsd_m; scored with score_cracks.py --scale F [--crop], which says GSD / F)
PHOTO_GSD_M = 0.0015
#: Not told the GSD, a photo whose cracks look wider than this (black-hat of 7 px over that of 2 px on their centre lines,
#: CrackMLP.wide_ratio) is decided at a half or a third of its size, and the mask scaled back is cut where it is less dark
#: than WIDE_TRIM of the crack's middle (CrackMLP.wide_trim). Chosen on 001-059 over ratios 3.0 / 3.4 / 3.8 and shares
#: 0.2 / 0.3 / 0.4, by F1 at 2 px on the photos as they are, blurred (sigma 0.7 and 1.5 px) and 1.5, 2 and 3 times closer
#: (score_cracks.py --scale F --crop, the GSD not told): the least cost on the photos as they are (models/crack-mlp/NOTEBOOK.md)
WIDE_RATIO = 3.8
WIDE_TRIM = 0.3
#: Not told the GSD, a photo shrunk for its pixel count (work_pixels) whose cracks look thinner than this there is decided
#: at full size, up to KNOWN_GSD_WORK_PIXELS (CrackMLP.thin_ratio): a large photo of thin cracks. Chosen on 001-059 over
#: 2.0 / 2.2 / 2.4 by mean F1 at 2 px over 2 x 2 and 3 x 3 mosaics (thin cracks) and 1.5, 2 and 3 times the pixels
#: (wide cracks; score_cracks.py --tile N, --scale F --untold)
THIN_RATIO = 2.2


def _load(i: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    cfd = SHARED / "cracks" / "cfd"
    gray = cv2.imread(str(cfd / "images" / f"{i:03d}.jpg"), cv2.IMREAD_GRAYSCALE)
    return rescale(gray, cv2.imread(str(cfd / "masks_label2only" / f"{i:03d}.png"), cv2.IMREAD_GRAYSCALE) > 127, scale)


def _views(ids, scales: list[float]):
    """(image id, photo, truth) for every training image at every training scale."""
    for i in ids:
        for sc in scales:
            yield (i, *_load(i, sc))


def training_pixels() -> int:
    """Pixels of the largest training photo (CFD 001-059 are all 480 x 320)."""
    return max(int(np.prod(cv2.imread(str(SHARED / "cracks" / "cfd" / "images" / f"{i:03d}.jpg"), cv2.IMREAD_GRAYSCALE).shape))
               for i in TRAIN_IDS)


def samples(ids, scales: list[float], rng) -> tuple[np.ndarray, np.ndarray]:
    """Pixel features and labels (1 crack, 0 not) of the training images, as the module docstring says."""
    xs, ys = [], []
    for _, gray, gt in _views(ids, scales):
        f = crack_features(gray)
        near, beside = (cv2.dilate(gt.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (d, d))) > 0 for d in (5, 13))
        pos, neg, hard = np.argwhere(gt), np.argwhere(~near), np.argwhere(~near & (f[2] > 2))
        ring = np.argwhere(beside & ~near)
        k = len(pos)
        picks = [(pos, 1)]
        for pool in (neg, hard, ring):
            if len(pool):
                picks.append((pool[rng.choice(len(pool), min(len(pool), 2 * k), replace=False)], 0))
        for pts, lab in picks:
            xs.append(f[:, pts[:, 0], pts[:, 1]].T)  # planes to rows
            ys.append(np.full(len(pts), lab, np.float32))
    x, y = np.concatenate(xs), np.concatenate(ys)
    sub = rng.choice(len(x), min(len(x), 200_000), replace=False)
    return x[sub], y[sub]


def pixel_stage(model: CrackMLP, ids, scales: list[float]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per image: (crack probability, pixel features, truth), computed once for the whole decision grid."""
    out = []
    for i, gray, gt in _views(ids, scales):
        f = crack_features(gray)
        out.append((model.probability(gray, f), f, gt, i))
    return out


def pixel_gate(model: CrackMLP, ids, scales: list[float], keep: float = GATE_KEEP) -> tuple[np.ndarray, float]:
    """:func:`fit_gate` on the candidates of the training images at every size ``model.decide`` looks at them, with the
    features ``model`` computes in use."""
    xs, ps = [], []
    ungated = dataclasses.replace(model, gate=None)
    for _, gray, _ in _views(ids, scales):
        for g in (gray, model.half_size(gray)):
            if g is None:
                continue
            f = crack_features(g, model.background_factor)
            cand = f[2] > model.candidate_min
            xs.append(f[:, cand])
            ps.append(ungated.probability(g, f)[cand])
    return fit_gate(np.concatenate(xs, 1), np.concatenate(ps), model.lo, keep)


def write_gate(model: CrackMLP, folder: Path, scales: list[float]) -> None:
    """Set the in-use settings of ``model`` (loaded from ``folder``), fit its pre-screen, and add both to ``folder``/meta.json."""
    model = dataclasses.replace(model, background_factor=BACKGROUND_FACTOR, gate=None)
    weights, least = pixel_gate(model, TRAIN_IDS, scales)
    meta = json.loads((folder / "meta.json").read_text())
    meta.update(version=VERSION, background_factor=BACKGROUND_FACTOR, gate_weights=[float(v) for v in weights], gate_min=least,
                gate_keep=GATE_KEEP, photo_gsd_m=PHOTO_GSD_M, wide_ratio=WIDE_RATIO, wide_trim=WIDE_TRIM,
                thin_ratio=THIN_RATIO)
    (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"pre-screen: passes {GATE_KEEP:.1%} of the candidates above lo {model.lo} on 001-059 (least score {least:.4f})")


def pieces(stage, hi: float, lo: float, ext: int) -> list[tuple[np.ndarray, ...]]:
    """Per image: (piece features, share of each piece's pixels within 2 px of a crack, piece area px, label image, piece ids,
    truth, probability)."""
    out = []
    for prob, f, gt, i in stage:
        lab, pid, st = hysteresis_pieces(prob, hi, lo, ext)
        n = int(lab.max()) + 1
        d_gt = cv2.distanceTransform((~gt).astype(np.uint8), cv2.DIST_L2, 5)
        area = np.bincount(lab.ravel(), minlength=n)[pid].astype(np.float32)
        near = np.bincount(lab[d_gt <= 2], minlength=n)[pid].astype(np.float32)
        out.append((piece_features(prob, f, lab, pid, st), near / np.maximum(area, 1), area, lab, pid, gt, prob, i))
    return out


def fit_forest(rows) -> cv2.ml.RTrees:
    """Random-trees regressor of the on-crack share of a piece, samples weighted by sqrt(area)."""
    x = np.concatenate([r[0] for r in rows])
    y = np.concatenate([r[1] for r in rows])
    w = np.sqrt(np.concatenate([r[2] for r in rows]))
    cv2.setRNGSeed(0)
    rt = cv2.ml.RTrees_create()
    rt.setMaxDepth(8)
    rt.setMinSampleCount(5)
    rt.setTermCriteria((cv2.TERM_CRITERIA_MAX_ITER, 200, 0))
    rt.train(cv2.ml.TrainData_create(x, cv2.ml.ROW_SAMPLE, y[:, None].astype(np.float32), sampleWeights=w.astype(np.float32)))
    return rt


def cross_fitted_f1(rows) -> dict[tuple[float, float], float]:
    """F1 at 2 px of the stage's mask over ``rows`` per (least piece score, core) of PIECE_GRID x CORE_GRID,
    each half of the images judged by a forest fitted on the other half."""
    acc = {(t, c): np.zeros(4) for t in PIECE_GRID for c in CORE_GRID}
    halves = ([r for r in rows if r[-1] % 2], [r for r in rows if not r[-1] % 2])  # by image: all its scales in one fold
    for judged, fitted in ((halves[0], halves[1]), (halves[1], halves[0])):
        rt = fit_forest(fitted)
        for x, _, _, lab, pid, gt, prob, _ in judged:
            judged_score = rt.predict(x)[1].ravel() if len(pid) else np.zeros(0)
            for t, c in acc:
                keep = np.zeros(int(lab.max()) + 1, bool)
                keep[pid[judged_score >= t]] = True
                acc[t, c] += tolerant_counts(trim_to_core(keep[lab], prob, c), gt, 2)
    return {key: precision_recall_f1(summed)[2] for key, summed in acc.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "crack-mlp")
    ap.add_argument("--scales", default="1", help="comma-separated photo scales to train and decide on (score_cracks.py --scale); "
                                                  "1,1.5 was tried: better on closer photos, below target at 1")
    ap.add_argument("--candidate-min", type=float, default=CANDIDATE_MIN,
                    help=f"black-hat (sigmas) below which a pixel is not classified [default {CANDIDATE_MIN}]")
    ap.add_argument("--no-pyramid", action="store_true",
                    help="decide at full size only (the shipped model also decides at half size, see CrackMLP.decide)")
    ap.add_argument("--gate-only", action="store_true",
                    help="keep the network, forest and decision in --out; only set the in-use settings and fit the pixel "
                         "pre-screen again (on the scales the folder was trained on)")
    args = ap.parse_args()
    scales = [float(v) for v in args.scales.split(",")]
    if not (SHARED / "cracks" / "cfd").is_dir():
        raise SystemExit(f"CrackForest not found under {SHARED}; set SCHOUW_SHARED_DATA")
    if args.gate_only:
        trained = json.loads((args.out / "meta.json").read_text()).get("scales", [1.0])
        write_gate(CrackMLP.load(args.out), args.out, [float(v) for v in trained])
        return
    cv2.setRNGSeed(0)
    x, y = samples(TRAIN_IDS, scales, np.random.default_rng(0))
    mean, std = x.mean(0), x.std(0) + 1e-6
    net = cv2.ml.ANN_MLP_create()
    net.setLayerSizes(np.array([x.shape[1], 24, 12, 1]))
    net.setActivationFunction(cv2.ml.ANN_MLP_SIGMOID_SYM, *ACTIVATION_PARAMS)
    net.setTrainMethod(cv2.ml.ANN_MLP_RPROP)
    net.setTermCriteria((cv2.TERM_CRITERIA_MAX_ITER + cv2.TERM_CRITERIA_EPS, 300, 1e-5))
    net.train(((x - mean) / std).astype(np.float32), cv2.ml.ROW_SAMPLE, ((y * 2 - 1) * 0.9)[:, None].astype(np.float32))
    args.out.mkdir(parents=True, exist_ok=True)
    net.save(str(args.out / "model.yml"))
    meta = {"detector": "crack-mlp", "version": VERSION, "trained_on": "CrackForest (CFD) images 001-059, masks_label2only",
            "samples": int(len(y)), "positive_share": round(float(y.mean()), 4),
            "feature_mean": [round(float(v), 6) for v in mean], "feature_std": [round(float(v), 6) for v in std],
            "candidate_min": args.candidate_min, "pyramid": not args.no_pyramid, "work_pixels": WORK_PIXELS_PER_TRAINING_PIXEL * training_pixels(),
            "broad_px": BROAD_PX,
            **({"scales": scales} if scales != [1.0] else {})}
    # the network alone (no forest, decision not yet chosen): only its probability() is used here
    pixel_model = CrackMLP(net, mean.astype(np.float32), std.astype(np.float32), args.candidate_min, 0.5, 0.4, 20, VERSION)
    stage = pixel_stage(pixel_model, TRAIN_IDS, scales)
    best = None
    for hi, lo, ext in GRID:  # the decision, on the training half only, cross-fitted
        for (t, c), f1 in cross_fitted_f1(pieces(stage, hi, lo, ext)).items():
            print(f"hi {hi} lo {lo} extent {ext:2d} least piece score {t} core {c}: cross-fitted F1 @2px {f1:.3f} on 001-059", flush=True)
            if best is None or f1 > best[0]:
                best = (f1, hi, lo, ext, t, c)
    f1, hi, lo, ext, piece_min, core = best
    rows = pieces(stage, hi, lo, ext)
    fit_forest(rows).save(str(args.out / "pieces.yml.gz"))
    meta.update(hi=hi, lo=lo, min_extent_px=ext, piece_min=piece_min, core=core, pieces=f"{sum(len(r[1]) for r in rows)} hysteresis pieces of 001-059")
    (args.out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    write_gate(CrackMLP.load(args.out), args.out, scales)
    print(f"wrote {args.out}/model.yml, pieces.yml.gz and meta.json ({len(y)} pixel samples, {y.mean():.1%} crack); decision hi {hi} "
          f"lo {lo} extent {ext} least piece score {piece_min} core {core} (cross-fitted F1 @2px {f1:.3f} on 001-059)")

if __name__ == "__main__":
    main()
