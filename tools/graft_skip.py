"""Carry a training run on with a decoder skip (AdaIN at one more depth) or residual blocks added.

    python tools/graft_skip.py training/lite2 training/lite2_skip --tap block4_expand --at 1
    python tools/graft_skip.py training/lite2 runs/residual --residual 1 2 --at 0
    python tools/graft_skip.py training/lite2 runs/deep --tap block11_expand --at 0 \\
        --encoder-weights trunk11.safetensors

The skip's features (the content's ``--tap`` given the style's statistics there) enter the
decoder through a zero-initialised 1x1 convolution after its ``--at``-th upsampling, so the new
run starts as the old one paints and resumes with ``lucid train --resume --run-dir NEW``.

``--at 0`` adds them before the decoder's first layer; a tap deeper than the encoder's
reach (``block11_expand``: stride 16) is then upsampled into the decoder's input, also becomes
a style tap, and needs the deeper trunk (``tools/convert_lite2.py --deepest TAP``).

``--residual D [D ...]`` adds residual blocks instead (two 3x3 convolutions each, dilations D,
the second at zero, so again the new run starts as the old one paints) at the end of level
``--at``: before the decoder's next upsampling, where ``--at 0`` is the coarsest level.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lucid  # noqa: E402
from lucid.models.encoders import build_encoder  # noqa: E402
from lucid.models.training import Trainer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="run directory to graft from")
    parser.add_argument("target", type=Path, help="new run directory")
    parser.add_argument("--tap", default="block4_expand", help="encoder tap of the skip")
    parser.add_argument("--residual", type=int, nargs="+", metavar="DILATION", default=None,
                        help="add residual blocks with these dilations instead of a skip")
    parser.add_argument("--at", type=int, default=1,
                        help="a skip: after this many upsamplings (0: before the first layer); "
                             "residual blocks: at the end of this level (0: the coarsest)")
    parser.add_argument("--encoder-weights", type=Path, default=None,
                        help="trunk file reaching --tap, when the run's encoder does not")
    args = parser.parse_args()

    source = Trainer.resume(args.source)
    config = copy.deepcopy(source.options.config)
    if args.residual is not None:
        graft_residuals(parser, args, source, config)
        return
    encoder = config["encoder"]
    if args.tap not in encoder["taps"]:
        if args.encoder_weights is None:
            parser.error(f"{args.tap} is not among the run's taps "
                         f"({', '.join(encoder['taps'])}); a deeper one needs --encoder-weights")
        encoder["taps"].append(args.tap)
    probe = build_encoder(encoder)(lucid.zeros(1, 3, 64, 64), [args.tap])[args.tap]
    channels = probe.shape[1]
    encoder["stride"] = max(encoder["stride"], 64 // probe.shape[2])
    layers = config["decoder"]["layers"]
    ups = [i for i, spec in enumerate(layers) if spec[0] == "up"]
    if not 0 <= args.at <= len(ups):
        parser.error(f"--at must be 0 to {len(ups)}")
    layers.insert(0 if args.at == 0 else ups[args.at - 1] + 1, ["skip", args.tap, channels])

    grafted = source.graft(config, args.target, args.encoder_weights)
    side = 4 * encoder["stride"]
    try:  # a tap finer than the decoder where it joins fails here, not at the first step
        with lucid.no_grad():
            grafted.model(lucid.zeros(1, 3, side, side), lucid.zeros(1, 3, side, side))
    except ValueError as error:
        parser.error(f"{args.tap} cannot join the decoder at --at {args.at}: {error}")
    where = "before the first layer" if args.at == 0 else f"after upsampling {args.at}"
    _finish(args, grafted, f"skip {args.tap} ({channels} ch) {where}")


def graft_residuals(parser: argparse.ArgumentParser, args: argparse.Namespace, source: Trainer,
                    config: dict[str, Any]) -> None:
    """Residual blocks with ``args.residual``'s dilations at the end of level ``args.at``,
    checked on a batch of the run's crop size before the new run is written."""
    layers = config["decoder"]["layers"]
    ups = [i for i, spec in enumerate(layers) if spec[0] == "up"]
    if not 0 <= args.at < len(ups):
        parser.error(f"--at must be 0 to {len(ups) - 1} for residual blocks")
    position = ups[args.at]
    layers[position:position] = [["residual", dilation] for dilation in args.residual]
    try:
        grafted = source.graft(config, args.target)
        side = source.options.crop_size
        with lucid.no_grad():
            grafted.model(lucid.zeros(1, 3, side, side), lucid.zeros(1, 3, side, side))
    except ValueError as error:
        parser.error(f"residual blocks at level {args.at}: {error}")
    _finish(args, grafted, f"residual blocks (dilations {args.residual}) at the end of level "
                           f"{args.at}, reach {grafted.model.decoder.reach} px")


def _finish(args: argparse.Namespace, grafted: Trainer, what: str) -> None:
    path = grafted.save_checkpoint()
    if (args.source / "log.csv").exists():
        shutil.copy(args.source / "log.csv", args.target / "log.csv")
    print(f"{path}: iteration {grafted.iteration}, {what}")


if __name__ == "__main__":
    main()
