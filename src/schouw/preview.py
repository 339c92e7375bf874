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


class PreviewCanvas:
    """``preview.png`` built up piece by piece: tile thumbnails, then issue batches, then :meth:`write`.

    Memory is the preview's own (a few MB) whatever the orthophoto's size or issue count:
    issues are drawn into one anti-aliased mask per severity as they arrive and composited
    worst-on-top at the end.
    """

    def __init__(self, ortho: Orthophoto, max_px: int = PREVIEW_PX):
        self.ortho = ortho
        self.h, self.w = preview_shape(ortho.width, ortho.height, max_px)
        self.inv = ~(ortho.affine @ Affine.scale(ortho.width / self.w, ortho.height / self.h))
        self.rgb: np.ndarray | None = None
        self.valid: np.ndarray | None = None
        self.marks = IssueMarks(self.h, self.w)

    def add_thumbs(self, thumbs: list) -> None:
        """Paste tile thumbnails (:func:`thumbnail`)."""
        if self.rgb is None:
            self.rgb = np.zeros((self.h, self.w, 3), np.uint8)
            self.valid = np.zeros((self.h, self.w), bool)
        for r0, c0, t, v in thumbs:
            self.rgb[r0 : r0 + t.shape[0], c0 : c0 + t.shape[1]] = t
            self.valid[r0 : r0 + v.shape[0], c0 : c0 + v.shape[1]] = v

    def add_issues(self, issues: list[Issue]) -> None:
        self.marks.add(issues, self.inv)

    def write(self, path: Path) -> tuple[int, int]:
        """Write the PNG (without thumbnails the orthophoto is read at preview size, through its overviews)."""
        rgb, valid = self.rgb, self.valid
        if rgb is None:
            o = self.ortho
            with gdal_env(), rasterio.open(o.path) as src:
                bands = src.read(list(o.rgb_bands), out_shape=(3, self.h, self.w))
                valid = valid_mask(src, bands, None, out_shape=(self.h, self.w))
            rgb = np.moveaxis(to_uint8(o, bands), 0, -1)
        img = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
        img[~valid] = (img[~valid] * 0.3 + np.array([40, 40, 40]) * 0.7).astype(np.uint8)
        self.marks.paint(img)
        cv2.imwrite(str(path), img, [cv2.IMWRITE_PNG_COMPRESSION, 4])
        return self.w, self.h


def render_preview(ortho: Orthophoto, issues: list[Issue], path: Path, max_px: int = PREVIEW_PX, thumbs: list | None = None) -> tuple[int, int]:
    """Write the preview PNG; return its (width, height) in pixels.

    ``thumbs`` (from :func:`thumbnail`, one per tile) are assembled when given; otherwise the
    orthophoto is read at preview resolution (through its overviews when it has them).
    """
    canvas = PreviewCanvas(ortho, max_px)
    if thumbs:
        canvas.add_thumbs(thumbs)
    canvas.add_issues(issues)
    return canvas.write(path)


def _to_preview(geom, inv: Affine):
    return shapely.transform(geom, lambda xy: np.column_stack(inv * (xy[:, 0], xy[:, 1])))


class IssueMarks:
    """Issue outlines on an ``h`` x ``w`` image: one anti-aliased mask per severity, painted worst on top."""

    def __init__(self, h: int, w: int):
        self.masks = {sev: np.zeros((h, w), np.uint8) for sev in SEVERITY_BGR}
        self.thick = max(1, round(max(w, h) / 800))

    def add(self, issues: list[Issue], inv: Affine) -> None:
        """Draw ``issues``; ``inv`` maps map coordinates to image pixels."""
        thick = self.thick
        for i in issues:
            mask = self.masks[i.severity]
            g = _to_preview(i.geometry, inv)
            for p in getattr(g, "geoms", [g]):
                if p.geom_type == "Polygon":
                    ring = np.round(np.asarray(p.exterior.coords)).astype(np.int32)
                    cv2.polylines(mask, [ring], True, 255, thick + 1, cv2.LINE_AA)
            b = g.bounds
            if (b[2] - b[0]) < 6 and (b[3] - b[1]) < 6:  # too small to see: ring it
                c = g.centroid
                cv2.circle(mask, (int(c.x), int(c.y)), 6 * thick, 255, thick, cv2.LINE_AA)

    def paint(self, img: np.ndarray) -> None:
        """Blend the outlines into the BGR ``img`` in place, L first, E last."""
        for sev in ("L", "M", "E"):
            a = self.masks[sev].astype(np.float32)[..., None] / 255.0
            img[:] = (img * (1 - a) + np.array(SEVERITY_BGR[sev], np.float32) * a).round().astype(np.uint8)


def draw_issues(img: np.ndarray, issues: list[Issue], inv: Affine) -> None:
    """Outline issues on a BGR image by severity; ``inv`` maps map coordinates to image pixels."""
    marks = IssueMarks(*img.shape[:2])
    marks.add(issues, inv)
    marks.paint(img)


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
