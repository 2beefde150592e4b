"""Shared fixtures: every device-aware test runs on the CPU and, when CuPy sees one, a GPU."""

from collections.abc import Iterator

import numpy as np
import pytest

import lucid
from lucid.testing import available_devices


@pytest.fixture(params=["cpu", "gpu"])
def device(request: pytest.FixtureRequest) -> str:
    if request.param not in available_devices():
        pytest.skip("no GPU: CuPy is missing or sees no device")
    return request.param


@pytest.fixture(autouse=True)
def _full_float32_convolutions() -> Iterator[None]:
    """Tests hold float32 convolutions to float32 tolerances: no TF32 unless a test asks."""
    lucid.gpu.set_conv_tf32(False)
    yield
    lucid.gpu.set_conv_tf32(True)


@pytest.fixture(autouse=True)
def _seed() -> None:
    lucid.manual_seed(0)
    np.random.seed(0)
