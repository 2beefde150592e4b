"""A contact sheet of held-out photos x held-out paintings (never trained on) for one model.

The held-out files are the training run's split (every 20th file of each folder), picked with a
stride across the split so the sheet shows varied subjects and painters.

    python tools/heldout_sheet.py --model default -o docs/images/heldout_sheet.jpg
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lucid.models.data import list_images, split_holdout  # noqa: E402
from lucid.models.inference import style_statistics, stylize  # noqa: E402
from lucid.models.store import load_model  # noqa: E402
from lucid_cli.images import load_image, resize_shorter_side  # noqa: E402
from lucid_cli.sheets import contact_sheet  # noqa: E402


def held_out(folder: str, holdout: float, count: int, offset: int) -> list[Path]:
    if count < 1:
        return []
    _, held = split_holdout(list_images(folder), holdout)
    stride = max(1, len(held) // count)
    return held[offset::stride][:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--content-dir", default="/work/shared/data/train/content")
    parser.add_argument("--style-dir", default="/work/shared/data/train/style")
    parser.add_argument("--holdout", type=float, default=0.05)
    parser.add_argument("--contents", type=int, default=5)
    parser.add_argument("--styles", type=int, default=5)
    parser.add_argument("--offset", type=int, default=0, help="Start of the stride (0, 1, ...).")
    parser.add_argument("--size", type=int, default=320)
    parser.add_argument("--cell", type=int, default=200)
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "docs/images/heldout_sheet.jpg")
    args = parser.parse_args()
    model = load_model(args.model)
    contents = [resize_shorter_side(load_image(p).rgb, args.size)
                for p in held_out(args.content_dir, args.holdout, args.contents, args.offset)]
    styles = [resize_shorter_side(load_image(p).rgb, args.size)
              for p in held_out(args.style_dir, args.holdout, args.styles, args.offset)]
    stats = [style_statistics(model, s) for s in styles]
    grid = [[stylize(model, c, [s]) for s in stats] for c in contents]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    contact_sheet(contents, styles, grid, cell=args.cell).save(args.output, quality=90)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
