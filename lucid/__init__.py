"""lucid: a compact deep-learning library that reads like PyTorch and runs on numpy or CuPy.

Example:
    >>> import lucid
    >>> x = lucid.ones(2, 3, requires_grad=True)
    >>> y = (x * 3).sum()
    >>> y.backward()
    >>> x.grad.shape
    (2, 3)
"""

from lucid import gpu, nn, optim, utils
from lucid.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from lucid.backend import Device, gpu_available
from lucid.backend import as_device as device
from lucid.creation import (
    arange,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    zeros,
    zeros_like,
)
from lucid.dtypes import (
    bool_,
    double,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    uint8,
)
from lucid.functional import (
    abs,
    add,
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    argsort,
    cat,
    ceil,
    chunk,
    clamp,
    clip,
    concat,
    cos,
    cumsum,
    div,
    einsum,
    erf,
    exp,
    flatten,
    flip,
    floor,
    gather,
    index_select,
    isfinite,
    isinf,
    isnan,
    log,
    log_softmax,
    logsumexp,
    masked_fill,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    narrow,
    neg,
    norm,
    permute,
    pow,
    prod,
    reciprocal,
    reshape,
    roll,
    round,
    rsqrt,
    scatter,
    scatter_add,
    scatter_reduce,
    sign,
    sin,
    softmax,
    sort,
    split,
    sqrt,
    squeeze,
    stack,
    std,
    sub,
    sum,
    topk,
    transpose,
    tril,
    triu,
    trunc,
    unsqueeze,
    var,
    where,
)
from lucid.random import get_rng_state, manual_seed, set_rng_state
from lucid.tensor import Tensor, tensor

bool = bool_  # noqa: A001 - PyTorch's name for the dtype (torch.bool)

__version__ = "0.1.0"

__all__ = [
    "abs", "add", "all", "amax", "amin", "any", "arange", "argmax", "argmin", "argsort", "bool",
    "bool_", "cat", "ceil", "chunk", "clamp", "clip", "concat", "cos", "cumsum", "Device",
    "device", "div", "einsum", "double", "empty", "empty_like", "enable_grad", "erf", "exp", "eye",
    "flatten", "flip", "float16", "float32", "float64", "floor", "from_numpy", "full", "full_like",
    "gather", "get_default_dtype", "get_rng_state", "gpu", "gpu_available", "half", "index_select",
    "int16", "int32", "int64", "int8", "is_grad_enabled", "isfinite", "isinf", "isnan", "linspace",
    "log", "log_softmax", "logsumexp", "long", "manual_seed", "masked_fill", "matmul", "max",
    "maximum", "mean", "min", "minimum", "mul", "narrow", "neg", "nn", "no_grad", "norm", "ones",
    "ones_like", "optim", "permute", "pow", "prod", "rand", "rand_like", "randint", "randn",
    "randn_like", "randperm", "reciprocal", "reshape", "roll", "round", "rsqrt", "scatter",
    "scatter_add", "scatter_reduce", "set_default_dtype", "set_grad_enabled", "set_rng_state",
    "sign", "sin", "softmax", "sort", "split", "sqrt", "squeeze", "stack", "std", "sub", "sum",
    "Tensor", "tensor", "topk", "transpose", "tril", "triu", "trunc", "uint8", "unsqueeze",
    "utils", "var", "where", "zeros", "zeros_like",
]
