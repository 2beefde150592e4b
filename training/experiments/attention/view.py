"""The probe's pictures: painting, photo, shipped model, the arm's decoder without the
attention layer, the arm with it; one row per bundled pair.

    python training/experiments/attention/view.py STATE SIZE OUT.jpg
"""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from prototype import StyleAttention  # noqa: E402

import lucid  # noqa: E402
from lucid import serialization  # noqa: E402
from lucid.models.inference import _to_batch, style_statistics, stylize  # noqa: E402
from lucid.models.store import load_model  # noqa: E402
from lucid.nn.functional import calc_mean_std  # noqa: E402
from lucid_cli.images import load_image, resize_shorter_side  # noqa: E402
from lucid_cli.sheets import grid  # noqa: E402

PAIRS = [("chelsea", "starry_night"), ("astronaut", "the_scream"), ("rocket", "wave"),
         ("coffee", "composition_vii"), ("grace_hopper", "shipwreck"),
         ("coffee", "starry_night")]


def main() -> None:
    state, size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    base, arm = load_model(None), load_model(None)
    attention = StyleAttention(288)
    arrays = serialization.load(state)
    arm.decoder.load_state_dict({k[4:]: v for k, v in arrays.items() if k.startswith("dec.")})
    attention.load_state_dict({k[5:]: v for k, v in arrays.items() if k.startswith("attn.")})
    tap = arm.adain_tap

    def paint(content: np.ndarray, style: np.ndarray, attend: bool) -> np.ndarray:
        margin, (h, w) = 64, content.shape[:2]
        height, width = (-(-(n + 2 * margin) // 8) * 8 for n in (h, w))
        top, left = (height - h) // 2, (width - w) // 2
        padded = np.pad(content, ((top, height - h - top), (left, width - w - left), (0, 0)),
                        mode="reflect")
        with lucid.no_grad():
            seen = arm.content_features(_to_batch(padded, arm))
            painting = arm.content_features(_to_batch(style, arm))
            target = arm.blend(seen, {k: calc_mean_std(v) for k, v in painting.items()})
            if attend:
                target[tap] = target[tap] + attention(arm.normalize(seen[tap]),
                                                      arm.normalize(painting[tap]),
                                                      painting[tap])
            image = arm.decode(target).numpy()[0].transpose(1, 2, 0)
        return np.clip(image[top : top + h, left : left + w], 0, 1)

    rows = []
    for c, s in PAIRS:
        content = resize_shorter_side(load_image(ROOT / f"samples/content/{c}.jpg").rgb, size)
        style = resize_shorter_side(load_image(ROOT / f"samples/style/{s}.jpg").rgb, size)
        rows.append([style, content, stylize(base, content, [style_statistics(base, style)]),
                     paint(content, style, False), paint(content, style, True)])
    grid(rows, 360).save(out, quality=90)


if __name__ == "__main__":
    main()
