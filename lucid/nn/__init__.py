"""Neural-network layers, as ``torch.nn`` (``import lucid.nn as nn``).

``Module`` and ``Parameter`` are the building blocks; the layers are thin wrappers that own
parameters and call the stateless ops of ``lucid.nn.functional``; ``lucid.nn.init`` fills
weights.
"""

from lucid.nn import functional, init, utils
from lucid.nn.modules import (
    GELU,
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm2d,
    ConstantPad2d,
    Conv2d,
    ConvTranspose2d,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    Flatten,
    Fold,
    GroupNorm,
    Identity,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    L1Loss,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    MaxPool2d,
    Module,
    ModuleDict,
    ModuleList,
    MSELoss,
    MultiheadAttention,
    NLLLoss,
    PixelShuffle,
    PixelUnshuffle,
    ReflectionPad2d,
    ReLU,
    ReLU6,
    ReplicationPad2d,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Tanh,
    Unflatten,
    Unfold,
    Upsample,
    UpsamplingBilinear2d,
    UpsamplingNearest2d,
    ZeroPad2d,
)
from lucid.nn.parameter import Buffer, Parameter

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm2d", "Buffer", "ConstantPad2d", "Conv2d",
    "ConvTranspose2d", "CrossEntropyLoss", "Dropout", "Embedding", "Flatten", "Fold", "GELU",
    "GroupNorm", "Identity", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "L1Loss",
    "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "MaxPool2d", "Module",
    "ModuleDict", "ModuleList", "MultiheadAttention", "NLLLoss", "Parameter", "PixelShuffle",
    "PixelUnshuffle", "ReLU", "ReLU6", "ReflectionPad2d", "ReplicationPad2d", "Sequential",
    "SiLU", "Sigmoid", "Softmax", "Tanh", "Unflatten", "Unfold", "Upsample",
    "UpsamplingBilinear2d", "UpsamplingNearest2d", "ZeroPad2d", "functional", "init", "utils",
]
