"""Softmax, log-softmax, SiLU, layer and group norm, negative log-likelihood and
cross-entropy: values and gradients against torch, gradients against finite differences."""

import numpy as np
import pytest

import lucid
import lucid.nn.functional as F
from lucid.testing import gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def both(program, *arrays, dtype=np.float64):  # noqa: ANN001, ANN201
    """``program(m, F, *tensors)`` on lucid and on torch: values and the inputs' gradients
    of the sum of the output times fixed weights, as numpy arrays."""
    results = []
    for m, functional in ((lucid, F), (torch, TF)):
        tensors = [m.tensor(a.astype(dtype), requires_grad=a.dtype.kind == "f") for a in arrays]
        out = program(m, functional, *tensors)
        weights = np.linspace(-1, 2, out.numel()).reshape(tuple(out.shape)).astype(dtype)
        (out * m.tensor(weights)).sum().backward()
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in tensors
                                                 if t.requires_grad])
    return results


def assert_same(results, rtol=1e-10, atol=1e-12):  # noqa: ANN001, ANN201
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((4, 5)) * 3
LOGITS[0, 2] = 40.0  # a peak that would overflow exp without the shift


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax_match_torch(dim: int) -> None:
    assert_same(both(lambda m, f, x: f.softmax(x, dim=dim), LOGITS))
    assert_same(both(lambda m, f, x: f.log_softmax(x, dim=dim), LOGITS))
    assert_same(both(lambda m, f, x: f.silu(x), LOGITS))
    gradcheck(lambda x: F.softmax(x, dim), (lucid.tensor(LOGITS[:, :3] / 3, requires_grad=True),))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        F.softmax(lucid.tensor(LOGITS))
    assert F.softmax(lucid.tensor(LOGITS, dtype=lucid.float32), 1, dtype=lucid.float64).dtype \
        == lucid.float64
    x = lucid.tensor(LOGITS)
    for ours, functional in ((x.softmax(dim), F.softmax(x, dim)),
                             (lucid.softmax(x, dim), F.softmax(x, dim)),
                             (x.log_softmax(dim), F.log_softmax(x, dim)),
                             (lucid.log_softmax(x, dim), F.log_softmax(x, dim))):
        np.testing.assert_array_equal(ours.numpy(), functional.numpy())


def test_layer_and_group_norm_match_torch() -> None:
    x = RNG.standard_normal((2, 6, 3, 4))
    weight, bias = RNG.standard_normal(6), RNG.standard_normal(6)
    assert_same(both(lambda m, f, x, w, b: f.group_norm(x, 3, w, b, eps=1e-3), x, weight, bias))
    assert_same(both(lambda m, f, x: f.group_norm(x, 6), x))
    lw, lb = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    assert_same(both(lambda m, f, x, w, b: f.layer_norm(x, (3, 4), w, b), x, lw, lb))
    assert_same(both(lambda m, f, x: f.layer_norm(x, (4,)), x))
    gradcheck(lambda x: F.group_norm(x, 2), (lucid.tensor(x[:1, :4, :2], requires_grad=True),))
    for refusal in (lambda m, f: f.group_norm(m.ones(2, 6, 3), 4),
                    lambda m, f: f.layer_norm(m.ones(2, 3), [2])):
        for m, f in ((lucid, F), (torch, TF)):
            with pytest.raises(RuntimeError):
                refusal(m, f)


TARGETS = np.array([2, 0, 4, 1])
IGNORED = np.array([2, -100, 4, 1])
CLASS_WEIGHTS = np.array([0.5, 1.0, 2.0, 1.5, 0.2])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_and_nll_match_torch(reduction: str, smoothing: float) -> None:
    """Class indices (with ignore_index and class weights), class probabilities, an image-
    shaped (N, C, H, W) input, an unbatched (C,) one; label smoothing."""
    def ce(targets, weighted=False, **extra):  # noqa: ANN001, ANN202
        def program(m, f, x, *w):  # noqa: ANN001, ANN202
            weight = m.tensor(CLASS_WEIGHTS) if weighted else None
            return f.cross_entropy(x, m.tensor(targets), weight=weight, reduction=reduction,
                                   label_smoothing=smoothing, **extra)
        return program

    for targets in (TARGETS, IGNORED):
        for weighted in (False, True):
            assert_same(both(ce(targets, weighted), LOGITS))
    probabilities = np.exp(LOGITS[::-1]) / np.exp(LOGITS[::-1]).sum(1, keepdims=True)
    assert_same(both(ce(probabilities, True), LOGITS))
    image = RNG.standard_normal((2, 5, 3, 2))
    assert_same(both(ce(RNG.integers(0, 5, (2, 3, 2))), image))
    assert_same(both(ce(np.array(3)), LOGITS[0]))
    assert_same(both(lambda m, f, x: f.nll_loss(f.log_softmax(x, 1), m.tensor(IGNORED),
                                                m.tensor(CLASS_WEIGHTS), reduction=reduction),
                     LOGITS))


def test_cross_entropy_refusals_and_gradient() -> None:
    gradcheck(lambda x: F.cross_entropy(x, lucid.tensor(IGNORED), lucid.tensor(CLASS_WEIGHTS),
                                        label_smoothing=0.1),
              (lucid.tensor(LOGITS / 3, requires_grad=True),))
    for refusal in (lambda m, f: f.cross_entropy(m.ones(2, 3), m.tensor([0, 3])),
                    lambda m, f: f.cross_entropy(m.ones(2, 3), m.tensor([0, 1, 2])),
                    lambda m, f: f.cross_entropy(m.ones(2, 3), m.tensor([0, 1]),
                                                 label_smoothing=1.5)):
        for m, f in ((lucid, F), (torch, TF)):
            with pytest.raises((RuntimeError, ValueError, IndexError)):
                refusal(m, f)
    everything_ignored = [f.cross_entropy(m.ones(2, 3), m.tensor([-100, -100])).item()
                          for m, f in ((lucid, F), (torch, TF))]
    assert np.isnan(everything_ignored).all()


def test_the_new_layers_match_torch() -> None:
    """Each layer against torch's with the same weights: values, the input's gradient and
    the parameters' (LayerNorm, GroupNorm), state-dict keys (a loss's class weights are a
    buffer, as PyTorch's)."""
    x = RNG.standard_normal((2, 6, 3, 4))
    layers = [
        lambda m: m.nn.Softmax(dim=1), lambda m: m.nn.LogSoftmax(dim=-1), lambda m: m.nn.SiLU(),
        lambda m: m.nn.Flatten(), lambda m: m.nn.Flatten(0, 2), lambda m: m.nn.Unflatten(1, (2, 3)),
        lambda m: m.nn.LayerNorm((3, 4)), lambda m: m.nn.LayerNorm(4, bias=False),
        lambda m: m.nn.GroupNorm(3, 6), lambda m: m.nn.GroupNorm(2, 6, affine=False),
    ]
    for make in layers:
        ours, theirs = make(lucid).double(), make(torch).double()
        assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
        for (_, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters()):
            a.data = lucid.tensor(RNG.standard_normal(a.shape)).data  # not the defaults
            b.data = torch.tensor(a.detach().numpy())
        outputs = []
        for layer, m in ((ours, lucid), (theirs, torch)):
            inp = m.tensor(x, requires_grad=True)
            out = layer(inp)
            (out * m.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))).sum() \
                .backward()
            outputs.append([out.detach().numpy(), inp.grad.numpy()] +
                           [p.grad.numpy() for _, p in layer.named_parameters()])
        assert_same(outputs)
    weight = lucid.tensor(CLASS_WEIGHTS)
    assert list(lucid.nn.CrossEntropyLoss(weight).state_dict()) == \
        list(torch.nn.CrossEntropyLoss(torch.tensor(CLASS_WEIGHTS)).state_dict()) == ["weight"]
    for make in (lambda m, w: m.nn.CrossEntropyLoss(w, label_smoothing=0.1, ignore_index=1),
                 lambda m, w: m.nn.NLLLoss(w, reduction="sum"),
                 lambda m, w: m.nn.MSELoss(reduction="none"), lambda m, w: m.nn.L1Loss()):
        values = []
        for m in (lucid, torch):
            loss = make(m, m.tensor(CLASS_WEIGHTS))
            target = m.tensor(TARGETS) if "LL" in type(loss).__name__ or \
                "Entropy" in type(loss).__name__ else m.tensor(LOGITS[::-1].copy())
            values.append(loss(m.tensor(LOGITS), target).numpy())
        np.testing.assert_allclose(*values, rtol=1e-12)


def test_gradient_clipping_matches_torch() -> None:
    """clip_grad_norm_ (orders 2, 1 and inf; a norm under the limit leaves the gradients)
    returns the total norm and scales as torch's; clip_grad_value_ clamps; a non-finite norm
    is refused when asked."""
    grads = [RNG.standard_normal((3, 4)), RNG.standard_normal(5)]
    for norm_type, max_norm in ((2.0, 1.0), (1.0, 2.5), (float("inf"), 0.5), (2.0, 100.0)):
        results = []
        for m in (lucid, torch):
            params = [m.zeros(*g.shape, dtype=m.float64, requires_grad=True) for g in grads]
            for p, g in zip(params, grads):
                p.grad = m.tensor(g)
            total = m.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
            results.append([total.numpy()] + [p.grad.numpy() for p in params])
        assert_same(results, rtol=1e-9)
    for m in (lucid, torch):
        p = m.zeros(2, requires_grad=True)
        p.grad = m.tensor([3.0, -5.0])
        m.nn.utils.clip_grad_value_([p], 4.0)
        assert p.grad.tolist() == [3.0, -4.0]
        p.grad = m.tensor([float("nan"), 1.0])
        with pytest.raises(RuntimeError, match="non-finite"):
            m.nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_erf_and_gelu_match_torch() -> None:
    """erf to within 2e-15 of torch's over its whole range (tiny, large, infinite, NaN)
    with its gradient; GELU exact and tanh-approximated, values and gradients, and the
    layer; an unknown approximation refused."""
    x = np.concatenate([np.linspace(-7, 7, 20001), [1e-300, -2.0, 2.0, 30.0, -1e300]])
    ours = lucid.tensor(x).erf().numpy()
    theirs = torch.erf(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=2e-15)
    assert lucid.tensor(1e-300).erf().item() == pytest.approx(torch.erf(torch.tensor(1e-300))
                                                              .item(), rel=1e-14)
    special = lucid.tensor([np.inf, -np.inf, np.nan]).erf().tolist()
    assert special[:2] == [1.0, -1.0] and np.isnan(special[2])
    assert lucid.erf(lucid.tensor([0.5], dtype=lucid.float32)).dtype == lucid.float32
    gradcheck(lambda t: t.erf(), (lucid.tensor(np.linspace(-3, 3, 7), requires_grad=True),))
    sample = np.linspace(-6, 6, 101)
    for kind in ("none", "tanh"):
        assert_same(both(lambda m, f, t, a=kind: f.gelu(t, approximate=a), sample),
                    rtol=1e-12, atol=1e-14)
        assert_same(both(lambda m, f, t, a=kind: m.nn.GELU(a)(t), sample), rtol=1e-12,
                    atol=1e-14)
    with pytest.raises(RuntimeError):
        F.gelu(lucid.ones(1), approximate="sigmoid")


def test_embedding_matches_torch() -> None:
    """Rows looked up with repeats (gradients add), the padding row's gradient zero (also
    given from the end), the layer's padding row starting at zero and its table from N(0, 1);
    float indices and a padding index out of range refused."""
    table = RNG.standard_normal((5, 3))
    index = np.array([[1, 0, 4], [0, 0, 2]])
    for padding in (None, 0, -1):
        assert_same(both(lambda m, f, w, p=padding: f.embedding(m.tensor(index), w,
                                                                 padding_idx=p), table))
    layer = lucid.nn.Embedding(1000, 8, padding_idx=3)
    assert layer.weight[3].tolist() == [0.0] * 8 and layer(lucid.tensor([3, 4])).shape == (2, 8)
    assert abs(float(layer.weight.detach().numpy().std()) - 1) < 0.05
    for refusal in (lambda m: m.nn.functional.embedding(m.tensor([0.0]), m.ones(2, 2)),
                    lambda m: m.nn.Embedding(3, 2, padding_idx=3)):
        for m in (lucid, torch):
            with pytest.raises((RuntimeError, AssertionError)):
                refusal(m)


def test_review_findings_match_torch() -> None:
    """Found by a differential review (each failed before): unbatched LayerNorm; float16
    layer and group norm (variance overflowing to zeros) and log-softmax computed in
    float32; empty softmax dims and empty group-norm batches; every target ignored gives a
    NaN loss with a zero gradient, and a NaN at an ignored place stays out; padding_idx
    keeps infinities; class weights of the wrong length refused; Unflatten's dim checked;
    GroupNorm's bias= and the norms' reprs; Embedding's PyTorch arguments and
    from_pretrained; clip_grad_norm_ with "inf"; erf(-0.0) is -0.0."""
    big = (RNG.standard_normal((2, 4)) * 300).astype(np.float16)

    def program(m):  # noqa: ANN001, ANN202 - lucid or torch
        f = m.nn.functional
        out = [m.nn.LayerNorm(3).double()(m.tensor([1.0, 2.0, 4.0], dtype=m.float64)),
               f.layer_norm(m.tensor(big), (4,)), f.group_norm(m.tensor(big).reshape(2, 4, 1), 2),
               f.log_softmax(m.tensor(np.linspace(-20, 20, 30).astype(np.float16)), 0),
               f.softmax(m.zeros(3, 0), 1), f.group_norm(m.zeros(0, 4, 2), 2)]
        for smoothing in (0.0, 0.1):
            x = m.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
            f.cross_entropy(x, m.tensor([-100]), label_smoothing=smoothing).backward()
            out.append(x.grad)
            nan_row = m.tensor([[1.0, 2.0], [float("nan"), 0.0]])
            out.append(f.cross_entropy(nan_row, m.tensor([0, -100]), reduction="sum",
                                       label_smoothing=smoothing))
        table = m.tensor([[float("inf"), 1.0], [2.0, 3.0]])
        out.append(f.embedding(m.tensor([0, 1]), table, padding_idx=1, max_norm=None))
        p = m.zeros(2, requires_grad=True)
        p.grad = m.tensor([3.0, -4.0])
        out.append(m.nn.utils.clip_grad_norm_(p, 1.0, "inf"))
        out.append(m.tensor(-0.0).erf())
        frozen = m.nn.Embedding.from_pretrained(m.ones(3, 2), padding_idx=0)
        return ([np.nan_to_num(t.detach().numpy().astype(np.float64), nan=-7.0).tolist()
                 for t in out],
                [str(m.nn.LayerNorm(4)), str(m.nn.GroupNorm(2, 4, bias=False)),
                 frozen.weight.requires_grad, np.signbit(out[-1].numpy()).item()])

    ours, theirs = program(lucid), program(torch)
    assert ours[1] == theirs[1]
    for a, b in zip(ours[0], theirs[0], strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=1e-6)  # float16 rows: a rounding
    for refusal in (lambda m: m.nn.Unflatten(2, (2, 2))(m.zeros(4, 6)),
                    lambda m: m.nn.functional.nll_loss(m.zeros(2, 3), m.tensor([0, 1]),
                                                       weight=m.ones(2))):
        for m in (lucid, torch):
            with pytest.raises((IndexError, RuntimeError)):
                refusal(m)
