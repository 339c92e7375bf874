"""``preview.png``: a downsampled view of the orthophoto with issues outlined by severity.

Read through ``out_shape``, so GDAL uses the file's overviews when it has them.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import rasterio
import shapely
from affine import Affine

from .detect.base import block_mean
from .issues import Issue
from .orthophoto import Orthophoto, gdal_env, to_uint8, valid_mask

SEVERITY_BGR = {"L": (76, 201, 242), "M": (74, 153, 242), "E": (61, 38, 215)}


PREVIEW_PX = 1200


def preview_shape(width: int, height: int, max_px: int = PREVIEW_PX) -> tuple[int, int]:
    """(height, width) of the preview of a ``width`` x ``height`` raster."""
    f = max(1.0, max(width, height) / max_px)
    return max(1, round(height / f)), max(1, round(width / f))


def thumbnail(rgb: np.ndarray, valid: np.ndarray, spec, width: int, height: int, max_px: int = PREVIEW_PX):
    """The preview pixels of one tile's core: (row0, col0, rgb, valid) in preview coordinates, or None.

    Tiles hand these in while they are processed, so the preview costs no second read of
    the orthophoto and no memory beyond the preview itself.
    """
    ph, pw = preview_shape(width, height, max_px)
    sy, sx = ph / height, pw / width
    r0, r1 = round(spec.core_row_off * sy), round((spec.core_row_off + spec.core_height) * sy)
    c0, c1 = round(spec.core_col_off * sx), round((spec.core_col_off + spec.core_width) * sx)
    if r1 <= r0 or c1 <= c0:
        return None
    rs, cs = spec.core_slices()
    # Integer block means first: OpenCV's INTER_AREA by a non-integer factor is slow on a full tile.
    f = max(1, min(spec.core_width // (c1 - c0), spec.core_height // (r1 - r0)))
    small = cv2.resize(block_mean(rgb[rs, cs], f), (c1 - c0, r1 - r0), interpolation=cv2.INTER_AREA)
    vsmall = cv2.resize(block_mean(valid[rs, cs].astype(np.float32), f), (c1 - c0, r1 - r0), interpolation=cv2.INTER_AREA) > 0.5
    return r0, c0, small, vsmall


def render_preview(ortho: Orthophoto, issues: list[Issue], path: Path, max_px: int = PREVIEW_PX, thumbs: list | None = None) -> tuple[int, int]:
    """Write the preview PNG; return its (width, height) in pixels.

    ``thumbs`` (from :func:`thumbnail`, one per tile) are assembled when given; otherwise the
    orthophoto is read at preview resolution (through its overviews when it has them).
    """
    h, w = preview_shape(ortho.width, ortho.height, max_px)
    if thumbs:
        rgb = np.zeros((h, w, 3), np.uint8)
        valid = np.zeros((h, w), bool)
        for r0, c0, t, v in thumbs:
            rgb[r0 : r0 + t.shape[0], c0 : c0 + t.shape[1]] = t
            valid[r0 : r0 + v.shape[0], c0 : c0 + v.shape[1]] = v
    else:
        with gdal_env(), rasterio.open(ortho.path) as src:
            bands = src.read(list(ortho.rgb_bands), out_shape=(3, h, w))
            valid = valid_mask(src, bands, None, out_shape=(h, w))
        rgb = np.moveaxis(to_uint8(ortho, bands), 0, -1)
    img = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
    img[~valid] = (img[~valid] * 0.3 + np.array([40, 40, 40]) * 0.7).astype(np.uint8)
    draw_issues(img, issues, ~(ortho.affine @ Affine.scale(ortho.width / w, ortho.height / h)))
    cv2.imwrite(str(path), img, [cv2.IMWRITE_PNG_COMPRESSION, 4])
    return w, h


def _to_preview(geom, inv: Affine):
    return shapely.transform(geom, lambda xy: np.column_stack(inv * (xy[:, 0], xy[:, 1])))


def draw_issues(img: np.ndarray, issues: list[Issue], inv: Affine) -> None:
    """Outline issues on a BGR image by severity; ``inv`` maps map coordinates to image pixels."""
    h, w = img.shape[:2]
    thick = max(1, round(max(w, h) / 800))
    for sev in ("L", "M", "E"):  # worst drawn last, on top
        for i in (x for x in issues if x.severity == sev):
            g = _to_preview(i.geometry, inv)
            for p in getattr(g, "geoms", [g]):
                if p.geom_type == "Polygon":
                    ring = np.round(np.asarray(p.exterior.coords)).astype(np.int32)
                    cv2.polylines(img, [ring], True, SEVERITY_BGR[sev], thick + 1, cv2.LINE_AA)
            b = g.bounds
            if (b[2] - b[0]) < 6 and (b[3] - b[1]) < 6:  # too small to see: ring it
                c = g.centroid
                cv2.circle(img, (int(c.x), int(c.y)), 6 * thick, SEVERITY_BGR[sev], thick, cv2.LINE_AA)


AREA_BGR = {"road": (170, 170, 170), "green": (170, 215, 170)}


def render_result_map(ortho: Orthophoto, issues: list[Issue], areas: list, path: Path, max_px: int = PREVIEW_PX) -> tuple[int, int]:
    """A map of the result alone — road and green areas filled flat, issues outlined by severity —
    with no pixel of the orthophoto in it (for documentation that must not copy the imagery)."""
    h, w = preview_shape(ortho.width, ortho.height, max_px)
    img = np.full((h, w, 3), 245, np.uint8)
    inv = ~(ortho.affine @ Affine.scale(ortho.width / w, ortho.height / h))
    for r in areas:
        g = _to_preview(r.geometry_px, Affine.scale(w / ortho.width, h / ortho.height))
        for p in getattr(g, "geoms", [g]):
            if p.geom_type == "Polygon" and not p.is_empty:
                rings = [np.round(np.asarray(p.exterior.coords)).astype(np.int32)]
                rings += [np.round(np.asarray(i.coords)).astype(np.int32) for i in p.interiors]
                cv2.fillPoly(img, rings, AREA_BGR[r.kind])
    draw_issues(img, issues, inv)
    cv2.imwrite(str(path), img, [cv2.IMWRITE_PNG_COMPRESSION, 4])
    return w, h
