"""``embedding``: rows of a table looked up by integer index, and ``one_hot``, as
``torch.nn.functional``'s."""

from __future__ import annotations

import numpy as np

from lucid.ops._util import xp_of
from lucid.tensor import Tensor


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """``weight[input]``: for each integer of ``input`` its row of the (num, dim) table;
    repeated indices add their gradients, and the ``padding_idx`` row gets none. PyTorch's
    ``max_norm`` (renormalising rows in place), ``scale_grad_by_freq`` and sparse gradients
    are not supported: only their defaults are taken.

    Shape:
        - Input: (*) integers in [0, num). Weight: (num, dim). Output: (*, dim).

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> table = lucid.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]])
        >>> F.embedding(lucid.tensor([[2, 1]]), table).tolist()
        [[[3.0, 4.0], [1.0, 2.0]]]
    """
    import lucid

    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not "
                                  "supported")
    if input.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {input.dtype} instead")
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    if padding_idx is not None:
        if not -weight.shape[0] <= padding_idx < weight.shape[0]:
            raise AssertionError("Padding_idx must be within num_embeddings")
        others = lucid.arange(weight.shape[0], device=weight.device).reshape(-1, 1) != \
            padding_idx % weight.shape[0]
        weight = lucid.where(others, weight, weight.detach())  # same values, no gradient there
    rows = weight.index_select(0, input.reshape(-1).long())
    return rows.reshape(*input.shape, weight.shape[1])


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices as one-hot vectors: ``output[..., c]`` is 1 where ``tensor`` holds
    ``c``, else 0 (int64, no gradient). ``num_classes=-1`` takes one more than the largest
    index (an empty tensor then needs ``num_classes``).

    PyTorch takes only int64 indices; lucid takes any integer dtype (as its ``nll_loss``),
    a deliberate difference. Negative indices, and indices of ``num_classes`` or more, are
    refused, as in PyTorch.

    Shape:
        - Input: (*) integers in [0, num_classes). Output: (*, num_classes).

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.one_hot(lucid.tensor([0, 2])).tolist()
        [[1, 0, 0], [0, 0, 1]]
    """
    if tensor.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor "
                           f"(lucid: any integer dtype), got {tensor.dtype}")
    data = tensor.data
    xp = xp_of(data)
    if data.size == 0:
        if num_classes <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        return Tensor._wrap(xp.zeros((*tensor.shape, num_classes), dtype=np.int64))
    if int(data.min()) < 0:
        raise RuntimeError("Class values must be non-negative.")
    largest = int(data.max())
    if num_classes == -1:
        num_classes = largest + 1
    elif largest >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    classes = xp.arange(num_classes, dtype=np.int64)
    return Tensor._wrap((data[..., None] == classes).astype(np.int64))
