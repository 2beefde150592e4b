"""GPU status and settings: ``lucid.gpu.is_available()``, ``lucid.gpu.device_count()``,
``lucid.gpu.set_conv_tf32(False)`` (full float32 convolutions)."""

from lucid.backend import conv_tf32_enabled, set_conv_tf32, synchronize
from lucid.backend import gpu_available as is_available
from lucid.backend import gpu_count as device_count

__all__ = ["is_available", "device_count", "synchronize", "set_conv_tf32", "conv_tf32_enabled"]
