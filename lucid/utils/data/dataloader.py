"""``DataLoader``: a dataset's samples in batches, collated into tensors."""

from __future__ import annotations

import collections
import copy
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from lucid.tensor import Tensor, tensor
from lucid.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler


def default_collate(batch: Sequence[Any]) -> Any:
    """A list of samples made one batch, as PyTorch's: tensors (and numpy arrays) stacked on a
    new first dim, Python floats into a float64 tensor and ints into an int64 one (bools: a
    bool one), strings left as they come, and dicts, named tuples and sequences collated
    field by field (a tuple's fields come back as a list).

    Example:
        >>> import lucid
        >>> from lucid.utils.data import default_collate
        >>> images, labels = default_collate([(lucid.zeros(2), 0), (lucid.ones(2), 1)])
        >>> images.shape, labels.tolist()
        ((2, 2), [0, 1])
    """
    import lucid

    elem = batch[0]
    if isinstance(elem, Tensor):
        return lucid.stack(list(batch), 0)
    if isinstance(elem, np.ndarray) and elem.dtype.kind not in "OSUV":
        return lucid.stack([tensor(b) for b in batch], 0)
    if isinstance(elem, np.generic) and elem.dtype.kind not in "OSUV":
        return tensor(np.array(batch, dtype=elem.dtype))
    if isinstance(elem, float):
        return tensor(batch, dtype=lucid.float64)
    if isinstance(elem, int):  # bools too: a bool tensor
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        collated = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        if isinstance(elem, MutableMapping):  # its own kind (OrderedDict, defaultdict)
            clone = copy.copy(elem)
            clone.update(collated)
            return clone
        return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a named tuple
        return type(elem)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(field) for field in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem)}")


def default_convert(sample: Any) -> Any:
    """One sample as a loader without batches gives it: numpy arrays and scalars become
    tensors."""
    if isinstance(sample, (np.ndarray, np.generic)) and sample.dtype.kind not in "OSUV":
        return tensor(np.asarray(sample))
    if isinstance(sample, Mapping):
        return {key: default_convert(value) for key, value in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(value) for value in sample))
    if isinstance(sample, (list, tuple)):
        return [default_convert(value) for value in sample]
    return sample


class DataLoader:
    """Batches of ``dataset``'s samples, in order or shuffled, collated by ``collate_fn``
    (``default_collate``): PyTorch's ``DataLoader`` for map-style datasets.

    ``batch_size=None`` gives the samples one by one, unbatched. ``num_workers`` > 0 loads
    the samples of the next batches on that many threads (PyTorch: processes), which pays
    where loading waits on files or on numpy code that releases the GIL (image decoding);
    batches come in order. ``generator`` is a numpy Generator (default: lucid's, which
    ``lucid.manual_seed`` seeds). ``pin_memory`` is accepted and does nothing; PyTorch's
    ``timeout``, ``worker_init_fn`` and iterable-style datasets are not supported.

    Shape:
        - Samples of tensors of shape (*S) come as batches of shape (B, *S), B =
          ``batch_size`` (the last batch shorter unless ``drop_last``).

    Example:
        >>> import lucid
        >>> from lucid.utils.data import DataLoader, TensorDataset
        >>> data = TensorDataset(lucid.arange(10.0).reshape(5, 2), lucid.arange(5))
        >>> [labels.tolist() for _, labels in DataLoader(data, batch_size=2)]
        [[0, 1], [2, 3], [4]]
        >>> len(DataLoader(data, batch_size=2, shuffle=True, drop_last=True))
        2
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable[int] | None = None,
                 batch_sampler: Iterable[list[int]] | None = None, num_workers: int = 0,
                 collate_fn: Callable[[list[Any]], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False,
                 generator: np.random.Generator | None = None, *,
                 prefetch_factor: int | None = None) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.prefetch_factor = 2 if num_workers and prefetch_factor is None else prefetch_factor
        self.pin_memory = pin_memory
        self.generator = generator
        self.collate_fn = collate_fn or (default_convert if batch_sampler is None
                                         else default_collate)

    def _fetch(self, indices: int | list[int]) -> Any:
        if self.batch_sampler is None:
            return self.collate_fn(self.dataset[indices])
        if hasattr(self.dataset, "__getitems__"):  # a whole batch at once, as PyTorch's
            return self.collate_fn(self.dataset.__getitems__(indices))
        return self.collate_fn([self.dataset[i] for i in indices])

    def __iter__(self) -> Iterator[Any]:
        order = iter(self.sampler if self.batch_sampler is None else self.batch_sampler)
        if not self.num_workers:
            yield from map(self._fetch, order)
            return
        with ThreadPoolExecutor(self.num_workers) as pool:
            pending: collections.deque = collections.deque()
            for indices in order:
                pending.append(pool.submit(self._fetch, indices))
                if len(pending) >= self.num_workers * self.prefetch_factor:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()

    def __len__(self) -> int:
        return len(self.sampler if self.batch_sampler is None else self.batch_sampler)
