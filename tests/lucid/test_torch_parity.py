"""Where lucid once differed from PyTorch without saying so (found by a differential audit):
each case against PyTorch's documented behaviour, and against torch itself where installed."""

from __future__ import annotations

import numpy as np
import pytest

import lucid
import lucid.nn.functional as F
import lucid.optim


def _agree(ours: tuple[np.ndarray, ...], theirs: tuple[np.ndarray, ...]) -> None:
    """The same program's values and gradients in lucid and in torch."""
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5)


def test_set_grad_enabled_as_a_context_manager_restores_the_mode() -> None:
    """It raised TypeError in a ``with`` and left recording off for the rest of the thread."""
    x = lucid.ones(2, requires_grad=True)
    with lucid.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    with lucid.no_grad(), lucid.set_grad_enabled(True):
        assert (x * 2).requires_grad
    assert lucid.is_grad_enabled()
    lucid.set_grad_enabled(False)  # called plainly: at once, until switched back
    try:
        assert not (x * 2).requires_grad
    finally:
        lucid.set_grad_enabled(True)


@pytest.mark.parametrize("name", ["relu", "abs", "clamp", "l1_loss"])
def test_gradients_at_nan_and_infinity_match_torch(name: str) -> None:
    """relu passes the gradient at NaN (PyTorch stops it only where ``y <= 0``), where lucid
    stopped it; abs's gradient at NaN is 0 (PyTorch's sign of NaN), where numpy's sign made
    it NaN, and l1_loss's with it; and inf - inf is NaN quietly, with no numpy warning.
    (Not hardtanh or relu6: PyTorch's gradient at NaN there depends on the NaN's place in
    its vector loop.)"""
    torch = pytest.importorskip("torch")
    values = [np.nan, 0.5, 0.0, 6.0, -1.0, 1.0, 7.0, np.inf, -np.inf]

    def run(m: object) -> np.ndarray:
        nnf = F if m is lucid else torch.nn.functional
        x = m.tensor(values, dtype=m.float64, requires_grad=True)
        programs = {"relu": lambda: nnf.relu(x), "abs": lambda: x.abs(),
                    "clamp": lambda: x.clamp(0, 1),
                    "l1_loss": lambda: nnf.l1_loss(x, m.tensor(values, dtype=m.float64))}
        programs[name]().sum().backward()
        return x.grad.numpy()

    np.testing.assert_array_equal(run(lucid), run(torch))


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
def test_relu6_and_hardtanh_keep_integers(dtype: str) -> None:
    """They returned float64 for integer input; PyTorch keeps the dtype, with the bounds
    truncated to integers, and refuses negative bounds for unsigned types."""
    torch = pytest.importorskip("torch")
    x = np.array([-3, 0, 2, 7, 9]).astype(dtype)
    for name, args in (("relu6", ()), ("hardtanh", ()), ("hardtanh", (-1.5, 2.7))):
        try:
            expected = getattr(torch.nn.functional, name)(torch.tensor(x), *args).numpy()
        except RuntimeError as error:  # negative bounds for an unsigned type
            with pytest.raises(RuntimeError, match=str(error)):
                getattr(F, name)(lucid.tensor(x), *args)
            continue
        got = getattr(F, name)(lucid.tensor(x), *args)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got.numpy(), expected)


def test_cat_and_stack_promote_like_pytorch() -> None:
    """They cast everything to the first tensor's dtype: an int first truncated the floats."""
    ints, floats = lucid.tensor([1, 2]), lucid.tensor([0.5, 1.5])
    joined = lucid.cat([ints, floats])
    assert joined.dtype == np.float32 and joined.tolist() == [1, 2, 0.5, 1.5]
    assert lucid.cat([floats, floats.to(lucid.float64)]).dtype == np.float64
    assert lucid.stack([ints, lucid.tensor([True, False])]).dtype == np.int64


def test_the_std_of_a_constant_has_a_zero_gradient() -> None:
    x = lucid.tensor([[3.0, 3.0], [1.0, 3.0]], dtype=lucid.float64, requires_grad=True)
    x.std(1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0], [-0.5**0.5, 0.5**0.5]])


def test_hardtanh_and_relu6_pass_no_gradient_at_their_bounds() -> None:
    x = lucid.tensor([0.0, 3.0, 6.0, -1.0, 7.0], requires_grad=True)
    F.relu6(x).sum().backward()
    assert x.grad.tolist() == [0, 1, 0, 0, 0]
    y = lucid.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    F.hardtanh(y).sum().backward()
    assert y.grad.tolist() == [0, 1, 0]
    z = lucid.tensor([0.0, 6.0], requires_grad=True)
    z.clamp(0, 6).sum().backward()  # clamp itself passes it at the bounds, as PyTorch's
    assert z.grad.tolist() == [1, 1]


def test_clamp_takes_tensor_bounds_and_gives_them_gradients() -> None:
    x = lucid.tensor([1.0, 5.0], requires_grad=True)
    low = lucid.tensor([2.0, 2.0], requires_grad=True)
    out = x.clamp(min=low, max=lucid.tensor([4.0, 4.0]))
    out.sum().backward()
    assert out.tolist() == [2, 4] and x.grad.tolist() == [0, 0] and low.grad.tolist() == [1, 0]


def test_floating_functions_take_integers_to_float32() -> None:
    ints = lucid.tensor([1, 2, 3])
    for out in (ints.sigmoid(), ints.sqrt(), ints.exp(), ints.log(), ints.tanh(), F.sigmoid(ints)):
        assert out.dtype == np.float32
    np.testing.assert_allclose(ints.sigmoid().numpy(), 1 / (1 + np.exp(-np.arange(1, 4))),
                               rtol=1e-6)


def test_contiguous_copies_a_transposed_view() -> None:
    a = lucid.tensor([[1.0, 2.0], [3.0, 4.0]])
    b = a.t().contiguous()
    b.add_(1)
    assert a.tolist() == [[1, 2], [3, 4]] and b.tolist() == [[2, 4], [3, 5]]
    assert a.contiguous() is a


def test_a_dot_product_backpropagates() -> None:
    a = lucid.tensor([1.0, 2.0], requires_grad=True)
    b = lucid.tensor([3.0, 4.0], requires_grad=True)
    (a @ b).backward()
    assert a.grad.tolist() == [3, 4] and b.grad.tolist() == [1, 2]


def test_a_0d_tensor_takes_dim_0_and_minus_1() -> None:
    x = lucid.tensor(3.0, requires_grad=True)
    assert x.sum(0).item() == 3 and x.mean(-1).item() == 3
    values, indices = x.max(0)
    assert values.item() == 3 and indices.item() == 0 and x.argmin(-1).item() == 0
    values.backward()
    assert x.grad.item() == 1
    with pytest.raises(IndexError, match="dimension out of range"):
        x.sum(1)


def test_the_cases_above_against_torch() -> None:
    torch = pytest.importorskip("torch")
    data = np.array([[0.0, 3.0, 6.0], [2.0, 2.0, 2.0]])
    for name, fn in {
        "std": lambda m, x: m.std(x, 1),
        "relu6": lambda m, x: (F if m is lucid else torch.nn.functional).relu6(x),
        "hardtanh": lambda m, x: (F if m is lucid else torch.nn.functional).hardtanh(x),
    }.items():
        ours = lucid.tensor(data, requires_grad=True)
        theirs = torch.tensor(data, requires_grad=True)
        fn(lucid, ours).sum().backward()
        fn(torch, theirs).sum().backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), err_msg=name)
    ints = torch.tensor([1, 2])
    assert str(torch.cat([ints, torch.tensor([0.5])]).dtype) == "torch.float32"
    assert str(ints.sigmoid().dtype) == "torch.float32"


# ---- in-place ops in a recorded graph (they returned a new tensor and left the old alone) --


def test_in_place_ops_change_the_tensor_and_its_gradient() -> None:
    p = lucid.tensor([1.0, 2.0], requires_grad=True)
    buffer = lucid.zeros(2)
    buffer.add_(p * 0.1)
    np.testing.assert_allclose(buffer.detach().numpy(), [0.1, 0.2], rtol=1e-6)
    buffer.copy_(p)
    buffer.sum().backward()
    assert buffer.tolist() == [1, 2] and p.grad.tolist() == [1, 1]

    x = lucid.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.mul_(3)
    y += 1
    y.sum().backward()
    assert y.tolist() == [7, 13] and x.grad.tolist() == [6, 6]


def test_earlier_uses_of_a_tensor_keep_their_gradient() -> None:
    """``z`` used ``y`` before ``y.mul_(3)``: its gradient does not pass through the mul; ``w``
    kept y's old values for its gradient, which the change overwrote: an error, as in PyTorch."""
    x = lucid.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y + 1
    w = y * y
    y.mul_(3)
    (z.sum() + y.sum()).backward(retain_graph=True)
    assert x.grad.tolist() == [2 + 6, 2 + 6]
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        w.sum().backward()


def test_zero_and_fill_cut_the_gradient() -> None:
    x = lucid.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.zero_()
    (y + x).sum().backward()
    assert y.tolist() == [0, 0] and x.grad.tolist() == [1, 1]


def test_a_value_changed_after_it_was_saved_is_an_error() -> None:
    """PyTorch's version check: the gradient would use the new values."""
    x = lucid.tensor([1.0, 2.0], requires_grad=True)
    w = lucid.tensor([3.0, 4.0])
    y = (x * w).sum()
    w.mul_(10)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()
    b = lucid.tensor([3.0, 4.0])
    s = (x + b).sum()  # a sum's gradient needs no values: changing b is fine
    b.mul_(10)
    s.backward()
    assert x.grad.tolist() == [1, 1]


def test_in_place_on_a_view_of_a_leaf_that_requires_grad_is_refused() -> None:
    a = lucid.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf tensor that requires grad"):
        a[0:1].add_(1)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        a.add_(1)
    with lucid.no_grad():  # outside a graph a view writes through, as in PyTorch
        a[0:1].add_(1)
    assert a.tolist() == [2, 2]


def _views_program(m, case: int):  # noqa: ANN001, ANN202 - lucid or torch
    """In-place ops on views in a recorded graph, PyTorch's idioms; values and gradients."""
    x = m.tensor(np.arange(1.0, 13.0).reshape(3, 4), requires_grad=True)
    w = m.tensor([0.5, -1.0, 2.0], requires_grad=True)
    b = x * 2
    if case == 0:
        b[:, 0] += w * 3  # getitem view, add in place, setitem: a column
    elif case == 1:
        b.T[1].mul_(w)  # a view of a view, the product reading the old values
    elif case == 2:
        v = b[1]
        v[2] = w[0] ** 2  # setitem on a view
        v.div_(w[2])
    elif case == 3:
        c = m.zeros(3, 4)  # a constant base joins the graph through its view
        c[1:, ::2] += b[1:, ::2] * w[1:, None]
        b = b + c
    elif case == 4:
        b.reshape(2, 6)[1].clamp_(max=15.0)
        b[0, 1:3].sub_(b[2, :2].detach().clone() * w[:2])
    loss = (b * b).sum() + b[:, 0].sum()
    loss.backward()
    return b.detach().numpy(), x.grad.numpy(), w.grad.numpy()


@pytest.mark.parametrize("case", range(5))
def test_in_place_on_a_view_in_a_graph_changes_its_base_as_pytorch(case: int) -> None:
    """Refused before ('not supported here'): now the base takes the new values in the
    graph as in memory (PyTorch's CopySlices), and the view stays a view of it."""
    torch = pytest.importorskip("torch")
    _agree(_views_program(lucid, case), _views_program(torch, case))


def test_in_place_semantics_against_torch() -> None:
    torch = pytest.importorskip("torch")

    def run(m):  # noqa: ANN001, ANN202 - lucid or torch
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        z = y.exp()
        y.mul_(3)
        y.add_(z)
        y.clamp_(max=30.0)
        y.div_(2)
        (y * y).sum().backward()
        return y.detach().numpy(), x.grad.numpy()

    _agree(run(lucid), run(torch))


def _more_views_program(m, case: int):  # noqa: ANN001, ANN202 - lucid or torch
    """Found by the fuzzer after views could be written in a graph."""
    x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    w = m.tensor([2.0], requires_grad=True)
    s = m.tensor(2.0, requires_grad=True)
    if case == 0:  # clone keeps a transpose's layout, so this reshape copies (lucid's wrote b)
        b = (x * 1).T.clone()
        b.reshape(6).mul_(w)
        out = b * (w + 1)
    elif case == 1:  # setitem on a 0-d element: its backward's 0-d gradient was a scalar
        b = x * 1.0
        b[0, 1][...] = x[1, 1] * w[0]
        out = b
    elif case == 2:  # a view of a 0-d base
        b = s * 1.0
        b.reshape(1).mul_(s)
        b.reshape(1)[0] = s * 3 * w[0]
        out = b * x
    else:  # clamp by tensor bounds at ties: the gradient goes to x, not half to the bound
        low, high = m.tensor([1.0, 0.0, 3.0], requires_grad=True), x[1].detach().clone()
        out = x.clamp(min=low * w, max=high) + x.clamp(min=low)
    (out * out).sum().backward()
    return out.detach().numpy(), x.grad.numpy(), w.grad.numpy() if w.grad is not None else 0.0


@pytest.mark.parametrize("case", range(4))
def test_more_in_place_and_layout_cases_match_torch(case: int) -> None:
    torch = pytest.importorskip("torch")
    _agree(_more_views_program(lucid, case), _more_views_program(torch, case))


def test_views_that_would_change_their_base_silently_are_refused() -> None:
    """A view taken before its base joined the graph, written with a constant, changed the
    base's values without its gradient (wrong gradients, silently); a view taken in no_grad
    of a tensor in a graph, written outside it, is refused in PyTorch too."""
    w = lucid.tensor([2.0, 3.0], requires_grad=True)
    c = lucid.tensor([[1.0, 2.0], [3.0, 4.0]])
    v = c[...]
    c[0].mul_(w)
    with pytest.raises(RuntimeError, match="taken before an in-place operation"):
        v[0] = 5.0
    b = w * 2
    with lucid.no_grad():
        u = b[0:1]
    with pytest.raises(RuntimeError, match="view created in no_grad mode"):
        u.add_(1)
    with lucid.no_grad():  # both inside no_grad: a plain write, as in PyTorch
        u.add_(1)
    assert b.tolist() == [5, 6]


def test_promotion_of_0d_tensors_scalars_and_in_place_results() -> None:
    """Of one category a tensor with dimensions decides over a 0-d one; integers raised to
    a float power or clamped by a float become float32; an in-place op does not store a
    float in an integer tensor (it truncated silently)."""
    floats = lucid.tensor([1.0, 2.0])
    assert (floats * lucid.tensor(2.0, dtype=lucid.float64)).dtype == np.float32
    int32 = lucid.tensor([1, 2], dtype=lucid.int32)
    assert (int32 + lucid.tensor(2)).dtype == np.int32 and (int32 + np.int64(2)).dtype == np.int32
    ints = lucid.tensor([1, 2])
    assert (ints**0.5).dtype == np.float32 and ints.clamp(min=1.5).dtype == np.float32
    assert (ints**2).dtype == np.int64
    with pytest.raises(RuntimeError, match="can't be cast"):
        ints.add_(1.5)
    assert ints.tolist() == [1, 2]


def test_bad_arguments_torch_refuses_are_refused() -> None:
    x = lucid.ones(2, 3, 4)
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        x.flatten(2, 1)
    with pytest.raises(IndexError, match="dimension out of range"):
        lucid.stack([x, x], dim=5)
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    assert lucid.stack([x, x], dim=-1).shape == (2, 3, 4, 2)


def test_remainder_floor_divide_and_xor() -> None:
    a = lucid.tensor([5.0, -5.0, 7.5], requires_grad=True)
    b = lucid.tensor([3.0, 3.0, -2.0], requires_grad=True)
    r = a % b
    assert r.tolist() == [2, 1, -0.5]  # the divisor's sign, as torch.remainder
    r.sum().backward()
    assert a.grad.tolist() == [1, 1, 1] and b.grad.tolist() == [-1, 2, 4]
    assert (lucid.tensor([7, -7]) // 2).tolist() == [3, -4] and (7 % lucid.tensor([4])).item() == 3
    with pytest.raises(RuntimeError, match="floor_divide"):
        (a // b).sum().backward()
    assert (lucid.tensor([True, False]) ^ lucid.tensor([True, True])).tolist() == [False, True]


def test_a_power_with_exponent_0_has_finite_gradients_at_0() -> None:
    base = lucid.tensor([0.0, 2.0], dtype=lucid.float64, requires_grad=True)
    exponent = lucid.tensor([0.0, 0.0], dtype=lucid.float64, requires_grad=True)
    (base**exponent).sum().backward()
    assert base.grad.tolist() == [0, 0] and exponent.grad.tolist() == [0, np.log(2)]


def test_remainder_and_power_against_torch() -> None:
    torch = pytest.importorskip("torch")
    data = (np.array([5.0, -5.0, 0.0, 2.5]), np.array([3.0, -2.0, 0.0, 1.5]))
    for op in (lambda x, y: x % y, lambda x, y: x**y):
        ours = [lucid.tensor(d, requires_grad=True) for d in data]
        theirs = [torch.tensor(d, requires_grad=True) for d in data]
        op(*ours).sum().backward()
        op(*theirs).sum().backward()
        for o, t in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), equal_nan=True)


def test_assignment_passes_the_gradient_of_what_it_writes() -> None:
    """``c[0:2] = x * 3`` dropped x's gradient through c (the ``out[:, i] = f(x)`` pattern)."""
    x = lucid.tensor([1.0, 2.0], requires_grad=True)
    c = lucid.zeros(3)
    c[0:2] = x * 3
    (c * x.sum()).sum().backward()
    assert c.tolist() == [3, 6, 0] and x.grad.tolist() == [18, 18]
    y = x * 1  # a tensor in the graph takes an assignment too
    y[1] = 0.0
    x.grad = None
    y.sum().backward()
    assert y.tolist() == [1, 0] and x.grad.tolist() == [1, 0]


def test_writes_reach_every_tensor_sharing_the_array_or_are_refused() -> None:
    x = lucid.tensor([1.0, 2.0], requires_grad=True)
    y = lucid.tensor([5.0, 5.0])
    y.detach().add_(x)  # the detached tensor shares y's array: y sees it, as in PyTorch
    assert y.tolist() == [6, 7]
    array = np.zeros(2)
    lucid.from_numpy(array).add_(x)
    assert array.tolist() == [1, 2]
    c = lucid.zeros(3)
    c[0:2].add_(x * 3)  # c joins the graph through its view, as in PyTorch
    c.sum().backward()
    assert c.tolist() == [3, 6, 0] and x.grad.tolist() == [3, 3]


def test_writes_that_a_backward_would_read_are_caught() -> None:
    x = lucid.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    with lucid.no_grad():
        y.mul_(2)  # exp's gradient is its output
    with pytest.raises(RuntimeError, match="output of Exp"):
        y.sum().backward()
    w = lucid.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = w[0:2]
    s = (v * v).sum()
    with lucid.no_grad():
        w.mul_(10)  # a write to w is a write to its view v
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        s.backward()
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    lucid.optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_writes_a_backward_does_not_read_are_allowed() -> None:
    x = lucid.tensor([3.0, 4.0])
    w = lucid.tensor([1.0, 2.0], requires_grad=True)
    y = (x * w).sum()
    with lucid.no_grad():
        w.add_(1)  # w's gradient needs x, not w
    y.backward()
    assert w.grad.tolist() == [3, 4]


def test_stand_ins_go_with_their_graph() -> None:
    import gc

    x = lucid.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    for _ in range(5):
        h.add_(1)
        h.mul_(x)  # the mul keeps h's old values: h gets new arrays
    h.sum().backward()
    gc.collect()
    assert len(h._replaced) == 0


def test_assignment_and_in_place_against_torch() -> None:
    torch = pytest.importorskip("torch")

    def run(m):  # noqa: ANN001, ANN202 - lucid or torch
        x = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        out = m.zeros(2, 3)
        out[:, 0] = x.sum(1)
        out[:, 1] = (x * x).sum(1)
        h = out * 2
        h[:, 2] = x[:, 0]
        h.add_(x.sum())
        (h * h).sum().backward()
        return h.detach().numpy(), x.grad.numpy()

    _agree(run(lucid), run(torch))


def test_in_place_on_a_0d_result() -> None:
    """``loss += reg`` on a reduction's 0-d result raised TypeError (a numpy scalar)."""
    x = lucid.tensor([1.0, 2.0], requires_grad=True)
    loss = F.mse_loss(x, lucid.zeros(2))
    loss += x.sum()
    loss.backward()
    assert loss.item() == 5.5 and x.grad.tolist() == [2, 3]
    c = lucid.zeros(2, 2)
    element = c[0, 1]  # one element is a view, as in PyTorch
    element += 5
    assert c.tolist() == [[0, 5], [0, 0]]


def test_aliases_see_writes_that_keep_old_values_for_the_gradient() -> None:
    x = lucid.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    alias = y.detach()
    y.mul_(x)  # mul reads y's old values for x's gradient: they are kept apart
    assert alias.tolist() == [2, 8]
    y.sum().backward()
    assert x.grad.tolist() == [2 * 1 + 2, 2 * 2 + 4]


def test_a_view_taken_before_a_write_is_refused_when_used_after() -> None:
    """Its gradient would go to the base as it was (PyTorch takes the view again)."""
    x = lucid.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    v = y[0:1]
    y.mul_(3.0)
    assert v.tolist() == [6]
    with pytest.raises(RuntimeError, match="view .* taken before an in-place operation"):
        v.sum()
    c = lucid.zeros(2, 2)
    r = c.T  # a view of c, outside the graph
    c[0] = x  # c joins the graph: r would bring its values without their gradient
    with pytest.raises(RuntimeError, match="view .* taken before an in-place operation"):
        r * 2
    assert c.T.sum().requires_grad  # taken again, it is in the graph


def test_views_used_before_the_write_keep_their_gradient() -> None:
    """Self-referencing writes and recurrences use a view before the write: as in PyTorch."""
    x = lucid.tensor([1.0, 2.0, 3.0], requires_grad=True)
    buf = lucid.zeros(3)
    buf[0] = x[0]
    for t in (1, 2):
        buf[t] = buf[t - 1] * 0.5 + x[t]
    buf.sum().backward()
    assert buf.tolist() == [1, 2.5, 4.25] and x.grad.tolist() == [1.75, 1.5, 1]
    w = lucid.tensor([[1.0, 2.0]], requires_grad=True)
    out = (lucid.tensor([[3.0, 4.0]]) @ w.T).sum()  # w.T's gradient needs no w values
    with lucid.no_grad():
        w.mul_(10)
    out.backward()
    assert w.grad.tolist() == [[3, 4]]


def test_a_0d_result_shares_its_array_with_aliases() -> None:
    x = lucid.tensor([1.0, 2.0], requires_grad=True)
    s = x.sum()
    logged = s.detach()
    s += 1.5
    assert logged.item() == 4.5
    s = x.sum()
    s.detach().zero_()  # s is 0 now; its gradient path is as it was (PyTorch: the same)
    (s * x).sum().backward()
    assert s.item() == 0 and x.grad.tolist() == [3, 3]
    v = x.sum().reshape(1)
    assert v.tolist() == [3]


def test_a_kept_output_written_through_an_alias_is_caught() -> None:
    x = lucid.tensor([1.0, 2.0], requires_grad=True)
    for make in (lambda t: t.exp(), lambda t: t.sigmoid(), lambda t: t.amax(0, keepdim=True)):
        y = make(x)
        y.detach().mul_(2)
        with pytest.raises(RuntimeError, match="output of"):
            y.sum().backward()


def test_copy_of_a_python_float_keeps_float64() -> None:
    t = lucid.zeros(2, dtype=lucid.float64)
    t.copy_(0.1)
    assert t.tolist() == [0.1, 0.1] and lucid.tensor([0.1], dtype=lucid.float64).item() == 0.1


def test_a_stale_view_of_a_view_or_as_the_root_is_refused() -> None:
    x = lucid.tensor([1.0, 2.0, 3.0], requires_grad=True)
    z = lucid.tensor([2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1.0
    w = y[0:2][0:1]
    v = y[0:2]
    y.mul_(z)
    for use in (lambda: w.sum(), lambda: v.backward(lucid.ones(2)),
                lambda: lucid.autograd.grad(v, [x], lucid.ones(2))):
        with pytest.raises(RuntimeError, match="view .* taken before an in-place operation"):
            use()


def test_gradients_accumulate_in_place() -> None:
    """As PyTorch: a detached alias of ``.grad`` sees later accumulation; a 0-d leaf's
    accumulated gradient can be zeroed in place (it was a numpy scalar)."""
    x = lucid.tensor(2.0, requires_grad=True)
    (x * x).backward()
    seen = x.grad.detach()
    (x * 3).backward()
    assert x.grad.item() == 7 and seen.item() == 7
    x.grad.zero_()
    assert x.grad.item() == 0


def test_a_reshape_that_copies_is_no_view() -> None:
    """A reshape of a transposed tensor copies: its base moving later does not concern it."""
    x = lucid.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1.0
    w = y.T.reshape(4)
    y.mul_(2.0)
    (w * w).sum().backward()
    assert x.grad.tolist() == [[2, 4], [6, 8]]


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_steps_a_0d_parameter(amsgrad: bool) -> None:
    """It raised 'return arrays must be of ArrayType' (numpy's sqrt of a 0-d array is a
    scalar); three steps, against torch's."""

    def run(m):  # noqa: ANN001, ANN202 - lucid or torch
        w = m.tensor(2.0, dtype=m.float64, requires_grad=True)
        opt = m.optim.Adam([w], lr=0.1, amsgrad=amsgrad)
        for _ in range(3):
            opt.zero_grad()
            (w * w).backward()
            opt.step()
        return w.item()

    ours = run(lucid)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(ours, run(torch), rtol=1e-12)


def test_backward_into_chosen_inputs_and_create_graph_refused() -> None:
    """``backward(inputs=...)`` (a TypeError before) fills only those tensors' ``.grad``,
    leaves or not, as PyTorch's; ``create_graph=True`` says plainly that it is unsupported."""
    torch = pytest.importorskip("torch")

    def run(m):  # noqa: ANN001, ANN202 - lucid or torch
        x = m.tensor([1.0, 2.0], requires_grad=True)
        w = m.tensor([3.0, 4.0], requires_grad=True)
        h = x * w
        (h**2).sum().backward(inputs=[x, h], retain_graph=True)
        h_grad = h.grad.numpy().copy()
        (h**2).sum().backward(inputs=x)  # one tensor for a sequence; it accumulates
        return x.grad.numpy(), h_grad, w.grad

    ours, theirs = run(lucid), run(torch)
    _agree(ours[:2], theirs[:2])
    assert ours[2] is None and theirs[2] is None
    x = lucid.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (x * 2).sum().backward(inputs=[])
    with pytest.raises(NotImplementedError, match="create_graph=True"):
        (x * 2).sum().backward(create_graph=True)
    with pytest.raises(NotImplementedError, match="create_graph=True"):
        lucid.autograd.grad((x * 2).sum(), [x], create_graph=True)
    (g,) = lucid.autograd.grad((x * 2).sum(), [x], create_graph=False)
    assert g.tolist() == [2.0]


def test_integer_and_bool_casts_end_the_graph() -> None:
    """``.long()`` and friends kept ``requires_grad`` and passed gradients through."""
    torch = pytest.importorskip("torch")

    def run(m):  # noqa: ANN001, ANN202 - lucid or torch
        x = m.tensor([1.5, -2.7, 3.2], requires_grad=True)
        y = x.long()
        (y * x).sum().backward()
        z = x.to(m.bool)
        return y.requires_grad, z.requires_grad, x.grad.numpy()

    ours, theirs = run(lucid), run(torch)
    assert ours[:2] == theirs[:2] == (False, False)
    np.testing.assert_array_equal(ours[2], theirs[2])


INDEXES = ["[0, :, [1, 2]]", "[1, ::2, [0, 3]]", "[[0, 1], 0, [1, 2]]", "[None, 0, :, [1, 2]]",
           "[..., 0, [1, 2]]", "[0, ..., [1, 2]]", "[0, :, mask]", "[m.tensor(0), :, [1, 2]]",
           "[[1], 2, None, [0, 3]]"]


@pytest.mark.parametrize("index", INDEXES)
def test_integers_mixed_with_advanced_indices_index_as_pytorch(index: str) -> None:
    """PyTorch takes the integers first; numpy counted them among the advanced indices and
    moved the indexed dims to the front (the values came back transposed, silently)."""
    torch = pytest.importorskip("torch")

    def run(m):  # noqa: ANN001, ANN202 - lucid or torch
        mask = m.tensor([True, False, True, False])  # noqa: F841 - used by the index
        x = m.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
        y = eval("x" + index)  # noqa: S307 - the index forms above
        weights = m.tensor(np.arange(float(y.numel())).reshape(tuple(y.shape)))
        (y * weights).sum().backward()
        b = m.tensor(np.arange(24.0).reshape(2, 3, 4))
        exec("b" + index + " = weights + 100")  # noqa: S102 - the same index, written
        return y.detach().numpy(), x.grad.numpy(), b.numpy()

    ours, theirs = run(lucid), run(torch)
    assert ours[0].shape == theirs[0].shape
    _agree(ours, theirs)


def test_comparisons_where_and_bitwise_ops_promote_as_pytorch() -> None:
    """They went to numpy's rules: a float32 tensor compared with a 0-d float64 one in
    float64 (0.1 != 0.1), where() widened to float64 or int64, & took a 0-d int64's dtype;
    and an int out of an integer dtype's range raised where PyTorch wraps it."""
    torch = pytest.importorskip("torch")

    def run(m):  # noqa: ANN001, ANN202 - lucid or torch
        c = m.tensor([True, False])
        return [
            (m.tensor([0.1, 0.3]) == m.tensor(0.1, dtype=m.float64)).tolist(),
            (m.tensor([0.3]) <= m.tensor(0.3, dtype=m.float64)).tolist(),
            str(m.where(c, m.tensor([1, 2]), 2.5).dtype).split(".")[-1],
            str(m.where(c, m.tensor([1, 2], dtype=m.int32), 5).dtype).split(".")[-1],
            str(m.where(c, m.tensor([1.0, 2.0]), m.tensor(1.0, dtype=m.float64)).dtype
                ).split(".")[-1],
            str((m.tensor([1, 2], dtype=m.int32) & m.tensor(3)).dtype).split(".")[-1],
            (m.tensor([1], dtype=m.int8) + 300).tolist(),
            (m.tensor([1], dtype=m.uint8) - 4).tolist(),
        ]

    assert run(lucid) == run(torch)


@pytest.mark.filterwarnings("ignore:var\\(\\). degrees of freedom")  # torch's, past correction
def test_reductions_match_torch_at_their_edges() -> None:
    """dim=() reduced nothing (PyTorch: everything); argmax(keepdim=True) without a dim
    kept no dims; max() of a NaN gave NaN gradients (PyTorch's go to the NaN); maximum at a
    NaN stopped the gradient; var past its correction was NaN (PyTorch: inf); an int32
    sum asked for in int32 came back int64."""
    torch = pytest.importorskip("torch")

    def run(m):  # noqa: ANN001, ANN202 - lucid or torch
        out = [tuple(m.ones(2, 3).sum(dim=()).shape), tuple(m.ones(2, 3).var(dim=[]).shape),
               tuple(m.tensor([[1.0, 5.0], [3.0, 2.0]]).argmax(keepdim=True).shape),
               m.tensor([1.0, 2.0, 4.0]).var(correction=5).item(),
               str(m.tensor([1, 2], dtype=m.int32).sum(dtype=m.int32).dtype).split(".")[-1]]
        a = m.tensor([1.0, np.nan, 3.0], requires_grad=True)
        a.max().backward()
        b = m.tensor([np.nan, 1.0], requires_grad=True)
        c = m.tensor([0.0, np.nan], requires_grad=True)
        m.maximum(b, c).sum().backward()
        return out + [a.grad.tolist(), b.grad.tolist(), c.grad.tolist()]

    assert run(lucid) == run(torch)


def test_the_operators_named_methods() -> None:
    """Tensor.add, sub (with alpha), mul, div, pow and neg were missing (AttributeError)."""
    torch = pytest.importorskip("torch")

    def run(m):  # noqa: ANN001, ANN202 - lucid or torch
        x = m.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x.add(2.0).sub(x, alpha=0.5).mul(x).div(4.0).pow(2).neg().add(x, alpha=3)
        y.sum().backward()
        return y.detach().numpy(), x.grad.numpy(), m.add(x, x, alpha=2).detach().numpy()

    _agree(run(lucid), run(torch))


def test_randint_sum_and_mean_signatures() -> None:
    """randint(high, size) raised 'low >= high'; lucid.sum had no dtype, mean none at all."""
    torch = pytest.importorskip("torch")
    drawn = lucid.randint(5, (2, 3))
    assert drawn.shape == (2, 3) and drawn.dtype == np.int64
    assert 0 <= drawn.numpy().min() and drawn.numpy().max() < 5
    ints = [[1, 2], [3, 4]]
    for m in (lucid, torch):
        t = m.tensor(ints)
        got = (m.sum(t, dtype=m.float64).item(), m.mean(t, dim=0, dtype=m.float64).tolist(),
               str(t.mean(dtype=m.float32).dtype).split(".")[-1])
        assert got == (10.0, [2.0, 3.0], "float32"), m


def test_numpy_scalars_keep_their_dtype_in_creation() -> None:
    """A list of numpy float64 scalars became float32, and full() of a numpy int float32."""
    torch = pytest.importorskip("torch")

    def dtypes(m):  # noqa: ANN001, ANN202 - lucid or torch
        made = [m.full((2,), np.int64(2)), m.full((2,), np.float64(2)), m.full((2,), 2),
                m.tensor([np.float64(1.0)]), m.tensor([[np.float64(1.0)], [2.0]]),
                m.tensor([np.float16(1.0), 2.0]), m.tensor([1.0, 2.0]), m.tensor([np.int32(1)])]
        return [str(t.dtype).split(".")[-1] for t in made]

    assert dtypes(lucid) == dtypes(torch)


def test_optimizer_groups_lambda_state_and_module_memo_as_pytorch() -> None:
    """A param group's dict was copied (later edits to it were lost); LambdaLR saved its
    lambdas under '_lr_lambdas' (torch's key is 'lr_lambdas', and loading torch's dict left
    None lambdas that crashed the next step); named_modules' memo held ids, not modules."""
    torch = pytest.importorskip("torch")
    from lucid.optim.lr_scheduler import LambdaLR

    def run(m, optim, scheduler):  # noqa: ANN001, ANN202 - lucid or torch
        group = {"params": [m.zeros(1, requires_grad=True)], "lr": 0.1}
        opt = optim.SGD([group], lr=1.0)
        group["lr"] = 0.5
        keys = sorted(scheduler(opt, lambda e: 0.5**e).state_dict())
        net = m.nn.Sequential(m.nn.ReLU(), m.nn.Tanh())
        names = [n for n, _ in net.named_modules(memo={net[0]})]
        return opt.param_groups[0]["lr"], opt.param_groups[0] is group, keys, names

    ours = run(lucid, lucid.optim, LambdaLR)
    theirs = run(torch, torch.optim, torch.optim.lr_scheduler.LambdaLR)
    assert ours[:2] == theirs[:2] == (0.5, True)
    assert "lr_lambdas" in ours[2] and "lr_lambdas" in theirs[2]
    assert ours[3] == theirs[3] == ["", "1"]


def test_writes_into_an_expanded_tensor_are_refused_as_pytorch() -> None:
    """An in-place op on an expand()ed tensor (its elements share memory) raised numpy's
    'assignment destination is read-only'; PyTorch's error now, the same for both."""
    torch = pytest.importorskip("torch")
    for m in (lucid, torch):
        x = m.zeros(3, 1).expand(3, 4)
        for write in (lambda t: t.add_(1), lambda t: t.mul_(2),
                      lambda t: t.copy_(m.ones(3, 4))):  # noqa: B023 - m is the loop's module
            with pytest.raises(RuntimeError, match="more than one element of the written-to"):
                write(x)
    x = lucid.zeros(3, 1).expand(3, 4)
    for write in (lambda: x.zero_(), lambda: x.__setitem__((0, 0), 1)):
        with pytest.raises(RuntimeError, match="more than one element"):
            write()  # PyTorch writes the shared memory here; lucid refuses, as documented
    row = lucid.zeros(1, 4).expand(3, 4).clone()
    row[0, 0] = 1  # a clone owns its memory
    assert row.sum().item() == 1
