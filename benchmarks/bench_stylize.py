"""The default model end to end, and batches against a naive one-pair-at-a-time loop.

1. ``lucid stylize`` on one sample pair at 512 px, as a user runs it (a subprocess: start-up,
   image load, model, file written), and the in-process time of the same pair.
2. N contents x M styles in one ``lucid stylize`` call (each style encoded once) against N x M
   separate calls of the Python API that re-encode the style every time; the batch with
   ``--workers 0`` (everything in turn, the CPU default) and with 2 (decoding and writing
   overlap the network, the GPU default).

In-process runs keep freed memory for reuse, as the ``lucid`` command does.

Prints a table and writes ``benchmarks/results/stylize.md`` (``stylize_gpu.md`` with
``--device gpu``).

    python benchmarks/bench_stylize.py [--size 512] [--rounds 2] [--device gpu]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import cpu, write  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (best of)")
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    args = parser.parse_args()

    import lucid
    from lucid.models.inference import style_statistics, stylize
    from lucid.models.store import load_model
    from lucid_cli import StylizeOptions, stylize_files
    from lucid_cli.images import load_image, resize_shorter_side

    contents = sorted((ROOT / "samples/content").glob("*.jpg"))
    styles = sorted((ROOT / "samples/style").glob("*.jpg"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "lucid_cli", "stylize", str(contents[0]),
                        str(styles[0]), "-o", f"{tmp}/one.jpg", "-q", "--size", str(args.size),
                        "--device", args.device],
                       check=True)
        rows.append(("`lucid stylize` one pair (subprocess, incl. start-up)",
                     time.perf_counter() - start))

        lucid.backend.reuse_freed_memory()
        model = load_model().to(args.device)  # results come back as numpy: synchronised
        content = resize_shorter_side(load_image(contents[0]).rgb, args.size)
        style = resize_shorter_side(load_image(styles[0]).rgb, args.size)
        stylize(model, content, [style_statistics(model, style)])  # warm-up
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            stylize(model, content, [style_statistics(model, style)])
            best = min(best, time.perf_counter() - start)
        rows.append((f"network only, one pair at {args.size} px (in process, best of 3)", best))

        pairs = len(contents) * len(styles)

        def naive_loop() -> None:
            for c in contents:
                for s in styles:
                    rgb = resize_shorter_side(load_image(c).rgb, args.size)
                    stats = style_statistics(model,
                                             resize_shorter_side(load_image(s).rgb, args.size))
                    stylize(model, rgb, [stats])

        def batch(workers: int, run: int) -> None:
            summary = stylize_files(model, contents, styles,
                                    StylizeOptions(size=args.size, style_size=args.size,
                                                   output=Path(tmp) / f"batch{workers}_{run}",
                                                   workers=workers))
            assert summary.ok and len(summary.written) == pairs

        # interleaved rounds, best of each: the machine's speed drifts over minutes
        runs = {"naive": naive_loop, 0: lambda r: batch(0, r), 2: lambda r: batch(2, r)}
        best_of = dict.fromkeys(runs, float("inf"))
        for round_ in range(args.rounds):
            for key, fn in runs.items():
                start = time.perf_counter()
                fn() if key == "naive" else fn(round_)
                best_of[key] = min(best_of[key], time.perf_counter() - start)
        naive = best_of["naive"]
        batches = {w: best_of[w] for w in (0, 2)}
        rows.append((f"naive loop, {len(contents)} x {len(styles)} pairs (no files written)",
                     naive))
        for workers, seconds in batches.items():
            rows.append((f"one batch, {len(contents)} x {len(styles)} pairs (files written), "
                         f"--workers {workers}", seconds))
    table = "| what | seconds |\n|---|---|\n" + "".join(f"| {w} | {t:.2f} |\n" for w, t in rows)
    table += ("\nBatch rows: best of the interleaved rounds. Batch vs naive loop: "
              + ", ".join(f"{naive / t:.2f}x the throughput with --workers {w}"
                          for w, t in batches.items()) + ".\n")
    machine = (f"GPU {lucid.backend._cupy().cuda.runtime.getDeviceProperties(0)['name'].decode()}"
               if args.device == "gpu" else cpu())
    write("stylize", f"Default model end to end ({args.device.upper()})", machine, table,
          ["gpu" if args.device == "gpu" else None])

if __name__ == "__main__":
    main()
