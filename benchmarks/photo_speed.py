"""Speed of the full road detector set as `schouw detect-image` runs it, one core, per 512 x 512 pixels.

    .venv/bin/python benchmarks/photo_speed.py FOLDER --gsd-m 0.002 [--crack-model mlp] [--repeat N] [--profile N] [--default-malloc]

Times :func:`schouw.photos.photo_defects` (segmentation for drone photos, cracks, potholes,
ravelling, weeds) over every photo of FOLDER after one warm-up photo; reading and writing
files are not timed. Prints ms per photo and ms per 512 x 512 pixels (the issue's unit), for the
fastest of ``--repeat`` passes over the folder and for the slowest (on this shared VM one pass
can be 20 % slower than the next), with the process's CPU time beside the wall-clock time, and
as a ratio to decoding the same photos in the same run (a yardstick that moves with the machine).
Like detect-image it first calls :func:`schouw.heap.keep_heap`; ``--default-malloc`` leaves
glibc's defaults, to see what that setting is worth.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # one core: numpy's matrix products too
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402

from schouw.heap import keep_heap  # noqa: E402
from schouw.photos import list_photos, photo_defects, read_photo  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--gsd-m", type=float, default=0.002)
    ap.add_argument("--crack-model", choices=("classic", "mlp"), default="classic")
    ap.add_argument("--repeat", type=int, default=3, metavar="N", help="passes over the folder (default 3)")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="also print the N costliest functions (cProfile, own time) of a second, profiled pass")
    ap.add_argument("--default-malloc", action="store_true", help="do not call keep_heap() (glibc's default allocator settings)")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    if not args.default_malloc:
        keep_heap()
    model = None
    if args.crack_model == "mlp":
        from schouw.detect.crack_mlp import CrackMLP, default_model_dir

        model = CrackMLP.load(default_model_dir())
    paths = list_photos([str(args.folder)])
    photos = [read_photo(p) for p in paths]
    reads = []
    for _ in range(max(1, args.repeat)):  # the yardstick, timed in the same run: decoding the same photos
        t = time.perf_counter()
        for p in paths:
            read_photo(p)
        reads.append(time.perf_counter() - t)
    photo_defects(photos[0], args.gsd_m, crack_model=model)
    passes = []
    for _ in range(max(1, args.repeat)):
        t, c = time.perf_counter(), time.process_time()
        for rgb in photos:
            photo_defects(rgb, args.gsd_m, crack_model=model)
        passes.append((time.perf_counter() - t, time.process_time() - c))
    px = sum(rgb.shape[0] * rgb.shape[1] for rgb in photos)
    print(f"{len(photos)} photos at {args.gsd_m} m, cracks {args.crack_model}{', default malloc' if args.default_malloc else ''}, "
          f"{len(passes)} passes:")
    print(f"  reading (decoding) the same photos: {1000 * min(reads) / (px / 512 / 512):.1f} ms per 512 x 512; "
          f"detection takes {min(passes)[0] / min(reads):.1f}x that (fastest passes of each)")
    for name, (dt, cpu) in (("fastest", min(passes)), ("slowest", max(passes))):
        print(f"  {name}: {1000 * dt / len(photos):.1f} ms per photo, {1000 * dt / (px / 512 / 512):.1f} ms per 512 x 512 (one core); "
              f"CPU time {1000 * cpu / (px / 512 / 512):.1f} ms per 512 x 512")
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        for rgb in photos:
            photo_defects(rgb, args.gsd_m, crack_model=model)
        prof.disable()
        print("own time per photo, ms (profiled pass; cProfile adds overhead):")
        stats = pstats.Stats(prof).stats
        for (file, line, name), (_, ncalls, own, _, _) in sorted(stats.items(), key=lambda kv: -kv[1][2])[: args.profile]:
            where = name if file == "~" else f"{Path(file).name}:{line}({name})"
            print(f"  {1000 * own / len(photos):7.2f}  {where}  ({ncalls} calls)")


if __name__ == "__main__":
    main()
