"""Speed and memory of `schouw inspect`, compared in one run with a plain rasterio read of the same file.

    .venv/bin/python benchmarks/bench_inspect.py --size 8192 [--size 16384 ...]

For each size: writes an RGB, JPEG-compressed, tiled GeoTIFF of realistic road and
green content (the sample scene, mirrored and repeated), then times (a) reading every
1024 x 1024 window with rasterio and (b) the `schouw inspect` command on it, in a
child process whose peak RSS is measured. Prints read_s (the better of two reads, so a
cold page cache does not flatter the ratio), inspect_s (wall, including the temporary
Prefect server start), detect_s (the flow's tile work and publishing; publish_s alone), their ratios,
megapixels per second and peak memory (RSS of the inspect process; PSS summed over all its processes),
and the CPU seconds of each kind of process (inspect, Prefect server, tile workers), with the
cores all other processes took while the tile workers kept at least 1.5 cores busy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from schouw.synth import GSD_M, ORIGIN_RD, build_scene
from affine import Affine
from rasterio.crs import CRS


def make_orthophoto(path: Path, size: int) -> None:
    """Write a size x size orthophoto block by block (memory does not grow with size)."""
    scene = build_scene()
    tile = np.moveaxis(scene.rgb.round().astype(np.uint8), -1, 0)
    variants = [tile, tile[:, ::-1], tile[:, :, ::-1], tile[:, ::-1, ::-1]]
    th, tw = tile.shape[1:]
    profile = dict(driver="GTiff", width=size, height=size, count=3, dtype="uint8", crs=CRS.from_epsg(28992),
                   transform=Affine(GSD_M, 0, ORIGIN_RD[0], 0, -GSD_M, ORIGIN_RD[1]), tiled=True,
                   blockxsize=512, blockysize=512, compress="JPEG", photometric="YCBCR", jpeg_quality=90, BIGTIFF="IF_SAFER")
    with rasterio.open(path, "w", **profile) as dst:
        for r in range(0, size, 1024):
            for c in range(0, size, 1024):
                h, w = min(1024, size - r), min(1024, size - c)
                block = np.empty((3, h, w), np.uint8)
                yy = (np.arange(r, r + h) // th)
                xx = (np.arange(c, c + w) // tw)
                for vy in np.unique(yy):
                    for vx in np.unique(xx):
                        v = variants[int(vy * 7 + vx * 3) % 4]
                        rows = np.nonzero(yy == vy)[0]
                        cols = np.nonzero(xx == vx)[0]
                        block[:, rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] = v[
                            :, (r + rows[0]) % th : (r + rows[-1]) % th + 1, (c + cols[0]) % tw : (c + cols[-1]) % tw + 1
                        ]
                dst.write(block, window=Window(c, r, w, h))


def plain_read_s(path: Path) -> float:
    t = time.perf_counter()
    with rasterio.Env(GDAL_CACHEMAX=128 * 1024 * 1024), rasterio.open(path) as src:
        for r in range(0, src.height, 1024):
            for c in range(0, src.width, 1024):
                src.read(window=Window(c, r, min(1024, src.width - c), min(1024, src.height - r)))
    return time.perf_counter() - t


def _descendants(pid: int) -> list[int]:
    out = [pid]
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for t in tasks:
        try:
            kids = open(f"/proc/{pid}/task/{t}/children").read().split()
        except OSError:
            continue
        for k in kids:
            out += _descendants(int(k))
    return out


def _mem_kb(pid: int, field: str = "Rss") -> int:
    """``Rss`` or ``Pss`` (resident memory with shared pages divided among the processes sharing them), kB."""
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_s(pid: int, root: int) -> tuple[str, float] | None:
    """(kind, CPU seconds so far) of a process of the tree: ``inspect`` (the root), ``prefect server``,
    ``tile workers`` (with their forkserver) or ``other``."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        cmd = open(f"/proc/{pid}/cmdline").read()
    except OSError:
        return None
    kind = ("inspect" if pid == root else "prefect server" if "uvicorn" in cmd or "prefect" in cmd else
            "tile workers" if "multiprocessing" in cmd else "other")
    return kind, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _watch_tree(pid: int, peaks: dict, stop: threading.Event, every_s: float = 0.2) -> None:
    """Sample ``pid`` and all its descendants: peak of the sum of their PSS, peak RSS of ``pid`` alone, CPU per process.

    PSS, not RSS, for the sum: the tile workers share the pages of their forkserver (imports),
    and all share the libraries; summed RSS would count those pages once per process.
    """
    cpu: dict[int, tuple[str, float]] = {}
    series: list[tuple[float, dict[str, float]]] = []
    while not stop.is_set():
        procs = _descendants(pid)
        pss = sum(_mem_kb(p, "Pss") for p in procs)
        peaks["tree"] = max(peaks.get("tree", 0), pss)
        peaks["main"] = max(peaks.get("main", 0), _mem_kb(pid, "Rss"))
        for p in procs:
            if (c := _cpu_s(p, pid)) is not None:
                cpu[p] = c
        by_kind: dict[str, float] = {}
        for kind, sec in cpu.values():
            by_kind[kind] = by_kind.get(kind, 0.0) + sec
        series.append((time.perf_counter(), by_kind))
        stop.wait(every_s)
    peaks["cpu"] = series[-1][1] if series else {}
    # While the tile workers keep at least 1.5 cores busy: how much CPU did everything else take?
    busy_dt, others = 0.0, 0.0
    for (t0, a), (t1, b) in zip(series, series[1:]):
        dt = t1 - t0
        if dt > 0 and (b.get("tile workers", 0) - a.get("tile workers", 0)) / dt >= 1.5:
            busy_dt += dt
            others += sum(b.get(k, 0) - a.get(k, 0) for k in b if k != "tile workers")
    peaks["others_while_detecting"] = (others / busy_dt if busy_dt else float("nan"), busy_dt)


def inspect_run(path: Path, out: Path, home: Path, *extra: str) -> tuple[float, dict, dict]:
    """Wall time and peak RSS (MB) of one `schouw inspect` run.

    Peaks: ``main`` the RSS of the inspect process itself, ``tree`` the PSS summed over it and
    all its processes (tile workers, temporary Prefect server), sampled every 0.2 s.
    """
    env = dict(os.environ, PREFECT_HOME=str(home))
    shutil.rmtree(out.parent / ".schouw-cache" / out.name, ignore_errors=True)  # an interrupted earlier run must not be resumed
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "schouw", "inspect", str(path), "--out", str(out), *extra], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peaks: dict = {}
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_tree, args=(proc.pid, peaks, stop), daemon=True)
    watcher.start()
    _, status, _ = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    stop.set()
    watcher.join()
    if status != 0:
        raise SystemExit(f"schouw inspect failed on {path} (status {status})")
    cpu, others = peaks.pop("cpu", {}), peaks.pop("others_while_detecting", (float("nan"), 0.0))
    peaks = {k: v / 1024 for k, v in peaks.items()}
    peaks["cpu"], peaks["others_while_detecting"] = cpu, others
    run = json.loads((out / "run.json").read_text())
    if run["tiles"]["resumed_tiles"]:
        raise SystemExit(f"{out}: {run['tiles']['resumed_tiles']} tiles were resumed, not computed; the timing would flatter")
    return wall, peaks, run


def _reference_kernel(_: int = 0) -> float:
    """CPU seconds of a fixed, memory-heavy OpenCV/numpy workload shaped like one tile's (blur, threshold, morphology on 1124^2 planes)."""
    import cv2

    cv2.setNumThreads(1)
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (1124, 1124, 3), np.uint8)
    t = time.process_time()
    for _ in range(12):
        f = img.astype(np.float32)
        g = f[..., 1] - np.maximum(f[..., 0], f[..., 2])
        b = cv2.GaussianBlur(g, (0, 0), 3)
        m = cv2.morphologyEx((b > 0).astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
        cv2.connectedComponentsWithStats(m)
    return time.process_time() - t


def machine_scaling(rounds: int = 3) -> float:
    """Speed-up of 2 processes over 1 on the reference kernel: what this machine allows for tile-like work.

    Two processes each run the kernel ``rounds`` times at once; the ratio is the single process's median
    wall time to the pair's (1 worker does the pair's work in twice its own time).
    """
    import multiprocessing as mp

    one, two = [], []
    with mp.get_context("spawn").Pool(2) as pool:
        pool.map(_reference_kernel, range(2))  # warm imports
        for _ in range(rounds):
            t = time.perf_counter()
            _reference_kernel()
            one.append(time.perf_counter() - t)
            t = time.perf_counter()
            pool.map(_reference_kernel, range(2), chunksize=1)
            two.append(time.perf_counter() - t)
    return 2 * float(np.median(one)) / float(np.median(two))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, action="append", help="side in pixels (repeatable); default 4096")
    ap.add_argument("--keep", type=Path, help="folder to keep the generated files in")
    ap.add_argument("--workers-compare", action="store_true", help="also time 1 vs 2 workers on the first size")
    ap.add_argument("--repeat", type=int, default=1, help="runs per worker count in --workers-compare (alternating; medians shown)")
    args = ap.parse_args()
    sizes = args.size or [4096]
    work = args.keep or Path(tempfile.mkdtemp(prefix="schouw-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"{'size':>7} {'MP':>7} {'read_s':>8} {'inspect_s':>10} {'detect_s':>9} {'inspect/read':>12} {'detect/read':>11} {'publish_s':>9} {'MP/s':>7} {'rss_main_MB':>11} {'pss_tree_MB':>11} {'issues':>7}")
    for size in sizes:
        tif = work / f"bench_{size}.tif"
        if not tif.exists():
            make_orthophoto(tif, size)
        read_s = min(plain_read_s(tif), plain_read_s(tif))
        wall, peaks, run = inspect_run(tif, work / f"out_{size}", work / "prefect")
        detect_s = run["timings_s"]["detect"] + run["timings_s"].get("publish", 0)
        mp = size * size / 1e6
        print(f"{size:>7} {mp:>7.1f} {read_s:>8.2f} {wall:>10.2f} {detect_s:>9.2f} {wall / read_s:>12.1f} {detect_s / read_s:>11.1f} "
              f"{run['timings_s'].get('publish', 0):>9.2f} {mp / wall:>7.1f} {peaks['main']:>11.0f} {peaks['tree']:>11.0f} {run['counts']['total']:>7}")
        share, busy = peaks["others_while_detecting"]
        print("        CPU seconds by process (sampled every 0.2 s): " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(peaks["cpu"].items()))
              + f"; while the tile workers kept >= 1.5 cores busy ({busy:.1f} s) all other processes used {share:.2f} cores")
    if args.workers_compare:
        tif = work / f"bench_{sizes[0]}.tif"
        times: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.repeat):  # alternating, so a slow spell of a shared machine hits both counts
            for w in (1, 2):
                _, _, run = inspect_run(tif, work / f"out_w{w}", work / "prefect", "--workers", str(w))
                times[w].append(run["timings_s"]["detect"])
        med = {w: float(np.median(t)) for w, t in times.items()}
        runs = "; ".join(f"{w} worker{'s' if w > 1 else ''}: " + ", ".join(f"{t:.2f}" for t in ts) for w, ts in times.items())
        print(f"detect_s ({runs})")
        print(f"median detect_s with 1 worker {med[1]:.2f}, with 2 workers {med[2]:.2f}: speed-up {med[1] / med[2]:.2f}x")
        print(f"this machine, 2 processes over 1 on a tile-like reference kernel (no schouw code): {machine_scaling():.2f}x")
    print("rss_main_MB: peak RSS of the inspect process; pss_tree_MB: peak of the PSS summed over it, its tile "
          "workers and its temporary Prefect server.")


if __name__ == "__main__":
    main()
