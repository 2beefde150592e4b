"""``F.rms_norm`` / ``nn.RMSNorm`` and ``nn.ParameterList`` / ``nn.ParameterDict`` against
PyTorch: values, gradients, shape errors, reprs, registration and optimiser steps."""

import warnings
from collections import OrderedDict

import numpy as np
import pytest

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
from lucid.testing import gradcheck

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,normalized", [((4, 8), 8), ((2, 3, 5), [5]), ((2, 3, 4), (3, 4)),
                                              ((6,), [6]), ((2, 3, 4, 5), [3, 4, 5])])
@pytest.mark.parametrize("eps", [None, 1e-3])
@pytest.mark.parametrize("with_weight", [True, False])
def test_rms_norm_matches_torch(dtype, shape, normalized, eps, with_weight):
    rng = np.random.default_rng(1)
    x_np = (rng.normal(size=shape) * 0.3).astype(dtype)
    norm_shape = (normalized,) if isinstance(normalized, int) else tuple(normalized)
    w_np = rng.normal(size=norm_shape).astype(dtype)
    x, xt = lucid.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    w = lucid.tensor(w_np, requires_grad=True) if with_weight else None
    wt = torch.tensor(w_np, requires_grad=True) if with_weight else None
    y = F.rms_norm(x, normalized, w, eps)
    yt = torch.nn.functional.rms_norm(xt, list(norm_shape), wt, eps)
    atol = 1e-12 if dtype == "float64" else 1e-5
    assert y.dtype == np.dtype(dtype) and y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=atol)
    gy = rng.normal(size=shape).astype(dtype)
    y.backward(lucid.tensor(gy))
    yt.backward(torch.tensor(gy))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=atol * 10)
    if with_weight:
        np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-4, atol=atol * 10)


def test_rms_norm_default_eps_matters():
    # tiny inputs: the result depends on eps, so the default must be the dtype's epsilon
    for dtype in ("float32", "float64"):
        x_np = np.full((2, 4), 1e-8, dtype=dtype)
        ours = F.rms_norm(lucid.tensor(x_np), [4]).numpy()
        theirs = torch.nn.functional.rms_norm(torch.tensor(x_np), [4]).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)
        assert not np.allclose(ours, F.rms_norm(lucid.tensor(x_np), [4], eps=0.0).numpy())


def test_rms_norm_float16_matches_torch():
    x_np = np.array([[1e-3, 2e-3, -1e-3, 5e-4], [30.0, -40.0, 50.0, 10.0]], dtype="float16")
    ours = F.rms_norm(lucid.tensor(x_np), [4])
    theirs = torch.nn.functional.rms_norm(torch.tensor(x_np), [4])
    assert ours.dtype == np.float16
    np.testing.assert_allclose(ours.numpy().astype("float64"),
                               theirs.numpy().astype("float64"), rtol=2e-3)


@pytest.mark.parametrize("normalized,with_weight", [([5], True), ([3, 5], True), ([5], False)])
def test_rms_norm_gradcheck(normalized, with_weight):
    rng = np.random.default_rng(2)
    x = lucid.tensor(rng.normal(size=(2, 3, 5)), requires_grad=True)
    inputs = [x]
    if with_weight:
        inputs.append(lucid.tensor(rng.normal(size=normalized), requires_grad=True))
    assert gradcheck(lambda x, *w: F.rms_norm(x, normalized, *w, eps=1e-4), inputs)


@pytest.mark.parametrize("normalized,weight_shape,x_shape", [
    ([5], None, (2, 3, 4)), ([3, 4], (4,), (2, 3, 4)), ([], None, (2, 3)),
    ([2, 3, 4], None, (3, 4)),
])
def test_rms_norm_shape_errors_as_torch(normalized, weight_shape, x_shape):
    x = np.zeros(x_shape, dtype="float32")
    w = None if weight_shape is None else np.ones(weight_shape, dtype="float32")
    with pytest.raises((RuntimeError, ValueError)) as theirs:
        torch.nn.functional.rms_norm(torch.tensor(x), normalized,
                                     None if w is None else torch.tensor(w))
    with pytest.raises(theirs.type) as ours:
        F.rms_norm(lucid.tensor(x), normalized, None if w is None else lucid.tensor(w))
    key = str(theirs.value).split(",")[0].split(" to ")[0]
    assert key in str(ours.value)


@pytest.mark.parametrize("args,kwargs", [((8,), {}), (([2, 3],), {"eps": 1e-6}),
                                         ((4,), {"elementwise_affine": False})])
def test_rmsnorm_module_matches_torch(args, kwargs):
    ours, theirs = nn.RMSNorm(*args, **kwargs), torch.nn.RMSNorm(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert ours.eps == theirs.eps and ours.normalized_shape == theirs.normalized_shape
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if theirs.weight is not None:
        np.testing.assert_array_equal(ours.weight.detach().numpy(), theirs.weight.detach().numpy())
    else:
        assert ours.weight is None
    shape = (3,) + tuple(theirs.normalized_shape)
    x_np = np.random.default_rng(3).normal(size=shape)
    theirs.double()
    ours.double()
    if theirs.weight is not None:  # a non-trivial weight, loaded through state_dict
        theirs.weight.data.uniform_(0.5, 1.5)
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x, xt = lucid.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    y, yt = ours(x), theirs(xt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), atol=1e-12)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), atol=1e-12)
    if theirs.weight is not None:
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                                   atol=1e-12)


def test_rmsnorm_is_exported():
    assert "RMSNorm" in nn.__all__ and "rms_norm" in F.__all__
    assert "ParameterList" in nn.__all__ and "ParameterDict" in nn.__all__


# ---- containers ---------------------------------------------------------------------------

def _both_lists():
    a, b = np.ones(2, dtype="float32"), np.zeros((3, 2), dtype="float64")
    ours = nn.ParameterList([lucid.tensor(a), nn.Parameter(lucid.tensor(b)), 7])
    theirs = torch.nn.ParameterList([torch.tensor(a), torch.nn.Parameter(torch.tensor(b)), 7])
    return ours, theirs


def _torchless(text):
    return text.replace("torch.", "lucid.")


def test_parameter_list_mirrors_torch():
    ours, theirs = _both_lists()
    assert _torchless(repr(theirs)) == repr(ours)
    assert len(ours) == len(theirs) == 3
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0", "1"]
    assert [type(p).__name__ for p in ours] == [type(p).__name__ for p in theirs]
    assert isinstance(ours[0], nn.Parameter) and ours[0].requires_grad
    assert ours[-1] == 7 and ours[-3] is ours[0]
    with pytest.raises(IndexError):
        ours[3]
    with pytest.raises(IndexError):
        ours[-4]
    for p in (ours, theirs):
        p.append(p[0] * 0 if p is theirs else lucid.zeros(4))
        p.extend([p[0]])
        p += [p[1]]
        p[2] = p[1]
    assert _torchless(repr(theirs)).replace("size 2]", "size ?]") == \
        repr(ours).replace("size 2]", "size ?]").replace("size 4]", "size ?]")
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    sliced, sliced_t = ours[1:4:2], theirs[1:4:2]
    assert type(sliced) is nn.ParameterList and len(sliced) == len(sliced_t) == 2
    assert sliced[0] is ours[1] and sliced[1] is ours[3]
    assert list(ours[::-1])[0] is ours[-1]
    with pytest.raises(TypeError):
        ours.extend(lucid.ones(2))
    with pytest.raises(RuntimeError):
        ours()
    assert repr(nn.ParameterList()) == repr(torch.nn.ParameterList()) == "ParameterList()"


def test_parameter_list_registered_in_enclosing_module_and_stepped():
    net = nn.Module()
    net.scales = nn.ParameterList([lucid.ones(2), lucid.ones(3)])
    net.lin = nn.Linear(2, 1)
    tnet = torch.nn.Module()
    tnet.scales = torch.nn.ParameterList([torch.ones(2), torch.ones(3)])
    tnet.lin = torch.nn.Linear(2, 1)
    assert list(net.state_dict()) == list(tnet.state_dict())
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in tnet.named_parameters()]
    assert len(list(net.parameters())) == 4
    opt = lucid.optim.SGD(net.parameters(), lr=0.5)
    loss = (net.scales[0] * 2).sum() + (net.scales[1] ** 2).sum()
    loss.backward()
    opt.step()
    np.testing.assert_allclose(net.scales[0].detach().numpy(), [0.0, 0.0])
    np.testing.assert_allclose(net.scales[1].detach().numpy(), [0.0, 0.0, 0.0])
    net.double()
    assert net.scales[1].dtype == np.float64


def test_parameter_dict_mirrors_torch():
    a, b = np.ones(2, dtype="float32"), np.zeros(3, dtype="float32")
    ours = nn.ParameterDict({"b": lucid.tensor(a), "a": lucid.tensor(b)})
    theirs = torch.nn.ParameterDict({"b": torch.tensor(a), "a": torch.tensor(b)})
    # plain dicts are taken in sorted order, OrderedDicts and pairs in their own
    assert list(ours) == list(theirs) == ["a", "b"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == _torchless(repr(theirs)).replace("lucid.FloatTensor", "lucid.float32")
    for d, mk in ((ours, lucid.ones), (theirs, torch.ones)):
        d.update(OrderedDict([("z", mk(1)), ("c", mk(4))]))
        d.update([("y", mk(2)), ("x", 5)])
        d["w"] = mk(3)
        d["b"] = mk(6)  # overwriting keeps the key's place
    assert list(ours.keys()) == list(theirs.keys()) == ["a", "b", "z", "c", "y", "x", "w"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [k for k, _ in ours.items()] == list(theirs.keys())
    assert [tuple(v.shape) if hasattr(v, "shape") else v for v in ours.values()] == \
        [tuple(v.shape) if hasattr(v, "shape") else v for v in theirs.values()]
    assert isinstance(ours["w"], nn.Parameter) and ours["x"] == 5
    assert "z" in ours and "q" not in ours and ours.get("q") is None and ours.get("q", 3) == 3
    assert ours.get("c") is ours["c"]
    popped = ours.pop("z")
    theirs.pop("z")
    assert popped.shape == (1,) and "z" not in ours and len(ours) == len(theirs) == 6
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.popitem()[0] == theirs.popitem()[0] == "w"
    del ours["a"]
    del theirs["a"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with pytest.raises(AttributeError):  # as PyTorch's, which looks keys up as attributes
        theirs.pop("nope")
    with pytest.raises(AttributeError):
        ours.pop("nope")
    with pytest.raises(TypeError):
        ours[1] = lucid.ones(1)
    with pytest.raises(RuntimeError):
        ours()
    ours.clear()
    theirs.clear()
    assert len(ours) == 0 and list(ours.parameters()) == [] and list(ours.state_dict()) == []
    assert repr(ours) == repr(theirs) == "ParameterDict()"


def test_parameter_dict_registered_in_enclosing_module_and_stepped():
    net = nn.Module()
    net.heads = nn.ParameterDict([("mu", lucid.ones(2)), ("sigma", lucid.ones(2))])
    tnet = torch.nn.Module()
    tnet.heads = torch.nn.ParameterDict([("mu", torch.ones(2)), ("sigma", torch.ones(2))])
    assert list(net.state_dict()) == list(tnet.state_dict()) == ["heads.mu", "heads.sigma"]
    opt = lucid.optim.SGD(net.parameters(), lr=0.25)
    (net.heads["mu"] * 4).sum().backward()
    opt.step()
    np.testing.assert_allclose(net.heads["mu"].detach().numpy(), [0.0, 0.0])
    np.testing.assert_allclose(net.heads["sigma"].detach().numpy(), [1.0, 1.0])  # no gradient
    net.load_state_dict({"heads.mu": np.full(2, 3.0, "float32"),
                         "heads.sigma": np.full(2, 4.0, "float32")})
    np.testing.assert_allclose(net.heads["sigma"].detach().numpy(), [4.0, 4.0])


def test_containers_share_the_wrapped_tensor():
    t = lucid.ones(2)
    plist, pdict = nn.ParameterList([t]), nn.ParameterDict({"t": t})
    t.data[0] = 5.0
    assert plist[0].detach().numpy()[0] == pdict["t"].detach().numpy()[0] == 5.0


@pytest.mark.parametrize(("input_dtype", "weight_dtype"), [("float32", "float64"),
                                                           ("float64", "float32"),
                                                           ("float16", "float32")])
def test_rms_norm_gives_the_inputs_dtype_whatever_the_weights(input_dtype: str,
                                                              weight_dtype: str) -> None:
    """A float32 input with a float64 weight gave float64 (torch: float32); each gradient
    comes back in its own tensor's dtype, as torch's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x0, w0 = rng.standard_normal((2, 3)), rng.standard_normal(3)
    results = []
    for m in (lucid, torch):
        x = m.tensor(x0, dtype=getattr(m, input_dtype), requires_grad=True)
        w = m.tensor(w0, dtype=getattr(m, weight_dtype), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch: no fused kernel for mixed dtypes
            y = m.nn.functional.rms_norm(x, (3,), w)
        y.sum().backward()
        results.append((y, x.grad, w.grad))
    for ours, theirs in zip(*results, strict=True):
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_allclose(ours.detach().numpy().astype(np.float64),
                                   theirs.detach().numpy().astype(np.float64),
                                   rtol=2e-3 if "float16" in (input_dtype,) else 1e-6)
