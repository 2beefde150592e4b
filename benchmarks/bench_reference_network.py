"""The published AdaIN network (VGG-19 to relu4_1, AdaIN, mirrored decoder): lucid vs PyTorch.

Same random weights, same inputs, one process; outputs are checked equal before timing, and
the two libraries' runs alternate (best of ``--repeat`` rounds each).
Inference only (no graph): content and style encoded, AdaIN, decoded. Prints a table and
writes ``benchmarks/results/reference_network.md`` (``reference_network_gpu.md`` with
``--device gpu``: lucid on CuPy against PyTorch on CUDA, both synchronised before the clock
stops; both with their defaults, TF32 in float32 convolutions, unless ``--no-tf32``).

    python benchmarks/bench_reference_network.py [--sizes 256 512 1024] [--repeat 3]
    python benchmarks/bench_reference_network.py --device gpu --repeat 20
    python benchmarks/bench_reference_network.py --device gpu --half   # float16, both libraries
    python benchmarks/bench_reference_network.py --device gpu --no-tf32   # full float32
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.report import add_memory_option, apply_memory_option, cpu, write  # noqa: E402

ADAIN_DECODER = [["conv", 256], ["up"], ["conv", 256], ["conv", 256], ["conv", 256],
                 ["conv", 128], ["up"], ["conv", 128], ["conv", 64], ["up"], ["conv", 64],
                 ["conv", 3, "none"]]


def adain_config() -> dict:
    return {
        "format": 1,
        "encoder": {"type": "vgg19_normalised", "taps": ["relu4_1"], "adain_tap": "relu4_1",
                    "stride": 8},
        "decoder": {"in_channels": 512, "padding_mode": "reflect", "layers": ADAIN_DECODER},
    }


def torch_twin(model):
    """The same network in PyTorch, weights copied from the lucid model."""
    import torch
    from torch import nn

    convs = [m for m in model.modules() if type(m).__name__ == "Conv2d"]
    weights = iter((c.weight.detach().numpy(), c.bias.detach().numpy()) for c in convs)

    def conv(cin, cout, k):
        layer = nn.Conv2d(cin, cout, k)
        w, b = next(weights)
        layer.weight.data = torch.tensor(w)
        layer.bias.data = torch.tensor(b)
        return layer

    enc = [conv(3, 3, 1)]
    channels = 3
    for stage, outs in enumerate([[64, 64], [128, 128], [256, 256, 256, 256], [512]]):
        if stage:
            enc.append(nn.MaxPool2d(2, 2, ceil_mode=True))
        for out in outs:
            enc += [nn.ReflectionPad2d(1), conv(channels, out, 3), nn.ReLU()]
            channels = out
    dec = []
    for spec in ADAIN_DECODER:
        if spec[0] == "up":
            dec.append(nn.Upsample(scale_factor=2, mode="nearest"))
        else:
            dec += [nn.ReflectionPad2d(1), conv(channels, spec[1], 3)]
            if len(spec) == 2:
                dec.append(nn.ReLU())
            channels = spec[1]
    return nn.Sequential(*enc).eval(), nn.Sequential(*dec).eval()


def torch_stylize(encoder, decoder, content, style):
    import torch

    with torch.no_grad():
        c, s = encoder(content), encoder(style)
        cm, cv = c.mean((2, 3), keepdim=True), c.var((2, 3), keepdim=True, unbiased=False)
        n = s.shape[2] * s.shape[3]
        sm = s.mean((2, 3), keepdim=True)
        ss = (s.var((2, 3), keepdim=True) + 1e-5).sqrt() if n > 1 else torch.zeros_like(sm)
        return decoder((c - cm) / (cv + 1e-5).sqrt() * ss + sm)


def lucid_stylize(model, content, style):
    import lucid

    with lucid.no_grad():
        return model(content, style)


def best_interleaved(runs, repeat: int) -> list[float]:
    """Best time of each ``(fn, sync)`` over ``repeat`` rounds, the runs alternating within each
    round, so that a slow spell of a shared machine hits both libraries alike."""
    for fn, sync in runs:  # warm-up
        fn()
        sync()
    best = [float("inf")] * len(runs)
    for _ in range(repeat):
        for index, (fn, sync) in enumerate(runs):
            start = time.perf_counter()
            fn()
            sync()
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    parser.add_argument("--half", action="store_true", help="float16 weights and images (GPU)")
    parser.add_argument("--no-tf32", action="store_true",
                        help="full float32 convolutions in both libraries (GPU; TF32 by default)")
    add_memory_option(parser)
    args = parser.parse_args()
    if (args.half or args.no_tf32) and args.device != "gpu":
        parser.error("--half and --no-tf32 are for --device gpu")
    import torch

    import lucid
    from lucid.models.stylenet import StyleNet

    torch.set_num_threads(args.threads)
    if args.no_tf32:
        torch.backends.cudnn.allow_tf32 = False
        lucid.gpu.set_conv_tf32(False)
    apply_memory_option(args)
    lucid.manual_seed(0)
    model = StyleNet(adain_config()).eval()
    encoder, decoder = torch_twin(model)
    gpu = args.device == "gpu"
    if gpu:
        model.to("gpu")
        encoder, decoder = encoder.cuda(), decoder.cuda()
    if args.half:
        model.to(lucid.float16)
        encoder, decoder = encoder.half(), decoder.half()
    dtype = np.float16 if args.half else np.float32
    sync_lucid = lucid.gpu.synchronize if gpu else lambda: None
    sync_torch = torch.cuda.synchronize if gpu else lambda: None
    torch_device = "cuda" if gpu else "cpu"
    rows = []
    for size in args.sizes:
        rng = np.random.default_rng(size)
        content = rng.random((1, 3, size, size), dtype=np.float32).astype(dtype)
        style = rng.random((1, 3, size, size), dtype=np.float32).astype(dtype)
        lc, ls = lucid.tensor(content, device=args.device), lucid.tensor(style, device=args.device)
        tc = torch.tensor(content, device=torch_device)
        ts = torch.tensor(style, device=torch_device)
        ours = lucid_stylize(model, lc, ls).cpu().numpy().astype(np.float32)
        theirs = torch_stylize(encoder, decoder, tc, ts).float().cpu().numpy()
        difference = float(np.abs(ours - theirs).max() / max(np.abs(theirs).max(), 1e-6))
        t_lucid, t_torch = best_interleaved(
            [(lambda a=lc, b=ls: lucid_stylize(model, a, b), sync_lucid),
             (lambda a=tc, b=ts: torch_stylize(encoder, decoder, a, b), sync_torch)],
            args.repeat)
        rows.append((size, t_lucid, t_torch, difference))
        print(f"{size:5d} px  lucid {t_lucid * 1e3:8.1f} ms  torch {t_torch * 1e3:8.1f} ms  "
              f"speed-up {t_torch / t_lucid:5.2f}x  max rel diff {difference:.1e}", flush=True)
    machine = (f"GPU {torch.cuda.get_device_name()}, CuPy {lucid.backend._cupy().__version__}"
               if gpu else f"{cpu()}; threads {args.threads}")
    machine += f"; torch {torch.__version__}; numpy {np.__version__} ({lucid.backend.blas_info()})"
    table = ("| size | lucid ms | PyTorch ms | PyTorch / lucid | max rel. diff |\n"
             "|---|---|---|---|---|\n")
    table += "".join(f"| {s} px | {a * 1e3:.1f} | {b * 1e3:.1f} | {b / a:.2f}x | {d:.1e} |\n"
                     for s, a, b, d in rows)
    write("reference_network",
          f"Reference AdaIN network, inference: lucid vs PyTorch ({args.device.upper()}"
          f"{', float16' if args.half else ''}{', no TF32' if args.no_tf32 else ''})",
          machine, table, ["gpu" if gpu else None, "half" if args.half else None,
                           "no_tf32" if args.no_tf32 else None,
                           "reuse_memory" if args.reuse_memory else None])

if __name__ == "__main__":
    main()
