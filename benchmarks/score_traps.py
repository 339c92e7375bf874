"""Painted false-positive traps across GSDs and turns: how many the crack detector reports, and how many its rules drop.

    .venv/bin/python benchmarks/score_traps.py

Two traps of road-classic (models/road-classic/NOTEBOOK.md), painted on plain asphalt with the sample scene's
painters (``schouw.synth``):
- gully grates (``paint_gully_grate``): 50 x 30, 40 x 40 and 60 x 25 cm with 3 cm slots and bars, turned 0-90 deg
  in 15 deg steps, at 5 mm to 2 cm per pixel;
- posts' cast shadows (``paint_band``, sky-lit shade): 3 m bands 4, 6, 8 and 10 cm wide, turned 0-165 deg in
  15 deg steps, at 1 to 3 cm per pixel.
For each GSD it prints how many of them the crack detector reports with the trap's rule switched off (the trap is
real there), and of those how many give no crack with the rule on. Deterministic: the asphalt's noise is seeded.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from schouw.detect.road import SPEC, RoadParams, detect_cracks
from schouw.synth import paint_band, paint_gully_grate, plain_asphalt

GRATE_SIZES_M = ((0.5, 0.3), (0.4, 0.4), (0.6, 0.25))
SHADOW_WIDTHS_M = (0.04, 0.06, 0.08, 0.10)


def cracks(img: np.ndarray, gsd_m: float, p: RoadParams) -> int:
    ones = np.ones(img.shape[:2], bool)
    return len(detect_cracks(img, ones, ones, gsd_m, p))


def tally(cases, gsd_m: float, off: RoadParams) -> tuple[int, int, int]:
    """(cases, reported with the rule off, of those none reported with it on) for images made by ``cases``."""
    n = real = dropped = 0
    for img in cases:
        n += 1
        if cracks(img, gsd_m, off):
            real += 1
            dropped += cracks(img, gsd_m, RoadParams()) == 0
    return n, real, dropped


def grates(gsd_m: float):
    side = round(300 * max(1.0, 0.02 / gsd_m / 2))
    for turn in range(0, 91, 15):
        for length, width in GRATE_SIZES_M:
            img = plain_asphalt(side, side)
            paint_gully_grate(img, side / 2, side / 2, (length / gsd_m, width / gsd_m), turn, 0.03 / gsd_m,
                              0.03 / gsd_m, 0.03 / gsd_m)
            yield img


def shadows(gsd_m: float):
    for turn in range(0, 180, 15):
        for width in SHADOW_WIDTHS_M:
            img = plain_asphalt(400, 400)
            a, half = math.radians(turn), 1.5 / gsd_m
            p0 = (round(200 - half * math.cos(a)), round(200 - half * math.sin(a)))
            p1 = (round(200 + half * math.cos(a)), round(200 + half * math.sin(a)))
            paint_band(img, p0, p1, max(1, round(width / gsd_m)))
            yield img


def main() -> None:
    grate_off = dataclasses.replace(RoadParams(), grate_min_slots=1000)
    shadow_off = dataclasses.replace(RoadParams(), shadow_min_blue_shift=1.0)
    print(f"road-classic {SPEC.version}")
    print(f"{'trap':14s} {'GSD m':>6s} {'cases':>5s} {'reported (rule off)':>20s} {'dropped (rule on)':>18s}")
    for gsd in (0.02, 0.015, 0.01, 0.0075, 0.005):
        n, real, dropped = tally(grates(gsd), gsd, grate_off)
        print(f"{'gully grate':14s} {gsd:>6.4f} {n:>5d} {real:>20d} {dropped:>18d}")
    for gsd in (0.03, 0.02, 0.01):
        n, real, dropped = tally(shadows(gsd), gsd, shadow_off)
        print(f"{'post shadow':14s} {gsd:>6.4f} {n:>5d} {real:>20d} {dropped:>18d}")


if __name__ == "__main__":
    main()
