"""Normalisation: instance, batch, layer, RMS and group norm, AdaIN built on instance norm, and
``normalize`` (vectors scaled to unit norm).

Both norms share one fused op, ``_Normalize``: normalise with statistics of the input taken
over some axes, then apply an optional per-channel affine, with the closed-form backward
instead of a chain of a dozen small ops (it is the hot path of style transfer).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from lucid import autograd
from lucid.autograd import Function
from lucid.backend import device_of
from lucid.ops._util import xp_of
from lucid.tensor import Tensor, check_same_device


class _Normalize(Function):
    """``(x - mean) / sqrt(var + eps) * weight + bias``, where ``mean`` and ``var`` are the
    biased statistics of ``x`` itself over ``axes`` (given, so the caller can reuse them).

    Inputs are ``x`` and then ``weight`` and/or ``bias`` when present, both of shape (C,)
    for channel axis 1. Backward is the standard fused formula
    ``gx = inv_std * w * (gy - mean(gy) - xhat * mean(gy * xhat))``.
    """

    def forward(self, x: Any, *affine: Any, mean: Any = None, var: Any = None,
                axes: tuple[int, ...] = (), eps: float = 1e-5, has_weight: bool = False,
                has_bias: bool = False) -> Any:
        xp = xp_of(x)
        channel_shape = [1] * x.ndim
        if has_weight or has_bias:  # per-channel affine: channels on axis 1
            channel_shape[1] = x.shape[1]
        inv_std = (1 / xp.sqrt(var + x.dtype.type(eps))).astype(x.dtype, copy=False)
        xhat = (x - mean) * inv_std
        weight = affine[0].reshape(channel_shape) if has_weight else None
        self.save_for_backward(xhat, inv_std, weight)
        self.meta = (axes, has_weight, has_bias)
        y = xhat
        if has_weight:
            y = y * weight
        if has_bias:
            y = y + affine[-1].reshape(channel_shape)
        return y

    def backward(self, gy: Any) -> tuple[Any, ...]:
        xhat, inv_std, weight = self.saved_tensors
        axes, has_weight, has_bias = self.meta
        count = gy.dtype.type(math.prod(xhat.shape[a] for a in axes))
        # per-channel parameters sum their gradient over the axes the statistics did not cover
        rest = tuple(a for a in range(xhat.ndim) if a != 1 and a not in axes)
        gy_sum = gy.sum(axis=axes, keepdims=True)
        gy_xhat_sum = (gy * xhat).sum(axis=axes, keepdims=True)
        grads: list[Any] = []
        if self.needs[0]:
            scale = inv_std * weight if has_weight else inv_std
            grads.append((gy - gy_sum / count - xhat * (gy_xhat_sum / count)) * scale)
        else:
            grads.append(None)
        if has_weight:
            grads.append(gy_xhat_sum.sum(axis=rest).reshape(-1))
        if has_bias:
            grads.append(gy_sum.sum(axis=rest).reshape(-1))
        return tuple(grads)


def _check_per_channel(op: str, channels: int, **tensors: Tensor | None) -> None:
    """Per-channel tensors must be vectors of length C, on the input's device."""
    for name, t in tensors.items():
        if t is not None and t.shape != (channels,):
            raise ValueError(
                f"{op}: expected {name} of shape ({channels},) to match the input's "
                f"{channels} channels, got {t.shape}"
            )


def _normalize(input: Tensor, axes: tuple[int, ...], mean: Any, var: Any, weight: Tensor | None,
               bias: Tensor | None, eps: float) -> Tensor:
    affine = [t for t in (weight, bias) if t is not None]
    return _Normalize.apply(input, *affine, mean=mean, var=var, axes=axes, eps=eps,
                            has_weight=weight is not None, has_bias=bias is not None)


def _normalize_with(input: Tensor, mean: Tensor, var: Tensor, weight: Tensor | None,
                    bias: Tensor | None, eps: float) -> Tensor:
    """Normalise with given (running) statistics: a per-channel scale and shift."""
    check_same_device((input, mean, var), "normalization")
    channel_shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    xp = xp_of(input.data)
    # the statistics are constants here (buffers), so fold them into one scale and shift
    scale = (1 / xp.sqrt(var.data + var.dtype.type(eps))).astype(input.dtype, copy=False)
    shift = -mean.data.astype(input.dtype, copy=False) * scale
    out = input * Tensor._wrap(scale.reshape(channel_shape)) + Tensor._wrap(
        shift.reshape(channel_shape)
    )
    if weight is not None:
        out = out * weight.reshape(channel_shape)
    if bias is not None:
        out = out + bias.reshape(channel_shape)
    return out


def _update_running(running_mean: Tensor | None, running_var: Tensor | None, mean: Any,
                    unbiased_var: Any, momentum: float) -> None:
    """``running = (1 - momentum) * running + momentum * statistic``, in place."""
    with autograd.no_grad():
        for running, stat in ((running_mean, mean), (running_var, unbiased_var)):
            if running is None:
                continue
            if running.device != device_of(stat):
                raise RuntimeError(
                    f"running statistics are on {running.device} but the input is on "
                    f"{device_of(stat)}; move the module with .to(device)"
                )
            dtype = running.dtype.type
            running.data[...] = (
                running.data * dtype(1 - momentum) + stat.astype(running.dtype) * dtype(momentum)
            )


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each (sample, channel) slice over its spatial positions.

    ``y = (x - mean[n, c]) / sqrt(var[n, c] + eps) * weight[c] + bias[c]`` with the biased
    variance. With ``use_input_stats`` the running buffers, when given, are updated in place
    with the statistics averaged over the batch (the unbiased variance into ``running_var``);
    otherwise the running buffers are the statistics. As ``torch.nn.functional.instance_norm``,
    except that bad shapes raise ``ValueError``.

    Shape:
        - Input: (N, C, *) with at least one spatial dim.
        - Output: same shape as the input.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> y = F.instance_norm(lucid.randn(2, 3, 8, 8))
        >>> y.shape
        (2, 3, 8, 8)
        >>> bool(y.mean(dim=(2, 3)).abs().max() < 1e-5)
        True
    """
    if input.ndim < 3:
        raise ValueError(
            f"instance_norm: expected input of shape (N, C, *spatial) with at least 3 dims, "
            f"got {input.ndim}D input"
        )
    channels = input.shape[1]
    _check_per_channel("instance_norm", channels, running_mean=running_mean,
                       running_var=running_var, weight=weight, bias=bias)
    axes = tuple(range(2, input.ndim))
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: use_input_stats=False needs running_mean and "
                             "running_var")
        return _normalize_with(input, running_mean, running_var, weight, bias, eps)
    count = math.prod(input.shape[2:])
    if count <= 1:
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size {input.shape}"
        )
    x = input.data
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    if running_mean is not None or running_var is not None:
        # one running value per channel: the per-instance statistics averaged over the batch
        _update_running(running_mean, running_var, mean.mean(axis=0).reshape(-1),
                        (var * (count / (count - 1))).mean(axis=0).reshape(-1), momentum)
    return _normalize(input, axes, mean, var, weight, bias, eps)


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel over the batch and spatial positions, as PyTorch's ``batch_norm``.

    In training the batch statistics are used (and the running buffers, when given, updated
    with the unbiased variance); otherwise the running buffers are used. An empty input
    (e.g. a 0-size batch) gives an empty output in training too, the buffers unchanged.

    Shape:
        - Input: (N, C) or (N, C, *).
        - Output: same shape as the input.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.batch_norm(lucid.randn(4, 3, 5, 5), None, None, training=True).shape
        (4, 3, 5, 5)
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, *), got {input.ndim}D input")
    channels = input.shape[1]
    _check_per_channel("batch_norm", channels, running_mean=running_mean,
                       running_var=running_var, weight=weight, bias=bias)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: training=False needs running_mean and running_var")
        return _normalize_with(input, running_mean, running_var, weight, bias, eps)
    axes = (0,) + tuple(range(2, input.ndim))
    count = input.numel() // max(channels, 1)
    if count == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {input.shape}"
        )
    if input.numel() == 0:  # as PyTorch: an empty result, the running buffers left alone
        none = xp_of(input.data).zeros((1, channels) + (1,) * (input.ndim - 2), input.dtype)
        return _normalize(input, axes, none, none + 1, weight, bias, eps)  # zero affine grads
    x = input.data
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    if running_mean is not None or running_var is not None:
        _update_running(running_mean, running_var, mean.reshape(-1),
                        (var * (count / (count - 1))).reshape(-1), momentum)
    return _normalize(input, axes, mean, var, weight, bias, eps)


def calc_mean_std(feat: Tensor, eps: float = 1e-5) -> tuple[Tensor, Tensor]:
    """Per-(sample, channel) mean and standard deviation over the spatial positions.

    Follows pytorch-AdaIN's ``calc_mean_std`` (the convention its pretrained decoders were
    trained with): ``std = sqrt(var_unbiased + eps)``. Differentiable.

    Shape:
        - Input: (N, C, *spatial).
        - Output: two tensors of shape (N, C, 1, ..., 1), one 1 per spatial dim.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> mean, std = F.calc_mean_std(lucid.randn(2, 3, 8, 8))
        >>> mean.shape, std.shape
        ((2, 3, 1, 1), (2, 3, 1, 1))
    """
    if feat.ndim < 3:
        raise ValueError(
            f"calc_mean_std: expected features of shape (N, C, *spatial), got {feat.ndim}D input"
        )
    axes = tuple(range(2, feat.ndim))
    mean = feat.mean(dim=axes, keepdim=True)
    std = (feat.var(dim=axes, unbiased=True, keepdim=True) + eps).sqrt()
    return mean, std


def adaptive_instance_norm(
    content: Tensor,
    style: Tensor | None = None,
    *,
    style_mean: Tensor | None = None,
    style_std: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """AdaIN (Huang and Belongie, 2017): ``instance_norm(content) * style_std + style_mean``.

    The content features are normalised by :func:`instance_norm` (no affine), then scaled
    and shifted by the style features' per-channel statistics from :func:`calc_mean_std`,
    or by ``style_mean`` and ``style_std`` given directly (e.g. interpolated between styles).
    Differentiable in the content and in the style.

    Differs slightly from pytorch-AdaIN's ``adaptive_instance_normalization``: that code
    normalises the content with its *unbiased* variance (its ``calc_mean_std``), this one with
    InstanceNorm2d's biased variance, as the reference page specifies. The outputs differ by
    the factor ``sqrt((HW - 1) / HW)`` (about 0.1 % for a 32 x 32 feature map).

    Shape:
        - content: (N, C, H, W) (any number of spatial dims).
        - style: (N or 1, C, H', W'); the spatial size may differ from the content's.
        - style_mean, style_std: (N or 1, C, 1, 1).
        - Output: the content's shape.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> content, style = lucid.randn(1, 4, 16, 16), lucid.randn(1, 4, 8, 8) * 3 + 2
        >>> out = F.adaptive_instance_norm(content, style)
        >>> out.shape
        (1, 4, 16, 16)
        >>> bool((out.mean(dim=(2, 3)) - style.mean(dim=(2, 3))).abs().max() < 1e-4)
        True
    """
    if style is not None:
        if style_mean is not None or style_std is not None:
            raise ValueError("adaptive_instance_norm: give either style or style_mean and "
                             "style_std, not both")
        if style.ndim != content.ndim or style.shape[1] != content.shape[1]:
            raise ValueError(
                f"adaptive_instance_norm: style {style.shape} must have the content's rank and "
                f"channels, content is {content.shape}"
            )
        style_mean, style_std = calc_mean_std(style, eps)
    elif style_mean is None or style_std is None:
        raise ValueError("adaptive_instance_norm: needs style, or both style_mean and style_std")
    for name, stat in (("style_mean", style_mean), ("style_std", style_std)):
        if stat.ndim != content.ndim:
            raise ValueError(
                f"adaptive_instance_norm: {name} of shape {stat.shape} must have the content's "
                f"rank {content.ndim}, e.g. (N, C, 1, 1) as calc_mean_std returns"
            )
    return instance_norm(content, eps=eps) * style_std + style_mean


def _normalized_over(input: Tensor, axes: tuple[int, ...], eps: float) -> Tensor:
    """``input`` normalised by its own biased statistics over ``axes``, without affine."""
    if not input.numel():  # nothing to normalise (numpy would warn about empty means)
        return input * 1
    mean = input.data.mean(axis=axes, keepdims=True)
    var = input.data.var(axis=axes, keepdims=True)
    return _normalize(input, axes, mean, var, None, None, eps)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last dims, those of ``normalized_shape``, with their biased
    statistics per leading index; then ``* weight + bias`` (both of ``normalized_shape``).

    Shape:
        - Input: (*, *normalized_shape). Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> y = F.layer_norm(lucid.tensor([[1.0, 2.0, 3.0]]), [3])
        >>> [round(v, 4) for v in y[0].tolist()]
        [-1.2247, 0.0, 1.2247]
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or input.shape[input.ndim - len(shape):] != shape or input.ndim < len(shape):
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size "
                           f"{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise RuntimeError(f"layer_norm: expected {name} of shape {list(shape)}, got "
                               f"{list(t.shape)}")
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    out = input._in_float32(lambda x: _normalized_over(x, axes, eps))  # float16's var overflows
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def rms_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """Root-mean-square norm over the last dims, those of ``normalized_shape``, as
    ``torch.nn.functional.rms_norm``::

        y = x / sqrt(mean(x ** 2 over normalized_shape) + eps) * weight

    No mean is subtracted and there is no bias. ``eps=None`` is the machine epsilon of the
    dtype the statistics are computed in: the input's for float32 and float64; float16 is
    computed in float32 (as PyTorch's opmath), so its default eps is float32's, as PyTorch's
    actual result (its docs say ``torch.finfo(input.dtype).eps``). Differentiable in the
    input and ``weight``.

    Shape:
        - Input: (*, *normalized_shape). ``weight``: ``normalized_shape``. Output: the
          input's shape.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> y = F.rms_norm(lucid.tensor([[3.0, 4.0]], dtype=lucid.float64), [2], eps=0.0)
        >>> [round(v, 4) for v in y[0].tolist()]
        [0.8485, 1.1314]
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    if input.ndim < len(shape):
        raise ValueError(f"Input tensor must have at least {len(shape)} dimensions, but got "
                         f"{input.ndim}")
    if input.shape[input.ndim - len(shape):] != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size "
                           f"{list(input.shape)}")
    if weight is not None and weight.shape != shape:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got "
                           f"weight of shape {list(weight.shape)} and normalized_shape = "
                           f"{list(shape)}")
    axes = tuple(range(input.ndim - len(shape), input.ndim))

    def normalized(x: Tensor) -> Tensor:
        if not x.numel():  # nothing to normalise (numpy would warn about empty means)
            return x * 1
        e = float(np.finfo(x.dtype).eps) if eps is None else eps
        return x * ((x * x).mean(dim=axes, keepdim=True) + e).rsqrt()

    out = input._in_float32(normalized)  # float16's squares overflow past 256
    if weight is not None:
        out = out * weight.to(out.dtype)  # in the input's dtype whatever the weight's, as torch
    return out


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Split the C channels into ``num_groups`` groups and normalise each (sample, group)
    over its channels and positions with their biased statistics; then a per-channel
    ``* weight + bias``. One group is layer norm over (C, *); C groups, instance norm.

    Shape:
        - Input: (N, C, *), C divisible by ``num_groups``. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.group_norm(lucid.randn(2, 6, 4, 4), 3).shape
        (2, 6, 4, 4)
    """
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    n, channels = input.shape[:2]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    _check_per_channel("group_norm", channels, weight=weight, bias=bias)
    grouped = input.reshape(n, num_groups, input.numel() // max(n * num_groups, 1))
    out = grouped._in_float32(lambda x: _normalized_over(x, (2,), eps)).reshape(input.shape)
    channel_shape = (1, channels) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(channel_shape)
    if bias is not None:
        out = out + bias.reshape(channel_shape)
    return out


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """Each vector along ``dim`` divided by its ``p``-norm, the norm clamped below at
    ``eps`` (so a zero vector stays zero)::

        output = input / max(||input||_p, eps)

    ``p`` takes the orders of ``Tensor.norm``. With ``out`` the result is copied into it
    and it is returned (no gradient, as PyTorch's ``out=``); unlike PyTorch's, ``out`` must
    already have the input's shape.

    Shape:
        - Input: (*), ``dim`` one of its dimensions. Output: the input's shape.

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> x = lucid.tensor([[3.0, 4.0], [0.0, 0.0]], dtype=lucid.float64)
        >>> F.normalize(x).tolist()
        [[0.6, 0.8], [0.0, 0.0]]
    """
    denom = input.norm(p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    if out is None:
        return input / denom
    if autograd.is_grad_enabled() and (input.requires_grad or out.requires_grad):
        raise RuntimeError("div(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if out.shape != input.shape:
        raise RuntimeError(f"normalize: out has shape {out.shape}, expected {input.shape}")
    return out.copy_(input / denom)
