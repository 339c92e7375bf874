"""Green detector quality on synthetic scenes: IoU of dry_grass and bare_soil, false alarms on traps.

    .venv/bin/python benchmarks/score_green.py [--seeds 0 1 2] [--nir]

Scenes from schouw.synth_green at GSD 1, 2, 5 and 10 cm, light 0.7 / 1.0 / 1.3 and colour
casts, with tree and building shadows, crowns, a flower bed, fallen leaves and a pond. The
detectors run as in the pipeline (flight white balance, then the green area as an AREAS file
would give it). IoU is pixel-summed over all scenes; "shadow FP" is the share of shadowed
healthy lawn flagged as dry or bare; trap FP likewise for crowns, flowers, leaves, water.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from schouw.detect.green import detect_green, detect_overgrowth
from schouw.orthophoto import white_balance_gains
from schouw.synth_green import green_scene

CASTS = {"neutral": (1.0, 1.0, 1.0), "warm": (1.08, 1.0, 0.9), "cool": (0.93, 1.0, 1.08)}


def predict(scene, nir: bool = False) -> dict[str, np.ndarray]:
    """Masks per issue type for a scene, through the same steps the pipeline takes."""
    valid = np.ones(scene.rgb.shape[:2], bool)
    small = cv2.resize(scene.rgb, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    gains = np.asarray(white_balance_gains(np.moveaxis(small, -1, 0), np.ones(small.shape[:2], bool)), np.float32)
    rgb = np.clip(scene.rgb * gains, 0, 255).astype(np.uint8)
    n = scene.nir if nir else None
    out = {k: np.zeros(valid.shape, bool) for k in ("dry_grass", "bare_soil", "overgrowth")}
    defects = detect_green(rgb, valid, scene.green, scene.gsd_m, nir=n)
    defects += detect_overgrowth(rgb, valid, scene.road, scene.green, scene.gsd_m, nir=n)
    for d in defects:
        h, w = d.mask.shape
        out[d.type][d.row0 : d.row0 + h, d.col0 : d.col0 + w] |= d.mask
    return out


def scenes(seeds):
    for seed in seeds:
        for gsd in (0.01, 0.02, 0.05, 0.10):
            for light, cast in ((1.0, "neutral"), (0.7, "warm"), (1.3, "cool")):
                yield (seed, gsd, light, cast), green_scene(seed, gsd, light=light, cast=CASTS[cast])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--nir", action="store_true", help="use the NIR band (NDVI) for living vegetation")
    args = ap.parse_args()
    inter = {k: 0 for k in ("dry_grass", "bare_soil", "overgrowth")}
    union = dict(inter)
    traps = {k: [0, 0] for k in ("shadow_lawn", "crown", "flowers", "leaves", "water")}
    t0 = time.perf_counter()
    print(f"{'seed':>4} {'gsd_m':>6} {'light':>5} {'cast':>7}  IoU dry  IoU bare  IoU over  shadowFP")
    for (seed, gsd, light, cast), s in scenes(args.seeds):
        pred = predict(s, args.nir)
        row = []
        for k in inter:
            i, u = int((pred[k] & s.truth[k]).sum()), int((pred[k] | s.truth[k]).sum())
            inter[k] += i
            union[k] += u
            row.append(i / max(u, 1))
        flagged = pred["dry_grass"] | pred["bare_soil"]
        for k in traps:
            traps[k][0] += int((flagged & s.traps[k]).sum())
            traps[k][1] += int(s.traps[k].sum())
        sh = (flagged & s.traps["shadow_lawn"]).sum() / max(s.traps["shadow_lawn"].sum(), 1)
        print(f"{seed:>4} {gsd:>6.2f} {light:>5.1f} {cast:>7}  {row[0]:7.3f}  {row[1]:8.3f}  {row[2]:8.3f}  {100 * sh:7.2f} %")
    print("overall (pixel-summed): " + "  ".join(f"IoU {k} {inter[k] / max(union[k], 1):.3f}" for k in inter))
    print("false alarms (share of trap pixels flagged dry/bare): " + "  ".join(f"{k} {100 * a / max(b, 1):.2f} %" for k, (a, b) in traps.items()))
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
