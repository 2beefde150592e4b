"""Stateless neural-network ops, as ``torch.nn.functional`` (``import lucid.nn.functional as F``).

Layers in ``lucid.nn`` own parameters and call these.
"""

from lucid.functional import pad
from lucid.nn.functional.activation import (
    celu,
    dropout,
    dropout1d,
    dropout2d,
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
from lucid.nn.functional.conv import conv1d, conv2d
from lucid.nn.functional.conv_transpose import conv_transpose1d, conv_transpose2d
from lucid.nn.functional.distance import cosine_similarity, pairwise_distance
from lucid.nn.functional.folding import fold, unfold
from lucid.nn.functional.linear import linear
from lucid.nn.functional.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from lucid.nn.functional.normalization import (
    adaptive_instance_norm,
    batch_norm,
    calc_mean_std,
    group_norm,
    instance_norm,
    layer_norm,
    normalize,
    rms_norm,
)
from lucid.nn.functional.pixelshuffle import pixel_shuffle, pixel_unshuffle
from lucid.nn.functional.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    max_unpool2d,
)
from lucid.nn.functional.sparse import embedding, one_hot
from lucid.nn.functional.upsampling import interpolate

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_instance_norm", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "avg_pool1d",
    "avg_pool2d", "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "calc_mean_std", "celu", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
    "cosine_similarity", "cross_entropy", "dropout", "dropout1d", "dropout2d", "elu", "embedding",
    "fold", "gelu", "glu", "group_norm", "hardshrink", "hardsigmoid", "hardswish", "hardtanh",
    "huber_loss", "instance_norm", "interpolate", "kl_div", "l1_loss", "layer_norm", "leaky_relu",
    "linear", "log_softmax", "logsigmoid", "max_pool1d", "max_pool2d", "max_unpool2d",
    "mish", "mse_loss",
    "nll_loss", "normalize", "one_hot", "pad", "pairwise_distance", "pixel_shuffle",
    "pixel_unshuffle", "prelu", "relu", "relu6", "rms_norm", "scaled_dot_product_attention",
    "selu", "sigmoid", "silu", "smooth_l1_loss", "softmax", "softmin", "softplus", "softshrink",
    "softsign", "tanh", "tanhshrink", "threshold", "unfold",
]
