"""Single-photo mode: the road detectors on plain, non-georeferenced photos (JPEG / PNG).

For each photo: a crack mask (0/255, the photo's size) and a JSON list of defects in pixel
coordinates. No Prefect: a folder of hundreds of photos is a plain loop in one process.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from .detect.base import labels
from .detect.road import RoadParams, detect_road
from .errors import InputError
from .issues import severity

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")
MIN_SIDE_PX = 64
MAX_PIXELS = 100_000_000
#: Close-range road photos are about 1-5 mm per pixel; without --gsd-m the middle of that range is assumed.
DEFAULT_GSD_M = 0.002


class PhotoError(InputError):
    """A photo cannot be processed."""


def read_photo(path: Path) -> np.ndarray:
    """The photo as (H, W, 3) uint8 RGB; :class:`PhotoError` with a clear message otherwise."""
    if not path.is_file():
        raise PhotoError(f"{path}: file not found; expected a JPEG or PNG photo")
    if path.stat().st_size == 0:
        raise PhotoError(f"{path}: file is empty (0 bytes); expected a JPEG or PNG photo")
    header = cv2.imread(str(path), cv2.IMREAD_REDUCED_GRAYSCALE_8)
    if header is None:
        raise PhotoError(f"{path}: not an image OpenCV can read; expected a JPEG or PNG photo")
    if header.shape[0] * header.shape[1] * 64 > MAX_PIXELS:
        raise PhotoError(f"{path}: about {header.shape[1] * 8} x {header.shape[0] * 8} pixels is too large; expected at most {MAX_PIXELS // 10**6} megapixels")
    # any depth and channels as stored, but turned as its EXIF orientation says (a phone's portrait photo is stored
    # on its side): masks and pixel coordinates are those of the photo as every viewer shows it
    img = cv2.imread(str(path), cv2.IMREAD_ANYCOLOR | cv2.IMREAD_ANYDEPTH)
    if img is None:
        raise PhotoError(f"{path}: the image data is damaged or truncated; expected a complete JPEG or PNG photo")
    if img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 1):
        raise PhotoError(f"{path}: is a grayscale image; expected a colour (RGB) photo")
    if img.dtype != np.uint8:
        img = cv2.convertScaleAbs(img, alpha=255.0 / max(float(img.max()), 1.0))
    h, w = img.shape[:2]
    if min(h, w) < MIN_SIDE_PX:
        raise PhotoError(f"{path}: {w} x {h} pixels is too small; expected at least {MIN_SIDE_PX} pixels a side")
    return cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2RGB)


@dataclass
class PhotoDefect:
    type: str
    subtype: str | None
    severity: str
    score: float
    bbox_px: list[int]
    polygon_px: list[list[int]]
    length_px: float
    area_px: int
    # beyond issue 3's schema: the measures it names per type, as the GeoPackage's issue layers hold them; in metres at
    # the JSON's ``gsd_m`` (assumed, without --gsd-m: see ``gsd_assumed``); widths only for cracks (None otherwise)
    length_m: float = 0.0
    area_m2: float = 0.0
    mean_width_px: float | None = None
    max_width_px: float | None = None
    mean_width_m: float | None = None
    max_width_m: float | None = None


#: From this GSD on a photo is drone imagery (verges, trees, gardens in view): segmented into road and green first.
SEGMENT_FROM_GSD_M = 0.01


def learned_stage_applies(gsd_m: float) -> bool:
    """Whether the learned crack stage (crack-mlp, features in pixels, trained at about 1.5 mm per pixel) suits this GSD (m/px).

    It is for close-range photos; drone photos and orthophotos keep the black-hat detector.
    """
    return gsd_m < SEGMENT_FROM_GSD_M


def padding_bands(rgb: np.ndarray) -> np.ndarray:
    """Black padding of a photo (bool): near-black (every channel <= 8) areas at least 5 px across that reach its frame.

    A near-black crack core in a dark photo is thin, and a black hole in the road is inside the frame: both are content.
    """
    black = (cv2.bitwise_or(cv2.bitwise_or(rgb[..., 0], rgb[..., 1]), rgb[..., 2]) <= 8).astype(np.uint8)
    if not black.any():
        return black > 0
    lab = labels(cv2.morphologyEx(black, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)))
    edge = np.zeros(int(lab.max()) + 1, bool)
    edge[np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]])] = True
    edge[0] = False
    return edge[lab]


def photo_defects(rgb: np.ndarray, gsd_m: float, params: RoadParams = RoadParams(), crack_model=None):
    """Road defects (:class:`schouw.detect.base.Defect`) of one photo, and the road surface looked at (bool: valid
    pixels of the road area; a close-range photo is all road).

    A close-range photo (finer than ``SEGMENT_FROM_GSD_M``) is all road; a drone photo is
    segmented as an orthophoto without AREAS is, so trees and lawns are neither weeds nor
    cracks (measured on RDD2022 China_Drone, benchmarks/score_rdd.py: the share of detected
    pixels inside damage boxes rose from 0.12 to 0.34). Black padding bands are never valid.
    """
    valid = ~padding_bands(rgb)
    valid = cv2.erode(valid.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0  # JPEG fringe of padding bands
    area, green = np.ones(valid.shape, bool), None
    if gsd_m >= SEGMENT_FROM_GSD_M:
        from .detect.segment import segment_areas

        seg = segment_areas(rgb, valid, gsd_m)
        area, green = seg["road"], seg["green_coarse"] | seg["green"]
    return detect_road(rgb, valid, area, gsd_m, params, green, crack_model=crack_model, frame=True,
                       estimated=green is not None), valid & area


def _rounded(v: float | None, digits: int, scale: float = 1.0) -> float | None:
    """``v`` times ``scale``, rounded to ``digits``; None stays None (a width a non-crack does not have)."""
    return None if v is None else round(float(v) * scale, digits)


def detect_photo(rgb: np.ndarray, gsd_m: float, params: RoadParams = RoadParams(), crack_model=None) -> tuple[np.ndarray, list[PhotoDefect]]:
    """Crack mask (uint8 0/255) and defects of one photo (see :func:`photo_defects`)."""
    return photo_outputs(photo_defects(rgb, gsd_m, params, crack_model)[0], rgb.shape[:2], gsd_m)


def surface_shares(defects, road: np.ndarray) -> dict[str, float]:
    """Per defect type, the share (0-1) of the road surface ``road`` (bool) its masks cover."""
    n = max(int(np.count_nonzero(road)), 1)
    covered: dict[str, np.ndarray] = {}
    for d in defects:
        h, w = d.mask.shape
        m = covered.setdefault(d.type, np.zeros(road.shape, bool))
        m[d.row0 : d.row0 + h, d.col0 : d.col0 + w] |= d.mask
    return {t: round(np.count_nonzero(m & road) / n, 5) for t, m in sorted(covered.items())}


def photo_outputs(defects, shape: tuple[int, int], gsd_m: float) -> tuple[np.ndarray, list[PhotoDefect]]:
    """Crack mask (uint8 0/255, ``shape``) and :class:`PhotoDefect` records of a photo's defects at ``gsd_m`` (m/px)."""
    mask = np.zeros(shape, np.uint8)
    out = []
    for d in defects:
        h, w = d.mask.shape
        if d.type == "crack":
            mask[d.row0 : d.row0 + h, d.col0 : d.col0 + w][d.mask] = 255
        area_px = int(d.mask.sum())
        length_px, mean_w, max_w = 0.0, None, None
        if d.type == "crack":
            length_px, mean_w, max_w = d.extra["length_px"], d.extra["mean_width_px"], d.extra["max_width_px"]
        measures = {"area_m2": area_px * gsd_m**2, "length_m": length_px * gsd_m, "mean_width_m": (mean_w or 0.0) * gsd_m}
        cnts, _ = cv2.findContours(d.mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        c = max(cnts, key=cv2.contourArea)
        poly = cv2.approxPolyDP(c, 1.0, True).reshape(-1, 2) + [d.col0, d.row0]
        out.append(PhotoDefect(d.type, d.subtype, severity(d.type, measures), round(d.score, 3), list(map(int, d.bbox_px)),
                               poly.astype(int).tolist(), round(float(length_px), 2), area_px,
                               round(measures["length_m"], 4), round(measures["area_m2"], 6),
                               _rounded(mean_w, 2), _rounded(max_w, 2), _rounded(mean_w, 5, gsd_m), _rounded(max_w, 5, gsd_m)))
    return mask, out


def list_photos(items: list[str]) -> list[Path]:
    """Files and folders (their photos, sorted) to a list of paths."""
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out += sorted(x for x in p.iterdir() if x.suffix.lower() in PHOTO_SUFFIXES)
        else:
            out.append(p)
    return out


def distinct_outputs(photos: list[Path]) -> tuple[list[Path], list[str]]:
    """The photos whose outputs (``<stem>.png``, ``<stem>.json``) no earlier photo writes, and a one-line error for each
    that would overwrite an earlier one's (``a.jpg`` beside ``a.png``, or the same name in two folders). The same file
    given twice is run once."""
    first: dict[str, Path] = {}
    keep, errors = [], []
    for path in photos:
        seen = first.get(path.stem)
        if seen is None:
            first[path.stem] = path
            keep.append(path)
        elif seen.resolve() != path.resolve():
            errors.append(f"{path}: its outputs {path.stem}.png and {path.stem}.json would overwrite those of {seen}; "
                          "expected one photo per name (rename one, or run it with another --out-dir)")
    return keep, errors


def process_photo(path: Path, out_dir: Path, gsd_m: float | None, crack_model=None) -> dict:
    """Detect on one photo and write ``<stem>.png`` and ``<stem>.json`` into ``out_dir`` (atomically)."""
    rgb = read_photo(path)
    g = gsd_m or DEFAULT_GSD_M
    found, road = photo_defects(rgb, g, crack_model=crack_model)
    mask, defects = photo_outputs(found, rgb.shape[:2], g)
    doc = {"image": str(path), "width": rgb.shape[1], "height": rgb.shape[0], "gsd_m": g, "gsd_assumed": gsd_m is None,
           "road_m2": round(np.count_nonzero(road) * g**2, 4), "surface_share": surface_shares(found, road),
           "defects": [asdict(d) for d in defects]}
    for name, write in ((f"{path.stem}.png", lambda t: cv2.imwrite(str(t), mask)),
                        (f"{path.stem}.json", lambda t: t.write_text(json.dumps(doc, indent=1)))):
        tmp = out_dir / f".{name}.tmp{os.getpid()}{Path(name).suffix}"
        write(tmp)
        os.replace(tmp, out_dir / name)
    return doc


def photo_outcome(path: Path, out_dir: Path, gsd_m: float | None, crack_model=None) -> tuple[int, str | None]:
    """:func:`process_photo` for a folder run: (defects found, None), or (0, the one-line error) for a bad photo."""
    try:
        return len(process_photo(path, out_dir, gsd_m, crack_model)["defects"]), None
    except InputError as exc:
        return 0, " ".join(str(exc).split())


_worker_models: dict[tuple[str, bool], object] = {}  # (model folder, GSD told): the model a worker decides with


def process_photo_job(path: str, out_dir: str, gsd_m: float | None, model_dir: str | None) -> tuple[int, str | None]:
    """:func:`photo_outcome` in a worker process (``detect-image --jobs``).

    ``model_dir``: the learned crack stage's folder, loaded once per worker; None for the classic detector.
    """
    model = None
    if model_dir is not None:
        from .detect.crack_mlp import CrackMLP

        told = gsd_m is not None  # as detect-image does in its own process
        model = _worker_models.get((model_dir, told))
        if model is None:
            model = CrackMLP.load(Path(model_dir))
            model = _worker_models[model_dir, told] = model.with_known_gsd() if told else model
    return photo_outcome(Path(path), Path(out_dir), gsd_m, model)
