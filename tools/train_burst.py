"""Carry a training run to a lent GPU machine for a burst of minutes, and back.

The training photos and paintings do not fit the few tens of MB a device call may carry, so
``pack`` writes a random subset of the run's *training split* (held-out files are never packed),
re-encoded as WebP, into a folder that travels with the call. ``run`` resumes the run there on
that subset for a fixed time, checkpoints and stops; the checkpoint comes back and the run
resumes on the CPU (``lucid train --resume``) with its own data paths unchanged.

    python tools/train_burst.py pack training/lite2 .pack --content 800 --style 1100
    python tools/train_burst.py run training/lite2 .pack --seconds 540 --device gpu
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np
from PIL import Image

from lucid.models.data import list_images, split_holdout
from lucid.models.training import CheckpointReport, StepReport, Trainer


def pack(run_dir: Path, out: Path, counts: dict[str, int], seed: int, quality: int) -> None:
    """A random subset of the run's training split, as WebP files, in ``out/{content,style}``."""
    options = Trainer.stored_options(run_dir)
    rng = np.random.default_rng(seed)
    for kind, folder in (("content", options.content_dir), ("style", options.style_dir)):
        train, _ = split_holdout(list_images(folder), options.holdout)
        chosen = rng.choice(len(train), size=min(counts[kind], len(train)), replace=False)
        target = out / kind
        target.mkdir(parents=True, exist_ok=True)
        for index in sorted(chosen):
            with Image.open(train[index]) as image:
                image.convert("RGB").save(target / f"{train[index].stem}.webp", quality=quality)
        print(f"{kind}: {len(chosen)} of {len(train)} training files -> {target}")


def run(run_dir: Path, data: Path, seconds: float, device: str, iterations: int | None) -> None:
    """Resume ``run_dir`` on ``device`` with the packed images; stop after ``seconds``."""
    overrides = {} if iterations is None else {"iterations": iterations}
    trainer = Trainer.resume(run_dir, device, **overrides,
                             images=(list_images(data / "content"), list_images(data / "style")))
    deadline = time.monotonic() + seconds
    log = run_dir / "log.csv"
    start_iteration = trainer.iteration

    def report(event: StepReport | CheckpointReport) -> None:
        if isinstance(event, StepReport):
            with log.open("a", newline="") as f:
                csv.writer(f).writerow([event.iteration, event.content_loss, event.style_loss,
                                        event.lr, event.seconds_per_step])
            if event.iteration % 250 == 0:
                print(f"{event.iteration}: content {event.content_loss:.3f} style "
                      f"{event.style_loss:.3f} {1 / event.seconds_per_step:.1f} it/s", flush=True)
            if time.monotonic() > deadline:
                raise KeyboardInterrupt  # the trainer checkpoints on the way out
        else:
            print(f"checkpoint at {event.iteration}", flush=True)

    try:
        trainer.run(report)
    except KeyboardInterrupt:
        pass
    print(f"trained {trainer.iteration - start_iteration} iterations on {device} "
          f"(now {trainer.iteration})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("pack")
    p.add_argument("run_dir", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--content", type=int, default=800)
    p.add_argument("--style", type=int, default=1100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quality", type=int, default=75)
    r = commands.add_parser("run")
    r.add_argument("run_dir", type=Path)
    r.add_argument("data", type=Path)
    r.add_argument("--seconds", type=float, default=540)
    r.add_argument("--device", default="gpu")
    r.add_argument("--iterations", type=int, help="New total (default: the run's own).")
    args = parser.parse_args()
    if args.command == "pack":
        pack(args.run_dir, args.out, {"content": args.content, "style": args.style}, args.seed,
             args.quality)
    else:
        run(args.run_dir, args.data, args.seconds, args.device, args.iterations)


if __name__ == "__main__":
    main()
