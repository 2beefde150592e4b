"""One training step of the default recipe: lucid vs PyTorch on the same CPU threads.

Same architecture (EfficientNet-Lite2 trunk to block 7's expansion, frozen; the default
decoder with its skips, the PyTorch twin built from the same config), same batch (8 crops of
128 px), same losses, Adam. Prints a table and writes ``benchmarks/results/train_step.md``
(``train_step_gpu.md`` with ``--device gpu``: CuPy against PyTorch on CUDA; each step ends in
``loss.item()``, which waits for the device). On the CPU both get ``--threads``: PyTorch as
intra-op threads, lucid as that many batch shards on as many threads (``train_step``'s
``workers``, the trainer's default). Needs torch (skips without it).

    python benchmarks/bench_train_step.py [--steps 5] [--threads 2] [--device gpu]
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


def lucid_step_fn(batch: int, size: int, device: str, threads: int):
    import lucid
    from lucid.models.stylenet import StyleNet
    from lucid.models.training import lite_config, train_step
    from lucid.optim import Adam
    from lucid.parallel import limit_blas_threads

    model = StyleNet(lite_config()).to(device)
    optimizer = Adam(model.decoder.parameters(), lr=1e-4)
    rng = np.random.default_rng(0)
    content = lucid.tensor(rng.random((batch, 3, size, size), dtype=np.float32), device=device)
    style = lucid.tensor(rng.random((batch, 3, size, size), dtype=np.float32), device=device)

    workers = threads if device == "cpu" else 1

    def step() -> float:
        with limit_blas_threads(threads):
            return sum(train_step(model, optimizer, content, style, 1.0, 10.0, workers))

    return step


def torch_step_fn(batch: int, size: int, device: str):
    import torch
    from torch import nn

    from benchmarks.torch_reference import Lite2Trunk, normalize
    from lucid.models.training import lite_config

    trunk = Lite2Trunk().eval().requires_grad_(False)

    class Decoder(nn.Module):
        """The default decoder, built from lucid's config: convs, 2x ups and 1x1 skips."""

        def __init__(self, config: dict) -> None:
            super().__init__()
            layers: list[nn.Module] = []
            self.skips, self.skip_at = nn.ModuleDict(), {}
            channels = config["in_channels"]
            for spec in config["layers"]:
                if spec[0] == "up":
                    layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
                elif spec[0] == "skip":
                    self.skip_at[len(layers)] = spec[1]
                    self.skips[spec[1]] = nn.Conv2d(spec[2], channels, 1)
                else:
                    layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, spec[1], 3)]
                    layers += [nn.ReLU()] if spec[2:] != ["none"] else []
                    channels = spec[1]
            self.layers = nn.ModuleList(layers)

        def forward(self, x: torch.Tensor, skips: dict[str, torch.Tensor]) -> torch.Tensor:
            for index, layer in enumerate(self.layers):
                if index in self.skip_at:
                    tap = self.skip_at[index]
                    x = x + self.skips[tap](skips[tap])
                x = layer(x)
            return x

    config = lite_config()
    adain_tap = config["encoder"]["adain_tap"]
    where = "cuda" if device == "gpu" else "cpu"
    trunk, decoder = trunk.to(where), Decoder(config["decoder"]).to(where)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=1e-4)
    gen = torch.Generator().manual_seed(0)
    content = torch.rand(batch, 3, size, size, generator=gen).to(where)
    style = torch.rand(batch, 3, size, size, generator=gen).to(where)

    def mean_std(f):
        n, c = f.shape[:2]
        flat = f.reshape(n, c, -1)
        return flat.mean(2), (flat.var(2) + 1e-5).sqrt()

    def adain(c, s):
        cm, cs = mean_std(c)
        sm, ss = mean_std(s)
        return ((c - cm[..., None, None]) / cs[..., None, None] * ss[..., None, None]
                + sm[..., None, None])

    def step() -> float:
        with torch.no_grad():
            s = trunk.encode(normalize(style))
            c = trunk.encode(normalize(content))
            t = adain(c[adain_tap], s[adain_tap])
            skips = {tap: adain(c[tap], s[tap]) for tap in decoder.skips}
        g = decoder(t, skips)
        o = trunk.encode(normalize(g))
        loss_c = nn.functional.mse_loss(o[adain_tap], t)
        loss_s = 0
        for k in o:
            om, os_ = mean_std(o[k])
            rm, rs = mean_std(s[k])
            loss_s = loss_s + nn.functional.mse_loss(om, rm) + nn.functional.mse_loss(os_, rs)
        loss = loss_c + 10 * loss_s
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def timed(step, steps: int) -> float:
    step()  # warm-up
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    add_memory_option(parser)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print("torch is not installed: nothing to compare against")
        return

    torch.set_num_threads(args.threads)
    apply_memory_option(args)
    ours = timed(lucid_step_fn(args.batch, args.size, args.device, args.threads),
                 args.steps)
    theirs = timed(torch_step_fn(args.batch, args.size, args.device), args.steps)
    table = (
        f"| batch x crop | lucid s/step | PyTorch s/step | lucid / PyTorch |\n"
        f"|---|---|---|---|\n"
        f"| {args.batch} x {args.size} px | {ours:.3f} | {theirs:.3f} | {ours / theirs:.2f} |\n"
    )
    gpu = args.device == "gpu"
    machine = (f"GPU {torch.cuda.get_device_name()}" if gpu else
               f"{cpu()}, threads {args.threads}")
    machine += f", torch {torch.__version__}, numpy {np.__version__}"
    write("train_step", f"Training step: lucid vs PyTorch ({args.device.upper()})", machine,
          table, ["gpu" if gpu else None, "reuse_memory" if args.reuse_memory else None])


if __name__ == "__main__":
    main()
