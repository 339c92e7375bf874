"""Cost of the DEFLATE block check (`schouw.integrity`), compared in one run with a plain rasterio read.

    .venv/bin/python benchmarks/bench_integrity.py [--size 8192 --size 16384 ...] [--repeat 2]

For each size: writes a DEFLATE GeoTIFF with predictor 2 in 512 px tiles (OpenDroneMap's export) of the
sample scene, mirrored and repeated; then times (a) reading every 1024 x 1024 window with rasterio and
(b) `damaged_blocks` on it, each in a child process whose peak RSS is measured (best of --repeat, so the
page cache treats both alike). Prints seconds, their ratio, MB of file checked per second and peak RSS;
the check must not grow in memory with the file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import rasterio
import rasterio.windows

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
import rasterio
import rasterio.windows
from rasterio.windows import Window
from schouw.integrity import damaged_blocks
path, what = sys.argv[1], sys.argv[2]
t = time.perf_counter()
if what == "read":
    with rasterio.open(path) as src:
        for r in range(0, src.height, 1024):
            for c in range(0, src.width, 1024):
                src.read(window=Window(c, r, 1024, 1024))
    bad = None
else:
    bad = damaged_blocks(path)
s = time.perf_counter() - t
# VmHWM, not ru_maxrss: that one carries the parent's peak over from the fork, VmHWM starts anew with the exec
hwm_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"s": s, "rss_mb": hwm_kb / 1024, "bad": bad}))
"""


def write_scene(path: Path, size: int) -> None:
    """The sample orthophoto mirrored and repeated to ``size`` x ``size`` px, DEFLATE with predictor 2, 512 px tiles."""
    with rasterio.open(ROOT / "sample_data" / "sample_orthophoto.tif") as src:
        profile, data = src.profile, src.read()
    reps_x = -(-size // data.shape[2])
    row = np.concatenate([data if i % 2 == 0 else data[:, :, ::-1] for i in range(reps_x)], axis=2)[:, :, :size]
    reps_y = -(-size // row.shape[1])
    profile.update(width=size, height=size, compress="deflate", predictor=2, tiled=True, blockxsize=512, blockysize=512,
                   photometric="RGB", BIGTIFF="IF_SAFER")
    with rasterio.open(path, "w", **profile) as dst:
        for i in range(reps_y):  # a band of rows at a time: the writer's memory does not grow with the size either
            band = row if i % 2 == 0 else row[:, ::-1, :]
            h = min(band.shape[1], size - i * band.shape[1])
            dst.write(band[:, :h, :], window=rasterio.windows.Window(0, i * band.shape[1], size, h))


def run(path: Path, what: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), what], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, action="append", help="side in pixels (default 8192 and 16384)")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    print(f"{'size':>6} {'MP':>6} {'file_MB':>8} {'read_s':>7} {'check_s':>8} {'check/read':>10} {'MB/s':>6} "
          f"{'read_rss_MB':>11} {'check_rss_MB':>12}")
    with tempfile.TemporaryDirectory(prefix="schouw-bench-") as tmp:
        for size in args.size or [8192, 16384]:
            path = Path(tmp) / f"deflate_{size}.tif"
            write_scene(path, size)
            mb = path.stat().st_size / 1e6
            reads = [run(path, "read") for _ in range(args.repeat)]
            checks = [run(path, "check") for _ in range(args.repeat)]
            assert all(c["bad"] == [] for c in checks), checks
            r, c = min(x["s"] for x in reads), min(x["s"] for x in checks)
            print(f"{size:>6} {size * size / 1e6:>6.1f} {mb:>8.1f} {r:>7.2f} {c:>8.2f} {c / r:>10.2f} {mb / c:>6.0f} "
                  f"{max(x['rss_mb'] for x in reads):>11.0f} {max(x['rss_mb'] for x in checks):>12.0f}")
            path.unlink()


if __name__ == "__main__":
    main()
