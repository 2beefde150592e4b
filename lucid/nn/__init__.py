"""Neural-network layers, as ``torch.nn`` (``import lucid.nn as nn``).

``Module`` and ``Parameter`` are the building blocks; the layers are thin wrappers that own
parameters and call the stateless ops of ``lucid.nn.functional``; ``lucid.nn.init`` fills
weights.
"""

from lucid.nn import functional, init
from lucid.nn.modules import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm2d,
    ConstantPad2d,
    Conv2d,
    Dropout,
    Identity,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    LeakyReLU,
    Linear,
    MaxPool2d,
    Module,
    ModuleDict,
    ModuleList,
    ReflectionPad2d,
    ReLU,
    ReLU6,
    ReplicationPad2d,
    Sequential,
    Sigmoid,
    Tanh,
    Upsample,
    ZeroPad2d,
)
from lucid.nn.parameter import Buffer, Parameter

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm2d", "Buffer", "ConstantPad2d", "Conv2d", "Dropout",
    "Identity", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LeakyReLU", "Linear",
    "MaxPool2d", "Module", "ModuleDict", "ModuleList", "Parameter", "ReLU", "ReLU6",
    "ReflectionPad2d", "ReplicationPad2d", "Sequential", "Sigmoid", "Tanh", "Upsample",
    "ZeroPad2d", "functional", "init",
]
