"""Pictures for people: contact sheets of stylized pairs and loss curves (Pillow only)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def to_pil(rgb: np.ndarray) -> Image.Image:
    """A float (H, W, 3) image in [0, 1] as a Pillow image."""
    return Image.fromarray((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8))


def grid(rows: Sequence[Sequence[np.ndarray | None]], cell: int = 192) -> Image.Image:
    """Pictures in rows on white, each shrunk to fit and centred in its ``cell`` square;
    None leaves a cell empty."""
    sheet = Image.new("RGB", (max(map(len, rows)) * cell, len(rows) * cell), "white")
    for i, row in enumerate(rows):
        for j, image in enumerate(row):
            if image is None:
                continue
            tile = to_pil(image)
            tile.thumbnail((cell - 4, cell - 4), Image.LANCZOS)
            sheet.paste(tile, (j * cell + (cell - tile.width) // 2,
                               i * cell + (cell - tile.height) // 2))
    return sheet


def contact_sheet(contents: Sequence[np.ndarray], styles: Sequence[np.ndarray],
                  results: Sequence[Sequence[np.ndarray]], cell: int = 192) -> Image.Image:
    """A grid: top row the styles, left column the contents, results[i][j] at (i, j)."""
    return grid([[None, *styles],
                 *([content, *row] for content, row in zip(contents, results, strict=True))],
                cell)


def loss_curve(iterations: Sequence[int], series: dict[str, Sequence[float]],
               path: Path, size: tuple[int, int] = (720, 360)) -> None:
    """Plot each series (log scale, smoothed) against iterations and save a PNG."""
    width, height = size
    margin = 40
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([margin, 10, width - 10, height - margin], outline="black")
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    if len(iterations) >= 2:
        x = np.asarray(iterations, dtype=float)
        logs = {k: np.log10(np.maximum(np.asarray(v, dtype=float), 1e-12))
                for k, v in series.items()}
        low = min(v.min() for v in logs.values())
        high = max(v.max() for v in logs.values())
        span = max(high - low, 1e-6)
        for values, colour in zip(logs.values(), colours):
            kernel = max(1, len(values) // 50)
            smooth = np.convolve(values, np.ones(kernel) / kernel, mode="valid")
            xs = x[kernel - 1:]
            px = margin + (xs - x[0]) / max(x[-1] - x[0], 1) * (width - margin - 10)
            py = 10 + (high - smooth) / span * (height - margin - 10)
            draw.line(list(zip(px.tolist(), py.tolist())), fill=colour, width=2)
        draw.text((margin + 5, height - margin + 5), f"iteration {int(x[0])}..{int(x[-1])}",
                  fill="black")
        for k, (name, colour) in enumerate(zip(series, colours)):
            draw.text((width - 200, 15 + 14 * k), f"{name} (log10)", fill=colour)
        draw.text((2, 10), f"{high:.2f}", fill="black")
        draw.text((2, height - margin - 10), f"{low:.2f}", fill="black")
    image.save(path)
