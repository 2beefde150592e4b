"""One batch on every CPU core: BLAS thread control and data-parallel gradients.

On the CPU only numpy's BLAS calls use more than one core; its copies, element-wise passes and
reductions (well over half of a training step here) run on one. Splitting the batch into
shards, one per core, each differentiated on its own thread with a one-thread BLAS, keeps every
core busy for the whole step: numpy releases the GIL inside those passes, and the graphs share
nothing but the parameters, which they only read. Measured on 2 cores (x86_64, OpenBLAS), one
step of the default training recipe: 0.65 s with BLAS on both cores, 0.44 s as two shards.

The same goes for independent images: ``StyleNet`` encodes a content and a style at once,
one thread each (``thread_map``). Shards pay only where they span the work between BLAS
calls. Splitting each convolution's tile chunks the same way lost (the reference network at
512 px: 1.32 s unsplit, 1.5 s split): after a multi-threaded call OpenBLAS's idle threads spin
for about 0.1 s, taking cores from the shards that follow, and a network's deepest layers are
single chunks anyway.

BLAS threads are set through OpenBLAS's own ``openblas_set_num_threads`` (the library numpy
loaded); with another BLAS (Accelerate, MKL) there is no control and ``blas_threads`` is None.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import glob
import itertools
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from lucid import autograd
from lucid.backend import Device, as_device
from lucid.ops._util import xp_of
from lucid.tensor import Tensor

_SET_NAMES = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
              "openblas_set_num_threads64_", "openblas_set_num_threads")


@functools.cache
def _openblas() -> tuple[Any, Any] | None:
    """(set, get) of the OpenBLAS numpy uses, or None when it uses another BLAS."""
    root = os.path.dirname(np.__file__)
    paths: list[str] = []
    for folder in (os.path.join(root, "..", "numpy.libs"), os.path.join(root, ".dylibs")):
        paths += glob.glob(os.path.join(folder, "*openblas*"))  # numpy's own, bundled
    with contextlib.suppress(OSError):  # else a system OpenBLAS this process has loaded
        with open("/proc/self/maps") as maps:
            paths += [line.split()[-1] for line in maps if "openblas" in line.lower()]
    for path in dict.fromkeys(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _SET_NAMES:
            setter = getattr(lib, name, None)
            getter = getattr(lib, name.replace("set_num", "get_num"), None)
            if setter is not None and getter is not None:
                setter.argtypes, getter.restype = [ctypes.c_int], ctypes.c_int
                return setter, getter
    return None


def blas_threads() -> int | None:
    """How many threads numpy's BLAS uses; None when it cannot be told (not OpenBLAS)."""
    found = _openblas()
    return None if found is None else int(found[1]())


class _BlasLimits:
    """The live ``limit_blas_threads`` contexts, newest last, and the count before the first.

    The setting is process-wide, so contexts entered on several threads (or nested) share one
    record: the newest live one decides, and when the last one leaves the count goes back.
    """

    lock = threading.Lock()
    live: dict[int, int] = {}  # context token -> its count, in entry order
    before: int | None = None
    tokens = itertools.count()


@contextlib.contextmanager
def limit_blas_threads(count: int) -> Iterator[None]:
    """Context: numpy's BLAS on ``count`` threads, as before on exit (a no-op without
    OpenBLAS). Nested or overlapping contexts, on any threads, leave the newest one in force
    and the original count once all have left."""
    found = _openblas()
    if found is None:
        yield
        return
    setter, getter = found
    limits = _BlasLimits
    with limits.lock:
        if not limits.live:
            limits.before = getter()
        token = next(limits.tokens)
        limits.live[token] = max(1, count)
        setter(limits.live[token])
    try:
        yield
    finally:
        with limits.lock:
            del limits.live[token]
            setter(next(reversed(limits.live.values())) if limits.live else limits.before)


def default_workers(device: Device | str = "cpu") -> int:
    """Shards per batch for ``data_parallel_backward``: one per BLAS thread on the CPU (so
    ``OMP_NUM_THREADS`` governs both), one on a GPU or when the BLAS cannot be limited."""
    if as_device(device).type != "cpu":
        return 1
    return blas_threads() or 1


def shard_slices(size: int, parts: int) -> list[slice]:
    """``range(size)`` cut into at most ``parts`` contiguous slices whose lengths differ by at
    most one, longest first."""
    parts = max(1, min(parts, size))
    step, extra = divmod(size, parts)
    bounds = [0]
    for index in range(parts):
        bounds.append(bounds[-1] + step + (index < extra))
    return [slice(a, b) for a, b in zip(bounds, bounds[1:])]


_worker = threading.local()  # set on the threads of thread_map's pool


@functools.cache
def _pool(workers: int) -> ThreadPoolExecutor:
    """One lasting pool per size: its threads keep their scratch buffers from call to call."""
    return ThreadPoolExecutor(workers, "lucid-shard", initializer=setattr,
                              initargs=(_worker, "busy", True))


def thread_map(fn: Callable[[Any], Any], items: Sequence[Any], workers: int) -> list[Any]:
    """``[fn(item) for item in items]``, on up to ``workers`` threads that share the BLAS
    threads and take the calling thread's grad mode. With one worker or one item, or when
    called from one of those threads, it runs on the calling thread, as is. The calls must
    write to disjoint memory; an exception in any is raised here."""
    running = min(workers, len(items))
    if running <= 1 or getattr(_worker, "busy", False):
        return [fn(item) for item in items]
    grad_mode = autograd.is_grad_enabled()  # per thread: the workers inherit the caller's

    def call(item: Any) -> Any:
        with autograd.enable_grad() if grad_mode else autograd.no_grad():
            return fn(item)

    with limit_blas_threads(max(1, (blas_threads() or 1) // running)):
        return list(_pool(workers).map(call, items))  # one pool per workers, however many items


def data_parallel_backward(losses: Callable[[slice], Sequence[Tensor]], size: int,
                           params: Sequence[Tensor], workers: int = 1) -> list[float]:
    """Differentiate a batch's loss in shards on ``workers`` threads; returns its values.

    ``losses(part)`` computes, for the samples ``part`` of a batch of ``size``, scalar tensors
    averaged over those samples (as mean-reduced losses are): the loss to differentiate first,
    then any others to report. The gradient of the batch's loss (each shard's weighted by its
    share of the samples, so a batch-mean loss comes out the same however it is split) is
    accumulated into each of ``params``' ``.grad``, as ``loss.backward()`` would, and the
    batch's value of each tensor is returned. With one worker that is exactly
    ``loss.backward()`` on the whole batch (which also fills the ``.grad`` of any other leaf
    that needs one); with more, the same up to rounding, and the same bits from run to run
    (shards are summed in order). Samples must not interact in the forward pass: a batch norm
    in training mode would see each shard's statistics, not the batch's. Parameters that need
    no gradient are left alone.

    Example:
        >>> import lucid
        >>> w = lucid.ones(3, requires_grad=True)
        >>> x = lucid.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        >>> data_parallel_backward(lambda part: [(x[part] * w).sum(1).mean()], 2, [w], 2)
        [10.5]
        >>> w.grad.tolist()
        [2.5, 3.5, 4.5]
    """
    if len(shard_slices(size, workers)) == 1:
        values = losses(slice(0, size))
        values[0].backward()
        return [v.item() for v in values]

    trainable = [p for p in params if p.requires_grad]

    def shard(part: slice) -> tuple[list[float], tuple[Tensor | None, ...]]:
        values = losses(part)
        share = (part.stop - part.start) / size
        loss = values[0].data
        seed = Tensor._wrap(xp_of(loss).full(loss.shape, share, dtype=loss.dtype))
        grads = autograd.grad(values[0], trainable, grad_outputs=seed, allow_unused=True)
        return [v.item() * share for v in values], grads

    results = thread_map(shard, shard_slices(size, workers), workers)
    for index, param in enumerate(trainable):
        grads = [grads[index] for _, grads in results if grads[index] is not None]
        if not grads:
            continue
        total = grads[0].data
        for g in grads[1:]:
            total = total + g.data
        if param.grad is None:
            param.grad = Tensor._wrap(total)
        else:
            param.grad.data = param.grad.data + total
    return [sum(column) for column in zip(*(values for values, _ in results))]
