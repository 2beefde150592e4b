"""ELU, SELU, CELU, softplus, softsign, hardsigmoid, hardswish, mish, logsigmoid, GLU,
softmin, the shrinks, threshold and PReLU: gradients against finite differences, values and
gradients against torch (large inputs and the kinks included), the layers' reprs and
defaults against torch's, and dtypes kept."""

import inspect

import numpy as np
import pytest

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
from lucid.testing import gradcheck

WEIGHT = np.array([0.3, -0.2, 1.5])  # PReLU's slopes, one per channel (dim 1 of size 3)

#: name -> (program(m, f, x), its kinks): ``m`` is lucid or torch, ``f`` its functional module
CASES = {
    "elu": (lambda m, f, x: f.elu(x), [0.0]),
    "elu_alpha": (lambda m, f, x: f.elu(x, 1.7), [0.0]),
    "selu": (lambda m, f, x: f.selu(x), [0.0]),
    "celu": (lambda m, f, x: f.celu(x), [0.0]),
    "celu_alpha": (lambda m, f, x: f.celu(x, alpha=0.6), [0.0]),
    "softplus": (lambda m, f, x: f.softplus(x), [20.0]),
    "softplus_beta": (lambda m, f, x: f.softplus(x, beta=2.0, threshold=5.0), [2.5]),
    "softplus_negative_beta": (lambda m, f, x: f.softplus(x, beta=-0.5, threshold=3.0), [-6.0]),
    "softsign": (lambda m, f, x: f.softsign(x), [0.0]),
    "hardsigmoid": (lambda m, f, x: f.hardsigmoid(x), [-3.0, 3.0]),
    "hardswish": (lambda m, f, x: f.hardswish(x), [-3.0, 3.0]),
    "mish": (lambda m, f, x: f.mish(x), []),
    "logsigmoid": (lambda m, f, x: f.logsigmoid(x), []),
    "glu": (lambda m, f, x: f.glu(x.reshape(3, -1, 4), dim=1), []),
    "glu_last": (lambda m, f, x: f.glu(x), []),
    "softmin": (lambda m, f, x: f.softmin(x, dim=1), []),
    "hardshrink": (lambda m, f, x: f.hardshrink(x), [-0.5, 0.5]),
    "hardshrink_lambd": (lambda m, f, x: f.hardshrink(x, 1.25), [-1.25, 1.25]),
    "softshrink": (lambda m, f, x: f.softshrink(x), [-0.5, 0.5]),
    "softshrink_lambd": (lambda m, f, x: f.softshrink(x, lambd=2.0), [-2.0, 2.0]),
    "tanhshrink": (lambda m, f, x: f.tanhshrink(x), []),
    "threshold": (lambda m, f, x: f.threshold(x, 0.75, -2.0), [0.75]),
    "prelu": (lambda m, f, x: f.prelu(x, m.tensor(WEIGHT, dtype=x.dtype, device=x.device)),
              [0.0]),
    "prelu_one": (lambda m, f, x: f.prelu(x, m.tensor([0.25], dtype=x.dtype, device=x.device)),
                  [0.0]),
}
LARGE = [-100.0, -60.0, -30.0, 30.0, 60.0, 100.0]  # past exp's float32 range


def _sample(kinks, extra=()):  # noqa: ANN001, ANN202
    """A (2, 3, 4) sample, the same in every test: normal values of scale 3, nudged 0.05 off
    the kinks (for finite differences), with ``extra`` values written over the first ones."""
    x = np.random.default_rng(0).standard_normal((2, 3, 4)) * 3
    for kink in kinks:
        near = np.abs(x - kink) < 0.05
        x[near] = kink + 0.05 * np.sign(x[near] - kink + 1e-9)
    flat = x.reshape(-1)
    flat[:len(extra)] = extra
    return x


def _both(torch, program, x_np, dtype):  # noqa: ANN001, ANN202
    """``program`` on lucid and on torch: the outputs and the input gradients of the output
    times fixed weights, as numpy arrays."""
    results = []
    for m, functional in ((lucid, F), (torch, torch.nn.functional)):
        x = m.tensor(x_np.astype(dtype), requires_grad=True)
        out = program(m, functional, x)
        weights = np.linspace(-1, 2, out.numel()).reshape(tuple(out.shape)).astype(dtype)
        (out * m.tensor(weights)).sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy()))
    return results


@pytest.mark.parametrize("name", CASES)
def test_gradients_match_finite_differences(name: str) -> None:
    program, kinks = CASES[name]
    x = lucid.tensor(_sample(kinks), requires_grad=True)
    assert gradcheck(lambda t: program(lucid, F, t), (x,))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", CASES)
def test_values_and_gradients_match_torch(name: str, dtype: str) -> None:
    """Normal values, the kinks themselves (where each side's gradient is a choice, torch's
    the contract) and points just beside them, and large magnitudes (where a careless exp
    overflows): finite, as torch's."""
    torch = pytest.importorskip("torch")
    program, kinks = CASES[name]
    x = _sample([], [k + d for k in kinks for d in (0.0, -1e-3, 1e-3)] + LARGE)
    (out, grad), (ref_out, ref_grad) = _both(torch, program, x, dtype)
    assert out.dtype == ref_out.dtype == np.dtype(dtype) and grad.dtype == np.dtype(dtype)
    rtol, atol = (1e-5, 1e-6) if dtype == "float32" else (1e-10, 1e-12)
    np.testing.assert_allclose(out, ref_out, rtol=rtol, atol=atol)
    if name in ("hardsigmoid", "celu_alpha") and dtype == "float64":
        rtol = 1e-6  # torch's 1/6 and 1/alpha are float32's there (the docstrings)
    np.testing.assert_allclose(grad, ref_grad, rtol=rtol, atol=atol)
    assert np.isfinite(out).all() and np.isfinite(grad).all()


def test_gradients_at_the_kinks_are_torch_choices() -> None:
    """Spelled out, so that a change of side shows by name (torch 2.x's values)."""
    def grad(fn, values):  # noqa: ANN001, ANN202
        x = lucid.tensor(values, dtype=lucid.float64, requires_grad=True)
        fn(x).sum().backward()
        return x.grad.tolist()

    assert grad(lambda x: F.elu(x, 2.0), [0.0]) == [2.0]  # the left side's alpha
    assert grad(lambda x: F.celu(x, 2.0), [0.0]) == [1.0]
    assert grad(F.selu, [0.0]) == [pytest.approx(1.0507009873554805 * 1.6732632423543772)]
    assert grad(lambda x: F.softplus(x, 2.0, 5.0), [2.5])[0] == pytest.approx(
        1 / (1 + np.exp(-5.0)))  # at the threshold itself: still the smooth side
    assert grad(F.hardsigmoid, [-3.0, 3.0, 0.0]) == [0.0, 0.0, 1 / 6]  # exactly 1/6
    assert grad(F.hardswish, [-3.0, 3.0, 0.0]) == [0.0, 1.0, 0.5]
    assert grad(F.hardshrink, [-0.5, 0.5, 0.6, -0.6]) == [0.0, 0.0, 1.0, 1.0]
    assert grad(F.softshrink, [-0.5, 0.5, 0.6, -0.6]) == [0.0, 0.0, 1.0, 1.0]
    assert grad(lambda x: F.threshold(x, 0.5, 3.0), [0.5, 0.6]) == [0.0, 1.0]
    assert grad(F.softsign, [0.0]) == [1.0]
    x = lucid.tensor([0.0, -2.0], dtype=lucid.float64, requires_grad=True)
    w = lucid.tensor([0.25], dtype=lucid.float64, requires_grad=True)
    F.prelu(x, w).sum().backward()
    assert x.grad.tolist() == [0.25, 0.25] and w.grad.tolist() == [-2.0]


def test_nan_passes_with_its_gradient_as_in_torch() -> None:
    torch = pytest.importorskip("torch")
    values = np.array([np.nan, 0.5, -0.5, 0.0, 2.0])
    for name in ("hardshrink", "softshrink", "threshold", "elu", "softplus", "logsigmoid",
                 "mish", "hardswish", "hardsigmoid", "prelu_one"):
        (out, grad), (ref_out, ref_grad) = _both(torch, CASES[name][0], values, "float64")
        np.testing.assert_allclose(out, ref_out, rtol=1e-12, err_msg=name)  # NaN where NaN
        rtol = 1e-7 if name == "hardsigmoid" else 1e-12  # torch's 1/6 is float32's
        np.testing.assert_allclose(grad, ref_grad, rtol=rtol, err_msg=name)


def test_softshrink_gives_negative_zero_below_zero_as_torch() -> None:
    out = F.softshrink(lucid.tensor([-0.5, -0.25, 0.25, 0.5])).numpy()
    assert np.signbit(out).tolist() == [True, True, False, False]
    assert not np.signbit(F.hardshrink(lucid.tensor([-0.5, -0.25])).numpy()).any()


def test_softplus_stays_finite_where_torch_overflows() -> None:
    """The one deliberate difference (softplus's docstring): with a threshold past float32's
    exp range, torch gives inf and a NaN gradient; lucid the finite values."""
    x = lucid.tensor([100.0, 800.0], requires_grad=True)
    y = F.softplus(x, threshold=1000.0)
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), [100.0, 800.0])
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


def test_logsigmoid_and_softplus_are_accurate_far_out() -> None:
    """Below float64's exp underflow they keep their leading term (not 0 or log(0))."""
    x = lucid.tensor([-745.0, -800.0, 40.0], dtype=lucid.float64, requires_grad=True)
    y = F.logsigmoid(x)
    y.sum().backward()
    assert y.tolist()[:2] == [-745.0, -800.0]
    assert y.tolist()[2] == pytest.approx(-np.exp(-40.0), rel=1e-12)
    assert x.grad.tolist()[:2] == [1.0, 1.0] and x.grad.tolist()[2] == pytest.approx(
        np.exp(-40.0), rel=1e-12)
    assert F.softplus(lucid.tensor([-40.0], dtype=lucid.float64)).item() == pytest.approx(
        np.exp(-40.0), rel=1e-12)


@pytest.mark.parametrize("name", ["elu", "selu", "celu_alpha", "softplus", "softplus_beta",
                                  "mish", "logsigmoid", "hardswish", "hardsigmoid",
                                  "softshrink", "threshold"])
def test_float16_is_computed_in_float32_and_kept(name: str) -> None:
    """As torch's kernels: each value and gradient within one float16 step of torch's (in
    float16 throughout, hardswish's gradient was 85 steps off near its zero)."""
    torch = pytest.importorskip("torch")
    program = CASES[name][0]
    x = np.linspace(-12, 30, 4001)
    results = []
    for m, functional in ((lucid, F), (torch, torch.nn.functional)):
        t = m.tensor(x, dtype=m.float16, requires_grad=True)
        out = program(m, functional, t)
        out.sum().backward()
        assert str(out.dtype).endswith("float16") and str(t.grad.dtype).endswith("float16")
        results.append((out.detach().numpy(), t.grad.numpy()))
    for ours, theirs in zip(*results, strict=True):
        step = np.spacing(np.abs(theirs)).astype(np.float64)
        assert np.all(np.abs(ours.astype(np.float64) - theirs) <= step), name


@pytest.mark.parametrize("name", CASES)
def test_float32_stays_float32(name: str) -> None:
    x = lucid.tensor(_sample(CASES[name][1]), dtype=lucid.float32, requires_grad=True)
    y = CASES[name][0](lucid, F, x)
    y.sum().backward()
    assert y.dtype == lucid.float32 and x.grad.dtype == lucid.float32


def test_prelu_weight_gradient_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    x_np = np.random.default_rng(1).standard_normal((4, 3, 2, 5))
    x_np[0, 0, 0, :2] = 0.0  # a kink: no gradient for the weight there
    grads = []
    for m, f, shape in ((lucid, F, (3,)), (torch, torch.nn.functional, (3,)),
                        (lucid, F, (1,)), (torch, torch.nn.functional, (1,))):
        w = m.tensor(WEIGHT[:shape[0]], requires_grad=True)
        x = m.tensor(x_np, requires_grad=True)
        out = f.prelu(x, w)
        (out * m.tensor(np.linspace(-1, 1, x_np.size).reshape(x_np.shape))).sum().backward()
        grads.append((out.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
    for ours, theirs in (grads[:2], grads[2:]):
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert F.prelu(lucid.tensor(-2.0), lucid.tensor([0.5])).shape == ()


def test_softmin_dtype_and_implicit_dim_as_torch() -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((2, 3, 4)).astype(np.float32)
    ours = F.softmin(lucid.tensor(x), 2, dtype=lucid.float64)
    theirs = torch.nn.functional.softmin(torch.tensor(x), 2, dtype=torch.float64)
    assert ours.dtype == lucid.float64
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin") as record:
        implicit = F.softmin(lucid.tensor(x))
    assert record[0].filename == __file__  # points at the caller, as torch's
    np.testing.assert_allclose(implicit.numpy(), F.softmin(lucid.tensor(x), 0).numpy())


def test_refusals_match_torch() -> None:
    """Each refusal torch makes, with its message; every one is checked on torch too."""
    torch = pytest.importorskip("torch")
    cases = [
        (lambda m, f: f.glu(m.ones(3)), RuntimeError,
         "Halving dimension must be even, but dimension 0 is size 3"),
        (lambda m, f: f.glu(m.ones(2, 5), 1), RuntimeError, "dimension 1 is size 5"),
        (lambda m, f: f.glu(m.tensor(1.0)), RuntimeError, "glu does not support scalars"),
        (lambda m, f: f.glu(m.ones(2, 4), 2), IndexError, "ension out of range"),
        (lambda m, f: f.celu(m.ones(2), 0.0), RuntimeError, "alpha cannot be 0 for CELU"),
        (lambda m, f: f.softshrink(m.ones(2), -1.0), RuntimeError, "lambda must be in range"),
        (lambda m, f: f.softshrink(m.ones(2), float("nan")), RuntimeError,
         "lambda must be in range"),
        (lambda m, f: f.prelu(m.ones(2, 3), m.ones(2)), RuntimeError,
         "Found parameter numbers = 2 and channel size = 3"),
        (lambda m, f: f.prelu(m.ones(3), m.ones(3)), RuntimeError,
         "Found parameter numbers = 3 and channel size = 1"),
        (lambda m, f: f.prelu(m.ones(2, 3), m.ones(3, 1)), RuntimeError,
         "Expected `weight` to be a scalar or 1D tensor, but got: ndim = 2"),
        (lambda m, f: f.prelu(m.tensor(1.0), m.ones(3)), RuntimeError,
         "Not allow zero-dim input tensor"),
        (lambda m, f: f.prelu(m.ones(2, 3), m.ones(3, dtype=m.float64)), RuntimeError,
         "prelu: Type promoting not supported"),
    ]
    for name in ("elu", "selu", "celu", "softplus", "hardsigmoid", "hardswish", "mish",
                 "logsigmoid", "hardshrink", "softshrink"):
        cases.append((lambda m, f, n=name: getattr(f, n)(m.tensor([1, 2])), NotImplementedError,
                      "not implemented for"))
    for program, error, message in cases:
        with pytest.raises(error, match=message):
            program(torch, torch.nn.functional)
        with pytest.raises(error, match=message):
            program(lucid, F)
    with pytest.raises(AssertionError, match="must be greater than min_val"):
        nn.Hardtanh(1.0, 1.0)
    with pytest.raises(AssertionError, match="must be greater than min_val"):
        torch.nn.Hardtanh(1.0, 1.0)


def test_threshold_keeps_integers_as_torch() -> None:
    torch = pytest.importorskip("torch")
    x = np.array([-2, -1, 0, 1, 3])
    for threshold, value in ((-0.5, 7), (0.5, 7.9), (1, -4)):
        ours = F.threshold(lucid.tensor(x), threshold, value)
        theirs = torch.nn.functional.threshold(torch.tensor(x), threshold, value)
        assert ours.dtype == lucid.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    # the composites take integers to floats, as torch's
    for name in ("softsign", "tanhshrink"):
        ours = getattr(F, name)(lucid.tensor(x))
        theirs = getattr(torch.nn.functional, name)(torch.tensor(x))
        assert ours.dtype == lucid.float32 and str(theirs.dtype) == "torch.float32"
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


#: (name, args, kwargs): each layer built both ways
LAYERS = [
    ("ELU", (), {}), ("ELU", (0.5,), {"inplace": True}), ("CELU", (), {}),
    ("CELU", (2.0, True), {}), ("SELU", (), {}), ("SELU", (True,), {}),
    ("Softplus", (), {}), ("Softplus", (2,), {"threshold": 10}), ("Softsign", (), {}),
    ("Hardtanh", (), {}), ("Hardtanh", (-2, 3, True), {}), ("Hardtanh", (-0.5,), {}),
    ("Hardsigmoid", (), {}), ("Hardsigmoid", (True,), {}), ("Hardswish", (), {}),
    ("Hardswish", (True,), {}), ("Mish", (), {}), ("Mish", (True,), {}), ("LogSigmoid", (), {}),
    ("GLU", (), {}), ("GLU", (2,), {}), ("Softmin", (), {}), ("Softmin", (1,), {}),
    ("Hardshrink", (), {}), ("Hardshrink", (0.25,), {}), ("Softshrink", (), {}),
    ("Softshrink", (), {"lambd": 1.5}), ("Tanhshrink", (), {}), ("Threshold", (0.1, 20), {}),
    ("Threshold", (0.1, -1.5, True), {}), ("PReLU", (), {}), ("PReLU", (3, 0.1), {}),
]


@pytest.mark.parametrize("name, args, kwargs", LAYERS)
def test_layer_repr_defaults_and_outputs_match_torch(name: str, args: tuple, kwargs: dict) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    ours_signature = inspect.signature(type(ours).__init__).parameters
    theirs_signature = inspect.signature(type(theirs).__init__).parameters
    if type(theirs).__init__ is torch.nn.Module.__init__:  # (self, *args, **kwargs)
        theirs_signature = {"self": ours_signature["self"]}
    assert list(ours_signature) == list(theirs_signature)
    for parameter, spec in theirs_signature.items():
        assert ours_signature[parameter].default == spec.default, parameter
    theirs_state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), theirs_state[key])
    assert sorted(ours.state_dict()) == sorted(theirs_state)
    ours.to("float64")
    theirs.double()
    x_np = np.random.default_rng(3).standard_normal((2, 3, 4, 6)) * 2
    x, leaf = lucid.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    xt = leaf * 1  # torch's inplace=True may write it
    if name == "Softmin" and not args:
        with pytest.warns(UserWarning):
            y = ours(x)
        with pytest.warns(UserWarning):
            yt = theirs(xt)
    else:
        y, yt = ours(x), theirs(xt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), leaf.grad.numpy(), rtol=1e-7, atol=1e-12)
    assert np.array_equal(x.detach().numpy(), x_np)  # inplace=True changes nothing
    if name == "PReLU":
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                                   rtol=1e-10)


def test_prelu_layer_device_dtype_and_training() -> None:
    layer = nn.PReLU(3, dtype=lucid.float64)
    assert layer.weight.dtype == lucid.float64 and layer.weight.tolist() == [0.25] * 3
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    layer.weight.data[...] = 1.0
    layer.reset_parameters()
    assert layer.weight.tolist() == [0.25] * 3
    y = layer(lucid.tensor(-np.ones((2, 3, 4))))
    y.sum().backward()
    assert layer.weight.grad.tolist() == [-8.0] * 3


def test_hardtanh_layer_takes_the_deprecated_names() -> None:
    with pytest.warns(FutureWarning, match="min_value"):
        layer = nn.Hardtanh(min_value=-2.0)
    assert (layer.min_val, layer.max_val) == (-2.0, 1.0)
    with pytest.warns(FutureWarning, match="max_value"):
        assert nn.Hardtanh(max_value=3.0).max_val == 3.0
    assert nn.Hardtanh(-2.0, 2.0)(lucid.tensor([-3.0, 0.5, 3.0])).tolist() == [-2.0, 0.5, 2.0]


@pytest.mark.parametrize("name", CASES)
def test_on_device_as_on_the_cpu(name: str, device: str) -> None:
    program, kinks = CASES[name]
    x_np = _sample(kinks, list(kinks) + LARGE)
    results = []
    for where in ("cpu", device):
        x = lucid.tensor(x_np, device=where, requires_grad=True)
        y = program(lucid, F, x)
        y.sum().backward()
        assert y.device == where and x.grad.device == where
        results.append((y.detach().cpu().numpy(), x.grad.cpu().numpy()))
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
