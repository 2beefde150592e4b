"""Import the published PyTorch AdaIN weights (naoto0804/pytorch-AdaIN) as a lucid model.

pytorch-AdaIN ships two state dicts of ``nn.Sequential`` models, so their keys are module
indices (``"2.weight"``, ...):

- ``vgg_normalised.pth``: the "normalised VGG-19" up to relu5_4: a 1x1 conv (RGB [0, 1] to
  mean-subtracted BGR [0, 255]) then ReflectionPad2d + Conv2d + ReLU triples with
  ``MaxPool2d(2, 2, ceil_mode=True)`` between the stages. Only ``vgg[:31]`` (up to relu4_1)
  is used for style transfer; the rest is ignored here.
- ``decoder.pth``: ReflectionPad2d + Conv2d (+ ReLU) triples and nearest 2x upsampling,
  mirroring the encoder from relu4_1 back to RGB; the last conv has no activation.

Both files are read with :func:`lucid.pth.load_pth`, which needs no torch and runs no code
from the file.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import lucid.nn as nn
from lucid.models.decoder import build_decoder
from lucid.models.encoders import build_encoder

__all__ = ["ADAIN_SOURCE", "adain_config", "convert_pytorch_adain", "import_adain"]

ADAIN_SOURCE = "pytorch-AdaIN weights (naoto0804/pytorch-AdaIN)"

# (index in the torch Sequential, (out channels, in channels, kernel size)) of one conv
ConvSpec = tuple[int, tuple[int, int, int]]

# The convs of pytorch-AdaIN's vgg[:31] in forward order (the lucid VGGEncoder's ``prep``,
# then ``convs.0`` .. ``convs.8``).
VGG_CONVS: tuple[ConvSpec, ...] = (
    (0, (3, 3, 1)),
    (2, (64, 3, 3)), (5, (64, 64, 3)),
    (9, (128, 64, 3)), (12, (128, 128, 3)),
    (16, (256, 128, 3)), (19, (256, 256, 3)), (22, (256, 256, 3)), (25, (256, 256, 3)),
    (29, (512, 256, 3)),
)
# vgg[:31] ends at relu4_1; convs past it (relu4_2 .. relu5_4) are in the file but unused.
VGG_USED = 31

# The published decoder as a lucid layer list (see lucid.models.decoder).
DECODER_LAYERS: list[list[Any]] = [
    ["conv", 256], ["up"], ["conv", 256], ["conv", 256], ["conv", 256], ["conv", 128],
    ["up"], ["conv", 128], ["conv", 64], ["up"], ["conv", 64], ["conv", 3, "none"],
]

_STATE_KEY = re.compile(r"(\d+)\.(weight|bias)")


def adain_config() -> dict[str, Any]:
    """The StyleNet config of the published AdaIN network (VGG-19 to relu4_1, its decoder)."""
    return {
        "format": 1,
        "encoder": {"type": "vgg19_normalised",
                    "taps": ["relu1_1", "relu2_1", "relu3_1", "relu4_1"],
                    "adain_tap": "relu4_1", "stride": 8},
        "decoder": {"in_channels": 512, "padding_mode": "reflect",
                    "layers": [list(layer) for layer in DECODER_LAYERS]},
        # pytorch-AdaIN normalises the content by its unbiased std: keep its exact network
        "adain": {"content_std": "unbiased"},
    }


def _decoder_convs() -> list[ConvSpec]:
    """Sequential index and (out, in, kernel) of each conv of pytorch-AdaIN's decoder.

    Each conv there is ReflectionPad2d, Conv2d, ReLU (no ReLU after the last), and each
    ["up"] one UpsamplingNearest2d, so the conv indices follow from the layer list.
    """
    convs: list[ConvSpec] = []
    index, channels = 0, 512
    for layer in DECODER_LAYERS:
        if layer[0] == "up":
            index += 1
            continue
        out = int(layer[1])
        convs.append((index + 1, (out, channels, 3)))
        index += 2 if len(layer) > 2 and layer[2] == "none" else 3
        channels = out
    return convs


def _conv_names(module: nn.Module, prefix: str) -> list[str]:
    """Dotted names of ``module``'s convolutions in forward (registration) order.

    Taken from the lucid modules themselves rather than recomputed here, so the mapping
    cannot drift from how the encoder and decoder number their layers.
    """
    return [f"{prefix}.{name}" for name, child in module.named_modules()
            if isinstance(child, nn.Conv2d)]


def _looks_like(state: dict[str, np.ndarray], convs: Sequence[ConvSpec]) -> bool:
    """Most of ``convs`` are in ``state`` with their shapes: the file is that network."""
    found = sum(_shape(state.get(f"{index}.weight")) == (out, cin, k, k)
                for index, (out, cin, k) in convs)
    return found * 2 > len(convs)


def _shape(value: Any) -> tuple[int, ...] | None:
    return None if value is None else tuple(value.shape)


def _check_kind(state: dict[str, np.ndarray], what: str, expected: str) -> None:
    """Name the common mix-up (the two files swapped) instead of listing missing keys."""
    is_decoder = _looks_like(state, _decoder_convs())
    is_vgg = _looks_like(state, VGG_CONVS)
    if expected == "vgg" and is_decoder:
        raise ValueError(f"{what}: this is pytorch-AdaIN's decoder.pth, not vgg_normalised.pth "
                         "(are the two files swapped?)")
    if expected == "decoder" and is_vgg:
        raise ValueError(f"{what}: this is pytorch-AdaIN's vgg_normalised.pth, not decoder.pth "
                         "(are the two files swapped?)")


def _take(state: dict[str, np.ndarray], what: str, convs: Sequence[ConvSpec],
          names: list[str], ignore_from: int | None) -> dict[str, np.ndarray]:
    """Check ``state`` against the expected convs and rename them to ``names``.

    Keys of modules at index >= ``ignore_from`` are allowed and dropped (the unused VGG
    layers); any other key is an error, because it means the file is some other network.
    """
    expected_keys = {f"{index}.{part}" for index, _ in convs for part in ("weight", "bias")}
    missing = [key for index, _ in convs for part in ("weight", "bias")
               if (key := f"{index}.{part}") not in state]
    if missing:
        shown = ", ".join(missing[:4]) + (", ..." if len(missing) > 4 else "")
        raise ValueError(f"{what}: not pytorch-AdaIN's layout: missing {len(missing)} of "
                         f"{len(expected_keys)} weights ({shown})")
    unexpected = []
    for key in state:
        if key in expected_keys:
            continue
        match = _STATE_KEY.fullmatch(key)
        if ignore_from is not None and match and int(match.group(1)) >= ignore_from:
            continue
        unexpected.append(key)
    if unexpected:
        shown = ", ".join(unexpected[:4]) + (", ..." if len(unexpected) > 4 else "")
        raise ValueError(f"{what}: not pytorch-AdaIN's layout: unexpected entries {shown}")

    weights: dict[str, np.ndarray] = {}
    for (index, (out, inp, kernel)), name in zip(convs, names, strict=True):
        for part, shape in (("weight", (out, inp, kernel, kernel)), ("bias", (out,))):
            value = state[f"{index}.{part}"]
            if tuple(value.shape) != shape:
                raise ValueError(f"{what}: {index}.{part} has shape {tuple(value.shape)}, "
                                 f"expected {shape} for pytorch-AdaIN's layout")
            if not np.issubdtype(value.dtype, np.floating):
                raise ValueError(f"{what}: {index}.{part} is {value.dtype}, not floating point")
            # float16 / float64 files load as lucid's float32; NaN or inf would only show up
            # as a black image much later, so refuse them here with the file's name.
            value = np.ascontiguousarray(value, dtype=np.float32)
            if not np.isfinite(value).all():
                raise ValueError(f"{what}: {index}.{part} holds NaN or infinite values")
            weights[f"{name}.{part}"] = value
    return weights


def convert_pytorch_adain(
    vgg_state: dict[str, np.ndarray],
    decoder_state: dict[str, np.ndarray],
    vgg_name: str = "vgg",
    decoder_name: str = "decoder",
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The StyleNet config and weights equivalent to pytorch-AdaIN's two state dicts.

    ``vgg_name`` and ``decoder_name`` (e.g. the file paths) start the error messages.

    Raises:
        ValueError: a state dict is not the expected layout (e.g. the files swapped, a
            missing key, a wrong shape, a non-float or non-finite weight).

    Example:
        >>> from lucid.pth import load_pth
        >>> config, weights = convert_pytorch_adain(load_pth("vgg_normalised.pth"),
        ...                                         load_pth("decoder.pth"))  # doctest: +SKIP
    """
    config = adain_config()
    _check_kind(vgg_state, vgg_name, "vgg")
    _check_kind(decoder_state, decoder_name, "decoder")
    encoder = build_encoder(config["encoder"])
    decoder = build_decoder(config["decoder"])
    weights = _take(vgg_state, vgg_name, VGG_CONVS, _conv_names(encoder, "encoder"),
                    ignore_from=VGG_USED)
    weights.update(_take(decoder_state, decoder_name, _decoder_convs(),
                         _conv_names(decoder, "decoder"), ignore_from=None))
    return config, weights


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_adain(vgg_path: str | os.PathLike[str], decoder_path: str | os.PathLike[str],
                 output_path: str | os.PathLike[str]) -> dict[str, Any]:
    """Convert pytorch-AdaIN's ``vgg_normalised.pth`` and ``decoder.pth`` to a model file.

    Needs no torch. Writes ``output_path`` (safetensors with config and provenance; any
    existing file is replaced) and returns the provenance recorded in it.

    Raises:
        FileNotFoundError: an input is missing.
        lucid.pth.PthError: an input is not a readable, tensors-only ``.pth`` file.
        ValueError: an input does not hold pytorch-AdaIN's network.
    """
    from lucid.models.store import save_model
    from lucid.models.stylenet import StyleNet
    from lucid.pth import load_pth

    vgg_path, decoder_path = Path(vgg_path), Path(decoder_path)
    config, weights = convert_pytorch_adain(load_pth(vgg_path), load_pth(decoder_path),
                                            str(vgg_path), str(decoder_path))
    model = StyleNet(config)
    model.load_state_dict(weights, strict=True)
    provenance = {
        "source": ADAIN_SOURCE,
        "converted_by": "lucid import-adain",
        "vgg_file": vgg_path.name,
        "vgg_sha256": _sha256(vgg_path),
        "decoder_file": decoder_path.name,
        "decoder_sha256": _sha256(decoder_path),
    }
    save_model(model, output_path, provenance=provenance)
    return provenance
