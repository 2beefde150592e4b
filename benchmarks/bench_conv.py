"""Time lucid's conv2d against PyTorch's on the CPU (a script, not a test).

Layers typical of the style-transfer network: EfficientNet-Lite2 encoder (stem, 1x1 expand /
project, 3x3 and 5x5 depthwise) and the decoder (3x3 convs), batch 8, float32. Both
libraries get the same number of threads (``--threads``, default 2). Each entry is the best
of at least ``--repeat`` runs (more for fast layers): the machine is shared, so the minimum
is the stable statistic. Forward runs under no_grad; fwd+bwd computes the gradients of
input, weight and bias (``--frozen-weight``: of the input only, as through the frozen encoder).

Usage::

    python benchmarks/bench_conv.py [--repeat 5] [--threads 2] [--cpu-time] [--append]
                                    [--only dw] [--frozen-weight]

Writes ``benchmarks/results/conv.md`` (unless ``--only`` is given).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

# numpy's BLAS reads its thread count once, at import: set it before importing numpy
THREADS = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2
os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(THREADS)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import lucid  # noqa: E402
from lucid.nn.functional.conv import conv2d  # noqa: E402

# name, (N, C, H, W), C_out, kernel, stride, padding, groups
LAYERS = [
    ("enc stem 3x3 s2 3->32", (8, 3, 128, 128), 32, 3, 2, 1, 1),
    ("enc 1x1 48->288", (8, 48, 16, 16), 288, 1, 1, 0, 1),
    ("enc 1x1 288->48", (8, 288, 16, 16), 48, 1, 1, 0, 1),
    ("enc 1x1 24->144 @32", (8, 24, 32, 32), 144, 1, 1, 0, 1),
    ("enc dw 3x3 144 @32", (8, 144, 32, 32), 144, 3, 1, 1, 144),
    ("enc dw 3x3 s2 144 @32", (8, 144, 32, 32), 144, 3, 2, 1, 144),
    ("enc dw 5x5 288 @16", (8, 288, 16, 16), 288, 5, 1, 2, 288),
    ("enc dw 5x5 144 @32", (8, 144, 32, 32), 144, 5, 1, 2, 144),
    ("dec 3x3 256->128 @32", (8, 256, 32, 32), 128, 3, 1, 1, 1),
    ("dense 3x3 64->64 @64", (8, 64, 64, 64), 64, 3, 1, 1, 1),
    ("dec 3x3 64->3 @128", (8, 64, 128, 128), 3, 3, 1, 1, 1),
]


CLOCK = time.perf_counter


def best_ms(fn: Callable[[], object], repeat: int, budget_s: float = 0.4) -> float:
    """Best time of at least ``repeat`` runs (more for fast layers, up to ``budget_s``)."""
    fn()  # warm-up: allocator, BLAS threads
    times: list[float] = []
    while len(times) < repeat or (sum(times) < budget_s and len(times) < 50):
        start = CLOCK()
        fn()
        times.append(CLOCK() - start)
    return min(times) * 1e3


def bench_layer(shape: tuple[int, ...], cout: int, k: int, stride: int, pad: int, groups: int,
                repeat: int, frozen: bool = False) -> tuple[float, float, float, float]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape, dtype=np.float32)
    w = rng.standard_normal((cout, shape[1] // groups, k, k), dtype=np.float32) * 0.1
    b = rng.standard_normal(cout, dtype=np.float32)
    args = dict(stride=stride, padding=pad, groups=groups)

    xt, wt, bt = (torch.from_numpy(a).requires_grad_(a is x or not frozen) for a in (x, w, b))
    gy_t = None

    def torch_fwd() -> object:
        with torch.no_grad():
            return torch.nn.functional.conv2d(xt, wt, bt, **args)

    def torch_fwd_bwd() -> None:
        nonlocal gy_t
        xt.grad = wt.grad = bt.grad = None
        y = torch.nn.functional.conv2d(xt, wt, bt, **args)
        if gy_t is None:
            gy_t = torch.ones_like(y)
        y.backward(gy_t)

    xl, wl, bl = (lucid.tensor(a, requires_grad=a is x or not frozen) for a in (x, w, b))
    gy_l = None

    def lucid_fwd() -> object:
        with lucid.no_grad():
            return conv2d(xl, wl, bl, **args)

    def lucid_fwd_bwd() -> None:
        nonlocal gy_l
        xl.grad = wl.grad = bl.grad = None
        y = conv2d(xl, wl, bl, **args)
        if gy_l is None:
            gy_l = lucid.ones(*y.shape)
        y.backward(gy_l)

    return (best_ms(torch_fwd, repeat), best_ms(lucid_fwd, repeat),
            best_ms(torch_fwd_bwd, repeat), best_ms(lucid_fwd_bwd, repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="threads for both libraries")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with the process CPU clock (1 thread only): immune to "
                             "other work preempting this process on a shared machine")
    parser.add_argument("--append", action="store_true",
                        help="add this run's table to the results file instead of replacing it")
    parser.add_argument("--only", default="", help="run layers whose name contains this")
    parser.add_argument("--frozen-weight", action="store_true",
                        help="weight and bias without grad: fwd+bwd is the input gradient only")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent / "results" / "conv.md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.cpu_time:
        if args.threads != 1:
            parser.error("--cpu-time needs --threads 1 (CPU time adds up all threads)")
        global CLOCK
        CLOCK = time.process_time

    header = ("| layer | torch fwd ms | lucid fwd ms | ratio | torch fwd+bwd ms "
              "| lucid fwd+bwd ms | ratio |")
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|"]
    print(header)
    for name, shape, cout, k, stride, pad, groups in LAYERS:
        if args.only not in name:
            continue
        tf, lf, tb, lb = bench_layer(shape, cout, k, stride, pad, groups, args.repeat,
                                     args.frozen_weight)
        line = (f"| {name} | {tf:.2f} | {lf:.2f} | {lf / tf:.2f} | {tb:.2f} | {lb:.2f} "
                f"| {lb / tb:.2f} |")
        lines.append(line)
        print(line, flush=True)
    if not args.only:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        clock = "process CPU time" if args.cpu_time else "wall time"
        frozen = ", frozen weight (input gradient only)" if args.frozen_weight else ""
        title = f"## {args.threads} thread(s), {clock}{frozen}\n\n"
        note = (f"\n\nBest {clock} of at least {args.repeat} runs, float32, batch 8, "
                f"{args.threads} thread(s) each (torch {torch.__version__}, numpy "
                f"{np.__version__}). ratio = lucid / torch (below 1: lucid is faster).\n")
        head = "# conv2d: lucid vs PyTorch (CPU)\n\n"
        old = args.out.read_text() if args.append and args.out.exists() else head
        args.out.write_text(old.rstrip("\n") + "\n\n" + title + "\n".join(lines) + note)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
