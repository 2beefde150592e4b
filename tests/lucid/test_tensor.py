"""Tensor basics: creation, dtypes, devices, conversion, in-place rules, indexing."""

import platform
from types import SimpleNamespace

import numpy as np
import pytest

import lucid
from lucid.tensor import check_same_device


def test_default_dtypes_follow_pytorch() -> None:
    assert lucid.tensor([1.0, 2.0]).dtype == lucid.float32
    assert lucid.tensor([1, 2]).dtype == lucid.int64
    assert lucid.tensor([True]).dtype == lucid.bool_
    assert lucid.tensor(np.zeros(2, dtype=np.float64)).dtype == lucid.float64
    assert lucid.zeros(2, 3).dtype == lucid.float32
    assert lucid.arange(4).dtype == lucid.int64
    assert lucid.arange(0, 1, 0.25).dtype == lucid.float32
    assert lucid.full((2,), 3).dtype == lucid.int64
    assert (lucid.tensor([1, 2]) + 0.5).dtype == lucid.float32
    assert (lucid.tensor([1, 2]) / 2).dtype == lucid.float32
    assert (lucid.ones(2, dtype=lucid.float16) * 2.0).dtype == lucid.float16
    assert lucid.tensor([1, 2]).sum().dtype == lucid.int64


def test_creation_shapes_and_values() -> None:
    assert lucid.zeros(2, 3).shape == (2, 3)
    assert lucid.ones((4,)).numpy().tolist() == [1.0] * 4
    assert lucid.empty(3, 1).shape == (3, 1)
    assert lucid.full((2, 2), 7.5).numpy().tolist() == [[7.5, 7.5], [7.5, 7.5]]
    assert lucid.arange(1, 7, 2).tolist() == [1, 3, 5]
    x = lucid.randn(5, 4, dtype=lucid.float64)
    for like in (lucid.zeros_like, lucid.ones_like, lucid.rand_like, lucid.randn_like,
                 lucid.empty_like):
        y = like(x)
        assert y.shape == x.shape and y.dtype == lucid.float64
    assert lucid.full_like(x, 2).numpy().max() == 2


def test_from_numpy_shares_memory_and_tensor_copies() -> None:
    array = np.zeros(3, dtype=np.float32)
    shared, copied = lucid.from_numpy(array), lucid.tensor(array)
    array[0] = 5
    assert shared.numpy()[0] == 5 and copied.numpy()[0] == 0


def test_manual_seed_reproduces_random_tensors() -> None:
    lucid.manual_seed(123)
    a, b = lucid.rand(4), lucid.randn(3, 2)
    lucid.manual_seed(123)
    np.testing.assert_array_equal(a.numpy(), lucid.rand(4).numpy())
    np.testing.assert_array_equal(b.numpy(), lucid.randn(3, 2).numpy())
    assert 0 <= a.numpy().min() and a.numpy().max() < 1


def test_rng_state_round_trip() -> None:
    state = lucid.get_rng_state()
    first = lucid.randn(3).numpy()
    lucid.set_rng_state(state)
    np.testing.assert_array_equal(first, lucid.randn(3).numpy())


def test_conversion_methods() -> None:
    x = lucid.tensor([[1.5, -2.0]])
    assert lucid.tensor([3.0]).item() == 3.0
    with pytest.raises(ValueError, match="2 elements"):
        x.item()
    assert x.to(lucid.float64).dtype == lucid.float64
    assert x.double().dtype == lucid.float64 and x.half().dtype == lucid.float16
    assert x.long().tolist() == [[1, -2]]
    assert x.cpu().device == "cpu" and x.to("cpu") is x
    assert x.clone().numpy() is not x.numpy()
    assert x.size() == (1, 2) and x.size(1) == 2 and x.dim() == 2 and x.numel() == 2
    y = lucid.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        y.numpy()
    assert y.detach().numpy().tolist() == [1.0, 1.0]


def test_device_names_and_aliases() -> None:
    assert lucid.device("cuda") == lucid.device("gpu") == lucid.device("gpu:0")
    assert str(lucid.device("cuda:1")) == "gpu:1"
    assert lucid.device("cpu") == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        lucid.device("tpu")
    assert isinstance(lucid.gpu.is_available(), bool)


def test_mixing_devices_raises_a_clear_error() -> None:
    cpu = SimpleNamespace(device=lucid.device("cpu"))
    gpu = SimpleNamespace(device=lucid.device("gpu"))
    with pytest.raises(RuntimeError, match="same device.*cpu and gpu"):
        check_same_device([cpu, gpu], "add")


def test_gpu_request_without_gpu_is_clear() -> None:
    if lucid.gpu.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="CuPy sees none"):
        lucid.zeros(2, device="gpu")


def test_gpu_round_trip(device: str) -> None:
    x = lucid.arange(6, dtype=lucid.float32, device=device).reshape(2, 3)
    assert x.device == device
    back = x.to("cpu")
    assert back.device == "cpu" and back.numpy().tolist() == [[0, 1, 2], [3, 4, 5]]


def test_inplace_rules() -> None:
    x = lucid.ones(3)
    x += 2
    x.mul_(2).sub_(1)
    assert x.tolist() == [5.0, 5.0, 5.0]
    leaf = lucid.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        leaf.add_(1)
    with lucid.no_grad():
        leaf.add_(1)
    assert leaf.tolist() == [2.0, 2.0]
    x.zero_()
    assert x.tolist() == [0.0, 0.0, 0.0]


def test_setitem_only_under_no_grad_for_grad_tensors() -> None:
    w = lucid.zeros(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w[0] = 1.0
    with lucid.no_grad():
        w[0, 1:] = lucid.tensor([4.0, 5.0])
    assert w.detach().tolist() == [[0.0, 4.0, 5.0], [0.0, 0.0, 0.0]]


def test_comparisons_and_masks() -> None:
    x = lucid.tensor([1.0, -2.0, 3.0])
    assert (x > 0).tolist() == [True, False, True]
    assert (x == 3).tolist() == [False, False, True]
    assert x[x > 0].tolist() == [1.0, 3.0]
    assert ((x > 0) & (x < 2)).tolist() == [True, False, False]


def test_shape_errors_are_clear() -> None:
    x = lucid.zeros(2, 3)
    with pytest.raises(IndexError, match="dimension out of range"):
        x.sum(2)
    with pytest.raises(RuntimeError, match="permutation"):
        x.permute(0, 0)
    with pytest.raises(ValueError, match="pad"):
        lucid.functional.pad(x, (3, 0), mode="reflect")


def test_repr_mentions_grad_state() -> None:
    x = lucid.ones(2, requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn" in repr(x * 2)
    assert "float64" in repr(lucid.zeros(1, dtype=lucid.float64))


def test_empty_tensor_repr_shows_size_and_dtype_as_pytorch() -> None:
    """An empty tensor printed as ``tensor([])`` whatever its shape and (int64/bool) dtype."""
    torch = pytest.importorskip("torch")
    for shape, dtype in (((0,), "float32"), ((2, 0), "float32"), ((0,), "int64"),
                         ((3, 0, 1), "bool"), ((0, 2), "float64")):
        ours = repr(lucid.zeros(*shape, dtype=getattr(lucid, dtype)))
        theirs = repr(torch.zeros(*shape, dtype=getattr(torch, dtype)))
        assert ours == theirs.replace("torch.", "lucid."), (ours, theirs)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only")
def test_reuse_freed_memory_reaches_glibc() -> None:
    assert lucid.backend.reuse_freed_memory() is True
