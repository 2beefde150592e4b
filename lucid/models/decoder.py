"""The decoder: AdaIN features back to an image, mirroring the encoder.

Described by a list of layers in the model config, e.g.
``[["conv", 256], ["up"], ["conv", 128], ..., ["conv", 3, "none"]]``: 3x3 convolutions with
reflection padding (ReLU unless told otherwise) and 2x nearest upsampling, as in AdaIN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lucid.nn as nn
from lucid import Tensor


class Decoder(nn.Module):
    """A plain feed-forward decoder built from a layer list.

    Shape:
        - Input: (N, in_channels, H, W)
        - Output: (N, C_last, H * 2**ups, W * 2**ups)

    Example:
        >>> import lucid
        >>> decoder = Decoder(8, [["conv", 4], ["up"], ["conv", 3, "none"]])
        >>> decoder(lucid.rand(1, 8, 5, 5)).shape
        (1, 3, 10, 10)
    """

    def __init__(self, in_channels: int, layers: Sequence[Sequence[Any]],
                 padding_mode: str = "reflect") -> None:
        super().__init__()
        self.layers = nn.Sequential()
        channels = in_channels
        for spec in layers:
            kind = spec[0]
            if kind == "up":
                self.layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
            elif kind == "conv":
                out = int(spec[1])
                activation = spec[2] if len(spec) > 2 else "relu"
                self.layers.append(
                    nn.Conv2d(channels, out, 3, padding=1, padding_mode=padding_mode)
                )
                if activation == "relu":
                    self.layers.append(nn.ReLU())
                elif activation != "none":
                    raise ValueError(f"unknown decoder activation {activation!r}")
                channels = out
            else:
                raise ValueError(f"unknown decoder layer {kind!r}")
        self.out_channels = channels

    def forward(self, features: Tensor) -> Tensor:
        return self.layers(features)


def build_decoder(config: dict[str, Any]) -> Decoder:
    """A decoder from the ``decoder`` section of a model config."""
    return Decoder(config["in_channels"], config["layers"], config.get("padding_mode", "reflect"))
