"""Frozen ImageNet encoders of the style network, each exposing named style taps.

An encoder maps a [0, 1] RGB batch to a dict of feature maps ("taps"); it computes only as far
as the deepest tap asked for. Batch norms of the pretrained nets are folded into their
convolutions when weights are converted (the encoders are frozen), so every layer here is a
conv with a bias and an optional activation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lucid.nn as nn
from lucid import Tensor


class ConvAct(nn.Module):
    """Convolution with bias (a folded batch norm), then ReLU6 / ReLU or nothing."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 groups: int = 1, activation: str | None = "relu6",
                 padding_mode: str = "zeros") -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                              padding=kernel_size // 2, groups=groups, bias=True,
                              padding_mode=padding_mode)
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        if self.activation == "relu6":
            return x.clamp(0.0, 6.0)
        if self.activation == "relu":
            return x.relu()
        return x


class MBConv(nn.Module):
    """Inverted residual block of EfficientNet-Lite (no squeeze-excite, ReLU6)."""

    def __init__(self, in_channels: int, expand_channels: int, out_channels: int,
                 kernel_size: int, stride: int, padding_mode: str = "zeros") -> None:
        super().__init__()
        self.expand = (
            ConvAct(in_channels, expand_channels, 1, padding_mode=padding_mode)
            if expand_channels != in_channels else None
        )
        self.depthwise = ConvAct(expand_channels, expand_channels, kernel_size, stride=stride,
                                 groups=expand_channels, padding_mode=padding_mode)
        self.project = ConvAct(expand_channels, out_channels, 1, activation=None)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, x: Tensor, expanded: Tensor | None = None) -> Tensor:
        hidden = expanded if expanded is not None else self.expand_input(x)
        out = self.project(self.depthwise(hidden))
        return out + x if self.residual else out

    def expand_input(self, x: Tensor) -> Tensor:
        return x if self.expand is None else self.expand(x)


# (repeats, kernel, stride of the stage's first block, expand ratio, out channels)
LITE_STAGES = {
    "lite0": ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
              (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)),
    "lite1": ((1, 3, 1, 1, 16), (3, 3, 2, 6, 24), (3, 5, 2, 6, 40), (4, 3, 2, 6, 80),
              (4, 5, 1, 6, 112), (5, 5, 2, 6, 192), (1, 3, 1, 6, 320)),
    "lite2": ((1, 3, 1, 1, 16), (3, 3, 2, 6, 24), (3, 5, 2, 6, 48), (4, 3, 2, 6, 88),
              (4, 5, 1, 6, 120), (5, 5, 2, 6, 208), (1, 3, 1, 6, 352)),
}


def lite_blocks(variant: str) -> list[tuple[int, int, int, int, int]]:
    """Per global block: (in, expand, out, kernel, stride)."""
    if variant not in LITE_STAGES:
        raise ValueError(f"unknown EfficientNet-Lite variant {variant!r}: "
                         f"use {' or '.join(LITE_STAGES)}")
    blocks, channels = [], 32
    for repeats, kernel, stride, ratio, out in LITE_STAGES[variant]:
        for i in range(repeats):
            blocks.append((channels, channels * ratio, out, kernel, stride if i == 0 else 1))
            channels = out
    return blocks


class EfficientNetLiteEncoder(nn.Module):
    """EfficientNet-Lite trunk with taps ``stem`` and ``blockN_expand`` (ReLU6 outputs).

    ``variant``: ``"lite2"`` (the default model's), ``"lite1"`` (narrower: block 7's
    expansion has 240 channels against Lite2's 288) or ``"lite0"`` (Lite1's widths, fewer
    blocks: 16 against 21; ``tools/evaluate.py`` judges with it, as a network no model
    trains against).

    Input: [0, 1] RGB, normalised inside as Google's edge models expect, (255 x - 127) / 128.

    Shape:
        - Input: (N, 3, H, W)
        - Output: a dict of taps; ``blockN_expand`` has the stride of block N's input.

    Example:
        >>> import lucid
        >>> encoder = EfficientNetLiteEncoder(taps=["stem", "block1_expand"])
        >>> taps = encoder(lucid.rand(1, 3, 32, 32))
        >>> taps["stem"].shape, taps["block1_expand"].shape
        ((1, 32, 16, 16), (1, 96, 16, 16))
    """

    def __init__(self, variant: str = "lite2", taps: Sequence[str] = ("block7_expand",),
                 padding_mode: str = "zeros") -> None:
        super().__init__()
        self.variant = variant
        self.taps = list(taps)
        last = max(self._tap_block(t) for t in self.taps)
        specs = lite_blocks(variant)[: last + 1]
        self.stem = ConvAct(3, 32, 3, stride=2, padding_mode=padding_mode)
        self.blocks = nn.ModuleList(
            MBConv(*spec, padding_mode=padding_mode) for spec in specs
        )
        self.out_channels = {t: self._tap_channels(t, specs) for t in self.taps}

    @staticmethod
    def _tap_block(tap: str) -> int:
        if tap == "stem":
            return -1
        if tap.startswith("block") and tap.endswith("_expand"):
            return int(tap[len("block"):-len("_expand")])
        raise ValueError(f"unknown EfficientNet-Lite tap {tap!r}: use 'stem' or 'blockN_expand'")

    def _tap_channels(self, tap: str, specs: list[tuple[int, int, int, int, int]]) -> int:
        index = self._tap_block(tap)
        return 32 if index < 0 else specs[index][1]

    def forward(self, image: Tensor, taps: Sequence[str] | None = None) -> dict[str, Tensor]:
        wanted = list(self.taps if taps is None else taps)
        last = max(self._tap_block(t) for t in wanted)
        x = self.stem((image * (255.0 / 128.0)) - (127.0 / 128.0))
        out: dict[str, Tensor] = {}
        if "stem" in wanted:
            out["stem"] = x
        for index, block in enumerate(self.blocks):
            if index > last:
                break
            expanded = block.expand_input(x)
            name = f"block{index}_expand"
            if name in wanted:
                out[name] = expanded
                if index == last:
                    break  # the deepest tap is the expansion: skip the rest of the block
            x = block(x, expanded)
        return out


class VGGEncoder(nn.Module):
    """The "normalised VGG-19" of AdaIN (Huang and Belongie) up to relu4_1, reflection padded.

    Its first layer is a 1x1 conv that maps [0, 1] RGB to the mean-subtracted BGR [0, 255]
    input VGG was trained on (as in pytorch-AdaIN's ``vgg_normalised.pth``).

    Shape:
        - Input: (N, 3, H, W)
        - Output: taps ``relu1_1`` (64, stride 1), ``relu2_1`` (128, /2), ``relu3_1`` (256, /4),
          ``relu4_1`` (512, /8)

    Example:
        >>> import lucid
        >>> taps = VGGEncoder()(lucid.rand(1, 3, 16, 16))
        >>> taps["relu4_1"].shape
        (1, 512, 2, 2)
    """

    # (tap after the stage's first conv, [conv out channels]); max-pooling precedes stages 2-4
    STAGES = (("relu1_1", [64, 64]), ("relu2_1", [128, 128]), ("relu3_1", [256, 256, 256, 256]),
              ("relu4_1", [512]))

    def __init__(self, taps: Sequence[str] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")) -> None:
        super().__init__()
        self.taps = list(taps)
        self.prep = nn.Conv2d(3, 3, 1)
        self.convs = nn.ModuleList()
        channels = 3
        for _, outs in self.STAGES:
            for out in outs:
                self.convs.append(nn.Conv2d(channels, out, 3, padding=1, padding_mode="reflect"))
                channels = out
        self.out_channels = {t: c for t, c in zip(
            ("relu1_1", "relu2_1", "relu3_1", "relu4_1"), (64, 128, 256, 512)) if t in self.taps}

    def forward(self, image: Tensor, taps: Sequence[str] | None = None) -> dict[str, Tensor]:
        wanted = list(self.taps if taps is None else taps)
        x = self.prep(image)
        out: dict[str, Tensor] = {}
        conv = iter(self.convs)
        for stage, (tap, outs) in enumerate(self.STAGES):
            if len(out) == len(wanted):
                break
            if stage:
                x = nn.functional.max_pool2d(x, 2, 2, ceil_mode=True)
            for i in range(len(outs)):
                x = next(conv)(x).relu()
                if i == 0 and tap in wanted:
                    out[tap] = x
                    if len(out) == len(wanted):
                        break
        return out


def build_encoder(config: dict[str, Any]) -> nn.Module:
    """An encoder from the ``encoder`` section of a model config."""
    kind = config["type"]
    taps = config["taps"]
    if kind == "efficientnet_lite":
        return EfficientNetLiteEncoder(config.get("variant", "lite2"), taps,
                                       config.get("padding_mode", "zeros"))
    if kind == "vgg19_normalised":
        return VGGEncoder(taps)
    raise ValueError(f"unknown encoder type {kind!r}")
