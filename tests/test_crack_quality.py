"""Measured crack quality against issue 3's targets: the acceptance test, on CrackForest.

Marked slow (it scores 118 photos twice and 59 of them twice more, about 20 s) but part of the default run. It scores the
crack mask `schouw detect-image` writes for a photo when given no options: all road detectors,
the learned stage of models/crack-mlp, the assumed 2 mm per pixel. Trained and decided on
001-059; the held-out half must reach the targets too.
"""

import sys

import pytest

from conftest import ROOT, SHARED

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SHARED / "cracks" / "cfd" / "images").is_dir(), reason="../shared/data/cracks/cfd not present"),
]
sys.path.insert(0, str(ROOT / "benchmarks"))


@pytest.fixture(scope="module")
def cfd_scores():
    from score_cracks import score_groups

    from schouw.detect.crack_mlp import CrackMLP, default_model_dir
    from schouw.detect.road import RoadParams
    from schouw.photos import DEFAULT_GSD_M

    groups = {"001-118": list(range(1, 119)), "060-118 held out": list(range(60, 119))}
    return score_groups(groups, DEFAULT_GSD_M, RoadParams(), CrackMLP.load(default_model_dir()), whole=True)


@pytest.mark.parametrize("group", ["001-118", "060-118 held out"])
def test_crackforest_f1_reaches_the_target(cfd_scores, group):
    s = cfd_scores[group]
    assert s[2][2] >= 0.88 and s[5][2] >= 0.90, f"CFD F1 {s[2][2]:.3f} @2px, {s[5][2]:.3f} @5px; targets 0.88 / 0.90"


def test_a_cast_shadow_costs_less_than_the_issue_allows_on_unseen_sets(cfd_scores):
    """Issue 3: on crack sets not at hand the frozen detector should stay within 0.08 of its CFD figure. A cast shadow
    over half of every photo (score_cracks.py --whole --alter shadow=0.5) was the proxy that cost more: 0.651 at 2 px
    on 001-118 with road-classic 0.8.0, where the shaded half became a "pothole" and the crack stage saw half-dark
    cracks. With the light evened (detect.light) and the frame rule for potholes it must stay within that 0.08."""
    from score_cracks import score_groups

    from schouw.detect.crack_mlp import CrackMLP, default_model_dir
    from schouw.detect.road import RoadParams
    from schouw.photos import DEFAULT_GSD_M

    ids = {"001-118": list(range(1, 119))}
    plain = cfd_scores["001-118"][2][2]  # the same mask, scored without the shadow
    shaded = score_groups(ids, DEFAULT_GSD_M, RoadParams(), CrackMLP.load(default_model_dir()), whole=True,
                          alteration=("shadow", 0.5))["001-118"][2][2]
    assert shaded >= plain - 0.08, f"F1 @2px {shaded:.3f} under a cast shadow against {plain:.3f} without"


def test_a_photo_taken_closer_is_seen_from_its_cracks_when_the_gsd_is_not_told():
    """The held-out photos three times closer (score_cracks.py --whole --scale 3 --crop --untold), decided as detect-image
    decides without --gsd-m: the cracks are three times wider than the network learned, and nothing says so but their
    width. crack-mlp 0.6.0 sees it (wide_ratio) and decides such a photo smaller: 0.808 at 2 px against 0.731 without."""
    import dataclasses

    from score_cracks import score_groups

    from schouw.detect.crack_mlp import CrackMLP, default_model_dir
    from schouw.detect.road import RoadParams
    from schouw.photos import DEFAULT_GSD_M

    model = CrackMLP.load(default_model_dir())
    assert model.wide_ratio > 0 and model.wide_trim > 0
    ids = {"060-118": list(range(60, 119))}
    f1 = {}
    for name, m in (("seen", model), ("off", dataclasses.replace(model, wide_ratio=0.0))):
        f1[name] = score_groups(ids, DEFAULT_GSD_M, RoadParams(), m, scale=3.0, crop=True, whole=True, untold=True)["060-118"][2][2]
    assert f1["seen"] >= 0.78 and f1["seen"] >= f1["off"] + 0.05, f1


def test_a_photo_taken_four_times_closer_gets_a_half_size_pass_on_its_small_working_image(monkeypatch):
    """The held-out photos four times closer (score_cracks.py --whole --scale 4 --crop --untold) are decided at a third
    or a quarter of their size, 160 x 107 or 120 x 80 px. Since crack-mlp 0.13.0 the half-size pass runs there too
    (PYRAMID_MIN_PX 40): 0.757 at 2 px, against 0.731 with the pass only from 128 px a side, as before."""
    import schouw.detect.crack_mlp as crack_mlp
    from score_cracks import score_groups

    from schouw.detect.road import RoadParams
    from schouw.photos import DEFAULT_GSD_M

    model = crack_mlp.CrackMLP.load(crack_mlp.default_model_dir())
    ids = {"060-118": list(range(60, 119))}

    def f1() -> float:
        return score_groups(ids, DEFAULT_GSD_M, RoadParams(), model, scale=4.0, crop=True, whole=True, untold=True)["060-118"][2][2]

    now = f1()
    monkeypatch.setattr(crack_mlp, "PYRAMID_MIN_PX", 64)
    before = f1()
    assert now >= 0.745 and now >= before + 0.015, (now, before)


@pytest.mark.parametrize("scale, crop", [(1.5, True), (0.3, False)], ids=["1 mm per pixel", "5 mm per pixel"])
def test_the_issues_range_of_scales_costs_less_than_the_issue_allows_when_the_gsd_is_not_told(cfd_scores, scale, crop):
    """Issue 3: without --gsd-m detect-image must work on close-range photos of about 1-5 mm per pixel. CrackForest is
    about 1.5 mm; taken 1.5 times closer (1 mm, score_cracks.py --whole --scale 1.5 --crop --untold) or 3.3 times
    farther (5 mm, --scale 0.3 --untold) and not told so, the photos scored 0.865 and 0.860 at 2 px on 001-118 with
    crack-mlp 0.13.0, against 0.882 as they are. Both ends must stay within the issue's 0.08 of that figure."""
    from score_cracks import score_groups

    from schouw.detect.crack_mlp import CrackMLP, default_model_dir
    from schouw.detect.road import RoadParams
    from schouw.photos import DEFAULT_GSD_M

    ids = {"001-118": list(range(1, 119))}
    plain = cfd_scores["001-118"][2][2]
    moved = score_groups(ids, DEFAULT_GSD_M, RoadParams(), CrackMLP.load(default_model_dir()), scale=scale, crop=crop,
                         whole=True, untold=True)["001-118"][2][2]
    assert moved >= plain - 0.08, f"F1 @2px {moved:.3f} at about {1.5 / scale:.1f} mm per pixel, not told, against {plain:.3f}"
