"""Every core tensor op: float64 numerical gradients, and PyTorch (values and gradients)."""

from collections.abc import Callable

import numpy as np
import pytest

import lucid
from lucid.testing import gradcheck


@pytest.fixture
def torch():
    return pytest.importorskip("torch")

TOLERANCE = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}

# name -> (function applied to both libraries, input shapes, positive inputs only)
CASES: dict[str, tuple[Callable, list[tuple[int, ...]], bool]] = {
    "add_broadcast": (lambda a, b: a + b, [(3, 4), (4,)], False),
    "sub_broadcast": (lambda a, b: a - b, [(2, 1, 4), (3, 1)], False),
    "mul_broadcast": (lambda a, b: a * b, [(2, 3, 4), (1, 3, 1)], False),
    "div": (lambda a, b: a / b, [(3, 4), (3, 4)], True),
    "rsub_scalar": (lambda a: 2.0 - a, [(3,)], False),
    "rdiv_scalar": (lambda a: 2.0 / a, [(3,)], True),
    "pow_scalar": (lambda a: a**3, [(3, 4)], False),
    "pow_fractional": (lambda a: a**0.5, [(3, 4)], True),
    "pow_tensor": (lambda a, b: a**b, [(3, 4), (3, 4)], True),
    "rpow": (lambda a: 2.0**a, [(5,)], False),
    "neg": (lambda a: -a, [(3,)], False),
    "exp": (lambda a: a.exp(), [(3, 4)], False),
    "log": (lambda a: a.log(), [(3, 4)], True),
    "sqrt": (lambda a: a.sqrt(), [(3, 4)], True),
    "abs": (lambda a: a.abs(), [(3, 4)], False),
    "clamp": (lambda a: a.clamp(-0.3, 0.4), [(4, 5)], False),
    "clamp_min": (lambda a: a.clamp(min=0.1), [(4, 5)], False),
    "maximum": (lambda a, b: a.maximum(b), [(3, 4), (4,)], False),
    "minimum": (lambda a, b: a.minimum(b), [(3, 4), (3, 4)], False),
    "relu": (lambda a: a.relu(), [(3, 4)], False),
    "sigmoid": (lambda a: a.sigmoid(), [(3, 4)], False),
    "tanh": (lambda a: a.tanh(), [(3, 4)], False),
    "matmul_2d": (lambda a, b: a @ b, [(3, 4), (4, 5)], False),
    "matmul_batched_broadcast": (lambda a, b: a @ b, [(2, 3, 4), (4, 2)], False),
    "matmul_vec_mat": (lambda a, b: a @ b, [(4,), (4, 3)], False),
    "matmul_mat_vec": (lambda a, b: a @ b, [(2, 3, 4), (4,)], False),
    "sum_all": (lambda a: a.sum(), [(3, 4)], False),
    "sum_dim": (lambda a: a.sum(1), [(2, 3, 4)], False),
    "sum_dims_keepdim": (lambda a: a.sum((0, 2), keepdim=True), [(2, 3, 4)], False),
    "mean_neg_dim": (lambda a: a.mean(-1), [(2, 3, 4)], False),
    "var_unbiased": (lambda a: a.var(1), [(3, 5)], False),
    "var_biased": (lambda a: a.var(1, unbiased=False, keepdim=True), [(3, 5)], False),
    "var_correction": (lambda a: a.var((0, 1), correction=0), [(3, 5, 2)], False),
    "std": (lambda a: a.std(), [(3, 5)], False),
    "amax": (lambda a: a.amax(1), [(3, 5)], False),
    "amin_keepdim": (lambda a: a.amin(0, keepdim=True), [(3, 5)], False),
    "max_all": (lambda a: a.max(), [(3, 5)], False),
    "max_dim_values": (lambda a: a.max(1)[0], [(3, 5)], False),
    "min_dim_keepdim": (lambda a: a.min(0, keepdim=True)[0], [(3, 5)], False),
    "reshape": (lambda a: a.reshape(4, 3) * 2, [(3, 4)], False),
    "view_minus_one": (lambda a: a.view(-1), [(3, 4)], False),
    "permute": (lambda a: a.permute(2, 0, 1), [(2, 3, 4)], False),
    "transpose": (lambda a: a.transpose(0, 2), [(2, 3, 4)], False),
    "flatten": (lambda a: a.flatten(1), [(2, 3, 4)], False),
    "squeeze": (lambda a: a.squeeze(1), [(2, 1, 4)], False),
    "unsqueeze": (lambda a: a.unsqueeze(-1), [(2, 4)], False),
    "expand": (lambda a: a.expand(3, -1, 4), [(2, 1)], False),
    "flip": (lambda a: a.flip((0, 1)), [(2, 3)], False),
    "getitem_slice": (lambda a: a[1:, ::2], [(3, 5)], False),
    "getitem_int_none": (lambda a: a[1, None, :, 2], [(3, 4, 5)], False),
    "getitem_repeated_index": (lambda a: a[[0, 0, 2]], [(3, 4)], False),
    "getitem_ellipsis": (lambda a: a[..., 1], [(2, 3, 4)], False),
    "t": (lambda a: a.t(), [(3, 4)], False),
    "reciprocal": (lambda a: a.reciprocal(), [(3, 4)], True),
    "rsqrt": (lambda a: a.rsqrt(), [(3, 4)], True),
    "sin": (lambda a: a.sin(), [(3, 4)], False),
    "cos": (lambda a: a.cos(), [(3, 4)], False),
    "floor": (lambda a: (a * 3).floor() * a, [(3, 4)], False),
    "ceil": (lambda a: (a * 3).ceil() * a, [(3, 4)], False),
    "trunc": (lambda a: (a * 3).trunc() * a, [(3, 4)], False),
    "round": (lambda a: (a * 3).round() * a, [(3, 4)], False),
    "round_decimals": (lambda a: a.round(decimals=1) + a, [(3, 4)], False),
    "sign": (lambda a: a.sign() * a, [(3, 4)], False),
    "prod_all": (lambda a: a.prod(), [(3, 4)], False),
    "prod_dim_keepdim": (lambda a: a.prod(1, keepdim=True), [(2, 3, 4)], False),
    "logsumexp": (lambda a: a.logsumexp(1), [(3, 5)], False),
    "logsumexp_dims_keepdim": (lambda a: a.logsumexp((0, 2), keepdim=True), [(2, 3, 4)], False),
    "norm": (lambda a: a.norm(), [(3, 4)], False),
    "norm_1_dims": (lambda a: a.norm(1, (0, 2)), [(2, 3, 4)], False),
    "norm_3_keepdim": (lambda a: a.norm(3, 1, keepdim=True), [(3, 4)], False),
    "norm_inf": (lambda a: a.norm(float("inf"), 0), [(3, 4)], False),
    "norm_half": (lambda a: a.norm(0.5, 1), [(3, 4)], True),
    "norm_1_5_all": (lambda a: a.norm(1.5), [(3, 4)], False),
    "split": (lambda a: a.split(2, 1)[1] * 2, [(3, 5)], False),
    "split_sections": (lambda a: a.split([1, 3], -1)[1] ** 2, [(2, 4)], False),
    "chunk": (lambda a: a.chunk(3, 0)[2] * 3, [(7, 2)], False),
    "repeat": (lambda a: a.repeat(2, 1, 3) * a.repeat(2, 1, 3), [(2, 3)], False),
    "cumsum": (lambda a: a.cumsum(1) ** 2, [(3, 4)], False),
    "sort_values": (lambda a: a.sort(1)[0] * a, [(3, 4)], False),
    "sort_descending": (lambda a: a.sort(0, descending=True)[0].exp(), [(3, 4)], False),
    "topk_values": (lambda a: a.topk(2, 0)[0] ** 2, [(4, 3)], False),
    "topk_smallest": (lambda a: a.topk(3, largest=False)[0] ** 2, [(2, 5)], False),
    "tril": (lambda a: a.tril() * a, [(2, 3, 4)], False),
    "triu_diagonal": (lambda a: a.triu(-1).exp(), [(4, 3)], False),
    "roll_flat": (lambda a: a.roll(5) * a, [(3, 4)], False),
    "roll_dims": (lambda a: a.roll((1, -3), (0, 2)) ** 2, [(2, 3, 4)], False),
    "narrow": (lambda a: a.narrow(1, -3, 2) ** 2, [(3, 4)], False),
    "masked_fill": (lambda a: a.masked_fill(a > 0.2, 0.5) * a, [(3, 4)], False),
}


def _inputs(shapes, positive, dtype):
    rng = np.random.default_rng(1)
    arrays = []
    for shape in shapes:
        a = rng.uniform(0.5, 2.0, shape) if positive else rng.uniform(-1.0, 1.0, shape)
        arrays.append(a.astype(dtype))
    return arrays


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(CASES))
def test_op_matches_torch(name: str, dtype, device: str, torch) -> None:
    fn, shapes, positive = CASES[name]
    arrays = _inputs(shapes, positive, dtype)
    ours = [lucid.tensor(a, device=device, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = fn(*ours), fn(*theirs)
    np.testing.assert_allclose(out.detach().cpu().numpy(), ref.detach().numpy(), **TOLERANCE[dtype])
    assert out.dtype == np.dtype(dtype)
    seed = np.random.default_rng(2).standard_normal(ref.shape).astype(dtype)
    out.backward(lucid.tensor(seed, device=device))
    ref.backward(torch.tensor(seed))
    for mine, reference in zip(ours, theirs):
        assert mine.grad.dtype == np.dtype(dtype)
        np.testing.assert_allclose(
            mine.grad.cpu().numpy(), reference.grad.numpy(), **TOLERANCE[dtype]
        )


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("widths", [(1, 2), (2, 1, 0, 3), (1, 1, 1, 1),
                                    # negative widths crop (refused but in constant mode
                                    # before): circular wraps the cropped input, reflect
                                    # and replicate pad the whole input and then crop
                                    (-1, 2), (3, -2), (2, -1, -2, 1), (-2, -1, 1, -3)])
def test_pad_matches_torch(mode: str, widths, device: str, torch) -> None:
    # PyTorch's non-constant modes want (N, C) plus exactly the padded dims
    shape = (2, 3, 5, 6)[: 2 + len(widths) // 2]
    array = np.random.default_rng(3).standard_normal(shape)
    ours = lucid.tensor(array, device=device, requires_grad=True)
    theirs = torch.tensor(array, requires_grad=True)
    out = lucid.functional.pad(ours, widths, mode=mode)
    ref = torch.nn.functional.pad(theirs, widths, mode=mode)
    np.testing.assert_allclose(out.detach().cpu().numpy(), ref.detach().numpy())
    seed = np.random.default_rng(4).standard_normal(ref.shape)
    out.backward(lucid.tensor(seed, device=device))
    ref.backward(torch.tensor(seed))
    np.testing.assert_allclose(ours.grad.cpu().numpy(), theirs.grad.numpy(), atol=1e-12)


def test_pad_negative_crops_like_torch(torch) -> None:
    array = np.arange(20.0).reshape(1, 4, 5)
    out = lucid.functional.pad(lucid.tensor(array), (-1, 2, 1, -2), value=7.0)
    ref = torch.nn.functional.pad(torch.tensor(array), (-1, 2, 1, -2), value=7.0)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_circular_pad_wraps_once_at_most() -> None:
    x = lucid.zeros(1, 2, 7)
    with pytest.raises(ValueError, match=r"circular padding 5 wraps more than once around the "
                                         r"padded dimension \(2 after cropping\)"):
        lucid.functional.pad(x, (-5, 5), mode="circular")


def test_cat_stack_where_match_torch(device: str, torch) -> None:
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    la, lb = (lucid.tensor(x, device=device, requires_grad=True) for x in (a, b))
    ta, tb = (torch.tensor(x, requires_grad=True) for x in (a, b))
    cond = a > 0
    mine = (lucid.cat([la, lb], 1) * 2).sum() + (lucid.stack([la, lb], 1) ** 2).sum() + \
        lucid.where(lucid.tensor(cond, device=device), la, lb * 3).sum()
    ref = (torch.cat([ta, tb], 1) * 2).sum() + (torch.stack([ta, tb], 1) ** 2).sum() + \
        torch.where(torch.tensor(cond), ta, tb * 3).sum()
    mine.backward()
    ref.backward()
    np.testing.assert_allclose(mine.item(), ref.item())
    np.testing.assert_allclose(la.grad.cpu().numpy(), ta.grad.numpy())
    np.testing.assert_allclose(lb.grad.cpu().numpy(), tb.grad.numpy())


def test_max_dim_indices_match_torch(torch) -> None:
    array = np.random.default_rng(6).standard_normal((4, 7))
    values, indices = lucid.tensor(array).max(1)
    ref_values, ref_indices = torch.tensor(array).max(1)
    np.testing.assert_array_equal(indices.numpy(), ref_indices.numpy())
    np.testing.assert_array_equal(values.numpy(), ref_values.numpy())
    assert lucid.tensor(array).argmax().item() == torch.tensor(array).argmax().item()


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_numerical_gradient(name: str, device: str) -> None:
    fn, shapes, positive = CASES[name]
    inputs = [lucid.tensor(a, device=device, requires_grad=True)
              for a in _inputs(shapes, positive, np.float64)]
    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_numerical_gradient(mode: str, device: str) -> None:
    x = lucid.tensor(np.random.default_rng(7).standard_normal((1, 2, 4, 5)), device=device,
                     requires_grad=True)
    assert gradcheck(lambda a: lucid.functional.pad(a, (2, 1, 1, 3), mode=mode), [x])


def test_join_and_where_numerical_gradient(device: str) -> None:
    a, b = (lucid.tensor(x, device=device, requires_grad=True)
            for x in _inputs([(2, 3), (2, 3)], False, np.float64))
    cond = lucid.tensor(np.array([[True, False, True], [False, False, True]]), device=device)
    assert gradcheck(lambda x, y: lucid.cat([x, y * 2], 0) ** 2, [a, b])
    assert gradcheck(lambda x, y: lucid.stack([x, y], -1).exp(), [a, b])
    assert gradcheck(lambda x, y: lucid.where(cond, x * y, y), [a, b])


def test_gradcheck_catches_a_wrong_backward() -> None:
    class WrongSquare(lucid.autograd.Function):
        def forward(self, a):
            self.save_for_backward(a)
            return a * a

        def backward(self, gy):
            return gy * self.saved_tensors[0]  # missing the factor 2

    x = lucid.tensor(np.array([0.5, -1.5]), requires_grad=True)
    with pytest.raises(AssertionError, match="differs from finite differences"):
        gradcheck(lambda a: WrongSquare.apply(a), [x])


@pytest.mark.parametrize("mode,numpy_mode", [("constant", "constant"), ("reflect", "reflect"),
                                             ("replicate", "edge"), ("circular", "wrap")])
def test_pad_array_matches_numpy_pad(mode: str, numpy_mode: str) -> None:
    """The one-copy padding routine gives numpy.pad's values, corners and edge cases included."""
    from lucid.ops.shape import pad_array

    a = np.random.default_rng(1).random((2, 3, 5, 4))
    for widths in ([(0, 0), (0, 0), (1, 1), (1, 1)], [(0, 0), (1, 2), (4, 0), (0, 3)],
                   [(1, 0), (0, 0), (0, 4), (3, 3)], [(0, 0), (0, 0), (0, 0), (0, 0)]):
        np.testing.assert_array_equal(pad_array(np, a, widths, mode), np.pad(a, widths, numpy_mode),
                                      err_msg=str(widths))


@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0, -1.5], [0.0, 2.0, 0.0, 4.0], [0.0], []])
def test_prod_gradient_at_zeros_matches_torch(values, torch) -> None:
    """The gradient of a product is the product of the others, exactly, even at zeros
    (dividing the product by the element would give NaN there)."""
    x = lucid.tensor(values, dtype=lucid.float64, requires_grad=True)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    x.prod().backward()
    t.prod().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "bool"])
def test_integer_results_match_torch(dtype: str, torch) -> None:
    """Products of integers and bools are int64, all/any are bool (uint8 stays uint8),
    sign keeps the dtype, and the rounding functions pass integers through."""
    array = np.array([[3, 0, 2], [1, 5, 4]]).astype(dtype)
    ours, theirs = lucid.tensor(array), torch.tensor(array)
    programs = {
        "prod": lambda x: x.prod(), "prod_dim": lambda x: x.prod(1),
        "all": lambda x: x.all(), "any_dim": lambda x: x.any(0, keepdim=True),
        "sign": lambda x: x.sign(),
    }
    if dtype != "bool":
        programs.update(floor=lambda x: x.floor(), round=lambda x: x.round(),
                        trunc=lambda x: x.trunc(), ceil=lambda x: x.ceil())
    for name, fn in programs.items():
        out, ref = fn(ours), fn(theirs)
        assert str(out.dtype) == str(ref.dtype).removeprefix("torch."), name
        np.testing.assert_array_equal(out.numpy(), ref.numpy(), err_msg=name)


def test_rounding_refusals_match_torch(torch) -> None:
    for m in (lucid, torch):
        with pytest.raises(RuntimeError, match="not implemented for"):
            m.tensor([True]).floor()
        with pytest.raises(RuntimeError, match="not implemented for"):
            m.tensor([15, 25]).round(decimals=-1)
        with pytest.raises(RuntimeError, match="floating point"):
            m.tensor([1, 2]).norm()


def test_special_values_match_torch(torch) -> None:
    """Round half to even, sign 0 at NaN, logsumexp of infinities and of large values,
    isnan/isinf/isfinite."""
    values = [np.nan, -np.inf, np.inf, 2.5, -0.5, 1e30, -0.0]
    ours, theirs = lucid.tensor(values), torch.tensor(values)
    for name in ("round", "sign", "floor", "ceil", "trunc", "isnan", "isinf", "isfinite",
                 "reciprocal", "sin", "cos"):
        np.testing.assert_allclose(getattr(ours, name)().numpy(),
                                   getattr(theirs, name)().numpy(), rtol=1e-6, err_msg=name)
    rows = [[-np.inf, -np.inf], [np.inf, 1.0], [1000.0, 1000.0], [-1000.0, 5.0]]
    np.testing.assert_allclose(lucid.tensor(rows).logsumexp(1).numpy(),
                               torch.tensor(rows).logsumexp(1).numpy())


def test_split_chunk_repeat_match_torch(torch) -> None:
    array = np.arange(42.0).reshape(6, 7)
    ours, theirs = lucid.tensor(array), torch.tensor(array)
    for fn in (lambda x: x.split(3, 1), lambda x: x.split([2, 0, 4], 0),
               lambda x: x.chunk(4, 0), lambda x: x.chunk(3, -1), lambda x: x.chunk(10, 1),
               lambda x: (x.repeat(1, 2),), lambda x: (x.repeat(2, 1, 3),),
               lambda x: (x[0].repeat(2, 2),)):
        out, ref = fn(ours), fn(theirs)
        assert [p.shape for p in out] == [tuple(p.shape) for p in ref]
        for a, b in zip(out, ref):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert ours.split(2)[1]._base is not None  # pieces are views, as torch's
    for x in (ours, theirs):
        with pytest.raises(RuntimeError, match="sum exactly"):
            x.split([2, 2], 0)
        with pytest.raises(RuntimeError, match="can not be smaller"):
            x.repeat(2)


def test_linspace_and_eye_match_torch(torch) -> None:
    for args in ((0, 1, 5), (-2.5, 7, 13), (3, 3, 1), (1, 0, 0)):
        np.testing.assert_allclose(lucid.linspace(*args).numpy(),
                                   torch.linspace(*args).numpy(), rtol=1e-6)
        assert lucid.linspace(*args).dtype == np.float32
    np.testing.assert_array_equal(lucid.eye(3).numpy(), torch.eye(3).numpy())
    np.testing.assert_array_equal(lucid.eye(2, 4, dtype=lucid.int64).numpy(),
                                  torch.eye(2, 4, dtype=torch.int64).numpy())
    assert lucid.eye(2, requires_grad=True).requires_grad


def test_gather_sort_topk_cumsum_match_torch(torch) -> None:
    """Indices (sort's ties kept in order, NaN the largest; topk's order among ties is
    PyTorch's implementation's, so not compared), repeated gather indices adding their
    gradients, integer cumsum as int64, and PyTorch's refusals."""
    array = np.array([[3.0, 1.0, 2.0, 1.0], [np.nan, 0.0, 5.0, 5.0], [2.0, 2.0, 2.0, -1.0]])
    index = np.array([[0, 0, 3], [3, 1, 1], [2, 2, 2]])
    distinct = np.array([[3.0, 1.0, 2.0, 0.5], [np.nan, 0.0, 5.0, 4.0], [2.5, 2.0, 1.5, -1.0]])
    results = []
    for m in (lucid, torch):
        x = m.tensor(array, requires_grad=True)
        got = [x.sort(1).indices, x.sort(0, descending=True).indices,
               x.sort(dim=1, descending=True, stable=True).values, x.argsort(dim=1, stable=True),
               m.tensor(distinct).topk(2).indices,
               m.tensor(distinct).topk(3, 0, largest=False).indices,
               x.gather(1, m.tensor(index)), x.gather(0, m.tensor(index[:2, :2] % 3)),
               m.tensor(array[1:, 1:]).cumsum(0), m.tensor(index).to(m.int32).cumsum(1)]
        x.gather(1, m.tensor(index)).sum().backward()
        results.append([t.detach().numpy() for t in got] + [x.grad.numpy()])
        for index_, dim in (([[4]], 1), ([[-1]], 1), ([[0.0]], 1), ([0], 0)):
            with pytest.raises(RuntimeError):
                x.gather(dim, m.tensor(index_))
        with pytest.raises(RuntimeError):
            x.topk(5)
    for ours, theirs in zip(*results, strict=True):
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)


def test_scatter_and_scatter_add_match_torch(torch) -> None:
    """Values and gradients (scatter's written places take no gradient from the input,
    scatter_add's repeated places add up; src beyond the index's extent gets none), the
    in-place forms, a number as src, 0-d tensors, and PyTorch's refusals."""
    rng = np.random.default_rng(5)
    base = rng.standard_normal((4, 5))
    src = rng.standard_normal((3, 6))
    repeats = rng.integers(0, 4, (3, 5))  # along dim 0, repeated: for scatter_add
    distinct = np.stack([rng.permutation(5)[:4] for _ in range(3)])  # along dim 1: scatter

    def program(m):  # noqa: ANN001, ANN202 - lucid or torch
        x = m.tensor(base, requires_grad=True)
        s = m.tensor(src, requires_grad=True)
        weight = m.tensor(rng_weights)
        # torch's backward refuses a src larger than the index: lucid's gives the rest 0
        added = x.scatter_add(0, m.tensor(repeats), s[:, :5])
        written = x.scatter(1, m.tensor(distinct), s[:, :4])
        larger = x.detach().scatter_add(0, m.tensor(repeats), s.detach())
        number = x.scatter(1, m.tensor(distinct), 2.5)
        ((added + written * 2 + number * 3) * weight).sum().backward()
        y = m.zeros(4, 5)
        y.scatter_(1, m.tensor(distinct), 1.0).scatter_add_(0, m.tensor(repeats).int(),
                                                            m.ones(3, 5))
        scalar = m.tensor(1.0).scatter_add(0, m.tensor(0), m.tensor(2.0))
        return [added, written, number, larger, x.grad, s.grad, y, scalar]

    rng_weights = rng.standard_normal((4, 5))
    for ours, theirs in zip(program(lucid), program(torch), strict=True):
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)

    refusals = [
        lambda m: m.zeros(3).scatter(0, m.tensor([1], dtype=m.uint8), 1.0),
        lambda m: m.zeros(3).scatter_add(0, m.tensor([1]), m.ones(1, dtype=m.float64)),
        lambda m: m.zeros(3).scatter(0, m.tensor([3]), 1.0),
        lambda m: m.zeros(3).scatter(0, m.tensor([-1]), 1.0),
        lambda m: m.zeros(3).scatter(0, m.tensor([[0]]), 1.0),
        lambda m: m.zeros(2, 3).scatter_add(1, m.tensor([[0, 1]]), m.ones(1, 1)),
        lambda m: m.zeros(2, 3).scatter_add(0, m.tensor([[0, 0, 0, 0]]), m.ones(1, 4)),
        lambda m: m.zeros(2, 3).scatter(1, m.tensor([[0]]), m.ones(2, 3, 1)),
    ]
    for refusal in refusals:
        for m in (lucid, torch):
            with pytest.raises(RuntimeError):
                refusal(m)


def test_scatter_add_gradient_checks_numerically() -> None:
    from lucid.testing import gradcheck

    index = lucid.tensor([[0, 2, 2], [1, 1, 0]])
    gradcheck(lambda x, s: x.scatter_add(1, index, s) ** 2,  # s beyond the index: 0
              (lucid.tensor(np.arange(8.0).reshape(2, 4) / 7, requires_grad=True),
               lucid.tensor(np.linspace(-1, 1, 8).reshape(2, 4), requires_grad=True)))
    gradcheck(lambda x, s: x.scatter(0, index[:, :2] % 2, s) ** 2,
              (lucid.tensor(np.arange(8.0).reshape(2, 4) / 7, requires_grad=True),
               lucid.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)))


REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_reduce_matches_torch(torch, reduce: str, include_self: bool) -> None:
    """Values and gradients of each reduction, with and without the input's own values:
    repeated places, places no entry goes to, zeros among a product's factors (one and two
    at a place), the in-place form and lucid.scatter_reduce."""
    rng = np.random.default_rng(6)
    base = rng.standard_normal((4, 5))
    src = rng.standard_normal((3, 5))
    if reduce == "prod":
        base[0, 0] = src[0, 1] = src[1, 2] = src[2, 2] = 0.0
    index = rng.integers(0, 4, (3, 5))
    index[0, 1] = index[1, 2] = index[2, 2] = 0  # the zeros meet at row 0
    weights = rng.standard_normal((4, 5))

    def program(m):  # noqa: ANN001, ANN202 - lucid or torch
        x = m.tensor(base, requires_grad=True)
        s = m.tensor(src, requires_grad=True)
        out = x.scatter_reduce(0, m.tensor(index), s, reduce, include_self=include_self)
        (out * m.tensor(weights)).sum().backward()
        y = m.tensor(base.T.copy())
        y.scatter_reduce_(1, m.tensor(index.T.copy()), m.tensor(src.T.copy()), reduce,
                          include_self=include_self)
        functional = m.scatter_reduce(m.tensor(base), 0, m.tensor(index), m.tensor(src),
                                      reduce, include_self=include_self)
        return [out, x.grad, s.grad, y, functional]

    for ours, theirs in zip(program(lucid), program(torch), strict=True):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12,
                                   atol=1e-15)


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_reduce_on_integers_and_its_refusals_match_torch(torch) -> None:
    """An integer mean rounds down (negative too), uint8 sums wrap, a bool sum is an or;
    scatter's reduce= "add" and "multiply" (with a number too); what PyTorch refuses."""
    index = [0, 0, 1]

    def program(m):  # noqa: ANN001, ANN202 - lucid or torch
        x, s = m.tensor([5, -7, 9, 11]), m.tensor([2, 4, -4])
        return [x.scatter_reduce(0, m.tensor(index), s, r, include_self=i)
                for r in REDUCTIONS for i in (True, False)] + [
            m.tensor(np.array([1, 2], np.uint8)).scatter_reduce(
                0, m.tensor([0, 0]), m.tensor(np.array([200, 100], np.uint8)), "sum"),
            m.tensor([True, False]).scatter_reduce(0, m.tensor([0, 1]),
                                                   m.tensor([False, True]), "sum"),
            x.double().scatter(0, m.tensor(index), s.double(), reduce="multiply"),
            x.double().scatter(0, m.tensor(index), 2.0, reduce="add"),
            m.scatter(x.double(), 0, m.tensor(index), s.double(), reduce="add"),
        ]

    for ours, theirs in zip(program(lucid), program(torch), strict=True):
        assert f"torch.{ours.dtype}" == str(theirs.dtype)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    for refusal in (lambda m: m.zeros(3).scatter(0, m.tensor([0]), 1.0, reduce="sum"),
                    lambda m: m.zeros(3).scatter_reduce(0, m.tensor([3]), m.ones(1), "amax"),
                    lambda m: m.zeros(2).bool().scatter_reduce(0, m.tensor([0]),
                                                               m.ones(1).bool(), "mean")):
        for m in (lucid, torch):
            with pytest.raises((RuntimeError, NotImplementedError)):
                refusal(m)
    with pytest.raises(RuntimeError, match="sum, prod, mean, amax or amin"):
        lucid.zeros(3).scatter_reduce(0, lucid.tensor([0]), lucid.ones(1), "max")


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_reduce_runs_alike_on_each_device(device: str, reduce: str) -> None:
    """Values and gradients on the device equal numpy's (float64), repeats and zeros too."""
    rng = np.random.default_rng(7)
    base = rng.standard_normal((4, 5))
    src = rng.standard_normal((6, 5))
    base[1, 1] = src[2, 3] = 0.0
    index = lucid.tensor(rng.integers(0, 4, (6, 5)))

    def run(where: str) -> list[np.ndarray]:
        x = lucid.tensor(base, requires_grad=True, device=where)
        s = lucid.tensor(src, requires_grad=True, device=where)
        out = x.scatter_reduce(0, index.to(where), s, reduce, include_self=reduce != "amin")
        (out * out).sum().backward()
        return [t.detach().to("cpu").numpy() for t in (out, x.grad, s.grad)]

    for ours, reference in zip(run(device), run("cpu"), strict=True):
        np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("reduce", REDUCTIONS)
def test_scatter_reduce_gradients_check_numerically(reduce: str) -> None:
    """Each reduction's gradient against finite differences (float64), with and without the
    input, a src longer than the index (its rest gets 0), and for the product a zero at a
    place with no other zero and one at a place with two."""
    from lucid.testing import gradcheck

    index = lucid.tensor([[0, 2, 2], [1, 1, 0]])
    x = np.arange(8.0).reshape(2, 4) / 7 + 0.3
    s = np.linspace(-1, 1, 8).reshape(2, 4) * 1.3
    if reduce == "prod":
        x[0, 2], s[0, 1], s[1, 1], s[1, 0] = 0.0, 0.0, 0.0, 0.0
    for include_self in (True, False):
        gradcheck(lambda a, b, i=include_self: a.scatter_reduce(1, index, b, reduce,
                                                                include_self=i) ** 2,
                  (lucid.tensor(x, requires_grad=True), lucid.tensor(s, requires_grad=True)))


def test_scatter_reduce_splits_a_maximums_gradient_among_equal_values() -> None:
    """Ties share a maximum's gradient evenly; the input's value counts only when included;
    a NaN maximum passes its gradient to the NaN."""
    x = lucid.tensor([3.0, 1.0, 5.0], requires_grad=True)
    s = lucid.tensor([3.0, 3.0, float("nan")], requires_grad=True)
    for include_self, share in ((True, 1 / 3), (False, 1 / 2)):
        x.grad = s.grad = None
        x.scatter_reduce(0, lucid.tensor([0, 0, 2]), s, "amax",
                         include_self=include_self).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [share if include_self else 0, 1, 0])
        np.testing.assert_allclose(s.grad.numpy(), [share, share, 1])


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]), ("bij->bji", [(2, 3, 4)]), ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]),
    ("...ij,...jk", [(1, 2, 3), (4, 3, 2)]), ("i,i->", [(4,), (4,)]), ("i,j->ij", [(3,), (2,)]),
    ("ij->", [(2, 3)]), ("iij->j", [(2, 2, 3)]), ("iji->j", [(2, 3, 2)]),
    ("ijk,ikl,ilm->jm", [(2, 3, 4), (2, 4, 5), (2, 5, 3)]), ("ab,ba->a", [(3, 3), (3, 3)]),
    ("Ba,aB", [(2, 3), (3, 2)]), ("ij->j", [(1, 3)]), ("bi,bi->b", [(1, 3), (4, 3)]),
    ("i...->...", [(2, 3, 4)]), ("...", [(2, 3)]), ("...ij->ij", [(5, 2, 3)]),
    ("ij,kl->ijkl", [(2, 1), (1, 3)]), (" i j -> j i ", [(2, 3)]),
    # from a review: 0-d operands, size-1 axes meeting longer ones, empty axes
    (",i->i", [(), (3,)]), ("", [()]), ("ij,jk->ik", [(2, 1), (3, 4)]), ("i,i->", [(1,), (3,)]),
    ("i->", [(0,)]), ("ijk->jk", [(0, 2, 2)]), ("i,i", [(0,), (0,)]), ("ii->i", [(1, 1)]),
    ("iij->ij", [(2, 2, 1)]), ("ij,ij->ij", [(1, 3), (2, 1)]),
]


@pytest.mark.parametrize(("equation", "shapes"), EINSUMS)
def test_einsum_matches_torch(equation: str, shapes: list[tuple[int, ...]], torch) -> None:
    """Values and gradients: implicit outputs, diagonals, broadcast ellipses and size-1
    axes (summed back in the gradient), letters only one operand has, three operands."""
    rng = np.random.default_rng(len(equation))
    arrays = [rng.standard_normal(shape) for shape in shapes]
    results = []
    for m in (lucid, torch):
        operands = [m.tensor(a, requires_grad=True) for a in arrays]
        out = m.einsum(equation, *operands)
        weight = np.cos(np.arange(out.numel()) + 0.5).reshape(tuple(out.shape))
        (out * m.tensor(weight)).sum().backward()
        results.append([out.detach().numpy(), *(t.grad.numpy() for t in operands)])
    for ours, theirs in zip(*results, strict=True):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("equation", ["iij->j", "...ij,...jk", "ijk,ikl,ilm->jm", "bi,bi->b"])
def test_einsum_gradients_check_numerically(equation: str) -> None:
    from lucid.testing import gradcheck

    shapes = dict(EINSUMS)[equation]
    rng = np.random.default_rng(1)
    gradcheck(lambda *xs: lucid.einsum(equation, *xs),
              [lucid.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes])
    np.testing.assert_allclose(  # and the values are NumPy's
        lucid.einsum(equation, [lucid.tensor(np.ones(s)) for s in shapes]).numpy(),
        np.einsum(equation, *(np.ones(s) for s in shapes)))


@pytest.mark.parametrize("dtype", ["int32", "uint8", "bool", "int64", "float16"])
def test_einsum_dtypes_match_torch(dtype: str, torch) -> None:
    """One integer or bool operand summed over comes out int64 (as its sum()), products
    keep the dtype, bool products that sum are refused: as PyTorch's."""
    outcomes = []
    for m in (lucid, torch):
        x = m.ones(2, 2, dtype=getattr(m, dtype))
        row = []
        for equation, operands in (("ij,jk->ik", (x, x)), ("ij->i", (x,)), ("ii->i", (x,)),
                                   ("ij->ji", (x,)), ("ij->", (x,)), ("ij,ij->i", (x, x)),
                                   ("ii", (x,))):
            try:
                out = m.einsum(equation, *operands)
                row.append((str(out.dtype).split(".")[-1], out.numpy().tolist()))
            except RuntimeError:
                row.append("refused")
        outcomes.append(row)
    assert outcomes[0] == outcomes[1]


def test_einsum_refuses_what_torch_refuses(torch) -> None:
    for program in (lambda m: m.einsum("ij,jk->ik", m.ones(2, 3), m.ones(4, 4)),
                    lambda m: m.einsum("ij->ii", m.ones(2, 2)),
                    lambda m: m.einsum("ij->k", m.ones(2, 2)),
                    lambda m: m.einsum("ij,jk", m.ones(2, 2)),
                    lambda m: m.einsum("i->i", m.ones(2, 2)),
                    lambda m: m.einsum("ij,jk", m.ones(2, 2), m.ones(2, 2, dtype=m.float64)),
                    lambda m: m.einsum("i1->i", m.ones(2, 2)),
                    lambda m: m.einsum("i,i,i", m.ones(1), m.ones(0), m.ones(3)),
                    lambda m: m.einsum("i...j...", m.ones(2, 3))):
        for m in (lucid, torch):
            with pytest.raises(RuntimeError, match="einsum|scalar type"):
                program(m)


def test_index_select_narrow_masked_fill_match_torch(torch) -> None:
    """Repeated index_select indices add their gradients; a tensor fill value takes the
    gradient of what it fills; NaN below tril's diagonal still becomes 0; the refusals."""
    array = np.arange(12.0).reshape(3, 4)
    array[2, 0] = np.nan
    results = []
    for m in (lucid, torch):
        x = m.tensor(array, requires_grad=True)
        fill = m.tensor(2.0, dtype=m.float64, requires_grad=True)
        picked = x.index_select(1, m.tensor([3, 0, 3]))
        filled = x.masked_fill(m.tensor([True, False, True, False]), fill)
        (picked.sum() + filled.sum() + x.triu(1).sum()).backward()
        results.append([picked.detach().numpy(), filled.detach().numpy(), x.grad.numpy(),
                        fill.grad.numpy(), x.detach().tril().numpy()])
        with pytest.raises(IndexError):
            x.index_select(0, m.tensor([3]))
        with pytest.raises(RuntimeError):
            x.narrow(0, 2, 2)
        with pytest.raises(RuntimeError):
            x.masked_fill(m.tensor([1, 0, 1, 0]), 0.0)
        with pytest.raises(RuntimeError):
            m.ones(3).tril()
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("p", [0.5, 1.5, 3.0, 2, 1, float("inf")])
def test_norm_gradient_at_zeros_matches_torch(p: float, torch) -> None:
    """An all-zero input's gradient is 0, and zeros beside non-zeros get PyTorch's."""
    rows = np.array([[0.0, 0.0, 0.0], [0.0, -2.0, 3.0]])
    grads = []
    for m in (lucid, torch):
        x = m.tensor(rows, requires_grad=True)
        x.norm(p, 1).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(*grads, rtol=1e-12)


@pytest.mark.parametrize("p", [float("inf"), float("-inf")])
def test_infinity_norm_of_a_0d_tensor_matches_torch(p: float, torch) -> None:
    """Its backward failed (a reduction over no dims of a 0-d array gives numpy a scalar,
    which the NaN rule wrote into); so did normalize(p=inf) and pairwise_distance(p=inf)
    of 0-d tensors."""
    results = []
    for m in (lucid, torch):
        x = m.tensor(-3.0, requires_grad=True)
        y = x.norm(p, 0) + m.nn.functional.normalize(x, p=p, dim=0)
        y.backward()
        results.append((y.item(), x.grad.item()))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


@pytest.mark.parametrize(("values", "p"), [
    ([np.nan, 1.0], float("inf")), ([np.nan, 1.0, 3.0], float("-inf")), ([3e38], 2),
    ([1e-30], 2), ([-2.0], "fro"), ([0.0], 0.5), ([-3e38], 1), ([3e38, 1.0], 2), ([np.nan], 2),
    ([np.inf], 2), ([0.0], 2), ([1e30], 3), ([-1e-30], 1.5), ([-3.0], -2.5), ([0.0], -1),
    ([np.inf], 1), ([-np.inf], float("inf")), ([np.nan], 1), ([-np.inf], float("-inf"))])
def test_norm_of_one_element_and_of_nan_match_torch(values: list[float], p: float,
                                                    torch) -> None:
    """A 2-norm over one element is its absolute value (no square to overflow or underflow)
    with the gradient x / |x| (NaN at NaN and infinity); an infinity norm that is NaN passes
    no gradient back: all as PyTorch's. Other orders over one element give |x| too, with
    the gradient sign(x) (PyTorch's formula overflows to NaN at 1e30 and 1e-30: ours is
    checked there against the exact derivative)."""
    results = []
    for m in (lucid, torch):
        x = m.tensor(values, dtype=m.float32, requires_grad=True)
        y = x.norm(p)
        y.backward()
        results.append((y.item(), x.grad.numpy().tolist()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-7)  # NaN == NaN
    far = p not in (2, "fro") and abs(values[0]) in (1e30, 1e-30)
    expected = np.sign(values).tolist() if far else results[1][1]
    np.testing.assert_allclose(results[0][1], expected, rtol=1e-7)


def test_differential_fuzz_findings_match_torch(torch) -> None:
    """Cases a differential fuzzer against torch found (each failed before): repeat always
    copies; writes into empty tensors and into an expand() that repeats nothing; any/all
    over dim=() reduce nothing; chunk of an empty dim; gather with 0-d input or index;
    prod's gradient with inf, NaN and zeros; linspace from an infinite start; refusals
    (linspace's ends that overflow the dtype, cumsum to bool) and acceptances (an empty
    index of any dtype in gather and scatter)."""
    def outcome(program, m):  # noqa: ANN001, ANN202 - lucid or torch
        try:
            result = program(m)
        except (RuntimeError, IndexError, TypeError, ValueError) as error:
            return type(error).__name__
        parts = result if isinstance(result, tuple) else (result,)
        return [(np.nan_to_num(p.detach().numpy(), nan=-7.0).tolist(),  # NaN == NaN
                 str(p.dtype).split(".")[-1]) for p in parts]

    def repeat_copies(m):  # noqa: ANN001, ANN202
        x = m.tensor([[1.0, 2.0], [3.0, 4.0]])
        x.repeat(1, 1).add_(1)
        return x, m.tensor([[7]]).repeat(2, 1, 3).add_(1)

    def empty_scatter_grads(m):  # noqa: ANN001, ANN202
        x = m.zeros(3, requires_grad=True)
        src = m.ones(0, requires_grad=True)
        (x.scatter_add(0, m.zeros(0, dtype=m.int64), src) * 2).sum().backward()
        return x.grad, src.grad

    def prod_grads(m):  # noqa: ANN001, ANN202
        grads = []
        for values in ([2.0, np.inf], [np.nan, 2.0], [0.0, 0.0, np.inf], [0.0, 3.0, np.inf]):
            x = m.tensor(values, dtype=m.float64, requires_grad=True)
            x.prod().backward()
            grads.append(x.grad)
        return tuple(grads)

    programs = [
        repeat_copies, prod_grads,
        lambda m: m.zeros(0, 3).add_(1),
        lambda m: m.tensor([1.0, 2.0]).expand(1, 2).add_(1),
        lambda m: (m.ones(2, 2).any(dim=()), m.ones(2, 2).all(dim=[])),
        lambda m: m.zeros(2, 0).chunk(3, dim=1),
        lambda m: m.tensor(5.0).gather(0, m.tensor(0)),
        lambda m: m.tensor(5.0).gather(0, m.tensor([0, 0])),
        lambda m: m.tensor([5.0, 6.0]).gather(0, m.tensor(1)),
        lambda m: m.tensor([[5.0, 6.0]]).gather(1, m.tensor(1)),
        lambda m: m.linspace(-np.inf, 0, 1),
        lambda m: m.linspace(100, -1, 4, dtype=m.uint8),
        lambda m: m.linspace(-3.7, -1, 5, dtype=m.int64),
        lambda m: m.tensor([True, False]).topk(1),
        lambda m: m.zeros(3).gather(0, m.tensor([1], dtype=m.uint8)),
        lambda m: m.zeros(3).index_select(0, m.tensor([-1])),
        lambda m: m.tensor([1, 2]).round(decimals=0),
        lambda m: m.zeros(2, 2).repeat(),
        lambda m: m.zeros(2, 2, 2).norm("fro", dim=(0, 1, 2)),
        lambda m: m.tensor(2.0).sort(1),
        lambda m: m.zeros(2).prod(keepdim=True),
        lambda m: m.ones(3, requires_grad=True).cumsum(0, dtype=m.int32),
        lambda m: m.ones(3, requires_grad=True).sum(dtype=m.int64),
        lambda m: m.zeros(3, dtype=m.uint8).masked_fill(m.tensor([True, False, True]), 300),
        lambda m: m.zeros(3, dtype=m.uint8).masked_fill(m.tensor([True, False, True]), -1),
        lambda m: m.zeros(3, dtype=m.int64).masked_fill(m.tensor([True, False, True]), np.nan),
        lambda m: m.zeros(3, dtype=m.int64).masked_fill(m.tensor([True, False, True]), 2.5),
        lambda m: m.zeros(3).masked_fill(m.tensor([True, False, True]), 1e300),
        lambda m: m.tensor(1.0).roll(1, 0),
        lambda m: m.tensor(1.0).split(1),
        lambda m: m.tensor(1.0).chunk(1),
        lambda m: m.tensor(1.0).narrow(0, 0, 1),
        lambda m: m.arange(4).roll((1, 2)),
        lambda m: m.tensor(1.0).index_select(0, m.tensor([0, 0])),
        lambda m: m.linspace(0, 300, 4, dtype=m.uint8),
        lambda m: m.linspace(-5, 3, 4, dtype=m.uint8),
        lambda m: m.linspace(0, 1e10, 3, dtype=m.int32),
        lambda m: m.linspace(0, 1e39, 3),
        lambda m: m.tensor([1, 0, 2]).cumsum(0, dtype=m.bool),
        lambda m: m.zeros(3).gather(0, m.zeros(0, dtype=m.uint8)),
        lambda m: m.zeros(3).scatter(0, m.zeros(0, dtype=m.bool), 1.0),
        lambda m: m.zeros(3).scatter_add(0, m.zeros(0, dtype=m.float32), m.ones(0)),
        lambda m: m.zeros(3).index_select(0, m.zeros(0, dtype=m.uint8)),
        # from a review of scatter, linspace, gather and norm against torch
        empty_scatter_grads,
        lambda m: m.tensor(np.array([1, 2], np.uint8)).scatter(0, m.tensor([0]), -1),
        lambda m: m.zeros(3, dtype=m.uint8).scatter(0, m.tensor([0]), -1.5),
        lambda m: m.zeros(2, 3).scatter(1, m.tensor([[0], [2]]), value=3.0),
        lambda m: m.zeros(3).scatter_add(0, m.tensor([0]), 2.0),
        lambda m: m.linspace(-1.5, 3, 3, dtype=m.uint8),
        lambda m: m.linspace(0, 1000, 1, dtype=m.int8),
        lambda m: m.linspace(0, 1000, 0, dtype=m.int8),
        lambda m: m.ones(2, 2).gather(1, m.zeros(0, dtype=m.int64)),
        lambda m: m.zeros(0).norm(-1),
        lambda m: m.zeros(2, 0).norm(-2, dim=0),
    ]
    for i, program in enumerate(programs):
        assert outcome(program, lucid) == outcome(program, torch), i


def test_review_findings_match_torch(torch) -> None:
    """From a review against torch (each failed before): prod's and norm's outputs written
    in place refuse the backward that needs them; tril and masked_fill do not need their
    input's values, so writing it afterwards is fine; a slice of an expanded tensor writes
    into its base; float16 norms, running sums and rounding computed in float32."""
    def run(m):  # noqa: ANN001, ANN202 - lucid or torch
        seen = []
        for reduce in (lambda t: t.prod(0), lambda t: t.norm(3, 0)):
            x = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
            out = reduce(x)
            out.mul_(10)
            with pytest.raises(RuntimeError, match="modified by an in"):
                out.sum().backward()
        for keep in (lambda t: t.tril(), lambda t: t.masked_fill(t > 2.5, 0.0)):
            x = m.ones(2, 2, requires_grad=True)
            y = x * 2
            z = keep(y)
            y.add_(1)
            z.sum().backward()
            seen.append(x.grad.numpy().tolist())
        base = m.zeros(1, 3)
        row = base.expand(2, 3)[0]
        row += 1
        seen.append(base.numpy().tolist())
        half = m.float16
        seen += [m.tensor([300.0, 400.0], dtype=half).norm().item(),
                 m.tensor([300.0, 400.0], dtype=half).norm(3).item(),
                 m.full((5000,), 0.1, dtype=half).cumsum(0)[-1].item(),
                 m.tensor([1000.5], dtype=half).round(decimals=2).item()]
        return seen

    ours, theirs = run(lucid), run(torch)
    assert ours[:3] == theirs[:3]
    np.testing.assert_allclose(ours[3:], theirs[3:], rtol=2e-3)


def test_scatter_and_randperm_review_findings_match_torch(torch) -> None:
    """Found by a differential review (each failed before): an in-place scatter_reduce_ on a
    0-d tensor kept the gradients of its input's old values (prod, amin); an empty index
    with a src of two dims failed; randperm into a dtype too small for n was not refused."""
    for reduce, start, value in (("prod", 4.0, 2.0), ("amin", 4.0, 1.0), ("amax", 1.0, 1.0)):
        grads = []
        for m in (lucid, torch):
            x = m.tensor(start, dtype=m.float64, requires_grad=True)
            s = m.tensor(value, dtype=m.float64, requires_grad=True)
            y = x.clone()
            y.scatter_reduce_(0, m.tensor(0), s, reduce)
            y.backward()
            grads.append((y.item(), x.grad.item(), s.grad.item()))
        assert grads[0] == grads[1], reduce
    for m in (lucid, torch):
        empty = m.zeros(0, 2, dtype=m.int64)
        assert m.ones(2, 2).scatter_reduce(0, empty, m.zeros(0, 2), "amax").tolist() == \
            [[1.0, 1.0], [1.0, 1.0]]
        assert m.ones(2, 2).scatter_add(0, m.zeros(0, dtype=m.int64), m.zeros(3, 2)).tolist() \
            == [[1.0, 1.0], [1.0, 1.0]]
    for n, dtype in ((257, "uint8"), (2050, "float16"), (2, "bool")):
        for m in (lucid, torch):
            with pytest.raises((RuntimeError, NotImplementedError)):
                m.randperm(n, dtype=getattr(m, dtype))
    assert sorted(lucid.randperm(2049, dtype=lucid.float16).tolist()) == list(range(2049))
