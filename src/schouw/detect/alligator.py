"""Alligator (block) cracking seen as an area of cracks running every way, not as closed cells (pixel space, pure).

From a drone (about 2-3 cm per pixel) the thin cracks of an alligator area break up below a pixel: its
pieces seldom close a cell, so the cell test of :mod:`.cracks` types most of them by their own direction
(on RDD2022 a third of the crack pixels in D20 boxes were ``alligator``). What still shows is the area:
several pieces close together whose directions go every way, packed more densely than the few branches of
a single longitudinal or transverse crack. Measured on RDD2022 China_Drone (``benchmarks/score_rdd.py``,
crack subtype per box class; models/road-classic/NOTEBOOK.md).
"""

from __future__ import annotations

import cv2
import numpy as np

from .base import Defect, defects_mask, dilate_disk, labels
from .road_params import RoadParams

#: The pieces' directions are read from the gradient of their mask blurred by this (px): the normals of its edges.
DIRECTION_BLUR_PX = 1.5
#: Pieces are grouped on a grid coarse enough that the link's reach is at most about twice this many cells (px).
GROUP_GRID_REACH_PX = 7


def _block_any(mask: np.ndarray, f: int) -> np.ndarray:
    """Each ``f`` x ``f`` block of a uint8 mask as one cell: 1 where any of its pixels is (the last blocks may be partial)."""
    if f == 1:
        return mask
    h, w = mask.shape
    padded = cv2.copyMakeBorder(mask.astype(np.float32), 0, -h % f, 0, -w % f, cv2.BORDER_CONSTANT, value=0)
    return (cv2.resize(padded, (padded.shape[1] // f, padded.shape[0] // f), interpolation=cv2.INTER_AREA) > 0).view(np.uint8)


def _block_up(lab: np.ndarray, f: int, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    """The labels of the cells of :func:`_block_any` over the pixels ``[y0:y1, x0:x1]`` of the full image."""
    if f == 1:
        return lab[y0:y1, x0:x1]
    return lab[np.arange(y0, y1)[:, None] // f, np.arange(x0, x1)[None, :] // f]


def direction_coherence(mask: np.ndarray, fold: int = 2) -> float:
    """How much the lines of a mask run one way: 1 for parallel lines, about 0 for lines running every way. With
    ``fold`` 4, how much its edges follow one square grid: 1 for a rectangle or a staircase of tiles (edges along two
    perpendicular directions), about 0 for an irregular outline.

    The magnitude-weighted mean of exp(i fold theta) over the gradient of the mask blurred by ``DIRECTION_BLUR_PX``
    (theta: the direction of each edge's normal), as a share of the mean magnitude.
    """
    m = cv2.GaussianBlur(np.pad(mask, 4).astype(np.float32), (0, 0), DIRECTION_BLUR_PX)
    mag, ang = cv2.cartToPolar(cv2.Sobel(m, cv2.CV_32F, 1, 0), cv2.Sobel(m, cv2.CV_32F, 0, 1))
    total = float(mag.sum())
    if total <= 0:
        return 1.0
    c, s = cv2.polarToCart(mag, fold * ang)
    return float(np.hypot(c.sum(), s.sum()) / total)


def alligator_areas(cracks: list[Defect], shape: tuple[int, int], gsd_m: float, p: RoadParams = RoadParams()) -> None:
    """Mark as ``alligator`` every crack of a group that is an area of cracks running every way.

    Pieces whose gaps are at most ``alligator_area_link_m`` (m) are one group. A group is an alligator area when it has
    at least ``alligator_area_min_pieces`` pieces, at least ``alligator_area_min_length_m`` of crack (their centre
    lines), at least ``alligator_area_min_density`` metres of crack per square metre of its convex hull (a longitudinal
    crack with a few branches has a long thin hull, and little crack in it), and a :func:`direction_coherence` of its
    pixels of at most ``alligator_area_max_coherence``.

    Only from ``alligator_area_min_gsd_m`` on: at close range (millimetres per pixel) a crack is several pixels wide and
    its cells close, and a photo less than a metre across shows no area of them (on CrackForest, single and branching
    cracks would be typed alligator).
    """
    if len(cracks) < p.alligator_area_min_pieces or gsd_m < p.alligator_area_min_gsd_m:
        return
    union = defects_mask(cracks, shape).view(np.uint8)
    reach = max(1.0, p.alligator_area_link_m / 2 / gsd_m)
    f = max(1, int(reach // GROUP_GRID_REACH_PX))  # fine GSDs: grouped on a coarser grid (a gap of 0.6 m is no pixel)
    lab = labels(dilate_disk(_block_any(union, f), reach / f))
    groups: dict[int, list[Defect]] = {}
    for d in cracks:
        y, x = divmod(int(np.argmax(d.mask)), d.mask.shape[1])
        groups.setdefault(int(lab[(d.row0 + y) // f, (d.col0 + x) // f]), []).append(d)
    for i, mine in groups.items():
        if len(mine) < p.alligator_area_min_pieces or all(d.subtype == "alligator" for d in mine):
            continue
        length_m = sum(float(d.extra["length_px"]) for d in mine) * gsd_m
        if length_m < p.alligator_area_min_length_m:
            continue
        y0, x0 = min(d.row0 for d in mine), min(d.col0 for d in mine)
        y1 = max(d.row0 + d.mask.shape[0] for d in mine)
        x1 = max(d.col0 + d.mask.shape[1] for d in mine)
        own = (_block_up(lab, f, y0, y1, x0, x1) == i) & (union[y0:y1, x0:x1] > 0)
        ys, xs = np.nonzero(own)
        hull_m2 = max(cv2.contourArea(cv2.convexHull(np.column_stack([xs, ys]).astype(np.int32))), 1.0) * gsd_m**2
        if length_m / hull_m2 < p.alligator_area_min_density:
            continue
        if direction_coherence(own) <= p.alligator_area_max_coherence:
            for d in mine:
                d.subtype = "alligator"
