"""The decoder: AdaIN features back to an image, mirroring the encoder.

Described by a list of layers in the model config, e.g.
``[["conv", 256], ["up"], ["conv", 128], ..., ["conv", 3, "none"]]``: 3x3 convolutions with
reflection padding (ReLU unless told otherwise) and 2x nearest upsampling, as in AdaIN.
``["skip", "block4_expand", 144]`` adds a second AdaIN level: the named encoder tap (of that
many channels, at the resolution the decoder has reached there), given the style's statistics
like the main input, enters through a 1x1 convolution added to the running features; a tap
coarser than the decoder there (a deeper level) is upsampled to it after its convolution.
``["residual", 2]`` adds a residual block of two 3x3 convolutions (that dilation) at the
resolution the decoder has reached there: more reach, and so room for larger brush marks,
where pixels are few.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import lucid.nn as nn
from lucid import Tensor
from lucid.nn.functional import interpolate


class Skip(nn.Module):
    """Adds ``conv1x1(skip)`` to the running features. Starts at zero (weight and bias), so a
    skip grafted onto a trained decoder leaves its output unchanged until training uses it.

    A skip coarser than ``x`` (a deeper AdaIN level, H / k by W / k) is upsampled k times
    (nearest) after its convolution, as the decoder's own upsampling does.

    Shape:
        - Input: x (N, C, H, W) and skip (N, C_skip, H / k, W / k), k a whole number
        - Output: (N, C, H, W)

    Example:
        >>> import lucid
        >>> skip = Skip("block4_expand", 6, 4)
        >>> x = lucid.rand(1, 4, 5, 5)
        >>> bool((skip(x, lucid.rand(1, 6, 5, 5)).detach().numpy() == x.numpy()).all())
        True
    """

    def __init__(self, tap: str, skip_channels: int, channels: int) -> None:
        super().__init__()
        self.tap = tap
        self.conv = nn.Conv2d(skip_channels, channels, 1)
        nn.init.zeros_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        added = self.conv(skip)
        if added.shape[2:] != x.shape[2:]:
            factor = x.shape[2] // added.shape[2]
            if (added.shape[2] * factor, added.shape[3] * factor) != tuple(x.shape[2:]):
                raise ValueError(f"skip {self.tap}: {tuple(skip.shape[2:])} does not divide "
                                 f"the decoder's {tuple(x.shape[2:])}")
            added = interpolate(added, scale_factor=factor, mode="nearest")
        return x + added


class Residual(nn.Module):
    """``x + conv(relu(conv(x)))``: two 3x3 convolutions with ``dilation``, padded as the
    decoder is (reflection by default), keeping the channels. The second starts at zero
    (weight and bias), so a block grafted onto a trained decoder leaves its output unchanged
    until training uses it.

    Shape:
        - Input: (N, C, H, W)
        - Output: (N, C, H, W)

    Example:
        >>> import lucid
        >>> block = Residual(4, dilation=2)
        >>> x = lucid.rand(1, 4, 6, 6)
        >>> bool((block(x).detach().numpy() == x.numpy()).all())
        True
    """

    def __init__(self, channels: int, dilation: int = 1, padding_mode: str = "reflect") -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=dilation, dilation=dilation,
                               padding_mode=padding_mode)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=dilation, dilation=dilation,
                               padding_mode=padding_mode)
        self.relu = nn.ReLU()
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv2(self.relu(self.conv1(x)))


class Decoder(nn.Module):
    """A feed-forward decoder built from a layer list.

    Shape:
        - Input: (N, in_channels, H, W), and for each skip its tap's features at the
          resolution the decoder has reached there
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
        # skips and residual blocks live beside the layers, not among them: grafting one onto
        # a trained decoder keeps every existing parameter's name and order (and so its
        # optimiser state)
        self.skips = nn.ModuleDict()
        self.residuals = nn.ModuleDict()
        # before layer i, these in order: ("skip", tap) adds a skip, ("residual", name) a block
        self._before: dict[int, list[tuple[str, str]]] = {}
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
            elif kind == "skip":
                tap = str(spec[1])
                if tap in self.skips:
                    raise ValueError(f"decoder skip {tap!r} given twice")
                self.skips[tap] = Skip(tap, int(spec[2]), channels)
                self._before.setdefault(len(self.layers), []).append(("skip", tap))
            elif kind == "residual":
                dilation = int(spec[1])
                if dilation < 1:
                    raise ValueError(f"a residual block's dilation must be at least 1, "
                                     f"got {dilation}")
                name = str(len(self.residuals))
                self.residuals[name] = Residual(channels, dilation, padding_mode)
                self._before.setdefault(len(self.layers), []).append(("residual", name))
            else:
                raise ValueError(f"unknown decoder layer {kind!r}")
        if len(self.layers) in self._before:
            raise ValueError("a decoder skip or residual block must come before a layer")
        self.out_channels = channels
        self.skip_taps = list(self.skips)

    def placements(self) -> dict[str, tuple[int, int]]:
        """Each residual block's name: the index of the layer it comes before, its dilation
        (blocks are named in order, so a block grafted before an existing one would take its
        name, and weights fit a block of any dilation)."""
        return {name: (index, self.residuals[name].conv1.dilation[0])
                for index, added in self._before.items()
                for kind, name in added if kind == "residual"}

    @property
    def largest_dilation(self) -> int:
        """The largest dilation of the residual blocks (1 without any)."""
        return max((dilation for _, dilation in self.placements().values()), default=1)

    @property
    def reach(self) -> int:
        """How far, in output pixels, an output pixel sees into the decoder's input: beyond
        that, what lies there (or how the picture is padded) cannot change it."""
        scale = 2 ** sum(isinstance(layer, nn.Upsample) for layer in self.layers)
        reach = 0
        for index, layer in enumerate(self.layers):
            for kind, name in self._before.get(index, ()):
                if kind == "residual":
                    block = self.residuals[name]
                    reach += 2 * block.conv1.dilation[0] * scale
            if isinstance(layer, nn.Upsample):
                scale //= 2
            elif isinstance(layer, nn.Conv2d):
                reach += (layer.kernel_size[0] // 2) * scale
        return reach

    def forward(self, features: Tensor, skips: Mapping[str, Tensor] | None = None) -> Tensor:
        x = features
        for index, layer in enumerate(self.layers):
            for kind, name in self._before.get(index, ()):
                x = self.skips[name](x, skips[name]) if kind == "skip" else self.residuals[name](x)
            x = layer(x)
        return x


def build_decoder(config: dict[str, Any]) -> Decoder:
    """A decoder from the ``decoder`` section of a model config."""
    return Decoder(config["in_channels"], config["layers"], config.get("padding_mode", "reflect"))
