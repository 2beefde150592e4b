"""The autograd engine: accumulation, broadcasting, graph freeing and no_grad."""

import numpy as np
import pytest

import lucid


def test_gradients_accumulate_across_backward_calls() -> None:
    x = lucid.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [3.0 + 2.0, 3.0 + 4.0]


def test_a_tensor_used_twice_gets_both_contributions() -> None:
    x = lucid.tensor(3.0, requires_grad=True)
    y = x * x + x
    y.backward()
    assert x.grad.item() == 7.0


def test_broadcast_gradient_is_reduced_to_the_input_shape() -> None:
    bias = lucid.zeros(4, requires_grad=True)
    x = lucid.ones(3, 2, 4)
    (x + bias).sum().backward()
    assert bias.grad.shape == (4,) and bias.grad.tolist() == [6.0] * 4


def test_backward_needs_a_gradient_for_non_scalars() -> None:
    x = lucid.ones(3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="scalar outputs"):
        y.backward()
    y.backward(lucid.tensor([1.0, 0.0, -1.0]))
    assert x.grad.tolist() == [2.0, 0.0, -2.0]


def test_second_backward_without_retain_graph_raises() -> None:
    x = lucid.ones(2, requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 4.0]
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_no_grad_builds_no_graph() -> None:
    x = lucid.ones(2, requires_grad=True)
    with lucid.no_grad():
        y = x * 2 + 1
    assert not y.requires_grad and y.grad_fn is None
    assert lucid.is_grad_enabled()

    @lucid.no_grad()
    def double(t):
        return t * 2

    assert double(x).grad_fn is None


def test_no_grad_keeps_no_activations_alive() -> None:
    import gc
    import weakref

    x = lucid.ones(1000, requires_grad=True)
    with lucid.no_grad():
        hidden = x * 2
        ref = weakref.ref(hidden.data)
        out = hidden + 1
        del hidden
    gc.collect()
    assert ref() is None and out.grad_fn is None


def test_detach_and_requires_grad_() -> None:
    x = lucid.ones(2, requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad
    z = lucid.ones(2).requires_grad_()
    (z * y).sum().backward()
    assert z.grad.tolist() == [2.0, 2.0] and x.grad is None
    with pytest.raises(RuntimeError, match="floating point"):
        lucid.tensor([1, 2]).requires_grad_()


def test_dtype_cast_passes_gradient_back_in_the_source_dtype() -> None:
    x = lucid.ones(2, dtype=lucid.float32, requires_grad=True)
    (x.to(lucid.float64) * 3).sum().backward()
    assert x.grad.dtype == lucid.float32 and x.grad.tolist() == [3.0, 3.0]


def test_deep_graph_does_not_hit_recursion_limit() -> None:
    x = lucid.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0001**5000, rtol=1e-3)


def test_grad_returns_what_backward_would_accumulate_and_touches_no_grad() -> None:
    x = lucid.tensor([[1.0, -2.0], [3.0, 0.5]], dtype=lucid.float64, requires_grad=True)
    w = lucid.tensor([0.5, -1.5], dtype=lucid.float64, requires_grad=True)

    def loss() -> lucid.Tensor:
        return ((x * w).relu() ** 2).sum() + (x.exp() * w).mean()

    gx, gw = lucid.autograd.grad(loss(), [x, w])
    assert x.grad is None and w.grad is None
    loss().backward()
    np.testing.assert_array_equal(gx.numpy(), x.grad.numpy())
    np.testing.assert_array_equal(gw.numpy(), w.grad.numpy())


def test_grad_of_an_intermediate_tensor_and_with_grad_outputs() -> None:
    x = lucid.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 2
    y = h * h
    (gh, gx) = lucid.autograd.grad(y, [h, x], grad_outputs=lucid.tensor([1.0, 0.0, -1.0]))
    assert gh.tolist() == [4.0, 0.0, -12.0]  # dy/dh = 2h, seeded
    assert gx.tolist() == [8.0, 0.0, -24.0]


def test_grad_of_an_unused_input_is_an_error_unless_allowed() -> None:
    x = lucid.tensor([1.0], requires_grad=True)
    unused = lucid.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="not have been used"):
        lucid.autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = lucid.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gx.tolist() == [2.0] and gu is None


def test_grad_matches_torch_autograd_grad() -> None:
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(1).normal(size=(3, 4))
    x = lucid.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    (ours,) = lucid.autograd.grad((x.tanh() * x).sum(), [x])
    (theirs,) = torch.autograd.grad((t.tanh() * t).sum(), [t])
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_grad_takes_a_lone_tensor_and_array_grad_outputs_as_torch_does() -> None:
    x = lucid.tensor([1.0, 2.0], requires_grad=True)
    (g,) = lucid.autograd.grad([(x * x).sum()], x)
    assert g.tolist() == [2.0, 4.0]
    (g,) = lucid.autograd.grad(x * 3, x, grad_outputs=[np.array([1.0, -1.0])])
    assert g.tolist() == [3.0, -3.0]


def test_tensor_hooks_and_retain_grad_match_torch() -> None:
    """Hooks on a leaf and on an inner tensor change the gradient that flows on and that the
    leaf keeps; an observer's None changes nothing; hooks run in order; retained gradients
    are the hooked ones and add up across passes (the root's too); a removed hook (also by
    ``with``) no longer runs; autograd.grad runs the hooks too."""
    torch = pytest.importorskip("torch")
    base = np.array([[1.0, -2.0], [0.5, 3.0]])

    def program(m):  # noqa: ANN001, ANN202 - lucid or torch
        seen = []
        x = m.tensor(base, requires_grad=True)
        x.register_hook(lambda g: g + 1)
        y = x * x
        y.retain_grad()
        y.register_hook(lambda g: seen.append(g.sum().item()))
        doubled = y.register_hook(lambda g: g * 2)
        y.register_hook(lambda g: g - 0.5)
        z = (y * m.tensor(base)).sum()
        z.retain_grad()
        z.backward(retain_graph=True)
        doubled.remove()
        with y.register_hook(lambda g: g * 10):
            z.backward(retain_graph=True)
        z.backward(retain_graph=True)
        (gx,) = (m.autograd.grad(z, [x]))
        return [x.grad, y.grad, z.grad, gx, m.tensor(seen)]

    for ours, theirs in zip(program(lucid), program(torch), strict=True):
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12)
    assert not lucid.ones(1, requires_grad=True).retains_grad


def test_tensor_hook_refusals_match_torch() -> None:
    """A hook on a tensor without gradient, and one returning another shape or dtype, are
    refused; retain_grad without gradient too; retain_grad on a leaf keeps nothing more."""
    torch = pytest.importorskip("torch")
    for m in (lucid, torch):
        with pytest.raises(RuntimeError):
            m.ones(2).register_hook(lambda g: g)
        with pytest.raises(RuntimeError):
            m.ones(2).retain_grad()
        for wrong in (lambda g: g[:1], lambda g: g.double()):
            x = m.ones(2, requires_grad=True)
            x.register_hook(wrong)
            with pytest.raises(RuntimeError, match="hook"):
                (x * 2).sum().backward()
        leaf = m.ones(2, requires_grad=True)
        leaf.retain_grad()
        assert not leaf.retains_grad


def test_hooks_and_partial_backwards_review_findings_match_torch() -> None:
    """Found by a differential review (each failed before): a hook registered before an
    in-place change runs on the earlier value's gradient (on a tensor, and on a base whose
    view changes); backward(inputs=...) and autograd.grad run only the graph that leads to
    the inputs (hooks and retained gradients elsewhere untouched: yb's is the grad call's);
    a retained gradient is a new tensor each pass."""
    torch = pytest.importorskip("torch")

    def program(m):  # noqa: ANN001, ANN202 - lucid or torch
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.register_hook(lambda g: g.clamp(max=20))
        y.mul_(2)
        (y * y).sum().backward()
        base = x * 1
        base.register_hook(lambda g: g * 10)
        base[:1].mul_(5)
        x.grad = None
        (base * base).sum().backward()
        seen = []
        a, b = m.ones(2, requires_grad=True), m.tensor([1.0, 2.0], requires_grad=True)
        yb = b * 3
        yb.retain_grad()
        b.register_hook(seen.append)
        (a * yb).sum().backward(inputs=[a])
        (ga,) = m.autograd.grad((a * yb).sum(), [yb])
        kept = m.ones(2, requires_grad=True) * 2
        kept.retain_grad()
        (kept * kept).sum().backward(retain_graph=True)
        first = kept.grad
        (kept * kept).sum().backward()
        return [x.grad.tolist(), a.grad.tolist(), yb.grad.tolist(), len(seen), b.grad,
                ga.tolist(), first.tolist(), kept.grad.tolist()]

    assert program(lucid) == program(torch)
