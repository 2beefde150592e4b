"""The style network: a frozen encoder, AdaIN, and a trained decoder.

Everything about an architecture lives in a small config (a dict, stored as JSON in the model
file), so one code path runs the embedded EfficientNet-Lite model and the published VGG-19
AdaIN model alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import lucid.nn as nn
from lucid import Tensor
from lucid.models.decoder import build_decoder
from lucid.models.encoders import build_encoder
from lucid.nn.functional import calc_mean_std, instance_norm
from lucid.parallel import default_workers, thread_map


@dataclass(frozen=True)
class ContentStatistics:
    """Per-channel mean and biased variance of content features, each (C,), over ``count``
    positions (gathered over a whole image when it is processed in tiles)."""

    mean: Tensor
    var: Tensor
    count: int


Features = dict[str, Tensor]
"""Feature maps at the AdaIN layers, keyed by encoder tap (the main layer, then any skips)."""

StyleStatistics = dict[str, tuple[Tensor, Tensor]]
"""A style's per-channel (mean, std), each (N, C, 1, 1), at each AdaIN layer, keyed by tap."""


#: The version of the config's layout; a model file with another ``"format"`` is refused.
CONFIG_FORMAT = 1


class StyleNet(nn.Module):
    """Encoder -> AdaIN -> decoder (Huang and Belongie, ICCV 2017).

    AdaIN happens at the encoder's ``adain_tap`` and, when the decoder has skips, at each skip's
    tap as well: every level of the content is given the style's statistics at that level.

    Shape:
        - Input: content (N, 3, H, W) and style (N, 3, H', W') images in [0, 1]
        - Output: (N, 3, H, W) when H and W are multiples of the encoder's stride

    Example:
        >>> import lucid
        >>> net = StyleNet(tiny_config())
        >>> net(lucid.rand(1, 3, 16, 16), lucid.rand(1, 3, 24, 24)).shape
        (1, 3, 16, 16)
    """

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        if config.get("format", CONFIG_FORMAT) != CONFIG_FORMAT:
            raise ValueError(f"format {config['format']!r}: this lucid reads format "
                             f"{CONFIG_FORMAT} (a newer lucid may read it)")
        self.config = config
        self.encoder = build_encoder(config["encoder"])
        self.encoder.requires_grad_(False)
        self.decoder = build_decoder(config["decoder"])
        self.adain_tap: str = config["encoder"]["adain_tap"]
        self.adain_taps: list[str] = [self.adain_tap, *self.decoder.skip_taps]
        self.style_taps: list[str] = list(config["encoder"]["taps"])
        self.stride: int = int(config["encoder"]["stride"])
        if self.stride < 1:
            raise ValueError(f"the encoder's stride must be at least 1, got {self.stride}")
        self.unbiased_content_std = config.get("adain", {}).get("content_std") == "unbiased"

    def content_features(self, image: Tensor) -> Features:
        """The features of ``image`` at every AdaIN layer."""
        return self.encoder(image, self.adain_taps)

    def style_statistics(self, image: Tensor) -> StyleStatistics:
        """Per-channel mean and std of ``image``'s features at every AdaIN layer."""
        return {tap: calc_mean_std(x) for tap, x in self.content_features(image).items()}

    def blend(self, content_features: Features, style: StyleStatistics, alpha: float = 1.0,
              content_stats: dict[str, ContentStatistics] | None = None,
              mix: Features | None = None) -> Features:
        """AdaIN targets: content normalised per channel, then given the style's statistics,
        at each AdaIN layer; ``alpha`` < 1 mixes the content features back in (or ``mix``,
        another picture's features of the same shape).

        ``content_stats`` normalises with statistics gathered elsewhere, e.g. over a whole
        image processed in tiles: InstanceNorm's evaluation mode with tracked statistics.
        """
        targets = {}
        for tap, features in content_features.items():
            mean, std = style[tap]
            stats = None if content_stats is None else content_stats[tap]
            target = self.normalize(features, stats) * std + mean
            if alpha < 1.0:
                target = target * alpha + (features if mix is None else mix[tap]) * (1.0 - alpha)
            targets[tap] = target
        return targets

    def normalize(self, features: Tensor,
                  content_stats: ContentStatistics | None = None) -> Tensor:
        """Instance normalisation of the content features (AdaIN's first half).

        With ``"adain": {"content_std": "unbiased"}`` in the config (models imported from
        pytorch-AdaIN, whose code divides by sqrt(unbiased var + eps)) the same InstanceNorm
        gives that normalisation exactly: with n positions,
        ``(x - m) / sqrt(v n/(n-1) + eps) = IN_eps'(x) * sqrt((n-1)/n)``, eps' = eps (n-1)/n.
        """
        eps = 1e-5
        if content_stats is None:
            count, tracked = features.shape[2] * features.shape[3], {}
        else:
            count = content_stats.count
            tracked = dict(running_mean=content_stats.mean, running_var=content_stats.var,
                           use_input_stats=False)
        if self.unbiased_content_std and count > 1:
            shrink = (count - 1) / count
            return instance_norm(features, eps=eps * shrink, **tracked) * math.sqrt(shrink)
        return instance_norm(features, eps=eps, **tracked)

    def decode(self, targets: Features) -> Tensor:
        """The image from AdaIN targets (``blend``'s output, or any mix of several)."""
        return self.decoder(targets[self.adain_tap], targets)

    def forward(self, content: Tensor, style: Tensor, alpha: float = 1.0) -> Tensor:
        """Stylize ``content`` after ``style``. On the CPU the two are encoded at once, one
        thread each (``lucid.parallel``): at 512 px 1.48 s instead of 1.76 s for the reference
        VGG network on 2 cores, as numpy's passes between the GEMMs use one core each."""
        content_features, style_features = thread_map(
            self.content_features, (content, style), default_workers(content.device))
        style_statistics = {tap: calc_mean_std(x) for tap, x in style_features.items()}
        return self.decode(self.blend(content_features, style_statistics, alpha))


def tiny_config(skip: bool = False, deep: bool = False) -> dict[str, Any]:
    """A minute EfficientNet-Lite-shaped network, for tests and docs (random weights).

    ``skip=True``: AdaIN at stride 4 (block 2's expansion) and, through a decoder skip, at
    stride 2 (the stem). ``deep=True`` adds a deeper level as well: block 5's expansion
    (stride 8, also a style tap) through a skip into the decoder's input.
    """
    if skip or deep:
        config = {
            "format": 1,
            "encoder": {"type": "efficientnet_lite", "variant": "lite2",
                        "padding_mode": "zeros", "taps": ["stem", "block2_expand"],
                        "adain_tap": "block2_expand", "stride": 4},
            "decoder": {"in_channels": 144, "padding_mode": "reflect",
                        "layers": [["conv", 16], ["up"], ["skip", "stem", 32], ["conv", 8],
                                   ["up"], ["conv", 3, "none"]]},
        }
        if deep:
            config["encoder"]["taps"].append("block5_expand")
            config["encoder"]["stride"] = 8
            config["decoder"]["layers"].insert(0, ["skip", "block5_expand", 288])
        return config
    return {
        "format": 1,
        "encoder": {"type": "efficientnet_lite", "variant": "lite2", "padding_mode": "zeros",
                    "taps": ["stem", "block1_expand"], "adain_tap": "block1_expand", "stride": 2},
        "decoder": {"in_channels": 96, "padding_mode": "reflect",
                    "layers": [["conv", 16], ["up"], ["conv", 3, "none"]]},
    }
