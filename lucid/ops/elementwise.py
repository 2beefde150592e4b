"""Element-wise arithmetic and math, with broadcasting undone in backward."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lucid.autograd import Function
from lucid.ops._util import unbroadcast, xp_of


class Add(Function):
    reads_inputs = False

    def forward(self, a: Any, b: Any) -> Any:
        self.shapes = (a.shape, b.shape)
        return a + b

    def backward(self, gy: Any) -> tuple[Any, Any]:
        return unbroadcast(gy, self.shapes[0]), unbroadcast(gy, self.shapes[1])


class Sub(Function):
    reads_inputs = False

    def forward(self, a: Any, b: Any) -> Any:
        self.shapes = (a.shape, b.shape)
        return a - b

    def backward(self, gy: Any) -> tuple[Any, Any]:
        return unbroadcast(gy, self.shapes[0]), unbroadcast(-gy, self.shapes[1])


class Mul(Function):
    reads_inputs = "others"

    def forward(self, a: Any, b: Any) -> Any:
        self.save_for_backward(a, b)
        return a * b

    def backward(self, gy: Any) -> tuple[Any, Any]:
        a, b = self.saved_tensors
        return unbroadcast(gy * b, a.shape), unbroadcast(gy * a, b.shape)


class Div(Function):
    def reads(self, index: int) -> bool:  # a / b: b for both gradients, a for b's only
        return index == 1 or self.needs[1]

    def forward(self, a: Any, b: Any) -> Any:
        self.save_for_backward(a, b)
        return a / b

    def backward(self, gy: Any) -> tuple[Any, Any]:
        a, b = self.saved_tensors
        ga = gy / b
        return unbroadcast(ga, a.shape), unbroadcast(-ga * a / b, b.shape)


class Pow(Function):
    saves_output = True

    def forward(self, a: Any, b: Any) -> Any:
        y = a**b
        self.save_for_backward(a, b, y)
        return y

    def backward(self, gy: Any) -> tuple[Any, Any]:
        a, b, y = self.saved_tensors
        xp = xp_of(a)
        # as PyTorch's: d(a**b)/da = b * a**(b-1), 0 where b == 0 (a**0 is constant); d/db =
        # a**b * log(a), 0 where a == 0 and b >= 0, NaN for a negative base
        ga = gy * xp.where(b == 0, 0, b * a ** xp.where(b == 0, 1, b - 1))
        gb = gy * xp.where((a == 0) & (b >= 0), 0, y * xp.log(xp.where(a == 0, 1, a)))
        return unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)


class Remainder(Function):
    """``a % b`` with the divisor's sign (Python's and ``torch.remainder``)."""

    def forward(self, a: Any, b: Any) -> Any:
        self.save_for_backward(a, b)
        return xp_of(a, b).remainder(a, b)  # x % 0 is NaN, as in PyTorch

    def backward(self, gy: Any) -> tuple[Any, Any]:
        a, b = self.saved_tensors
        gb = -gy * xp_of(a).floor_divide(a, b)
        return unbroadcast(gy, a.shape), unbroadcast(gb, b.shape)


class FloorDivide(Function):
    """``a // b``; like PyTorch's, it has no gradient (a backward through it is an error)."""

    reads_inputs = False

    def forward(self, a: Any, b: Any) -> Any:
        return xp_of(a, b).floor_divide(a, b)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        raise RuntimeError("the derivative for 'floor_divide' is not implemented")


class PowScalar(Function):
    def forward(self, a: Any, exponent: float) -> Any:
        self.save_for_backward(a)
        self.exponent = exponent
        return a**exponent

    def backward(self, gy: Any) -> Any:
        (a,) = self.saved_tensors
        if self.exponent == 2:
            return gy * 2 * a
        return gy * self.exponent * a ** (self.exponent - 1)


class Neg(Function):
    reads_inputs = False

    def forward(self, a: Any) -> Any:
        return -a

    def backward(self, gy: Any) -> Any:
        return -gy


class Exp(Function):
    reads_inputs = False
    saves_output = True

    def forward(self, a: Any) -> Any:
        y = xp_of(a).exp(a)
        self.save_for_backward(y)
        return y

    def backward(self, gy: Any) -> Any:
        return gy * self.saved_tensors[0]


class Log(Function):
    def forward(self, a: Any) -> Any:
        self.save_for_backward(a)
        return xp_of(a).log(a)

    def backward(self, gy: Any) -> Any:
        return gy / self.saved_tensors[0]


class Sqrt(Function):
    """``sqrt``; with ``zero_at_zero`` its gradient at 0 is 0, not infinite (a standard
    deviation's: PyTorch's std gives a constant input a zero gradient, not NaN)."""

    reads_inputs = False
    saves_output = True

    def forward(self, a: Any, zero_at_zero: bool = False) -> Any:
        y = xp_of(a).sqrt(a)
        self.save_for_backward(y)
        self.zero_at_zero = zero_at_zero
        return y

    def backward(self, gy: Any) -> Any:
        (y,) = self.saved_tensors
        if not self.zero_at_zero:
            return gy / (2 * y)
        xp = xp_of(y)
        return xp.where(y == 0, 0, gy / xp.where(y == 0, 1, 2 * y)).astype(gy.dtype, copy=False)


class Reciprocal(Function):
    reads_inputs = False
    saves_output = True

    def forward(self, a: Any) -> Any:
        y = 1 / a
        self.save_for_backward(y)
        return y

    def backward(self, gy: Any) -> Any:
        (y,) = self.saved_tensors
        return -gy * y * y


class Rsqrt(Function):
    reads_inputs = False
    saves_output = True

    def forward(self, a: Any) -> Any:
        y = 1 / xp_of(a).sqrt(a)
        self.save_for_backward(y)
        return y

    def backward(self, gy: Any) -> Any:
        (y,) = self.saved_tensors
        return gy * y * y * y * gy.dtype.type(-0.5)


class Sin(Function):
    def forward(self, a: Any) -> Any:
        self.save_for_backward(a)
        return xp_of(a).sin(a)

    def backward(self, gy: Any) -> Any:
        return gy * xp_of(gy).cos(self.saved_tensors[0])


class Cos(Function):
    def forward(self, a: Any) -> Any:
        self.save_for_backward(a)
        return xp_of(a).cos(a)

    def backward(self, gy: Any) -> Any:
        return -gy * xp_of(gy).sin(self.saved_tensors[0])


class Step(Function):
    """Piecewise-constant functions (``floor``, ``ceil``, ``trunc``, ``round``, ``sign``):
    a zero gradient everywhere, as in PyTorch. Integers pass through the rounding ones
    unchanged and keep their dtype; ``sign`` is 0 at NaN, as PyTorch's."""

    reads_inputs = False

    def forward(self, a: Any, name: str = "floor", decimals: int = 0) -> Any:
        xp = xp_of(a)
        if a.dtype.kind == "b" or (a.dtype.kind in "iu" and name != "sign"):
            return a.copy()
        if name == "sign":
            return ((a > 0).astype(a.dtype) - (a < 0)).astype(a.dtype, copy=False)
        if name == "round":
            return xp.round(a, decimals)
        return getattr(xp, name)(a)

    def backward(self, gy: Any) -> Any:
        return xp_of(gy).zeros_like(gy)


class Abs(Function):
    def forward(self, a: Any) -> Any:
        self.save_for_backward(a)
        return xp_of(a).abs(a)

    def backward(self, gy: Any) -> Any:
        a = self.saved_tensors[0]  # PyTorch's sign, 0 at NaN (numpy's is NaN)
        return gy * ((a > 0).astype(gy.dtype) - (a < 0))


class Clamp(Function):
    """``clamp(min, max)``; the gradient passes where min <= x <= max, as in PyTorch's clamp,
    or, with ``edges=False``, only strictly inside, as in its hardtanh and relu6. At NaN it
    stops: PyTorch's hardtanh passes it there in its scalar loop and stops it in its vector
    one, so its answer depends on where the NaN falls, and lucid keeps one rule."""

    def forward(self, a: Any, min: float | None = None, max: float | None = None,
                edges: bool = True) -> Any:
        xp = xp_of(a)
        self.save_for_backward(a)
        self.bounds = (min, max, edges)
        return xp.clip(a, min, max)

    def backward(self, gy: Any) -> Any:
        (a,) = self.saved_tensors
        low, high, edges = self.bounds
        mask = True
        if low is not None:
            mask = a >= low if edges else a > low
        if high is not None:
            mask = mask & (a <= high if edges else a < high)
        return gy * mask


class ClampTensor(Function):
    """``clamp`` by tensor bounds, ``min(max(a, low), high)``, with PyTorch's gradients: ``a``
    where ``low <= a <= high`` (ties included), ``low`` where ``a < low < high``, ``high``
    where ``a > high`` or ``high < low`` (then everything is ``high``). Either bound may be
    absent (``has_low``, ``has_high``); the bounds broadcast."""

    def forward(self, a: Any, *bounds: Any, has_low: bool = True, has_high: bool = True) -> Any:
        xp = xp_of(a)
        low = bounds[0] if has_low else None
        high = bounds[-1] if has_high else None
        self.save_for_backward(a, *bounds)
        self.which = (has_low, has_high)
        out = a if low is None else xp.maximum(a, low)
        return out if high is None else xp.minimum(out, high)

    def backward(self, gy: Any) -> tuple[Any, ...]:
        a, *bounds = self.saved_tensors
        has_low, has_high = self.which
        low = bounds[0] if has_low else None
        high = bounds[-1] if has_high else None
        keep = True
        if low is not None:
            keep = a >= low
        if high is not None:
            keep = keep & (a <= high)
        grads = [unbroadcast(gy * keep, a.shape)]
        if low is not None:
            to_low = (a < low) if high is None else (a < low) & (low < high)
            grads.append(unbroadcast(gy * to_low, low.shape))
        if high is not None:
            to_high = (a > high) if low is None else (a > high) | (high < low)
            grads.append(unbroadcast(gy * to_high, high.shape))
        return tuple(grads)


class Maximum(Function):
    """Element-wise maximum; ties share the gradient equally, as in PyTorch (``_tie_split``)."""

    def forward(self, a: Any, b: Any) -> Any:
        self.save_for_backward(a, b)
        return xp_of(a).maximum(a, b)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        a, b = self.saved_tensors
        return _tie_split(gy, a, b, a < b, a > b)


class Minimum(Function):
    def forward(self, a: Any, b: Any) -> Any:
        self.save_for_backward(a, b)
        return xp_of(a).minimum(a, b)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        a, b = self.saved_tensors
        return _tie_split(gy, a, b, a > b, a < b)


def _tie_split(gy: Any, a: Any, b: Any, a_loses: Any, b_loses: Any) -> tuple[Any, Any]:
    """PyTorch's maximum/minimum gradients: half each at a tie, none to the losing side, and
    the whole to both where either is NaN (neither loses)."""
    half = gy * xp_of(gy).where(a == b, gy.dtype.type(0.5), gy.dtype.type(1))
    return unbroadcast(half * ~a_loses, a.shape), unbroadcast(half * ~b_loses, b.shape)


class Where(Function):
    """``where(condition, a, b)``; the condition is a constant, not differentiated."""

    reads_inputs = False

    def forward(self, a: Any, b: Any, condition: Any = None) -> Any:
        self.condition = condition
        self.shapes = (a.shape, b.shape)
        return xp_of(a).where(condition, a, b)

    def backward(self, gy: Any) -> tuple[Any, Any]:
        zero = gy.dtype.type(0)
        xp = xp_of(gy)
        return (
            unbroadcast(xp.where(self.condition, gy, zero), self.shapes[0]),
            unbroadcast(xp.where(self.condition, zero, gy), self.shapes[1]),
        )


class Relu(Function):
    reads_inputs = False
    saves_output = True

    def forward(self, a: Any) -> Any:
        y = xp_of(a).maximum(a, 0)
        self.save_for_backward(y)
        return y

    def backward(self, gy: Any) -> Any:
        # PyTorch's threshold_backward: (y <= 0) ? 0 : grad, so a NaN passes its gradient
        return gy * ~(self.saved_tensors[0] <= 0)


def sigmoid_array(a: Any) -> Any:
    """``1 / (1 + exp(-a))`` of an array, in its dtype, split by sign so exp never overflows."""
    xp = xp_of(a)
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


class Sigmoid(Function):
    reads_inputs = False
    saves_output = True

    def forward(self, a: Any) -> Any:
        y = sigmoid_array(a)
        self.save_for_backward(y)
        return y

    def backward(self, gy: Any) -> Any:
        y = self.saved_tensors[0]
        return gy * y * (1 - y)


class Tanh(Function):
    reads_inputs = False
    saves_output = True

    def forward(self, a: Any) -> Any:
        y = xp_of(a).tanh(a)
        self.save_for_backward(y)
        return y

    def backward(self, gy: Any) -> Any:
        y = self.saved_tensors[0]
        return gy * (1 - y * y)


def erf_array(a: Any) -> Any:
    """The error function of an array, in its dtype (computed in float64, to within 2e-15):
    its Maclaurin series below |x| = 2, above it ``1 - erfc`` from erfc's continued fraction
    (numpy has no erf; the same arithmetic runs on CuPy)."""
    xp = xp_of(a)
    x = a.astype(np.float64)
    magnitude = xp.abs(x)
    near = xp.minimum(magnitude, 2.0)
    square, term = near * near, near.copy()
    series = near.copy()
    for n in range(1, 50):  # the terms fall below 1e-17 by n = 40
        term = term * -square / n
        series = series + term / (2 * n + 1)
    series = series * (2 / math.sqrt(math.pi))
    far = xp.maximum(magnitude, 2.0)
    fraction = far.copy()
    for k in range(60, 0, -1):  # erfc(x) = exp(-x^2) / sqrt(pi) / (x + 1/2 / (x + 1 / (x + ...)))
        fraction = far + (k / 2) / fraction
    tail = 1 - xp.exp(-far * far) / math.sqrt(math.pi) / fraction
    return xp.copysign(xp.where(magnitude < 2.0, series, tail), x).astype(a.dtype)


class Erf(Function):
    def forward(self, a: Any) -> Any:
        self.save_for_backward(a)
        return erf_array(a)

    def backward(self, gy: Any) -> Any:
        a = self.saved_tensors[0]
        return gy * (2 / math.sqrt(math.pi)) * xp_of(a).exp(-a * a)


class LeakyRelu(Function):
    def forward(self, a: Any, negative_slope: float = 0.01) -> Any:
        self.save_for_backward(a)
        self.slope = negative_slope
        return xp_of(a).where(a > 0, a, a * a.dtype.type(negative_slope))

    def backward(self, gy: Any) -> Any:
        (a,) = self.saved_tensors
        return xp_of(a).where(a > 0, gy, gy * gy.dtype.type(self.slope))


class Cast(Function):
    """``to(dtype)``: gradients flow back in the source dtype."""

    reads_inputs = False

    def forward(self, a: Any, dtype: Any = None) -> Any:
        self.source = a.dtype
        return a.astype(dtype)

    def backward(self, gy: Any) -> Any:
        return gy.astype(self.source)
