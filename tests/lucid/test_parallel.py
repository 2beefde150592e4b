"""`lucid.parallel`: a batch differentiated in shards on threads gives the whole batch's
gradient, and numpy's BLAS thread count is put back."""

import numpy as np
import pytest

import lucid
import lucid.nn.functional as F
from lucid import nn
from lucid.parallel import (
    blas_threads,
    data_parallel_backward,
    limit_blas_threads,
    shard_slices,
    thread_map,
)


def test_shard_slices_cover_the_batch_in_near_equal_parts() -> None:
    assert shard_slices(8, 3) == [slice(0, 3), slice(3, 6), slice(6, 8)]
    assert shard_slices(2, 5) == [slice(0, 1), slice(1, 2)]
    assert shard_slices(5, 1) == [slice(0, 5)]


def small_net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.InstanceNorm2d(8, affine=True),
                         nn.ReLU(), nn.Conv2d(8, 4, 3), nn.Conv2d(4, 2, 1)).double()


def batch_losses(net: nn.Module, x: lucid.Tensor, target: lucid.Tensor):
    def losses(part: slice) -> list[lucid.Tensor]:
        out = net(x[part])
        mse = F.mse_loss(out, target[part])
        return [mse + out.abs().mean() * 0.1, mse]
    return losses


@pytest.mark.parametrize("workers", [2, 3, 5])
def test_sharded_gradient_equals_the_whole_batch(workers: int) -> None:
    rng = np.random.default_rng(0)
    x = lucid.tensor(rng.normal(size=(5, 3, 9, 9)))
    target = lucid.tensor(rng.normal(size=(5, 2, 7, 7)))
    net = small_net()
    losses = batch_losses(net, x, target)
    params = list(net.parameters())

    whole = data_parallel_backward(losses, 5, params, workers=1)
    expected = [p.grad.numpy().copy() for p in params]
    for p in params:
        p.grad = None
    sharded = data_parallel_backward(losses, 5, params, workers=workers)

    np.testing.assert_allclose(sharded, whole, rtol=1e-12)
    for name, p, e in zip([n for n, _ in net.named_parameters()], params, expected):
        np.testing.assert_allclose(p.grad.numpy(), e, rtol=1e-10, atol=1e-14, err_msg=name)


def test_sharded_gradients_accumulate_and_repeat_bit_for_bit() -> None:
    rng = np.random.default_rng(1)
    x = lucid.tensor(rng.normal(size=(6, 3, 8, 8)))
    target = lucid.tensor(rng.normal(size=(6, 2, 6, 6)))
    net = small_net()
    params = list(net.parameters())
    data_parallel_backward(batch_losses(net, x, target), 6, params, workers=3)
    once = [p.grad.numpy().copy() for p in params]
    data_parallel_backward(batch_losses(net, x, target), 6, params, workers=3)
    for p, g in zip(params, once):
        np.testing.assert_array_equal(p.grad.numpy(), 2 * g)  # x + x is exact


def test_an_unused_parameter_gets_no_gradient() -> None:
    used, unused = (lucid.ones(2, requires_grad=True) for _ in range(2))
    x = lucid.tensor([[1.0, 2.0], [3.0, 4.0]])
    data_parallel_backward(lambda part: [(x[part] * used).sum(1).mean()], 2, [used, unused], 2)
    assert used.grad.tolist() == [2.0, 3.0] and unused.grad is None


def test_blas_threads_are_put_back_even_when_a_shard_fails() -> None:
    before = blas_threads()
    if before is None:
        pytest.skip("numpy's BLAS is not OpenBLAS: no thread control")
    with limit_blas_threads(1):
        assert blas_threads() == 1
    assert blas_threads() == before

    def broken(part: slice) -> list[lucid.Tensor]:
        raise ValueError("bad shard")

    with pytest.raises(ValueError, match="bad shard"):
        data_parallel_backward(broken, 4, [lucid.ones(1, requires_grad=True)], workers=2)
    assert blas_threads() == before


def test_shards_run_in_the_callers_grad_mode() -> None:
    for mode in (lucid.no_grad, lucid.enable_grad):
        with mode():
            seen = thread_map(lambda item: lucid.is_grad_enabled(), range(3), 3)
        assert seen == [mode is lucid.enable_grad] * 3


def test_frozen_parameters_are_left_alone() -> None:
    rng = np.random.default_rng(2)
    x = lucid.tensor(rng.normal(size=(4, 3, 6, 6)))
    target = lucid.tensor(rng.normal(size=(4, 2, 4, 4)))
    net = small_net()
    net[0].requires_grad_(False)
    params = list(net.parameters())
    data_parallel_backward(batch_losses(net, x, target), 4, params, workers=2)
    assert net[0].weight.grad is None and net[3].weight.grad is not None


def test_overlapping_blas_limits_end_at_the_original_count() -> None:
    """Contexts entered on several threads leave in any order: the newest live one holds,
    and the count from before the first comes back after the last."""
    before = blas_threads()
    if before is None:
        pytest.skip("numpy's BLAS is not OpenBLAS: no thread control")
    first, second = limit_blas_threads(1), limit_blas_threads(3)
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first one leaves first, as another thread might
    assert blas_threads() == 3
    second.__exit__(None, None, None)
    assert blas_threads() == before


def test_thread_map_inside_thread_map_runs_inline() -> None:
    inner = thread_map(lambda i: thread_map(lambda j: (i, j), range(2), 2), range(2), 2)
    assert inner == [[(0, 0), (0, 1)], [(1, 0), (1, 1)]]
