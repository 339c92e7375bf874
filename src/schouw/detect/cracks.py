"""Cracks: thin dark lines on the road (black-hat, hysteresis on the tile's own noise, shape rules; pixel space, pure).

The threshold is a multiple of the tile's own black-hat noise level (robust sigma over the
road), so camera, exposure and asphalt texture change the threshold, not the result.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .base import (
    Defect,
    block_mean,
    block_up,
    crack_response,
    defects_mask,
    disk,
    label,
    labels,
    odd,
    padded,
    quick_percentile,
    robust_sigma_counted,
    subsample,
    tighten,
    to_gray,
)
from .alligator import alligator_areas
from .centre import measured_centre_line
from .covers import cover_ellipses, cover_patterns, cover_rims
from .grates import grate_slots
from .shadows import shadow_bands, shadow_lines
from .joints import straight_joints
from .light import LIGHT_FACTOR, along_band, even_light_how
from .road_params import RoadParams
from .widths import crack_width_px


def _pad1(a: np.ndarray) -> np.ndarray:
    """``a`` with a one-pixel border of zeros (np.pad costs ~25 us a call; a tile has hundreds of candidates)."""
    return cv2.copyMakeBorder(a, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)


def skeleton_length_px(mask: np.ndarray) -> tuple[float, np.ndarray]:
    """Centre-line length (pixels, diagonal steps count sqrt 2) and the skeleton of a binary mask."""
    m = mask.astype(np.uint8) * 255
    sk = cv2.ximgproc.thinning(_pad1(m), thinningType=cv2.ximgproc.THINNING_GUOHALL)[1:-1, 1:-1] > 0
    if not sk.any():
        return 0.0, sk
    orth = np.count_nonzero(sk[:, :-1] & sk[:, 1:]) + np.count_nonzero(sk[:-1, :] & sk[1:, :])
    diag = np.count_nonzero(sk[:-1, :-1] & sk[1:, 1:]) + np.count_nonzero(sk[:-1, 1:] & sk[1:, :-1])
    return _pairs_length(orth, diag), sk


def _pairs_length(orth: int, diag: int) -> float:
    """Length (px) of a non-empty skeleton with ``orth`` side-by-side and ``diag`` diagonal neighbour pairs; at least 1."""
    return max(float(orth + math.sqrt(2) * diag), 1.0)


#: Width (px) of the sheet that :func:`skeleton_lengths` packs crops onto, and the largest crop side (px) it packs
SHEET_WIDTH_PX = 1024
SHEET_MAX_SIDE_PX = 24


def skeleton_lengths(crops: list[np.ndarray]) -> list[tuple[float, np.ndarray]]:
    """:func:`skeleton_length_px` of many binary crops: the same lengths and skeletons, the small crops thinned in one call.

    Crops of at most ``SHEET_MAX_SIDE_PX`` a side are packed side by side on one sheet, each in
    its own frame of zeros. Thinning is local and stops for every crop where it would stop alone
    (a thinned crop does not change again), so one call gives each the skeleton it would get
    alone. A drone photo has about 170 crack candidates, most of them a few pixels. A big crop is
    thinned alone: on the sheet it would make every small one iterate as long as it does.
    """
    small = [k for k, c in enumerate(crops) if max(c.shape) <= SHEET_MAX_SIDE_PX]
    out: list[tuple[float, np.ndarray] | None] = [None] * len(crops)
    for k, res in zip(small, _sheet_lengths([crops[k] for k in small])):
        out[k] = res
    return [skeleton_length_px(c) if res is None else res for c, res in zip(crops, out)]


def _sheet_lengths(crops: list[np.ndarray]) -> list[tuple[float, np.ndarray]]:
    """:func:`skeleton_lengths` of crops of at most ``SHEET_MAX_SIDE_PX`` a side, packed on one sheet and thinned in one call."""
    if not crops:
        return []
    places, x, y, row_h = [], 0, 0, 0
    for c in crops:  # shelf packing: left to right, a new row when the sheet is full
        h, w = c.shape[0] + 2, c.shape[1] + 2
        if x and x + w > SHEET_WIDTH_PX:
            x, y, row_h = 0, y + row_h, 0
        places.append((y, x))
        x, row_h = x + w, max(row_h, h)
    sheet = np.zeros((y + row_h, SHEET_WIDTH_PX), np.uint8)  # every crop fits: at most SHEET_MAX_SIDE_PX wide
    slot = np.zeros(sheet.shape, np.int32)  # which crop's frame a pixel is in (1-based; 0 between frames)
    for k, (c, (y0, x0)) in enumerate(zip(crops, places), 1):
        h, w = c.shape
        sheet[y0 + 1 : y0 + 1 + h, x0 + 1 : x0 + 1 + w] = c.view(np.uint8) * np.uint8(255)
        slot[y0 : y0 + h + 2, x0 : x0 + w + 2] = k
    sk = cv2.ximgproc.thinning(sheet, thinningType=cv2.ximgproc.THINNING_GUOHALL) > 0
    n = len(crops) + 1
    # adjacent skeleton pixels are always in the same frame: count each pair at its first pixel
    orth = (np.bincount(slot[:, :-1][sk[:, :-1] & sk[:, 1:]], minlength=n)
            + np.bincount(slot[:-1, :][sk[:-1, :] & sk[1:, :]], minlength=n))
    diag = (np.bincount(slot[:-1, :-1][sk[:-1, :-1] & sk[1:, 1:]], minlength=n)
            + np.bincount(slot[:-1, 1:][sk[:-1, 1:] & sk[1:, :-1]], minlength=n))
    pixels = np.bincount(slot[sk], minlength=n)
    out = []
    for k, (c, (y0, x0)) in enumerate(zip(crops, places), 1):
        h, w = c.shape
        length = _pairs_length(orth[k], diag[k]) if pixels[k] else 0.0
        out.append((length, sk[y0 + 1 : y0 + 1 + h, x0 + 1 : x0 + 1 + w]))
    return out


def _cells(mask: np.ndarray, min_cell_px: float) -> int:
    """Closed cells of a crack network: holes in the mask of at least ``min_cell_px`` pixels.

    Interconnected (alligator / block) cracking encloses pieces of surface; a
    single crack, however ragged, encloses none.
    """
    cnts, hier = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hier is None:
        return 0
    return sum(1 for c, h in zip(cnts, hier[0]) if h[3] >= 0 and cv2.contourArea(c) >= min_cell_px)


def crack_scale_px(gsd_m: float, p: "RoadParams", work_factor: float = 1.0) -> float:
    """Black-hat radius (px): ``crack_max_width_m`` on the ground, at least ``crack_min_radius_px``, at most
    ``crack_max_radius_px``.

    The floor: a drone photo blurs a thin crack over a few pixels whatever its GSD, and a 9 px disk sees too little of
    the road beside it. RDD2022 scored as 3 cm per pixel hits 0.84 of the damage boxes with a 9 px disk (12 cm) and
    0.89 with an 11 px disk (``benchmarks/score_rdd.py --gsd-m 0.03``). From 2.7 cm per pixel down the metres decide.

    Measured on CrackForest (1.5 mm per pixel): an 80 px disk gives F1 0.55 @2px on 001-059,
    a 10 px disk 0.66, at an eighth of the time; at drone GSDs (>= 1.2 cm) the cap does not bite.
    ``work_factor``: a photo the learned stage decides at that fraction of its size
    (:meth:`~schouw.detect.crack_mlp.CrackMLP.work_factor`) has the cap in working-size pixels.
    """
    return float(min(max(p.crack_min_radius_px, p.crack_max_width_m / gsd_m), p.crack_max_radius_px / work_factor))


def principal_axis(xs: np.ndarray, ys: np.ndarray) -> tuple[float, float, float]:
    """(direction of the major axis in radians, its variance, the minor axis's variance) of points ``xs``, ``ys`` (px).

    The 2 x 2 covariance's eigen-decomposition in closed form.
    """
    x, y = xs - xs.mean(), ys - ys.mean()
    sxx, syy, sxy = float(x @ x) / len(x), float(y @ y) / len(y), float(x @ y) / len(x)
    root = math.sqrt(((sxx - syy) / 2) ** 2 + sxy**2)
    return 0.5 * math.atan2(2.0 * sxy, sxx - syy), (sxx + syy) / 2 + root, (sxx + syy) / 2 - root


def road_direction(area: np.ndarray, min_ratio: float = 2.0) -> float | None:
    """Principal direction (radians, image x axis, rows down) of a road mask, or None if it is not elongated.

    Elongated means the variance along the principal axis is at least ``min_ratio`` times the variance across it.
    Judged on every 4th pixel each way.
    """
    ys, xs = np.nonzero(area[::4, ::4])
    if xs.size < 50:
        return None
    angle, major, minor = principal_axis(xs, ys)
    return None if major < min_ratio * max(minor, 1e-9) else angle


def _orientation(sk: np.ndarray) -> float | None:
    ys, xs = np.nonzero(sk)
    return principal_axis(xs, ys)[0] if xs.size >= 5 else None


def _box_mean(mask: np.ndarray, f: int, win_px: float) -> np.ndarray:
    """Share of ``mask`` in a window of ``win_px`` around each pixel, computed on a grid ``f`` times coarser."""
    h, w = mask.shape
    small = block_mean(mask, f)  # a boolean mask: block sums
    k = odd(win_px / f, 3)
    box = cv2.boxFilter(small, -1, (k, k), borderType=cv2.BORDER_REFLECT)
    if f == 1:
        return box
    return block_up(box, f, (h, w))


def _beside_marking(gray: np.ndarray, rad: float, gsd_m: float, p: RoadParams, halo_px: float = 0.0) -> np.ndarray:
    """Pixels within ``max(rad, halo_px)`` of a painted marking stripe (bright, long and narrow).

    Beside a bright lane marking the plain asphalt is "darker than its surroundings" to a
    black-hat: a line of candidates that mostly hugs a marking is that artefact, not a crack.
    Markings are about a decimetre wide: the top-hat disk is at least ``marking_width_m`` in
    radius (at close range that is far more than ``rad``), on a grid coarse enough that the
    disk is about 5 px, and never finer than half resolution once the disk reaches 5 px.
    """
    r_px = max(rad, p.marking_width_m / gsd_m)
    f = max(2, int(r_px // 5)) if r_px >= 5 else 1
    h, w = gray.shape
    g = cv2.resize(gray, (w // f, h // f), interpolation=cv2.INTER_AREA) if f > 1 else gray
    r = r_px / f
    marking = cv2.morphologyEx(g, cv2.MORPH_TOPHAT, disk(r)) > p.marking_contrast
    n, lab, stats = label(marking)
    stripe = np.zeros(n, bool)
    for i in np.nonzero(stats[1:, cv2.CC_STAT_AREA] >= p.marking_min_area_m2 / (gsd_m * f) ** 2)[0] + 1:
        x, y, bw, bh = stats[i, :4]  # paint is a long stripe; a sunlit patch of aggregate is not
        pts = np.column_stack(np.nonzero(lab[y : y + bh, x : x + bw] == i)).astype(np.float32)
        (_, _), (a, b), _ = cv2.minAreaRect(pts)
        stripe[i] = max(a, b) >= 5 * max(min(a, b), 1.0)
    if not stripe.any():
        return np.zeros(gray.shape, bool)
    near = cv2.dilate(stripe[lab].astype(np.uint8), disk(max(rad, halo_px) / f + 1))
    if f > 1:
        near = cv2.resize(near, (w, h), interpolation=cv2.INTER_NEAREST)
    return near > 0


def _core_around(resp: np.ndarray, region: np.ndarray, crop: np.ndarray, r0: int, c0: int, thresh: float,
                 reach_px: float) -> np.ndarray:
    """Pixels with ``resp`` >= ``thresh`` within ``reach_px`` of ``crop`` (placed at r0, c0), inside ``region``.

    Returned on a window ``ceil(reach_px) + 1`` px larger than the crop on each side (clipped to the image).
    """
    m, win, _ = padded(crop, r0, c0, int(math.ceil(reach_px)) + 1, resp.shape)
    near = cv2.dilate(m, disk(reach_px)) > 0
    return near & (resp[win] >= thresh) & region[win]


def _lit_for(gray: np.ndarray, region: np.ndarray, p: RoadParams, work: float) -> tuple[np.ndarray, np.ndarray | None, str]:
    """:func:`~.light.even_light_how` of a photo decided at ``work`` (<= 1) of its size: the light judged on that size's
    scale (``LIGHT_FACTOR`` / ``work``), so that a crack as wide as the working size sees it is never taken for the light."""
    return even_light_how(gray, region, p.light_ratio_max, p.light_step_max, max(LIGHT_FACTOR, round(LIGHT_FACTOR / work)),
                          p.light_patch_ratio_max)


def _learned_look(gray: np.ndarray, region: np.ndarray, p: RoadParams, model, gsd_m: float,
                  work: float) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray]:
    """(grey image the crack measures read, shadow edge band or None, crack probability, crack mask) of the learned stage
    on a photo it decides first at ``work`` of its size, with the light evened on that size's scale (:func:`_lit_for`).

    A photo lifted the median way or as one cast shadow and then decided smaller than its pixels said (taken closer
    than guessed), whose light is even on the scale of that size, is decided again as it is: the band of "shade" on
    the finer scale was a crack that wide, filling the light's median. A shadow there at both scales stays lifted on
    the finer one, which follows its edge more closely; dappled shade, and a light shadow, lifted patch by patch are
    not judged again."""
    lit, shadow_edge, way = _lit_for(gray, region, p, work)
    prob, learned, decided = model.decide_sized(lit, gsd_m)
    if way in ("median", "shadow") and decided < work and not _lit_for(gray, region, p, decided)[2]:
        prob, learned, _ = model.decide_sized(gray, gsd_m)
        return gray, None, prob, learned
    return lit, shadow_edge, prob, learned


def detect_cracks(image: np.ndarray, valid: np.ndarray, area: np.ndarray, gsd_m: float, p: RoadParams = RoadParams(),
                  model=None) -> list[Defect]:
    """Thin dark lines on the road: black-hat, hysteresis threshold on the tile's own noise level, shape filter.

    With ``model`` (a :class:`~schouw.detect.crack_mlp.CrackMLP`, for close-range photos) its
    mask replaces the black-hat thresholds and the least length; the trap rules (paint, paving
    joints), the width and elongation rules and the measures stay. Its photo's light is evened
    first where a cast shadow makes it uneven, and the shadow's edge is no crack (:mod:`.light`).
    """
    region = valid & area
    if np.count_nonzero(region) < 100:
        return []
    gray = to_gray(image)
    work = model.work_factor(gray.shape, gsd_m) if model is not None else 1.0
    # the learned stage under a cast shadow: cracks in it as dark as in the sun, and its edge no crack (paint is judged
    # on the photo as it is). Not for the black-hat (drone) path: a black-hat does not take a step for a line, and on
    # the sample scene evening the light there gave false cracks (models/road-classic/NOTEBOOK.md)
    lit, shadow_edge = gray, None
    if model is not None:  # its light evened, and its decision, before the black-hat: both read the same grey image
        lit, shadow_edge, prob, learned = _learned_look(gray, region, p, model, gsd_m, work)
    scale = crack_scale_px(gsd_m, p, work)
    resp = crack_response(lit, scale)
    resp[~region] = 0
    # Do not let the border of the valid region (no-data edges, area borders) look like a crack.
    if region.all():  # erosion keeps a full image full (OpenCV's border does not erode): a photo has no edge
        edge = np.zeros(region.shape, bool)
    else:
        edge = cv2.erode(region.astype(np.uint8), disk(max(2.0, scale))) == 0
    base, sigma = robust_sigma_counted(subsample(resp[region]), 1.0)  # whole grey levels: counted, not sorted
    sigma = max(sigma, 1.0)
    strong_t = max(base + p.crack_k_sigma * sigma, p.crack_min_contrast)
    weak_t = max(base + p.crack_k_sigma_weak * sigma, 0.6 * p.crack_min_contrast)
    if model is not None:
        weak = learned & region & ~edge
        strong = prob > model.hi
        weak_t = 0.0
    else:
        weak = (resp >= weak_t) & region & ~edge
        strong = resp >= strong_t
    # Dense regular line patterns (paving joints) are not cracks. Densities over metres: on a coarse grid.
    win = p.crack_pattern_window_m / gsd_m
    fp = max(1, int(win // 16))
    density = _box_mean(weak, fp, win)
    if region.all():  # every window all region: the share is 1 (the same float32 threshold, not computed)
        pattern = density > np.float32(p.crack_max_density)
    else:
        pattern = density > p.crack_max_density * np.maximum(_box_mean(region, fp, win), 1e-3)
    weak &= ~pattern
    weak &= ~straight_joints(weak, region, gsd_m, p)  # slab joints: straight from edge to edge, where a crack wanders
    weak &= ~shadow_bands(weak, image, region, gsd_m, p)  # posts' shadows: straight and bluer than the road beside
    if shadow_edge is not None:
        weak &= ~along_band(weak, shadow_edge)
    # at close range, a round cover seen at an angle: an ellipse, its rim, frame and pattern (cut out, so a crack that
    # runs up to it is measured as far as the frame)
    covers = cover_ellipses(gray, gsd_m, p) if weak.any() else None
    if covers is not None:
        weak &= ~covers

    # the learned stage judges each piece, its length included (the forest of crack-mlp): no second length rule
    ref_len = p.crack_min_length_m / gsd_m
    min_len = 0.0 if model is not None else ref_len
    # the black-hat radius caps the width at close range; the learned stage has no such cap (half-size pass)
    # the width rule stays in metres: the radius floor widens the filter, not the widest crack
    max_w = min(scale, max(1.5, p.crack_max_width_m / gsd_m)) if model is None else p.crack_max_width_m / gsd_m
    road_dir = road_direction(area)
    cell_px = max(p.alligator_min_cell_m / gsd_m, p.alligator_min_cell_px) ** 2  # least area (px) of an enclosed cell
    out: list[Defect] = []
    rad = scale
    # the learned stage compares a pixel with windows up to its reach: paint darkens its view that far
    # (on CFD 309 a bright kerb would otherwise fill with cracks)
    beside_marking = _beside_marking(gray, rad, gsd_m, p, model.reach_for(gray.shape, gsd_m) if model is not None else 0.0)
    # the gap is capped in pixels: at close range 6 cm is 30 px, and linking that far gathers texture into the crack
    linked = cv2.dilate(weak.astype(np.uint8), disk(min(max(1.0, p.crack_link_gap_m / gsd_m / 2), 3.0)))
    candidates = list(_linked_candidates(linked, weak, strong, beside_marking, max(3, int(min_len * 0.5))))
    for (crop, r0, c0), (length, sk) in zip(candidates, skeleton_lengths([c[0] for c in candidates])):
        h, w = crop.shape
        if length < min_len:
            continue
        # Width from the crack's core (response above half its typical peak): the weak mask is widened by blur.
        core_t = max(weak_t, 0.5 * quick_percentile(resp[r0 : r0 + h, c0 : c0 + w][crop], 90))
        if model is None:
            core = (resp[r0 : r0 + h, c0 : c0 + w] >= core_t) & crop
        else:  # a wide crack found at half size is marked by its middle: its core may reach beyond the mask
            core = _core_around(resp, region, crop, r0, c0, core_t, max(1.0, scale / 2))
        width_px = float(core.sum()) / length
        if width_px > max_w or length / max(width_px, 1.0) < p.crack_min_elongation:
            continue
        contrast = float(resp[r0 : r0 + h, c0 : c0 + w][crop].mean())
        score = float(np.clip(0.5 + 0.5 * (contrast - strong_t) / strong_t + 0.1 * math.log10(length / ref_len + 1), 0.05, 1.0))
        if _cells(crop, cell_px) >= p.alligator_min_cells:
            subtype = "alligator"
        else:
            ang = _orientation(sk)
            if ang is None or road_dir is None:
                subtype = "longitudinal" if h >= w else "transverse"
            else:
                d = abs(math.remainder(ang - road_dir, math.pi))
                subtype = "longitudinal" if d < math.pi / 4 else "transverse"
        # the measures: the core's width is a pixel count (at least a pixel, and blurred); the crack's own comes from
        # the light it takes out of the road (detect.widths), also below a pixel. A wide crack marked by its middle
        # (learned stage, half size) is measured as far out as its core reaches.
        beyond = max(0.0, (width_px - float(crop.sum()) / length) / 2)
        # ... per unit of the length measured along the centre line without its spurs (detect.centre), at close range.
        # From a drone the black-hat's ragged masks made the widths read several times too wide already (CrackForest
        # shrunk 8 times: crack_widths.py), and a shorter length would make them wider still: there it is not used
        if model is not None:
            length, sk = measured_centre_line(sk, crop)
        mean_w, max_w_px = crack_width_px(gray, crop, sk, r0, c0, length, width_px, p.crack_interior_depth, beyond,
                                          region)
        out.append(
            Defect(
                "crack",
                crop,
                r0,
                c0,
                score,
                subtype,
                {"max_width_px": max_w_px, "mean_width_px": mean_w, "core_width_px": width_px, "contrast": contrast,
                 "length_px": length},
            )
        )
    # the dark gap round a manhole or gully cover is a ring of crack pieces seen from above (4.4 mm - 5 cm): no crack
    out = [d for d, rim in zip(out, cover_rims(out, region.shape, gsd_m, p)) if not rim]
    # ... and a cover's ring with its raised pattern, one piece of a cover's size in a perfect circle in the photo
    out = [d for d, on in zip(out, cover_patterns(gray, out, gsd_m, p)) if not on]
    # a gully grate's slots are parallel dark stripes (about 2 cm per pixel and finer): no crack
    out = [d for d, slots in zip(out, grate_slots(out, gray, gsd_m, p)) if not slots]
    # the shadow of a post or a kerb: a straight line, bluer than the road beside it (sky light only)
    out = [d for d, shade in zip(out, shadow_lines(out, image, region, gsd_m, p)) if not shade]
    _network_alligator(out, region.shape, cell_px, p)
    alligator_areas(out, region.shape, gsd_m, p)  # ... or an area of pieces running every way (a drone sees them broken)
    return out


def _linked_candidates(linked: np.ndarray, weak: np.ndarray, strong: np.ndarray, beside_marking: np.ndarray,
                       min_area_px: int):
    """Yield (crop, row0, col0): the weak pixels of each 8-connected component of ``linked`` (the weak mask with its
    gaps closed) of at least ``min_area_px`` px that holds a strong weak pixel, trimmed to their box, unless more than
    half of them lie beside a painted marking (``beside_marking``). In label order.

    The counts are taken for all components at once (bincounts over the label image): a drone photo has about 150
    components, most of them a few pixels, and a per-component look cost more than the rest of the loop.
    """
    n, lab, stats = label(linked)
    wanted = np.zeros(n, bool)
    wanted[lab[strong & weak]] = True
    wanted[0] = False
    wanted &= stats[:, cv2.CC_STAT_AREA] >= min_area_px
    n_weak = np.bincount(lab[weak], minlength=n)
    n_beside = np.bincount(lab[weak & beside_marking], minlength=n)
    for i in np.flatnonzero(wanted):
        if n_beside[i] / n_weak[i] > 0.5:  # as a share of its weak pixels; every wanted component holds one
            continue
        x, y, w, h = (int(v) for v in stats[i, :4])
        crop = (lab[y : y + h, x : x + w] == i) & weak[y : y + h, x : x + w]
        yield tighten(crop, y, x)


def _network_alligator(cracks: list[Defect], shape: tuple[int, int], cell_px: float, p: RoadParams) -> None:
    """Mark as ``alligator`` the cracks of a network that encloses surface pieces only once its gaps are closed.

    Alligator (block) cracking is found broken where its cracks thin out below a pixel (drone
    photos): in several pieces, or in one piece with gaps. Pieces and gaps closer than
    ``alligator_link_px`` are joined; a network whose joined mask encloses at least two cells of
    ``cell_px`` pixels is one alligator area. Measured on RDD2022 (benchmarks/score_rdd.py, crack
    subtype per box class).
    """
    if not cracks:
        return
    union = defects_mask(cracks, shape).view(np.uint8)
    r = max(1.0, p.alligator_link_px / 2)
    lab = labels(cv2.dilate(union, disk(r)))  # no statistics: a network's box is its pieces' boxes grown by the join
    nets = [int(lab[d.row0 + y, d.col0 + x]) for d in cracks for y, x in [divmod(int(np.argmax(d.mask)), d.mask.shape[1])]]
    grow = int(math.ceil(r)) + 1
    for i in set(nets):
        mine = [d for d, net in zip(cracks, nets) if net == i]
        y0 = max(min(d.row0 for d in mine) - grow, 0)
        x0 = max(min(d.col0 for d in mine) - grow, 0)
        y1 = min(max(d.row0 + d.mask.shape[0] for d in mine) + grow, shape[0])
        x1 = min(max(d.col0 + d.mask.shape[1] for d in mine) + grow, shape[1])
        if (y1 - y0) * (x1 - x0) >= 2 * cell_px and _cells(lab[y0:y1, x0:x1] == i, cell_px) >= 2:
            for d in mine:
                d.subtype = "alligator"
