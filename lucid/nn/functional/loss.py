"""Losses, as ``torch.nn.functional``'s: regression (squared and absolute error, smooth L1,
Huber), classification (negative log-likelihood, cross-entropy, binary cross-entropy from
probabilities or logits) and the Kullback-Leibler divergence."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

import lucid
from lucid import autograd
from lucid.autograd import Function
from lucid.nn.functional.activation import _log_sigmoid_array, log_softmax
from lucid.ops import elementwise as ew
from lucid.ops._util import unbroadcast, xp_of
from lucid.tensor import Tensor


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction; use mean, sum or none")


def _check_shapes(input: Tensor, target: Tensor, name: str) -> None:
    if input.shape != target.shape:
        # as PyTorch: broadcast, but say so, since a broadcast loss is usually a bug
        warnings.warn(
            f"{name}: using a target size {target.shape} that is different to the input size "
            f"{input.shape}; this will likely lead to incorrect results due to broadcasting",
            stacklevel=3,
        )


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Squared error ``(input - target) ** 2``, averaged (``mean``), summed or kept (``none``).

    Shapes that differ are broadcast, with a warning, as in PyTorch.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.mse_loss(lucid.tensor([1.0, 2.0]), lucid.tensor([1.0, 4.0])).item()
        2.0
    """
    _check_shapes(input, target, "mse_loss")
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Absolute error ``|input - target|``, averaged (``mean``), summed or kept (``none``).

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.l1_loss(lucid.tensor([1.0, 2.0]), lucid.tensor([1.0, 4.0]), reduction="sum").item()
        2.0
    """
    _check_shapes(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


def _class_dim(input: Tensor) -> int:
    """Where the classes are: dim 1 of (N, C, *), dim 0 of an unbatched (C,)."""
    if input.ndim == 0:
        raise ValueError("Expected input to have at least 1 dimension (the classes)")
    return 0 if input.ndim == 1 else 1


def _check_targets(input: Tensor, target: Tensor, ignore_index: int) -> Tensor:
    """Class-index targets: integers, of the input's shape less its class dim, each a class
    or ``ignore_index``. Returns where they are not ignored."""
    if target.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {target.dtype}")
    dim = _class_dim(input)
    expected = input.shape[:dim] + input.shape[dim + 1:]
    if target.shape != expected:
        raise ValueError(f"Expected target size {list(expected)}, got {list(target.shape)}")
    kept = target != ignore_index
    bad = np.asarray((target.data < 0) | (target.data >= input.shape[dim]))[np.asarray(
        kept.data)]
    if bad.any():
        raise IndexError(f"Target {int(np.asarray(target.data)[np.asarray(kept.data)][bad][0])} "
                         f"is out of bounds.")
    return kept


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of the target classes: ``-weight[t] * input[n, t]`` for
    ``input`` of log-probabilities (``log_softmax``'s). Targets equal to ``ignore_index``
    count for nothing; ``mean`` divides by the kept targets' weights (NaN when none are
    kept, as PyTorch's).

    Shape:
        - Input: (N, C) or (N, C, d1, ...) or (C,). Target: (N) or (N, d1, ...) or ().

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> logp = lucid.tensor([[-0.5, -1.0], [-2.0, -0.1]])
        >>> round(F.nll_loss(logp, lucid.tensor([0, 1])).item(), 4)
        0.3
    """
    kept = _check_targets(input, target, ignore_index)
    dim = _class_dim(input)
    if weight is not None and weight.shape != (input.shape[dim],):
        raise RuntimeError(f"weight tensor should be defined either for all {input.shape[dim]} "
                           f"classes or no classes but got weight tensor of shape: "
                           f"{list(weight.shape)}")
    index = target.masked_fill(~kept, 0).long()
    picked = input.gather(dim, index.unsqueeze(dim)).squeeze(dim)
    picked = lucid.where(kept, picked, 0.0)  # an ignored place's NaN stays out
    weights = kept.to(input.dtype)
    if weight is not None:
        weights = weights * weight.gather(0, index.reshape(-1)).reshape(index.shape)
    loss = -picked * weights
    if reduction == "mean":
        return _divided(loss.sum(), weights.sum())
    return _reduce(loss, reduction)


def _divided(total: Tensor, count: Tensor) -> Tensor:
    """``total / count``: NaN where ``count`` is 0 (every target ignored), as PyTorch's, with
    a zero gradient there, not a NaN one."""
    empty = count == 0
    return lucid.where(empty, float("nan"), total / lucid.where(empty, 1.0, count))


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between ``input`` logits (unnormalised scores) and ``target``: class
    indices (``nll_loss`` of ``log_softmax``) or class probabilities of the input's shape.
    ``label_smoothing`` ε mixes the target with the uniform distribution over the C
    classes: ``(1 - ε) * target + ε / C``. With probabilities, ``mean`` divides by the
    number of samples (not by weights) and ``ignore_index`` does not apply.

    Shape:
        - Input: (N, C) or (N, C, d1, ...) or (C,). Target: (N) or (N, d1, ...) or () of
          class indices, or the input's shape of probabilities.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> round(F.cross_entropy(lucid.tensor([[2.0, 0.0]]), lucid.tensor([0])).item(), 4)
        0.1269
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing}")
    dim = _class_dim(input)
    classes = input.shape[dim]
    logp = log_softmax(input, dim)
    weight_shape = [1] * input.ndim
    weight_shape[dim] = classes
    weighted = logp if weight is None else logp * weight.reshape(weight_shape)
    if target.dtype.kind == "f":  # probabilities
        if target.shape != input.shape:
            raise RuntimeError(f"Expected target size {list(input.shape)}, got "
                               f"{list(target.shape)}")
        if label_smoothing:
            target = target * (1 - label_smoothing) + label_smoothing / classes
        loss = -(weighted * target).sum(dim)
        if reduction == "mean":  # over the samples: N, or N * d1 * ...
            return loss.sum() / (input.numel() // classes if classes else 0)
        return _reduce(loss, reduction)
    nll = nll_loss(logp, target, weight, ignore_index, reduction)
    if not label_smoothing:
        return nll
    kept = target != ignore_index
    smooth = lucid.where(kept, -weighted.sum(dim), 0.0)
    if reduction == "mean":
        if weight is None:
            smooth = _divided(smooth.sum(), kept.to(input.dtype).sum())
        else:
            index = target.masked_fill(~kept, 0).long().reshape(-1)
            kept_weights = weight.gather(0, index) * kept.reshape(-1).to(input.dtype)
            smooth = _divided(smooth.sum(), kept_weights.sum())
    else:
        smooth = _reduce(smooth, reduction)
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / classes)


# ---- shared by the losses below ------------------------------------------------------------

def _legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """PyTorch's deprecated ``size_average`` and ``reduce``: when either is given they decide
    the reduction (``mean`` when both hold, each None counting as True; ``sum`` when only
    ``reduce`` does; else ``none``), with PyTorch's deprecation warning."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    legacy = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{legacy}' instead.", stacklevel=3)
    return legacy


def _check_reduction(reduction: str, allowed: tuple[str, ...] = ("none", "mean", "sum")) -> None:
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction; use "
                         f"{', '.join(allowed)}")


def _broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The shape ``a`` and ``b`` broadcast to, or PyTorch's RuntimeError naming the first
    dimension (of the result) where they differ."""
    ndim = max(len(a), len(b))
    padded_a, padded_b = (1,) * (ndim - len(a)) + a, (1,) * (ndim - len(b)) + b
    for i in range(ndim - 1, -1, -1):
        if padded_a[i] != padded_b[i] and 1 not in (padded_a[i], padded_b[i]):
            raise RuntimeError(f"The size of tensor a ({padded_a[i]}) must match the size of "
                               f"tensor b ({padded_b[i]}) at non-singleton dimension {i}")
    return tuple(max(m, n) if 0 not in (m, n) else 0 for m, n in zip(padded_a, padded_b))


def _not_differentiable(function: str, name: str, tensor: Tensor | None) -> None:
    """PyTorch's refusal of a gradient for an argument it does not differentiate."""
    if tensor is not None and tensor.requires_grad and autograd.is_grad_enabled():
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to "
                           f"argument '{name}'. This input cannot have requires_grad True.")


def _back(grad: Any, like: Any) -> Any:
    """``grad`` summed back to the shape of the array ``like`` and cast to its dtype (an
    input promoted to a wider dtype gets its gradient in its own)."""
    return unbroadcast(grad, like.shape).astype(like.dtype, copy=False)


# ---- binary cross-entropy ------------------------------------------------------------------

_BCE_FLOOR = np.float32(1e-12)  # PyTorch's EPSILON is a C float: 9.99999996e-13 in float64


class _BinaryCrossEntropy(Function):
    """PyTorch's ``binary_cross_entropy`` kernel: ``-w (t log(x) + (1 - t) log(1 - x))`` with
    each log clamped at -100, so that 0 and 1 give finite losses. Its gradients are
    PyTorch's: ``w (x - t) / max(x (1 - x), 1e-12)`` for the input (finite at 0 and 1) and
    ``-w logit(x)`` for the target. The weight (already of the input's shape and dtype) is a
    constant."""

    def forward(self, x: Any, t: Any, *weight: Any) -> Any:
        xp = xp_of(x)
        floor = x.dtype.type(-100)
        loss = (t - 1) * xp.maximum(xp.log1p(-x), floor) - t * xp.maximum(xp.log(x), floor)
        w = weight[0] if weight else None
        self.save_for_backward(x, t, w)
        return loss if w is None else loss * w

    def backward(self, gy: Any) -> tuple[Any, ...]:
        x, t, w = self.saved_tensors
        xp = xp_of(x)
        if w is not None:
            gy = gy * w
        gx = gt = None
        if self.needs[0]:
            gx = gy * (x - t) / xp.maximum((1 - x) * x, x.dtype.type(_BCE_FLOOR))
        if self.needs[1]:
            gt = -gy * xp.log(x / (1 - x))
        return (gx, gt) + (None,) * (w is not None)


def _all_between_0_and_1(array: Any) -> bool:
    return bool(((array >= 0) & (array <= 1)).all())  # NaN is not


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy between probabilities ``input`` and ``target`` (both in [0, 1]):
    ``-weight * (target * log(input) + (1 - target) * log(1 - input))``, each log clamped at
    -100 as in PyTorch, averaged (``mean``), summed or kept (``none``).

    As PyTorch's: ``target`` must have the input's shape and dtype, ``weight`` broadcasts to
    it and takes no gradient, values outside [0, 1] (or NaN) are refused, the input's
    gradient is ``weight * (input - target) / max(input * (1 - input), 1e-12)`` and the
    target's ``-weight * logit(input)``. ``size_average`` and ``reduce`` are PyTorch's
    deprecated spellings of ``reduction``.

    Shape:
        - Input: (*). Target: the input's shape. Weight: broadcastable to it. Output: a
          scalar, or the input's shape with ``reduction="none"``.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> p, t = lucid.tensor([0.5, 0.9]), lucid.tensor([1.0, 1.0])
        >>> round(F.binary_cross_entropy(p, t, reduction="sum").item(), 4)
        0.7985
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the "
                         f"input size ({input.shape}) is deprecated. Please ensure they have "
                         f"the same size.")
    if input.dtype.kind != "f":
        raise RuntimeError(f"binary_cross_entropy: expected a floating point input, got "
                           f"{input.dtype}")
    if target.dtype != input.dtype:
        raise RuntimeError(f"Found dtype {target.dtype} but expected {input.dtype}")
    _not_differentiable("binary_cross_entropy", "weight", weight)
    if not _all_between_0_and_1(input.data):
        raise RuntimeError("all elements of input should be between 0 and 1")
    if not _all_between_0_and_1(target.data):
        raise RuntimeError("all elements of target should be between 0 and 1")
    weights: tuple[Tensor, ...] = ()
    if weight is not None:
        shape = _broadcast_shape(target.shape, weight.shape)
        if shape != input.shape:
            raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the "
                               f"broadcast shape {list(shape)}")
        weights = (weight.detach().to(input.dtype).expand(*shape),)
    return _reduce(_BinaryCrossEntropy.apply(input, target, *weights), reduction)


class _BinaryCrossEntropyWithLogits(Function):
    """PyTorch's ``binary_cross_entropy_with_logits``: ``w ((1 - t) x - l log_sigmoid(x))``
    with ``l = 1 + (pos_weight - 1) t``, where ``log_sigmoid`` never overflows, so any logit
    gives a finite loss. Gradients: ``w (l sigmoid(x) - pos_weight t)`` for the input (with
    ``l sigmoid(x) - pos_weight t = sigmoid(x) - t`` without ``pos_weight``) and ``w
    (log_sigmoid(-x) - pos_weight log_sigmoid(x))`` (``-w x`` without it) for the target.
    The weights are constants."""

    def forward(self, x: Any, t: Any, *weights: Any, has_weight: bool = False,
                has_pos_weight: bool = False) -> Any:
        w = weights[0] if has_weight else None
        pw = weights[-1] if has_pos_weight else None
        log_sigmoid = _log_sigmoid_array(x)
        if pw is not None:
            log_sigmoid = log_sigmoid * ((pw - 1) * t + 1)
        loss = (1 - t) * x - log_sigmoid
        self.save_for_backward(x, t, w, pw)
        return loss if w is None else loss * w

    def backward(self, gy: Any) -> tuple[Any, ...]:
        x, t, w, pw = self.saved_tensors
        if w is not None:
            gy = gy * w
        gx = gt = None
        if self.needs[0]:
            if pw is None:
                gx = (ew.sigmoid_array(x) - t) * gy
            else:
                positive = pw * t
                gx = ((positive + 1 - t) * ew.sigmoid_array(x) - positive) * gy
            gx = _back(gx, x)
        if self.needs[1]:
            if pw is None:
                gt = -x * gy
            else:
                gt = (_log_sigmoid_array(-x) - _log_sigmoid_array(x) * pw) * gy
            gt = _back(gt, t)
        return (gx, gt) + (None,) * ((w is not None) + (pw is not None))


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None,
                                     size_average: bool | None = None,
                                     reduce: bool | None = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Binary cross-entropy of ``sigmoid(input)`` against ``target``, computed from the logits
    so that it stays finite and exact for any of them:
    ``-weight * (pos_weight * target * log_sigmoid(input) + (1 - target) *
    log_sigmoid(-input))``, averaged (``mean``), summed or kept (``none``).

    ``pos_weight`` scales the positive term (a weight per class, broadcast along the last
    dimension, > 1 favours recall). As PyTorch's: ``target`` must have the input's shape,
    ``weight`` and ``pos_weight`` broadcast to it and take no gradient, the target takes
    one. Input and target of different float dtypes give the wider one (PyTorch's result
    takes the target's dtype, a deliberate difference). ``size_average`` and ``reduce`` are
    PyTorch's deprecated spellings of ``reduction``.

    Shape:
        - Input: (*). Target: the input's shape. Weight and pos_weight: broadcastable to it
          (pos_weight typically (C,) for C classes on the last dimension). Output: a scalar,
          or the input's shape with ``reduction="none"``.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> logits, t = lucid.tensor([0.0, 100.0]), lucid.tensor([1.0, 0.0])
        >>> round(F.binary_cross_entropy_with_logits(logits, t, reduction="sum").item(), 4)
        100.6931
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    if input.dtype.kind != "f" or target.dtype.kind != "f":
        raise RuntimeError(f"binary_cross_entropy_with_logits: expected floating point "
                           f"tensors, got {input.dtype} and {target.dtype}")
    for name, tensor in (("weight", weight), ("pos_weight", pos_weight)):
        _not_differentiable("binary_cross_entropy_with_logits", name, tensor)
    dtype = np.result_type(input.dtype, target.dtype)  # the loss's: the weights do not widen it
    weights = []
    for tensor in (weight, pos_weight):
        if tensor is not None:
            shape = _broadcast_shape(input.shape, tensor.shape)
            if shape != input.shape:
                raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the "
                                   f"broadcast shape {list(shape)}")
            weights.append(tensor.detach().to(dtype))
    loss = _BinaryCrossEntropyWithLogits.apply(input, target, *weights,
                                               has_weight=weight is not None,
                                               has_pos_weight=pos_weight is not None)
    return _reduce(loss, reduction)


# ---- smooth L1 and Huber -------------------------------------------------------------------

class _SmoothL1(Function):
    """Smooth L1 (``huber=False``): ``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| -
    0.5 beta``; Huber (``huber=True``): ``0.5 d^2`` where ``|d| < beta``, else ``beta (|d| -
    0.5 beta)``; ``d = a - b`` broadcast. The gradients, ``clip(d / beta, -1, 1)`` and
    ``clip(d, -beta, beta)``, need only ``d``: one saved array, not a chain of ops."""

    reads_inputs = False

    def forward(self, a: Any, b: Any, beta: float = 1.0, huber: bool = False) -> Any:
        xp = xp_of(a, b)
        d = a - b
        z = xp.abs(d)
        half, beta_ = d.dtype.type(0.5), d.dtype.type(beta)
        if huber:
            loss = xp.where(z < beta_, half * z * z, beta_ * (z - half * beta_))
        else:
            loss = xp.where(z < beta_, half * z * z / beta_, z - half * beta_)
        self.save_for_backward(d)
        self.meta = (a.shape, a.dtype, b.shape, b.dtype, beta_, huber)
        return loss

    def backward(self, gy: Any) -> tuple[Any, Any]:
        (d,) = self.saved_tensors
        shape_a, dtype_a, shape_b, dtype_b, beta, huber = self.meta
        xp = xp_of(d)
        if huber:
            g = xp.clip(d, -beta, beta) * gy
        else:
            g = xp.clip(d / beta, d.dtype.type(-1), d.dtype.type(1)) * gy
        ga = unbroadcast(g, shape_a).astype(dtype_a, copy=False) if self.needs[0] else None
        gb = unbroadcast(-g, shape_b).astype(dtype_b, copy=False) if self.needs[1] else None
        return ga, gb


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,
                   reduce: bool | None = None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """Smooth L1 loss: squared near 0, absolute beyond ``beta``, averaged (``mean``), summed
    or kept (``none``). With ``d = input - target``::

        loss = 0.5 * d ** 2 / beta    if |d| < beta
               |d| - 0.5 * beta       otherwise

    ``beta=0`` is ``l1_loss``; a negative ``beta`` is refused. Shapes that differ are
    broadcast, with a warning, as in PyTorch. ``size_average`` and ``reduce`` are
    PyTorch's deprecated spellings of ``reduction``.

    Shape:
        - Input: (*). Target: the input's shape. Output: a scalar, or the (broadcast) shape
          with ``reduction="none"``.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> x, t = lucid.tensor([0.5, 3.0]), lucid.tensor([0.0, 0.0])
        >>> F.smooth_l1_loss(x, t, reduction="none").tolist()
        [0.125, 2.5]
    """
    _check_shapes(input, target, "smooth_l1_loss")
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _broadcast_shape(input.shape, target.shape)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return _reduce((input - target).abs(), reduction)
    if np.result_type(input.dtype, target.dtype).kind != "f":
        raise RuntimeError(f"smooth_l1_loss: not implemented for "
                           f"{np.result_type(input.dtype, target.dtype)}")
    return _reduce(_SmoothL1.apply(*input._operand(target), beta=float(beta)), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """Huber loss: squared near 0, linear beyond ``delta``, optionally weighted per element,
    averaged (``mean``), summed or kept (``none``). With ``d = input - target``::

        loss = weight * 0.5 * d ** 2                    if |d| < delta
               weight * delta * (|d| - 0.5 * delta)     otherwise

    It is ``delta * smooth_l1_loss(beta=delta)``. ``delta`` must be positive; ``weight``
    must have the input's shape and takes a gradient. Shapes of input and target that
    differ are broadcast, with a warning, as in PyTorch. The target is taken in the input's
    dtype, as PyTorch's forward takes it (its backward then fails for a target of another
    dtype; lucid's gives the target its gradient in its own dtype).

    Shape:
        - Input: (*). Target: the input's shape. Weight: the input's shape. Output: a
          scalar, or the (broadcast) shape with ``reduction="none"``.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> x, t = lucid.tensor([0.5, 3.0]), lucid.tensor([0.0, 0.0])
        >>> F.huber_loss(x, t, reduction="none", delta=2.0).tolist()
        [0.125, 4.0]
    """
    _check_shapes(input, target, "huber_loss")
    _check_reduction(reduction)
    _broadcast_shape(input.shape, target.shape)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is not None and weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    if input.dtype.kind != "f":
        raise RuntimeError(f"huber_loss: not implemented for {input.dtype}")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    loss = _SmoothL1.apply(input, target, beta=float(delta), huber=True)
    return _reduce(loss if weight is None else loss * weight, reduction)


# ---- Kullback-Leibler divergence -----------------------------------------------------------

class _KLDiv(Function):
    """PyTorch's pointwise KL divergence: ``xlogy(t, t) - t x`` (0 where ``t`` is 0), or
    ``exp(t) (t - x)`` for a log-target, ``x`` and ``t`` broadcast. Gradients as PyTorch's
    autograd gives them: ``-t`` and ``log(t) + t / t - x`` (NaN where ``t`` is 0, as
    PyTorch's), or ``-exp(t)`` and ``exp(t) (t - x + 1)``."""

    def forward(self, x: Any, t: Any, log_target: bool = False) -> Any:
        xp = xp_of(x, t)
        if log_target:
            e = xp.exp(t)
            self.save_for_backward(x, t, e)
            out = e * (t - x)
        else:
            self.save_for_backward(x, t, None)
            zero = xp.result_type(x, t).type(0)
            out = xp.where(t == 0, zero, t * xp.log(t)) - t * x
        self.log_target = log_target
        return out

    def backward(self, gy: Any) -> tuple[Any, Any]:
        x, t, e = self.saved_tensors
        xp = xp_of(x, t)
        gx = gt = None
        if self.needs[0]:
            gx = _back(-(e if self.log_target else t) * gy, x)
        if self.needs[1]:
            if self.log_target:
                gt = gy * e * (t - x + 1)
            else:
                log_t = xp.where(t != 0, xp.log(t), xp.result_type(x, t).type(0))
                gt = gy * (log_t + t / t - x)
            gt = _back(gt, t)
        return gx, gt


def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None,
           reduce: bool | None = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """The Kullback-Leibler divergence ``KL(target || p)`` for ``input`` the log-probabilities
    ``log(p)``, pointwise ``target * (log(target) - input)`` (0 where ``target`` is 0), or
    ``exp(target) * (target - input)`` when ``log_target`` says the target is given as
    log-probabilities too.

    ``reduction``: ``batchmean`` (the sum over the batch divided by its size, the
    divergence's definition; the sum of a 0-d input), ``sum``, ``mean`` (over every
    element: PyTorch warns that it is not the divergence, and so does lucid) or ``none``.
    Input and target broadcast. ``size_average`` and ``reduce`` are PyTorch's deprecated
    spellings of ``reduction``.

    Shape:
        - Input: (*). Target: the input's shape. Output: a scalar, or the input's shape
          with ``reduction="none"``.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> logp = lucid.tensor([[0.25, 0.75]]).log()
        >>> q = lucid.tensor([[0.5, 0.5]])
        >>> round(F.kl_div(logp, q, reduction="batchmean").item(), 4)
        0.1438
    """
    legacy = size_average is not None or reduce is not None
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, ("none", "batchmean", "mean", "sum"))
    if reduction == "mean" and not legacy:
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size. 'batchmean' divides only by the batch size, and aligns "
                      "with the KL div math definition. 'mean' will be changed to behave the "
                      "same as 'batchmean' in the next major release.", stacklevel=2)
    if input.dtype.kind != "f" or target.dtype.kind != "f":
        raise RuntimeError("kl_div: Integral inputs not supported.")
    _broadcast_shape(input.shape, target.shape)
    pointwise = _KLDiv.apply(input, target, log_target=log_target)
    if reduction == "batchmean":
        total = pointwise.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(pointwise, reduction)
