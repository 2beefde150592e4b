"""Render the README's pictures from ``samples/`` with the embedded default model.

Every picture is made through the Python API the CLI uses, at 384 px, into ``docs/images/``:
a contact sheet of every sample photo x painting, and one picture per CLI feature.

    python tools/make_gallery.py [--model default] [--size 384]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lucid.models.inference import add_grain, style_statistics, stylize  # noqa: E402
from lucid.models.store import load_model  # noqa: E402
from lucid_cli.batch import encode_style, paint  # noqa: E402
from lucid_cli.color import (  # noqa: E402
    match_color_histogram,
    reinhard_color_transfer,
    transfer_luminance,
)
from lucid_cli.images import load_image, resize_shorter_side  # noqa: E402
from lucid_cli.sheets import contact_sheet, to_pil  # noqa: E402

SAMPLES = ROOT / "samples"
OUT = ROOT / "docs" / "images"


def load(path: Path, size: int) -> np.ndarray:
    return resize_shorter_side(load_image(path).rgb, size)


def row(images: list[np.ndarray], height: int = 256) -> np.ndarray:
    """Images side by side at one height (white gaps)."""
    from PIL import Image

    tiles = []
    for image in images:
        pil = to_pil(image)
        pil = pil.resize((round(pil.width * height / pil.height), height), Image.LANCZOS)
        tiles.append(np.asarray(pil, np.float32) / 255)
        tiles.append(np.ones((height, 8, 3), np.float32))
    return np.concatenate(tiles[:-1], axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--size", type=int, default=384)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    model = load_model(args.model)
    contents = {p.stem: load(p, args.size) for p in sorted((SAMPLES / "content").glob("*.jpg"))}
    styles = {p.stem: load(p, args.size) for p in sorted((SAMPLES / "style").glob("*.jpg"))}
    stats = {name: style_statistics(model, image) for name, image in styles.items()}

    grid = [[stylize(model, c, [stats[s]]) for s in styles] for c in contents.values()]
    contact_sheet(list(contents.values()), list(styles.values()), grid, cell=200).save(
        OUT / "contact_sheet.jpg", quality=90)

    cat, wave, starry = contents["chelsea"], "wave", "starry_night"
    pictures = {
        "alpha": [stylize(model, cat, [stats[wave]], alpha=a) for a in (0.25, 0.5, 0.75, 1.0)],
        "blend": [stylize(model, cat, [stats[wave], stats[starry]], weights=[w, 1 - w])
                  for w in (1.0, 0.66, 0.33, 0.0)],
        "preserve_color": [
            stylize(model, cat, [stats[starry]]),
            transfer_luminance(stylize(model, cat, [stats[starry]]), cat),
            stylize(model, cat, [style_statistics(model,
                                                  match_color_histogram(styles[starry], cat))]),
        ],
    }
    height, width = cat.shape[:2]
    mask = np.zeros((height, width), np.float32)
    mask[:, : width // 2] = 1
    pictures["mask"] = [cat, stylize(model, cat, [stats[wave], stats[starry]], mask=mask)]
    astronaut = contents["astronaut"]
    pictures["stroke_scale"] = [
        paint(model, astronaut, [encode_style(model, styles[starry], scale)], scale)
        for scale in (1, 2, 3)]
    rocket, scream = contents["rocket"], stats["the_scream"]
    pictures["grain"] = [rocket, stylize(model, rocket, [scream]),
                         stylize(model, add_grain(rocket, 0.02), [scream])]
    for name, images in pictures.items():
        to_pil(row(images)).save(OUT / f"{name}.jpg", quality=90)
    coffee = contents["coffee"]
    recolored = reinhard_color_transfer(coffee, styles[starry])
    alphas = (0.25, 0.5, 0.75)
    plain = row([stylize(model, coffee, [stats[starry]], alpha=a) for a in alphas])
    matched = row([stylize(model, recolored, [stats[starry]], alpha=a) for a in alphas])
    gap = np.ones((8, plain.shape[1], 3), np.float32)
    to_pil(np.concatenate([plain, gap, matched])).save(OUT / "recolor.jpg", quality=90)
    print(f"wrote {len(pictures) + 2} pictures to {OUT}")


if __name__ == "__main__":
    main()
