"""InstanceNorm2d against its reference page (/work/shared/spec/InstanceNorm2d.txt + README).

Every sentence of the page, and the tests that cover it:

- signature: InstanceNorm2d(num_features, eps=1e-05, momentum=0.1, affine=False,
  track_running_stats=False, device=None, dtype=None)
    -> test_defaults
- "Instance normalization for 4-D input (N, C, H, W)."
    -> test_formula, test_rank_errors
- "Normalises each (n, c) slice over its spatial height and width independently:
  y = (x - mean[n, c]) / sqrt(var[n, c] + eps) * weight[c] + bias[c]"
    -> test_formula, test_affine_params
- "where mean and var are computed over the spatial positions of sample n, channel c"
  (README: var is the biased variance)
    -> test_formula
- "Unlike BatchNorm2d, the statistics do not mix across the batch, making the output of each
  image entirely independent of the other images in the batch."
    -> test_batch_independence
- "This property makes InstanceNorm2d well-suited to image style transfer, generative models,
  and any scenario where per-image normalization is desirable."
    -> test_batch_independence (the property itself)
- num_features: "Number of feature channels C."
    -> test_channel_errors
- eps: "Numerical stability constant. Default: 1e-5."
    -> test_defaults, test_eps
- momentum: "EMA factor for optional running stats. Default: 0.1."
    -> test_defaults, test_running_update, test_momentum_none
- affine: "If True, learns per-channel weight and bias. Default: False."
    -> test_defaults, test_affine_params, test_affine_gradients
- track_running_stats: "If True, maintains running mean/variance buffers. Default: False."
    -> test_defaults, test_running_buffers
- device: "Device for parameters/buffers. Default: None."
    -> test_device_dtype_args
- dtype: "Data type for parameters/buffers. Default: None."
    -> test_device_dtype_args, test_float32_stays_float32
- weight / bias: "Parameter or None, per-channel scale / shift, shape (num_features,).
  None when affine=False." (README: initialised to ones / zeros)
    -> test_defaults, test_affine_params
- running_mean / running_var: "Tensor or None, running mean / variance per channel, shape
  (num_features,). None when track_running_stats=False." (zeros / ones)
    -> test_defaults, test_running_buffers
- Notes: "Input: (N, C, H, W)", "Output: same shape."
    -> test_formula, test_unbatched_input
- "Instance Norm was introduced for style transfer, where each image should be normalized
  independently so that stylistic statistics from other images do not bleed through."
    -> test_batch_independence
- "At inference time, weight and bias can be replaced by style-conditioned tensors to
  implement Adaptive Instance Normalization (AdaIN)."
    -> test_weight_bias_as_adain
- Examples (plain and affine)
    -> the InstanceNorm2d docstring (doctest, at the page's 4 x 64 x 128 x 128), test_examples
- README: with track_running_stats, training normalises with the per-instance statistics and
  updates the buffers averaged over the batch, the unbiased variance into running_var
    -> test_running_update, test_torch_training_steps
- README: "momentum=None means a cumulative moving average"
    -> test_momentum_none
- README: evaluation mode then normalises with the buffers
    -> test_eval_uses_buffers, test_eval_gradients_through_buffers
- README: with track_running_stats=False the per-instance statistics are used in both modes
    -> test_untracked_same_in_both_modes
- README: where the page is silent, match PyTorch
    -> test_torch_training_steps, test_torch_unbatched, test_torch_functional_partial_affine
"""

import numpy as np
import pytest

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
from lucid.testing import gradcheck, random_tensor


def reference(x, weight=None, bias=None, eps=1e-5):
    """The page's formula in numpy, over the spatial axes of (N, C, H, W)."""
    mean = x.mean(axis=(2, 3), keepdims=True)
    var = x.var(axis=(2, 3), keepdims=True)  # biased
    y = (x - mean) / np.sqrt(var + eps)
    if weight is not None:
        y = y * weight.reshape(1, -1, 1, 1)
    if bias is not None:
        y = y + bias.reshape(1, -1, 1, 1)
    return y


def test_defaults():
    norm = nn.InstanceNorm2d(6)
    assert norm.num_features == 6
    assert norm.eps == 1e-5
    assert norm.momentum == 0.1
    assert norm.affine is False
    assert norm.track_running_stats is False
    assert norm.weight is None and norm.bias is None
    assert norm.running_mean is None and norm.running_var is None
    assert list(norm.parameters()) == []
    assert dict(norm.state_dict()) == {}
    assert repr(norm) == (
        "InstanceNorm2d(6, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)"
    )


def test_formula(device):
    x = lucid.randn(3, 4, 5, 6, device=device) * 3 + 1
    y = nn.InstanceNorm2d(4)(x)
    assert y.shape == x.shape and y.dtype == x.dtype and y.device == x.device
    np.testing.assert_allclose(y.cpu().numpy(), reference(x.cpu().numpy()), atol=1e-5)


def test_eps():
    # a constant slice has variance 0: eps alone keeps the division finite (output 0)
    y = nn.InstanceNorm2d(1)(lucid.full((1, 1, 3, 3), 7.0))
    np.testing.assert_array_equal(y.numpy(), 0)
    x = lucid.randn(2, 3, 4, 4)
    np.testing.assert_allclose(nn.InstanceNorm2d(3, eps=0.5)(x).numpy(),
                               reference(x.numpy(), eps=0.5), atol=1e-5)


def test_batch_independence():
    x = lucid.randn(4, 3, 6, 6)
    full = nn.InstanceNorm2d(3, affine=True)(x)
    alone = nn.InstanceNorm2d(3, affine=True)(x[1:2])
    np.testing.assert_allclose(full.detach().numpy()[1:2], alone.detach().numpy(), atol=1e-6)
    # changing another image leaves image 0's output unchanged
    other = x.numpy().copy()
    other[2] *= 100
    changed = nn.InstanceNorm2d(3)(lucid.tensor(other))
    np.testing.assert_allclose(changed.numpy()[0], nn.InstanceNorm2d(3)(x).numpy()[0], atol=1e-6)
    # and in the gradient: a loss on image 0 sends nothing to the other images
    x.requires_grad_()
    (nn.InstanceNorm2d(3)(x)[0] ** 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[1:], 0)


def test_affine_params(device):
    norm = nn.InstanceNorm2d(5, affine=True, device=device)
    assert isinstance(norm.weight, nn.Parameter) and isinstance(norm.bias, nn.Parameter)
    assert norm.weight.shape == (5,) and norm.bias.shape == (5,)
    np.testing.assert_array_equal(norm.weight.detach().cpu().numpy(), 1)
    np.testing.assert_array_equal(norm.bias.detach().cpu().numpy(), 0)
    assert [name for name, _ in norm.named_parameters()] == ["weight", "bias"]
    with lucid.no_grad():
        norm.weight.copy_(lucid.arange(1.0, 6.0, device=device))
        norm.bias.copy_(lucid.arange(5.0, device=device) * -1)
    x = lucid.randn(2, 5, 4, 3, device=device)
    np.testing.assert_allclose(
        norm(x).detach().cpu().numpy(),
        reference(x.cpu().numpy(), np.arange(1.0, 6.0), -np.arange(5.0)),
        atol=1e-5,
    )


def test_affine_gradients():
    x = random_tensor(2, 3, 4, 4)
    weight, bias = random_tensor(3), random_tensor(3)
    assert gradcheck(lambda a, w, b: F.instance_norm(a, weight=w, bias=b), [x, weight, bias])
    assert gradcheck(lambda a, w: F.instance_norm(a, weight=w), [x, weight])
    assert gradcheck(lambda a: nn.InstanceNorm2d(3)(a), [x])


def test_running_buffers(device):
    norm = nn.InstanceNorm2d(4, track_running_stats=True, device=device)
    assert norm.running_mean.shape == (4,) and norm.running_var.shape == (4,)
    assert not isinstance(norm.running_mean, nn.Parameter)
    np.testing.assert_array_equal(norm.running_mean.cpu().numpy(), 0)
    np.testing.assert_array_equal(norm.running_var.cpu().numpy(), 1)
    assert list(norm.state_dict()) == ["running_mean", "running_var", "num_batches_tracked"]
    assert list(norm.parameters()) == []


def test_running_update():
    norm = nn.InstanceNorm2d(3, track_running_stats=True, momentum=0.3)
    x = lucid.randn(4, 3, 5, 5) * 2 + 3
    y = norm(x).detach()
    # training mode still normalises with the per-instance statistics ...
    np.testing.assert_allclose(y.numpy(), reference(x.numpy()), atol=1e-5)
    # ... and moves the buffers towards the batch average (unbiased variance)
    xs = x.numpy()
    mean = xs.mean(axis=(2, 3)).mean(axis=0)
    var = xs.var(axis=(2, 3), ddof=1).mean(axis=0)
    np.testing.assert_allclose(norm.running_mean.numpy(), 0.7 * 0 + 0.3 * mean, rtol=1e-5)
    np.testing.assert_allclose(norm.running_var.numpy(), 0.7 * 1 + 0.3 * var, rtol=1e-5)
    assert norm.num_batches_tracked.item() == 1


def test_momentum_none():
    norm = nn.InstanceNorm2d(2, track_running_stats=True, momentum=None)
    batches = [lucid.randn(3, 2, 4, 4) * (i + 1) + i for i in range(4)]
    for x in batches:
        norm(x)
    # a cumulative moving average is the plain average of the per-batch statistics
    means = [x.numpy().mean(axis=(2, 3)).mean(axis=0) for x in batches]
    variances = [x.numpy().var(axis=(2, 3), ddof=1).mean(axis=0) for x in batches]
    np.testing.assert_allclose(norm.running_mean.numpy(), np.mean(means, axis=0), rtol=1e-5)
    np.testing.assert_allclose(norm.running_var.numpy(), np.mean(variances, axis=0), rtol=1e-5)
    assert norm.num_batches_tracked.item() == 4


def test_eval_uses_buffers():
    norm = nn.InstanceNorm2d(3, track_running_stats=True, affine=True)
    for _ in range(3):
        norm(lucid.randn(2, 3, 4, 4) * 2 + 1)
    norm.eval()
    before = (norm.running_mean.numpy().copy(), norm.running_var.numpy().copy())
    x = lucid.randn(2, 3, 4, 4)
    y = norm(x).detach().numpy()
    mean = before[0].reshape(1, -1, 1, 1)
    var = before[1].reshape(1, -1, 1, 1)
    np.testing.assert_allclose(y, (x.numpy() - mean) / np.sqrt(var + 1e-5), atol=1e-5)
    # evaluation does not touch the buffers
    np.testing.assert_array_equal(norm.running_mean.numpy(), before[0])
    np.testing.assert_array_equal(norm.running_var.numpy(), before[1])
    assert norm.num_batches_tracked.item() == 3


def test_eval_gradients_through_buffers():
    norm = nn.InstanceNorm2d(3, track_running_stats=True, affine=True).double().eval()
    with lucid.no_grad():
        norm.running_mean.copy_(lucid.tensor([0.5, -1.0, 2.0]))
        norm.running_var.copy_(lucid.tensor([2.0, 0.5, 1.5]))
    x = random_tensor(2, 3, 3, 3)
    assert gradcheck(lambda a, w, b: F.instance_norm(
        a, norm.running_mean, norm.running_var, w, b, use_input_stats=False),
        [x, random_tensor(3), random_tensor(3)])


def test_untracked_same_in_both_modes():
    norm = nn.InstanceNorm2d(3)
    x = lucid.randn(2, 3, 4, 4)
    train_out = norm(x).numpy()
    eval_out = norm.eval()(x).numpy()
    np.testing.assert_array_equal(train_out, eval_out)
    np.testing.assert_allclose(eval_out, reference(x.numpy()), atol=1e-5)


def test_unbatched_input():
    norm = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    x = lucid.randn(3, 5, 5)
    y = norm(x)
    assert y.shape == (3, 5, 5)
    np.testing.assert_allclose(y.detach().numpy(), reference(x.numpy()[None])[0], atol=1e-5)
    assert norm.running_mean.shape == (3,)


def test_rank_errors():
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 5D input\)"):
        nn.InstanceNorm2d(3)(lucid.randn(1, 3, 2, 2, 2))
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        nn.InstanceNorm2d(3)(lucid.randn(3, 4))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.InstanceNorm1d(3)(lucid.randn(1, 3, 2, 2))
    with pytest.raises(ValueError, match=r"expected 4D or 5D input \(got 3D input\)"):
        nn.InstanceNorm3d(3)(lucid.randn(3, 2, 2))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        nn.InstanceNorm2d(3)(lucid.randn(2, 3, 1, 1))


def test_channel_errors():
    x = lucid.randn(2, 4, 3, 3)
    for kwargs in ({"affine": True}, {"track_running_stats": True}):
        with pytest.raises(ValueError, match=r"dim=1 to match num_features \(3\), but got: 4"):
            nn.InstanceNorm2d(3, **kwargs)(x)
    with pytest.raises(ValueError, match=r"dim=0 to match num_features \(3\), but got: 4"):
        nn.InstanceNorm2d(3, affine=True)(x[0])
    # num_features is unused without affine or running stats: PyTorch only warns
    with pytest.warns(UserWarning, match="does not match num_features"):
        y = nn.InstanceNorm2d(3)(x)
    np.testing.assert_allclose(y.numpy(), reference(x.numpy()), atol=1e-5)


def test_device_dtype_args(device):
    norm = nn.InstanceNorm2d(4, affine=True, track_running_stats=True, device=device,
                             dtype=lucid.float64)
    for t in (norm.weight, norm.bias, norm.running_mean, norm.running_var):
        assert t.device == device and t.dtype == lucid.float64
    assert norm.num_batches_tracked.dtype == lucid.int64
    y = norm(lucid.randn(2, 4, 3, 3, device=device, dtype=lucid.float64))
    assert y.dtype == lucid.float64 and y.device == device
    # defaults: the CPU and the default dtype
    plain = nn.InstanceNorm2d(4, affine=True)
    assert plain.weight.device == "cpu" and plain.weight.dtype == lucid.get_default_dtype()


def test_float32_stays_float32(device):
    norm = nn.InstanceNorm2d(3, affine=True, device=device)
    x = lucid.randn(2, 3, 4, 4, device=device, requires_grad=True)
    y = norm(x)
    (y * y).sum().backward()
    assert y.dtype == lucid.float32
    assert x.grad.dtype == lucid.float32 and norm.weight.grad.dtype == lucid.float32


def test_weight_bias_as_adain():
    content, style = lucid.randn(1, 3, 6, 6), lucid.randn(1, 3, 5, 5) * 2 + 1
    style_mean, style_std = F.calc_mean_std(style)
    norm = nn.InstanceNorm2d(3, affine=True)
    norm.weight = nn.Parameter(style_std.reshape(3))
    norm.bias = nn.Parameter(style_mean.reshape(3))
    np.testing.assert_allclose(norm(content).detach().numpy(),
                               F.adaptive_instance_norm(content, style).numpy(), atol=1e-5)


def test_examples():
    norm = nn.InstanceNorm2d(64)
    x = lucid.randn(4, 64, 16, 16)  # the page uses 128 x 128; the doctest runs that one
    assert norm(x).shape == (4, 64, 16, 16)
    assert nn.InstanceNorm2d(64, affine=True)(x).shape == (4, 64, 16, 16)


def test_functional_errors():
    with pytest.raises(ValueError, match="at least 3 dims"):
        F.instance_norm(lucid.randn(2, 3))
    with pytest.raises(ValueError, match=r"weight of shape \(3,\)"):
        F.instance_norm(lucid.randn(2, 3, 4), weight=lucid.ones(4))
    with pytest.raises(ValueError, match="needs running_mean and running_var"):
        F.instance_norm(lucid.randn(2, 3, 4), use_input_stats=False)


def test_other_ranks():
    x = lucid.randn(2, 3, 7)
    y = nn.InstanceNorm1d(3)(x).numpy()
    xs = x.numpy()
    ref = (xs - xs.mean(2, keepdims=True)) / np.sqrt(xs.var(2, keepdims=True) + 1e-5)
    np.testing.assert_allclose(y, ref, atol=1e-5)
    assert nn.InstanceNorm1d(3)(lucid.randn(3, 7)).shape == (3, 7)
    assert nn.InstanceNorm3d(3)(lucid.randn(3, 2, 3, 4)).shape == (3, 2, 3, 4)


# ---- PyTorch as the reference where the page is silent ------------------------------------
torch_params = [
    {"affine": False, "track_running_stats": False},
    {"affine": True, "track_running_stats": False},
    {"affine": True, "track_running_stats": True},
    {"affine": False, "track_running_stats": True, "momentum": 0.25},
]


@pytest.mark.parametrize("kwargs", torch_params)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_training_steps(kwargs, dtype):
    torch = pytest.importorskip("torch")
    tol = 1e-4 if dtype == "float32" else 1e-10
    ours = nn.InstanceNorm2d(3, dtype=dtype, **kwargs)
    theirs = torch.nn.InstanceNorm2d(3, dtype=getattr(torch, dtype), **kwargs)
    if kwargs["affine"]:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
            theirs.bias.uniform_(-1, 1)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for step in range(3):
        x_np = np.random.default_rng(step).normal(1.0, 2.0, (2, 3, 5, 4)).astype(dtype)
        gy = np.random.default_rng(10 + step).normal(size=x_np.shape).astype(dtype)
        x = lucid.tensor(x_np, requires_grad=True)
        xt = torch.tensor(x_np, requires_grad=True)
        y, yt = ours(x), theirs(xt)
        y.backward(lucid.tensor(gy))
        yt.backward(torch.tensor(gy))
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), atol=tol)
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), atol=tol * 10)
        if kwargs["affine"]:
            np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                                       atol=tol * 10)
            np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(),
                                       atol=tol * 10)
            ours.zero_grad()
            theirs.zero_grad()
    if kwargs["track_running_stats"]:
        np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(),
                                   atol=tol)
        np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(),
                                   atol=tol)
        # and evaluation with the buffers
        ours.eval()
        theirs.eval()
        x_np = np.random.default_rng(99).normal(size=(2, 3, 5, 4)).astype(dtype)
        np.testing.assert_allclose(ours(lucid.tensor(x_np)).detach().numpy(),
                                   theirs(torch.tensor(x_np)).detach().numpy(), atol=tol)


def test_torch_unbatched():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).normal(size=(3, 4, 5)).astype(np.float32)
    np.testing.assert_allclose(nn.InstanceNorm2d(3)(lucid.tensor(x)).numpy(),
                               torch.nn.InstanceNorm2d(3)(torch.tensor(x)).numpy(), atol=1e-5)


def test_torch_functional_partial_affine():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 4, 4))
    w = rng.normal(size=3)
    ours = F.instance_norm(lucid.tensor(x), weight=lucid.tensor(w), eps=1e-3)
    theirs = torch.nn.functional.instance_norm(torch.tensor(x), weight=torch.tensor(w), eps=1e-3)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-10)
