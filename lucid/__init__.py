"""lucid: a compact deep-learning library that reads like PyTorch and runs on numpy or CuPy.

Example:
    >>> import lucid
    >>> x = lucid.ones(2, 3, requires_grad=True)
    >>> y = (x * 3).sum()
    >>> y.backward()
    >>> x.grad.shape
    (2, 3)
"""

from lucid import gpu
from lucid.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from lucid.backend import Device, gpu_available
from lucid.backend import as_device as device
from lucid.creation import (
    arange,
    empty,
    empty_like,
    from_numpy,
    full,
    full_like,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
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
    amax,
    amin,
    argmax,
    argmin,
    cat,
    clamp,
    clip,
    concat,
    div,
    exp,
    flatten,
    flip,
    log,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    permute,
    pow,
    reshape,
    sqrt,
    squeeze,
    stack,
    std,
    sub,
    sum,
    transpose,
    unsqueeze,
    var,
    where,
)
from lucid.random import get_rng_state, manual_seed, set_rng_state
from lucid.tensor import Tensor, tensor

bool = bool_  # noqa: A001 - PyTorch's name for the dtype (torch.bool)

__version__ = "0.1.0"

__all__ = [
    "Device", "Tensor", "abs", "add", "amax", "amin", "arange", "argmax", "argmin", "bool",
    "bool_",
    "cat", "clamp", "clip", "concat", "device", "div", "double", "empty", "empty_like",
    "enable_grad", "exp", "flatten", "flip", "float16", "float32", "float64", "from_numpy",
    "full", "full_like", "get_default_dtype", "get_rng_state", "gpu", "gpu_available", "half",
    "int8", "int16", "int32", "int64", "is_grad_enabled", "log", "long", "manual_seed", "matmul",
    "max", "maximum", "mean", "min", "minimum", "mul", "neg", "no_grad", "ones", "ones_like",
    "permute", "pow", "rand", "rand_like", "randint", "randn", "randn_like", "reshape",
    "set_default_dtype", "set_grad_enabled", "set_rng_state", "sqrt", "squeeze", "stack", "std",
    "sub", "sum", "tensor", "transpose", "uint8", "unsqueeze", "var", "where", "zeros",
    "zeros_like",
]
