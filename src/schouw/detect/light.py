"""Uneven light on a road photo: a cast shadow or light falling off across it (pure, pixel space).

Every crack feature compares a pixel with its surroundings in grey levels, scaled by the
photo's one noise level. Under a cast shadow a crack is only as dark as the shadow lets it
be, and the shadow's edge is a dark line beside a bright one to some of the features.
:func:`even_light` lifts the darker parts of a photo to the light of its brighter ones
(never darkens: bright paint stays bright) and marks the band where the light itself changes
steeply: a shadow's edge, which is no crack. Photos lit evenly are returned as they are.
Dappled shade (the dark part in several broad patches), a shadow too light for the median
(uneven by less than ``ratio_max``), and since road-classic 0.38.0 one cast shadow whose patch passes the guards of
:mod:`.dapple`, are lifted patch by patch instead; the median is what is left for the rest.

The light is the grey level's median over about ``factor * LIGHT_KERNEL`` px (a 15 px median of
the image shrunk ``factor`` times; 60 px by default): several times wider than a crack, and a
median keeps a shadow's edge where it is. A caller that judges a large photo at a smaller
working size passes a larger factor, so that a wide crack is never taken for the light.
"""

from __future__ import annotations

import cv2
import numpy as np

from .dapple import lift_dapples

LIGHT_FACTOR = 4
LIGHT_KERNEL = 15
#: Whether the light is uneven is judged first on a grid twice as coarse, with a 7 px median (about the same reach):
#: OpenCV's 15 px median (a histogram median) is the costly step, a 7 px one on a quarter of the pixels is far
#: cheaper, and most photos stop there
TRIGGER_KERNEL = 7
#: The bright reference: this percentile of the light in the region (a quarter may be paint or sunlit)
BRIGHT_PERCENTILE = 75
#: The dark end: this percentile of the light in the region
DARK_PERCENTILE = 2
#: ... and the light of the region's darker tenth must be at least this many times below the bright reference too: a
#: shadow or light falling off darkens a good part of a photo, a crack half as wide as the light's window (a close-up
#: of a wide crack) or a dark stain only a few per cent of it
SPREAD_PERCENTILE, SPREAD_RATIO_MIN = 10, 1.3
#: ... and that dark part must be broad: hold a disk of this radius (px of the coarse light, 2 * factor px each; at the
#: default factor a band of shade 60 px wide does. The three 32 and 40 px cracks of score_wide_cracks.py that darken a
#: tenth of their 544 x 384 photo give 3.3-3.7 where they bend: a throwaway listing)
BROAD_RADIUS = 4.0
#: One cast shadow is lifted as a patch of shade (:mod:`.dapple`) only where a broad patch of it touches at least this
#: share of the photo's frame: a wide crack darkens a band as broad as ``BROAD_RADIUS`` too, and lifted as a patch it
#: is gone. The painted 40-64 px cracks of score_wide_cracks.py touch 0.03-0.10 of it; CrackForest photos under a
#: shadow over half of them 0.49-0.50, over a sixth (its line 110 px off the middle) 0.20-0.35 (throwaway listings).
#: Otherwise the shadow is evened the median way as before
SHADOW_FRAME_SHARE = 0.15
#: Dappled shade: the dark part falls in at least this many patches that each hold a disk of ``PATCH_RADIUS`` (px of
#: the coarse light, 16 px at the default factor). Of the 155 CrackForest photos none does; of the 118 under the
#: dappled shade of score_cracks.py --alter dapple=0.5, 106 do (a throwaway listing)
DAPPLE_PATCHES, PATCH_RADIUS = 2, 2.0
#: ... or the light part does, in at least this many: sunflecks in one patch of shade. The 12 of those 118 photos whose
#: shade is one patch have 3-6; the CrackForest photos with a cast shadow 1 or 2 (a shadow across the photo leaves
#: the sun on both sides of it). A throwaway listing
SUNFLECK_PATCHES = 3
#: Sunflecks over less than a quarter of the photo leave its brighter quarter in the shade, so the photo looks evenly
#: lit. Its light at this percentile is then compared with its median too: above ``patch_ratio_max`` times it, with
#: ``SUNFLECK_PATCHES`` broad patches that bright (within ``SPREAD_RATIO_MIN`` of it), the photo is dappled
FLECK_PERCENTILE = 98


def light_level(gray: np.ndarray, region: np.ndarray, factor: int = LIGHT_FACTOR,
                kernel: int = LIGHT_KERNEL) -> tuple[np.ndarray, np.ndarray]:
    """The light of a uint8 grey image at 1 / ``factor`` of its size (uint8; a ``kernel`` px median there), and the region
    there (bool).

    Pixels outside ``region`` (no-data, verges) are taken at the region's median first, so they
    neither darken nor brighten the light at the region's edge.
    """
    h, w = gray.shape
    size = (max(1, w // factor), max(1, h // factor))
    small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    inside = cv2.resize(region.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    if not inside.all() and inside.any():
        small[~inside] = np.uint8(np.median(small[inside]))
    return cv2.medianBlur(small, kernel), inside


def patch_shapes(light: np.ndarray, inside: np.ndarray, bright: float,
                 lit: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(radius, frame share) of each patch of the light's dark part (at least ``SPREAD_RATIO_MIN`` times below
    ``bright``, in ``inside``), or with ``lit`` of the rest of ``inside``: the radius (px of ``light``) of the largest
    disk within it, and the share of the light's frame (its outermost rows and columns) that it touches. Two float32
    arrays, one value per patch, empty where there is none.

    A shadow or light falling off is broad (``BROAD_RADIUS``); the light a wide crack leaves in the median is a thin
    band along its middle. Dappled shade falls in several broad patches (``PATCH_RADIUS``). A cast shadow reaches
    beyond the photo along a good part of its frame (``SHADOW_FRAME_SHARE``), a crack only where it crosses it.
    """
    dark = (light.astype(np.float32) * np.float32(SPREAD_RATIO_MIN) < bright) & inside
    part = ((~dark & inside) if lit else dark).astype(np.uint8)
    if not part.any():
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    # broad within the photo: OpenCV would take what lies beyond the frame as dark, and a crack running out of it
    # obliquely would grow broad there
    framed = cv2.copyMakeBorder(part, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    n, lab = cv2.connectedComponents(framed)
    peak = np.zeros(n, np.float32)
    np.maximum.at(peak, lab.ravel(), cv2.distanceTransform(framed, cv2.DIST_L2, 3).ravel())
    inner = lab[1:-1, 1:-1]
    ring = np.concatenate([inner[0], inner[-1], inner[1:-1, 0], inner[1:-1, -1]])
    touch = np.bincount(ring, minlength=n).astype(np.float32) / np.float32(max(ring.size, 1))
    return peak[1:], touch[1:]


def patch_radii(light: np.ndarray, inside: np.ndarray, bright: float, lit: bool = False) -> np.ndarray:
    """The radii of :func:`patch_shapes`."""
    return patch_shapes(light, inside, bright, lit)[0]


def broad_patches(radii: np.ndarray) -> int:
    """How many of :func:`patch_radii` hold a disk of radius ``PATCH_RADIUS``."""
    return int(np.count_nonzero(radii >= PATCH_RADIUS))


def small_flecks(light: np.ndarray, inside: np.ndarray, ratio_min: float) -> bool:
    """Whether the light (at ``inside``) has sunflecks over less than a quarter of it (see ``FLECK_PERCENTILE``)."""
    hi, mid = np.percentile(light[inside], (FLECK_PERCENTILE, 50))
    if hi <= ratio_min * max(float(mid), 1.0):
        return False
    return broad_patches(patch_radii(light, inside, float(hi), lit=True)) >= SUNFLECK_PATCHES


def _lift_patches(gray: np.ndarray, region: np.ndarray, factor: int,
                  least_patches: int) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`~schouw.detect.dapple.lift_dapples` on the image at half ``factor``."""
    s = max(1, factor // 2)
    half, half_inside = light_level(gray, region, s, 1)
    return lift_dapples(gray, region, half, half_inside, s, least_patches)


def even_light(gray: np.ndarray, region: np.ndarray, ratio_max: float, step_max: float, factor: int = LIGHT_FACTOR,
               patch_ratio_max: float | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """(grey image, shadow edge) of :func:`even_light_how`."""
    return even_light_how(gray, region, ratio_max, step_max, factor, patch_ratio_max)[:2]


def even_light_how(gray: np.ndarray, region: np.ndarray, ratio_max: float, step_max: float, factor: int = LIGHT_FACTOR,
                   patch_ratio_max: float | None = None) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(grey image, shadow edge, way) of a uint8 grey image: lit evenly where the light in ``region`` is uneven. The way
    is ``"median"``, ``"shadow"`` (one cast shadow lifted as a patch), ``"patches"`` (dappled shade, or a light
    shadow) or ``""`` (left as it is).

    Uneven: the light of the region's brighter quarter (``BRIGHT_PERCENTILE``) is more than
    ``ratio_max`` times that of its darkest 2 % and more than ``SPREAD_RATIO_MIN`` times that of its darkest tenth,
    and that dark part is broad (a patch of it holds a disk of ``BROAD_RADIUS``, :func:`patch_radii`), judged on the
    coarser light (``TRIGGER_KERNEL``).
    Then every pixel is multiplied by the bright light over its own light (at least 1), and the
    shadow edge is where the light changes by more than ``step_max`` of itself over
    ``2 * factor`` px (bool, the image's size).
    With ``patch_ratio_max`` (below ``ratio_max``) the light need only be that many times uneven, and the photo is
    evened patch by patch (:func:`~schouw.detect.dapple.lift_dapples`, on the image at half ``factor``) where it is
    dappled (at least ``DAPPLE_PATCHES`` broad dark patches, as many of them shade, or ``SUNFLECK_PATCHES`` broad
    light ones) or uneven by no more than ``ratio_max`` (one patch of shade is enough there and among sunflecks).
    Uneven by more, one patch of shade is lifted so too where it reaches beyond the photo (``SHADOW_FRAME_SHARE``; way
    ``"shadow"``, since road-classic 0.38.0: the fitted border follows a cast shadow's edge more closely than the
    median does), and where it does not or the patch's guards fail, the photo is evened as above. A photo that looks
    even by its brighter quarter but has small sunflecks (:func:`small_flecks`) is lifted patch by patch too.
    Otherwise ``gray`` itself, None and ``""``. Photos under ``factor * LIGHT_KERNEL`` px a side are left as they are.
    """
    h, w = gray.shape
    if min(h, w) < factor * LIGHT_KERNEL or not np.isfinite(ratio_max):
        return gray, None, ""
    coarse, inside = light_level(gray, region, 2 * factor, TRIGGER_KERNEL)
    if not inside.any():
        return gray, None, ""
    dark, darker_tenth, bright = np.percentile(coarse[inside], (DARK_PERCENTILE, SPREAD_PERCENTILE, BRIGHT_PERCENTILE))
    dark, darker_tenth = max(float(dark), 1.0), max(float(darker_tenth), 1.0)
    least = min(ratio_max, patch_ratio_max if patch_ratio_max is not None else ratio_max)
    if bright <= least * dark or bright <= SPREAD_RATIO_MIN * darker_tenth:
        if patch_ratio_max is not None and small_flecks(coarse, inside, patch_ratio_max):
            lifted = _lift_patches(gray, region, factor, 1)
            if lifted is not None:
                return *lifted, "patches"
        return gray, None, ""
    dark_radii, dark_frame = patch_shapes(coarse, inside, float(bright))
    if not (dark_radii >= BROAD_RADIUS).any():
        return gray, None, ""
    many_dark = broad_patches(dark_radii) >= DAPPLE_PATCHES
    dappled = many_dark or broad_patches(patch_radii(coarse, inside, float(bright), lit=True)) >= SUNFLECK_PATCHES
    light_shadow = bright <= ratio_max * dark  # uneven between patch_ratio_max and ratio_max
    # one broad cast shadow too is lifted as a patch where the patch's guards hold (its border fitted, not the median's)
    cast = ((dark_radii >= BROAD_RADIUS) & (dark_frame >= SHADOW_FRAME_SHARE)).any()
    if dappled or light_shadow or cast:
        lifted = _lift_patches(gray, region, factor, DAPPLE_PATCHES if many_dark else 1)
        if lifted is not None:
            return *lifted, "patches" if dappled or light_shadow else "shadow"
    if light_shadow:  # too light for the median way
        return gray, None, ""
    small, inside = light_level(gray, region, factor)
    if not inside.any():
        return gray, None, ""
    bright = np.percentile(small[inside], BRIGHT_PERCENTILE)
    light = np.maximum(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32), np.float32(1))
    gain = np.maximum(np.float32(bright) / light, np.float32(1))
    even = np.clip(gray * gain, 0, 255).astype(np.uint8)
    gx = cv2.Sobel(light, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(light, cv2.CV_32F, 0, 1, ksize=3)
    # a 3 x 3 Sobel is 8 times the change per pixel: its magnitude / 8 * 2 factor is the change over 2 factor px
    step = cv2.magnitude(gx, gy) * np.float32(factor / 4) > np.float32(step_max) * light
    return even, step, "median"


#: A crack pixel in a shadow's edge band is kept where the crack crosses the band: the angle between the two (the
#: crack's course and the band's, each from the structure tensor of its mask) is at least this many degrees
CROSSING_MIN_DEG = 30.0


def along_band(mask: np.ndarray, band: np.ndarray, sigma_px: float = 3.0) -> np.ndarray:
    """The pixels of ``mask`` (bool) in ``band`` (bool, a shadow's edge band) that run along the band rather than across
    it: the band's own edge as a false crack. Courses from the structure tensor of each mask, smoothed over ``sigma_px``;
    a crack that crosses the band keeps its pixels there."""
    def course(m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f = cv2.GaussianBlur(m.astype(np.float32), (0, 0), 1.0)
        gx = cv2.Sobel(f, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(f, cv2.CV_32F, 0, 1, ksize=3)
        return tuple(cv2.GaussianBlur(a, (0, 0), sigma_px) for a in (gx * gx, gx * gy, gy * gy))

    inside = mask & band
    if not inside.any():
        return inside
    # only around the pixels in question: the smoothing reaches about 4 sigma (and the first blur and Sobel 3 px)
    ys, xs = np.nonzero(inside)
    pad = int(4 * sigma_px) + 4
    y0, y1 = max(int(ys.min()) - pad, 0), min(int(ys.max()) + pad + 1, mask.shape[0])
    x0, x1 = max(int(xs.min()) - pad, 0), min(int(xs.max()) + pad + 1, mask.shape[1])
    # the tensor's dominant axis is across a line (its gradient); doubled angles compare two axes without their sign
    mxx, mxy, myy = course(mask[y0:y1, x0:x1])
    bxx, bxy, byy = course(band[y0:y1, x0:x1])
    m2 = (mxx - myy, 2 * mxy)
    b2 = (bxx - byy, 2 * bxy)
    cos2 = (m2[0] * b2[0] + m2[1] * b2[1]) / (np.hypot(*m2) * np.hypot(*b2) + 1e-6)  # cos of twice the angle
    out = np.zeros_like(inside)
    out[y0:y1, x0:x1] = inside[y0:y1, x0:x1] & (cos2 > np.float32(np.cos(np.radians(2 * CROSSING_MIN_DEG))))
    return out
