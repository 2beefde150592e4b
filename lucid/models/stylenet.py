"""The style network: a frozen encoder, AdaIN, and a trained decoder.

Everything about an architecture lives in a small config (a dict, stored as JSON in the model
file), so one code path runs the embedded EfficientNet-Lite model and the published VGG-19
AdaIN model alike.
"""

from __future__ import annotations

from typing import Any

import lucid.nn as nn
from lucid import Tensor
from lucid.models.decoder import build_decoder
from lucid.models.encoders import build_encoder
from lucid.nn.functional import calc_mean_std, instance_norm


class StyleNet(nn.Module):
    """Encoder -> AdaIN -> decoder (Huang and Belongie, ICCV 2017).

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
        self.config = config
        self.encoder = build_encoder(config["encoder"])
        self.encoder.requires_grad_(False)
        self.decoder = build_decoder(config["decoder"])
        self.adain_tap: str = config["encoder"]["adain_tap"]
        self.style_taps: list[str] = list(config["encoder"]["taps"])
        self.stride: int = int(config["encoder"]["stride"])

    def content_features(self, image: Tensor) -> Tensor:
        """The AdaIN layer's features of ``image``."""
        return self.encoder(image, [self.adain_tap])[self.adain_tap]

    def style_statistics(self, image: Tensor) -> tuple[Tensor, Tensor]:
        """Per-channel mean and std of the AdaIN layer's features, each (N, C, 1, 1)."""
        return calc_mean_std(self.content_features(image))

    def blend(self, content_features: Tensor, style_mean: Tensor, style_std: Tensor,
              alpha: float = 1.0, content_stats: tuple[Tensor, Tensor] | None = None) -> Tensor:
        """AdaIN target: content normalised per channel, then given the style's statistics;
        ``alpha`` < 1 mixes the content features back in.

        ``content_stats`` (per-channel mean and biased variance, each (C,)) normalises with
        statistics gathered elsewhere, e.g. over a whole image processed in tiles; this is
        InstanceNorm's evaluation mode with tracked statistics.
        """
        if content_stats is None:
            normalized = instance_norm(content_features, eps=1e-5)
        else:
            normalized = instance_norm(content_features, *content_stats, use_input_stats=False,
                                       eps=1e-5)
        target = normalized * style_std + style_mean
        if alpha < 1.0:
            target = target * alpha + content_features * (1.0 - alpha)
        return target

    def forward(self, content: Tensor, style: Tensor, alpha: float = 1.0) -> Tensor:
        mean, std = self.style_statistics(style)
        return self.decoder(self.blend(self.content_features(content), mean, std, alpha))


def tiny_config() -> dict[str, Any]:
    """A minute EfficientNet-Lite-shaped network, for tests and docs (random weights)."""
    return {
        "format": 1,
        "encoder": {"type": "efficientnet_lite", "variant": "lite2", "padding_mode": "zeros",
                    "taps": ["stem", "block1_expand"], "adain_tap": "block1_expand", "stride": 2},
        "decoder": {"in_channels": 96, "padding_mode": "reflect",
                    "layers": [["conv", 16], ["up"], ["conv", 3, "none"]]},
    }
