"""Each layer against its PyTorch counterpart: outputs, input and parameter gradients."""

import numpy as np
import pytest

import lucid
import lucid.nn as nn
import lucid.nn.functional as F

torch = pytest.importorskip("torch")


def compare(ours, theirs, shape, dtype="float64", atol=None, seed=0):
    """Load ``theirs``'s weights into ``ours``, run both forward and backward, compare."""
    atol = atol or (1e-10 if dtype == "float64" else 1e-4)
    theirs = theirs.to(getattr(torch, dtype))
    ours.to(dtype)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(seed)
    x_np = rng.normal(size=shape).astype(dtype)
    x = lucid.tensor(x_np, requires_grad=True)
    xt = torch.tensor(x_np, requires_grad=True)
    y, yt = ours(x), theirs(xt)
    assert y.shape == tuple(yt.shape) and y.dtype == np.dtype(dtype)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), atol=atol)
    gy = rng.normal(size=y.shape).astype(dtype)
    y.backward(lucid.tensor(gy))
    yt.backward(torch.tensor(gy))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), atol=atol * 10)
    theirs_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(param.grad.numpy(), theirs_params[name].grad.numpy(),
                                   atol=atol * 10, err_msg=name)
    return ours, theirs


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linear(dtype):
    compare(nn.Linear(5, 3), torch.nn.Linear(5, 3), (4, 5), dtype)
    compare(nn.Linear(5, 3, bias=False), torch.nn.Linear(5, 3, bias=False), (2, 4, 5), dtype)


def test_identity():
    x = lucid.randn(2)
    assert nn.Identity(3, unused=True)(x) is x


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [0, 1, (2, 1), "same", "valid"])
def test_conv2d_padding(padding_mode, padding):
    kwargs = {"padding": padding, "padding_mode": padding_mode}
    compare(nn.Conv2d(3, 4, 3, **kwargs), torch.nn.Conv2d(3, 4, 3, **kwargs), (2, 3, 6, 7))


@pytest.mark.parametrize("kwargs", [
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": (2, 3), "dilation": 2, "padding": "same", "padding_mode": "reflect"},
    {"kernel_size": 4, "padding": "same", "padding_mode": "circular"},  # even kernel
    {"kernel_size": 3, "groups": 2, "bias": False},
    {"kernel_size": 1},
])
def test_conv2d_options(kwargs):
    compare(nn.Conv2d(4, 6, **kwargs), torch.nn.Conv2d(4, 6, **kwargs), (2, 4, 7, 6))


def test_conv2d_float32_and_unbatched():
    compare(nn.Conv2d(3, 2, 3, padding=1, padding_mode="reflect"),
            torch.nn.Conv2d(3, 2, 3, padding=1, padding_mode="reflect"), (3, 5, 5), "float32")


def test_conv2d_errors():
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Invalid padding string"):
        nn.Conv2d(3, 4, 3, padding="full")


def test_conv2d_device_dtype(device):
    conv = nn.Conv2d(2, 3, 3, device=device, dtype=lucid.float64)
    assert conv.weight.device == device and conv.bias.dtype == lucid.float64
    assert conv(lucid.randn(1, 2, 5, 5, device=device, dtype=lucid.float64)).shape == (1, 3, 3, 3)


@pytest.mark.parametrize("layer, reference", [
    (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    (lambda: nn.ReLU(inplace=True), lambda: torch.nn.ReLU()),
    (lambda: nn.ReLU6(), lambda: torch.nn.ReLU6()),
    (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    (lambda: nn.ReflectionPad2d((1, 2, 0, 2)), lambda: torch.nn.ReflectionPad2d((1, 2, 0, 2))),
    (lambda: nn.ReplicationPad2d(2), lambda: torch.nn.ReplicationPad2d(2)),
    (lambda: nn.ZeroPad2d((1, 0, 2, 1)), lambda: torch.nn.ZeroPad2d((1, 0, 2, 1))),
    (lambda: nn.ConstantPad2d(1, -0.5), lambda: torch.nn.ConstantPad2d(1, -0.5)),
    (lambda: nn.MaxPool2d(2), lambda: torch.nn.MaxPool2d(2)),
    (lambda: nn.MaxPool2d(3, 2, 1, ceil_mode=True), lambda: torch.nn.MaxPool2d(3, 2, 1,
                                                                               ceil_mode=True)),
    (lambda: nn.AvgPool2d(2), lambda: torch.nn.AvgPool2d(2)),
    (lambda: nn.AvgPool2d(3, 1, 1, count_include_pad=False),
     lambda: torch.nn.AvgPool2d(3, 1, 1, count_include_pad=False)),
    (lambda: nn.AdaptiveAvgPool2d((2, 3)), lambda: torch.nn.AdaptiveAvgPool2d((2, 3))),
    (lambda: nn.AdaptiveAvgPool2d(1), lambda: torch.nn.AdaptiveAvgPool2d(1)),
    (lambda: nn.Upsample(scale_factor=2), lambda: torch.nn.Upsample(scale_factor=2)),
    (lambda: nn.Upsample(size=(9, 7), mode="nearest"),
     lambda: torch.nn.Upsample(size=(9, 7), mode="nearest")),
    (lambda: nn.Upsample(scale_factor=2, mode="bilinear"),
     lambda: torch.nn.Upsample(scale_factor=2, mode="bilinear")),
    (lambda: nn.Upsample(size=(8, 9), mode="bilinear", align_corners=True),
     lambda: torch.nn.Upsample(size=(8, 9), mode="bilinear", align_corners=True)),
])
def test_parameter_free_layers(layer, reference):
    compare(layer(), reference(), (2, 3, 5, 6))


@pytest.mark.parametrize("kwargs", [
    {},
    {"affine": False},
    {"momentum": None},
    {"track_running_stats": False},
])
def test_batch_norm_train_eval(kwargs):
    ours, theirs = nn.BatchNorm2d(3, **kwargs), torch.nn.BatchNorm2d(3, **kwargs)
    for seed in range(3):  # several training steps move the running statistics
        compare(ours, theirs, (4, 3, 3, 5), seed=seed)
        ours.zero_grad()
        theirs.zero_grad()
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), atol=1e-10,
                                   err_msg=key)
    ours.eval()
    theirs.eval()
    compare(ours, theirs, (2, 3, 4, 4), seed=7)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(lucid.randn(3, 4, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm2d(3)(lucid.randn(1, 3, 1, 1))


def test_functional_batch_norm_float32():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3, 5)).astype(np.float32)
    mean, var = np.zeros(3, np.float32), np.ones(3, np.float32)
    tm, tv = torch.tensor(mean), torch.tensor(var)
    rm, rv = lucid.tensor(mean), lucid.tensor(var)
    ours = F.batch_norm(lucid.tensor(x), rm, rv, training=True, momentum=0.2)
    theirs = torch.nn.functional.batch_norm(torch.tensor(x), tm, tv, training=True, momentum=0.2)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-5)
    np.testing.assert_allclose(rm.numpy(), tm.numpy(), atol=1e-6)
    np.testing.assert_allclose(rv.numpy(), tv.numpy(), atol=1e-6)
    assert ours.dtype == lucid.float32


def test_dropout():
    x = lucid.ones(20000, requires_grad=True)
    # p = 0 and evaluation mode are the identity
    assert nn.Dropout(0.0)(x) is x
    assert nn.Dropout(0.5).eval()(x) is x
    y = nn.Dropout(0.25)(x)
    values = y.detach().numpy()
    kept = values != 0
    np.testing.assert_allclose(values[kept], 1 / 0.75, rtol=1e-6)  # survivors are scaled
    assert kept.mean() == pytest.approx(0.75, abs=0.02)
    assert values.mean() == pytest.approx(1.0, abs=0.03)  # the expectation is kept
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), values)  # same mask in the gradient
    assert not nn.Dropout(1.0)(x).detach().numpy().any()
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_dropout_seeded():
    lucid.manual_seed(5)
    a = nn.Dropout()(lucid.ones(50)).numpy()
    lucid.manual_seed(5)
    b = nn.Dropout()(lucid.ones(50)).numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses(reduction):
    rng = np.random.default_rng(0)
    a_np, b_np = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    for ours, theirs in ((F.mse_loss, torch.nn.functional.mse_loss),
                         (F.l1_loss, torch.nn.functional.l1_loss)):
        a = lucid.tensor(a_np, requires_grad=True)
        at = torch.tensor(a_np, requires_grad=True)
        out = ours(a, lucid.tensor(b_np), reduction=reduction)
        ref = theirs(at, torch.tensor(b_np), reduction=reduction)
        np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), atol=1e-12)
        out.sum().backward()
        ref.sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(a, a, reduction="avg")
    with pytest.warns(UserWarning, match="different to the input size"):
        F.l1_loss(lucid.ones(3, 1), lucid.ones(3))


def test_functional_activations():
    x_np = np.linspace(-8, 8, 33)
    x, xt = lucid.tensor(x_np), torch.tensor(x_np)
    tf = torch.nn.functional
    pairs = [(F.relu(x), tf.relu(xt)), (F.relu6(x), tf.relu6(xt)),
             (F.hardtanh(x, -2.0, 3.0), tf.hardtanh(xt, -2.0, 3.0)),
             (F.leaky_relu(x, 0.1), tf.leaky_relu(xt, 0.1)), (F.sigmoid(x), torch.sigmoid(xt)),
             (F.tanh(x), torch.tanh(xt)), (F.pad(x.reshape(1, 33), (1, 2)),
                                           tf.pad(xt.reshape(1, 33), (1, 2)))]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)


def test_layers_on_device(device):
    net = nn.Sequential(
        nn.ReflectionPad2d(1), nn.Conv2d(2, 4, 3), nn.InstanceNorm2d(4, affine=True),
        nn.ReLU(), nn.MaxPool2d(2), nn.Upsample(scale_factor=2), nn.BatchNorm2d(4),
        nn.AdaptiveAvgPool2d(1),
    ).to(device)
    x = lucid.randn(2, 2, 6, 6, device=device, requires_grad=True)
    y = net(x)
    y.sum().backward()
    assert y.shape == (2, 4, 1, 1) and y.device == device and x.grad.device == device
