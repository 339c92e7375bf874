"""Where a tile's time and the process's memory go: cProfile over a few tiles, RSS over many.

    .venv/bin/python benchmarks/profile_tiles.py ORTHOPHOTO [--tiles 8] [--rss-tiles 128]

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
    args = ap.parse_args()
    o = open_orthophoto(args.orthophoto)
    p = InspectParams()
    specs = make_tiles(o, p)
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


if __name__ == "__main__":
    main()
