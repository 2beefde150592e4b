"""Activation functions and dropout, as ``torch.nn.functional``'s."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from lucid.autograd import Function
from lucid.creation import rand, rand_like
from lucid.dtypes import DTypeLike
from lucid.ops import elementwise as ew
from lucid.ops._util import normalize_dims, unbroadcast, xp_of
from lucid.tensor import Tensor

#: SELU's constants (Klambauer et al., 2017), as PyTorch's
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``. ``inplace`` is accepted for PyTorch compatibility and ignored."""
    return ew.Relu.apply(input)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``; no gradient at 0 and 6, as in PyTorch. ``inplace`` is ignored."""
    return hardtanh(input, 0.0, 6.0)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """``x`` clamped to ``[min_val, max_val]``; the gradient passes strictly inside only (none
    at the bounds), as in PyTorch. Integer input stays integer, its bounds truncated to
    integers, as in PyTorch. ``inplace`` is ignored."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if np.issubdtype(input.dtype, np.integer):
        min_val, max_val = int(min_val), int(max_val)
        if np.issubdtype(input.dtype, np.unsignedinteger) and min(min_val, max_val) < 0:
            raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    return ew.Clamp.apply(input, min=min_val, max=max_val, edges=False)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` where positive, ``negative_slope * x`` elsewhere. ``inplace`` is ignored."""
    return ew.LeakyRelu.apply(input, negative_slope=negative_slope)


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)``, Phi the standard normal's distribution function: ``x / 2 * (1 +
    erf(x / sqrt(2)))``, or with ``approximate="tanh"`` Hendrycks and Gimpel's ``x / 2 * (1 +
    tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))``.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> [round(v, 4) for v in F.gelu(lucid.tensor([-1.0, 0.0, 1.0])).tolist()]
        [-0.1587, 0.0, 0.8413]
    """
    if approximate == "none":
        return input * ((input * (1 / math.sqrt(2))).erf() + 1) * 0.5
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2 / math.pi)
        return input * (inner.tanh() + 1) * 0.5
    raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate}")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (the swish). ``inplace`` is ignored."""
    return input * input.sigmoid()


# ---- the rest of torch.nn.functional's element-wise activations ---------------------------


def _opmath(a: Any) -> Any:
    """float16 computed in float32, as PyTorch's kernels do (its exp overflows past 11)."""
    return a.astype(np.float32) if a.dtype == np.float16 else a


def _log_sigmoid_array(x: Any) -> Any:
    """``log(sigmoid(x))`` as ``min(x, 0) - log1p(exp(-|x|))``: finite for every finite x."""
    xp = xp_of(x)
    return xp.minimum(x, x.dtype.type(0)) - xp.log1p(xp.exp(-xp.abs(x)))


def _softplus_array(x: Any) -> Any:
    """``log(1 + exp(x))`` as ``max(x, 0) + log1p(exp(-|x|))``: finite for every finite x."""
    xp = xp_of(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


def _floating_only(input: Tensor, name: str) -> None:
    """PyTorch's refusal of integer and bool input where its kernel is for floats only."""
    if input.dtype.kind != "f":
        raise NotImplementedError(f"\"{name}\" not implemented for '{input.dtype}'")


class _Elu(Function):
    """PyTorch's elu kernel, behind ELU, SELU and CELU: ``scale * x`` where ``x > 0``, else
    ``scale * alpha * (exp(input_scale * x) - 1)``; the gradient at 0 is the left one."""

    def forward(self, a: Any, alpha: float = 1.0, scale: float = 1.0,
                input_scale: float = 1.0) -> Any:
        self.save_for_backward(a)
        self.coefficients = (alpha, scale, input_scale)
        x = _opmath(a)
        xp, t = xp_of(x), x.dtype.type
        # exp of the negative part only: nothing overflows in the branch that is dropped
        negative = xp.expm1(xp.minimum(x, 0) * t(input_scale)) * (t(alpha) * t(scale))
        return xp.where(x <= 0, negative, x * t(scale)).astype(a.dtype, copy=False)

    def backward(self, gy: Any) -> Any:
        (a,) = self.saved_tensors
        alpha, scale, input_scale = self.coefficients
        x, g = _opmath(a), _opmath(gy)
        xp, t = xp_of(x), x.dtype.type
        slope = xp.exp(xp.minimum(x, 0) * t(input_scale)) * (t(input_scale) * t(alpha) * t(scale))
        return xp.where(x <= 0, g * slope, g * t(scale)).astype(gy.dtype, copy=False)


class _Softplus(Function):
    """``log(1 + exp(beta * x)) / beta``, ``x`` itself where ``beta * x > threshold``."""

    def forward(self, a: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
        self.save_for_backward(a)
        self.settings = (beta, threshold)
        x = _opmath(a)
        t = x.dtype.type
        z = x * t(beta)
        soft = _softplus_array(z) / t(beta)
        return xp_of(x).where(z > t(threshold), x, soft).astype(a.dtype, copy=False)

    def backward(self, gy: Any) -> Any:
        (a,) = self.saved_tensors
        beta, threshold = self.settings
        x, g = _opmath(a), _opmath(gy)
        t = x.dtype.type
        z = x * t(beta)
        return xp_of(x).where(z > t(threshold), g, g * ew.sigmoid_array(z)).astype(
            gy.dtype, copy=False)


class _LogSigmoid(Function):
    """``log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))``, as PyTorch's kernel."""

    def forward(self, a: Any) -> Any:
        self.save_for_backward(a)
        return _log_sigmoid_array(_opmath(a)).astype(a.dtype, copy=False)

    def backward(self, gy: Any) -> Any:
        (a,) = self.saved_tensors
        x, g = _opmath(a), _opmath(gy)
        # sigmoid(-x), split by sign as PyTorch's
        xp = xp_of(x)
        z = xp.exp(-xp.abs(x))
        share = z / (1 + z)
        return (g * xp.where(x < 0, 1 - share, share)).astype(gy.dtype, copy=False)


class _Mish(Function):
    """``x * tanh(softplus(x))``; keeps only its input (backward recomputes the rest)."""

    def forward(self, a: Any) -> Any:
        self.save_for_backward(a)
        x = _opmath(a)
        return (x * xp_of(x).tanh(_softplus_array(x))).astype(a.dtype, copy=False)

    def backward(self, gy: Any) -> Any:
        (a,) = self.saved_tensors
        x, g = _opmath(a), _opmath(gy)
        tanh = xp_of(x).tanh(_softplus_array(x))
        return (g * (tanh + x * ew.sigmoid_array(x) * (1 - tanh * tanh))).astype(gy.dtype,
                                                                              copy=False)


class _Hardswish(Function):
    """``x * relu6(x + 3) / 6``; PyTorch's gradient: 0 up to -3 (included), ``x / 3 + 1/2``
    between, 1 from 3 (included)."""

    def forward(self, a: Any) -> Any:
        self.save_for_backward(a)
        x = _opmath(a)
        t = x.dtype.type
        return (x * xp_of(x).clip(x + t(3), t(0), t(6)) / t(6)).astype(a.dtype, copy=False)

    def backward(self, gy: Any) -> Any:
        (a,) = self.saved_tensors
        x, g = _opmath(a), _opmath(gy)
        xp, t = xp_of(x), x.dtype.type
        middle = xp.where(x < 3, g * (x / t(3) + t(0.5)), g)
        return xp.where(x <= -3, t(0), middle).astype(gy.dtype, copy=False)


class _Gated(Function):
    """An activation whose gradient is the output's where ``keep`` (divided by ``divisor``)
    and 0 elsewhere: backward keeps that mask, a byte an element, and not the input."""

    reads_inputs = False
    divisor = 1

    def compute(self, a: Any, **params: Any) -> tuple[Any, Any]:
        """The output and the mask ``keep``."""
        raise NotImplementedError

    def forward(self, a: Any, **params: Any) -> Any:
        output, self.keep = self.compute(a, **params)
        return output

    def backward(self, gy: Any) -> Any:
        g = gy / gy.dtype.type(self.divisor) if self.divisor != 1 else gy
        return xp_of(gy).where(self.keep, g, gy.dtype.type(0))


class _Hardsigmoid(_Gated):
    divisor = 6

    def compute(self, a: Any) -> tuple[Any, Any]:
        x = _opmath(a)
        t = x.dtype.type
        output = xp_of(x).clip(x + t(3), t(0), t(6)) / t(6)
        return output.astype(a.dtype, copy=False), (a > -3) & (a < 3)


class _Hardshrink(_Gated):
    def compute(self, a: Any, lambd: float = 0.5) -> tuple[Any, Any]:
        t = a.dtype.type
        keep = ~((a >= t(-lambd)) & (a <= t(lambd)))  # a NaN passes, with its gradient
        return xp_of(a).where(keep, a, t(0)), keep


class _Softshrink(_Gated):
    def compute(self, a: Any, lambd: float = 0.5) -> tuple[Any, Any]:
        xp, t = xp_of(a), a.dtype.type
        low, high = t(-lambd), t(lambd)
        inside = xp.where(a < low, a + high, a * t(0))  # a * 0: -0.0 below zero, as PyTorch's
        return xp.where(a > high, a - high, inside), ~((a >= low) & (a <= high))


class _Threshold(_Gated):
    def compute(self, a: Any, threshold: float = 0.0, value: float = 0.0) -> tuple[Any, Any]:
        t = a.dtype.type
        if a.dtype.kind in "iub":  # PyTorch casts both to the integer type (truncating)
            threshold, value = int(threshold), int(value)
        keep = ~(a <= t(threshold))  # a NaN passes, with its gradient
        return xp_of(a).where(keep, a, t(value)), keep


class _Prelu(Function):
    """``x`` where ``x > 0``, ``weight * x`` elsewhere; ``weight`` broadcasts against ``x``."""

    def forward(self, a: Any, weight: Any) -> Any:
        self.save_for_backward(a, weight)
        return xp_of(a).where(a > 0, a, weight * a)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        a, weight = self.saved_tensors
        xp = xp_of(a)
        positive = a > 0
        grad_input = xp.where(positive, gy, weight * gy)
        grad_weight = xp.where(positive, gy.dtype.type(0), a * gy)
        return grad_input, unbroadcast(grad_weight, weight.shape)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """The exponential linear unit: ``x`` where ``x > 0``, ``alpha * (exp(x) - 1)`` elsewhere.
    Its gradient at 0 is ``alpha``, the left one, as PyTorch's. ``inplace`` is ignored.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> [round(v, 4) for v in F.elu(lucid.tensor([-1.0, 0.0, 2.0])).tolist()]
        [-0.6321, 0.0, 2.0]
    """
    _floating_only(input, "elu")
    return _Elu.apply(input, alpha=alpha)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """The scaled ELU: ``scale * (max(0, x) + min(0, alpha * (exp(x) - 1)))``, with
    ``alpha = 1.6732632423543772`` and ``scale = 1.0507009873554805`` (``SELU_ALPHA``,
    ``SELU_SCALE``). ``inplace`` is ignored.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> [round(v, 4) for v in F.selu(lucid.tensor([-1.0, 1.0])).tolist()]
        [-1.1113, 1.0507]
    """
    _floating_only(input, "selu")
    return _Elu.apply(input, alpha=SELU_ALPHA, scale=SELU_SCALE)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """The continuously differentiable ELU: ``max(0, x) + min(0, alpha * (exp(x / alpha) -
    1))``; its gradient at 0 is 1. ``alpha`` must not be 0. ``inplace`` is ignored.

    In float64 the gradient is exact; PyTorch's takes ``1 / alpha`` in float32 (for an alpha
    that is not a power of 2, off by up to about 1e-7 relative).

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> [round(v, 4) for v in F.celu(lucid.tensor([-1.0, 1.0]), alpha=2.0).tolist()]
        [-0.7869, 1.0]
    """
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    _floating_only(input, "celu")
    return _Elu.apply(input, alpha=alpha, input_scale=1.0 / alpha)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, a smooth ``relu``; ``x`` itself where ``beta * x >
    threshold``, as PyTorch's. The gradient is ``sigmoid(beta * x)`` (1 above the threshold).

    Computed as ``(max(z, 0) + log1p(exp(-|z|))) / beta`` with ``z = beta * x``, it stays finite
    below the threshold too: where PyTorch's ``log1p(exp(z))`` overflows (a threshold above 88
    in float32, 709 in float64) it gives inf and a NaN gradient, lucid the finite values.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> [round(v, 4) for v in F.softplus(lucid.tensor([-1.0, 0.0, 30.0])).tolist()]
        [0.3133, 0.6931, 30.0]
    """
    _floating_only(input, "softplus")
    return _Softplus.apply(input, beta=beta, threshold=threshold)


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.softsign(lucid.tensor([-3.0, 0.0, 1.0])).tolist()
        [-0.75, 0.0, 0.5]
    """
    return input / (input.abs() + 1)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``: 0 up to -3, 1 from 3, linear between; the gradient is 1/6
    strictly between -3 and 3 and 0 elsewhere (at -3 and 3 too), as PyTorch's. ``inplace`` is
    ignored.

    In float64 the gradient is exactly 1/6; PyTorch's is float32's 1/6 (0.1666666716...),
    a difference of 5e-9.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.hardsigmoid(lucid.tensor([-4.0, 0.0, 1.5, 4.0])).tolist()
        [0.0, 0.5, 0.75, 1.0]
    """
    _floating_only(input, "hardsigmoid")
    return _Hardsigmoid.apply(input)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6`` (MobileNetV3's): 0 up to -3, ``x`` from 3. The gradient is 0
    up to -3 (included), ``x / 3 + 1/2`` between, 1 from 3 (included), as PyTorch's.
    ``inplace`` is ignored.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.hardswish(lucid.tensor([-4.0, 0.0, 1.5, 4.0])).tolist()
        [-0.0, 0.0, 1.125, 4.0]
    """
    _floating_only(input, "hardswish")
    return _Hardswish.apply(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``, finite for every finite ``x`` (softplus computed as
    ``max(x, 0) + log1p(exp(-|x|))``). ``inplace`` is ignored.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> [round(v, 4) for v in F.mish(lucid.tensor([-1.0, 0.0, 1.0])).tolist()]
        [-0.3034, 0.0, 0.8651]
    """
    _floating_only(input, "mish")
    return _Mish.apply(input)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(1 / (1 + exp(-x)))``, computed as ``min(x, 0) - log1p(exp(-|x|))``: neither it
    nor its gradient, ``sigmoid(-x)``, overflows or rounds to log(0) for large ``|x|``.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> [round(v, 4) for v in F.logsigmoid(lucid.tensor([-200.0, 0.0, 200.0])).tolist()]
        [-200.0, -0.6931, 0.0]
    """
    _floating_only(input, "logsigmoid")
    return _LogSigmoid.apply(input)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The gated linear unit: ``input`` halved along ``dim`` into ``a`` and ``b``, then
    ``a * sigmoid(b)``. The size along ``dim`` must be even.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.glu(lucid.tensor([[1.0, 2.0, 0.0, 0.0]])).tolist()
        [[0.5, 1.0]]
    """
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    _floating_only(input, "glu")
    (axis,) = normalize_dims(dim, input.ndim)
    size = input.shape[axis]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {axis} is size {size}")
    half = size // 2
    return input.narrow(axis, 0, half) * input.narrow(axis, half, half).sigmoid()


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, 0 elsewhere; no gradient at ``±lambd``, as PyTorch's.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.hardshrink(lucid.tensor([-1.0, -0.5, 0.2, 0.75])).tolist()
        [-1.0, 0.0, 0.0, 0.75]
    """
    _floating_only(input, "hardshrink")
    return _Hardshrink.apply(input, lambd=lambd)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` where ``x > lambd``, ``x + lambd`` where ``x < -lambd``, 0 elsewhere; no
    gradient at ``±lambd``, as PyTorch's. ``lambd`` must be at least 0.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.softshrink(lucid.tensor([-1.0, 0.25, 0.75])).tolist()
        [-0.5, 0.0, 0.25]
    """
    _floating_only(input, "softshrink")
    largest = float(np.finfo(input.dtype).max)
    if not 0 <= lambd <= largest:
        raise RuntimeError(f"lambda must be in range [0, {largest:g}] for input dtype "
                           f"{input.dtype}, but found {lambd:g}")
    return _Softshrink.apply(input, lambd=lambd)


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> [round(v, 4) for v in F.tanhshrink(lucid.tensor([-1.0, 0.0, 2.0])).tolist()]
        [-0.2384, 0.0, 1.036]
    """
    return input - input.tanh()


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``x`` where ``x > threshold``, ``value`` elsewhere; no gradient at ``threshold``, as
    PyTorch's. Integer input stays integer, ``threshold`` and ``value`` truncated to
    integers, as in PyTorch. ``inplace`` is ignored.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.threshold(lucid.tensor([-1.0, 0.5, 2.0]), 0.5, -7.0).tolist()
        [-7.0, -7.0, 2.0]
    """
    return _Threshold.apply(input, threshold=threshold, value=value)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where ``x > 0``, ``weight * x`` elsewhere, ``weight`` learnt: one value for all,
    or one per channel (dim 1; an input of fewer than 2 dims has one channel). The gradient at
    0 is ``weight`` for the input and 0 for the weight, as PyTorch's.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> x = lucid.tensor([[-1.0, -1.0], [2.0, -4.0]])
        >>> F.prelu(x, lucid.tensor([0.5, 0.25])).tolist()
        [[-0.5, -0.25], [2.0, -1.0]]
    """
    _floating_only(input, "prelu")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {input.dtype} and "
                           f"{weight.dtype}")
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    count = weight.numel()
    if count == 1:
        return _Prelu.apply(input, weight.reshape(()))
    if input.ndim == 0:
        raise RuntimeError("Not allow zero-dim input tensor.")
    channels = input.shape[1] if input.ndim > 1 else 1
    if count != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {count} and channel size = {channels}.")
    return _Prelu.apply(input, weight.reshape((1, count) + (1,) * (input.ndim - 2)))


def _softmax_dim(dim: int | None, ndim: int, name: str, stacklevel: int = 3) -> int:
    if dim is None:  # PyTorch's legacy choice, with its warning
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                      f"call to include dim=X as an argument.", stacklevel=stacklevel)
        return 0 if ndim in (0, 1, 3) else 1
    return dim


def softmax(input: Tensor, dim: int | None = None, dtype: DTypeLike = None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim`` (computed from the largest value, so nothing
    overflows), in ``dtype`` when given.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.softmax(lucid.tensor([0.0, 0.0, 0.0, 0.0]), dim=0).tolist()
        [0.25, 0.25, 0.25, 0.25]
    """
    x = input if dtype is None else input.to(dtype)
    dim = _softmax_dim(dim, x.ndim, "softmax")

    def compute(x: Tensor) -> Tensor:
        if not x.numel():
            return x.exp()
        peak = x.detach().amax(dim, keepdim=True) if x.ndim else x.detach()
        exp = (x - peak).exp()
        return exp / exp.sum(dim, keepdim=True)

    return x._in_float32(compute)  # float16 in float32, as PyTorch's


def log_softmax(input: Tensor, dim: int | None = None, dtype: DTypeLike = None) -> Tensor:
    """``x - log(sum(exp(x)))`` along ``dim``, in ``dtype`` when given: the log of
    ``softmax``, without its rounding to 0 for very unlikely classes.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> round(F.log_softmax(lucid.tensor([0.0, 0.0]), dim=0)[0].item(), 4)
        -0.6931
    """
    x = input if dtype is None else input.to(dtype)
    dim = _softmax_dim(dim, x.ndim, "log_softmax")
    return x._in_float32(lambda x: x - x.logsumexp(dim, keepdim=True) if x.numel() else x * 1)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: DTypeLike = None) -> Tensor:
    """``softmax(-x)`` along ``dim``: ``exp(-x) / sum(exp(-x))``, in ``dtype`` when given.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> [round(v, 4) for v in F.softmin(lucid.tensor([0.0, 1.0]), dim=0).tolist()]
        [0.7311, 0.2689]
    """
    if dim is None:
        dim = _softmax_dim(dim, input.ndim, "softmin", _stacklevel)
    return softmax(-input, dim, dtype)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    The mask comes from lucid's seeded generator (``lucid.manual_seed``). Outside training,
    or with ``p == 0``, the input is returned as it is. ``inplace`` is ignored.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> x = lucid.ones(1000)
        >>> y = F.dropout(x, p=0.5)
        >>> sorted(set(y.tolist()))
        [0.0, 2.0]
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    keep = rand_like(input).data >= input.dtype.type(p)
    # one multiplication by a constant mask: the mask doubles as the gradient's mask
    mask = Tensor._wrap(keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p)))
    return input * mask


def _feature_dropout(input: Tensor, p: float) -> Tensor:
    """Zero whole channels: one draw per (n, c), broadcast over the rest, kept ones scaled."""
    if p == 1.0:
        return input * 0.0
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    draws = rand(*shape, dtype=input.dtype, device=input.device).data
    keep = draws >= input.dtype.type(p)
    mask = Tensor._wrap(keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p)))
    return input * mask


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels (each ``input[n, c, :]``) with probability ``p`` and scale the
    others by ``1 / (1 - p)``, as ``torch.nn.functional.dropout1d``.

    The mask comes from lucid's seeded generator (``lucid.manual_seed``). Outside training,
    or with ``p == 0``, the input is returned as it is. ``inplace`` is ignored.

    Shape:
        (N, C, L) or unbatched (C, L); the output has the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> y = F.dropout1d(lucid.ones(8, 16, 5))
        >>> bool(((y == 0).all(dim=2) | (y == 2).all(dim=2)).all())
        True
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs).")
    if not training or p == 0.0:
        return input
    if input.ndim == 2:
        return _feature_dropout(input.unsqueeze(0), p).squeeze(0)
    return _feature_dropout(input, p)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels (each ``input[n, c]``) with probability ``p`` and scale the others
    by ``1 / (1 - p)``, as ``torch.nn.functional.dropout2d``.

    As PyTorch: a 3-D input is read as (N, C, L) (channel-wise 1-D dropout, with PyTorch's
    warning), and other ranks than 3 or 4 warn that they are deprecated (the mask is then
    one draw per ``input[n, c]`` of the first two dims). The mask comes from lucid's seeded
    generator; outside training, or with ``p == 0``, the input is returned as it is.
    ``inplace`` is ignored.

    Shape:
        (N, C, H, W); the output has the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> y = F.dropout2d(lucid.ones(4, 8, 3, 3), p=0.5)
        >>> bool(((y == 0).all(dim=(2, 3)) | (y == 2).all(dim=(2, 3))).all())
        True
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and "
            "will result in an error in a future release. To retain the behavior and silence "
            "this warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    if not training or p == 0.0:
        return input
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _feature_dropout(input, p)
