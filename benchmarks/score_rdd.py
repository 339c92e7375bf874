"""Road detectors on the RDD2022 China_Drone photos: damage boxes hit, detections inside boxes, potholes typed right.

    .venv/bin/python benchmarks/score_rdd.py [--gsd-m 0.025] [--data ../shared/data] [--set NAME=VALUE ...] [--oracle] [--sweep]
        [--photos all|even|odd]

The 200 nadir drone photos (512 x 512, ~2-3 cm per pixel judging by 15 cm lane markings)
carry boxes, not pixel masks, so the protocol of issue 3 is used:
- a damage box (D00, D10, D20, D40) is *hit* when detections of any road type cover at
  least 1 % of it; reported per class;
- *in boxes*: the share of all detected defect pixels that lie inside a damage or a repair
  box (the boxes cover only ~11 % of the pixels, so chance gives ~0.11);
- a hit pothole box (D40) counts as *typed right* when most of the detected pixels in it are
  ``pothole``;
- *potholes outside boxes*: the pothole detections with no pixel in any box (false potholes, or damage the
  annotators left out);
- *crack subtype*: of the crack pixels detected inside the D00, D10 and D20 boxes, the share
  whose crack has the box's subtype (``longitudinal``, ``transverse``, ``alligator``);
- *crack widths*: the quartiles of the crack pieces' mean width and what the severity table makes of them (there is
  no width truth here; ``benchmarks/crack_widths.py`` checks widths on CrackForest).
``--oracle`` also prints an upper bound for any rule that keeps or drops whole crack pieces:
the same figures when each crack piece is kept only if at least a share T of its pixels lies in
a box (a judge that knows the boxes). If that bound is far above the detector, the pieces are
found and the loss is in judging them; if not, in finding them.
``--sheet PATH`` writes a contact sheet (PNG) of 48 crack pieces that lie outside every box, drawn at
random in proportion to their pixels (so each stands for about the same share of the pixels outside
boxes): the photo beside the same crop with the piece in red and the boxes in green, to see what
the detections outside boxes are.
``--sweep`` prints what the detector's own judgement can trade: the same figures when only crack
pieces with a score of at least S are kept (the score grows with contrast and length). Where no S
meets both targets, a stricter threshold buys precision with damage boxes missed.
The road detectors run as ``schouw detect-image --gsd-m`` runs them (a drone photo is
segmented into road and green first; black padding bands are never valid).
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from schouw.detect.road import RoadParams
from schouw.issues import SEVERITIES, severity
from schouw.photos import photo_defects, read_photo

DAMAGE = ("D00", "D10", "D20", "D40")
ROOT = Path(__file__).resolve().parents[1]


ORACLE_SHARES = (0.01, 0.1, 0.3, 0.5)
SWEEP_SCORES = (0.45, 0.5, 0.55, 0.6, 0.7, 0.8)


SUBTYPE_OF = {"D00": "longitudinal", "D10": "transverse", "D20": "alligator"}


def masks_of(defects, shape: tuple[int, int], keep=lambda d: True, key=lambda d: d.type) -> dict[str, np.ndarray]:
    """Boolean mask per defect type (or other ``key``) of the ``defects`` that ``keep`` accepts, on an image of ``shape``."""
    out: dict[str, np.ndarray] = {}
    for d in defects:
        if not keep(d):
            continue
        m = out.setdefault(key(d), np.zeros(shape, bool))
        h, w = d.mask.shape
        m[d.row0 : d.row0 + h, d.col0 : d.col0 + w] |= d.mask
    return out


def union_of(defects, shape: tuple[int, int], keep=lambda d: True) -> np.ndarray:
    """Boolean mask of every defect that ``keep`` accepts, of any type, on an image of ``shape``."""
    return masks_of(defects, shape, keep, lambda d: "any").get("any", np.zeros(shape, bool))


def tally(acc: list[int], det: np.ndarray, photo_boxes: list, in_box: np.ndarray) -> None:
    """Add to ``acc`` the damage boxes the detections ``det`` hit, their pixels, and those of them inside ``in_box``."""
    acc[0] += sum(is_hit(det, *b) for cls, *b in photo_boxes if cls in DAMAGE)
    acc[1] += int(det.sum())
    acc[2] += int((det & in_box).sum())


def is_hit(det: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> bool:
    """A box is hit when the detections ``det`` cover at least 1 % of it."""
    return int(det[y0:y1, x0:x1].sum()) >= 0.01 * max((x1 - x0) * (y1 - y0), 1)


def box_share(d, in_box: np.ndarray) -> float:
    """Share of defect ``d``'s pixels inside ``in_box``."""
    h, w = d.mask.shape
    return float(in_box[d.row0 : d.row0 + h, d.col0 : d.col0 + w][d.mask].mean())


@dataclass
class Tally:
    """What :func:`score` counts over the photos (see the module doc)."""

    hits: dict = field(default_factory=lambda: defaultdict(int))  # per damage class: boxes hit
    total: dict = field(default_factory=lambda: defaultdict(int))  # per damage class: boxes
    pothole_right: int = 0  # D40 boxes hit whose detected pixels are mostly ``pothole``
    potholes: int = 0  # pothole detections ...
    potholes_outside: int = 0  # ... of them with no pixel in any box
    sub_px: dict = field(default_factory=lambda: defaultdict(int))  # per class: crack pixels in its boxes ...
    sub_right: dict = field(default_factory=lambda: defaultdict(int))  # ... and of them those of its subtype
    det_px: int = 0  # detected pixels (any type)
    det_in_px: int = 0  # ... of them inside a damage or repair box
    box_px: int = 0  # pixels inside boxes
    all_px: int = 0  # all pixels
    by_type_px: dict = field(default_factory=lambda: defaultdict(int))
    by_type_in: dict = field(default_factory=lambda: defaultdict(int))
    seconds: float = 0.0  # detection time
    oracle: dict = field(default_factory=lambda: {t: [0, 0, 0] for t in ORACLE_SHARES})  # T: boxes hit, pixels, inside
    sweep: dict = field(default_factory=lambda: {s: [0, 0, 0] for s in SWEEP_SCORES})  # least score S: the same
    outside: list = field(default_factory=list)  # (photo, crack piece, pixels) outside every box
    crack_widths_m: list = field(default_factory=list)  # the mean width of every crack piece (m)

    @property
    def hit_share(self) -> float:
        return sum(self.hits.values()) / max(sum(self.total.values()), 1)

    @property
    def inside_share(self) -> float:
        return self.det_in_px / max(self.det_px, 1)


def load(data: Path, photos: str = "all") -> tuple[list[Path], dict[str, list[tuple[str, int, int, int, int]]]]:
    """The RDD2022 China_Drone photos under ``data`` (all, or every other one in name order from the first (even) or the
    second (odd)) and their boxes per photo name: (class, xmin, ymin, xmax, ymax) in pixels."""
    base = data / "road_damage_drone" / "rdd2022_china_drone"
    boxes: dict[str, list[tuple[str, int, int, int, int]]] = defaultdict(list)
    with open(base / "boxes.csv") as fh:
        for row in csv.DictReader(fh):
            boxes[row["image"]].append((row["class"], int(row["xmin"]), int(row["ymin"]), int(row["xmax"]), int(row["ymax"])))
    images = sorted(p for p in (base / "images").iterdir() if p.suffix.lower() == ".jpg")
    if photos != "all":  # every other photo in name order: a tuning half and a held-out half
        images = images[photos == "odd" :: 2]
    return images, boxes


def score(images: list[Path], boxes: dict, gsd_m: float, params: RoadParams = RoadParams(), model=None, oracle: bool = False,
          sweep: bool = False, sheet: bool = False) -> Tally:
    """Run the road detectors on ``images`` as ``schouw detect-image --gsd-m`` does and count against ``boxes``."""
    r = Tally()
    for path in images:
        rgb = read_photo(path)
        t = time.perf_counter()
        defects = photo_defects(rgb, gsd_m, params, model)[0]
        r.seconds += time.perf_counter() - t
        masks = masks_of(defects, rgb.shape[:2])
        subtypes = masks_of(defects, rgb.shape[:2], lambda d: d.type == "crack", lambda d: d.subtype)
        any_det = union_of(defects, rgb.shape[:2])
        photo_boxes = boxes.get(path.name, [])
        in_box = np.zeros(rgb.shape[:2], bool)
        for _, x0, y0, x1, y1 in photo_boxes:
            in_box[y0:y1, x0:x1] = True
        if oracle:  # only crack pieces a judge that knows the boxes keeps, and every other defect
            shares = {id(d): box_share(d, in_box) for d in defects if d.type == "crack"}
            for share, acc in r.oracle.items():
                tally(acc, union_of(defects, rgb.shape[:2], lambda d: d.type != "crack" or shares[id(d)] >= share),
                      photo_boxes, in_box)
        if sheet:  # crack pieces outside every box, and their pixel counts
            r.outside.extend((path, d, int(d.mask.sum())) for d in defects if d.type == "crack" and box_share(d, in_box) == 0)
        if sweep:  # only crack pieces of at least a score
            for least, acc in r.sweep.items():
                tally(acc, union_of(defects, rgb.shape[:2], lambda d: d.type != "crack" or d.score >= least), photo_boxes, in_box)
        for cls, x0, y0, x1, y1 in photo_boxes:
            if cls not in DAMAGE:
                continue
            if cls in SUBTYPE_OF and "crack" in masks:
                r.sub_px[cls] += int(masks["crack"][y0:y1, x0:x1].sum())
                if SUBTYPE_OF[cls] in subtypes:
                    r.sub_right[cls] += int(subtypes[SUBTYPE_OF[cls]][y0:y1, x0:x1].sum())
            r.total[cls] += 1
            if is_hit(any_det, x0, y0, x1, y1):
                covered = int(any_det[y0:y1, x0:x1].sum())
                r.hits[cls] += 1
                if cls == "D40":
                    pot = int(masks["pothole"][y0:y1, x0:x1].sum()) if "pothole" in masks else 0
                    r.pothole_right += pot * 2 > covered
        pots = [box_share(d, in_box) for d in defects if d.type == "pothole"]
        r.potholes += len(pots)
        r.potholes_outside += sum(share == 0 for share in pots)
        r.crack_widths_m.extend(d.extra["mean_width_px"] * gsd_m for d in defects if d.type == "crack")
        r.det_px += int(any_det.sum())
        r.det_in_px += int((any_det & in_box).sum())
        r.box_px += int(in_box.sum())
        r.all_px += in_box.size
        for t_, m in masks.items():
            r.by_type_px[t_] += int(m.sum())
            r.by_type_in[t_] += int((m & in_box).sum())
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gsd-m", type=float, default=0.025)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--crack-model", choices=("classic", "mlp"), default="classic",
                    help="mlp: the learned crack stage (models/crack-mlp), as detect-image --crack-model mlp")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a RoadParams field to try at another value (repeatable), e.g. --set marking_contrast=40")
    ap.add_argument("--photos", choices=("all", "even", "odd"), default="all",
                    help="all photos, or every other one in name order from the first (even) or the second (odd)")
    ap.add_argument("--oracle", action="store_true",
                    help="also the upper bound of judging whole crack pieces, by a judge that knows the boxes (see above)")
    ap.add_argument("--sweep", action="store_true",
                    help="also the figures when only crack pieces of at least a score S are kept (see above)")
    ap.add_argument("--sheet", type=Path, metavar="PATH",
                    help="also write a contact sheet (PNG) of crack pieces outside every box (see above)")
    args = ap.parse_args()
    params = RoadParams(**{k: float(v) for k, v in (s.split("=", 1) for s in args.set)})
    model = None
    if args.crack_model == "mlp":
        from schouw.detect.crack_mlp import CrackMLP, default_model_dir

        model = CrackMLP.load(default_model_dir())
    images, boxes = load(args.data, args.photos)
    r = score(images, boxes, args.gsd_m, params, model, oracle=args.oracle, sweep=args.sweep, sheet=bool(args.sheet))
    hits, total, by_type_px, by_type_in = r.hits, r.total, r.by_type_px, r.by_type_in
    print(f"RDD2022 China_Drone, {len(images)} photos ({args.photos}), gsd {args.gsd_m} m, road-classic as in detect-image, cracks {args.crack_model}"
          + (f", {' '.join(args.set)}" if args.set else ""))
    print(f"{'class':6s} {'boxes':>6s} {'hit':>5s} {'hit share':>9s}")
    for cls in DAMAGE:
        print(f"{cls:6s} {total[cls]:>6d} {hits[cls]:>5d} {hits[cls] / max(total[cls], 1):>9.2f}")
    n, h = sum(total.values()), sum(hits.values())
    print(f"{'all':6s} {n:>6d} {h:>5d} {r.hit_share:>9.2f}   (target >= 0.85)")
    print(f"detected pixels inside damage or repair boxes: {r.inside_share:.3f} (target >= 0.60; "
          f"boxes cover {r.box_px / max(r.all_px, 1):.2f} of all pixels)")
    for t_ in sorted(by_type_px):
        print(f"  {t_:18s} {by_type_px[t_]:>8d} px, {by_type_in[t_] / max(by_type_px[t_], 1):.2f} inside boxes")
    print(f"D40 boxes hit and typed pothole: {r.pothole_right} of {hits['D40']} hit ({total['D40']} boxes)")
    print(f"pothole detections: {r.potholes}, of them {r.potholes_outside} outside every box")
    print("crack subtype, share of the crack pixels in a class's boxes that have its subtype: "
          + ", ".join(f"{cls} {sub} {r.sub_right[cls] / max(r.sub_px[cls], 1):.2f}" for cls, sub in SUBTYPE_OF.items()))
    w = np.array(r.crack_widths_m)
    if len(w):  # no truth for widths here: what the severity table makes of them
        sev = [severity("crack", {"mean_width_m": x}) for x in w]
        print(f"crack pieces' mean width: quartiles {' / '.join(f'{1000 * q:.0f}' for q in np.percentile(w, [25, 50, 75]))} mm; "
              f"severity {', '.join(f'{k} {sev.count(k)}' for k in SEVERITIES)}")
    print(f"{1000 * r.seconds / len(images):.0f} ms per photo (detection only, one core)")
    if args.oracle:
        print("upper bound of judging whole crack pieces (a judge that knows the boxes keeps a piece with >= T of it inside):")
        for share, (hit, det, inside) in r.oracle.items():
            print(f"  T {share:4.2f}: hit {hit / max(n, 1):.2f}, detected pixels inside boxes {inside / max(det, 1):.2f}")
    if args.sweep:
        print("the detector's own judgement (only crack pieces with a score of at least S kept):")
        for least, (hit, det, inside) in r.sweep.items():
            print(f"  S {least:4.2f}: hit {hit / max(n, 1):.2f}, detected pixels inside boxes {inside / max(det, 1):.2f}")

    if args.sheet:
        write_sheet(args.sheet, r.outside, boxes)
        print(f"contact sheet of crack pieces outside every box: {args.sheet}")


SHEET_PIECES, SHEET_COLUMNS, SHEET_CELL_PX = 48, 4, 150


def write_sheet(path: Path, outside: list, boxes: dict, seed: int = 0) -> None:
    """A PNG of ``SHEET_PIECES`` of the ``outside`` pieces, drawn at random in proportion to their pixels: each the photo's
    crop beside the same crop with the piece in red and the boxes in green, labelled with its photo and pixel count."""
    import cv2

    weights = np.array([n for _, _, n in outside], float)
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(outside), min(SHEET_PIECES, len(outside)), replace=False, p=weights / weights.sum())
    cells = []
    for k, i in enumerate(picks):
        photo, d, n = outside[i]
        bgr = cv2.cvtColor(read_photo(photo), cv2.COLOR_RGB2BGR)
        marked = bgr.copy()
        h, w = d.mask.shape
        marked[d.row0 : d.row0 + h, d.col0 : d.col0 + w][d.mask] = (0, 0, 255)
        for _, x0, y0, x1, y1 in boxes.get(photo.name, []):
            cv2.rectangle(marked, (x0, y0), (x1, y1), (0, 255, 0), 1)
        half = max(h, w) // 2 + 24  # the piece and some of its surroundings, padded black past the photo's edge
        cy, cx = d.row0 + h // 2, d.col0 + w // 2

        def crop(img: np.ndarray) -> np.ndarray:
            padded = cv2.copyMakeBorder(img, half, half, half, half, cv2.BORDER_CONSTANT)
            return cv2.resize(padded[cy : cy + 2 * half, cx : cx + 2 * half], (SHEET_CELL_PX, SHEET_CELL_PX),
                              interpolation=cv2.INTER_AREA)

        cell = np.hstack([crop(bgr), crop(marked)])
        cv2.putText(cell, f"{k} {photo.stem} {n} px", (2, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 255, 255), 1)
        cells.append(cell)
    while len(cells) % SHEET_COLUMNS:
        cells.append(np.zeros_like(cells[0]))
    rows = [np.hstack(cells[i : i + SHEET_COLUMNS]) for i in range(0, len(cells), SHEET_COLUMNS)]
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.vstack(rows))


if __name__ == "__main__":
    main()
