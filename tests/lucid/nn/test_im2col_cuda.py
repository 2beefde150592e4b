"""The GPU's im2col kernel: the same columns as padding then the portable window copy."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import lucid
from lucid.backend import array_module
from lucid.nn.functional import im2col_cuda
from lucid.nn.functional.conv import _im2col, _out_size
from lucid.ops.shape import pad_array
from lucid.testing import available_devices

needs_gpu = pytest.mark.skipif("gpu" not in available_devices(),
                               reason="no GPU: CuPy is missing or sees no device")

# (input shape, kernel, stride, dilation, pads (top, bottom, left, right))
CASES = [
    ((2, 3, 9, 8), (3, 3), (1, 1), (1, 1), (1, 1, 1, 1)),
    ((1, 4, 9, 8), (3, 3), (2, 2), (1, 1), (1, 1, 1, 1)),
    ((2, 2, 11, 7), (5, 3), (1, 2), (2, 1), (4, 4, 1, 1)),
    ((1, 3, 6, 5), (1, 1), (1, 1), (1, 1), (0, 0, 0, 0)),
    ((1, 2, 7, 40), (3, 3), (1, 1), (1, 1), (2, 1, 1, 2)),  # more columns than a warp
    ((3, 1, 5, 5), (4, 2), (1, 1), (1, 1), (1, 2, 0, 1)),  # even kernel, uneven pads
]


@needs_gpu
@pytest.mark.parametrize("reflect", [False, True], ids=["zeros", "reflect"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_gpu_columns_equal_the_padded_window_copy(case: tuple[Any, ...], dtype: Any,
                                                  reflect: bool) -> None:
    shape, kernel, stride, dilation, pads = case
    cupy = array_module("gpu")
    x = cupy.asarray(np.random.default_rng(0).standard_normal(shape).astype(dtype))
    widths = [(0, 0), (0, 0), pads[:2], pads[2:]]
    xpad = pad_array(cupy, x, widths, "reflect" if reflect else "constant")
    out_hw = (_out_size(xpad.shape[2], kernel[0], stride[0], dilation[0]),
              _out_size(xpad.shape[3], kernel[1], stride[1], dilation[1]))
    want = _im2col(xpad, kernel, stride, dilation, out_hw)
    got = im2col_cuda.im2col(x, kernel, stride, dilation, pads, out_hw, reflect=reflect)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(cupy.asnumpy(got), cupy.asnumpy(want))


@needs_gpu
@pytest.mark.parametrize("stride,dilation", [(1, 1), (2, 1), (1, 2)])
def test_gpu_reflect_conv_layer_in_inference_skips_the_pad(monkeypatch, stride: int,
                                                          dilation: int) -> None:
    """nn.Conv2d(padding_mode="reflect") under no_grad on a GPU reads the reflection through
    the kernel (no pad op runs) and gives what the padded path gives on the CPU."""
    import lucid.nn.modules.conv as conv_modules

    rng = np.random.default_rng(3)
    layer = lucid.nn.Conv2d(5, 7, 3, stride=stride, padding=2, dilation=dilation,
                            padding_mode="reflect")
    x = rng.standard_normal((2, 5, 13, 11)).astype(np.float32)
    want = layer(lucid.tensor(x)).detach().numpy()  # CPU, recorded: the padded copy
    layer.to("gpu")
    pads: list[Any] = []
    monkeypatch.setattr(conv_modules, "pad", lambda *a, **k: pads.append(a) or None)
    with lucid.no_grad():
        got = layer(lucid.tensor(x, device="gpu")).cpu().numpy()
    assert not pads
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.abs(want).max())


def test_the_kernel_takes_only_contiguous_inputs_its_indices_can_address() -> None:
    x = np.zeros((1, 2, 6, 8), np.float32)
    assert im2col_cuda.fits(x, (3, 3), (6, 8))
    assert not im2col_cuda.fits(x[..., ::2], (3, 3), (6, 4))
    assert not im2col_cuda.fits(x.astype(np.complex128), (3, 3), (6, 8))
    # near 2**31 rows of columns: the shape alone decides, so a stand-in array will do
    huge = SimpleNamespace(shape=(1, 1 << 16, 1 << 12, 8), dtype=x.dtype, flags=x.flags)
    assert im2col_cuda.fits(huge, (1, 1), (1 << 12, 8))
    assert not im2col_cuda.fits(huge, (3, 3), (1 << 12, 8))
    # 2**31 - 2**22 rows: an int32, but one grid stride (2**23 rows) more is not
    near = SimpleNamespace(shape=(1, (1 << 19) - (1 << 10), 1 << 12, 8), dtype=x.dtype,
                           flags=x.flags)
    assert not im2col_cuda.fits(near, (1, 1), (1 << 12, 8))
