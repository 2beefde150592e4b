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
