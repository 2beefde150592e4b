"""Where the reference network's inference time goes, convolution by convolution: lucid vs
PyTorch, and each convolution's bare matrix product.

The published AdaIN network (``bench_reference_network.py``), content path only: the
encoder on one image, then the decoder on its features. Each convolution is timed on its
own, the device synchronised before and after (PyTorch's: its reflection pad and its conv;
lucid's: its Conv2d module, padding included). ``GEMM`` is the same convolution's matrix
product alone, ``(C_out, C_in*9) @ (C_in*9, H*W)`` on the same backend (numpy's BLAS or
cuBLAS through CuPy): what an im2col convolution cannot go below, and far below what lucid
spends where copies, padding or launches dominate. ``between`` is the whole pass (no
synchronisation inside) minus its convolutions: activations, pooling, upsampling. On a GPU
a last row gives the host's share of the pass: how long it takes to return, kernels queued
but not waited for; near the whole pass, Python and launches are what the GPU waits for.

    python benchmarks/profile_layers.py --device gpu --size 512 [--repeat 10]
    python benchmarks/profile_layers.py --size 256 --repeat 3          # CPU

Writes ``benchmarks/results/layers.md`` (``layers_gpu.md`` with ``--device gpu``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_reference_network import (  # noqa: E402
    adain_config,
    best_interleaved,
    torch_twin,
)
from benchmarks.report import cpu, write  # noqa: E402


def time_each_call(modules: list[Any],
                   sync: Callable[[], None]) -> list[list[tuple[float, tuple[int, ...]]]]:
    """Wrap each module's forward so every call is timed between two synchronisations;
    returns the per-module lists the calls append (seconds, input shape) to."""
    calls: list[list[tuple[float, tuple[int, ...]]]] = [[] for _ in modules]
    for module, record in zip(modules, calls, strict=True):
        def timed(x: Any, _forward: Callable = module.forward, _record: list = record) -> Any:
            sync()
            start = time.perf_counter()
            out = _forward(x)
            sync()
            _record.append((time.perf_counter() - start, tuple(x.shape)))
            return out

        module.forward = timed
    return calls


def host_time(fn: Callable[[], Any], sync: Callable[[], None], repeat: int) -> float:
    """Best time ``fn`` takes to return, the device idle before each call and drained after
    it: on a GPU the host's share of a pass (Python, launches), not the kernels'."""
    best = float("inf")
    for _ in range(repeat + 1):
        sync()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
        sync()
    return best


def untime(modules: list[Any]) -> None:
    for module in modules:
        del module.forward


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    args = parser.parse_args()
    import torch

    import lucid
    from lucid.backend import array_module, conv_math
    from lucid.models.stylenet import StyleNet

    gpu = args.device == "gpu"
    lucid.manual_seed(0)
    model = StyleNet(adain_config()).eval()
    t_encoder, t_decoder = torch_twin(model)
    if gpu:
        model.to("gpu")
        t_encoder, t_decoder = t_encoder.cuda(), t_decoder.cuda()
    sync_lucid = lucid.gpu.synchronize if gpu else lambda: None
    sync_torch = torch.cuda.synchronize if gpu else lambda: None
    content = np.random.default_rng(0).random((1, 3, args.size, args.size), dtype=np.float32)
    l_image = lucid.tensor(content, device=args.device)
    t_image = torch.tensor(content, device="cuda" if gpu else "cpu")

    def lucid_pass() -> Any:
        with lucid.no_grad():
            return model.decoder(model.encoder(l_image, ["relu4_1"])["relu4_1"])

    def torch_pass() -> Any:
        with torch.no_grad():
            return t_decoder(t_encoder(t_image))

    l_total, t_total = best_interleaved([(lucid_pass, sync_lucid), (torch_pass, sync_torch)],
                                        args.repeat)
    if gpu:
        l_host, t_host = (host_time(lucid_pass, sync_lucid, args.repeat),
                          host_time(torch_pass, sync_torch, args.repeat))

    l_convs = [m for m in model.modules() if type(m).__name__ == "Conv2d"]
    t_layers = [m for m in [*t_encoder, *t_decoder]
                if type(m).__name__ in ("Conv2d", "ReflectionPad2d")]
    l_times = time_each_call(l_convs, sync_lucid)
    t_times = time_each_call(t_layers, sync_torch)
    for _ in range(args.repeat + 1):  # the first round warms up
        lucid_pass()
        torch_pass()
    untime(l_convs)
    untime(t_layers)
    # a PyTorch conv's time is its pad's and its own; pads come right before their convs
    t_conv_times, pending = [], 0.0
    for layer, record in zip(t_layers, t_times, strict=True):
        if type(layer).__name__ == "ReflectionPad2d":
            pending = min(seconds for seconds, _ in record[1:])
        else:
            t_conv_times.append(pending + min(seconds for seconds, _ in record[1:]))
            pending = 0.0

    rows = []
    xp = array_module(args.device)
    for conv, record, t_time in zip(l_convs, l_times, t_conv_times, strict=True):
        co, ci, kh, kw = conv.weight.shape
        h, w = record[0][1][2:]
        a = xp.asarray(np.random.default_rng(1).random((co, ci * kh * kw), dtype=np.float32))
        b = xp.asarray(np.random.default_rng(2).random((ci * kh * kw, h * w), dtype=np.float32))
        def gemm_alone(a: Any = a, b: Any = b) -> Any:
            with conv_math(a):  # the conv's own precision (TF32 on a GPU by default)
                return xp.matmul(a, b)

        (gemm,) = best_interleaved([(gemm_alone, sync_lucid)], args.repeat)
        seconds = min(seconds for seconds, _ in record[1:])
        rows.append((f"{ci}->{co} {kh}x{kw} at {h}x{w}", seconds, t_time, gemm))
    l_sum, t_sum = sum(r[1] for r in rows), sum(r[2] for r in rows)
    gemm_sum = sum(r[3] for r in rows)

    def ms(seconds: float) -> str:
        return f"{seconds * 1e3:.2f}"

    table = ("| convolution | lucid ms | PyTorch ms | GEMM alone ms | lucid / GEMM |\n"
             "|---|---|---|---|---|\n")
    table += "".join(f"| {name} | {ms(a)} | {ms(b)} | {ms(g)} | {a / g:.1f}x |\n"
                     for name, a, b, g in rows)
    table += (f"| all convolutions | {ms(l_sum)} | {ms(t_sum)} | {ms(gemm_sum)} | "
              f"{l_sum / gemm_sum:.1f}x |\n")
    table += (f"| between (whole pass minus convolutions) | {ms(l_total - l_sum)} | "
              f"{ms(t_total - t_sum)} | | |\n")
    table += f"| whole pass, no synchronisation inside | {ms(l_total)} | {ms(t_total)} | | |\n"
    if gpu:  # near the whole pass: the host (Python, launches) is what the GPU waits for
        table += (f"| whole pass, host side only (returns before the GPU is done) | "
                  f"{ms(l_host)} | {ms(t_host)} | | |\n")
    machine = (f"GPU {torch.cuda.get_device_name()}, CuPy {lucid.backend._cupy().__version__}"
               if gpu else cpu())
    machine += f"; torch {torch.__version__}; numpy {np.__version__}"
    write("layers", f"Reference AdaIN network, content path at {args.size} px, per convolution "
          f"({args.device.upper()})", machine, table, ["gpu" if gpu else None])


if __name__ == "__main__":
    main()
