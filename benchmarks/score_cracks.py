"""Crack detector quality on CrackForest (CFD): tolerant pixel F1, as ../shared/data/README.md describes.

    .venv/bin/python benchmarks/score_cracks.py [--gsd-m 0.0015] [--detector classic|mlp] [--model-dir DIR] [--scale F [--crop] [--untold]]
        [--whole] [--alter KIND=VALUE] [--turn K] [--tilt R] [--tolerances 2,5] [--tile N] [--gsd-known] [--windows N]

A predicted crack pixel is correct if a ground-truth crack pixel lies within the
tolerance (Euclidean); a ground-truth pixel is found if a prediction lies within
it; counts are summed over the set. Prints precision / recall / F1 at 2 px and
5 px for the images 001-059 (tuning half) and 060-118 (held out), and ms per image.

``--scale F`` resizes photo and truth by F first (the detector is told GSD / F): a photo
taken from farther away (F < 1) or closer (F > 1). Truth is resized by area and a pixel is
crack where at least a quarter of it was, so a 1 px crack stays one. With ``--crop`` the
middle of the resized photo, of the original size, is kept: the same camera moved closer (wider
cracks, as many pixels), where ``--scale`` alone is also a bigger sensor (more pixels).

``--turn K`` turns photo and truth by K quarter turns (cracks running in other directions).

``--tilt R`` warps photo and truth as a camera tilted forward sees the road: the photo's top edge at its own scale,
its bottom edge R times closer (a trapezoid of the photo, R times narrower at the bottom, stretched to the whole
frame), so the cracks' width in pixels grows from top to bottom (phone photos taken standing). The detector is told
the photo's GSD, which holds at its top only.

``--tile N`` mirrors photo and truth into an N x N mosaic: a larger photo (N² times the pixels)
whose cracks are as thin as CrackForest's, the case ``--scale`` cannot show (there the cracks
widen with the photo). The detector is told the same GSD.

``--windows N`` cuts two N x N windows out of each photo (its top-left and bottom-right corners, after any other
change) and detects each as a photo of its own: a crack set of smaller photos, where more of every photo lies near its
frame and more cracks are cut by it.

``--untold`` with ``--scale F``: the detector is not told GSD / F but ``--gsd-m``, as detect-image without
``--gsd-m`` is told nothing of a photo taken closer; the learned stage then has to see it from the cracks' width
(``CrackMLP.wide_ratio``).

``--gsd-known`` scores the learned stage as detect-image runs it with ``--gsd-m``: the GSD is told,
so a photo's pixel count does not stand in for its scale (without it, as detect-image without
``--gsd-m``, which assumes 2 mm).

``--alter KIND=VALUE`` changes the photo (not the truth) the way another camera or data set
might, to see how far the frozen detector's score moves (a proxy for the unseen crack sets of
issue 3): ``blur`` (Gaussian sigma, px), ``noise`` (Gaussian sensor noise, sigma in grey levels,
seeded per image), ``gamma`` (exposure curve), ``contrast`` (factor around the photo's mean),
``jpeg`` (re-compression quality 1-100), ``shadow`` (a cast shadow over half the photo, beyond
a line through its middle at an angle seeded per image, with a 6 px soft edge; light there times
VALUE), ``gradient`` (light falling evenly across the photo, at a seeded angle, to VALUE at the
far side), ``tint`` (a colour cast: red times VALUE, blue divided by it), ``grey`` (colour taken out: VALUE of the way
to the photo's own grey level, 1 = a grey photo stored as RGB, as several public crack sets are), ``dapple`` (the shade
of leaves: about half the photo in blobs of shade some 80 px across, seeded per image, their edges 2 px soft; light
there times VALUE; ``--dapple-px`` and ``--dapple-soft`` change the blobs' size and the softness of their edges).
``--shadow-offset PX`` moves the shadow's line that far off the middle, away from the shade: at 110 px the shade
covers about a sixth of a CrackForest photo.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import cv2
import numpy as np

from schouw.detect.road import RoadParams, detect_cracks

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SCHOUW_SHARED_DATA", ROOT.parent / "shared" / "data"))


def predict(img_rgb: np.ndarray, gsd_m: float, params: RoadParams, model=None, whole: bool = False) -> np.ndarray:
    """Binary crack mask of a photo (every pixel treated as valid road); ``model``: the learned stage (crack-mlp).

    ``whole``: the mask ``schouw detect-image`` writes instead: all road detectors run, pixels
    claimed by potholes, weeds or ravelling are not cracks, black padding is not valid.
    """
    if whole:
        from schouw.photos import detect_photo

        return detect_photo(img_rgb, gsd_m, params, crack_model=model)[0] > 0
    ones = np.ones(img_rgb.shape[:2], bool)
    out = np.zeros(img_rgb.shape[:2], bool)
    for d in detect_cracks(img_rgb, ones, ones, gsd_m, params, model=model):
        h, w = d.mask.shape
        out[d.row0 : d.row0 + h, d.col0 : d.col0 + w] |= d.mask
    return out


def tolerant_counts(pred: np.ndarray, gt: np.ndarray, tol: float) -> tuple[int, int, int, int]:
    """(correct predictions, all predictions, found truth, all truth) at Euclidean tolerance ``tol`` px."""
    d_gt = cv2.distanceTransform((~gt).astype(np.uint8), cv2.DIST_L2, 5)
    d_pr = cv2.distanceTransform((~pred).astype(np.uint8), cv2.DIST_L2, 5)
    return int((pred & (d_gt <= tol)).sum()), int(pred.sum()), int((gt & (d_pr <= tol)).sum()), int(gt.sum())


def precision_recall_f1(counts) -> tuple[float, float, float]:
    """(P, R, F1) of :func:`tolerant_counts` summed over photos: (correct predictions, predictions, found truth, truth)."""
    tp, n_pred, found, n_truth = counts
    p, r = tp / max(n_pred, 1), found / max(n_truth, 1)
    return p, r, 2 * p * r / max(p + r, 1e-9)


def rescale(img: np.ndarray, gt: np.ndarray, f: float) -> tuple[np.ndarray, np.ndarray]:
    """Photo and truth resized by ``f`` (see the module docstring)."""
    if f == 1:
        return img, gt
    size = (round(img.shape[1] * f), round(img.shape[0] * f))
    img = cv2.resize(img, size, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    return img, cv2.resize(gt.astype(np.float32), size, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR) >= 0.25


ALTERATIONS = ("blur", "noise", "gamma", "contrast", "jpeg", "shadow", "gradient", "tint", "grey", "dapple")
#: ``dapple``: the shade of leaves in blobs about this many px across (a seeded random field on a grid this coarse;
#: 12 cm at CrackForest's 1.5 mm per pixel)
DAPPLE_PX = 80
#: ... their borders blurred this much (Gaussian sigma, px)
DAPPLE_SOFT_PX = 2.0


def alter(img: np.ndarray, kind: str, value: float, seed: int = 0, dapple_px: int = DAPPLE_PX,
          dapple_soft_px: float = DAPPLE_SOFT_PX, shadow_offset_px: float = 0.0) -> np.ndarray:
    """The uint8 RGB photo changed by one of ``ALTERATIONS`` (see the module docstring); ``dapple_px`` and
    ``dapple_soft_px``: the blobs of ``dapple``; ``shadow_offset_px``: the line of ``shadow`` moved this far off the
    middle, away from the shade (a shadow over less than half of the photo)."""
    if kind == "blur":
        return cv2.GaussianBlur(img, (0, 0), value)
    if kind == "noise":
        noisy = img.astype(np.float32) + np.random.default_rng(seed).normal(0, value, img.shape[:2])[..., None]
        return np.clip(noisy, 0, 255).astype(np.uint8)
    if kind == "gamma":
        return (255 * (np.arange(256) / 255) ** value).round().astype(np.uint8)[img]
    if kind == "contrast":
        mean = img.reshape(-1, 3).mean(0)
        return np.clip((img - mean) * value + mean, 0, 255).astype(np.uint8)
    if kind == "jpeg":
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(value)])
        return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if kind in ("shadow", "gradient"):
        h, w = img.shape[:2]
        ang = np.random.default_rng(seed).uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        d = (xx - w / 2) * np.cos(ang) + (yy - h / 2) * np.sin(ang)  # px from a line through the middle
        if kind == "shadow":  # a cast shadow over half the photo (less with an offset), its edge 6 px soft
            light = 1 - (1 - value) * np.clip((d - shadow_offset_px) / 6 + 0.5, 0, 1)
        else:  # light falling evenly across the photo, to VALUE at the far side
            light = 1 - (1 - value) * (d - d.min()) / max(float(d.max() - d.min()), 1.0)
        return np.clip(img * light[..., None], 0, 255).astype(np.uint8)
    if kind == "dapple":  # the shade of leaves: about half the photo in blobs of shade, their edges dapple_soft_px soft
        h, w = img.shape[:2]
        coarse = np.random.default_rng(seed).normal(0, 1, (h // dapple_px + 2, w // dapple_px + 2)).astype(np.float32)
        field = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
        shade = cv2.GaussianBlur((field > 0).astype(np.float32), (0, 0), dapple_soft_px)
        light = 1 - (1 - value) * shade
        return np.clip(img * light[..., None], 0, 255).astype(np.uint8)
    if kind == "tint":  # a colour cast: red times VALUE, blue divided by it
        return np.clip(img * np.array([value, 1.0, 1.0 / value], np.float32), 0, 255).astype(np.uint8)
    if kind == "grey":  # colour taken out, VALUE of the way to the grey level
        grey = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB).astype(np.float32)
        return np.clip(img + value * (grey - img), 0, 255).round().astype(np.uint8)
    raise ValueError(f"alteration {kind!r} is not known; expected one of {', '.join(ALTERATIONS)}")


def mirror_tile(img: np.ndarray, gt: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Photo and truth mirrored into an ``n`` x ``n`` mosaic: ``n``² times the pixels, cracks as wide as before."""
    if n <= 1:
        return img, gt
    h, w = gt.shape
    pad = ((0, (n - 1) * h), (0, (n - 1) * w))
    return np.pad(img, pad + ((0, 0),), mode="symmetric"), np.pad(gt, pad, mode="symmetric")


def tilt(img: np.ndarray, gt: np.ndarray, r: float) -> tuple[np.ndarray, np.ndarray]:
    """Photo and truth seen by a camera tilted so that the bottom edge is ``r`` times closer than the top (``--tilt``).

    The trapezoid of the photo with its full top edge and the middle 1/r of its bottom edge is stretched to the whole
    frame (a perspective warp; truth by area, a pixel crack where at least a quarter of it was, as :func:`rescale`).
    """
    if r == 1:
        return img, gt
    h, w = gt.shape
    half = w / (2 * r)
    src = np.float32([[0, 0], [w, 0], [w / 2 + half, h], [w / 2 - half, h]])
    warp = cv2.getPerspectiveTransform(src, np.float32([[0, 0], [w, 0], [w, h], [0, h]]))
    img = cv2.warpPerspective(img, warp, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return img, cv2.warpPerspective(gt.astype(np.float32), warp, (w, h), flags=cv2.INTER_LINEAR) >= 0.25


def centre_crop(img: np.ndarray, gt: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The middle ``shape`` (rows, cols) of photo and truth (no change where they are not larger)."""
    h, w = min(shape[0], img.shape[0]), min(shape[1], img.shape[1])
    y0, x0 = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    return img[y0 : y0 + h, x0 : x0 + w], gt[y0 : y0 + h, x0 : x0 + w]


def score_groups(groups: dict[str, list[int]], gsd_m: float, params: RoadParams, model=None, scale: float = 1.0,
                 whole: bool = False, alteration: tuple[str, float] | None = None, crop: bool = False,
                 turn: int = 0, tolerances: tuple[float, ...] = (2, 5), tile: int = 1, untold: bool = False,
                 dapple: tuple[int, float] = (DAPPLE_PX, DAPPLE_SOFT_PX), tilt_r: float = 1.0,
                 shadow_offset_px: float = 0.0, windows: int = 0) -> dict[str, dict]:
    """Per named group of CFD image ids: {tolerance px: (P, R, F1), ..., "ms_per_image"}; each image is detected once.
    ``dapple``: the blobs' size and edge softness (px) of ``alteration`` ``dapple``; ``tilt_r``: see ``--tilt``;
    ``shadow_offset_px``: see ``--shadow-offset``; ``windows``: see ``--windows`` (0: the whole photo).

    The detector is told ``gsd_m / scale``, or with ``untold`` ``gsd_m`` whatever the scale (see ``--untold``)."""
    cfd = SHARED / "cracks" / "cfd"
    per_image: dict[int, tuple[dict[int, np.ndarray], float]] = {}
    for i in sorted({i for ids in groups.values() for i in ids}):
        img = cv2.cvtColor(cv2.imread(str(cfd / "images" / f"{i:03d}.jpg")), cv2.COLOR_BGR2RGB)
        gt = cv2.imread(str(cfd / "masks_label2only" / f"{i:03d}.png"), cv2.IMREAD_GRAYSCALE) > 127
        shape = img.shape[:2]
        img, gt = rescale(img, gt, scale)
        if crop:
            img, gt = centre_crop(img, gt, shape)
        if turn:
            img, gt = np.ascontiguousarray(np.rot90(img, turn)), np.ascontiguousarray(np.rot90(gt, turn))
        img, gt = tilt(img, gt, tilt_r)
        img, gt = mirror_tile(img, gt, tile)
        if alteration is not None:
            img = alter(img, *alteration, seed=i, dapple_px=dapple[0], dapple_soft_px=dapple[1],
                        shadow_offset_px=shadow_offset_px)
        parts = [(img, gt)]
        if windows:
            h, w = gt.shape
            if windows > min(h, w):
                raise SystemExit(f"--windows {windows}: larger than photo {i:03d} ({w} x {h} px)")
            parts = [(np.ascontiguousarray(img[y : y + windows, x : x + windows]), gt[y : y + windows, x : x + windows])
                     for y, x in ((0, 0), (h - windows, w - windows))]
        counts, seconds = {tol: np.zeros(4, np.int64) for tol in tolerances}, 0.0
        for part, truth in parts:
            t0 = time.perf_counter()
            pred = predict(part, gsd_m if untold else gsd_m / scale, params, model, whole)
            seconds += time.perf_counter() - t0
            for tol in tolerances:
                counts[tol] += tolerant_counts(pred, truth, tol)
        per_image[i] = (counts, seconds)
    out = {}
    for name, ids in groups.items():
        res: dict = {"ms_per_image": 1000 * sum(per_image[i][1] for i in ids) / max(len(ids), 1)}
        for tol in tolerances:
            res[tol] = precision_recall_f1(sum(per_image[i][0][tol] for i in ids))
        out[name] = res
    return out


GROUPS = {"CFD 001-059 (tuning)": list(range(1, 60)), "CFD 060-118 (held out)": list(range(60, 119)), "CFD 001-118": list(range(1, 119))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gsd-m", type=float, default=0.0015, help="assumed ground sample distance of CFD photos (m/px)")
    ap.add_argument("--detector", choices=("classic", "mlp"), default="classic",
                    help="classic: black-hat and hysteresis (road-classic); mlp: the learned stage (models/crack-mlp)")
    ap.add_argument("--whole", action="store_true", help="score the crack mask detect-image writes (all road detectors)")
    ap.add_argument("--scale", type=float, default=1.0, help="resize photos and truth by this factor first (GSD / F)")
    ap.add_argument("--crop", action="store_true", help="with --scale F > 1: keep the middle of the photo, of its original size")
    ap.add_argument("--tolerances", default="2,5", metavar="PX,PX",
                    help="tolerances to score at, px (the issue's are 2 and 5; with --scale F, 2F and 5F compare like with like)")
    ap.add_argument("--turn", type=int, choices=(0, 1, 2, 3), default=0,
                    help="turn photo and truth by this many quarter turns first (cracks of other directions)")
    ap.add_argument("--tilt", type=float, default=1.0, metavar="R",
                    help="warp photo and truth as a tilted camera sees them, the bottom R times closer than the top (see above)")
    ap.add_argument("--gsd-known", action="store_true",
                    help="with --detector mlp: the GSD counts as told, as with detect-image --gsd-m (CrackMLP.with_known_gsd)")
    ap.add_argument("--tile", type=int, default=1, metavar="N",
                    help="mirror photo and truth into an N x N mosaic first (a larger photo of equally thin cracks)")
    ap.add_argument("--windows", type=int, default=0, metavar="N",
                    help="detect and score two N x N windows of each photo instead (a crack set of smaller photos; see above)")
    ap.add_argument("--untold", action="store_true",
                    help="with --scale F: the detector is told --gsd-m, not GSD / F (as detect-image without --gsd-m, which assumes 2 mm)")
    ap.add_argument("--model-dir", type=Path, default=None, help="with --detector mlp: the model folder (default models/crack-mlp)")
    ap.add_argument("--alter", default=None, metavar="KIND=VALUE",
                    help=f"change the photos first: {', '.join(ALTERATIONS)} (see above), e.g. --alter blur=1.5")
    ap.add_argument("--dapple-px", type=int, default=DAPPLE_PX, help="with --alter dapple=V: the blobs' size, px")
    ap.add_argument("--dapple-soft", type=float, default=DAPPLE_SOFT_PX,
                    help="with --alter dapple=V: the softness of the blobs' edges (Gaussian sigma, px)")
    ap.add_argument("--shadow-offset", type=float, default=0.0, metavar="PX",
                    help="with --alter shadow=V: the shadow's line this many px off the middle, the shade smaller")
    args = ap.parse_args()
    alteration = None
    if args.alter:
        kind, _, value = args.alter.partition("=")
        if kind not in ALTERATIONS or not value:
            raise SystemExit(f"--alter {args.alter}: expected KIND=VALUE with KIND one of {', '.join(ALTERATIONS)}")
        alteration = (kind, float(value))
    if not (SHARED / "cracks" / "cfd").is_dir():
        raise SystemExit(f"CrackForest not found under {SHARED}; set SCHOUW_SHARED_DATA")
    params = RoadParams()
    model = None
    if args.detector == "mlp":
        from schouw.detect.crack_mlp import CrackMLP, default_model_dir

        model = CrackMLP.load(args.model_dir or default_model_dir())
        if args.gsd_known:
            model = model.with_known_gsd()
    tols = tuple(float(v) for v in args.tolerances.split(","))
    for name, s in score_groups(GROUPS, args.gsd_m, params, model, args.scale, args.whole, alteration, args.crop, args.turn,
                                tols, args.tile, args.untold, (args.dapple_px, args.dapple_soft), args.tilt,
                                args.shadow_offset, args.windows).items():
        print(f"{name:24s} " + "  ".join(f"@{tol:g}px P {p:.3f} R {r:.3f} F1 {f:.3f}" for tol, (p, r, f) in ((k, s[k]) for k in tols))
              + f"  {s['ms_per_image']:.1f} ms/image")


if __name__ == "__main__":
    main()
