"""The painted traps of ``benchmarks/score_traps.py`` over turns and GSDs: every grate and post shadow the crack
detector reports with the trap's rule off is dropped with it on, where the rules claim to work (the road-classic
card gives the whole table, including where they do not: some turned grates at 2 cm)."""

import dataclasses
import sys

import pytest

from conftest import ROOT
from schouw.detect.road import RoadParams

sys.path.insert(0, str(ROOT / "benchmarks"))


@pytest.mark.parametrize("gsd", [0.03, 0.02, 0.01])
def test_every_reported_post_shadow_is_dropped(gsd):
    from score_traps import shadows, tally

    n, real, dropped = tally(shadows(gsd), gsd, dataclasses.replace(RoadParams(), shadow_min_blue_shift=1.0))
    assert real >= n // 2, f"only {real} of {n} shadows reported with the rule off: the trap is not exercised"
    assert dropped == real, f"{real - dropped} of {real} reported post shadows stay cracks at {gsd} m"


@pytest.mark.parametrize("gsd", [0.015, 0.01, 0.0075, 0.005])
def test_every_reported_grate_is_dropped_at_1_5_cm_and_finer(gsd):
    from score_traps import grates, tally

    n, real, dropped = tally(grates(gsd), gsd, dataclasses.replace(RoadParams(), grate_min_slots=1000))
    assert real >= n // 2, f"only {real} of {n} grates reported with the rule off: the trap is not exercised"
    assert dropped == real, f"{real - dropped} of {real} reported grates stay cracks at {gsd} m"
