"""Gully grates seen from above: the dark slots of a drain grate are parallel stripes, not cracks (pixel space, pure).

A street gully (Dutch *kolk*) has a cast-iron grate of about 0.3-0.6 m, set in the gutter every
15-25 m. From a drone at about 2 cm per pixel and finer, and in a close-up, its slots (2-4 cm wide, as far
apart) are dark stripes that the crack detector finds: one crack the size of the grate, or one per slot. No
crack is four or more straight, parallel, evenly spaced stripes that fill a small rectangle. The
test is made on the crack pieces themselves (cheap: they are sparse), grouped as they lie together.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .base import Defect, defects_mask, dilate_disk, label
from .road_params import RoadParams


#: A group filling this share of its rectangle may be slots the crack mask has merged: the photo is looked at.
MERGED_FILL = 0.3
#: The stripes are looked for across the group's main gradient direction turned this much (degrees), and across
#: each side of its smallest rectangle.
TURNS_DEG = np.array([0.0, -3.0, 3.0])


def _across(mask: np.ndarray) -> float:
    """The main direction of the gradients of a mask (degrees, image axes): across its stripes, if it is stripes."""
    m = mask.astype(np.float32)
    gx = cv2.Sobel(m, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(m, cv2.CV_32F, 0, 1, ksize=3)
    return math.degrees(0.5 * math.atan2(2 * float((gx * gy).sum()), float((gx * gx - gy * gy).sum())))


def _stripes(u: np.ndarray, v: np.ndarray, p: RoadParams) -> bool:
    """Whether points (pixel centres, px) are stripes across ``u`` (each stripe along ``v``).

    A stripe is a run of 1 px bins of ``u`` in which the points span at least ``grate_slot_cover`` of the group's
    extent along ``v`` (2nd to 98th percentile: a stray pixel does not widen it). There must be ``grate_min_slots``
    of them, holding ``grate_slot_share`` of the points, each two parted by a bin of at most ``grate_bar_max`` of
    that extent (a bar), and evenly spaced (the spacings within ``grate_spacing_tolerance`` of their median). With
    two stripes more than that, the outer two may be the grate's frame, and their bars and spacings are not judged.
    """
    k = v.size // 50
    lo_v, hi_v = np.partition(v, (k, v.size - 1 - k))[[k, v.size - 1 - k]]
    extent = float(hi_v - lo_v + 1)
    counts = np.bincount((u - u.min()).astype(int))
    on = counts >= p.grate_slot_cover * extent
    if not on.any() or counts[on].sum() < p.grate_slot_share * u.size:
        return False
    edges = np.diff(np.concatenate(([0], on.view(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if starts.size < p.grate_min_slots:
        return False
    # between two stripes a bar: a bin that is (nearly) empty, not a dip in a blob
    bars = np.minimum.reduceat(counts, ends[:-1])
    if starts.size >= p.grate_min_slots + 2:  # the outer two may be the frame
        bars = bars[1:-1]
    return not np.any(bars > p.grate_bar_max * extent) and _spaced((starts + ends) / 2, p)


def _spaced(centres: np.ndarray, p: RoadParams) -> bool:
    """Whether ``grate_min_slots`` or more stripe centres (px, ascending) are evenly spaced: the spacings within
    ``grate_spacing_tolerance`` of their median (with two more than that, the outer two may be the frame)."""
    if centres.size < p.grate_min_slots:
        return False
    gaps = np.diff(centres)
    if centres.size >= p.grate_min_slots + 2:
        gaps = gaps[1:-1]
    mid = float(np.median(gaps))
    return mid > 0 and bool(np.all(np.abs(gaps - mid) <= p.grate_spacing_tolerance * mid))


def _grey_slots(gray: np.ndarray, ys: np.ndarray, xs: np.ndarray, a: float, p: RoadParams) -> bool:
    """Whether the grey levels at pixels (``ys``, ``xs``), averaged along the direction ``a`` (radians, image axes)
    turned by 90 degrees, dip in evenly spaced slots: at least ``grate_min_slots`` local minima, each at least
    ``grate_slot_contrast`` grey levels below the lower of the maxima on either side.

    The second look at a group whose slots the crack mask has merged into one blob (a turned grate at 1.5-2 cm per
    pixel: slots of 1-2 px): averaged along the slots, the photo still shows them.
    """
    u = xs * math.cos(a) + ys * math.sin(a)
    b = (u - u.min()).astype(int)
    n = np.bincount(b)
    prof = np.bincount(b, weights=gray[ys, xs].astype(np.float64)) / np.maximum(n, 1)
    prof = prof[n >= 3]  # bins of a few pixels at the ends are noise
    if prof.size < 2 * p.grate_min_slots + 1:
        return False
    dips = np.flatnonzero((prof[1:-1] < prof[:-2]) & (prof[1:-1] <= prof[2:])) + 1
    peaks = np.flatnonzero((prof[1:-1] > prof[:-2]) & (prof[1:-1] >= prof[2:])) + 1
    if dips.size < p.grate_min_slots or peaks.size < 2:
        return False
    k = np.searchsorted(peaks, dips)  # the peak after each dip; the one before is k - 1
    dips, k = dips[(k > 0) & (k < peaks.size)], k[(k > 0) & (k < peaks.size)]
    depth = np.minimum(prof[peaks[k - 1]], prof[peaks[k]]) - prof[dips]
    return _spaced(dips[depth >= p.grate_slot_contrast].astype(float), p)


def grate_slots(cracks: list[Defect], gray: np.ndarray, gsd_m: float, p: RoadParams = RoadParams()) -> list[bool]:
    """For each crack, whether it is (part of) the slots of a gully grate.

    The cracks are grouped as they lie within ``grate_link_m`` of each other (metres; ``gsd_m`` in metres per
    pixel, up to about 7 cm; close-ups too, which may hold a whole grate: CrackForest 303 and 326). A group is a
    grate when its smallest enclosing rectangle is ``grate_min_side_m`` to ``grate_max_side_m`` on both sides and its
    pixels are stripes along one of the rectangle's axes (:func:`_stripes`), or where they have merged, the photo's
    grey levels ``gray`` over them dip in evenly spaced slots (:func:`_grey_slots`). A crack longer than a grate is
    no part of one; where it reaches a grate's slots, the crack detector has usually joined them to it, and the whole
    is kept.
    """
    out = [False] * len(cracks)
    lo, hi = p.grate_min_side_m / gsd_m, p.grate_max_side_m / gsd_m
    if not cracks or hi < 8:  # coarser than about 7 cm per pixel a grate is a few pixels
        return out
    reach = math.sqrt(2) * hi + 2 * p.grate_link_m / gsd_m  # a grate's group, whatever its turn, fits in this
    small = [j for j, d in enumerate(cracks) if max(d.mask.shape) <= reach]  # a longer crack is no part of a grate
    if not small:
        return out
    union = defects_mask([cracks[j] for j in small], gray.shape)
    if np.count_nonzero(union) < p.grate_slot_share * p.grate_slot_cover * lo * lo / 2:
        return out  # fewer pixels than the stripes of the smallest grate hold (a close-up's thin cracks, most often)
    linked = dilate_disk(union.view(np.uint8), max(1.0, p.grate_link_m / gsd_m / 2))  # 15 px at 2 mm: as runs
    n, lab, stats = label(linked)
    sides = np.maximum(stats[:, 2], stats[:, 3])
    for i in np.flatnonzero((sides >= lo) & (sides <= reach)):
        if i == 0:
            continue
        c0, r0, w, h = (int(v) for v in stats[i, :4])
        crop = lab[r0 : r0 + h, c0 : c0 + w] == i
        mine = crop & union[r0 : r0 + h, c0 : c0 + w]  # the group's crack pixels
        ys, xs = np.nonzero(mine)
        if xs.size < 4 * p.grate_min_slots:
            continue
        pts = np.column_stack((xs, ys)).astype(np.float32)
        _, (rw, rh), turn = cv2.minAreaRect(pts)
        if not (lo <= min(rw, rh) and max(rw, rh) <= hi) or xs.size < p.grate_slot_share * p.grate_slot_cover * rw * rh / 2:
            continue  # not grate-sized, or too few pixels for slots over half of it
        turns = np.radians(np.concatenate([_across(mine) + TURNS_DEG, [turn, turn + 90]]))
        if any(_stripes(xs * math.cos(a) + ys * math.sin(a), ys * math.cos(a) - xs * math.sin(a), p) for a in turns) or (
            xs.size >= MERGED_FILL * rw * rh and any(_grey_slots(gray, ys + r0, xs + c0, a, p) for a in turns)
        ):
            for j in small:
                d = cracks[j]
                y, x = divmod(int(np.argmax(d.mask)), d.mask.shape[1])
                y, x = y + d.row0 - r0, x + d.col0 - c0
                if 0 <= y < h and 0 <= x < w and crop[y, x]:
                    out[j] = True
    return out
