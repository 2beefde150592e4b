"""A module's full backward hooks, as PyTorch's ``torch.utils.hooks.BackwardHook``.

When a module has backward hooks and grad mode is on, ``Module.__call__`` passes the
positional tensor inputs that need a gradient through one identity node before ``forward``,
and the output tensors that need one through another after it (and after the forward hooks).
In the backward pass the output node runs once the gradients of all the outputs are complete:
it runs the pre-hooks on them (which may replace them) and keeps them; the input node runs
once the gradients of all the inputs are: it runs the full hooks on ``(grad_input,
grad_output)`` (which may replace ``grad_input``). When no input needs a gradient there is no
input node, and the output node runs the full hooks with a ``grad_input`` of Nones.

lucid's ``Function`` has one output, and the engine runs it as soon as that output's
gradient is complete. An identity over several tensors at once (PyTorch's
``BackwardHookFunction``, n inputs and n outputs) is built from one hidden 0-d tensor, the
hub, and one selector per tensor:

    hub = _Gather.apply(t_0, ..., t_n-1)      # its function is the node
    t_i' = _Select.apply(t_i, hub, index=i)   # t_i's array, as is: a view of t_i

``_Select.backward`` sends its gradient to the hub as one slot of a ``_Slots``, which the
engine adds up as it adds arrays (slots merge), and nothing to ``t_i``. Every ``t_i'`` is made
from the hub, so the engine reaches the hub only after all of them: ``_Gather.backward`` gets
every gradient at once (None for those that never came) and returns one per ``t_i``. No
change to the engine is needed. The selectors' outputs are views that refuse in-place writes
(``Function.inplace_view``), as PyTorch's custom-Function views do: rebasing such a view would
send its gradient around the hooks.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

from lucid import autograd
from lucid.backend import array_module, get_array_module
from lucid.tensor import Tensor


class _Slots:
    """The gradients a hub's selectors send it, by selector index; added up by the engine."""

    __slots__ = ("grads",)

    def __init__(self, grads: dict[int, Any]) -> None:
        self.grads = grads

    def __add__(self, other: _Slots) -> _Slots:
        grads = dict(self.grads)
        for index, grad in other.grads.items():
            grads[index] = grad if index not in grads else grads[index] + grad
        return _Slots(grads)


class _Gather(autograd.Function):
    """The hub: a 0-d placeholder whose backward hands the gradients of all the selectors'
    outputs (a list, None where none came) to ``on_grads``, which returns one gradient per
    input."""

    reads_inputs = False

    def forward(self, *arrays: Any, on_grads: Callable[[list[Any]], tuple[Any, ...]] | None = None
                ) -> Any:
        self.on_grads, self.count = on_grads, len(arrays)
        return get_array_module(arrays[0]).zeros((), dtype=arrays[0].dtype)

    def backward(self, grad_output: _Slots) -> tuple[Any, ...]:
        return self.on_grads([grad_output.grads.get(i) for i in range(self.count)])


class BackwardHookFunction(autograd.Function):
    """``a`` as is (a view of it), linked to the hub: its gradient goes to the hub's slot
    ``index``, none straight to ``a``. PyTorch's name, for the in-place error."""

    reads_inputs = False
    views_input = True
    inplace_view = False

    def forward(self, a: Any, hub: Any, index: int = 0) -> Any:
        self.index = index
        return a

    def backward(self, grad_output: Any) -> tuple[None, _Slots]:
        return None, _Slots({self.index: grad_output})


def _through_identity(tensors: Sequence[Tensor],
                      on_grads: Callable[[list[Any]], tuple[Any, ...]]) -> list[Tensor]:
    """``tensors`` (all needing a gradient) through one identity node whose backward calls
    ``on_grads`` with all their gradients at once."""
    hub = _Gather.apply(*tensors, on_grads=on_grads)
    return [BackwardHookFunction.apply(t, hub, index=i) for i, t in enumerate(tensors)]


def _hook_name(hook: Callable[..., Any]) -> str:
    return getattr(hook, "__name__", repr(hook))


class _Spec:
    """What a gradient must match: a tensor's shape, dtype and device."""

    __slots__ = ("shape", "dtype", "device")

    def __init__(self, tensor: Tensor) -> None:
        self.shape, self.dtype, self.device = tensor.shape, tensor.dtype, tensor.device

    def zeros(self) -> Any:
        return array_module(self.device).zeros(self.shape, dtype=self.dtype)

    def array(self, grad: Any, hook: Callable[..., Any]) -> Any:
        """The array behind ``grad``, a hook's replacement gradient (a Tensor or None)."""
        if grad is None:
            return None
        if not isinstance(grad, Tensor):
            raise TypeError(f"a backward hook must return Tensors or None as gradients, got "
                            f"{type(grad).__name__}")
        if grad.shape != self.shape:
            raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the size of value")
        if grad.dtype != self.dtype or grad.device != self.device:
            raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the type of value (was "
                               f"{self.dtype} on {self.device} got {grad.dtype} on "
                               f"{grad.device})")
        return grad.data


def _wrap(grad: Any) -> Tensor | None:
    return None if grad is None else Tensor._wrap(grad)


class BackwardHook:
    """One call of a module with backward hooks: sets up its identity nodes and runs its
    hooks (the lists as they were at the call) in the backward pass, as PyTorch's."""

    def __init__(self, module: Any, hooks: list[Callable[..., Any]],
                 pre_hooks: list[Callable[..., Any]]) -> None:
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs: tuple[Tensor | None, ...] | None = None
        self.n_inputs = 0
        # position -> spec of every tensor argument (all get a grad_input, zeros when none
        # came), None when no input needs a gradient (then there is no input node)
        self.inputs: dict[int, _Spec] | None = None
        self.input_index: list[int] = []  # positions of the arguments through the node
        self.n_outputs = 0
        self.outputs: list[tuple[int, _Spec]] = []  # positions of the outputs through it

    # ---- forward ----------------------------------------------------------------------------
    def setup_input_hook(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """``args`` with their tensors that need a gradient through the input node."""
        self.n_inputs = len(args)
        tensors = {i: a for i, a in enumerate(args) if isinstance(a, Tensor)}
        wrapped = [i for i, t in tensors.items() if t.requires_grad]
        if not (wrapped and autograd.is_grad_enabled()):
            return args
        self.inputs = {i: _Spec(t) for i, t in tensors.items()}
        self.input_index = wrapped
        new = list(args)
        for i, t in zip(wrapped, _through_identity([args[i] for i in wrapped],
                                                    self._input_grads)):
            new[i] = t
        if type(args) is tuple:
            return tuple(new)
        return type(args)(*new) if isinstance(args, tuple) else type(args)(new)  # a namedtuple

    def setup_output_hook(self, output: Any) -> Any:
        """``output`` (a tensor, or a tuple's tensors) through the output node, when any of
        them needs a gradient."""
        is_tuple = isinstance(output, tuple)
        items = output if is_tuple else (output,)
        self.n_outputs = len(items)
        wrapped = [i for i, t in enumerate(items) if isinstance(t, Tensor) and t.requires_grad]
        if not (wrapped and autograd.is_grad_enabled()):
            return output
        self.outputs = [(i, _Spec(items[i])) for i in wrapped]
        new = list(items)
        for i, t in zip(wrapped, _through_identity([items[i] for i in wrapped],
                                                    self._output_grads)):
            new[i] = t
        result = tuple(new) if type(items) is tuple else type(items)(*new)
        return result if is_tuple else result[0]

    # ---- backward ---------------------------------------------------------------------------
    def _output_grads(self, grads: list[Any]) -> tuple[Any, ...]:
        """The output node's backward: the pre-hooks, and the full hooks too when no input
        needs a gradient; the outputs' gradients, as the pre-hooks left them."""
        grad_outputs: list[Tensor | None] = [None] * self.n_outputs
        for (i, _), grad in zip(self.outputs, grads):
            grad_outputs[i] = _wrap(grad)
        self.grad_outputs = tuple(grad_outputs)
        last: Callable[..., Any] | None = None
        for hook in self.pre_hooks:
            result = hook(self.module, self.grad_outputs)
            if result is None:
                continue
            if len(result) != len(self.grad_outputs):
                raise RuntimeError("Backward pre hook returned an invalid number of grad_output, "
                                   f"got {len(result)}, but expected {len(self.grad_outputs)}")
            self.grad_outputs, last = result, hook
        seen = self.grad_outputs
        if self.inputs is None:
            if self.hooks:
                warnings.warn("Full backward hook is firing when gradients are computed with "
                              "respect to module outputs since no inputs require gradients.",
                              stacklevel=2)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                result = hook(self.module, grad_inputs, self.grad_outputs)
                if result is not None and not (isinstance(result, tuple) and
                                               all(g is None for g in result)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        if last is None:
            return tuple(grads)
        return tuple(spec.array(seen[i], last) for i, spec in self.outputs)

    def _input_grads(self, grads: list[Any]) -> tuple[Any, ...]:
        """The input node's backward: the full hooks on (grad_input, grad_output); the inputs'
        gradients, as the hooks left them. A tensor argument no gradient came to has zeros
        (PyTorch's materialised gradients)."""
        assert self.inputs is not None
        came = dict(zip(self.input_index, grads))
        grad_inputs: list[Any] = [None] * self.n_inputs
        for i, spec in self.inputs.items():
            grad = came.get(i)
            grad_inputs[i] = spec.zeros() if grad is None else grad
        if self.grad_outputs is None:  # the gradient did not come through the outputs
            return tuple(grad_inputs[i] for i in self.input_index)
        result = tuple(_wrap(g) for g in grad_inputs)
        last: Callable[..., Any] | None = None
        for hook in self.hooks:
            out = hook(self.module, result, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(result):
                raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                   f"got {len(out)}, but expected {len(result)}")
            result, last = out, hook
        self.grad_outputs = None
        if last is None:
            return tuple(grad_inputs[i] for i in self.input_index)
        return tuple(self.inputs[i].array(result[i], last) for i in self.input_index)
