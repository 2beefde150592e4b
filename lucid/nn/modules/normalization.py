"""Normalisation layers: ``InstanceNorm1d/2d/3d``, ``BatchNorm1d/2d``, ``LayerNorm``,
``RMSNorm`` and ``GroupNorm``.

A shared base owns the optional affine parameters and running-statistics buffers; the
private bases do the input checks and call the functional form; the public classes only
say which input ranks they accept (the layout of PyTorch's ``instancenorm.py``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from lucid import autograd
from lucid.backend import DeviceLike
from lucid.creation import ones, zeros
from lucid.dtypes import DTypeLike, int64
from lucid.nn import init
from lucid.nn.functional import normalization as F
from lucid.nn.functional.normalization import batch_norm, instance_norm
from lucid.nn.modules.module import Module
from lucid.nn.parameter import Parameter
from lucid.tensor import Tensor


class _NormBase(Module):
    """Per-channel ``weight``/``bias`` (when ``affine``) and running statistics (when
    ``track_running_stats``); the absent ones are registered as None, as in PyTorch."""

    # checkpoints written before PyTorch had the counter lack it: it keeps its value
    _optional_state = ("num_batches_tracked",)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 device: DeviceLike = None, dtype: DTypeLike = None) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features, device=device, dtype=dtype))
            self.bias = Parameter(zeros(num_features, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", zeros((), device=device, dtype=int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def _step_momentum(self) -> float:
        """Count a training batch; the averaging factor for this batch's statistics.

        ``momentum=None`` means a cumulative moving average: the n-th batch gets 1/n.
        """
        with autograd.no_grad():
            self.num_batches_tracked.data += 1
        if self.momentum is None:
            return 1.0 / float(self.num_batches_tracked.item())
        return self.momentum

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class _InstanceNormBase(_NormBase):
    """Instance normalisation over any number of spatial dims; subclasses set the ranks.

    Checks the input's rank and channels, accepts unbatched input, and calls
    :func:`lucid.nn.functional.instance_norm`.
    """

    _spatial_dims: int  # how many dims follow C

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False,
                 device: DeviceLike = None, dtype: DTypeLike = None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def _check_input(self, input: Tensor) -> None:
        unbatched = self._spatial_dims + 1
        if input.ndim not in (unbatched, unbatched + 1):
            raise ValueError(
                f"expected {unbatched}D or {unbatched + 1}D input (got {input.ndim}D input)"
            )
        feature_dim = input.ndim - unbatched
        channels = input.shape[feature_dim]
        if channels == self.num_features:
            return
        if self.affine or self.track_running_stats:
            # PyTorch raises this only with affine; with running stats alone it warns and then
            # fails deep inside. Both cases are a shape error, so both get the clear one.
            raise ValueError(
                f"expected input's size at dim={feature_dim} to match num_features "
                f"({self.num_features}), but got: {channels}."
            )
        warnings.warn(
            f"input's size at dim={feature_dim} does not match num_features. You can silence "
            "this warning by not passing in num_features, which is not used because "
            "affine=False",
            stacklevel=3,
        )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        batched = input.ndim == self._spatial_dims + 2
        x = input if batched else input.unsqueeze(0)
        momentum = 0.0
        if self.training and self.track_running_stats:
            momentum = self._step_momentum()
        out = instance_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias,
            use_input_stats=self.training or not self.track_running_stats,
            momentum=momentum, eps=self.eps,
        )
        return out if batched else out.squeeze(0)


class InstanceNorm1d(_InstanceNormBase):
    """Instance normalisation of (N, C, L) or (C, L) input over L; see :class:`InstanceNorm2d`.

    Shape:
        - Input: (N, C, L) or (C, L).
        - Output: same shape as the input.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.InstanceNorm1d(8)(lucid.randn(2, 8, 40)).shape
        (2, 8, 40)
    """

    _spatial_dims = 1


class InstanceNorm2d(_InstanceNormBase):
    r"""Instance normalization for 4-D input (N, C, H, W).

    Normalises each (n, c) slice over its spatial height and width independently::

        y[n, c, h, w] = (x[n, c, h, w] - mean[n, c]) / sqrt(var[n, c] + eps) * weight[c] + bias[c]

    where ``mean[n, c]`` and ``var[n, c]`` are computed over the H x W spatial positions of
    sample n, channel c, ``var`` being the biased (population) variance; ``weight`` and
    ``bias`` apply only when ``affine=True``. Unlike BatchNorm2d, the statistics do not mix
    across the batch, making the output of each image entirely independent of the other
    images in the batch, which suits image style transfer and generative models.

    With ``track_running_stats=True``, training mode still normalises with the per-instance
    statistics and also updates the buffers with the statistics averaged over the batch,
    ``running = (1 - momentum) * running + momentum * batch_stat``, the variance fed to
    ``running_var`` being the unbiased one; evaluation mode then normalises with the buffers.
    With ``track_running_stats=False`` the per-instance statistics are used in both modes.

    At inference time ``weight`` and ``bias`` can be replaced by style-conditioned tensors to
    implement Adaptive Instance Normalization (AdaIN); see
    :func:`lucid.nn.functional.adaptive_instance_norm`.

    Args:
        num_features: number of feature channels C.
        eps: numerical stability constant. Default: 1e-5.
        momentum: EMA factor for the optional running stats; None for a cumulative moving
            average. Default: 0.1.
        affine: if True, learns per-channel ``weight`` and ``bias``. Default: False.
        track_running_stats: if True, maintains running mean/variance buffers.
            Default: False.
        device: device for parameters/buffers. Default: None (the CPU).
        dtype: data type for parameters/buffers. Default: None (the default dtype).

    Attributes:
        weight: Parameter of shape (num_features,), initialised to ones; None when
            ``affine=False``.
        bias: Parameter of shape (num_features,), initialised to zeros; None when
            ``affine=False``.
        running_mean: Tensor of shape (num_features,), initialised to zeros; None when
            ``track_running_stats=False``.
        running_var: Tensor of shape (num_features,), initialised to ones; None when
            ``track_running_stats=False``.
        num_batches_tracked: int64 scalar counting training batches; None when
            ``track_running_stats=False``.

    Shape:
        - Input: (N, C, H, W) or (C, H, W).
        - Output: (N, C, H, W) or (C, H, W), the same shape as the input.

    Differences from PyTorch, on purpose:
        - ``momentum=None`` is a cumulative moving average, as the reference page says and
          as BatchNorm does; PyTorch's InstanceNorm passes momentum 0 then, so its running
          statistics never move.
        - ``num_batches_tracked`` counts training batches (PyTorch's InstanceNorm leaves it 0).
        - A channel count other than ``num_features`` raises ``ValueError`` when ``affine`` or
          ``track_running_stats`` is set (PyTorch raises only for ``affine``; with running
          statistics alone it warns and then fails inside with a ``RuntimeError``). With
          neither, the count is unused and, as in PyTorch, only a warning is given.

    Examples:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> norm = nn.InstanceNorm2d(64)
        >>> x = lucid.randn(4, 64, 128, 128)
        >>> out = norm(x)
        >>> out.shape
        (4, 64, 128, 128)

        With affine parameters for conditional style transfer:

        >>> norm_affine = nn.InstanceNorm2d(64, affine=True)
        >>> out2 = norm_affine(x)
        >>> out2.shape
        (4, 64, 128, 128)
    """

    _spatial_dims = 2


class InstanceNorm3d(_InstanceNormBase):
    """Instance normalisation of (N, C, D, H, W) or (C, D, H, W) input over D, H and W; see
    :class:`InstanceNorm2d`.

    Shape:
        - Input: (N, C, D, H, W) or (C, D, H, W).
        - Output: same shape as the input.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.InstanceNorm3d(4, affine=True)(lucid.randn(2, 4, 3, 5, 5)).shape
        (2, 4, 3, 5, 5)
    """

    _spatial_dims = 3


class _BatchNorm(_NormBase):
    """Batch normalisation; subclasses say which input ranks they accept."""

    _expected_ndims: tuple[int, ...]

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in self._expected_ndims:
            ranks = " or ".join(f"{n}D" for n in self._expected_ndims)
            raise ValueError(f"expected {ranks} input (got {input.ndim}D input)")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            momentum = self._step_momentum()
        # batch statistics in training, and in evaluation too when no running ones are kept
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight, self.bias, use_batch_stats, momentum, self.eps,
        )


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input, as ``torch.nn.BatchNorm2d``.

    ``y = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]`` with statistics over N,
    H and W. Training mode uses the batch statistics and updates the running buffers
    (unbiased variance; ``momentum=None`` for a cumulative average); evaluation mode uses the
    running buffers.

    Args:
        num_features: number of channels C.
        eps: numerical stability constant. Default: 1e-5.
        momentum: EMA factor of the running statistics, or None. Default: 0.1.
        affine: learn per-channel ``weight`` and ``bias``. Default: True.
        track_running_stats: keep running mean/variance buffers. Default: True.
        device, dtype: where and in which dtype to create parameters and buffers.

    Shape:
        - Input: (N, C, H, W).
        - Output: (N, C, H, W).

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> bn = nn.BatchNorm2d(3)
        >>> bn(lucid.randn(4, 3, 5, 5)).shape
        (4, 3, 5, 5)
        >>> bn
        BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    """

    _expected_ndims = (4,)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) input, as ``torch.nn.BatchNorm1d``.

    ``y = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]`` with statistics over N
    (and L). Training mode uses the batch statistics and updates the running buffers
    (unbiased variance; ``momentum=None`` for a cumulative average); evaluation mode uses the
    running buffers. Arguments as :class:`BatchNorm2d`.

    Difference from PyTorch 2.13 (as BatchNorm2d): no keyword-only ``bias`` switch, so the
    repr has no ``bias=`` (the reference page's signature is kept).

    Shape:
        - Input: (N, C) or (N, C, L).
        - Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> bn = nn.BatchNorm1d(3, momentum=None)
        >>> bn(lucid.randn(4, 3)).shape
        (4, 3)
        >>> bn(lucid.randn(4, 3, 7)).shape
        (4, 3, 7)
        >>> bn
        BatchNorm1d(3, eps=1e-05, momentum=None, affine=True, track_running_stats=True)
    """

    _expected_ndims = (2, 3)


class LayerNorm(Module):
    """Normalisation over the last dims (``normalized_shape``) of each sample, with their
    biased mean and variance; then an elementwise ``weight`` and ``bias`` of that shape
    (``elementwise_affine``; ``bias=False`` leaves the shift out). The transformer's norm.

    Shape:
        - Input: (*, *normalized_shape). Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> norm = nn.LayerNorm(8)
        >>> y = norm(lucid.randn(4, 8))
        >>> bool(y.mean(dim=1).abs().max() < 1e-5)
        True
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True,
                 device: DeviceLike = None, dtype: DTypeLike = None) -> None:
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) \
            else tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _scale_and_shift(self, self.normalized_shape, elementwise_affine, bias, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """Root-mean-square normalisation over the last dims (``normalized_shape``) of each
    sample, then an elementwise ``weight`` (``elementwise_affine``) of that shape, as
    ``torch.nn.RMSNorm``::

        y = x / sqrt(mean(x ** 2 over normalized_shape) + eps) * weight

    ``eps=None`` (the default) is the machine epsilon of the computation's dtype; see
    :func:`lucid.nn.functional.rms_norm`.

    Shape:
        - Input: (*, *normalized_shape). Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> norm = nn.RMSNorm(8)
        >>> norm
        RMSNorm((8,), eps=None, elementwise_affine=True)
        >>> y = norm(lucid.randn(4, 8))
        >>> bool(((y * y).mean(dim=1) - 1).abs().max() < 1e-4)
        True
    """

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None,
                 elementwise_affine: bool = True, device: DeviceLike = None,
                 dtype: DTypeLike = None) -> None:
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) \
            else tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(*self.normalized_shape, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input: Tensor) -> Tensor:
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """The C channels in ``num_groups`` groups, each (sample, group) normalised over its
    channels and positions; then a per-channel ``weight`` and ``bias`` (``affine``;
    ``bias=False`` leaves the shift out). Batch
    independent, as instance norm (C groups) and layer norm (one group).

    Shape:
        - Input: (N, C, *), C = ``num_channels``. Output: the same shape.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> nn.GroupNorm(2, 6)(lucid.randn(3, 6, 5, 5)).shape
        (3, 6, 5, 5)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, *, bias: bool = True, device: DeviceLike = None,
                 dtype: DTypeLike = None) -> None:
        super().__init__()
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _scale_and_shift(self, (num_channels,), affine, bias, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


def _scale_and_shift(module: Module, shape: tuple[int, ...], affine: bool, bias: bool,
                     device: DeviceLike, dtype: DTypeLike) -> None:
    """``weight`` (ones) and ``bias`` (zeros) of ``shape`` on ``module``, each registered as
    None where left out (``affine=False`` leaves both out, ``bias=False`` the shift)."""
    if affine:
        module.weight = Parameter(ones(*shape, device=device, dtype=dtype))
    else:
        module.register_parameter("weight", None)
    if affine and bias:
        module.bias = Parameter(zeros(*shape, device=device, dtype=dtype))
    else:
        module.register_parameter("bias", None)
