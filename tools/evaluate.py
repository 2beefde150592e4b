"""Judge a model on held-out pairs with statistics it was not trained against.

Style distance (lower = closer to the painting), per pair, averaged:
  - texture: at scales 1, 2, 4 and 8 (box-downsampled luminance), the distribution of gradient
    magnitudes and orientations; the distance is the mean absolute difference of the log-magnitude
    quantiles (10..90 %) plus the L1 distance of 8-bin orientation histograms. Colour transfer
    cannot change these; painting them is the point.
  - colour: distance of Lab means and stds.
Content preservation (higher = more of the photo kept), two measures:
  - structure: correlation between the coarse (scale 4) gradient magnitude maps of output and
    content (edges where the photo has them; painted strokes count against it);
  - layout: correlation between the luminance of output and content at scale 16 (where the
    light and dark masses of the photo are, whatever the strokes).

Baselines: the content itself, and Reinhard colour transfer (Lab mean/std matching).

    python tools/evaluate.py --model runs/default/model.safetensors [--pairs 64] [--size 256]
        [--alphas 1 0.6 0.3] [--stroke-scales 1 2 3]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lucid.models.data import list_images, load_rgb, split_holdout  # noqa: E402
from lucid_cli.color import reinhard_color_transfer, rgb_to_lab  # noqa: E402

QUANTILES = np.linspace(0.1, 0.9, 9)


def luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def downsample(image: np.ndarray, factor: int) -> np.ndarray:
    h, w = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    return image[:h, :w].reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))


def gradients(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gx = np.diff(y, axis=1)[:-1]
    gy = np.diff(y, axis=0)[:, :-1]
    return np.hypot(gx, gy), np.arctan2(gy, gx)


def texture_signature(rgb: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    y = luminance(rgb)
    out = []
    for factor in (1, 2, 4, 8):
        magnitude, angle = gradients(downsample(y, factor))
        logm = np.log(magnitude + 1e-3)
        strong = magnitude > np.quantile(magnitude, 0.5)
        hist, _ = np.histogram(np.mod(angle[strong], np.pi), bins=8, range=(0, np.pi))
        out.append((np.quantile(logm, QUANTILES), hist / max(hist.sum(), 1)))
    return out


def texture_distance(a: np.ndarray, b: np.ndarray) -> float:
    total = 0.0
    for (qa, ha), (qb, hb) in zip(texture_signature(a), texture_signature(b)):
        total += np.abs(qa - qb).mean() + np.abs(ha - hb).sum()
    return total / 4


def colour_distance(a: np.ndarray, b: np.ndarray) -> float:
    la, lb = rgb_to_lab(a).reshape(-1, 3), rgb_to_lab(b).reshape(-1, 3)
    return float(np.abs(la.mean(0) - lb.mean(0)).mean() + np.abs(la.std(0) - lb.std(0)).mean())


def structure_kept(output: np.ndarray, content: np.ndarray) -> float:
    mo, _ = gradients(downsample(luminance(output), 4))
    mc, _ = gradients(downsample(luminance(content), 4))
    return float(np.corrcoef(mo.ravel(), mc.ravel())[0, 1])


def layout_kept(output: np.ndarray, content: np.ndarray) -> float:
    lo = downsample(luminance(output), 16).ravel()
    lc = downsample(luminance(content), 16).ravel()
    if lo.std() == 0 or lc.std() == 0:
        return 0.0
    return float(np.corrcoef(lo, lc)[0, 1])


def square(image: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    h, w = image.shape[:2]
    s = min(h, w)
    crop = image[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    return np.asarray(Image.fromarray(crop).resize((size, size), Image.LANCZOS),
                      dtype=np.float32) / 255.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--content-dir", default="/work/shared/data/train/content")
    parser.add_argument("--style-dir", default="/work/shared/data/train/style")
    parser.add_argument("--holdout", type=float, default=0.05)
    parser.add_argument("--pairs", type=int, default=48)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--alphas", type=float, nargs="+", default=[1.0],
                        help="content-style trade-offs to measure the model at (--alpha)")
    parser.add_argument("--stroke-scales", type=int, nargs="+", default=[1],
                        help="also measure the model at these --stroke-scale values (alpha 1)")
    args = parser.parse_args()

    from lucid.models.inference import style_statistics, stylize
    from lucid.models.store import load_model
    from lucid_cli.batch import encode_style, paint

    model = load_model(args.model)
    _, contents = split_holdout(list_images(args.content_dir), args.holdout)
    _, styles = split_holdout(list_images(args.style_dir), args.holdout)
    rng = np.random.default_rng(0)
    def model_name(alpha: float) -> str:
        return "model" if alpha == 1.0 else f"model, alpha {alpha:g}"

    rows = {"content (identity)": [], "reinhard colour transfer": []}
    rows.update({model_name(alpha): [] for alpha in args.alphas})
    scales = [scale for scale in args.stroke_scales if scale > 1]
    rows.update({f"model, stroke scale {scale}": [] for scale in scales})
    for _ in range(args.pairs):
        content = square(load_rgb(contents[rng.integers(len(contents))], args.size), args.size)
        style = square(load_rgb(styles[rng.integers(len(styles))], args.size), args.size)
        statistics = style_statistics(model, style)
        outputs = {
            "content (identity)": content,
            "reinhard colour transfer": reinhard_color_transfer(content, style),
        }
        outputs.update({model_name(alpha): stylize(model, content, [statistics], alpha=alpha)
                        for alpha in args.alphas})
        outputs.update({f"model, stroke scale {scale}":
                        paint(model, content, [encode_style(model, style, scale)], scale)
                        for scale in scales})
        for name, output in outputs.items():
            rows[name].append((texture_distance(output, style), colour_distance(output, style),
                               structure_kept(output, content), layout_kept(output, content)))
    summary = {}
    print(f"{'method':28s} texture-dist  colour-dist  structure-kept  layout-kept")
    for name, values in rows.items():
        t, c, s, lay = np.mean(values, axis=0)
        summary[name] = {"texture_distance": round(float(t), 4),
                         "colour_distance": round(float(c), 3),
                         "structure_kept": round(float(s), 3),
                         "layout_kept": round(float(lay), 3)}
        print(f"{name:28s} {t:12.4f} {c:12.3f} {s:15.3f} {lay:12.3f}")
    if args.json:
        args.json.write_text(json.dumps({"pairs": args.pairs, "size": args.size,
                                         "results": summary}, indent=2))


if __name__ == "__main__":
    main()
