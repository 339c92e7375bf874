"""The defect record and the small helpers shared by detectors."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import cv2
import numpy as np


@dataclass
class Defect:
    """One connected defect in pixel space.

    ``mask`` is the defect's pixels cropped to its bounding box, whose top-left
    pixel is (``row0``, ``col0``) in the tile array. ``score`` is 0–1.
    """

    type: str
    mask: np.ndarray
    row0: int
    col0: int
    score: float
    subtype: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def bbox_px(self) -> tuple[int, int, int, int]:
        """(xmin, ymin, xmax, ymax) in tile pixels, max exclusive."""
        h, w = self.mask.shape
        return self.col0, self.row0, self.col0 + w, self.row0 + h


@dataclass(frozen=True)
class DetectorSpec:
    """What a detector needs: area kind it applies to and the GSD range it is meaningful for (metres per pixel)."""

    name: str
    version: str
    area: str
    types: tuple[str, ...]
    min_gsd_m: float
    max_gsd_m: float


def odd(n: float, minimum: int = 3) -> int:
    """Nearest odd integer >= ``minimum`` (kernel sizes)."""
    k = max(minimum, int(round(n)))
    return k if k % 2 else k + 1


def disk(radius_px: float) -> np.ndarray:
    """Elliptical structuring element of the given radius (pixels)."""
    k = odd(2 * radius_px + 1)
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))


#: Disks this many pixels across or more are applied as horizontal runs (:func:`black_hat`); smaller ones by OpenCV whole
RUNS_MIN_SIDE_PX = 15
#: Finer than this (metres per pixel) a photo is close range (CrackForest: 1-2 mm, under a metre across): the traps
#: seen whole only from a drone (posts' shadows) are not looked for, and the time budget is tight (issue 3: 50 ms per
#: 512 x 512). Gully grates are, since road-classic 0.43.0: a close-up may hold a whole one (CrackForest 303, 326).
DRONE_MIN_GSD_M = 0.004


def _disk_runs(image: np.ndarray, kernel: np.ndarray, op) -> np.ndarray:
    """``op`` (cv2.dilate or cv2.erode) of ``image`` by a symmetric convex ``kernel``, one horizontal run per row offset.

    Each row of a disk is a centred run of pixels: the run is a 1-px-high rectangle, which
    OpenCV applies in time independent of its length, and the row offsets are combined by
    max (min) of shifted rows. Pixels beyond the image count as OpenCV's default border does (not at all).
    """
    r = kernel.shape[0] // 2
    half = {dy - r: r - int(np.flatnonzero(row)[0]) for dy, row in enumerate(kernel)}
    runs = {a: op(image, np.ones((1, 2 * a + 1), np.uint8)) for a in set(half.values())}
    pick = cv2.max if op is cv2.dilate else cv2.min
    out = runs[half[0]].copy()
    for dy, a in half.items():
        if dy > 0:
            pick(out[:-dy], runs[a][dy:], dst=out[:-dy])
        elif dy < 0:
            pick(out[-dy:], runs[a][:dy], dst=out[-dy:])
    return out


def black_hat(image: np.ndarray, radius_px: float) -> np.ndarray:
    """``cv2.morphologyEx(image, MORPH_BLACKHAT, disk(radius_px))``, the same values: closing minus the image.

    Large disks go as horizontal runs (:func:`_disk_runs`), faster than OpenCV's own for such disks.
    """
    k = disk(radius_px)
    if k.shape[0] < RUNS_MIN_SIDE_PX or image.shape[0] <= k.shape[0]:
        return cv2.morphologyEx(image, cv2.MORPH_BLACKHAT, k)
    return cv2.subtract(_disk_runs(_disk_runs(image, k, cv2.dilate), k, cv2.erode), image)


def dilate_disk(image: np.ndarray, radius_px: float) -> np.ndarray:
    """``cv2.dilate(image, disk(radius_px))``, the same values; large disks as horizontal runs (:func:`_disk_runs`)."""
    k = disk(radius_px)
    if k.shape[0] < RUNS_MIN_SIDE_PX or image.shape[0] <= k.shape[0]:
        return cv2.dilate(image, k)
    return _disk_runs(image, k, cv2.dilate)


def crack_response(gray: np.ndarray, radius_px: float) -> np.ndarray:
    """Black-hat response (grey levels, float32): how much darker a pixel is than its surroundings within ``radius_px``."""
    smooth = cv2.GaussianBlur(gray, (3, 3), 0)  # single-pixel noise and aggregate speckles are not cracks
    return black_hat(smooth, radius_px).astype(np.float32)


def block_mean(a: np.ndarray, f: int) -> np.ndarray:
    """Mean over f x f blocks (edge rows/columns padded by reflection to a multiple of f).

    An exact integer factor keeps OpenCV's INTER_AREA on its fast path (a non-integer one is ~10x slower).
    A boolean mask gives its share per block (float32) from whole-number block sums: INTER_AREA
    has no fast path for the large factors of windows in metres, where a reshape and a sum has.
    """
    if f == 1:
        return a.astype(np.float32) if a.dtype == bool else a
    h, w = a.shape[:2]
    ph, pw = -h % f, -w % f
    if a.dtype == bool:
        m = cv2.copyMakeBorder(a.view(np.uint8), 0, ph, 0, pw, cv2.BORDER_REFLECT)
        sums = m.reshape((h + ph) // f, f, (w + pw) // f, f).sum(axis=(1, 3), dtype=np.int32)
        return (sums / (f * f)).astype(np.float32)
    if ph or pw:
        a = cv2.copyMakeBorder(a, 0, ph, 0, pw, cv2.BORDER_REFLECT)
    return cv2.resize(a, ((w + pw) // f, (h + ph) // f), interpolation=cv2.INTER_AREA)


def block_up(a: np.ndarray, f: int, shape: tuple[int, int]) -> np.ndarray:
    """Inverse of :func:`block_mean`: bilinear upsampling by ``f``, cropped to ``shape`` (rows, cols)."""
    if f == 1:
        return a
    big = cv2.resize(a, (a.shape[1] * f, a.shape[0] * f), interpolation=cv2.INTER_LINEAR)
    return big[: shape[0], : shape[1]]


def label(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """8-connected labelling: (count including background, int32 labels, stats rows x, y, w, h, area).

    Grana's algorithm: with statistics, OpenCV 5's default (Spaghetti) costs ~3x more
    (8 ms against 2.5 ms on a 1124 px tile, measured here), even on an empty mask.
    """
    if not mask.any():
        return 1, np.zeros(mask.shape, np.int32), np.zeros((1, 5), np.int32)
    n, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(mask.astype(np.uint8), 8, cv2.CV_32S, cv2.CCL_GRANA)
    return n, labels, stats


def labels(mask: np.ndarray) -> np.ndarray:
    """8-connected labels (int32, 0 the background) without :func:`label`'s statistics, which cost about 4 times the
    labelling itself on a photo's crack mask."""
    return cv2.connectedComponentsWithAlgorithm(mask.view(np.uint8) if mask.dtype == bool else mask, 8, cv2.CV_32S,
                                                cv2.CCL_GRANA)[1]


def centre_lines(mask: np.ndarray, pieces: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Centre lines (Zhang-Suen thinning) of a binary mask.

    Thinning is local, so each 8-connected piece is thinned on its own, in its box grown by one
    pixel (not past the image's edge, where thinning keeps pixels): the same pixels as thinning
    the whole image, in less time on crack masks. ``pieces``: (label image,
    ids, connected-component stats) if ``mask`` is already labelled, as :func:`.crack_mlp.hysteresis_pieces`
    gives it; ``mask`` is then the pieces ``ids``.
    """
    if pieces is None:
        n, lab, st = label(mask)
        ids = range(1, n)
    else:
        lab, ids, st = pieces
    rows, cols = mask.shape
    out = np.zeros(mask.shape, bool)
    for i in ids:
        x, y, w, h = st[i, :4]
        y0, x0, y1, x1 = max(y - 1, 0), max(x - 1, 0), min(y + h + 1, rows), min(x + w + 1, cols)
        piece = (lab[y0:y1, x0:x1] == i).view(np.uint8) * np.uint8(255)
        out[y0:y1, x0:x1] |= cv2.ximgproc.thinning(piece) > 0
    return out


def hits_across(mask: np.ndarray, xs: np.ndarray, ys: np.ndarray, nx: float, ny: float, reach: float) -> np.ndarray:
    """Whether ``mask`` has a pixel within ``reach`` px across a line, at each of its points (``xs``, ``ys``, px); the
    line's unit normal is (``nx``, ``ny``). Points off the image are clipped to its edge."""
    h, w = mask.shape
    hit = np.zeros(xs.size, bool)
    for k in range(-math.ceil(reach), math.ceil(reach) + 1):
        if abs(k) <= reach:
            hit |= mask[np.clip(np.rint(ys + k * ny).astype(int), 0, h - 1), np.clip(np.rint(xs + k * nx).astype(int), 0, w - 1)]
    return hit


def padded(crop: np.ndarray, row0: int, col0: int, pad: int, shape: tuple[int, int]
           ) -> tuple[np.ndarray, tuple[slice, slice], tuple[slice, slice]]:
    """``crop`` (a mask placed at ``row0``, ``col0``) on a window ``pad`` px larger on each side, clipped to an image of
    ``shape``: the window (uint8 0/1), its slices in the image, and the crop's slices in the window."""
    h, w = crop.shape
    y0, x0 = max(row0 - pad, 0), max(col0 - pad, 0)
    y1, x1 = min(row0 + h + pad, shape[0]), min(col0 + w + pad, shape[1])
    inner = (slice(row0 - y0, row0 - y0 + h), slice(col0 - x0, col0 - x0 + w))
    m = np.zeros((y1 - y0, x1 - x0), np.uint8)
    m[inner] = crop
    return m, (slice(y0, y1), slice(x0, x1)), inner


def components(mask: np.ndarray, min_area_px: int = 1, seeds: np.ndarray | None = None):
    """Yield (label_mask_crop, row0, col0, area_px) for 8-connected components of ``mask``.

    With ``seeds`` (a boolean mask), only components holding at least one seed pixel.
    """
    n, labels, stats = label(mask)
    wanted = None
    if seeds is not None:
        wanted = np.zeros(n, bool)
        wanted[labels[seeds]] = True
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if area < min_area_px or (wanted is not None and not wanted[i]):
            continue
        crop = labels[y : y + h, x : x + w] == i
        yield crop, int(y), int(x), int(area)


_last = threading.local()


def chromaticity(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Normalised r, g, b (sum 1) and brightness (R+G+B)/3, all float32: illumination-invariant colour.

    Several detectors ask for the same tile's chromaticity: the last result per thread is
    kept and reused while the caller passes the very same array object (never mutated here).
    """
    hit = getattr(_last, "chroma", None)
    if hit is not None and hit[0] is image:
        return hit[1]
    r, g, b = cv2.split(image.astype(np.float32))  # planes: numpy's sum over the channel axis is ~10x slower
    s = r + g + b
    s += 1e-3
    inv = 1.0 / s
    r *= inv
    g *= inv
    b *= inv
    s *= 1.0 / 3.0
    out = (r, g, b, s)
    _last.chroma = (image, out)
    return out


def quick_median(values: np.ndarray) -> float:
    """``float(np.median(values))`` to the bit, for values without NaN, without its per-call cost.

    ``np.median`` and ``np.percentile`` spend 10-20 us per call in argument handling, several times their partial
    sort on the few hundred values of one crack; the per-crack measures call them thousands of times per drone
    photo. The arithmetic here is numpy's own, in the same dtype (``tests/test_quick_stats.py`` checks equality).
    """
    v = values.ravel()
    n = v.size
    if n == 0:
        raise ValueError("the median of no values")
    h = n // 2
    if n % 2:
        return float(np.partition(v, h)[h])
    part = np.partition(v, (h - 1, h))
    lo, hi = part[h - 1], part[h]
    if v.dtype.kind in "fc":  # summed and halved in the array's own float type, as np.mean does
        return float((lo + hi) / 2)
    return (float(lo) + float(hi)) / 2  # integers and booleans: in float64


def quick_percentile(values: np.ndarray, q: float) -> float:
    """``float(np.percentile(values, q))`` (linear, ``q`` in 0-100 a Python number) to the bit, for values without
    NaN, without its per-call cost (:func:`quick_median`)."""
    v = values.ravel()
    n = v.size
    if n == 0:
        raise ValueError("a percentile of no values")
    virtual = (n - 1) * (q / 100)
    if virtual >= n - 1:
        return float(np.max(v))
    k = int(virtual)  # its floor: never negative
    part = np.partition(v, (k, k + 1))
    a, b = part[k], part[k + 1]
    t = virtual - k
    diff = b - a
    return float(b - diff * (1 - t) if t >= 0.5 else a + diff * t)  # numpy's _lerp, in the same promotions


def robust_sigma(values: np.ndarray) -> float:
    """1.4826 x median absolute deviation: a noise level that ignores the defects themselves."""
    if values.size == 0:
        return 0.0
    med = np.median(values)
    return float(1.4826 * np.median(np.abs(values - med)))


def count_median(q: np.ndarray) -> float:
    """Median of integers ``q`` (the mean of the two middle ones for an even count, as ``np.median``), by counting.

    A histogram and its running sum instead of a partial sort: several times faster on the
    tens of thousands of small integers a tile's statistics take.
    """
    lo = int(q.min())
    below = np.cumsum(np.bincount((q - lo).ravel()))  # below[v]: how many are <= lo + v
    n = q.size
    a, b = np.searchsorted(below, ((n - 1) // 2, n // 2), side="right")
    return lo + (int(a) + int(b)) / 2


def robust_sigma_counted(q: np.ndarray, unit: float) -> tuple[float, float]:
    """(median, :func:`robust_sigma`) of float32 values ``q * unit`` known to be whole multiples of ``unit`` (a power of 2).

    Integers ``q`` in, counted rather than sorted; the same figures :func:`robust_sigma` gives
    for those float32 values (the deviation median is taken in half units, where it is whole).
    """
    if q.size == 0:
        return 0.0, 0.0
    q = q.astype(np.int32, copy=False)
    twice = int(round(2 * count_median(q)))
    mad = np.float32(count_median(np.abs(2 * q - twice)) * unit / 2)
    return twice * unit / 2, float(1.4826 * mad)  # the product in float32, as robust_sigma computes it for float32 values


def subsample(values: np.ndarray, n: int = 50_000, seed: int = 0) -> np.ndarray:
    """At most ``n`` values, deterministically strided (statistics on big tiles stay cheap)."""
    if values.size <= n:
        return values
    step = values.size // n
    return values[::step]


def tighten(crop: np.ndarray, row0: int, col0: int) -> tuple[np.ndarray, int, int]:
    """Trim a boolean crop to the bounding box of its True pixels (and shift its origin accordingly)."""
    x, y, w, h = cv2.boundingRect(crop.view(np.uint8))
    if w == 0:
        return crop, row0, col0
    return crop[y : y + h, x : x + w], row0 + y, col0 + x


def to_gray(image: np.ndarray) -> np.ndarray:
    """Grey levels (uint8) of an RGB tile."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def defects_mask(defects: list[Defect], shape: tuple[int, int]) -> np.ndarray:
    """Union of the defects' masks on a tile of ``shape``."""
    out = np.zeros(shape, bool)
    for d in defects:
        h, w = d.mask.shape
        out[d.row0 : d.row0 + h, d.col0 : d.col0 + w] |= d.mask
    return out
