"""Single-photo mode: the detect-image contract (mask, JSON) and bad photos that do not stop a folder."""

from __future__ import annotations

import json
import struct
import subprocess
import sys

import cv2
import numpy as np
import pytest

from conftest import asphalt


def _crack_photo(path):
    img = np.ascontiguousarray(np.moveaxis(asphalt(320, 480), 0, -1))
    cv2.polylines(img, [np.array([[40, 160], [240, 170], [440, 150]], np.int32)], False, (30, 30, 32), 4, cv2.LINE_AA)
    cv2.imwrite(str(path), img)


def test_detect_image_contract_and_bad_photos(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    _crack_photo(photos / "crack.png")
    cv2.imwrite(str(photos / "grey.png"), np.full((200, 200), 90, np.uint8))
    cv2.imwrite(str(photos / "tiny.png"), np.full((32, 32, 3), 90, np.uint8))
    (photos / "broken.jpg").write_text("not a jpeg")
    cv2.imwrite(str(photos / "huge.png"), np.zeros((10500, 10000), np.uint8))
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "schouw", "detect-image", str(photos), "--out-dir", str(out), "--gsd-m", "0.002"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr
    errors = sorted(line for line in r.stderr.splitlines() if line.startswith("error: "))
    assert len(errors) == 4
    for name, what in (("broken.jpg", "not an image"), ("grey.png", "grayscale"), ("huge.png", "too large"), ("tiny.png", "too small")):
        assert any(name in e and what in e for e in errors), (name, errors)
    assert "1 of 5 photos processed" in r.stdout
    mask = cv2.imread(str(out / "crack.png"), cv2.IMREAD_UNCHANGED)
    assert mask.shape == (320, 480) and set(np.unique(mask)) <= {0, 255}
    doc = json.loads((out / "crack.json").read_text())
    assert {"image", "width", "height", "gsd_m", "defects"} <= set(doc) and (doc["width"], doc["height"]) == (480, 320)
    cracks = [d for d in doc["defects"] if d["type"] == "crack"]
    assert len(cracks) == 1
    d = cracks[0]
    assert set(d) >= {"type", "subtype", "severity", "score", "bbox_px", "polygon_px", "length_px", "area_px"}
    xmin, ymin, xmax, ymax = d["bbox_px"]
    assert xmin <= 45 and xmax >= 435 and 130 <= ymin and ymax <= 190  # where it was painted
    assert d["length_px"] > 350 and d["severity"] in ("L", "M", "E") and len(d["polygon_px"]) >= 3
    # the measures issue 3 names for a crack, in metres at the photo's GSD: 0.8 m long (read as 0.95: the mask runs on
    # a little past the ends and wobbles on the texture), 4 px (8 mm) wide
    # (each field is rounded on its own: metres and pixels agree to the metres' last digit)
    assert d["length_m"] == pytest.approx(d["length_px"] * 0.002, abs=1e-4) and 0.7 <= d["length_m"] <= 1.0, d
    assert 2.5 <= d["mean_width_px"] <= 6 and d["max_width_px"] >= d["mean_width_px"], d
    assert d["mean_width_m"] == pytest.approx(d["mean_width_px"] * 0.002, abs=1e-5)
    assert d["max_width_m"] == pytest.approx(d["max_width_px"] * 0.002, abs=1e-5)
    assert d["area_m2"] == round(d["area_px"] * 0.002**2, 6)
    assert d["severity"] == ("L" if d["mean_width_m"] < 0.010 else "M")  # issues.SEVERITY_RULES: crack width
    # the road surface looked at (a close-range photo is all road) and the share of it each type covers
    assert doc["road_m2"] == round(480 * 320 * 0.002**2, 4)
    assert doc["surface_share"] == {"crack": round(np.count_nonzero(mask) / (480 * 320), 5)} and 0 < doc["surface_share"]["crack"] < 0.05
    assert mask[155:175, 240].max() == 255  # the mask marks the painted crack
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_photos_of_one_name_do_not_overwrite_each_others_outputs(tmp_path):
    """``a.jpg`` beside ``a.png`` (a photo and its label, as some crack sets ship them), or ``a.png`` in two folders,
    would write the same ``a.png`` and ``a.json``: the first keeps them, the others are listed as errors and not run.
    The same file given twice is run once."""
    photos, other = tmp_path / "photos", tmp_path / "other"
    photos.mkdir()
    other.mkdir()
    _crack_photo(tmp_path / "crack.png")
    cv2.imwrite(str(photos / "a.jpg"), cv2.imread(str(tmp_path / "crack.png")))
    cv2.imwrite(str(photos / "a.png"), np.full((320, 480, 3), 255, np.uint8))  # a white label, stored as RGB
    cv2.imwrite(str(other / "a.png"), np.full((320, 480, 3), 90, np.uint8))
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "schouw", "detect-image", str(photos), str(other), str(photos / "a.jpg"),
                        "--out-dir", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2 and all("would overwrite those of" in e and str(photos / "a.jpg") in e for e in errors), errors
    assert {str(photos / "a.png"), str(other / "a.png")} == {e.split(": ")[1] for e in errors}
    assert "1 of 3 photos processed" in r.stdout
    doc = json.loads((out / "a.json").read_text())
    assert doc["image"] == str(photos / "a.jpg") and [d["type"] for d in doc["defects"]] == ["crack"]
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "a.png"]


def _with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """The JPEG with an EXIF block holding only an orientation tag (6: the viewer turns it 90 degrees clockwise)."""
    ifd = struct.pack(">HHHI", 1, 0x0112, 3, 1) + struct.pack(">HHI", orientation, 0, 0)
    app1 = b"Exif\x00\x00" + b"MM\x00\x2a" + struct.pack(">I", 8) + ifd
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]


def test_a_phone_photo_is_read_as_its_exif_orientation_shows_it(tmp_path):
    """A portrait phone photo is stored on its side with EXIF orientation 6: mask, size and pixel coordinates are those of
    the photo as viewers show it (the horizontal painted crack runs down the mask)."""
    _crack_photo(tmp_path / "flat.png")
    ok, jpeg = cv2.imencode(".jpg", cv2.imread(str(tmp_path / "flat.png")), [cv2.IMWRITE_JPEG_QUALITY, 95])
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "portrait.jpg").write_bytes(_with_exif_orientation(jpeg.tobytes(), 6))
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "schouw", "detect-image", str(photos), "--out-dir", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    mask = cv2.imread(str(out / "portrait.png"), cv2.IMREAD_UNCHANGED)
    doc = json.loads((out / "portrait.json").read_text())
    assert mask.shape == (480, 320) and (doc["width"], doc["height"]) == (320, 480)
    cracks = [d for d in doc["defects"] if d["type"] == "crack"]
    assert len(cracks) == 1
    xmin, ymin, xmax, ymax = cracks[0]["bbox_px"]  # stored (x, y) is shown at (319 - y, x): rows 150-170 become columns
    assert ymin <= 45 and ymax >= 435 and 130 <= xmin and xmax <= 190
    assert mask[240, 149:170].max() == 255


def test_jobs_give_the_same_outputs_and_the_same_errors(tmp_path):
    """--jobs 2 runs photos in two worker processes: byte-identical outputs, bad photos still listed, exit 2."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(4):
        _crack_photo(photos / f"crack{i}.png")
    (photos / "broken.jpg").write_text("not a jpeg")
    runs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        r = subprocess.run([sys.executable, "-m", "schouw", "detect-image", str(photos), "--out-dir", str(out), "--jobs", jobs],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 2, r.stderr
        errors = [line for line in r.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and "broken.jpg" in errors[0] and "not an image" in errors[0], errors
        assert "4 of 5 photos processed" in r.stdout
        runs[jobs] = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert len(runs["1"]) == 8 and runs["1"] == runs["2"]


def test_black_padding_is_no_defect_and_a_near_black_crack_is_no_padding():
    """Padding bands (black, broad, at the frame) are not valid photo: no defect along their edge. A crack whose core is
    near-black in a dark photo is content: found whole, not cut out as padding (as it was while every pixel of at most 8
    grey levels was padding)."""
    from schouw.photos import DEFAULT_GSD_M, detect_photo, padding_bands

    img = np.ascontiguousarray(np.moveaxis(asphalt(320, 480), 0, -1))
    img[:, :60] = 0  # a padding band on the left
    line = np.zeros(img.shape[:2], np.uint8)
    cv2.polylines(line, [np.array([[100, 160], [300, 170], [460, 150]], np.int32)], False, 255, 3, cv2.LINE_AA)
    img[line > 0] = (img[line > 0] * 0.45).astype(np.uint8)
    band = padding_bands(img)
    assert band[:, :60].all() and not band[:, 60:].any()
    mask, defects = detect_photo(img, DEFAULT_GSD_M)
    assert defects and all(d.bbox_px[0] >= 60 for d in defects)  # nothing along the band's edge
    assert mask[:, :70].max() == 0 and mask[155:180, 200].max() == 255

    dark = (np.ascontiguousarray(np.moveaxis(asphalt(320, 480), 0, -1)) * 0.45).astype(np.uint8)
    core = np.zeros(dark.shape[:2], np.uint8)
    cv2.polylines(core, [np.array([[20, 160], [240, 170], [460, 150]], np.int32)], False, 255, 3)
    dark[core > 0] = 4  # near-black: below the old padding level of 8
    assert not padding_bands(dark).any()
    mask, _ = detect_photo(dark, DEFAULT_GSD_M)
    found = cv2.dilate(mask, np.ones((5, 5), np.uint8)) > 0
    assert found[core > 0].mean() > 0.9
