"""lucid.utils.data against torch.utils.data: batches, collation, samplers, splits."""

from collections import namedtuple

import numpy as np
import pytest

import lucid
from lucid.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)

Pair = namedtuple("Pair", ["image", "label"])


def as_numpy(value):  # noqa: ANN001, ANN201 - nested batches of lucid or torch tensors
    if isinstance(value, dict):
        return {k: as_numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(as_numpy(v) for v in value) if not hasattr(value, "_fields") else \
            [as_numpy(v) for v in value]
    if hasattr(value, "numpy"):
        return (value.numpy().tolist(), str(value.dtype).split(".")[-1])
    return value


def test_batches_in_order_match_torch() -> None:
    """Batches of a TensorDataset, with and without drop_last, their number, and samples
    one by one (batch_size=None); a Subset and a ConcatDataset (negative index too)."""
    torch = pytest.importorskip("torch")
    features = np.arange(14.0, dtype=np.float32).reshape(7, 2)
    labels = np.arange(7) % 3

    def program(m, data_module):  # noqa: ANN001, ANN202 - lucid or torch
        data = data_module.TensorDataset(m.tensor(features), m.tensor(labels))
        joined = data_module.ConcatDataset([data, data_module.Subset(data, [6, 0])])
        return [
            [as_numpy(b) for b in data_module.DataLoader(data, batch_size=3)],
            [as_numpy(b) for b in data_module.DataLoader(data, batch_size=3, drop_last=True)],
            len(data_module.DataLoader(data, batch_size=3)),
            len(data_module.DataLoader(data, batch_size=3, drop_last=True)),
            [as_numpy(b) for b in data_module.DataLoader(data, batch_size=None)][:2],
            len(joined), as_numpy(joined[-1]), as_numpy(joined[7]),
        ]

    import torch.utils.data as torch_data

    import lucid.utils.data as lucid_data

    assert program(lucid, lucid_data) == program(torch, torch_data)


def test_default_collate_matches_torch() -> None:
    """Tensors and numpy arrays stacked, floats to float64, ints to int64, bools to bool,
    strings kept, dicts, named tuples and tuples collated field by field."""
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(3)]

    def batch(m):  # noqa: ANN001, ANN202 - lucid or torch
        return [{"image": m.tensor(a), "array": a, "scale": 0.5 * i, "label": i,
                 "flag": i % 2 == 0, "name": f"s{i}", "pair": Pair(m.tensor(a[0]), i),
                 "both": (i, np.float32(i))} for i, a in enumerate(arrays)]

    assert as_numpy(default_collate(batch(lucid))) == as_numpy(torch_collate(batch(torch)))
    for bad in ([object()], [[1, 2], [3]]):
        with pytest.raises((TypeError, RuntimeError)):
            default_collate(bad)
        with pytest.raises((TypeError, RuntimeError)):
            torch_collate(bad)


def test_shuffled_batches_cover_everything_once_and_repeat_with_the_seed() -> None:
    """Each pass is a permutation (a new one each pass), the same after manual_seed or with
    the same numpy Generator; threads (num_workers) give the same batches in order."""
    data = TensorDataset(lucid.arange(20))

    def epoch(loader: DataLoader) -> list[int]:
        return [i for (batch,) in loader for i in batch.tolist()]

    lucid.manual_seed(3)
    loader = DataLoader(data, batch_size=6, shuffle=True)
    first, second = epoch(loader), epoch(loader)
    assert sorted(first) == sorted(second) == list(range(20)) and first != second
    lucid.manual_seed(3)
    assert epoch(loader) == first
    seeded = [epoch(DataLoader(data, batch_size=6, shuffle=True,
                               generator=np.random.default_rng(9))) for _ in range(2)]
    assert seeded[0] == seeded[1] != first
    ordered = DataLoader(data, batch_size=4, num_workers=2)
    assert epoch(ordered) == list(range(20)) and len(ordered) == 5


def test_samplers_and_splits_match_torch_where_they_do_not_draw() -> None:
    """Batch samplers' batches and lengths, random samplers' lengths (with replacement and a
    number of samples), random_split's lengths from counts and from fractions, and the
    refusals of options that exclude each other."""
    pytest.importorskip("torch")
    import torch.utils.data as torch_data

    import lucid.utils.data as lucid_data

    def program(data_module):  # noqa: ANN001, ANN202
        sequential = data_module.SequentialSampler(range(10))
        return [
            list(data_module.BatchSampler(sequential, 4, False)),
            list(data_module.BatchSampler(sequential, 4, True)),
            len(data_module.BatchSampler(sequential, 4, False)),
            len(data_module.RandomSampler(range(10), replacement=True, num_samples=25)),
            len(list(data_module.RandomSampler(range(10), num_samples=25))),
            [len(s) for s in data_module.random_split(range(10), [3, 7])],
            [len(s) for s in data_module.random_split(range(11), [0.5, 0.3, 0.2])],
        ]

    assert program(lucid_data) == program(torch_data)
    for refusal in (
            lambda d: d.DataLoader(range(4), sampler=d.SequentialSampler(range(4)), shuffle=True),
            lambda d: d.DataLoader(range(4), batch_sampler=[[0, 1]], batch_size=2),
            lambda d: d.DataLoader(range(4), batch_size=None, drop_last=True),
            lambda d: d.random_split(range(4), [1, 2]),
            lambda d: d.BatchSampler(range(4), 0, False),
            lambda d: d.RandomSampler([]),
    ):
        for data_module in (lucid_data, torch_data):
            with pytest.raises(ValueError):
                refusal(data_module)
    split = random_split(range(11), [0.5, 0.5])
    assert sorted([*split[0], *split[1]]) == list(range(11))
    assert isinstance(split[0], Subset)
    assert list(RandomSampler(range(5), generator=np.random.default_rng(1))) == \
        list(RandomSampler(range(5), generator=np.random.default_rng(1)))
    assert list(SequentialSampler(range(3))) == [0, 1, 2]
    assert len(ConcatDataset([range(2), range(3)])) == 5
    assert len(BatchSampler(range(5), 2, True)) == 2


def test_randperm_is_a_seeded_permutation() -> None:
    lucid.manual_seed(1)
    first = lucid.randperm(50)
    lucid.manual_seed(1)
    assert first.tolist() == lucid.randperm(50).tolist() != list(range(50))
    assert sorted(first.tolist()) == list(range(50)) and first.dtype == lucid.int64
    assert lucid.randperm(4, dtype=lucid.int32).dtype == lucid.int32


def test_data_review_findings_match_torch() -> None:
    """Found by a differential review (each failed before): a dataset's __getitems__ serves
    whole batches (also through a Subset); numpy scalars come out as tensors without
    batching; strings in tuples stay tuples, OrderedDicts stay OrderedDicts, numpy float32
    scalars stay float32; bad fractions and a non-bool drop_last or replacement are refused;
    lucid.utils.data is there after import lucid."""
    from collections import OrderedDict

    pytest.importorskip("torch")
    import torch.utils.data as torch_data

    import lucid.utils.data as lucid_data

    class Batched:
        calls = 0

        def __len__(self):  # noqa: ANN204
            return 6

        def __getitem__(self, i):  # noqa: ANN001, ANN204
            return np.float32(i)

        def __getitems__(self, indices):  # noqa: ANN001, ANN204
            Batched.calls += 1
            return [np.float32(i * 10) for i in indices]

    def program(data_module):  # noqa: ANN001, ANN202
        Batched.calls = 0
        subset = data_module.Subset(Batched(), [5, 4, 3, 2])
        batches = [as_numpy(b) for b in data_module.DataLoader(subset, batch_size=3)]
        single = [as_numpy(b) for b in data_module.DataLoader(Batched(), batch_size=None)][:2]
        collated = data_module.default_collate([("a", 1), ("b", 2)])
        ordered = data_module.default_collate([OrderedDict(x=1.0), OrderedDict(x=2.0)])
        return [batches, Batched.calls, single, collated[0], type(ordered).__name__,
                as_numpy(ordered["x"]), as_numpy(data_module.default_collate(
                    [np.float32(1), 2.0]))]

    assert program(lucid_data) == program(torch_data)
    for refusal in (lambda d: d.random_split(range(5), [1.5, -0.5]),
                    lambda d: d.BatchSampler(range(4), 2, drop_last=1)):
        for data_module in (lucid_data, torch_data):
            with pytest.raises(ValueError):
                refusal(data_module)
    for data_module in (lucid_data, torch_data):
        with pytest.raises(TypeError):
            data_module.RandomSampler(range(3), replacement=1)
    assert lucid.utils.data.DataLoader is DataLoader
