"""GPU status: ``lucid.gpu.is_available()`` and ``lucid.gpu.device_count()``."""

from lucid.backend import gpu_available as is_available
from lucid.backend import gpu_count as device_count
from lucid.backend import synchronize

__all__ = ["is_available", "device_count", "synchronize"]
