"""Stateless neural-network ops, as ``torch.nn.functional`` (``import lucid.nn.functional as F``).

Layers in ``lucid.nn`` own parameters and call these.
"""

from lucid.functional import pad
from lucid.nn.functional.activation import (
    celu,
    dropout,
    elu,
    gelu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    log_softmax,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softmin,
    softplus,
    softshrink,
    softsign,
    tanh,
    tanhshrink,
    threshold,
)
from lucid.nn.functional.attention import scaled_dot_product_attention
from lucid.nn.functional.conv import conv2d
from lucid.nn.functional.conv_transpose import conv_transpose2d
from lucid.nn.functional.folding import fold, unfold
from lucid.nn.functional.linear import linear
from lucid.nn.functional.loss import cross_entropy, l1_loss, mse_loss, nll_loss
from lucid.nn.functional.normalization import (
    adaptive_instance_norm,
    batch_norm,
    calc_mean_std,
    group_norm,
    instance_norm,
    layer_norm,
)
from lucid.nn.functional.pixelshuffle import pixel_shuffle, pixel_unshuffle
from lucid.nn.functional.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from lucid.nn.functional.sparse import embedding
from lucid.nn.functional.upsampling import interpolate

__all__ = [
    "adaptive_avg_pool2d", "adaptive_instance_norm", "avg_pool2d", "batch_norm", "calc_mean_std",
    "celu", "conv2d", "conv_transpose2d", "cross_entropy", "dropout", "elu", "embedding", "fold",
    "gelu", "glu", "group_norm", "hardshrink", "hardsigmoid", "hardswish", "hardtanh",
    "instance_norm", "interpolate", "l1_loss", "layer_norm", "leaky_relu", "linear",
    "log_softmax", "logsigmoid", "max_pool2d", "mish", "mse_loss", "nll_loss", "pad",
    "pixel_shuffle", "pixel_unshuffle", "prelu", "relu", "relu6", "scaled_dot_product_attention",
    "selu", "sigmoid", "silu", "softmax", "softmin", "softplus", "softshrink", "softsign", "tanh",
    "tanhshrink", "threshold", "unfold",
]
