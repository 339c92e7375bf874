"""Where a tile's time and the process's memory go: cProfile over a few tiles, RSS over many.

    .venv/bin/python benchmarks/profile_tiles.py ORTHOPHOTO [--tiles 8] [--rss-tiles 128]
    .venv/bin/python benchmarks/profile_tiles.py ORTHOPHOTO --pool-compare 3 [--tile-px 1024]

Prints the top functions by own time for --tiles tiles (automatic areas, default parameters),
the time per tile, then the process's resident and peak memory every 32 tiles over --rss-tiles
tiles (growth per tile = memory that is not released between tiles).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import time

from schouw.orthophoto import open_orthophoto
from schouw.params import InspectParams
from schouw.pipeline import make_tiles, process_tiles


def rss_mb() -> tuple[int, int]:
    status = open("/proc/self/status").read()
    get = lambda key: int(re.search(rf"{key}:\s+(\d+)", status).group(1)) // 1024  # noqa: E731
    return get("VmRSS"), get("VmHWM")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("orthophoto")
    ap.add_argument("--tiles", type=int, default=8)
    ap.add_argument("--rss-tiles", type=int, default=128)
    ap.add_argument("--tile-px", type=int, default=InspectParams().tile_px, help="core tile size (pixels)")
    ap.add_argument("--pool-compare", type=int, default=0, metavar="REPEAT",
                    help="instead: time every tile in 1 and 2 worker processes (schouw.tile_pool), REPEAT times alternating")
    args = ap.parse_args()
    o = open_orthophoto(args.orthophoto)
    p = InspectParams(tile_px=args.tile_px)
    specs = make_tiles(o, p)
    if args.pool_compare:
        pool_compare(o, p, specs, args.pool_compare)
        return
    process_tiles(o, specs[:1], None, p)  # warm up (imports, first GDAL blocks)
    t0 = time.perf_counter()
    process_tiles(o, specs[: args.tiles], None, p)
    print(f"{1000 * (time.perf_counter() - t0) / args.tiles:.0f} ms per tile ({args.tiles} tiles, one thread, no profiler)")
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.runcall(process_tiles, o, specs[: args.tiles], None, p)
    print(f"{1000 * (time.perf_counter() - t0) / args.tiles:.0f} ms per tile ({args.tiles} tiles, under cProfile)")
    pstats.Stats(prof).sort_stats("tottime").print_stats(14)
    seen = [0]

    def on_tile(_spec) -> None:
        seen[0] += 1
        if seen[0] % 32 == 0:
            rss, hwm = rss_mb()
            print(f"after {seen[0]:4d} tiles: RSS {rss} MB, peak {hwm} MB")

    process_tiles(o, specs[args.tiles : args.tiles + args.rss_tiles], None, p, on_tile=on_tile)


def pool_compare(o, p, specs, repeat: int) -> None:
    """Detection alone (no Prefect, no publishing) in the tile worker pool: 1 vs 2 processes."""
    import tempfile
    from pathlib import Path

    from schouw.checkpoint import Checkpoints
    from schouw.tile_pool import TilePool
    from schouw.tiling import block_order

    pools = {w: TilePool(w) for w in (1, 2)}
    for pool in pools.values():
        process_tiles(o, specs[:2], None, p, store=Checkpoints(Path(tempfile.mkdtemp()) / "warm", "k"), pool=pool)
    times: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(repeat):
        for w, pool in pools.items():
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                r = process_tiles(o, block_order(specs), None, p, store=Checkpoints(Path(tmp) / "x", "k"), pool=pool)
                times[w].append(time.perf_counter() - t0)
                print(f"{w} worker(s): {times[w][-1]:.2f} s for {r.tiles} tiles, {1000 * r.seconds / r.tiles:.0f} ms CPU per tile", flush=True)
    for pool in pools.values():
        pool.shutdown()
    m1, m2 = sorted(times[1])[len(times[1]) // 2], sorted(times[2])[len(times[2]) // 2]
    print(f"median: 1 worker {m1:.2f} s, 2 workers {m2:.2f} s: speed-up {m1 / m2:.2f}x")


if __name__ == "__main__":
    main()
