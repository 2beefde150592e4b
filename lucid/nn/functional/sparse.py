"""``embedding``: rows of a table looked up by integer index, as
``torch.nn.functional.embedding``."""

from __future__ import annotations

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
