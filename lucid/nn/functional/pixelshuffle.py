"""``pixel_shuffle`` and ``pixel_unshuffle``, as in ``torch.nn.functional``.

``pixel_shuffle`` moves channels into space: ``(*, C*r*r, H, W) -> (*, C, H*r, W*r)`` with
``out[..., c, h*r + i, w*r + j] = input[..., c*r*r + i*r + j, h, w]`` (the sub-pixel
convolution of Shi et al., 2016); ``pixel_unshuffle`` is its inverse. Each is a reshape, a
transpose and one copy, and each is the other's backward (a permutation's adjoint is its
inverse).
"""

from __future__ import annotations

import operator
from typing import Any

from lucid.autograd import Function
from lucid.ops._util import xp_of
from lucid.tensor import Tensor


def _shuffle(x: Any, r: int) -> Any:
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r), a fresh contiguous array."""
    *lead, crr, h, w = x.shape
    c = crr // (r * r)
    k = len(lead)
    blocks = x.reshape(*lead, c, r, r, h, w)  # (*, C, i, j, H, W)
    order = (*range(k), k, k + 3, k + 1, k + 4, k + 2)  # (*, C, H, i, W, j)
    out = xp_of(x).empty((*lead, c, h, r, w, r), dtype=x.dtype)
    out[...] = blocks.transpose(order)
    return out.reshape(*lead, c, h * r, w * r)


def _unshuffle(x: Any, r: int) -> Any:
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W), a fresh contiguous array."""
    *lead, c, hr, wr = x.shape
    h, w = hr // r, wr // r
    k = len(lead)
    blocks = x.reshape(*lead, c, h, r, w, r)  # (*, C, H, i, W, j)
    order = (*range(k), k, k + 2, k + 4, k + 1, k + 3)  # (*, C, i, j, H, W)
    out = xp_of(x).empty((*lead, c, r, r, h, w), dtype=x.dtype)
    out[...] = blocks.transpose(order)
    return out.reshape(*lead, c * r * r, h, w)


class PixelShuffleFunction(Function):
    reads_inputs = False

    def forward(self, x: Any, *, factor: int) -> Any:
        self.factor = factor
        return _shuffle(x, factor)

    def backward(self, gy: Any) -> Any:
        return _unshuffle(gy, self.factor)


class PixelUnshuffleFunction(Function):
    reads_inputs = False

    def forward(self, x: Any, *, factor: int) -> Any:
        self.factor = factor
        return _unshuffle(x, self.factor)

    def backward(self, gy: Any) -> Any:
        return _shuffle(gy, self.factor)


def _factor(input: Tensor, value: object, op: str, name: str) -> int:
    """The factor as an int, after PyTorch's checks: its type, the input's rank, its sign."""
    if isinstance(value, bool):
        raise TypeError(f"{op}(): argument '{name}' must be int, not bool")
    try:
        factor = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{op}(): argument '{name}' must be int, not "
                        f"{type(value).__name__}") from None
    if input.ndim < 3:
        raise RuntimeError(f"{op} expects input to have at least 3 dimensions, but got input "
                           f"with {input.ndim} dimension(s)")
    if factor <= 0:
        raise RuntimeError(f"{op} expects a positive {name}, but got {factor}")
    return factor


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Channels rearranged into space, as ``torch.nn.functional.pixel_shuffle``.

    ``out[..., c, h*r + i, w*r + j] = input[..., c*r*r + i*r + j, h, w]`` with
    ``r = upscale_factor``: sub-pixel upsampling after a conv with ``C*r*r`` outputs.
    Differentiable (the gradient is ``pixel_unshuffle`` of the output's gradient). The
    output is always a new contiguous tensor, ``r == 1`` included.

    Args:
        input: (*, C*r*r, H, W), any number (at least 0) of leading batch dimensions.
        upscale_factor: ``r``, a positive int.

    Shape:
        Output (*, C, H*r, W*r).

    Raises:
        RuntimeError: PyTorch's messages for fewer than 3 dimensions, a non-positive factor,
            and channels not divisible by ``r*r``.
        TypeError: a factor that is not an int (a bool or a float), as PyTorch.

    Differences from PyTorch: an empty input gets the documented output shape (PyTorch 2.13
    returns a tensor of the input's own shape, whose backward then fails).

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.pixel_shuffle(lucid.zeros(2, 18, 4, 5), 3).shape
        (2, 2, 12, 15)
    """
    op = "pixel_shuffle"
    r = _factor(input, upscale_factor, op, "upscale_factor")
    if input.shape[-3] % (r * r):
        raise RuntimeError(f"{op} expects its input's 'channel' dimension to be divisible by "
                           f"the square of upscale_factor, but input.size(-3)="
                           f"{input.shape[-3]} is not divisible by {r * r}")
    return PixelShuffleFunction.apply(input, factor=r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Space rearranged into channels, the inverse of ``pixel_shuffle``, as
    ``torch.nn.functional.pixel_unshuffle``.

    ``out[..., c*r*r + i*r + j, h, w] = input[..., c, h*r + i, w*r + j]`` with
    ``r = downscale_factor``. Differentiable (the gradient is ``pixel_shuffle`` of the
    output's gradient). The output is always a new contiguous tensor, ``r == 1`` included.

    Args:
        input: (*, C, H*r, W*r), any number (at least 0) of leading batch dimensions.
        downscale_factor: ``r``, a positive int.

    Shape:
        Output (*, C*r*r, H, W).

    Raises:
        RuntimeError: PyTorch's messages for fewer than 3 dimensions, a non-positive factor,
            and a height or width not divisible by ``r``.
        TypeError: a factor that is not an int (a bool or a float), as PyTorch.

    Differences from PyTorch: an empty input gets the documented output shape (PyTorch 2.13
    returns a tensor of the input's own shape, whose backward then fails).

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.pixel_unshuffle(lucid.zeros(2, 2, 12, 15), 3).shape
        (2, 18, 4, 5)
    """
    op = "pixel_unshuffle"
    r = _factor(input, downscale_factor, op, "downscale_factor")
    for axis, name in ((-2, "height"), (-1, "width")):
        if input.shape[axis] % r:
            raise RuntimeError(f"{op} expects {name} to be divisible by downscale_factor, but "
                               f"input.size({axis})={input.shape[axis]} is not divisible by {r}")
    return PixelUnshuffleFunction.apply(input, factor=r)


__all__ = ["pixel_shuffle", "pixel_unshuffle"]
