"""Attention: ``scaled_dot_product_attention`` and the computation behind
``nn.MultiheadAttention``, as ``torch.nn.functional``'s.

Both are compositions of differentiable tensor ops (matmul, masked_fill, exp, sum), so
autograd reaches the query, key and value, a float mask and every projection.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from lucid.backend import get_array_module
from lucid.functional import cat, pad
from lucid.nn.functional.activation import dropout, softmax
from lucid.nn.functional.linear import linear
from lucid.tensor import Tensor, check_same_device


def _check_mask_fits(mask: Tensor, scores_shape: tuple[int, ...]) -> None:
    """A mask must broadcast to the attention weights' shape without enlarging it."""
    try:
        full = np.broadcast_shapes(mask.shape, scores_shape)
    except ValueError:
        raise RuntimeError(f"attn_mask of shape {mask.shape} does not broadcast to the "
                           f"attention weights' shape {scores_shape}") from None
    if full != scores_shape:
        raise RuntimeError(f"output with shape {list(scores_shape)} doesn't match the broadcast "
                           f"shape {list(full)}")


def _repeat_heads(x: Tensor, repeats: int) -> Tensor:
    """``x.repeat_interleave(repeats, dim=-3)``: each head ``repeats`` times in a row."""
    if repeats == 1:
        return x
    lead, (heads, s, e) = x.shape[:-3], x.shape[-3:]
    return x.unsqueeze(-3).expand(*lead, heads, repeats, s, e).reshape(
        *lead, heads * repeats, s, e)


def _softmax_rows(scores: Tensor, zero_masked_rows: bool) -> Tensor:
    """Softmax along the last dim. With ``zero_masked_rows``, a row whose every score is
    ``-inf`` (fully masked) gives zero weights and zero gradients instead of NaN."""
    if not zero_masked_rows or not scores.numel():
        return softmax(scores, dim=-1)
    xp = get_array_module(scores.data)
    peak = scores.data.max(axis=-1, keepdims=True)
    peak = xp.where(peak == -np.inf, scores.dtype.type(0), peak)  # exp(-inf - 0) = 0
    exp = (scores - Tensor._wrap(peak)).exp()
    total = exp.sum(-1, keepdim=True)
    empty = total.data == 0  # only a fully masked row sums to 0 (its peak gives exp(0) = 1)
    if empty.any():
        total = total.masked_fill(Tensor._wrap(empty), 1.0)
    return exp / total


def _attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None,
               dropout_p: float, is_causal: bool, scale: float | None, enable_gqa: bool,
               zero_masked_rows: bool) -> tuple[Tensor, Tensor]:
    """The output and the (dropped-out) attention weights of
    ``scaled_dot_product_attention``; see there."""
    tensors = [query, key, value] + ([attn_mask] if attn_mask is not None else [])
    check_same_device(tensors, "scaled_dot_product_attention")
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError("Expected query, key, and value to all be at least 2 dimensional, "
                           f"but got query.dim: {query.ndim} key.dim: {key.ndim} and "
                           f"value.dim: {value.ndim} instead.")
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError("Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {query.dtype} key.dtype: {key.dtype} and value.dtype: "
                           f"{value.dtype} instead.")
    if query.dtype.kind != "f":
        raise RuntimeError(f"expected query, key and value of a floating-point dtype, but got "
                           f"{query.dtype}")
    # PyTorch takes a bool mask, a float32 one whatever query's dtype, or one of query's dtype
    if attn_mask is not None and attn_mask.dtype not in (np.bool_, np.float32, query.dtype):
        raise RuntimeError("Expected attn_mask dtype to be bool or float or to match query "
                           f"dtype, but got attn_mask.dtype: {attn_mask.dtype} and  "
                           f"query.dtype: {query.dtype} instead.")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    if dropout_p > 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if enable_gqa:
        for t in (query, key, value):
            if t.ndim < 3:
                raise IndexError(f"Dimension out of range (expected to be in range of "
                                 f"[-{t.ndim}, {t.ndim - 1}], but got -3)")
        heads = query.shape[-3]
        if heads % key.shape[-3] or heads % value.shape[-3]:
            raise RuntimeError("Number of heads in key and value must divide the number of "
                               "heads in query")
        key = _repeat_heads(key, heads // key.shape[-3])
        value = _repeat_heads(value, heads // value.shape[-3])

    dtype = query.dtype
    if dtype == np.float16:  # half precision computed in float32, as PyTorch's math kernel
        query, key, value = query.float(), key.float(), value.float()
        if attn_mask is not None and attn_mask.dtype == np.float16:
            attn_mask = attn_mask.float()
    e = query.shape[-1]
    if scale is None:
        scale = 1 / math.sqrt(e) if e else 1.0  # no features: all scores are 0 anyway
    scores = (query @ key.transpose(-2, -1)) * scale
    if is_causal:  # upper-left aligned: query i sees keys 0..i
        xp = get_array_module(scores.data)
        above = ~xp.tri(query.shape[-2], key.shape[-2], 0, dtype=bool)
        scores = scores.masked_fill(Tensor._wrap(above), -math.inf)
    elif attn_mask is not None:
        _check_mask_fits(attn_mask, scores.shape)
        if attn_mask.dtype == np.bool_:
            scores = scores.masked_fill(~attn_mask, -math.inf)
        else:
            scores = scores + attn_mask
    weights = _softmax_rows(scores, zero_masked_rows)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    output = weights @ value
    if dtype == np.float16:
        output, weights = output.to(dtype), weights.to(dtype)
    return output, weights


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """``softmax(query @ key^T * scale + mask) @ value``, as
    ``torch.nn.functional.scaled_dot_product_attention``.

    Args:
        query: (N, ..., Hq, L, E); any leading batch dims, which broadcast against key's and
            value's.
        key: (N, ..., H, S, E).
        value: (N, ..., H, S, Ev).
        attn_mask: broadcastable to the weights' shape (N, ..., Hq, L, S). A bool mask keeps
            the places that are True (True = take part); a float mask, of query's dtype or
            float32, is added to the scores (and gets a gradient).
        dropout_p: probability of zeroing an attention weight (the rest scaled by
            ``1 / (1 - p)``), drawn from lucid's seeded generator. Always applied when
            positive, as PyTorch's: pass 0.0 outside training.
        is_causal: mask the places above the diagonal, aligned at the upper left (query ``i``
            sees keys ``0..i`` also when L != S). Not together with ``attn_mask``.
        scale: factor of the scores; default ``1 / sqrt(E)``.
        enable_gqa: grouped-query attention: key's and value's heads (dim -3) are each
            repeated (``repeat_interleave``) up to query's ``Hq``, which they must divide.

    Shape:
        - Output: (N, ..., Hq, L, Ev).

    A row whose keys are all masked gives zero output and gradients, as PyTorch 2.13's CPU
    kernels do (its Python reference formula would give NaN). Float16 inputs are computed in
    float32 and the result cast back, as PyTorch's math kernel keeps half-precision
    intermediates in float32. Any mask that broadcasts to the weights' shape is taken (PyTorch's
    CPU kernel refuses a 1-D mask with 4-D inputs).

    Example:
        >>> import lucid
        >>> import lucid.nn.functional as F
        >>> q, k, v = lucid.randn(2, 4, 5, 8), lucid.randn(2, 4, 7, 8), lucid.randn(2, 4, 7, 3)
        >>> F.scaled_dot_product_attention(q, k, v).shape
        (2, 4, 5, 3)
        >>> out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        >>> out[0, 0, 0].tolist() == v[0, 0, 0].tolist()  # the first query sees only key 0
        True
    """
    return _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa,
                      zero_masked_rows=True)[0]


# ---- nn.MultiheadAttention's computation (torch.nn.functional.multi_head_attention_forward) ---

def _mha_shape_check(query: Tensor, key: Tensor, value: Tensor,
                     key_padding_mask: Tensor | None, attn_mask: Tensor | None,
                     num_heads: int) -> bool:
    """Whether the input is batched; PyTorch's checks and messages."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D"
                                 f" but found {key.ndim}-D and {value.ndim}-D tensors "
                                 "respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 2-D but found {key_padding_mask.ndim}-D tensor "
                                 "instead")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, "
                                 f"2-D or 3-D but found {attn_mask.ndim}-D tensor instead")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be "
                                 f"2-D but found {key.ndim}-D and {value.ndim}-D tensors "
                                 "respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 1-D but found {key_padding_mask.ndim}-D tensor "
                                 "instead")
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be "
                                     f"`None`, 2-D or 3-D but found {attn_mask.ndim}-D tensor "
                                     "instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and attn_mask.shape != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                     f"{attn_mask.shape}")
        return False
    raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.ndim}-D query tensor")


def _canonical_mask(mask: Tensor | None, mask_name: str, other_type: np.dtype | None,
                    other_name: str, target_type: np.dtype, check_other: bool = True
                    ) -> Tensor | None:
    """A bool mask (True = masked out) as a float one of ``target_type`` (0 or -inf); a float
    mask as it is."""
    if mask is None:
        return None
    if mask.dtype != np.bool_ and mask.dtype.kind != "f":
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use "
                      "same type for both instead.", stacklevel=3)
    if mask.dtype == np.bool_:
        xp = get_array_module(mask.data)
        mask = Tensor._wrap(xp.where(mask.data, target_type.type(-np.inf),
                                     target_type.type(0)))
    return mask


def _multi_head_attention_forward(
    query: Tensor, key: Tensor, value: Tensor, num_heads: int,
    in_proj_weight: Tensor | None, in_proj_bias: Tensor | None,
    bias_k: Tensor | None, bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float,
    out_proj_weight: Tensor, out_proj_bias: Tensor | None, training: bool = True,
    key_padding_mask: Tensor | None = None, need_weights: bool = True,
    attn_mask: Tensor | None = None, q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None,
    average_attn_weights: bool = True, is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """``torch.nn.functional.multi_head_attention_forward`` for sequence-first (L, N, E) or
    unbatched (L, E) inputs, without ``static_k``/``static_v``; separate projection weights
    when ``in_proj_weight`` is None."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:  # a batch of one, squeezed out again at the end
        same_kv, same_qk = key is value, query is key
        query = query.unsqueeze(1)
        key = query if same_qk else key.unsqueeze(1)
        value = key if same_kv else value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]

    key_padding_mask = _canonical_mask(
        key_padding_mask, "key_padding_mask",
        None if attn_mask is None else attn_mask.dtype, "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint alone: SDPA's causal mask
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                    check_other=False)
        if key_padding_mask is not None:
            is_causal = False  # the merged mask is no longer causal

    expected_dim = out_proj_weight.shape[1]
    if embed_dim != expected_dim:
        raise AssertionError(f"was expecting embedding dimension of {expected_dim}, but got "
                             f"{embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if in_proj_weight is None:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
    elif key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")

    # in-projection (the packed weight once for self-attention, as PyTorch's)
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = in_proj_bias.chunk(3)
    if in_proj_weight is None:
        q = linear(query, q_proj_weight, b_q)
        k = linear(key, k_proj_weight, b_k)
        v = linear(value, v_proj_weight, b_v)
    elif key is value and query is key:
        q, k, v = linear(query, in_proj_weight, in_proj_bias).chunk(3, dim=-1)
    elif key is value:
        w_q, w_kv = in_proj_weight.split([embed_dim, 2 * embed_dim])
        b_kv = None if in_proj_bias is None else in_proj_bias.split([embed_dim, 2 * embed_dim])[1]
        q = linear(query, w_q, b_q)
        k, v = linear(key, w_kv, b_kv).chunk(2, dim=-1)
    else:
        w_q, w_k, w_v = in_proj_weight.chunk(3)
        q, k, v = linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)

    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if attn_mask.shape != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.ndim == 3:
            if attn_mask.shape != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")

    if bias_k is not None and bias_v is not None:  # one more key and value, learnt
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must both be set or both be None")

    # heads: (L, N, E) -> (N * heads, L, head_dim)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)

    if add_zero_attn:  # one more key and value, of zeros
        zeros = Tensor._wrap(get_array_module(k.data).zeros((bsz * num_heads, 1, head_dim),
                                                              k.dtype))
        k = cat([k, zeros], dim=1)
        v = cat([v, zeros], dim=1)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(
            bsz, num_heads, 1, src_len).reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask

    if not training:
        dropout_p = 0.0

    if need_weights:  # PyTorch's explicit path: a fully masked row gives NaN here
        if attn_mask is not None and attn_mask.dtype != q.dtype:  # its baddbmm refuses
            raise RuntimeError(f"Input dtypes must be the same, got: input {attn_mask.dtype}, "
                               f"batch1: {q.dtype}, batch2: {k.dtype}")
        out, weights = _attention(q, k, v, attn_mask, dropout_p, False, None, False,
                                  zero_masked_rows=False)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
    else:  # PyTorch's SDPA path: a fully masked row gives zeros
        if attn_mask is not None:
            attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 else \
                attn_mask.reshape(bsz, num_heads, -1, src_len)
        out, _ = _attention(q.reshape(bsz, num_heads, tgt_len, head_dim),
                            k.reshape(bsz, num_heads, src_len, head_dim),
                            v.reshape(bsz, num_heads, src_len, head_dim),
                            attn_mask, dropout_p, is_causal, None, False,
                            zero_masked_rows=True)
        out = out.reshape(bsz * num_heads, tgt_len, head_dim)
        weights = None
    out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not is_batched:
        out = out.squeeze(1)
        if weights is not None:
            weights = weights.squeeze(0)
    return out, weights
