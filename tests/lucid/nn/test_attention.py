"""Attention against PyTorch: ``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention``
(values, gradients of inputs, masks and parameters, state_dicts, dropout statistics, errors)."""

import warnings

import numpy as np
import pytest

import lucid
import lucid.nn as nn
import lucid.nn.functional as F
from lucid.testing import gradcheck, random_tensor

torch = pytest.importorskip("torch")

ATOL = {"float32": 2e-5, "float64": 1e-11}


def pair(array, requires_grad=True):
    """The same values as a lucid and a torch tensor."""
    ours = lucid.tensor(array, requires_grad=requires_grad and array.dtype.kind == "f")
    theirs = torch.tensor(array, requires_grad=requires_grad and array.dtype.kind == "f")
    return ours, theirs


def close(ours, theirs, atol, name=""):
    assert ours is not None and theirs is not None, name
    np.testing.assert_allclose(ours.detach().numpy() if hasattr(ours, "detach") else ours,
                               theirs.detach().numpy(), atol=atol, rtol=1e-5, err_msg=name)


# ---- scaled_dot_product_attention -------------------------------------------------------------

def run_sdpa(q_shape, k_shape, v_shape, dtype="float64", mask=None, mask_grad=False, seed=0,
             **kwargs):
    """Run both on the same random inputs (and mask); compare output and every gradient."""
    rng = np.random.default_rng(seed)
    q, qt = pair(rng.normal(size=q_shape).astype(dtype))
    k, kt = pair(rng.normal(size=k_shape).astype(dtype))
    v, vt = pair(rng.normal(size=v_shape).astype(dtype))
    m = mt = None
    if mask is not None:
        m, mt = pair(mask.astype(dtype) if mask.dtype.kind == "f" else mask,
                     requires_grad=mask_grad)
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=m, **kwargs)
    yt = torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, attn_mask=mt, **kwargs)
    assert y.shape == tuple(yt.shape) and y.dtype == np.dtype(dtype)
    atol = ATOL[dtype]
    close(y, yt, atol, "output")
    gy = rng.normal(size=y.shape).astype(dtype)
    y.backward(lucid.tensor(gy))
    yt.backward(torch.tensor(gy))
    for name, ours, theirs in [("query", q, qt), ("key", k, kt), ("value", v, vt)] + (
            [("mask", m, mt)] if mask_grad else []):
        close(ours.grad, theirs.grad, atol * 10, name)
    return y


SHAPES = [
    ((3, 4), (5, 4), (5, 6)),  # unbatched
    ((2, 3, 4), (2, 5, 4), (2, 5, 3)),
    ((2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 4)),
    ((2, 2, 2, 3, 4), (2, 2, 2, 5, 4), (2, 2, 2, 5, 4)),  # more leading dims
    ((2, 1, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)),  # batch dims broadcast
    ((2, 3, 0, 4), (2, 3, 5, 4), (2, 3, 5, 4)),  # no queries
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes", SHAPES)
def test_sdpa_shapes(dtype, shapes):
    run_sdpa(*shapes, dtype=dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mask_shape", [(3, 5), (1, 5), (2, 1, 3, 5), (2, 4, 3, 5), (4, 1, 1)])
def test_sdpa_bool_masks(dtype, mask_shape):
    mask = np.random.default_rng(1).random(mask_shape) > 0.4
    mask[..., 0] = True  # every query keeps a key (fully masked rows: their own test)
    run_sdpa((2, 4, 3, 6), (2, 4, 5, 6), (2, 4, 5, 3), dtype, mask=mask)
    if len(mask_shape) < 4:
        run_sdpa((4, 3, 6), (4, 5, 6), (4, 5, 3), dtype, mask=mask)


def test_sdpa_one_dim_mask():
    run_sdpa((2, 3, 4), (2, 5, 4), (2, 5, 4), mask=np.array([True, False, True, True, False]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mask_shape", [(3, 5), (1, 5), (2, 1, 3, 5), (2, 4, 3, 5)])
def test_sdpa_float_masks_and_their_gradient(dtype, mask_shape):
    mask = np.random.default_rng(2).normal(size=mask_shape)
    mask[..., 1] = -np.inf
    run_sdpa((2, 4, 3, 6), (2, 4, 5, 6), (2, 4, 5, 3), dtype, mask=mask, mask_grad=True)


@pytest.mark.parametrize("dtype", ["float64", "float16"])
def test_sdpa_float32_mask_with_another_query_dtype(dtype):
    """PyTorch takes a float32 mask whatever the query's dtype (added to the scores; its
    gradient float32), and refuses a float mask of another dtype."""
    rng = np.random.default_rng(3)
    q, qt = pair(rng.normal(size=(2, 3, 4)).astype(dtype))
    k, kt = pair(rng.normal(size=(2, 5, 4)).astype(dtype))
    m, mt = pair(rng.normal(size=(3, 5)).astype(np.float32))
    y = F.scaled_dot_product_attention(q, k, k, attn_mask=m)
    yt = torch.nn.functional.scaled_dot_product_attention(qt, kt, kt, attn_mask=mt)
    assert y.dtype == np.dtype(dtype)
    atol = 1e-11 if dtype == "float64" else 2e-3
    close(y, yt.float() if dtype == "float16" else yt, atol, "output")
    if dtype == "float64":
        y.sum().backward()
        yt.sum().backward()
        assert m.grad.dtype == np.float32
        close(m.grad, mt.grad, 1e-6, "mask")
        close(q.grad, qt.grad, 1e-10, "query")
    with pytest.raises(RuntimeError, match="Expected attn_mask dtype to be bool or float"):
        F.scaled_dot_product_attention(q, k, k, attn_mask=lucid.ones(3, 5, dtype="float16")
                                       if dtype == "float64" else m.double())


def test_mha_float32_mask_with_float64_query_as_torch():
    """A float32 attn_mask with float64 inputs: taken without the weights (SDPA's path),
    refused with them (PyTorch's baddbmm wants one dtype)."""
    ours, theirs = make_pair(embed_dim=8, num_heads=2)
    x = np.random.default_rng(4).normal(size=(3, 2, 8))
    mask = np.random.default_rng(5).normal(size=(3, 3)).astype(np.float32)
    y, _ = ours(*(lucid.tensor(x),) * 3, attn_mask=lucid.tensor(mask), need_weights=False)
    yt, _ = theirs(*(torch.tensor(x),) * 3, attn_mask=torch.tensor(mask), need_weights=False)
    close(y, yt, 1e-11)
    with pytest.raises(RuntimeError, match="Input dtypes must be the same"):
        ours(*(lucid.tensor(x),) * 3, attn_mask=lucid.tensor(mask))


@pytest.mark.parametrize("bool_mask", [True, False])
def test_sdpa_fully_masked_rows_give_zeros_as_torch(bool_mask):
    """PyTorch 2.13's CPU kernels give a fully masked query zero output and gradients."""
    mask = np.ones((3, 5), bool)
    mask[1] = False
    if not bool_mask:
        mask = np.where(mask, 0.0, -np.inf)
    y = run_sdpa((2, 3, 4), (2, 5, 4), (2, 5, 4), mask=mask)
    assert (y[:, 1].detach().numpy() == 0).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("lengths", [(4, 4), (3, 6), (6, 3), (1, 5)])
def test_sdpa_causal(dtype, lengths):
    L, S = lengths
    run_sdpa((2, 2, L, 4), (2, 2, S, 4), (2, 2, S, 5), dtype, is_causal=True)
    run_sdpa((L, 4), (S, 4), (S, 5), dtype, is_causal=True)


@pytest.mark.parametrize("scale", [0.3, -0.7, 2.0])
def test_sdpa_scale(scale):
    run_sdpa((2, 3, 4), (2, 5, 4), (2, 5, 3), scale=scale)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes", [
    ((2, 6, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3)),
    ((2, 6, 3, 4), (2, 3, 5, 4), (2, 2, 5, 3)),  # key and value repeated differently
    ((6, 3, 4), (1, 5, 4), (1, 5, 4)),
    ((2, 4, 3, 4), (2, 4, 5, 4), (2, 4, 5, 4)),  # nothing to repeat
])
def test_sdpa_gqa(dtype, shapes):
    run_sdpa(*shapes, dtype=dtype, enable_gqa=True)


def test_sdpa_gqa_with_mask_and_causal():
    mask = np.random.default_rng(3).normal(size=(1, 6, 3, 5))
    run_sdpa((2, 6, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4), mask=mask, mask_grad=True,
             enable_gqa=True)
    run_sdpa((2, 6, 5, 4), (2, 3, 5, 4), (2, 3, 5, 4), is_causal=True, enable_gqa=True)


def test_sdpa_no_keys_and_no_features():
    run_sdpa((2, 3, 4), (2, 0, 4), (2, 0, 3))
    run_sdpa((2, 3, 0), (2, 5, 0), (2, 5, 3))


def test_sdpa_float16_in_float32():
    rng = np.random.default_rng(4)
    arrays = [rng.normal(size=s).astype("float16") for s in [(2, 3, 8), (2, 5, 8), (2, 5, 4)]]
    mask = rng.normal(size=(3, 5)).astype("float16")
    y = F.scaled_dot_product_attention(*(lucid.tensor(a) for a in arrays),
                                       attn_mask=lucid.tensor(mask))
    yt = torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(a) for a in arrays),
                                                          attn_mask=torch.tensor(mask))
    assert y.dtype == np.float16
    np.testing.assert_allclose(y.numpy().astype("float32"), yt.float().numpy(), atol=2e-3)
    # as computed in float32 and rounded once
    y32 = F.scaled_dot_product_attention(*(lucid.tensor(a.astype("float32")) for a in arrays),
                                         attn_mask=lucid.tensor(mask.astype("float32")))
    np.testing.assert_array_equal(y.numpy(), y32.numpy().astype("float16"))


@pytest.mark.parametrize("kwargs", [
    {},
    {"attn_mask": "bool"},
    {"attn_mask": "float"},
    {"is_causal": True},
    {"enable_gqa": True, "scale": 0.5},
])
def test_sdpa_gradcheck(kwargs):
    kwargs = dict(kwargs)
    q = random_tensor(1, 4, 3, 3)
    k = random_tensor(1, 2 if kwargs.get("enable_gqa") else 4, 4, 3)
    v = random_tensor(*k.shape[:-1], 2)
    inputs = [q, k, v]
    if kwargs.get("attn_mask") == "bool":
        mask = np.random.default_rng(5).random((3, 4)) > 0.5
        mask[0] = False  # a fully masked row: zero gradients, not NaN
        mask[1:, 0] = True
        kwargs["attn_mask"] = lucid.tensor(mask)
    elif kwargs.get("attn_mask") == "float":
        inputs.append(random_tensor(4, 1, 4))
        del kwargs["attn_mask"]
    if len(inputs) == 4:
        gradcheck(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m,
                                                                    **kwargs), inputs)
    else:
        gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kwargs), inputs)


def test_sdpa_device(device):
    rng = np.random.default_rng(6)
    arrays = [rng.normal(size=s).astype("float32") for s in [(2, 2, 3, 4), (2, 2, 5, 4),
                                                             (2, 2, 5, 4)]]
    mask = rng.random((3, 5)) > 0.3
    mask[:, 0] = True
    q, k, v = (lucid.tensor(a, device=device, requires_grad=True) for a in arrays)
    m = lucid.tensor(mask, device=device)
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=m)
    y.sum().backward()
    qt, kt, vt = (torch.tensor(a, requires_grad=True) for a in arrays)
    yt = torch.nn.functional.scaled_dot_product_attention(qt, kt, vt,
                                                          attn_mask=torch.tensor(mask))
    yt.sum().backward()
    assert y.device == q.device and q.grad.device == q.device
    np.testing.assert_allclose(y.detach().cpu().numpy(), yt.detach().numpy(), atol=1e-5)
    for ours, theirs in [(q, qt), (k, kt), (v, vt)]:
        np.testing.assert_allclose(ours.grad.cpu().numpy(), theirs.grad.numpy(), atol=1e-4)
    causal = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=0.5)
    assert causal.device == q.device and causal.shape == (2, 2, 3, 4)


def test_sdpa_dropout_statistics():
    """Keys all alike (uniform weights 1/S) and value = identity: the output is the dropped-out
    weights, each 0 with probability p and 1 / (S (1 - p)) otherwise."""
    p, L, S = 0.3, 100, 200
    q, k = lucid.zeros(2, L, 4), lucid.zeros(2, S, 4)
    v = lucid.eye(S).unsqueeze(0).expand(2, S, S)
    lucid.manual_seed(1)
    y = F.scaled_dot_product_attention(q, k, v, dropout_p=p).numpy()
    values = np.unique(y.round(8))
    np.testing.assert_allclose(values, [0.0, round(1 / (S * (1 - p)), 8)])
    assert abs((y == 0).mean() - p) < 0.01
    assert abs(y.sum(-1).mean() - 1.0) < 0.01  # an unbiased output
    lucid.manual_seed(1)  # lucid's generator decides: the same seed, the same mask
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, v, dropout_p=p).numpy(),
                                  y)
    assert (F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy() == 0).all()
    # the gradient goes through the kept weights only
    vg = lucid.eye(S).unsqueeze(0).expand(2, S, S).contiguous().requires_grad_()
    lucid.manual_seed(2)
    out = F.scaled_dot_product_attention(q, k, vg, dropout_p=p)
    out.sum().backward()
    weights = out.detach().numpy()  # value = identity: the output is the weights
    np.testing.assert_allclose(vg.grad.numpy(), weights.sum(1)[..., None].repeat(S, -1),
                               atol=1e-5)


def test_sdpa_errors():
    r = lucid.randn
    sdpa = F.scaled_dot_product_attention
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set"):
        sdpa(r(2, 3, 4), r(2, 5, 4), r(2, 5, 4), attn_mask=lucid.ones(3, 5).bool(),
             is_causal=True)
    with pytest.raises(RuntimeError, match="Expected attn_mask dtype to be bool or float"):
        sdpa(r(2, 3, 4), r(2, 5, 4), r(2, 5, 4), attn_mask=lucid.ones(3, 5).long())
    with pytest.raises(RuntimeError, match="Expected attn_mask dtype to be bool or float"):
        sdpa(r(2, 3, 4), r(2, 5, 4), r(2, 5, 4), attn_mask=lucid.ones(3, 5).double())
    with pytest.raises(RuntimeError, match="to have the same dtype"):
        sdpa(r(2, 3, 4), r(2, 5, 4).double(), r(2, 5, 4))
    with pytest.raises(RuntimeError, match="at least 2 dimensional"):
        sdpa(r(4), r(4), r(4))
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        sdpa(r(2, 3, 4), r(2, 5, 4), r(2, 5, 4), attn_mask=lucid.ones(7, 2, 3, 5).bool())
    with pytest.raises(RuntimeError, match="does not broadcast"):
        sdpa(r(2, 3, 4), r(2, 5, 4), r(2, 5, 4), attn_mask=lucid.ones(3, 4).bool())
    with pytest.raises(RuntimeError, match="must divide the number of heads in"):
        sdpa(r(2, 6, 3, 4), r(2, 4, 5, 4), r(2, 4, 5, 4), enable_gqa=True)
    with pytest.raises(IndexError, match="Dimension out of range"):
        sdpa(r(3, 4), r(5, 4), r(5, 4), enable_gqa=True)
    with pytest.raises(RuntimeError, match="dropout probability has to be between 0 and 1"):
        sdpa(r(2, 3, 4), r(2, 5, 4), r(2, 5, 4), dropout_p=2.0)
    with pytest.raises(RuntimeError, match="floating-point"):
        sdpa(*(lucid.ones(2, 3, 4).long(),) * 3)


# ---- MultiheadAttention -----------------------------------------------------------------------

def make_pair(dtype="float64", **kwargs):
    """A torch layer and a lucid one holding its weights (loaded strictly: the same keys)."""
    theirs = torch.nn.MultiheadAttention(**kwargs).to(getattr(torch, dtype))
    ours = nn.MultiheadAttention(**kwargs).to(dtype)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def run_mha(ours, theirs, query_shape, kv_shapes=None, dtype="float64", forward=None,
            self_attention=False, seed=0):
    """Forward both (self-attention passes one tensor three times); compare the output, the
    weights, and the gradients of the inputs and of every parameter."""
    forward = dict(forward or {})
    rng = np.random.default_rng(seed)
    q, qt = pair(rng.normal(size=query_shape).astype(dtype))
    if self_attention:
        inputs, inputs_t = [q, q, q], [qt, qt, qt]
    else:
        k, kt = pair(rng.normal(size=kv_shapes[0]).astype(dtype))
        if len(kv_shapes) == 1:  # key is value
            inputs, inputs_t = [q, k, k], [qt, kt, kt]
        else:
            v, vt = pair(rng.normal(size=kv_shapes[1]).astype(dtype))
            inputs, inputs_t = [q, k, v], [qt, kt, vt]
    ours_kw, theirs_kw = {}, {}
    for name, value in forward.items():
        if isinstance(value, np.ndarray):
            ours_kw[name], theirs_kw[name] = pair(value, requires_grad=False)
        else:
            ours_kw[name] = theirs_kw[name] = value
    y, w = ours(*inputs, **ours_kw)
    yt, wt = theirs(*inputs_t, **theirs_kw)
    atol = ATOL[dtype]
    assert y.shape == tuple(yt.shape) and y.dtype == np.dtype(dtype)
    close(y, yt, atol, "output")
    if wt is None:
        assert w is None
    else:
        assert w.shape == tuple(wt.shape)
        close(w, wt, atol, "weights")
    gy = rng.normal(size=y.shape).astype(dtype)
    loss, loss_t = (y * lucid.tensor(gy)).sum(), (yt * torch.tensor(gy)).sum()
    if wt is not None:  # the weights' gradient too
        gw = rng.normal(size=w.shape).astype(dtype)
        loss, loss_t = loss + (w * lucid.tensor(gw)).sum(), loss_t + (wt * torch.tensor(gw)).sum()
    loss.backward()
    loss_t.backward()
    for i, (ours_in, theirs_in) in enumerate(zip(inputs, inputs_t)):
        close(ours_in.grad, theirs_in.grad, atol * 10, f"input {i}")
    theirs_params = dict(theirs.named_parameters())
    ours_params = dict(ours.named_parameters())
    assert set(ours_params) == set(theirs_params)
    for name, param in ours_params.items():
        close(param.grad, theirs_params[name].grad, atol * 10, name)
    return y, w


LAYERS = [
    {},
    {"batch_first": True},
    {"bias": False},
    {"kdim": 3, "vdim": 5},
    {"kdim": 3, "vdim": 5, "batch_first": True, "bias": False},
    {"add_bias_kv": True},
    {"add_zero_attn": True},
    {"add_bias_kv": True, "add_zero_attn": True, "kdim": 3, "vdim": 5},
]


def kv_for(layer, s=5, n=2):
    seq = (n, s) if layer.get("batch_first") else (s, n)
    return [seq + (layer.get("kdim", 8),), seq + (layer.get("vdim", 8),)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("forward", [
    {},
    {"need_weights": False},
    {"average_attn_weights": False},
])
def test_mha_options(dtype, layer, forward):
    ours, theirs = make_pair(dtype, embed_dim=8, num_heads=2, **layer)
    query = (2, 3, 8) if layer.get("batch_first") else (3, 2, 8)
    run_mha(ours, theirs, query, kv_for(layer), dtype, forward)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_self_attention_and_shared_key_value(batch_first, need_weights):
    ours, theirs = make_pair(embed_dim=8, num_heads=4, batch_first=batch_first)
    shape = (2, 4, 8) if batch_first else (4, 2, 8)
    forward = {"need_weights": need_weights}
    run_mha(ours, theirs, shape, forward=forward, self_attention=True)
    run_mha(ours, theirs, shape, [(2, 6, 8) if batch_first else (6, 2, 8)], forward=forward)


def masks(L=3, S=5, n=2, heads=2, seed=0):
    """Masks that leave every query a key (so that no row is NaN)."""
    rng = np.random.default_rng(seed)
    kpm = np.zeros((n, S), bool)
    kpm[0, -2:] = True  # padding (True = ignored)
    attn = rng.random((L, S)) > 0.6
    attn[:, 0] = False  # True = not allowed
    attn3 = rng.random((n * heads, L, S)) > 0.6
    attn3[..., 0] = False
    return {
        "kpm_bool": {"key_padding_mask": kpm},
        "kpm_float": {"key_padding_mask": np.where(kpm, -np.inf, rng.normal(size=(n, S)))},
        "attn_bool": {"attn_mask": attn},
        "attn_float": {"attn_mask": rng.normal(size=(L, S))},
        "attn3_bool": {"attn_mask": attn3},
        "attn3_float": {"attn_mask": rng.normal(size=(n * heads, L, S))},
        "both_bool": {"key_padding_mask": kpm, "attn_mask": attn},
        "both_float": {"key_padding_mask": np.where(kpm, -np.inf, 0.0),
                       "attn_mask": rng.normal(size=(n * heads, L, S))},
        "causal_hint": {"attn_mask": np.triu(np.ones((L, S), bool), 1), "is_causal": True},
        "causal_hint_kpm": {"attn_mask": np.triu(np.ones((L, S), bool), 1), "is_causal": True,
                            "key_padding_mask": kpm},
    }


@pytest.mark.parametrize("mask", list(masks()))
@pytest.mark.parametrize("layer", [{}, {"batch_first": True, "add_bias_kv": True},
                                   {"add_zero_attn": True, "kdim": 3, "vdim": 5}])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_masks(mask, layer, need_weights):
    ours, theirs = make_pair(embed_dim=8, num_heads=2, **layer)
    forward = {**masks()[mask], "need_weights": need_weights}
    query = (2, 3, 8) if layer.get("batch_first") else (3, 2, 8)
    run_mha(ours, theirs, query, kv_for(layer), forward=forward)


@pytest.mark.parametrize("layer", [{}, {"batch_first": True}, {"kdim": 3, "vdim": 5},
                                   {"add_bias_kv": True, "add_zero_attn": True}])
@pytest.mark.parametrize("forward", [
    {},
    {"need_weights": False},
    {"average_attn_weights": False},
    {"key_padding_mask": np.array([False, False, True, False, True])},
    {"attn_mask": np.random.default_rng(7).normal(size=(2, 3, 5))},  # (heads, L, S)
    {"attn_mask": np.triu(np.ones((3, 5), bool), 1), "is_causal": True, "need_weights": False},
])
def test_mha_unbatched(layer, forward):
    ours, theirs = make_pair(embed_dim=8, num_heads=2, **layer)
    kv = [(5, layer.get("kdim", 8)), (5, layer.get("vdim", 8))]
    y, w = run_mha(ours, theirs, (3, 8), kv, forward=forward)
    assert y.shape == (3, 8)


def test_mha_fully_masked_rows_follow_torch():
    """A query with every key masked: NaN with the weights, zeros (SDPA's) without."""
    ours, theirs = make_pair(embed_dim=8, num_heads=2, dropout=0.0)
    kpm = np.zeros((2, 5), bool)
    kpm[0] = True
    x = np.random.default_rng(8).normal(size=(5, 2, 8))
    for need_weights in (True, False):
        y, w = ours(*(lucid.tensor(x),) * 3, key_padding_mask=lucid.tensor(kpm),
                    need_weights=need_weights)
        yt, wt = theirs(*(torch.tensor(x),) * 3, key_padding_mask=torch.tensor(kpm),
                        need_weights=need_weights)
        # NaNs alike
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), atol=1e-12)
        assert np.isnan(y.detach().numpy()[:, 0]).all() == need_weights
        if need_weights:
            np.testing.assert_allclose(w.detach().numpy(), wt.detach().numpy(), atol=1e-12)


def test_mha_state_dict_both_ways():
    for kwargs in [{}, {"kdim": 3, "vdim": 5, "add_bias_kv": True}, {"bias": False}]:
        ours = nn.MultiheadAttention(8, 2, **kwargs)
        theirs = torch.nn.MultiheadAttention(8, 2, **kwargs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert {k: v.shape for k, v in ours.state_dict().items()} == \
            {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
        # lucid's weights into torch's layer: the same outputs
        theirs.load_state_dict({k: torch.tensor(v.detach().numpy())
                                for k, v in ours.state_dict().items()})
        x = np.random.default_rng(9).normal(size=(3, 2, 8)).astype("float32")
        kv = [np.random.default_rng(10).normal(size=(4, 2, kwargs.get(d, 8))).astype("float32")
              for d in ("kdim", "vdim")]
        y, _ = ours(lucid.tensor(x), *(lucid.tensor(a) for a in kv))
        yt, _ = theirs(torch.tensor(x), *(torch.tensor(a) for a in kv))
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), atol=1e-5)


def test_mha_init():
    attn = nn.MultiheadAttention(64, 4, add_bias_kv=True)
    bound = np.sqrt(6 / (64 + 3 * 64))  # xavier_uniform_ over the packed (3E, E) weight
    w = attn.in_proj_weight.detach().numpy()
    assert w.shape == (192, 64) and np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert (attn.in_proj_bias.detach().numpy() == 0).all()
    assert (attn.out_proj.bias.detach().numpy() == 0).all()
    out = attn.out_proj.weight.detach().numpy()
    assert np.abs(out).max() <= 1 / np.sqrt(64)  # Linear's own initialisation
    bias_k = np.concatenate([attn.bias_k.detach().numpy().ravel(),
                             attn.bias_v.detach().numpy().ravel()])
    assert abs(bias_k.std() - np.sqrt(2 / 128)) < 0.05  # xavier_normal_ over (1, 1, E)
    separate = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False)
    assert separate.in_proj_weight is None and separate.in_proj_bias is None
    assert separate.k_proj_weight.shape == (8, 3) and separate.out_proj.bias is None
    assert np.abs(separate.k_proj_weight.detach().numpy()).max() <= np.sqrt(6 / 11)
    assert attn.bias_k.requires_grad and nn.MultiheadAttention(8, 2).bias_k is None
    assert "embed_dim=64, num_heads=4" in repr(attn)


def test_mha_device_dtype(device):
    attn = nn.MultiheadAttention(8, 2, device=device, dtype=lucid.float64, batch_first=True)
    assert attn.in_proj_weight.device == device and attn.out_proj.weight.dtype == lucid.float64
    x = lucid.randn(2, 3, 8, device=device, dtype=lucid.float64, requires_grad=True)
    y, w = attn(x, x, x, key_padding_mask=lucid.tensor([[False] * 3, [False, True, False]],
                                                         device=device))
    y.sum().backward()
    assert y.device == x.device and w.shape == (2, 3, 3) and x.grad.shape == x.shape
    assert w.detach().numpy()[1, :, 1].max() == 0  # the padded key


def test_mha_dropout_statistics():
    p = 0.25
    ours, theirs = make_pair("float32", embed_dim=8, num_heads=2, dropout=p)
    x = lucid.randn(40, 4, 8)
    _, w = ours(x, x, x, average_attn_weights=False)  # the dropped-out weights, as torch's
    w = w.detach().numpy()
    assert abs((w == 0).mean() - p) < 0.02
    kept = w[w != 0]
    assert abs(kept.mean() * (1 - p) - 1 / 40) < 0.002
    # the SDPA path drops out too: two draws differ
    assert not np.array_equal(ours(x, x, x, need_weights=False)[0].detach().numpy(),
                              ours(x, x, x, need_weights=False)[0].detach().numpy())
    ours.eval()  # no dropout outside training: the same as torch's
    theirs.eval()
    xt = torch.tensor(x.numpy())
    for need_weights in (True, False):
        y, w = ours(x, x, x, need_weights=need_weights)
        yt, wt = theirs(xt, xt, xt, need_weights=need_weights)
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), atol=1e-5)


def test_mha_errors():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(8, 3)
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        nn.MultiheadAttention(0, 3)
    attn = nn.MultiheadAttention(8, 2)
    r = lucid.randn
    with pytest.raises(AssertionError, match="does not match value shape"):
        attn(r(3, 2, 8), r(4, 2, 8), r(5, 2, 8))
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D"):
        attn(r(3, 2, 8), r(4, 8), r(4, 8))
    with pytest.raises(AssertionError, match="unbatched 2D or batched 3D"):
        attn(r(3, 2, 2, 8), r(4, 2, 8), r(4, 2, 8))
    with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask is"):
        attn(r(3, 2, 8), r(4, 2, 8), r(4, 2, 8), attn_mask=lucid.zeros(3, 5))
    with pytest.raises(RuntimeError, match="The shape of the 3D attn_mask is"):
        attn(r(3, 2, 8), r(4, 2, 8), r(4, 2, 8), attn_mask=lucid.zeros(3, 3, 4))
    with pytest.raises(AssertionError, match=r"Expected key_padded_mask.shape\[1\] to be 4"):
        attn(r(3, 2, 8), r(4, 2, 8), r(4, 2, 8), key_padding_mask=lucid.zeros(2, 5).bool())
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        attn(r(3, 2, 8), r(4, 2, 8), r(4, 2, 8), is_causal=True)
    with pytest.raises(AssertionError, match="only bool and floating types of attn_mask"):
        attn(r(3, 2, 8), r(4, 2, 8), r(4, 2, 8), attn_mask=lucid.zeros(3, 4).long())
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 8"):
        attn(r(3, 2, 7), r(4, 2, 7), r(4, 2, 7))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        attn(r(3, 2, 8), r(4, 2, 8), r(4, 2, 8), key_padding_mask=lucid.zeros(2, 4).bool(),
             attn_mask=lucid.zeros(3, 4))
    assert any("Support for mismatched key_padding_mask and attn_mask" in str(w.message)
               for w in caught)


def test_exports():
    from lucid.nn.functional.attention import scaled_dot_product_attention
    from lucid.nn.modules.attention import MultiheadAttention

    assert F.scaled_dot_product_attention is scaled_dot_product_attention
    assert "scaled_dot_product_attention" in F.__all__
    assert nn.MultiheadAttention is nn.modules.MultiheadAttention is MultiheadAttention
    assert "MultiheadAttention" in nn.__all__ and "MultiheadAttention" in nn.modules.__all__
