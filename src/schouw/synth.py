"""A synthetic but realistic orthophoto with painted defects and their truth (``schouw synth``).

The scene (EPSG:28992, 2 cm/px, 2048 x 1536 px = 41 x 31 m): a lawn with dry
patches, a worn bare-soil path and tree shadows; a concrete-paver footpath
with weeds in the joints; an asphalt road with lane markings, three covers (a manhole, a valve cover, a rough lid), cracks of several
widths (one crossing a tile seam), two alligator-cracked patches (one as a drone sees it, broken) and two
potholes; a lawn below; and a no-data corner (internal mask) whose hidden
pixels look like dry grass, so ignoring the mask would show. Fully
deterministic: the same code writes the same bytes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import rasterio
import shapely
from affine import Affine
from rasterio.crs import CRS

from .vectorize import mask_to_geometry

SEED = 20261128
GSD_M = 0.02
WIDTH, HEIGHT = 2048, 1536
ORIGIN_RD = (127400.0, 428530.72)  # top-left corner, Gorinchem area
GULLY_PX = (800, 880)  # centre of the sample's gully grate (column, row)
POST_SHADOW_PX = ((470, 590), (590, 670))  # ends of the sample's lamp-post shadow (column, row)
VALVE_COVER_PX = (1570, 850, 7.5)  # the sample's valve cover: centre (column, row) and lid radius (30 cm)
ROUGH_COVER_PX = (620, 900, 17.5)  # the sample's cover with a rough lid: centre and radius (70 cm)
BROKEN_ALLIGATOR_PX = ((115, 225), (610, 720))  # where the broken alligator patch's cracks are centred (columns, rows)
BROKEN_OUT_PX = (1850, 860, 22.5)  # the sample's broken-out pothole: centre (column, row) and radius (45 cm)
ROWS = {"lawn_top": (0, 400), "footpath": (400, 560), "road": (560, 960), "lawn_bottom": (960, 1536)}


@dataclass
class Scene:
    rgb: np.ndarray  # (H, W, 3) float32 0-255
    valid: np.ndarray  # (H, W) bool
    truth: list[dict] = field(default_factory=list)


def _noise(rng: np.random.Generator, shape: tuple[int, int], scale_px: float) -> np.ndarray:
    """Smooth noise, zero mean and unit std, with features about ``scale_px`` across."""
    small = (max(2, int(shape[0] / scale_px) + 2), max(2, int(shape[1] / scale_px) + 2))
    n = rng.standard_normal(small).astype(np.float32)
    n = cv2.resize(n, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    return (n - n.mean()) / (n.std() + 1e-6)


def _blob(rng: np.random.Generator, shape, cx: float, cy: float, rx: float, ry: float, rough: float = 0.35, soft_px: float = 6):
    """Soft irregular patch: (alpha in 0..1 over the full image, crisp truth mask at alpha >= 0.5)."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    d = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)
    f = 1.0 - d + rough * _noise(rng, shape, min(rx, ry) / 1.5) * 0.5
    alpha = np.clip(0.5 + f * (min(rx, ry) / soft_px), 0, 1)
    return alpha, alpha >= 0.5


def _lawn(rng, shape) -> np.ndarray:
    base = np.array([72, 118, 48], np.float32)
    var = 1.0 + 0.08 * _noise(rng, shape, 80)[..., None]
    hue = 0.04 * _noise(rng, shape, 150)
    blades = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (1, 5), 0) * 22
    img = base * var
    img[..., 0] += hue * 40
    img += blades[..., None] * np.array([0.6, 1.0, 0.5], np.float32)
    return img


def _asphalt(rng, shape) -> np.ndarray:
    base = np.array([92, 92, 96], np.float32)
    img = base * (1.0 + 0.05 * _noise(rng, shape, 60))[..., None]
    img += (rng.standard_normal(shape).astype(np.float32) * 9)[..., None]
    speck = rng.random(shape) < 0.01
    img[speck] += rng.choice([-35.0, 45.0], size=int(speck.sum()))[:, None]
    return img


def _pavers(rng, shape) -> np.ndarray:
    h, w = shape
    img = np.empty((h, w, 3), np.float32)
    pw, ph = 10, 5  # 20 x 10 cm pavers at 2 cm/px, half-brick bond
    for r in range(0, h, ph):
        off = (r // ph % 2) * (pw // 2)
        for c in range(-off, w, pw):
            tone = 150 + rng.normal(0, 9)
            img[r : r + ph, max(c, 0) : c + pw] = (tone, tone - 2, tone - 6)
            img[r : r + ph, max(c, 0) : max(c, 0) + 1] = 82  # vertical joint
        img[r : r + 1, :] = 82  # horizontal joint
    img += (rng.standard_normal(shape).astype(np.float32) * 6)[..., None]
    return img


def _random_walk(rng, start, angle, n, step_px, jitter_deg):
    pts = [np.array(start, np.float64)]
    a = angle
    for _ in range(n):
        a += math.radians(rng.normal(0, jitter_deg))
        pts.append(pts[-1] + step_px * np.array([math.cos(a), math.sin(a)]))
    return np.array(pts)


def _paint_line(img, pts, width_px, darkness):
    m = np.zeros(img.shape[:2], np.uint8)
    cv2.polylines(m, [np.round(pts * 16).astype(np.int32)], False, 255, width_px, cv2.LINE_AA, shift=4)
    a = m.astype(np.float32)[..., None] / 255.0
    img *= 1.0 - a * (1.0 - darkness)
    return m > 127


def paint_manhole(img: np.ndarray, cx: int, cy: int, cover_r_px: int = 15, frame_r_px: int = 19) -> None:
    """Paint into ``img`` ((H, W, 3) float32) a round cover in its frame, both a little lighter than asphalt, with dark
    rings at the gap and the frame's edge (radii in px; 15 and 19 are a 60 cm cover in a 76 cm frame at 2 cm)."""
    pad = frame_r_px + 3
    win = img[cy - pad : cy + pad + 1, cx - pad : cx + pad + 1]
    yy, xx = np.mgrid[-pad : pad + 1, -pad : pad + 1]
    r = np.hypot(xx, yy)
    win[r <= frame_r_px] = win[r <= frame_r_px] * 0.3 + np.array([112, 112, 114], np.float32) * 0.7
    win[r <= cover_r_px] = win[r <= cover_r_px] * 0.3 + np.array([104, 104, 106], np.float32) * 0.7
    ring = np.zeros(win.shape[:2], np.uint8)
    for rr in (cover_r_px + 1, frame_r_px):
        cv2.circle(ring, (pad, pad), rr, 255, 1, cv2.LINE_AA)
    win *= 1 - 0.5 * (ring.astype(np.float32) / 255)[..., None]


def paint_cover_at_angle(img: np.ndarray, cx: int, cy: int, semi_axes_px: tuple[int, int], angle_deg: float = 0.0,
                         seed: int = 0) -> np.ndarray:
    """Paint into ``img`` ((H, W, 3) uint8) a round cover as a camera held at an angle sees it close up: an ellipse
    (semi-axes of the lid in px, the first turned ``angle_deg``), a lid with a raised pattern of 3 px studs, worn in
    8 px blocks (drawn by ``seed``), a dark gap of about 2 px round it and a light steel frame 7-12 px wide, blurred
    by 0.7 px (the rest of ``img`` as it was). Returns the cover's mask, frame included."""
    a, b = semi_axes_px
    h, w = img.shape[:2]

    def oval(da: int, db: int) -> np.ndarray:
        m = np.zeros((h, w), np.uint8)
        cv2.ellipse(m, (cx, cy), (a + da, b + db), angle_deg, 0, 360, 1, -1)
        return m > 0

    frame, gap, lid = oval(12, 7), oval(2, 1), oval(-1, -1)
    rng = np.random.default_rng(seed)
    out = img.astype(np.float32)
    out[frame] = 0.75 * out[frame] + 0.25 * 200  # worn steel, lighter than the road
    out[gap] = 60
    yy, xx = np.mgrid[0:h, 0:w]
    studs = ((yy // 3 + xx // 3) % 2).astype(np.float32)  # a cast anti-slip pattern of 3 px studs
    blocks = cv2.resize((rng.random((h // 8 + 1, w // 8 + 1)) > 0.5).astype(np.float32), None, fx=8, fy=8,
                        interpolation=cv2.INTER_NEAREST)[:h, :w]  # worn and dirty in patches
    pattern = 100 + 40 * studs[..., None] + 20 * blocks[..., None] + rng.normal(0, 4, (h, w, 1))
    out[lid] = pattern[lid]
    near = cv2.dilate(frame.view(np.uint8), np.ones((5, 5), np.uint8)) > 0  # its edges softened as a lens does
    img[near] = np.clip(cv2.GaussianBlur(out, (0, 0), 0.7), 0, 255).astype(np.uint8)[near]
    return frame


def _cover_window(img: np.ndarray, cx: float, cy: float, reach_px: float) -> tuple[tuple[slice, slice], np.ndarray]:
    """The window of ``img`` round (``cx``, ``cy``) out to ``reach_px``, and each of its pixels' distance from that
    centre (pixel centres at +0.5)."""
    y0, y1 = max(int(cy - reach_px) - 1, 0), min(int(math.ceil(cy + reach_px)) + 1, img.shape[0])
    x0, x1 = max(int(cx - reach_px) - 1, 0), min(int(math.ceil(cx + reach_px)) + 1, img.shape[1])
    yy, xx = np.mgrid[y0:y1, x0:x1]
    return (slice(y0, y1), slice(x0, x1)), np.hypot(xx + 0.5 - cx, yy + 0.5 - cy)


def paint_valve_cover(img: np.ndarray, cx: float, cy: float, lid_r_px: float, frame_px: float = 2.0) -> None:
    """Paint into ``img`` ((H, W, 3), any dtype) a valve or hydrant cover seen from above: a dark cast-iron lid of
    radius ``lid_r_px`` in a light frame ``frame_px`` wide (7.5 and 2 px at 2 cm: a 30 cm lid). As dark as a hole and
    a hole's size, too small for the manhole rule; its frame makes a ring round it."""
    win, r = _cover_window(img, cx, cy, lid_r_px + frame_px)
    img[win][r <= lid_r_px + frame_px] = (150, 150, 148)
    img[win][r <= lid_r_px] = (48, 47, 46)


def paint_rough_cover(img: np.ndarray, cx: float, cy: float, r_px: float, seed: int = 0) -> None:
    """Paint into ``img`` ((H, W, 3), any dtype) a round cover of radius ``r_px`` seen from above: a rough lid (a
    raised anti-slip pattern, as coarse as lost stones) with a smooth rim of 2.5 px, a dark gap of 1.5 px and a frame of
    3 px (at 2 cm: 5, 3 and 6 cm). Its outline is a circle about 0.95-0.98 perfect to OpenCV's ``HOUGH_GRADIENT_ALT``,
    as the covers on RDD2022 (models/road-classic/NOTEBOOK.md). ``seed`` draws the lid's pattern."""
    win, r = _cover_window(img, cx, cy, r_px + 4.5)
    rng = np.random.default_rng(seed)
    rough = cv2.GaussianBlur(rng.normal(0, 1, r.shape).astype(np.float32), (0, 0), 0.8) * 90
    lid = np.clip((150 + rough)[..., None] * np.array([1.0, 0.98, 0.92], np.float32), 0, 255)
    out = img[win].astype(np.float32)
    out[r <= r_px + 4.5] = (135, 133, 126)
    out[r <= r_px] = (150, 147, 138)
    out[r <= r_px - 2.5] = lid[r <= r_px - 2.5]
    gap = (r > r_px) & (r <= r_px + 1.5)
    out[gap] *= 0.4
    img[win] = out.astype(img.dtype)


def paint_broken_out(img: np.ndarray, cx: float, cy: float, r_px: float, seed: int = 0, paleness: float = 1.15,
                     edge: float = 0.5, edge_px: float = 2.0) -> np.ndarray:
    """Paint into ``img`` ((H, W, 3), any dtype) a pothole where the top layer has broken out, seen from above: an
    irregular patch of radius about ``r_px`` of lighter base course (``paleness`` times the road, mottled by stones of
    a few pixels) whose broken edge is a dark line ``edge_px`` wide (``edge`` times the road) along the shaded two
    thirds of its outline, as on RDD2022 (models/road-classic/NOTEBOOK.md). ``edge`` 1.0 paints the patch alone: a
    pale repair or dust. Returns the patch's mask."""
    rng = np.random.default_rng(seed)
    h, w = img.shape[:2]
    reach = int(r_px * 1.4) + 4
    y0, x0 = max(int(cy) - reach, 0), max(int(cx) - reach, 0)
    win = (slice(y0, min(int(cy) + reach, h)), slice(x0, min(int(cx) + reach, w)))
    yy, xx = np.mgrid[win].astype(np.float32)
    ang = np.arctan2(yy - cy, xx - cx)
    wobble = 1 + 0.2 * np.sin(3 * ang + rng.uniform(0, 6)) + 0.1 * np.sin(5 * ang + rng.uniform(0, 6))
    d = np.hypot(xx - cx, yy - cy) / (r_px * wobble)
    inside = d < 1.0
    shaded = (d >= 1.0) & (d < 1.0 + edge_px / r_px) & (np.cos(ang - rng.uniform(0, 2 * np.pi)) > -0.5)
    out = img[win].astype(np.float32)
    mottle = 1 + 0.1 * cv2.GaussianBlur(rng.normal(0, 1, inside.shape).astype(np.float32), (0, 0), 1.5)  # its stones
    out[inside] *= (paleness * mottle[inside])[:, None]
    out[shaded] *= edge
    img[win] = np.clip(out, 0, 255).astype(img.dtype)
    mask = np.zeros((h, w), bool)
    mask[win] = inside
    return mask


def plain_asphalt(h: int, w: int, seed: int = 2) -> np.ndarray:
    """Grey asphalt with fine noise, (H, W, 3) uint8: the plain ground the tests and ``benchmarks/score_traps.py`` paint
    single defects and traps on."""
    rng = np.random.default_rng(seed)
    img = np.array([92, 92, 96], np.float32) + rng.normal(0, 7, (h, w, 1)).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def litter_ground(h: int, w: int, gsd_m: float, seed: int = 3) -> np.ndarray:
    """Unpaved ground as grey as asphalt, (H, W, 3) uint8: dry stalks, twigs and small stones on soil, each casting a
    shadow 2-6 cm across, about a tenth of the ground in their shade. What :func:`schouw.detect.segment.rough_ground`
    must tell from paving."""
    rng = np.random.default_rng(seed)
    img = np.array([118, 116, 112], np.float32) * (1.0 + 0.06 * _noise(rng, (h, w), 0.5 / gsd_m))[..., None]
    img += rng.normal(0, 5, (h, w, 1)).astype(np.float32)
    shade = np.zeros((h, w), np.uint8)
    n = int(0.1 * h * w / max(np.pi * (0.02 / gsd_m) ** 2, 1.0))
    for x, y, r in zip(rng.integers(0, w, n), rng.integers(0, h, n), rng.uniform(0.01, 0.03, n) / gsd_m):
        cv2.circle(shade, (int(x), int(y)), max(1, int(round(r))), 1, -1)
    img[shade > 0] *= 0.45
    return np.clip(img, 0, 255).astype(np.uint8)


def paint_gully_grate(img: np.ndarray, cx: float, cy: float, size_px: tuple[float, float], turn_deg: float = 0.0,
                      slot_px: float = 1.5, bar_px: float = 1.5, frame_px: float = 1.5) -> None:
    """Paint into ``img`` ((H, W, 3), any dtype) a street gully's cast-iron grate seen from above, centred at (``cx``,
    ``cy``) and turned by ``turn_deg``: a light frame ``frame_px`` wide round a grey grate of ``size_px`` (length,
    width), its dark slots ``slot_px`` wide across the length, ``bar_px`` apart. At 2 cm per pixel the defaults are a
    grate with slots and bars of 3 cm; ``size_px`` (25, 15) is a 50 x 30 cm grate. Drawn 4 times finer, then averaged."""
    ss = 4
    length, width = size_px
    half = math.hypot(length, width) / 2 + frame_px + 2
    y0, y1 = max(int(cy - half), 0), min(int(math.ceil(cy + half)) + 1, img.shape[0])
    x0, x1 = max(int(cx - half), 0), min(int(math.ceil(cx + half)) + 1, img.shape[1])
    yy, xx = np.mgrid[y0 * ss : y1 * ss, x0 * ss : x1 * ss].astype(np.float32) / ss + 0.5 / ss - 0.5
    a = math.radians(turn_deg)
    u = (xx - cx) * math.cos(a) + (yy - cy) * math.sin(a)  # along the grate's length
    v = (yy - cy) * math.cos(a) - (xx - cx) * math.sin(a)
    grate = (np.abs(u) < length / 2) & (np.abs(v) < width / 2)
    frame = (np.abs(u) < length / 2 + frame_px) & (np.abs(v) < width / 2 + frame_px)
    slot = grate & ((u + length / 2) % (slot_px + bar_px) < slot_px) & (np.abs(v) < width / 2 - 1)
    grey = np.where(slot, 25.0, np.where(grate, 100.0, 140.0)).astype(np.float32)
    cover = cv2.resize(frame.astype(np.float32), (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)[..., None]
    value = cv2.resize(grey * frame, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)[..., None]
    win = img[y0:y1, x0:x1].astype(np.float32)
    img[y0:y1, x0:x1] = np.clip(win * (1 - cover) + value, 0, 255).astype(img.dtype)


#: Shade lit by the sky alone, per channel (R, G, B): darker and bluer than sunlit grey (the scene's tree shadows).
SKY_SHADE = (0.5, 0.54, 0.66)


def paint_band(img: np.ndarray, p0: tuple[int, int], p1: tuple[int, int], width_px: int, tint=SKY_SHADE) -> np.ndarray:
    """Darken into ``img`` ((H, W, 3), any dtype) a straight anti-aliased band from ``p0`` to ``p1`` (column, row) by
    ``tint`` per channel: by default the cast shadow of a post; a grey ``tint`` paints a crack. Returns its mask."""
    m = np.zeros(img.shape[:2], np.uint8)
    cv2.line(m, p0, p1, 255, width_px, cv2.LINE_AA)
    a = (m.astype(np.float32) / 255)[..., None]
    img[:] = (img * (1 - a * (1 - np.asarray(tint, np.float32)))).astype(img.dtype)
    return m > 0


def build_scene(seed: int = SEED) -> Scene:
    """Paint the demo scene; return pixels, valid mask and truth records (pixel geometries)."""
    rng = np.random.default_rng(seed)
    shape = (HEIGHT, WIDTH)
    img = np.zeros((HEIGHT, WIDTH, 3), np.float32)
    truth: list[dict] = []
    lawn = _lawn(rng, shape)
    for key in ("lawn_top", "lawn_bottom"):
        r0, r1 = ROWS[key]
        img[r0:r1] = lawn[r0:r1]
    r0, r1 = ROWS["footpath"]
    img[r0:r1] = _pavers(rng, (r1 - r0, WIDTH))
    r0, r1 = ROWS["road"]
    img[r0:r1] = _asphalt(rng, (r1 - r0, WIDTH))

    # Lane markings: edge lines and a dashed centre line, 10 cm wide (not defects).
    for row in (572, 943):
        img[row : row + 5, :] = (228, 228, 222)
    for c in range(40, WIDTH, 250):
        img[758:763, c : c + 150] = (228, 228, 222)

    # A round manhole cover of 60 cm in a 76 cm frame (not a defect): seen from above, the gap round the cover and the
    # frame's outer edge are thin dark rings, which a crack detector must not report.
    paint_manhole(img, 300, 660)
    # A street gully's grate of 50 x 30 cm (not a defect): its dark slots are parallel stripes, found as a crack unless
    # recognised.
    paint_gully_grate(img, *GULLY_PX, (25, 15), slot_px=2, bar_px=2)
    # A lamp post's cast shadow, 6 cm wide and 3 m long (not a defect): darker and bluer (sky light), and straight.
    paint_band(img, *POST_SHADOW_PX, 3)
    # Two more covers (not defects): a valve cover's dark lid in its light frame is a hole's size and darkness, and a
    # rough lid is as coarse as a ravelled surface. Painted without the scene's random stream: the rest stays the same.
    paint_valve_cover(img, *VALVE_COVER_PX)
    paint_rough_cover(img, *ROUGH_COVER_PX, seed=seed)

    # Lawn defects: dry patches (one across the row-1024 tile seam), a worn path and tyre damage of bare soil.
    straw = np.array([186, 166, 104], np.float32)
    soil = np.array([122, 93, 68], np.float32)
    dry_tex = (1.0 + 0.09 * rng.standard_normal(shape).astype(np.float32))[..., None]
    soil_tex = (1.0 + 0.035 * rng.standard_normal(shape).astype(np.float32))[..., None]
    patches = [
        ("dry_grass", straw, dry_tex, (300, 180, 110, 80)),
        ("dry_grass", straw, dry_tex, (1500, 1100, 140, 100)),
        ("dry_grass", straw, dry_tex, (900, 1330, 70, 55)),
        ("bare_soil", soil, soil_tex, (1750, 230, 90, 60)),
        ("bare_soil", soil, soil_tex, (380, 1250, 75, 45)),
    ]
    for kind, colour, tex, (cx, cy, rx, ry) in patches:
        alpha, m = _blob(rng, shape, cx, cy, rx, ry)
        a = alpha[..., None]
        img[:] = img * (1 - a) + colour * tex * a
        truth.append({"type": kind, "mask": m})
    # Worn path of bare soil across the top lawn: a wide soft stroke.
    path = np.zeros(shape, np.uint8)
    cv2.polylines(path, [np.array([[900, 20], [980, 150], [1020, 300], [1060, 395]], np.int32)], False, 255, 30, cv2.LINE_AA)
    alpha = cv2.GaussianBlur(path.astype(np.float32) / 255.0, (9, 9), 0)
    alpha[ROWS["footpath"][0] :] = 0
    img[:] = img * (1 - alpha[..., None]) + soil * soil_tex * alpha[..., None]
    truth.append({"type": "bare_soil", "mask": alpha >= 0.5})

    # Tree shadows on both lawns and one on the road: darker and bluer (sky light), not defects.
    for cx, cy, rx, ry in ((1250, 230, 150, 120), (600, 1380, 170, 110), (1150, 840, 110, 80)):
        alpha, _ = _blob(rng, shape, cx, cy, rx, ry, rough=0.25, soft_px=10)
        shade = 1 - alpha[..., None] * (1 - np.array(SKY_SHADE, np.float32))
        img *= shade

    # Road cracks: OpenCV thickness 1-3 px, so 1.4-5.4 px painted (anti-aliased edges; 2.7-10.9 cm), one long
    # longitudinal crack across the col-1024 seam.
    cracks = [
        ("longitudinal", _random_walk(rng, (650, 690), 0.02, 36, 25, 6), 2, 0.38),
        ("transverse", _random_walk(rng, (1700, 600), math.pi / 2 + 0.1, 13, 25, 10), 3, 0.35),
        ("longitudinal", _random_walk(rng, (150, 880), -0.05, 14, 25, 8), 1, 0.45),
        ("transverse", _random_walk(rng, (1250, 790), math.pi / 2 - 0.15, 5, 25, 10), 2, 0.4),
    ]
    for sub, pts, wpx, dark in cracks:
        m = _paint_line(img, pts, wpx, dark)
        truth.append({"type": "crack", "subtype": sub, "mask": m, "line_px": pts})
    # Alligator (block) cracking: a jagged network in a 1.6 x 1.2 m patch.
    net = np.zeros(shape, bool)
    x0, y0, w, h = 1380, 820, 80, 60
    lines = []
    for k in range(5):
        lines.append(_random_walk(rng, (x0 - 4, y0 + k * h / 4), 0, 9, (w + 8) / 9, 12))
        lines.append(_random_walk(rng, (x0 + k * w / 4, y0 - 4), math.pi / 2, 7, (h + 8) / 7, 12))
    for pts in lines:
        net |= _paint_line(img, pts, 2, 0.45)
    truth.append({"type": "crack", "subtype": "alligator", "mask": net})

    # Potholes: dark bowls with a lighter broken rim and a shadowed side.
    for cx, cy, rx, ry in ((420, 820, 15, 11), (1900, 680, 26, 20)):
        yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
        d = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2) + 0.12 * _noise(rng, shape, 6)
        inside = d < 1.0
        rim = (d >= 1.0) & (d < 1.0 + 3.0 / rx)
        depth = np.clip(0.35 + 0.25 * (xx - cx) / rx, 0.2, 0.6)
        img[inside] = (np.array([70, 64, 58], np.float32) * depth[inside][:, None] / 0.45) * (
            1 + 0.15 * rng.standard_normal((int(inside.sum()), 1)).astype(np.float32)
        )
        img[rim] = img[rim] * 1.25
        truth.append({"type": "pothole", "mask": inside})

    # Weeds in the paver joints: small green clumps.
    r0, r1 = ROWS["footpath"]
    for cx, cy, rad in ((200, 440, 7), (700, 500, 10), (1300, 470, 6), (1650, 530, 12), (1900, 430, 8)):
        alpha, m = _blob(rng, shape, cx, cy, rad * 1.3, rad, rough=0.6, soft_px=2)
        green = np.array([66, 138, 44], np.float32) * (1 + 0.15 * rng.standard_normal(shape).astype(np.float32))[..., None]
        img[:] = img * (1 - alpha[..., None]) + green * alpha[..., None]
        truth.append({"type": "weeds_in_pavement", "mask": m})

    # Alligator cracking as a drone sees it, broken: 14 thin cracks of 40-60 cm running every way (about 13 degrees
    # apart) in a 2.2 x 2.2 m patch, few of them meeting, so they close almost no cell (detect.alligator). Painted last
    # and from its own random stream, so every other pixel and truth id stays as it was.
    broken, area_rng = np.zeros(shape, bool), np.random.default_rng(seed + 1)
    for i in range(14):
        a, half = i * math.pi / 14 + area_rng.uniform(-0.1, 0.1), area_rng.uniform(10, 15)
        cx, cy = area_rng.uniform(*BROKEN_ALLIGATOR_PX[0]), area_rng.uniform(*BROKEN_ALLIGATOR_PX[1])
        ends = np.array([(cx - half * math.cos(a), cy - half * math.sin(a)), (cx + half * math.cos(a), cy + half * math.sin(a))])
        broken |= _paint_line(img, ends, 1, 0.5)
    truth.append({"type": "crack", "subtype": "alligator", "mask": broken})
    # A pothole where the top layer has broken out: pale base course ringed by its shaded broken edge (detect.spalls),
    # 0.6 m². From its own random stream too.
    truth.append({"type": "pothole", "mask": paint_broken_out(img, *BROKEN_OUT_PX, seed=seed + 2, edge_px=2.5)})

    # No-data corner: hidden pixels look like dry grass; only the mask says they are not data.
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    nodata = (xx - 1650) * (HEIGHT - 1100) > (HEIGHT - yy) * (WIDTH - 1650)
    img[nodata] = straw * dry_tex[nodata]
    valid = ~nodata
    for t in truth:
        t["mask"] &= valid
    truth = [t for t in truth if t["mask"].any()]
    return Scene(np.clip(img, 0, 255), valid, truth)


def sample_transform() -> Affine:
    return Affine(GSD_M, 0, ORIGIN_RD[0], 0, -GSD_M, ORIGIN_RD[1])


def write_geotiff(path: Path, rgb: np.ndarray, valid: np.ndarray, transform: Affine, crs: CRS, quality: int = 90) -> None:
    """Tiled, JPEG-compressed (YCbCr) RGB GeoTIFF with an internal mask for no-data."""
    profile = dict(
        driver="GTiff", width=rgb.shape[1], height=rgb.shape[0], count=3, dtype="uint8", crs=crs, transform=transform,
        tiled=True, blockxsize=256, blockysize=256, compress="JPEG", photometric="YCBCR", jpeg_quality=quality,
    )
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(np.moveaxis(rgb.round().astype(np.uint8), -1, 0))
            dst.write_mask(valid.astype(np.uint8) * 255)


def _fc(features: list[dict], epsg: int) -> str:
    return json.dumps(
        {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}"}}, "features": features},
        indent=1,
    ) + "\n"


def _rounded(geom, nd: int = 3) -> dict:
    return json.loads(shapely.to_geojson(shapely.set_precision(geom, 10**-nd)))


def write_sample(out_dir: Path | str) -> list[Path]:
    """Write ``sample_orthophoto.tif``, ``sample_areas.geojson`` and ``sample_truth.geojson`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scene = build_scene()
    t = sample_transform()
    tif = out / "sample_orthophoto.tif"
    write_geotiff(tif, scene.rgb, scene.valid, t, CRS.from_epsg(28992))

    def rect(r0: int, r1: int):
        return shapely.box(*(t * (0, r1)), *(t * (WIDTH, r0)))

    areas = [
        {"type": "Feature", "properties": {"name": "lawn north", "area": "green"}, "geometry": _rounded(rect(*ROWS["lawn_top"]))},
        {"type": "Feature", "properties": {"name": "footpath (concrete pavers)", "area": "road"}, "geometry": _rounded(rect(*ROWS["footpath"]))},
        {"type": "Feature", "properties": {"name": "road (asphalt)", "area": "road"}, "geometry": _rounded(rect(*ROWS["road"]))},
        {"type": "Feature", "properties": {"name": "lawn south", "area": "green"}, "geometry": _rounded(rect(*ROWS["lawn_bottom"]))},
    ]
    (out / "sample_areas.geojson").write_text(_fc(areas, 28992))

    feats = []
    for n, tr in enumerate(scene.truth):
        if "line_px" in tr:
            geom = shapely.LineString([t * (x + 0.5, y + 0.5) for x, y in tr["line_px"]])
        else:
            geom = mask_to_geometry(tr["mask"], t)
        props = {"truth_id": n, "type": tr["type"], "subtype": tr.get("subtype"), "pixels": int(tr["mask"].sum())}
        feats.append({"type": "Feature", "properties": props, "geometry": _rounded(geom)})
    (out / "sample_truth.geojson").write_text(_fc(feats, 28992))
    return [tif, out / "sample_areas.geojson", out / "sample_truth.geojson"]
