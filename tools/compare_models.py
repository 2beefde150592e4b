"""Models side by side: a row per (painting, photo) pair, then each model's picture of it.

The pairs are held-out photos and paintings of the training split (never trained on), then
the bundled samples; the experiments' comparison sheets in docs/MODEL.md are made with it. A
column is a model name or file, with ``:alpha=A`` and ``:recolor`` as ``lucid stylize``'s
options, or ``reinhard`` for plain colour transfer:

    python tools/compare_models.py default runs/arm.safetensors \\
        -o docs/images/experiment_arm.jpg
    python tools/compare_models.py reinhard default:alpha=0.3:recolor default \\
        -o docs/images/versus_colour_transfer.jpg
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from heldout_sheet import held_out  # noqa: E402

from lucid.models.inference import style_statistics, stylize  # noqa: E402
from lucid.models.store import load_model  # noqa: E402
from lucid_cli.color import reinhard_color_transfer  # noqa: E402
from lucid_cli.images import load_image, resize_shorter_side  # noqa: E402
from lucid_cli.sheets import grid  # noqa: E402


def pairs(content_dir: str, style_dir: str, held: int, samples: int) -> list[tuple[Path, Path]]:
    """``held`` held-out (photo, painting) pairs, then ``samples`` pairs of bundled samples."""
    photos = held_out(content_dir, 0.05, held, 5)
    paintings = held_out(style_dir, 0.05, held, 7)
    bundled = ROOT / "samples"
    contents = sorted((bundled / "content").iterdir())
    styles = sorted((bundled / "style").iterdir())
    return [*zip(photos, paintings, strict=True),
            *((contents[i % len(contents)], styles[i % len(styles)]) for i in range(samples))]


Painter = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (photo, painting) -> picture


def column(spec: str) -> Painter:
    """What paints one column: ``reinhard``, or ``MODEL[:alpha=A][:recolor]``."""
    if spec == "reinhard":
        return reinhard_color_transfer
    name, *settings = spec.split(":")
    alpha, recolor = 1.0, False
    for setting in settings:
        if setting == "recolor":
            recolor = True
        elif setting.startswith("alpha="):
            alpha = float(setting.removeprefix("alpha="))
        else:
            raise SystemExit(f"{spec}: unknown setting {setting!r} (alpha=A, recolor)")
    model = load_model(name)

    def paint(content: np.ndarray, style: np.ndarray) -> np.ndarray:
        photo = reinhard_color_transfer(content, style) if recolor else content
        return stylize(model, photo, [style_statistics(model, style)], alpha=alpha)
    return paint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("columns", nargs="+", metavar="MODEL[:alpha=A][:recolor]|reinhard",
                        help="one column each: a model name or file, or colour transfer")
    parser.add_argument("--content-dir", default="/work/shared/data/train/content")
    parser.add_argument("--style-dir", default="/work/shared/data/train/style")
    parser.add_argument("--held-out", type=int, default=6, help="held-out pairs")
    parser.add_argument("--samples", type=int, default=5, help="bundled sample pairs")
    parser.add_argument("--size", type=int, default=320, help="shorter side painted")
    parser.add_argument("--cell", type=int, default=200)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    painters = [column(spec) for spec in args.columns]
    rows = []
    for photo, painting in pairs(args.content_dir, args.style_dir, args.held_out, args.samples):
        content = resize_shorter_side(load_image(photo).rgb, args.size)
        style = resize_shorter_side(load_image(painting).rgb, args.size)
        rows.append([style, content, *(paint(content, style) for paint in painters)])
    sheet = grid(rows, args.cell)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.output, quality=90)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
