"""A learned crack stage for close-range road photos: per-pixel features, a small OpenCV MLP (cv2.ml), hysteresis,
then a learned judgement of each connected piece (OpenCV random trees).

Pure: a grey image in, a probability map or mask out. The network, the forest and the
feature scaling are data (``models/crack-mlp/``, written by ``benchmarks/train_crack_mlp.py``
from CrackForest 001-059); :meth:`CrackMLP.load` reads them. Features are in pixels: the model is for photos
of about 1-5 mm per pixel, where a crack is 1-10 px wide.

Features (16 per pixel, each divided by the image's robust noise level so exposure does not
matter): darkness against a 31 px median background; black-hat with disks of radius 2, 4, 7;
the two Hessian eigenvalues (a dark ridge has a large positive one) at scales 1, 2, 3; the
pixel's rank between its 7 px neighbourhood minimum and maximum; the local standard deviation;
and, for straight lines of 16 and 32 px through the pixel in 12 directions, how much darker
the darkest line is than its square surroundings, and the spread between the darkest and the
brightest direction (a crack is dark along one direction, a stain or pore in all of them).

In use, two settings of the model make it cheaper (``background_factor``: the median background
taken at a quarter of the size; ``gate``: a linear pre-screen distilled from the network, so
most candidate pixels never go through it). Their scores are in the model card.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import cv2
import numpy as np

from .base import black_hat, centre_lines, crack_response, disk, label, robust_sigma_counted, subsample

N_FEATURES = 16
N_DIRECTIONS = 12
LINE_STEPS = (4, 5)  # line lengths 2**4 and 2**5 px
#: A photo said to be finer than the training photos by more than this factor is shrunk to their GSD (see work_factor)
GSD_SHRINK_FROM = 1.25
#: ... but never below this many pixels a side
MIN_WORK_SIDE_PX = 64
#: With the GSD told, a photo's pixel count no longer stands in for its scale: larger photos are decided at full size
#: up to this many pixels (memory: about 250 bytes a pixel at the peak), beyond it shrunk to it
KNOWN_GSD_WORK_PIXELS = 2_000_000


def _direction_steps(n_dir: int, steps: int) -> list[list[tuple[int, int]]]:
    """Per direction, the whole-pixel offset (dx, dy) of each doubling of a line: 1, 2, 4, ... px along it."""
    return [[(round(2**j * math.cos(math.pi * k / n_dir)), round(2**j * math.sin(math.pi * k / n_dir))) for j in range(steps)]
            for k in range(n_dir)]


_STEPS = _direction_steps(N_DIRECTIONS, max(LINE_STEPS))

#: The greatest value of a 3 x 3 Gaussian (1 2 1) of a uint8 image, in 16ths of a grey level
G16_MAX = 16 * 255


def line_extremes(g16: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per line length 2**s px (s in ``LINE_STEPS``): the least and greatest mean (grey levels, float32) along a line
    centred on each pixel of ``g16``, an image in 16ths of a grey level (uint16, at most ``G16_MAX``).

    Lines in ``N_DIRECTIONS`` directions, each summed by doubling (a line of 2n px is a line of n
    plus the same line shifted n px along it): five shifted additions per direction, no kernels.
    Sums are exact: in 16 bits while they fit (lines of up to 16 px), then in float32.
    """
    h, w = g16.shape
    m = 2 ** max(LINE_STEPS) // 2  # a centred line reaches half its length beyond a border pixel: no farther
    padded = cv2.copyMakeBorder(g16, m, m, m, m, cv2.BORDER_REFLECT)
    lo: dict[int, np.ndarray] = {}
    hi: dict[int, np.ndarray] = {}
    done: list[tuple[int, int]] = []  # the previous direction's steps, and the sums after each of them
    sums: list[tuple[np.ndarray, int, int, int, int]] = []
    for steps in _STEPS:
        shared = next((j for j, (a, b) in enumerate(zip(steps, done)) if a != b), min(len(steps), len(done)))
        del sums[shared:]  # neighbouring directions begin with the same steps: 10 of the 60 additions are shared
        # cur[i, j]: sum along the line starting at padded[y0 + i, x0 + j]
        cur, y0, x0, cy, cx = sums[-1] if sums else (padded, 0, 0, 0, 0)
        for j in range(shared, len(steps)):
            ox, oy = steps[j]
            rows, cols = cur.shape
            a0, a1, b0, b1 = max(0, -oy), rows - max(0, oy), max(0, -ox), cols - max(0, ox)
            # float32 once the sums outgrow 16 bits (a conversion, then cv2.add: faster than cv2.add with dtype=CV_32F)
            if cur.dtype == np.uint16 and 2 ** (j + 1) * G16_MAX > 65535:
                cur = cur.astype(np.float32)
            cur = cv2.add(cur[a0:a1, b0:b1], cur[a0 + oy : a1 + oy, b0 + ox : b1 + ox])  # half numpy's time on views
            y0, x0, cy, cx = y0 + a0, x0 + b0, cy + oy, cx + ox
            sums.append((cur, y0, x0, cy, cx))
            if j + 1 in LINE_STEPS:
                sy, sx = m - round(cy / 2) - y0, m - round(cx / 2) - x0  # centre the line on the pixel
                c = cur[sy : sy + h, sx : sx + w]
                if j + 1 not in lo:
                    lo[j + 1], hi[j + 1] = c.copy(), c.copy()
                else:
                    cv2.min(lo[j + 1], c, dst=lo[j + 1])
                    cv2.max(hi[j + 1], c, dst=hi[j + 1])
        done = steps
    return {s: (np.multiply(lo[s], np.float32(1 / (16 * 2**s))), np.multiply(hi[s], np.float32(1 / (16 * 2**s)))) for s in LINE_STEPS}


def median_background(gray: np.ndarray, factor: int = 1) -> np.ndarray:
    """The 31 px median of a uint8 grey image (uint8); with ``factor`` > 1, taken on the image shrunk that many times.

    The kernel there is ``31 // factor``, made odd: with ``factor`` 4 a 7 px median of the
    quarter-size image (28 px here), enlarged bilinearly, at a small part of the cost (the
    exact 31 px median is the costliest single feature). Images under 16 ``factor`` px a side
    get the exact median.
    """
    h, w = gray.shape
    if factor == 1 or min(h, w) < 16 * factor:
        return cv2.medianBlur(gray, 31)
    small = cv2.resize(gray, (w // factor, h // factor), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.medianBlur(small, (31 // factor) | 1), (w, h), interpolation=cv2.INTER_LINEAR)


def crack_features(gray: np.ndarray, background_factor: int = 1) -> np.ndarray:
    """(N_FEATURES, H, W) float32 features of a uint8 grey image, one plane per feature (see the module docstring).

    Planes, not a (H, W, N_FEATURES) stack: each feature is written once, scaled, into its plane
    (no interleaving pass), and the network and the piece means read whole planes.
    ``background_factor``: see :func:`median_background` (the network is trained with 1).
    """
    h, w = gray.shape
    out = np.empty((N_FEATURES, h, w), np.float32)
    g = cv2.GaussianBlur(gray.astype(np.float32), (3, 3), 0)
    bg = median_background(gray, background_factor)
    np.subtract(g, bg.astype(np.float32), out=out[0])
    g16 = (g * np.float32(16)).astype(np.uint16)  # exact: a 3 x 3 Gaussian of whole grey levels is in 16ths
    # the noise level of feature 0, counted in 16ths of a grey level (exact, and faster than np.median's sort)
    dark16 = subsample(g16.ravel(), 20_000).astype(np.int32) - 16 * subsample(bg.ravel(), 20_000).astype(np.int32)
    inv = np.float32(1.0 / (robust_sigma_counted(dark16, 1 / 16)[1] + 1e-3))
    out[0] *= inv  # every feature but the rank is in noise sigmas; numpy, as cv2.multiply by a scalar is slower
    for k, r in enumerate((2, 4, 7), 1):  # morphology on 16-bit integers: exact, and twice the lanes of float32
        np.multiply(black_hat(g16, r), inv / 16, out=out[k])
    for k, sg in enumerate((1.0, 2.0, 3.0)):
        gg = cv2.GaussianBlur(g, (0, 0), sg)
        dxx = cv2.Sobel(gg, cv2.CV_32F, 2, 0, ksize=3)
        dyy = cv2.Sobel(gg, cv2.CV_32F, 0, 2, ksize=3)
        dxy2 = cv2.Sobel(gg, cv2.CV_32F, 1, 1, ksize=3, scale=2)
        tr, det = cv2.add(dxx, dyy), cv2.magnitude(cv2.subtract(dxx, dyy), dxy2)  # Hessian eigenvalues (tr +- det) / 2
        c = np.float32(0.5 * sg * sg) * inv
        np.multiply(cv2.add(tr, det), c, out=out[4 + 2 * k])
        np.multiply(cv2.absdiff(tr, det), c, out=out[5 + 2 * k])
    mn, mx = cv2.erode(g, disk(3)), cv2.dilate(g, disk(3))
    # no cv2 call with a scalar here: OpenCV reads an array of up to 4 x 1 pixels as a scalar too
    np.divide(cv2.subtract(g, mn), cv2.subtract(mx, mn) + np.float32(1), out=out[10])
    mean = cv2.blur(g, (15, 15))
    var = cv2.subtract(cv2.blur(np.square(g), (15, 15)), np.square(mean))
    np.multiply(cv2.sqrt(np.maximum(var, 0, out=var)), inv, out=out[11])
    for k, (steps, (lo, hi)) in enumerate(line_extremes(g16).items()):
        side = 2**steps - 1
        around = mean if side == 15 else cv2.blur(g, (side, side))  # the 16 px lines' square is the 15 px mean above
        np.multiply(cv2.subtract(around, lo), inv, out=out[12 + 2 * k])
        np.multiply(cv2.subtract(hi, lo), inv, out=out[13 + 2 * k])
    return out


def hysteresis_pieces(prob: np.ndarray, hi: float, lo: float, min_extent_px: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hysteresis as pieces: (label image, ids of the kept pieces, connected-component stats).

    A piece is 8-connected pixels above ``lo`` with at least one above ``hi``, at least
    ``min_extent_px`` long or wide.
    """
    n, lab, st = label(prob > lo)
    keep = np.zeros(n, bool)
    keep[lab[prob > hi]] = True  # no np.unique: assigning True twice is cheaper than a sort
    keep[0] = False
    keep &= np.maximum(st[:, cv2.CC_STAT_WIDTH], st[:, cv2.CC_STAT_HEIGHT]) >= min_extent_px
    return lab, np.flatnonzero(keep), st


def trim_to_core(mask: np.ndarray, prob: np.ndarray, core: float, centre: np.ndarray | None = None) -> np.ndarray:
    """``mask`` without its pixels of probability <= ``core``, except its centre line (so no piece breaks).

    ``centre``: :func:`centre_lines` of ``mask`` if already known.
    """
    if core <= 0 or not mask.any():
        return mask
    return mask & ((prob > core) | (centre_lines(mask) if centre is None else centre))


def trim_to_profile(mask: np.ndarray, gray: np.ndarray, radius_px: float, share: float) -> np.ndarray:
    """``mask`` cut to its cracks' dark profile: pixels whose black-hat (disk of ``radius_px``) is at least ``share``
    of the strongest on its centre line within ``radius_px``, and the centre line itself (so no piece breaks).

    A mask decided at a smaller size and scaled back is as wide as the blur there; a crack as
    wide as that keeps it, a narrower one (a blurred photo) is cut to its middle.
    """
    if share <= 0 or not mask.any():
        return mask
    bh = crack_response(gray, radius_px)
    centre = centre_lines(mask)
    peak = cv2.dilate(np.where(centre, bh, np.float32(0)), disk(radius_px))
    return fill_cut_holes((mask & (bh >= share * peak)) | centre, mask, math.pi * radius_px**2)


def fill_cut_holes(cut: np.ndarray, mask: np.ndarray, max_area_px: float) -> np.ndarray:
    """``cut`` (a part of the bool ``mask``) with its holes filled where they are of ``mask`` and under ``max_area_px``.

    Inside a wide crack the black-hat of :func:`trim_to_profile` dips wherever the crack's bottom is a little lighter,
    and the cut left hundreds of pinholes there (a 40 px crack of score_wide_cracks.py: 278 of 1-68 px, a throwaway
    listing). Its centre line then ran round each of them, many times the crack's length, and the width measured from
    it was 3 px.
    """
    holes = (~cut).view(np.uint8)
    n, lab, st, _ = cv2.connectedComponentsWithStats(holes, connectivity=4)
    if n <= 2:  # the background alone
        return cut
    framed = np.zeros(n, bool)  # components touching the image's edge are background, not holes
    framed[np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))] = True
    small = (st[:, cv2.CC_STAT_AREA] <= max_area_px) & ~framed
    small[0] = False
    if not small.any():
        return cut
    outside = np.bincount(lab.ravel(), weights=(~mask).ravel(), minlength=n)  # pixels of a hole not in the mask
    fill = small & (outside == 0)
    return cut | fill[lab]


#: The width ratio (see CrackMLP._decide_at) needs at least this many centre-line pixels
WIDE_MIN_CENTRE_PX = 20
#: From this many times ``wide_ratio`` on, a photo is decided at a third of its size, not at half
WIDE_THIRD_FROM = 1.5
#: The sizes a photo taken closer than the training photos may be decided at, largest first (see CrackMLP._decide_closer)
WIDE_SIZES = (1 / 2, 1 / 3, 1 / 4, 1 / 6, 1 / 8)
#: The half-size pass's width ratio must be this many times ``wide_ratio`` for a photo whose full-size pass does not
#: find wide cracks to be taken as closer (a 10 px crack, which the two passes find, gives about 6 there)
WIDE_AT_HALF = 2.0
#: Between that and WIDE_TRIAL_AT_HALF times ``wide_ratio`` the photo is tried at a third of its size, and that is kept
#: only where it marks WIDE_TRIAL_GROWTH times as much: a wide crack with a blotchy inside, found in part at full size
#: and at half size, is found whole there, while a 10 px crack the half-size pass finds whole (ratio about 6 there) marks
#: about as much at a third. Of the 155 CrackForest photos only two pass it at half size (323, 306), and their full-size
#: ratio sends them smaller first; the next is 309 with 4.7 (a throwaway listing)
WIDE_TRIAL_AT_HALF, WIDE_TRIAL_GROWTH = 1.3, 2.0
#: Where neither the full- nor the half-size pass finds a crack, the photo is looked at once more at this size (and
#: smaller, down WIDE_SIZES, while nothing is found)
WIDE_PROBE = 1 / 4
#: ... or where what they mark is less than this share of the photo: a few pieces of the edges of a crack too wide for
#: both (of the 155 CrackForest photos, the least that marks anything marks 0.0021 at full size, a throwaway listing)
LITTLE_SHARE = 0.002
#: ... and a look for a sliver's sake is kept only where it marks this many times as much
LITTLE_GROWTH = 8.0
#: The black-hat of trim_to_profile reaches this many pixels at the working size (so its radius grows as that size
#: shrinks), and at least WIDE_TRIM_MIN_RADIUS_PX
WIDE_TRIM_RADIUS_PX = 3.0
WIDE_TRIM_MIN_RADIUS_PX = 2.0


@dataclass(frozen=True)
class Seen:
    """How wide the cracks of one decision look: the width ratio (see CrackMLP._decide_at) of the full-size pass, and of
    its half-size pass (0 where a pass found too few centre-line pixels); and how much of the photo it marks."""

    ratio: float = 0.0
    half_ratio: float = 0.0
    share: float = 0.0  # the share of the photo's pixels the decision marks (both passes)

    @property
    def anything(self) -> bool:
        return self.ratio > 0 or self.half_ratio > 0

    def wide(self, wide_ratio: float) -> bool:
        """Wider than the training cracks: at full size, or, where the full-size pass saw too little, at half size."""
        return self.ratio > wide_ratio or (self.ratio == 0 and self.half_ratio > wide_ratio)


def width_ratio(feats: np.ndarray, centre: np.ndarray | None, mask: np.ndarray, least_px: int) -> float:
    """Median black-hat with a disk of 7 px over that with a disk of 2 px (features 3 and 1, in noise sigmas) on the
    centre lines within ``mask``: about 2.5 on CrackForest's cracks, growing with their width in pixels; 0 where fewer
    than ``least_px`` centre-line pixels are found."""
    if centre is None:
        return 0.0
    on = centre & mask
    if np.count_nonzero(on) < least_px:
        return 0.0
    return float(np.median(feats[3][on]) / max(float(np.median(feats[1][on])), 1e-3))


#: The network's activation, OpenCV's symmetric sigmoid beta * (1 - exp(-alpha x)) / (1 + exp(-alpha x)) with these (alpha, beta)
ACTIVATION_PARAMS = (1.0, 1.0)


def folded_layers(net: cv2.ml.ANN_MLP, mean: np.ndarray, std: np.ndarray) -> tuple[list[tuple[np.ndarray, np.ndarray]], tuple[float, float]]:
    """The network as float32 (weights, bias) per layer with ``tanh`` as activation, and its output (scale, offset).

    Weights are (outputs, inputs) and biases (outputs, 1): a layer maps columns of features.

    Everything linear is folded into the weights: the feature standardisation ``(x - mean) / std``,
    OpenCV's own input scaling, and the activation's alpha / 2 and beta (its symmetric sigmoid is
    ``beta * tanh(alpha x / 2)``). :func:`forward` with these gives ``net.predict`` (to ~1e-5).
    """
    alpha, beta = ACTIVATION_PARAMS
    n_layers = len(net.getLayerSizes().ravel())
    scale_in = net.getWeights(0).reshape(-1, 2)
    a = scale_in[:, 0] / std.astype(np.float64)
    layers = []
    for k in range(1, n_layers):
        w = net.getWeights(k)
        weights, bias = w[:-1].astype(np.float64), w[-1].astype(np.float64)
        if k == 1:
            bias = bias + (scale_in[:, 1] - mean * a) @ weights
            weights = a[:, None] * weights
        else:
            weights = beta * weights
        layers.append((np.ascontiguousarray(alpha / 2 * weights.T, np.float32), (alpha / 2 * bias).astype(np.float32)[:, None]))
    out_scale, out_offset = net.getWeights(n_layers).ravel()[:2]
    return layers, (float(beta * out_scale), float(out_offset))


def forward(layers: list[tuple[np.ndarray, np.ndarray]], out: tuple[float, float], x: np.ndarray) -> np.ndarray:
    """Network output for the columns of ``x`` (N_FEATURES, n) (raw features, float32), from :func:`folded_layers`.

    Columns, as the feature planes hold them: each layer is one long row per unit (faster
    than rows of features).
    """
    h = x
    for weights, bias in layers:
        h = weights @ h
        h += bias
        np.tanh(h, out=h)
    return h[0] * out[0] + out[1]


def fit_gate(x: np.ndarray, prob: np.ndarray, lo: float, keep: float) -> tuple[np.ndarray, float]:
    """A linear pre-screen distilled from the network: (weights (N_FEATURES,) float32, least score) for raw feature columns.

    ``x`` (N_FEATURES, n): candidates' features; ``prob``: the network's probability of each.
    Least squares of the network's pre-activation (artanh of 2 prob - 1) on the features; the
    least score passes the share ``keep`` of the candidates above ``lo`` (the only probabilities
    the decision reads). Pixels below it are not put through the network.
    """
    a = np.vstack([x, np.ones((1, x.shape[1]), x.dtype)]).T.astype(np.float64)
    target = np.arctanh(np.clip(2 * prob.astype(np.float64) - 1, -0.999, 0.999))
    w, *_ = np.linalg.lstsq(a, target, rcond=None)
    weights = w[:-1].astype(np.float32)
    score = weights @ x  # in float32, as probability() computes it
    return weights, float(np.quantile(score[prob > lo], 1 - keep))


def broad_pieces(mask: np.ndarray, min_width_px: float) -> np.ndarray:
    """The 8-connected pieces of ``mask`` whose mean width (area over centre-line length, px) is at least ``min_width_px``."""
    n, lab, st = label(mask)
    length = np.maximum(np.bincount(lab[centre_lines(mask, (lab, range(1, n), st))], minlength=n), 1)  # labelled once
    broad = np.bincount(lab.ravel(), minlength=n) / length >= min_width_px
    broad[0] = False
    return broad[lab]


#: A pixel of a broad half-size piece is kept where it is this many noise sigmas darker than its 31 px median background
#: (feature 0): the piece's ends and rim, blurred at half size, are not (about 2 % of plain asphalt is that dark)
BROAD_DARKNESS = 2.0

N_PIECE_FEATURES = 11 + N_FEATURES
#: The half-size pass runs on images of at least twice this many pixels each way (its image at least this). 40, not 64
#: since crack-mlp 0.13.0: a photo taken three or four times closer than the training photos is decided at 160 x 107 or
#: 120 x 80 px, and without the pass its wider cracks were found at their edges or not at all (4x closer, untold, F1 at
#: 2 px 0.677 -> 0.705, models/crack-mlp/NOTEBOOK.md)
PYRAMID_MIN_PX = 40


def piece_features(prob: np.ndarray, feats: np.ndarray, lab: np.ndarray, ids: np.ndarray, stats: np.ndarray,
                   centre: np.ndarray | None = None, mask: np.ndarray | None = None) -> np.ndarray:
    """(len(ids), N_PIECE_FEATURES) float32 shape and contrast features of the pieces ``ids`` of a label image.

    Per piece: area (px), centre-line length (px), mean width (px), longer and shorter side of
    its box (px), elongation from its second moments, centre-line length over the longer box
    side, mean / max probability, share of probability above 0.8, the mean of each of the
    N_FEATURES pixel features, and the spread along its main axis (px). All by bincounts over the
    label image: no loop over pieces. ``centre``: :func:`centre_lines` of those pieces, and ``mask``: their pixels, if
    already known.
    """
    n = len(stats)
    if len(ids) == 0:
        return np.zeros((0, N_PIECE_FEATURES), np.float32)
    if mask is None:
        kept = np.zeros(n, bool)
        kept[ids] = True
        mask = kept[lab]
    inside = np.flatnonzero(mask)  # flat indices: one search, then cheap takes from each plane
    li = lab.ravel()[inside]
    ys, xs = np.divmod(inside, lab.shape[1])
    area = np.bincount(li, minlength=n).astype(np.float64)[ids]

    def mean(v: np.ndarray) -> np.ndarray:
        return np.bincount(li, weights=v, minlength=n)[ids] / area

    sk = centre_lines(mask, (lab, ids, stats)) if centre is None else centre
    length = np.maximum(np.bincount(lab[sk], minlength=n)[ids], 1).astype(np.float64)
    mx, my = mean(xs.astype(np.float64)), mean(ys.astype(np.float64))
    vxx = mean(xs.astype(np.float64) ** 2) - mx**2
    vyy = mean(ys.astype(np.float64) ** 2) - my**2
    vxy = mean(xs.astype(np.float64) * ys) - mx * my
    root = np.sqrt(((vxx - vyy) / 2) ** 2 + vxy**2)
    l1, l2 = (vxx + vyy) / 2 + root, np.maximum((vxx + vyy) / 2 - root, 0)
    bw, bh = stats[ids, cv2.CC_STAT_WIDTH], stats[ids, cv2.CC_STAT_HEIGHT]
    long_side, short_side = np.maximum(bw, bh), np.minimum(bw, bh)
    p = prob.ravel()[inside].astype(np.float64)
    pmax = np.zeros(n)
    np.maximum.at(pmax, li, p)
    cols = [area, length, area / length, long_side, short_side, np.sqrt(l1 / (l2 + 1e-3)), length / (long_side + 1),
            mean(p), pmax[ids], mean((p > 0.8).astype(np.float64))]
    cols += [mean(row) for row in np.take(feats.reshape(len(feats), -1), inside, axis=1).astype(np.float64)]  # one gather
    cols.append(np.sqrt(l1))
    return np.stack(cols, 1).astype(np.float32)


@dataclass(frozen=True)
class CrackMLP:
    """The trained network with its feature scaling and decision thresholds."""

    net: cv2.ml.ANN_MLP
    mean: np.ndarray
    std: np.ndarray
    candidate_min: float  # only pixels with a black-hat (r = 4) of at least this many sigma are classified
    hi: float
    lo: float
    min_extent_px: int
    version: str
    pieces: cv2.ml.RTrees | None = None  # judges each hysteresis piece (None only while training: probability() alone)
    piece_min: float = 0.5  # least forest score (expected share of a piece's pixels on a crack) to keep it
    core: float = 0.0  # in a kept piece, pixels at or below this probability are dropped unless on its centre line
    pyramid: bool = False  # also decide at half size (see decide)
    work_pixels: int = 0  # larger photos are decided at this many pixels and the result scaled back (0: never)
    broad_px: float = 0.0  # a half-size piece at least this wide (px, there) is added whole (0: never; see decide)
    gate: tuple[np.ndarray, float] | None = None  # (weights, least score) of fit_gate: candidates below it are not classified
    background_factor: int = 1  # the features' median background is taken at 1 / this size (see median_background)
    photo_gsd_m: float = 0.0  # the training photos' ground sample distance (m/px): photos said to be finer are shrunk to it (0: never)
    gsd_known: bool = False  # the GSD given to decide() was told, not assumed (see with_known_gsd)
    wide_ratio: float = 0.0  # cracks whose width ratio is above this are decided smaller when the GSD is not told (0: never)
    wide_trim: float = 0.0  # ... and their mask cut where less dark than this share of the crack's middle (see trim_to_profile)
    thin_ratio: float = 0.0  # a photo shrunk for its pixel count whose cracks' width ratio there is below this is decided larger

    @classmethod
    def load(cls, folder: Path) -> "CrackMLP":
        meta = json.loads((folder / "meta.json").read_text())
        fs = cv2.FileStorage(str(folder / "model.yml"), cv2.FILE_STORAGE_READ)
        node = fs.getNode("opencv_ml_ann_mlp")
        found = (node.getNode("activation_function").string(), node.getNode("f_param1").real(), node.getNode("f_param2").real())
        fs.release()
        if found != ("SIGMOID_SYM", *ACTIVATION_PARAMS):
            raise ValueError(f"{folder / 'model.yml'}: activation {found}; expected ('SIGMOID_SYM', *{ACTIVATION_PARAMS})")
        net = cv2.ml.ANN_MLP_load(str(folder / "model.yml"))
        forest = folder / "pieces.yml.gz"
        if not forest.is_file():
            raise FileNotFoundError(f"{forest} is missing: the model is model.yml, pieces.yml.gz and meta.json")
        return cls(net, np.asarray(meta["feature_mean"], np.float32), np.asarray(meta["feature_std"], np.float32),
                   float(meta["candidate_min"]), float(meta["hi"]), float(meta["lo"]), int(meta["min_extent_px"]), meta["version"],
                   cv2.ml.RTrees_load(str(forest)), float(meta["piece_min"]), float(meta["core"]), bool(meta["pyramid"]),
                   int(meta.get("work_pixels", 0)), float(meta.get("broad_px", 0.0)),
                   (np.asarray(meta["gate_weights"], np.float32), float(meta["gate_min"])) if "gate_weights" in meta else None,
                   int(meta.get("background_factor", 1)), float(meta.get("photo_gsd_m", 0.0)),
                   wide_ratio=float(meta.get("wide_ratio", 0.0)), wide_trim=float(meta.get("wide_trim", 0.0)),
                   thin_ratio=float(meta.get("thin_ratio", 0.0)))

    @cached_property
    def _folded(self) -> tuple[list[tuple[np.ndarray, np.ndarray]], tuple[float, float]]:
        return folded_layers(self.net, self.mean, self.std)

    def probability(self, gray: np.ndarray, feats: np.ndarray | None = None) -> np.ndarray:
        """Crack probability (0-1, float32) of every pixel of a uint8 grey image (``feats``: its :func:`crack_features`)."""
        f = crack_features(gray, self.background_factor) if feats is None else feats
        h, w = gray.shape
        planes = f.reshape(N_FEATURES, -1)
        if self.gate is None:
            cand = np.flatnonzero(planes[2] > self.candidate_min)
        else:  # the linear pre-screen: one product per pixel instead of the network's 700
            cand = np.flatnonzero((planes[2] > self.candidate_min) & (self.gate[0] @ planes > self.gate[1]))
        out = np.zeros(h * w, np.float32)
        if len(cand):
            r = forward(*self._folded, np.take(planes, cand, axis=1))  # np.take: faster than fancy indexing
            out[cand] = np.clip((r + 1) / 2, 0, 1)
        return out.reshape(h, w)

    @property
    def reach_px(self) -> int:
        """How far (px) from a pixel its features look: half the longest line's square window."""
        return 2 ** max(LINE_STEPS) // 2 + 1

    def work_factor(self, shape: tuple[int, ...], gsd_m: float | None = None) -> float:
        """The factor (<= 1) a photo of this (rows, cols) is resized by before it is decided (see :meth:`decide`).

        ``gsd_m``: the photo's ground sample distance (m/px) where it is known. A photo finer than the
        training photos' (``photo_gsd_m``) by more than ``GSD_SHRINK_FROM`` is decided at their GSD: its
        cracks are as many pixels wide as the network learned. Never below ``MIN_WORK_SIDE_PX`` a side.
        """
        n = shape[0] * shape[1]
        limit = max(self.work_pixels, KNOWN_GSD_WORK_PIXELS) if self.gsd_known and self.work_pixels else self.work_pixels
        f = 1.0 if not limit or n <= limit else math.sqrt(limit / n)
        if gsd_m and self.photo_gsd_m and gsd_m * GSD_SHRINK_FROM < self.photo_gsd_m:
            f = min(f, max(gsd_m / self.photo_gsd_m, MIN_WORK_SIDE_PX / max(min(shape[:2]), 1)))
        return min(f, 1.0)

    def with_known_gsd(self) -> "CrackMLP":
        """This model for photos whose GSD is told (``detect-image --gsd-m``), not assumed.

        Without it, a photo of more than ``work_pixels`` pixels is taken to show the same road with
        more pixels, so wider cracks, and is shrunk. With the GSD told its cracks are as wide as that
        GSD says: it is shrunk only to the training GSD (:meth:`work_factor`) and, for memory, to
        ``KNOWN_GSD_WORK_PIXELS``. A large photo of thin cracks keeps its resolution
        (models/crack-mlp/NOTEBOOK.md, ``score_cracks.py --tile N --gsd-known``).
        """
        return replace(self, gsd_known=True)

    def reach_for(self, shape: tuple[int, ...], gsd_m: float | None = None) -> float:
        """:attr:`reach_px` in the pixels of a photo of this shape (and GSD, see :meth:`work_factor`)."""
        return self.reach_px / self.work_factor(shape, gsd_m)

    def _decide_one(self, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """(probability, mask, pixel features, centre lines) at this image's size: hysteresis pieces the forest keeps,
        trimmed to their core. The centre lines are those of every hysteresis piece (None where there is none)."""
        f = crack_features(gray, self.background_factor)
        prob = self.probability(gray, f)
        lab, ids, st = hysteresis_pieces(prob, self.hi, self.lo, self.min_extent_px)
        if len(ids) == 0:
            return prob, np.zeros(gray.shape, bool), f, None
        keep = np.zeros(len(st), bool)
        keep[ids] = True
        mask = keep[lab]  # the pieces: gathered once, for their centre lines, their features and the result
        centre = centre_lines(mask, (lab, ids, st))  # thinned once: for the pieces' lengths and for the core trim
        score = self.pieces.predict(piece_features(prob, f, lab, ids, st, centre, mask))[1].ravel()
        for i in ids[score < self.piece_min]:  # the few pieces the forest drops, each cleared in its own box
            x, y, w, h = st[i, :4]
            mask[y : y + h, x : x + w] &= lab[y : y + h, x : x + w] != i
        return prob, trim_to_core(mask, prob, self.core, centre & mask), f, centre

    def decide(self, gray: np.ndarray, gsd_m: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(crack probability, crack mask) of a uint8 grey image: the hysteresis pieces the forest keeps.

        ``gsd_m`` (m/px), where known: a photo taken closer than the training photos is decided at
        their GSD (:meth:`work_factor`).

        A photo of more than ``work_pixels`` pixels is decided at that size and the result scaled
        back (bilinear, cut half way). Its features are in pixels: more pixels for the same
        framing make each crack wider than the network learned. CrackForest resized 3x scores
        F1 0.63 at 2 px on 001-118 without this and 0.77 with it (models/crack-mlp/NOTEBOOK.md).

        With ``pyramid``, the same is done on the image at half size, and its pieces are added
        where the full-size probability is above ``lo``: a crack wider than the features' scales
        (a photo taken closer than the training photos) is found at half size and marked by its
        middle, where the full-size probability agrees (detect_cracks measures its width from the
        black-hat core around that mark). A half-size piece at least ``broad_px`` wide there (mean
        width, area over centre-line length) is added whole: so wide a crack the full-size
        features see only at its edges.

        A photo whose GSD was not told (:meth:`with_known_gsd`), decided at its own size or shrunk for
        its pixel count alone, whose cracks look wide there, or whose cracks neither pass sees, may
        have been taken closer than the training photos: it is decided again smaller, as far down as
        its cracks still look wide (:meth:`_decide_closer`), and the mask scaled back is cut to each
        crack's own dark profile (:func:`trim_to_profile`). A photo said to be finer than the training
        photos is not guessed at again that way. The other way round, a photo shrunk for its pixel
        count alone whose cracks look thin at the working size (ratio below ``thin_ratio``) shows thin
        cracks on many pixels: it is decided again at full size, up to ``KNOWN_GSD_WORK_PIXELS`` (as
        when its GSD is told).
        """
        return self.decide_sized(gray, gsd_m)[:2]

    def decide_sized(self, gray: np.ndarray, gsd_m: float | None = None) -> tuple[np.ndarray, np.ndarray, float]:
        """:meth:`decide`, and the factor (<= 1) the photo was decided at in the end."""
        f = self.work_factor(gray.shape, gsd_m)
        prob, mask, seen = self._decide_at(gray, f)
        if self.gsd_known:
            return prob, mask, f
        f2 = self._larger_size(gray.shape, f, seen.ratio) if f < 1 else None
        if f2 is not None:
            prob, mask, _ = self._decide_at(gray, f2)
            return prob, mask, f2
        if f == 1 or f == self.work_factor(gray.shape):  # its own size, or shrunk for its pixel count: a guess
            closer = self._decide_closer(gray, seen, f)
            return closer if closer is not None else (prob, mask, f)
        return prob, mask, f

    def _decide_closer(self, gray: np.ndarray, seen: Seen, base: float = 1.0) -> tuple[np.ndarray, np.ndarray, float] | None:
        """(probability, mask, factor) of a photo decided at ``base`` (1: its own size; below: shrunk for its pixel count), its
        GSD not told, whose cracks looked like this (``seen``) there, decided again smaller because it was taken closer
        than the training photos; None to keep the first decision. Sizes are ``base`` times:

        - a half, or a third from ``WIDE_THIRD_FROM`` times ``wide_ratio`` on, where the full-size pass's cracks look
          wider than the training cracks (ratio above ``wide_ratio``), in a photo decided at its own size. Not in a
          shrunk one: there a crack a little wider than the training ones is found well as it is, and decided smaller
          still it came back wider than itself (painted 12 and 24 px cracks in 1632 x 1152 px photos lost 0.05 and
          0.02 F1);
        - a third, where they look clearly wide even to the half-size pass (``WIDE_AT_HALF``) while the full-size
          pass found too little to measure or only the crack's edges, which look like two thin cracks;
        - a third on trial, where they look wide to the half-size pass (``WIDE_TRIAL_AT_HALF``) but not clearly so:
          kept only where it marks ``WIDE_TRIAL_GROWTH`` times as much as the first decision (a wide crack found in
          part), not where it marks about as much (a crack the half-size pass found whole);
        - ``WIDE_PROBE``, where neither pass sees anything, or what they mark is a sliver (less than ``LITTLE_SHARE``
          of the photo): a crack too wide for both may be there, found at most at a few pieces of its edges. Where
          nothing is seen at ``WIDE_PROBE`` either, the look goes on down ``WIDE_SIZES`` until something is (a 48 px
          crack in a photo of 544 x 384 px is found at a sixth of its size, crack-mlp 0.11.0). What is found is kept
          only where it is ``LITTLE_GROWTH`` times as much as the sliver and ends up looking as wide as the training
          cracks, clearly wider, or still wide at the smallest size there is.

        From there it goes on down ``WIDE_SIZES`` while the cracks still look wide and something is found (never below
        ``MIN_WORK_SIDE_PX`` a side). The mask scaled back is cut to each crack's own dark profile
        (:func:`trim_to_profile`).
        """
        if not self.wide_ratio:
            return None
        least = MIN_WORK_SIDE_PX / max(min(gray.shape[:2]), 1)
        sizes = [base * s for s in WIDE_SIZES if base * s >= least]  # never below MIN_WORK_SIDE_PX a side
        probe = trial = False
        if seen.ratio > self.wide_ratio and base == 1:
            f = self._wide_factor(seen.ratio)
        elif seen.half_ratio > WIDE_AT_HALF * self.wide_ratio:
            f = base / 3
        elif (not seen.anything or seen.share < LITTLE_SHARE) and base * WIDE_PROBE >= least:
            f, probe = base * WIDE_PROBE, True
        elif seen.half_ratio > WIDE_TRIAL_AT_HALF * self.wide_ratio:
            f, trial = base / 3, True
        else:
            return None
        f = max(f, least)
        if f >= base:
            return None
        first = seen
        prob, mask, seen = self._decide_at(gray, f)
        if probe:  # nothing there either: a crack wider still is seen at a smaller size
            for smaller in [s for s in sizes if s < f]:
                if seen.anything:
                    break
                f = smaller
                prob, mask, seen = self._decide_at(gray, f)
        if probe and (not seen.anything or seen.share < LITTLE_GROWTH * first.share):
            return None
        if trial and seen.share < WIDE_TRIAL_GROWTH * first.share:
            return None
        stepped = False
        while seen.wide(self.wide_ratio):
            smaller = [s for s in sizes if s < f]
            if not smaller:
                break
            p2, m2, s2 = self._decide_at(gray, smaller[0])
            if not s2.anything:
                break
            f, prob, mask, seen, stepped = smaller[0], p2, m2, s2, True
        smallest = not sizes or f == sizes[-1]
        if probe and not (0 < seen.ratio <= self.wide_ratio or seen.ratio > WIDE_AT_HALF * self.wide_ratio
                          or (seen.ratio > 0 and stepped and smallest)):
            return None
        return prob, trim_to_profile(mask, gray, max(WIDE_TRIM_MIN_RADIUS_PX, WIDE_TRIM_RADIUS_PX / f), self.wide_trim), f

    def _larger_size(self, shape: tuple[int, ...], f: float, ratio: float) -> float | None:
        """The factor to decide a photo of this shape again at, its GSD not told, after a first decision at ``f`` < 1
        whose cracks had this width ratio (see :meth:`decide`); None to keep the first decision."""
        if self.thin_ratio and 0 < ratio < self.thin_ratio and f == self.work_factor(shape):
            # shrunk for its pixel count alone (not told finer), and its cracks look thin there
            f2 = min(1.0, math.sqrt(KNOWN_GSD_WORK_PIXELS / (shape[0] * shape[1])))
            return f2 if f2 > f else None
        return None

    def _decide_at(self, gray: np.ndarray, f: float) -> tuple[np.ndarray, np.ndarray, Seen]:
        """(probability, mask, how wide its cracks look) of :meth:`decide` with the photo resized by ``f`` (<= 1) and
        scaled back. The width ratios are those of :func:`width_ratio` at the working size."""
        h, w = gray.shape
        if f < 1:
            small = cv2.resize(gray, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
            prob_s, mask_s, seen = self._decide_scaled(small)
            prob = cv2.resize(prob_s, (w, h), interpolation=cv2.INTER_LINEAR)
            return prob, cv2.resize(mask_s.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) >= 0.5, seen
        return self._decide_scaled(gray)

    def _wide_factor(self, ratio: float) -> float:
        """How much smaller to decide a photo whose cracks have this width ratio (see :meth:`_decide_at`): 1 (as it is),
        1/2, or 1/3 from ``WIDE_THIRD_FROM`` times ``wide_ratio`` on (never, with ``wide_ratio`` 0)."""
        if not self.wide_ratio or ratio <= self.wide_ratio:
            return 1.0
        return 0.5 if ratio < WIDE_THIRD_FROM * self.wide_ratio else 1 / 3

    def half_size(self, gray: np.ndarray) -> np.ndarray | None:
        """The image the half-size pass decides (see :meth:`decide`), or None where that pass does not run."""
        h, w = gray.shape
        if not self.pyramid or min(h, w) < 2 * PYRAMID_MIN_PX:
            return None
        return cv2.resize(gray, (w // 2, h // 2), interpolation=cv2.INTER_AREA)

    def _decide_scaled(self, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, Seen]:
        """:meth:`decide` at this image's own size: the full-size pass, then the half-size pass added to it; and how
        wide the cracks of each pass look (see :meth:`_decide_at`)."""
        prob, mask, feats, centre = self._decide_one(gray)
        ratio = width_ratio(feats, centre, mask, WIDE_MIN_CENTRE_PX) if self.wide_ratio or self.thin_ratio else 0.0
        half_ratio = 0.0
        h, w = gray.shape
        small = self.half_size(gray)
        if small is not None:
            _, half, half_feats, half_centre = self._decide_one(small)
            if self.wide_ratio:  # at half size a quarter of the pixels: half as many on a centre line
                half_ratio = width_ratio(half_feats, half_centre, half, WIDE_MIN_CENTRE_PX // 2)
            wide = cv2.resize(half.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
            mask |= wide & (prob > self.lo)
            broad = broad_pieces(half, self.broad_px) if self.broad_px > 0 else None
            if broad is not None and broad.any():  # too wide for the full-size features to agree anywhere but its edges
                up = cv2.resize(broad.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) >= 0.5
                mask |= up & (feats[0] < -BROAD_DARKNESS)  # where the full-size pixel is darker than its background
        return prob, mask, Seen(ratio, half_ratio, np.count_nonzero(mask) / mask.size)

    def mask(self, gray: np.ndarray, gsd_m: float | None = None) -> np.ndarray:
        """Crack pixels of a uint8 grey image (``gsd_m``: see :meth:`decide`)."""
        return self.decide(gray, gsd_m)[1]


def default_model_dir() -> Path:
    """``models/crack-mlp`` of this repository (or ``$SCHOUW_MODELS/crack-mlp``)."""
    import os

    root = Path(os.environ.get("SCHOUW_MODELS", Path(__file__).resolve().parents[3] / "models"))
    return root / "crack-mlp"
