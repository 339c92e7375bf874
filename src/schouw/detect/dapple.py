"""Dappled shade on a road photo: each patch of shade lifted to the light round it (pure, pixel space).

Leaves cast shade in many patches with sharp, soft-edged borders. A median of the light
(:func:`schouw.detect.light.even_light`) follows patches some 80 px across only in part: cracks in
them stay faint and the rims left at their borders raise the photo's noise level, which every crack
feature is divided by (crack-mlp), so faint cracks are lost in the sun too. Shade multiplies the
light by one factor, so it is modelled so: the patches are found on a sharp light (a closing, so
dark lines stay out of it), each gets its own factor (its median grey over that of the sun round
it), and the border's softness and place are fitted to the photo (the model whose lifted grey
levels vary least with the distance to the border). A dark object (a car, people, a grate) is
darker than the road but not the road's texture in less light: a patch whose spread of grey
levels relative to its median is not the sun's is not shade, and with too few patches of shade the
photo is left to its caller's light. A light cast shadow, too mild for the median light to lift, is
lifted here too, as one patch. What one fitted border leaves where the borders curve is mended from the lifted
photo itself (:func:`mend_border`).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .base import disk, odd

#: The sharp light: a closing with a disk of this radius (px of the half-size image: dark lines under about 24 px wide
#: stay out of it), then a median of this size
CLOSE_RADIUS, SHARP_MEDIAN = 6.0, 5
#: A patch's factor: its median grey this far inside its border over that of the sun within ``RING_RADIUS`` of it (px
#: of the half-size image)
CORE_RADIUS, RING_RADIUS = 2.0, 8.0
#: ... and the patch is shade only where its relative spread of grey levels (interquartile range over median) is
#: within this factor of the sun's round it (the dappled CrackForest photos: 0.74-1.27; two dark patches beside
#: the kerb of CFD 309: 2.5 and 7.4; a throwaway listing) ...
TEXTURE_FACTOR_MAX = 1.6
#: ... where its factor is below this (a patch only a little darker is left to the median light: gully grates and a
#: manhole's surround in CFD 303, 322 and 326 make such patches, 0.84-0.96) ...
FACTOR_MAX = 0.8
#: ... and where it holds a disk of this radius (px of the half-size image; 8 px at full size)
PATCH_RADIUS = 4.0
#: The border's softness (px, the sigma of a blurred step) and its offset from the thresholded border (px, + into
#: the sun) are chosen from these, in two rounds of one then the other, over pixels within ``BAND_PX`` of it. All three
#: are for a photo lifted at half size (``s`` = 2), and scale with ``s`` / 2 (a large photo, lifted smaller)
SIGMAS_PX = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
#: ... or the border is a linear ramp of one of these full widths (px; a sigma times about sqrt(12) has the same
#: spread), whichever of the two shapes explains the light better. A penumbra cast on a smooth road is close to a
#: ramp, and a blurred step fitted to one leaves a dark line where the ramp ends: a false crack along the border
RAMPS_PX = (2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 14.0, 20.0, 28.0)
OFFSETS_PX = (-3.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0)
BAND_PX = 12
#: The fitted border is one shape and one offset for the whole photo, and a curved one is found to within a pixel or
#: two: within ``REFINE_PX`` of it the lifted light is mended by what is left of the border in the lifted photo, its
#: closing with a disk of ``REFINE_CLOSE`` px (cracks under about 6 px wide stay out of it) and a 5 px median, over
#: its ``REFINE_MEDIAN`` px median (the road's level either side). All three scale with the photo's ``s`` / 2. Chosen on
#: CrackForest 001-059 under score_cracks.py --alter dapple=0.5 / shadow=0.5 / dapple=0.7 (crack-mlp notebook)
REFINE_PX, REFINE_CLOSE, REFINE_MEDIAN = 6.0, 3.0, 21
#: ... the mending never more than this factor either way
REFINE_MAX = 1.4
#: The fit looks at no more than about this many pixels of the band (every k-th; a 480 x 320 photo has fewer in all)
FIT_PIXELS = 200_000
#: The shade's edge (no crack): within this share of the fitted softness of the border, and at least ``EDGE_MIN_PX``
EDGE_SHARE, EDGE_MIN_PX = 0.5, 1.5
#: ... or within this share of a ramp's width
RAMP_EDGE_SHARE = 0.5
#: The fit must explain the light: the lifted grey level's mean may vary with the distance to the border by at most
#: this share of it (root mean square; cast shadows and dappled shade 0.009-0.025, a car beside the kerb of CFD 315
#: 0.10), and the border must be sharper than the softest of ``SIGMAS_PX`` (CFD 024, a lighter surface beside a darker
#: one, fits the softest: it is no shadow's edge). Both throwaway listings
MISFIT_MAX = 0.05


def _relative_spread(v: np.ndarray) -> float:
    """Interquartile range over median of grey levels."""
    q1, q2, q3 = np.percentile(v, (25, 50, 75))
    return float(q3 - q1) / max(float(q2), 1.0)


def shade_share(z: np.ndarray) -> np.ndarray:
    """Share of shade (0-1) at ``z`` softness widths from a border, + into the sun (a normal CDF, in logistic form)."""
    return 1.0 / (1.0 + np.exp(np.clip(1.702 * z, -30.0, 30.0)))


def border_share(d: np.ndarray, ramp: bool, width: float) -> np.ndarray:
    """Share of shade (0-1) at ``d`` px from a border (+ into the sun): a blurred step of sigma ``width`` px
    (:func:`shade_share`), or with ``ramp`` a linear ramp ``width`` px wide from full shade to full sun."""
    if ramp:
        return np.clip(0.5 - d / width, 0.0, 1.0)
    return shade_share(d / width)


def shade_factors(half: np.ndarray, inside: np.ndarray) -> tuple[np.ndarray, int, float, np.ndarray]:
    """(light factor per pixel, 1 outside the patches lifted; how many patches; threshold; sharp light) of a half-size
    uint8 grey image.

    A pixel is in a patch where the sharp light is below the middle of the shade's and the sun's
    median light (split first by Otsu's threshold).
    """
    sharp = cv2.medianBlur(cv2.morphologyEx(half, cv2.MORPH_CLOSE, disk(CLOSE_RADIUS)), SHARP_MEDIAN)
    t, _ = cv2.threshold(sharp[inside].reshape(-1, 1), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    shade = (sharp <= t) & inside
    factors = np.ones(half.shape, np.float32)
    if not shade.any() or not (inside & ~shade).any():
        return factors, 0, float(t), sharp
    t = 0.5 * (float(np.median(sharp[shade])) + float(np.median(sharp[inside & ~shade])))
    shade = ((sharp <= t) & inside).astype(np.uint8)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(shade)
    sun_core = cv2.erode(((1 - shade) * inside).astype(np.uint8), disk(CORE_RADIUS)) > 0
    m = int(RING_RADIUS) + 1
    patches = 0
    for i in range(1, n):
        x, y, w, h = stats[i, :4]
        y0, x0 = max(y - m, 0), max(x - m, 0)
        win = np.s_[y0 : y + h + m, x0 : x + w + m]
        comp = (lab[win] == i).astype(np.uint8)
        core = cv2.erode(comp, disk(CORE_RADIUS)) > 0
        ring = (cv2.dilate(comp, disk(RING_RADIUS)) > 0) & sun_core[win]
        if core.sum() < 20 or ring.sum() < 20:
            continue
        patch, round_it = half[win][core], half[win][ring]
        k = float(np.median(patch)) / max(float(np.median(round_it)), 1.0)
        texture = _relative_spread(patch) / max(_relative_spread(round_it), 1e-3)
        if k >= FACTOR_MAX or not 1 / TEXTURE_FACTOR_MAX <= texture <= TEXTURE_FACTOR_MAX:
            continue
        framed = cv2.copyMakeBorder(comp, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)  # broad within the photo
        if float(cv2.distanceTransform(framed, cv2.DIST_L2, 3).max()) >= PATCH_RADIUS:
            factors[win][comp > 0] = max(k, 0.05)
            patches += 1
    return factors, patches, float(t), sharp


def mend_border(lifted: np.ndarray, band: np.ndarray, unit: float) -> np.ndarray:
    """The float32 lifted grey image with what is left of the shade's border in ``band`` (bool, along the fitted
    border) divided out: the lifted photo's light there (a closing that keeps cracks out, then a median) over the
    road's level round it (a wider median), at most ``REFINE_MAX`` either way, faded in over a pixel at the band's
    edge. ``unit``: the photo's scale over that of a photo lifted at half size."""
    if not band.any():
        return lifted
    h, w = lifted.shape
    u8 = np.clip(lifted, 0, 255).astype(np.uint8)
    n = max(1, int(unit))  # a large photo is mended on a smaller copy (its cracks are as much wider)
    rest = unit / n
    if n > 1:
        u8 = cv2.resize(u8, (max(1, w // n), max(1, h // n)), interpolation=cv2.INTER_AREA)
    closed = cv2.medianBlur(cv2.morphologyEx(u8, cv2.MORPH_CLOSE, disk(REFINE_CLOSE * rest)), odd(5 * rest))
    level = cv2.medianBlur(closed, odd(REFINE_MEDIAN * rest)).astype(np.float32)
    r = np.clip((closed.astype(np.float32) + 1) / (level + 1), 1 / REFINE_MAX, REFINE_MAX)
    if n > 1:
        r = cv2.resize(r, (w, h), interpolation=cv2.INTER_LINEAR)
    weight = cv2.GaussianBlur(band.astype(np.float32), (0, 0), 1.0 * unit)
    return lifted / (1 + weight * (r - 1))


def lift_dapples(gray: np.ndarray, region: np.ndarray, half: np.ndarray, inside: np.ndarray, s: int,
                 least_patches: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(grey image, shadow edge) of a uint8 grey image with patches of shade, ``half`` its grey shrunk ``s`` times
    (``inside``: the region there); None where fewer than ``least_patches`` patches are shade, or where the fitted
    border does not explain the light (``MISFIT_MAX``).

    Each patch is divided by its light factor, blurred at its border as fitted; the shadow edge is
    the band along the borders (bool, the image's size).
    """
    h, w = gray.shape
    factors, patches, t, sharp = shade_factors(half, inside)
    if patches < least_patches:
        return None
    lifted = factors < 1
    # the border at full size: the sharp light enlarged and thresholded, near a lifted patch
    near = cv2.dilate(cv2.resize(lifted.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST), disk(s + 1)) > 0
    shade = (cv2.resize(sharp, (w, h), interpolation=cv2.INTER_LINEAR) <= t) & near & region
    if not shade.any():
        return None
    k_full = cv2.erode(cv2.resize(factors, (w, h), interpolation=cv2.INTER_NEAREST), disk(s + 1))
    # signed distance to the border (px, + in the sun), and each sunlit pixel's factor that of the nearest shade
    d_in = cv2.distanceTransform(shade.astype(np.uint8), cv2.DIST_L2, 5)
    d_out, nearest = cv2.distanceTransformWithLabels((~shade).astype(np.uint8), cv2.DIST_L2, 5,
                                                     labelType=cv2.DIST_LABEL_PIXEL)
    k_of = np.concatenate([[1.0], k_full[shade]]).astype(np.float32)  # labels number the shade pixels in raster order
    k = np.where(shade, k_full, k_of[nearest])
    d = np.where(shade, 0.5 - d_in, d_out - 0.5)
    unit = s / 2  # px of the grids above at this photo's size
    n_bins = 2 * BAND_PX + 1
    band = (np.abs(d) <= BAND_PX * unit) & region
    step = -(-int(np.count_nonzero(band)) // FIT_PIXELS)  # every step-th band pixel
    g_b, d_b, k_b = gray[band][::step].astype(np.float32), d[band][::step], k[band][::step]
    bins = np.clip(np.round(d_b / unit).astype(np.int64) + BAND_PX, 0, n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins).astype(np.float64)
    used = counts > 0
    if not used.any():
        return None

    level = float(np.average(np.bincount(bins, g_b, minlength=n_bins)[used] / counts[used], weights=counts[used]))

    def misfit(ramp: bool, width: float, offset: float) -> float:
        """How much the lifted grey level's mean varies with the distance to the border (its variance)."""
        lit = g_b / (1 - (1 - k_b) * border_share(d_b - offset, ramp, width))
        means = np.bincount(bins, lit, minlength=n_bins)[used] / counts[used]
        return float(np.average((means - np.average(means, weights=counts[used])) ** 2, weights=counts[used]))

    fits = []  # (misfit, ramp, width, offset) of each shape, its width and offset each chosen twice
    for ramp, widths in ((False, SIGMAS_PX), (True, RAMPS_PX)):
        width, offset = (4.0 if ramp else 2.0) * unit, 0.0
        for _ in range(2):
            width = min((v * unit for v in widths), key=lambda v: misfit(ramp, v, offset))
            offset = min((v * unit for v in OFFSETS_PX), key=lambda v: misfit(ramp, width, v))
        if width < widths[-1] * unit:  # the softest of a grid: no shadow's edge (CFD 024, light falling off)
            fits.append((misfit(ramp, width, offset), ramp, width, offset))
    if not fits:
        return None
    worst, ramp, width, offset = min(fits)
    if math.sqrt(worst) > MISFIT_MAX * max(level, 1.0):
        return None
    light = 1 - (1 - k) * border_share(d - offset, ramp, width)
    even = np.clip(mend_border(gray / light, np.abs(d - offset) <= REFINE_PX * unit, unit), 0, 255).astype(np.uint8)
    # the edge: the ramp itself, or within EDGE_SHARE of the step's sigma
    half = RAMP_EDGE_SHARE * width if ramp else EDGE_SHARE * width
    return even, np.abs(d - offset) <= max(EDGE_MIN_PX * unit, half)
