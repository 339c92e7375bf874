"""Measured road-detector quality against issue 3's targets on RDD2022 China_Drone (200 drone photos with boxes).

Marked slow (the road detectors on 200 photos, about 10 s per reading; three readings) but part of the default run.
It counts what `benchmarks/score_rdd.py --gsd-m 0.025` prints, on the detections `schouw detect-image --gsd-m 0.025`
makes; the hits also at 2 and 3 cm.
One target is not met yet (models/road-classic/MODEL_CARD.md says why): a strict xfail, so the day it is met
the run says so.
"""

import sys

import pytest

from conftest import ROOT, SHARED

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SHARED / "road_damage_drone" / "rdd2022_china_drone" / "images").is_dir(),
                       reason="../shared/data/road_damage_drone not present"),
]
sys.path.insert(0, str(ROOT / "benchmarks"))

#: The GSD the photos are read at: 15 cm lane markings are 5-7 px wide in them.
RDD_GSD_M = 0.025


_READINGS: dict = {}


def reading(gsd_m: float):
    """``score_rdd.score`` of all 200 photos read at ``gsd_m``, once per test run."""
    from score_rdd import load, score

    if gsd_m not in _READINGS:
        images, boxes = load(SHARED)
        _READINGS[gsd_m] = score(images, boxes, gsd_m)
    return _READINGS[gsd_m]


@pytest.fixture(scope="module")
def rdd():
    return reading(RDD_GSD_M)


def test_damage_boxes_hit_reach_the_target(rdd):
    per_class = {cls: f"{rdd.hits[cls]}/{rdd.total[cls]}" for cls in sorted(rdd.total)}
    assert sum(rdd.total.values()) == 332  # D00, D10, D20 and D40 boxes of the 200 photos: the data is whole
    assert rdd.hit_share >= 0.85, f"damage boxes hit {rdd.hit_share:.3f} ({per_class}); target 0.85"


@pytest.mark.parametrize("gsd_m", [0.02, 0.03])
def test_damage_boxes_hit_reach_the_target_across_the_gsd_the_photos_may_have(gsd_m):
    """The photos' GSD is not known: 2-3 cm judging by the lane markings. Read as 3 cm, road-classic 0.22.2 hit 0.84 of
    the boxes: its black-hat disk shrank to 9 px there. Since 0.23.0 it is at least 11 px (``crack_min_radius_px``)."""
    r = reading(gsd_m)
    assert r.hit_share >= 0.85, f"damage boxes hit {r.hit_share:.3f} at {gsd_m} m per pixel; target 0.85"


def test_detected_pixels_inside_boxes_do_not_fall_back(rdd):
    """Not the target (below), but no worse than measured for road-classic 0.45.0 (0.391: the cracks along the estimated
    verge dropped; 0.382 before, 0.368 with 0.18.0, 0.357 with 0.13.0, 0.34 with 0.12.1)."""
    assert rdd.inside_share >= 0.388, f"{rdd.inside_share:.3f} of the detected pixels inside boxes; 0.45.0 gave 0.391"


def test_pothole_pixels_inside_boxes_do_not_fall_back(rdd):
    """Most false potholes were dark blobs among many (gutter debris, rubble, the gaps of a zebra crossing): since
    road-classic 0.18.0 a hole must lie in a lighter road, and 0.35 of the pothole pixels then lay in boxes (0.17.0:
    0.18). Since 0.22.0 broken-out patches are potholes too (detect.spalls), and most of them lie in boxes: 0.65. Since
    0.24.0 a hole is also darker than the road just round it: 0.72."""
    share = rdd.by_type_in["pothole"] / max(rdd.by_type_px["pothole"], 1)
    assert share >= 0.68, f"{share:.3f} of the pothole pixels inside boxes ({rdd.by_type_px['pothole']} px); 0.24.0 gave 0.72"


@pytest.mark.parametrize("gsd_m", [0.02, RDD_GSD_M, 0.03])
def test_most_potholes_lie_in_a_box(gsd_m):
    """A hole is darker than even the darkest tenth of the road just round it (``pothole_max_ring_ratio``, road-classic
    0.24.0): the asphalt between the bars of a zebra crossing, or a stain, is dark only against a lighter road
    farther off. Without the rule 84 of 134, 98 of 147 and 153 of 220 pothole detections lay outside every box at 2,
    2.5 and 3 cm; with it 22 of 64, 44 of 87 and 58 of 113, and as many D40 boxes are typed pothole (24 of 70, 46 of
    94 and 60 of 123 with 0.27.0, which lets broken-out patches be longer). Since 0.45.0 a small blob browner than the
    road is a leaf, not a hole (``pothole_max_warmth``): 20 of 65, 38 of 85 and 51 of 113, against 22 of 67, 45 of 92
    and 58 of 120 (0.33, 0.49, 0.48) without it."""
    r = reading(gsd_m)
    assert r.potholes_outside <= 0.47 * r.potholes, f"{r.potholes_outside} of {r.potholes} potholes outside every box"


@pytest.mark.xfail(strict=True, reason="not met: 0.391 (models/road-classic/MODEL_CARD.md)")
def test_detected_pixels_inside_boxes_reach_the_target(rdd):
    assert rdd.inside_share >= 0.60, f"{rdd.inside_share:.3f} of the detected pixels inside boxes; target 0.60"


@pytest.mark.parametrize("gsd_m", [0.02, RDD_GSD_M, 0.03])
def test_potholes_are_reported_as_potholes(gsd_m):
    """Most hit D40 boxes have mostly ``pothole`` pixels, not ``crack`` ones, whatever GSD of 2-3 cm the photos are read
    at: 24, 24 and 23 of 45 with road-classic 0.27.0, which reports broken-out patches as potholes (since 0.22.0; 13 of
    45 before) and lets them be 3 times as long as wide (21 of 45 at 3 cm with 2.5). At 3 cm a bare majority."""
    r = reading(gsd_m)
    assert r.pothole_right * 2 > r.hits["D40"], f"{r.pothole_right} of {r.hits['D40']} hit D40 boxes typed pothole at {gsd_m} m"


def test_crack_subtypes_match_the_box_classes(rdd):
    """Of the crack pixels in D00, D10 and D20 boxes, the share typed longitudinal, transverse and alligator. Since
    road-classic 0.21.0 an area of pieces running every way is alligator (detect.alligator): D20 0.75, where the cell
    rules alone gave 0.34, at a cost of 0.05 on D00 (0.88 → 0.83) and none to speak of on D10 (0.90 → 0.89)."""
    share = {cls: rdd.sub_right[cls] / max(rdd.sub_px[cls], 1) for cls in ("D00", "D10", "D20")}
    assert share["D20"] >= 0.70 and share["D00"] >= 0.80 and share["D10"] >= 0.85, share
