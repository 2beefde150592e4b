"""``MultiheadAttention``, as ``torch.nn.MultiheadAttention``."""

from __future__ import annotations

from lucid.backend import DeviceLike
from lucid.creation import empty
from lucid.dtypes import DTypeLike
from lucid.nn import init
from lucid.nn.functional.attention import _multi_head_attention_forward
from lucid.nn.modules.linear import Linear
from lucid.nn.modules.module import Module
from lucid.nn.parameter import Parameter
from lucid.tensor import Tensor


class MultiheadAttention(Module):
    """Attention over ``num_heads`` subspaces: ``Concat(head_1, ..., head_h) @ W_O`` with
    ``head_i = Attention(Q @ W_i^Q, K @ W_i^K, V @ W_i^V)`` ("Attention Is All You Need").

    Parameters, their names and shapes, their initialisation and the computation are
    PyTorch's, so a state_dict of ``torch.nn.MultiheadAttention`` loads as it is:
    ``in_proj_weight`` (3E, E) when ``kdim == vdim == embed_dim``, else ``q_proj_weight``
    (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim); ``in_proj_bias`` (3E,);
    ``out_proj`` (a ``Linear``); ``bias_k``, ``bias_v`` (1, 1, E) with ``add_bias_kv``.
    Projection weights are drawn with ``xavier_uniform_``, ``bias_k``/``bias_v`` with
    ``xavier_normal_``, and the projection biases are zero.

    Args:
        embed_dim: total dimension E of the model; split across the heads.
        num_heads: parallel attention heads; must divide ``embed_dim``.
        dropout: dropout probability on the attention weights (in training). Default: 0.0.
        bias: learn biases of the input and output projections. Default: True.
        add_bias_kv: append a learnt key and value to the key and value sequences.
            Default: False.
        add_zero_attn: append a key and a value of zeros (after ``add_bias_kv``'s).
            Default: False.
        kdim, vdim: features of keys and values. Default: ``embed_dim``.
        batch_first: inputs and output are (N, L, E) instead of (L, N, E). Default: False.
        device, dtype: where and in which dtype to create the parameters.

    Forward arguments:
        query, key, value: see Shape.
        key_padding_mask: (N, S) or (S,) for unbatched input: keys to ignore, bool (True =
            ignored, the inverse of ``scaled_dot_product_attention``'s) or float (added).
        need_weights: also return the attention weights. Default: True.
        attn_mask: (L, S) or (N * num_heads, L, S): bool (True = not allowed to attend) or
            float (added to the scores).
        average_attn_weights: average the returned weights over the heads. Default: True.
        is_causal: a hint that ``attn_mask`` is the causal mask, which must be given too; used
            instead of it when ``need_weights`` is False and there is no key_padding_mask.

    Shape:
        - query: (L, N, E), (N, L, E) with ``batch_first``, or unbatched (L, E).
        - key: (S, N, kdim), (N, S, kdim) or (S, kdim); value likewise with vdim.
        - Output: (attn_output, attn_weights): attn_output shaped as query; attn_weights
          (N, L, S) averaged over heads, or (N, num_heads, L, S), without the N when
          unbatched, or None when ``need_weights`` is False. S counts the keys that
          ``add_bias_kv`` and ``add_zero_attn`` add.

    Differences from PyTorch: there is no inference fast path and no nested tensors (the
    results are the same, computed the general way); ``out_proj`` is a plain ``Linear``
    (PyTorch's ``NonDynamicallyQuantizableLinear`` only exists for quantization); the repr
    names the layer's sizes. As in PyTorch's general path, a query whose keys are all masked
    gets NaN when ``need_weights`` is True and zeros when it is False; PyTorch's fast path
    (eval mode, no gradient needed, ``batch_first`` self-attention, a bool mask) gives such a
    query NaN also when ``need_weights`` is False, lucid zeros.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> attn = nn.MultiheadAttention(16, 4, batch_first=True)
        >>> x = lucid.randn(2, 5, 16)
        >>> out, weights = attn(x, x, x)
        >>> out.shape, weights.shape
        ((2, 5, 16), (2, 5, 5))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: DeviceLike = None,
                 dtype: DTypeLike = None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")

        def param(*shape: int) -> Parameter:
            return Parameter(empty(*shape, device=device, dtype=dtype))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = param(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = param(embed_dim, embed_dim)
            self.k_proj_weight = param(embed_dim, self.kdim)
            self.v_proj_weight = param(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = param(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = param(1, 1, embed_dim)
            self.bias_v = param(1, 1, embed_dim)
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        batched = query.ndim == 3
        if self.batch_first and batched:  # sequence first, keeping which inputs are one
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = query.transpose(1, 0), key.transpose(1, 0)
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        out, weights = _multi_head_attention_forward(
            query, key, value, self.num_heads,
            self.in_proj_weight, self.in_proj_bias, self.bias_k, self.bias_v,
            self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask,
            need_weights=need_weights, attn_mask=attn_mask,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight, average_attn_weights=average_attn_weights,
            is_causal=is_causal)
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        return out, weights

    def extra_repr(self) -> str:
        text = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        if not self._qkv_same_embed_dim:
            text += f", kdim={self.kdim}, vdim={self.vdim}"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.batch_first:
            text += ", batch_first=True"
        return text
