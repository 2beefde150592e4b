"""Binary cross-entropy (from probabilities and from logits), smooth L1, Huber, KL
divergence, cosine similarity, pairwise distance, normalize and one_hot: values and
gradients against torch in float32 and float64 for every reduction, at the extremes (logits
of +-1000, probabilities 0 and 1, zero vectors) and broadcast; gradients against finite
differences; the layers' defaults and reprs; the refusals."""

import warnings

import numpy as np
import pytest

import lucid
import lucid.nn.functional as F
from lucid.testing import gradcheck, random_tensor

torch = pytest.importorskip("torch")
TF = torch.nn.functional

REDUCTIONS = ["none", "mean", "sum"]
DTYPES = [np.float32, np.float64]
TOLERANCES = {np.float32: {"rtol": 2e-5, "atol": 1e-5}, np.float64: {"rtol": 1e-10,
                                                                     "atol": 1e-12}}


def run(m, program, arrays, grads, dtype, device="cpu"):  # noqa: ANN001, ANN201
    """``program(m, functional, *tensors)`` on lucid or torch: its value and the gradients
    of the tensors marked in ``grads`` for the sum of the output times fixed weights."""
    tensors = []
    for a, g in zip(arrays, grads, strict=True):
        data = a.astype(dtype) if a.dtype.kind == "f" else a
        t = m.tensor(data, requires_grad=g) if m is torch else \
            lucid.tensor(data, device=device, requires_grad=g)
        tensors.append(t)
    out = program(m, m.nn.functional, *tensors)
    weights = np.linspace(-1, 2, out.numel()).reshape(tuple(out.shape))
    weights = m.tensor(weights.astype(np.dtype(str(out.dtype).split(".")[-1])))
    if m is lucid:
        weights = weights.to(out.device)
    (out * weights).sum().backward()
    return [out.detach().cpu().numpy()] + [t.grad.cpu().numpy() for t in tensors
                                           if t.requires_grad]


def assert_torch(program, arrays, grads=None, dtype=np.float64, device="cpu",  # noqa: ANN001
                 **tolerance) -> None:
    """lucid's values and gradients equal torch's (NaN and infinities in the same places)."""
    grads = [a.dtype.kind == "f" for a in arrays] if grads is None else grads
    ours = run(lucid, program, arrays, grads, dtype, device)
    theirs = run(torch, program, arrays, grads, dtype)
    assert len(ours) == len(theirs) == 1 + sum(grads)
    for a, b in zip(ours, theirs, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, **(tolerance or TOLERANCES[dtype]))


def both(refusal, error: type[Exception], match: str | None = None) -> None:  # noqa: ANN001
    """``refusal(m)`` raises ``error`` (matching ``match``) with lucid as with torch."""
    for m in (lucid, torch):
        with pytest.raises(error, match=match):
            refusal(m)


RNG = np.random.default_rng(0)

# probabilities at and next to 0 and 1 (clamped logs, the gradient's 1e-12 floor)
PROBS = np.array([[0.0, 1.0, 0.5], [1e-7, 1 - 1e-7, 0.25], [0.0, 1.0, 0.9],
                  [0.3, 0.6, 1e-30]])
LABELS = np.array([[0.0, 1.0, 0.5], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.2, 1.0, 0.0]])
LOGITS = np.array([[-100.0, 100.0, 0.0], [30.0, -30.0, 1e-3], [1000.0, -1000.0, 2.0],
                   [-5.0, 5.0, 0.7]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_matches_torch(reduction: str, dtype: type) -> None:
    """0 and 1 give the clamped loss (100) and PyTorch's finite input gradient (1e12) and
    infinite target gradient; the weight broadcasts (a row, a column, a scalar)."""
    assert_torch(lambda m, f, x, t: f.binary_cross_entropy(x, t, reduction=reduction),
                 [PROBS, LABELS], dtype=dtype)
    for weight in (np.array([0.5, 2.0, 1.5]), np.array([[1.0], [0.0], [3.0], [0.5]]),
                   np.array(2.0)):
        assert_torch(lambda m, f, x, t, w: f.binary_cross_entropy(x, t, w, reduction=reduction),
                     [PROBS, LABELS, weight], [True, True, False], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_matches_torch(reduction: str, dtype: type) -> None:
    """Logits of +-100 and +-1000 give finite losses and gradients; weight and pos_weight
    (per class, last dimension) alone and together; the target's gradient."""
    weight, pos_weight = np.array([[1.0], [0.5], [2.0], [0.0]]), np.array([3.0, 0.5, 1.0])

    def program(w: bool, pw: bool):  # noqa: ANN202
        def call(m, f, x, t):  # noqa: ANN001, ANN202
            return f.binary_cross_entropy_with_logits(
                x, t, m.tensor(weight.astype(dtype)) if w else None, reduction=reduction,
                pos_weight=m.tensor(pos_weight.astype(dtype)) if pw else None)
        return call

    for w, pw in ((False, False), (True, False), (False, True), (True, True)):
        assert_torch(program(w, pw), [LOGITS, LABELS], dtype=dtype)
    finite = run(lucid, program(True, True), [LOGITS, LABELS], [True, True], dtype)
    assert all(np.isfinite(a).all() for a in finite)


DIFFS = np.array([[0.0, 1.0, -1.0, 0.5], [-0.5, 5.0, -5.0, 0.3], [2.5, -2.5, 1e-9, 40.0]])
OTHER = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, -1.0]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_smooth_l1_and_huber_match_torch(reduction: str, dtype: type) -> None:
    """Differences at, inside and beyond beta (delta), beta 0 (the L1 loss), Huber's
    per-element weight (which takes a gradient); a broadcast target warns, as torch's."""
    target = OTHER
    for beta in (1.0, 0.5, 2.5, 0.0):
        assert_torch(lambda m, f, x, t, b=beta: f.smooth_l1_loss(x, t, reduction=reduction,
                                                                 beta=b),
                     [DIFFS, target], dtype=dtype)
    for delta in (1.0, 0.5, 2.5):
        assert_torch(lambda m, f, x, t, d=delta: f.huber_loss(x, t, reduction, d),
                     [DIFFS, target], dtype=dtype)
    weight = RNG.uniform(0, 2, DIFFS.shape)
    assert_torch(lambda m, f, x, t, w: f.huber_loss(x, t, reduction, 0.5, weight=w),
                 [DIFFS, target, weight], dtype=dtype)
    row = RNG.standard_normal(4)
    for name in ("smooth_l1_loss", "huber_loss"):
        with pytest.warns(UserWarning, match="target size"):
            assert_torch(lambda m, f, x, t, n=name: getattr(f, n)(x, t, reduction=reduction),
                         [row, DIFFS], dtype=dtype)


@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["none", "batchmean", "sum", "mean"])
def test_kl_div_matches_torch(reduction: str, dtype: type, log_target: bool) -> None:
    """Targets with zeros (a zero loss there and torch's NaN target gradient), log-targets,
    a target broadcast over the batch; 'mean' warns as torch's."""
    logp = np.log(RNG.dirichlet(np.ones(5), 4))
    target = RNG.dirichlet(np.ones(5), 4)
    target[1, 2] = target[3, 0] = 0.0
    if log_target:
        target = np.log(RNG.dirichlet(np.ones(5), 4))
    row = target[2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 'mean' warns; test_kl_div_warnings checks it
        for t in (target, row):
            assert_torch(lambda m, f, x, t: f.kl_div(x, t, reduction=reduction,
                                                     log_target=log_target),
                         [logp, t], dtype=dtype)


def test_kl_div_warnings_and_batchmean() -> None:
    """'mean' warns (both libraries), the others do not; batchmean is the sum over the
    batch size, and the sum for a 0-d input."""
    x, t = lucid.tensor([[-1.0, -2.0], [-0.5, -1.0]]), lucid.tensor([[0.2, 0.8], [0.5, 0.5]])
    for m, (a, b) in ((lucid, (x, t)), (torch, (torch.tensor(x.numpy()),
                                                torch.tensor(t.numpy())))):
        with pytest.warns(UserWarning, match="batchmean"):
            m.nn.functional.kl_div(a, b)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for reduction in ("batchmean", "sum", "none"):
                m.nn.functional.kl_div(a, b, reduction=reduction)
    total = F.kl_div(x, t, reduction="sum").item()
    assert F.kl_div(x, t, reduction="batchmean").item() == pytest.approx(total / 2)
    scalar = [m.nn.functional.kl_div(m.tensor(-1.0), m.tensor(0.5), reduction="batchmean")
              .item() for m in (lucid, torch)]
    assert scalar[0] == pytest.approx(scalar[1]) and scalar[0] != 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_cosine_similarity_matches_torch(dtype: type) -> None:
    """Zero vectors (similarity 0), vectors shorter than eps (torch's gradient through the
    unclamped norm), broadcasting with dim in the common shape, integer operands."""
    a, b = RNG.standard_normal((4, 5)), RNG.standard_normal((4, 5))
    a[1] = 0.0
    a[2] *= 1e-10
    b[3] = 0.0
    for dim in (1, 0, -1):
        assert_torch(lambda m, f, x, y, d=dim: f.cosine_similarity(x, y, dim=d), [a, b],
                     dtype=dtype)
    assert_torch(lambda m, f, x, y: f.cosine_similarity(x, y, eps=0.5), [a, b], dtype=dtype)
    assert_torch(lambda m, f, x, y: f.cosine_similarity(x, y, dim=-1), [a[0], b], dtype=dtype)
    assert_torch(lambda m, f, x, y: f.cosine_similarity(x, y, dim=0), [a[0], b], dtype=dtype)
    assert_torch(lambda m, f, x, y: f.cosine_similarity(x, y, dim=2),
                 [RNG.standard_normal((2, 1, 5)), RNG.standard_normal((3, 5))], dtype=dtype)
    assert_torch(lambda m, f, x: f.cosine_similarity(x, m.tensor([[1, 0, 2, 0, 3]]), dim=1),
                 [a], dtype=dtype)
    assert_torch(lambda m, f, x, y: f.cosine_similarity(x, y, dim=0),
                 [np.array(2.0), np.array(-3.0)], dtype=dtype)
    same = F.cosine_similarity(lucid.tensor(b[:3] * 1e3), lucid.tensor(b[:3]))
    np.testing.assert_allclose(same.numpy(), 1.0, rtol=1e-6)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_pairwise_distance_matches_torch(dtype: type, keepdim: bool) -> None:
    """Orders 2, 1, 3, 0.5, +-inf; equal vectors (only eps apart); a vector broadcast
    against a batch; 0-d operands."""
    a, b = RNG.standard_normal((4, 5)), RNG.standard_normal((4, 5))
    b[2] = a[2]
    for p in (2.0, 1.0, 3.0, 0.5, float("inf"), float("-inf")):
        assert_torch(lambda m, f, x, y, p=p: f.pairwise_distance(x, y, p, keepdim=keepdim),
                     [a, b], dtype=dtype)
    assert_torch(lambda m, f, x, y: f.pairwise_distance(x, y, eps=0.1, keepdim=keepdim),
                 [a, b[0]], dtype=dtype)
    assert_torch(lambda m, f, x, y: f.pairwise_distance(x, y, keepdim=keepdim),
                 [np.array(1.0), np.array(3.5)], dtype=dtype)
    counts = [m.nn.functional.pairwise_distance(m.tensor(a), m.tensor(b), 0.0).numpy()
              for m in (lucid, torch)]
    np.testing.assert_array_equal(*counts)


@pytest.mark.parametrize("dtype", DTYPES)
def test_normalize_matches_torch(dtype: type) -> None:
    """Orders 2, 1, 3, inf along each dim; a zero vector stays zero (its gradient 1/eps) and
    one whose norm is below eps is divided by eps."""
    x = RNG.standard_normal((4, 5))
    x[1] = 0.0
    x[3] *= 1e-14
    for p in (2.0, 1.0, 3.0, float("inf")):
        for dim in (1, 0, -1):
            assert_torch(lambda m, f, t, p=p, d=dim: f.normalize(t, p, d), [x], dtype=dtype)
    assert_torch(lambda m, f, t: f.normalize(t, eps=0.5), [x], dtype=dtype)
    assert_torch(lambda m, f, t: f.normalize(t, dim=0), [x[0]], dtype=dtype)
    out = lucid.zeros(4, 5, dtype=lucid.float64)
    assert F.normalize(lucid.tensor(x), out=out) is out
    np.testing.assert_allclose(out.numpy(), TF.normalize(torch.tensor(x)).numpy(), rtol=1e-12)


def test_one_hot_matches_torch() -> None:
    """int64 out, no gradient; num_classes inferred or given; any shape, 0-d included;
    an empty input with num_classes; int32 and uint8 indices too (lucid only)."""
    for index, classes in (([0, 2, 1], -1), ([[3], [0]], 5), (2, -1), ([], 3),
                           (np.zeros((2, 0), dtype=np.int64), 4)):
        ours = F.one_hot(lucid.tensor(index, dtype=lucid.int64), classes)
        theirs = TF.one_hot(torch.tensor(index, dtype=torch.int64), classes)
        assert ours.dtype == lucid.int64 and not ours.requires_grad
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    for dtype in (lucid.int32, lucid.uint8, lucid.int16):
        assert F.one_hot(lucid.tensor([1, 0], dtype=dtype)).tolist() == [[0, 1], [1, 0]]


def test_refusals_match_torch() -> None:
    """Each argument torch refuses, lucid refuses with the same exception type."""
    p, t = [0.2, 0.7], [0.0, 1.0]
    both(lambda m: m.nn.functional.binary_cross_entropy(m.tensor(p), m.tensor([0.0, 1.0, 1.0])),
         ValueError, "target size")
    both(lambda m: m.nn.functional.binary_cross_entropy(m.tensor([0.5, 1.5]), m.tensor(t)),
         RuntimeError, "input should be between 0 and 1")
    both(lambda m: m.nn.functional.binary_cross_entropy(m.tensor([0.5, float("nan")]),
                                                        m.tensor(t)),
         RuntimeError, "input should be between 0 and 1")
    both(lambda m: m.nn.functional.binary_cross_entropy(m.tensor(p), m.tensor([-0.1, 1.0])),
         RuntimeError, "target should be between 0 and 1")
    both(lambda m: m.nn.functional.binary_cross_entropy(m.tensor(p), m.tensor(t),
                                                        m.ones(2, requires_grad=True)),
         RuntimeError, "not differentiable with respect to argument 'weight'")
    both(lambda m: m.nn.functional.binary_cross_entropy(m.tensor(p), m.tensor(t, dtype=m.float64)),
         RuntimeError, "Found dtype")
    both(lambda m: m.nn.functional.binary_cross_entropy(m.tensor(p), m.tensor(t), m.ones(3, 2)),
         RuntimeError, "broadcast shape")
    both(lambda m: m.nn.functional.binary_cross_entropy(m.tensor(p), m.tensor(t),
                                                        reduction="avg"),
         ValueError, "avg is not a valid value for reduction")
    logits = lambda m, **kw: m.nn.functional.binary_cross_entropy_with_logits(  # noqa: E731
        m.zeros(4, 3), m.ones(4, 3), **kw)
    both(lambda m: m.nn.functional.binary_cross_entropy_with_logits(m.zeros(2), m.ones(3)),
         ValueError, "must be the same as input size")
    both(lambda m: logits(m, pos_weight=m.ones(2)), RuntimeError, "size of tensor a")
    both(lambda m: logits(m, weight=m.ones(2, 4, 3)), RuntimeError, "broadcast shape")
    both(lambda m: logits(m, pos_weight=m.ones(3, requires_grad=True)), RuntimeError,
         "argument 'pos_weight'")
    both(lambda m: logits(m, weight=m.ones(3, requires_grad=True)), RuntimeError,
         "argument 'weight'")
    both(lambda m: logits(m, reduction="mine"), ValueError, "not a valid value")
    both(lambda m: m.nn.functional.smooth_l1_loss(m.zeros(2), m.ones(2), beta=-1.0),
         RuntimeError, "negative values for beta")
    for delta in (0.0, -1.0):
        both(lambda m, d=delta: m.nn.functional.huber_loss(m.zeros(2), m.ones(2), delta=d),
             RuntimeError, "non-positive values for delta")
    both(lambda m: m.nn.functional.huber_loss(m.zeros(2), m.ones(2), weight=m.ones(1)),
         ValueError, "Weights and input must have the same size")
    both(lambda m: m.nn.functional.huber_loss(m.zeros(2), m.ones(2), reduction="avg"),
         ValueError, "not a valid value")
    with pytest.warns(UserWarning, match="target size"):
        both(lambda m: m.nn.functional.smooth_l1_loss(m.zeros(2), m.ones(3)), RuntimeError,
             "size of tensor a")
    both(lambda m: m.nn.functional.kl_div(m.zeros(2), m.ones(2), reduction="avg"), ValueError,
         "not a valid value")
    both(lambda m: m.nn.functional.kl_div(m.zeros(2, dtype=m.int64), m.ones(2),
                                          reduction="sum"), RuntimeError, "Integral")
    both(lambda m: m.nn.functional.kl_div(m.zeros(2), m.ones(3), reduction="sum"),
         RuntimeError, "size of tensor a")
    both(lambda m: m.nn.functional.cosine_similarity(m.ones(2, 3), m.ones(4, 3)), RuntimeError,
         "size of tensor a \\(2\\) must match the size of tensor b \\(4\\) at non-singleton "
         "dimension 0")
    both(lambda m: m.nn.functional.cosine_similarity(m.ones(3, dtype=m.int64),
                                                     m.ones(3, dtype=m.int64), dim=0),
         RuntimeError, "floating point")
    both(lambda m: m.nn.functional.cosine_similarity(m.ones(3), m.ones(3)), IndexError)
    both(lambda m: m.nn.functional.pairwise_distance(m.ones(2, 3), m.ones(4)), RuntimeError,
         "size of tensor a")
    both(lambda m: m.nn.functional.normalize(m.ones(2, 3, requires_grad=True),
                                             out=m.zeros(2, 3)),
         RuntimeError, "out=")
    both(lambda m: m.nn.functional.normalize(m.ones(3)), IndexError)
    both(lambda m: m.nn.functional.one_hot(m.tensor([0, -1])), RuntimeError, "non-negative")
    both(lambda m: m.nn.functional.one_hot(m.tensor([0, 3]), 3), RuntimeError,
         "smaller than num_classes")
    both(lambda m: m.nn.functional.one_hot(m.tensor([0, 1]), -2), RuntimeError,
         "smaller than num_classes")
    both(lambda m: m.nn.functional.one_hot(m.tensor([], dtype=m.int64)), RuntimeError,
         "empty tensor")
    both(lambda m: m.nn.functional.one_hot(m.tensor([0.0, 1.0])), RuntimeError, "LongTensor")
    both(lambda m: m.nn.functional.one_hot(m.tensor([True])), RuntimeError, "LongTensor")


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning")
def test_deprecated_size_average_and_reduce_as_torch() -> None:
    """PyTorch's legacy arguments: positional as in its signatures, they decide the reduction
    (size_average=False: sum, reduce=False: none) and warn; the layers take them too."""
    p, t = np.array([0.2, 0.7, 0.9]), np.array([0.0, 1.0, 1.0])
    for legacy in ({"size_average": False}, {"reduce": False}, {"size_average": True},
                   {"size_average": False, "reduce": True}):
        values = []
        for m in (lucid, torch):
            f, x, y = m.nn.functional, m.tensor(p), m.tensor(t)
            with pytest.warns(UserWarning, match="size_average and reduce"):
                values.append([
                    f.binary_cross_entropy(x, y, None, *legacy.values()) if len(legacy) == 2
                    else f.binary_cross_entropy(x, y, **legacy),
                    f.binary_cross_entropy_with_logits(x, y, **legacy),
                    f.smooth_l1_loss(x, y, **legacy), f.kl_div(x.log(), y, **legacy),
                    m.nn.BCELoss(**legacy)(x, y), m.nn.SmoothL1Loss(**legacy)(x, y),
                    m.nn.BCEWithLogitsLoss(**legacy)(x, y), m.nn.KLDivLoss(**legacy)(x.log(), y)])
        for ours, theirs in zip(*values, strict=True):
            assert ours.shape == tuple(theirs.shape)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_mixed_float_dtypes_as_torch() -> None:
    """A float32 input with a float64 target (and the reverse): the result in torch's dtype,
    each gradient in its tensor's dtype; Huber takes the target in the input's dtype (torch's
    backward fails there: lucid's gives the target its gradient)."""
    a, b = np.array([0.3, -2.0, 1.5]), np.array([0.5, 0.1, 0.25])
    programs = [lambda f, x, t: f.smooth_l1_loss(x, t, beta=0.5),
                lambda f, x, t: f.smooth_l1_loss(x, t, beta=0.0),
                lambda f, x, t: f.kl_div(x, t, reduction="sum"),
                lambda f, x, t: f.kl_div(x, t, reduction="sum", log_target=True),
                lambda f, x, t: f.binary_cross_entropy_with_logits(x, t)]
    for first, second in ((np.float32, np.float64), (np.float64, np.float32)):
        for index, program in enumerate(programs):
            results = []
            for m in (lucid, torch):
                x = m.tensor(a.astype(first), requires_grad=True)
                t = m.tensor(b.astype(second), requires_grad=True)
                out = program(m.nn.functional, x, t)
                out.backward()
                results.append([out.detach(), x.grad, t.grad])
            for ours, theirs in zip(*results, strict=True):
                if not (index == 4 and first == np.float64):  # torch: the target's dtype
                    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
                np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
        x = lucid.tensor(a.astype(first), requires_grad=True)
        t = lucid.tensor(b.astype(second), requires_grad=True)
        out = F.huber_loss(x, t)
        theirs = TF.huber_loss(torch.tensor(a.astype(first)), torch.tensor(b.astype(second)))
        assert out.dtype == x.dtype and out.item() == pytest.approx(theirs.item(), rel=1e-12)
        out.backward()
        assert x.grad.dtype == x.dtype and t.grad.dtype == t.dtype
        np.testing.assert_allclose(t.grad.numpy(), -x.grad.numpy(), rtol=1e-6)


LAYERS = [
    ("BCELoss", (), {}), ("BCELoss", (), {"reduction": "sum"}),
    ("BCEWithLogitsLoss", (), {}), ("BCEWithLogitsLoss", (), {"reduction": "none"}),
    ("SmoothL1Loss", (), {}), ("SmoothL1Loss", (), {"beta": 0.5, "reduction": "sum"}),
    ("HuberLoss", (), {}), ("HuberLoss", ("sum", 2.0), {}),
    ("KLDivLoss", (), {"reduction": "batchmean"}), ("KLDivLoss", (), {"log_target": True,
                                                                      "reduction": "sum"}),
    ("CosineSimilarity", (), {}), ("CosineSimilarity", (0, 0.5), {}),
    ("PairwiseDistance", (), {}), ("PairwiseDistance", (1.0, 0.0, True), {}),
]
SETTINGS = ["reduction", "beta", "delta", "log_target", "dim", "eps", "norm", "keepdim"]


@pytest.mark.parametrize(("name", "args", "kwargs"), LAYERS)
def test_layers_match_torch(name: str, args: tuple, kwargs: dict) -> None:
    """Each layer has torch's repr, settings and defaults, and gives torch's values and
    gradients."""
    ours, theirs = getattr(lucid.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args,
                                                                                   **kwargs)
    assert repr(ours) == repr(theirs)
    for setting in SETTINGS:
        assert getattr(ours, setting, None) == getattr(theirs, setting, None), setting
    x = RNG.uniform(0.05, 0.95, (3, 4))
    y = RNG.uniform(0.05, 0.95, (3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_torch(lambda m, f, a, b: getattr(m.nn, name)(*args, **kwargs)(a, b), [x, y])


def test_loss_weights_are_buffers_as_torch() -> None:
    weight, pos_weight = np.array([1.0, 2.0]), np.array([0.5, 3.0])
    for m in (lucid, torch):
        assert list(m.nn.BCELoss(m.tensor(weight)).state_dict()) == ["weight"]
        layer = m.nn.BCEWithLogitsLoss(m.tensor(weight), pos_weight=m.tensor(pos_weight))
        assert list(layer.state_dict()) == ["weight", "pos_weight"]
        assert list(m.nn.BCEWithLogitsLoss().state_dict()) == []
        assert [n for n, _ in layer.named_parameters()] == []
    assert_torch(lambda m, f, x, t: m.nn.BCEWithLogitsLoss(m.tensor(weight),
                                                           pos_weight=m.tensor(pos_weight))(x, t),
                 [LOGITS[:, :2], LABELS[:, :2]])
    assert_torch(lambda m, f, x, t: m.nn.BCELoss(m.tensor(weight), reduction="none")(x, t),
                 [PROBS[:, :2], LABELS[:, :2]])


def _probabilities(*shape: int) -> lucid.Tensor:
    return random_tensor(*shape, low=0.05, high=0.95)


def test_gradients_match_finite_differences() -> None:
    """float64 gradients of every function against central differences, for the input and
    the target (and Huber's weight), which torch differentiates too."""
    x, t = _probabilities(3, 4), _probabilities(3, 4)
    weight = random_tensor(3, 4, low=0.5, high=2.0, requires_grad=False)
    for reduction in REDUCTIONS:
        gradcheck(lambda a, b, r=reduction: F.binary_cross_entropy(a, b, weight, reduction=r),
                  (x, t))
    logits, labels = random_tensor(3, 4, low=-4, high=4), _probabilities(3, 4)
    pos_weight = random_tensor(4, low=0.5, high=3.0, requires_grad=False)
    for w, pw in ((None, None), (weight, None), (None, pos_weight), (weight, pos_weight)):
        gradcheck(lambda a, b, w=w, pw=pw: F.binary_cross_entropy_with_logits(
            a, b, w, reduction="sum", pos_weight=pw), (logits, labels))
    a, b = random_tensor(3, 4, low=-3, high=3), random_tensor(4, low=-3, high=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the target broadcasts
        for beta in (1.0, 0.5):
            gradcheck(lambda a, b, s=beta: F.smooth_l1_loss(a, b, beta=s, reduction="none"),
                      (a, b))
        gradcheck(lambda a, b, w: F.huber_loss(a, b, delta=0.7, weight=w),
                  (a, b, random_tensor(3, 4, low=0.5, high=2.0)))
    logp = random_tensor(3, 4, low=-3, high=-0.1)
    gradcheck(lambda a, b: F.kl_div(a, b, reduction="batchmean"), (logp, _probabilities(3, 4)))
    gradcheck(lambda a, b: F.kl_div(a, b, reduction="none", log_target=True),
              (logp, random_tensor(3, 4, low=-3, high=-0.1)))
    u, v = random_tensor(3, 5), random_tensor(5)
    gradcheck(lambda a, b: F.cosine_similarity(a, b, dim=-1), (u, v))
    gradcheck(lambda a, b: F.cosine_similarity(a, b, dim=0), (u, random_tensor(3, 5)))
    for p in (2.0, 1.0, 3.0, float("inf")):
        gradcheck(lambda a, b, p=p: F.pairwise_distance(a, b, p), (u, v))
        gradcheck(lambda a, p=p: F.normalize(a, p, dim=1), (u,))


def test_on_each_device_against_torch(device: str) -> None:
    """Every function on the device (a GPU where there is one) gives torch's values and
    gradients in float32."""
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((3, 4))
    probs, labels = PROBS, LABELS
    programs = [
        (lambda m, f, x, t: f.binary_cross_entropy(x, t), [probs, labels]),
        (lambda m, f, x, t: f.binary_cross_entropy_with_logits(x, t, reduction="none"),
         [LOGITS, labels]),
        (lambda m, f, x, t: f.smooth_l1_loss(x, t, beta=0.5), [a, b]),
        (lambda m, f, x, t: f.huber_loss(x, t, "none", 0.5), [a, b]),
        (lambda m, f, x, t: f.kl_div(x, t, reduction="batchmean"),
         [np.log(probs[1:] + 0.1), labels[1:]]),
        (lambda m, f, x, t: f.cosine_similarity(x, t), [a, b]),
        (lambda m, f, x, t: f.pairwise_distance(x, t), [a, b]),
        (lambda m, f, x: f.normalize(x, dim=0), [a]),
    ]
    for program, arrays in programs:
        assert_torch(program, arrays, dtype=np.float32, device=device)
    hot = F.one_hot(lucid.tensor([2, 0], device=device))
    assert hot.device == device and hot.cpu().tolist() == [[0, 0, 1], [1, 0, 0]]


def test_the_new_names_are_exported() -> None:
    for name in ("binary_cross_entropy", "binary_cross_entropy_with_logits", "smooth_l1_loss",
                 "huber_loss", "kl_div", "cosine_similarity", "pairwise_distance", "normalize",
                 "one_hot"):
        assert name in F.__all__ and callable(getattr(F, name))
    for name in ("BCELoss", "BCEWithLogitsLoss", "SmoothL1Loss", "HuberLoss", "KLDivLoss",
                 "CosineSimilarity", "PairwiseDistance"):
        assert name in lucid.nn.__all__ and name in lucid.nn.modules.__all__
        assert issubclass(getattr(lucid.nn, name), lucid.nn.Module)


def test_smooth_l1_and_huber_refuse_integer_inputs_as_torch() -> None:
    """PyTorch has no integer kernel for either loss (smooth L1 with beta 0 is l1's
    subtraction, which it keeps); lucid computed them with an integer 0.5 (that is, 0)."""
    a, b = np.array([1, 2]), np.array([1, 3])
    for name, kwargs in (("smooth_l1_loss", {}), ("huber_loss", {}),
                         ("huber_loss", {"reduction": "none"})):
        with pytest.raises(RuntimeError):
            getattr(TF, name)(torch.tensor(a), torch.tensor(b), **kwargs)
        with pytest.raises(RuntimeError):
            getattr(F, name)(lucid.tensor(a), lucid.tensor(b), **kwargs)
    with pytest.raises(RuntimeError):
        TF.huber_loss(torch.tensor(a), torch.tensor(b, dtype=torch.float32))
    with pytest.raises(RuntimeError):
        F.huber_loss(lucid.tensor(a), lucid.tensor(b.astype(np.float32)))
    # an integer input with a float target is promoted, and beta=0 keeps integers, as torch's
    mixed = F.smooth_l1_loss(lucid.tensor(a), lucid.tensor(b.astype(np.float32)),
                             reduction="none")
    assert mixed.dtype == lucid.float32 and mixed.tolist() == [0.0, 0.5]
    assert F.smooth_l1_loss(lucid.tensor(a), lucid.tensor(b), beta=0.0,
                            reduction="none").tolist() == [0, 1]
