"""Peak memory (RSS) of stylizing 4K and 8K photos at full size with the default model.

Each size runs in a fresh subprocess (so peaks do not mix) through the same Python API the
CLI uses, with the allocator setting the CLI makes (freed blocks kept for reuse): load a
synthetic photo as float32, stylize in tiles, convert to 8-bit. With a grain (``--grains``,
``lucid stylize --grain``) the grained copy is painted while the photo stays alive, as in the
CLI. Prints a table and writes ``benchmarks/results/memory.md``.

    python benchmarks/bench_memory.py [--sizes 3840x2160 7680x4320] [--grains 0 0.02]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import cpu, write  # noqa: E402

CHILD = r"""
import json, resource, sys, time
import numpy as np
sys.path.insert(0, {root!r})
import lucid
lucid.backend.reuse_freed_memory()
from lucid.models.inference import add_grain, style_statistics, stylize
from lucid.models.store import load_model
width, height = {width}, {height}
model = load_model({model!r})
y, x = np.mgrid[0:height, 0:width].astype(np.float32)
photo = np.stack([np.sin(x / 97) * 0.5 + 0.5, y / height, (x * y / 7919) % 1], -1)
photo = photo.astype(np.float32)
del x, y
style = np.random.default_rng(0).random((512, 512, 3), dtype=np.float32)
start = time.perf_counter()
tiles = []
grained = add_grain(photo, {grain})
out = stylize(model, grained, [style_statistics(model, style)],
              on_tile=lambda done, total: tiles.append(total))
image = (out * 255 + 0.5).astype(np.uint8)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{"peak": peak, "seconds": seconds, "tiles": tiles[-1] if tiles else 1}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", default=["3840x2160", "7680x4320"])
    parser.add_argument("--grains", nargs="+", type=float, default=[0.0])
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    rows = []
    for size, grain in ((size, grain) for size in args.sizes for grain in args.grains):
        width, height = map(int, size.split("x"))
        code = CHILD.format(root=str(ROOT), width=width, height=height, model=args.model,
                            grain=grain)
        if grain:
            size = f"{size}, --grain {grain:g}"
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True)
        report = json.loads(result.stdout.strip().splitlines()[-1])
        rows.append((size, report["peak"] / 2**30, report["seconds"], report["tiles"],
                     time.perf_counter() - started))
        print(f"{size}: peak RSS {rows[-1][1]:.2f} GiB, stylize {report['seconds']:.1f} s, "
              f"{report['tiles']} tile passes", flush=True)
    table = ("| image | peak RSS (GiB) | stylize (s) | tile passes |\n|---|---|---|---|\n"
             + "".join(f"| {s} | {p:.2f} | {t:.1f} | {n} |\n" for s, p, t, n, _ in rows))
    write("memory", "Peak memory at full size (tiled), default model", cpu(), table)

if __name__ == "__main__":
    main()
