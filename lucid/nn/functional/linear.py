"""The affine map of fully connected layers."""

from __future__ import annotations

from lucid.tensor import Tensor


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``, as ``torch.nn.functional.linear``.

    Shape:
        - input: (*, in_features); weight: (out_features, in_features); bias: (out_features,).
        - Output: (*, out_features).

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> F.linear(lucid.ones(2, 3), lucid.ones(4, 3), lucid.zeros(4)).tolist()[0]
        [3.0, 3.0, 3.0, 3.0]
    """
    out = input @ weight.T
    return out if bias is None else out + bias
