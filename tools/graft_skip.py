"""Carry a training run on with a decoder skip added: AdaIN at a second, finer depth.

    python tools/graft_skip.py training/lite2 training/lite2_skip --tap block4_expand --at 1

The skip's features (the content's ``--tap`` given the style's statistics there) enter the
decoder through a zero-initialised 1x1 convolution after its ``--at``-th upsampling, so the new
run starts as the old one paints and resumes with ``lucid train --resume --run-dir NEW``.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lucid.models.training import Trainer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="run directory to graft from")
    parser.add_argument("target", type=Path, help="new run directory")
    parser.add_argument("--tap", default="block4_expand", help="encoder tap of the skip")
    parser.add_argument("--at", type=int, default=1, help="after this many upsamplings")
    args = parser.parse_args()

    source = Trainer.resume(args.source)
    config = copy.deepcopy(source.options.config)
    channels = source.model.encoder.out_channels.get(args.tap)
    if channels is None:
        parser.error(f"{args.tap} is not among the encoder's taps "
                     f"({', '.join(source.model.encoder.out_channels)})")
    layers = config["decoder"]["layers"]
    ups = [i for i, spec in enumerate(layers) if spec[0] == "up"]
    if not 1 <= args.at <= len(ups):
        parser.error(f"--at must be 1 to {len(ups)}")
    layers.insert(ups[args.at - 1] + 1, ["skip", args.tap, channels])

    grafted = source.graft(config, args.target)
    path = grafted.save_checkpoint()
    if (args.source / "log.csv").exists():
        shutil.copy(args.source / "log.csv", args.target / "log.csv")
    print(f"{path}: iteration {grafted.iteration}, skip {args.tap} ({channels} ch) "
          f"after upsampling {args.at}")


if __name__ == "__main__":
    main()
