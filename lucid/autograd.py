"""Reverse-mode automatic differentiation.

A differentiable op is a ``Function`` subclass with ``forward`` (arrays in, one array out) and
``backward`` (the output's gradient in, one gradient per tensor input out). ``Function.apply``
runs ``forward`` and, when gradients are wanted, links the output to the function so that
``backward`` can walk the graph. The engine knows nothing of layers.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from lucid.tensor import Tensor

_state = threading.local()


def is_grad_enabled() -> bool:
    """Whether operations record a graph for ``backward``."""
    return getattr(_state, "enabled", True)


class set_grad_enabled:  # noqa: N801 - PyTorch's name
    """Switch graph recording on or off for this thread: at once when called, and back to what
    it was when a ``with`` block around it ends, as in PyTorch.

    Example:
        >>> import lucid
        >>> x = lucid.ones(2, requires_grad=True)
        >>> with lucid.set_grad_enabled(False):
        ...     (x * 2).requires_grad
        False
        >>> (x * 2).requires_grad
        True
    """

    def __init__(self, mode: bool) -> None:
        self.previous = is_grad_enabled()
        _state.enabled = bool(mode)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        _state.enabled = self.previous


@contextlib.contextmanager
def _grad_mode(mode: bool) -> Iterator[None]:
    previous = is_grad_enabled()
    set_grad_enabled(mode)
    try:
        yield
    finally:
        set_grad_enabled(previous)


class no_grad(contextlib.ContextDecorator):  # noqa: N801 - PyTorch's name
    """Context manager and decorator: build no graph, keep no saved tensors.

    Example:
        >>> import lucid
        >>> x = lucid.ones(3, requires_grad=True)
        >>> with lucid.no_grad():
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

    def __enter__(self) -> None:
        self._previous = is_grad_enabled()
        set_grad_enabled(False)

    def __exit__(self, *exc: object) -> None:
        set_grad_enabled(self._previous)


class enable_grad(contextlib.ContextDecorator):  # noqa: N801 - PyTorch's name
    """Context manager and decorator: record graphs again inside ``no_grad``."""

    def __enter__(self) -> None:
        self._previous = is_grad_enabled()
        set_grad_enabled(True)

    def __exit__(self, *exc: object) -> None:
        set_grad_enabled(self._previous)


class Function:
    """One differentiable operation.

    Subclasses implement ``forward(self, *arrays, **params) -> array`` and
    ``backward(self, grad_output) -> array | tuple`` returning one gradient (or None) per
    tensor input; they keep what backward needs on ``self`` (``save_for_backward``). Both
    run under ``numpy.errstate(all="ignore")``: NaN and inf arise quietly, as in PyTorch
    (numpy would warn on stderr, and the library never prints).
    """

    inputs: tuple[Tensor, ...]
    saved_tensors: tuple[Any, ...] = ()
    #: whether ``backward`` uses the inputs' values: True, False (sums, reshapes, joins, and
    #: ops that keep their output instead), or ``"others"`` (a product: an input's values
    #: only for the other inputs' gradients). An input whose values it uses must not be
    #: written in place between the forward pass and the backward one (``Tensor._version``).
    reads_inputs: bool | str = True
    #: whether ``backward`` uses the output's values (exp, sigmoid, ...): the output must not
    #: be written in place before it runs either
    saves_output = False
    #: whether the output may be a view of the first input's array (indexing, reshape, ...):
    #: then writes to either count for both (``Tensor._share_version``)
    views_input = False
    #: whether an in-place op may write to that view, or to a view of it: False for an op whose
    #: backward the write would bypass (the identity a module's backward hooks put on its
    #: inputs and outputs), as PyTorch refuses for the views a custom Function returns
    inplace_view = True

    def reads(self, index: int) -> bool:
        """Whether ``backward`` uses the values of input ``index``, given which inputs
        need a gradient (``reads_inputs``)."""
        if self.reads_inputs == "others":
            return any(needs for i, needs in enumerate(self.needs) if i != index)
        return bool(self.reads_inputs)

    def save_for_backward(self, *arrays: Any) -> None:
        self.saved_tensors = arrays

    def forward(self, *arrays: Any, **params: Any) -> Any:
        raise NotImplementedError

    def backward(self, grad_output: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Tensor, **params: Any) -> Tensor:
        """Run the op on tensors; record it in the graph when any input needs a gradient."""
        from lucid.tensor import Tensor, check_same_device

        check_same_device(inputs, cls.__name__)
        if is_grad_enabled():
            _check_views(inputs)
        fn = cls()
        with np.errstate(all="ignore"):  # inf - inf is NaN quietly, as in PyTorch
            output = Tensor._wrap(fn.forward(*(t.data for t in inputs), **params))
        view = fn.views_input and _shares_memory(output.data, inputs[0].data)
        if view:
            output._share_version(inputs[0])
        # an integer or bool result (a cast) has no gradient: the graph stops, as in PyTorch
        if is_grad_enabled() and output.data.dtype.kind in "fc" and \
                any(t.requires_grad for t in inputs):
            fn.inputs = inputs
            # as the inputs were: an in-place op may later give one a new place in the graph
            fn.needs = tuple(t.requires_grad for t in inputs)
            fn.input_fns = tuple(t._grad_fn for t in inputs)
            fn.versions = tuple(t._version for t in inputs)
            fn.output_view = view  # a view's gradient goes to the base as it was
            if fn.saves_output:
                fn.output_box = output._version_box()
                fn.output_version = fn.output_box.version
            output.requires_grad = True
            output._grad_fn = fn
        return output


def _shares_memory(a: Any, b: Any) -> bool:
    """Whether ``a`` views ``b``'s memory (a reshape that had to copy does not)."""
    from lucid.backend import get_array_module

    return bool(get_array_module(a).may_share_memory(a, b))


def _edges(fn: Function) -> list[Tensor | None]:
    """Where ``fn``'s input gradients go: each input that needed one when ``fn`` ran, as it
    was then. An input an in-place op has since put after another op in the graph hands its
    earlier self over to a stand-in (``Tensor._replaced``), so that the gradient from ``fn``
    does not pass through the later op."""
    edges: list[Tensor | None] = []
    for tensor, needs, recorded in zip(fn.inputs, fn.needs, fn.input_fns, strict=True):
        if needs and tensor._grad_fn is not recorded:
            stand_in = (tensor._replaced or {}).get(id(recorded))
            if stand_in is None:  # its graph was freed by a backward through it
                raise RuntimeError(
                    "trying to backward through the graph a second time (a tensor changed in "
                    "place has freed what it was before); call backward(retain_graph=True) "
                    "the first time if you need to")
            tensor = stand_in
        edges.append(tensor if needs else None)
    return edges


def _check_views(inputs: Sequence[Tensor]) -> None:
    """Refuse a view whose base an in-place op has moved in the graph since the view was
    taken: its gradient would go to the base as it was (PyTorch takes such a view again)."""
    for tensor in inputs:
        fn = tensor._grad_fn
        stale = fn is None and tensor._box is not None and tensor._box.joined_graph and \
            tensor._box.is_view(tensor)
        while not stale and fn is not None and fn.__dict__.get("output_view"):
            base = fn.inputs[0]  # up the chain of views: a view of a view of a moved base
            stale = base._grad_fn is not fn.input_fns[0]
            fn = base._grad_fn
        if stale:
            raise RuntimeError(
                "a view (indexing, reshape, ...) taken before an in-place operation brought "
                "its base to a new place in the graph is used after it; take the view again "
                "after the in-place operation")


def _check_inplace_view(tensor: Tensor) -> None:
    """Refuse an in-place op on a view made by an op that forbids it (``inplace_view``), or
    on a view of such a view: the view would be rebased on its base (``Tensor._rebase``),
    and its gradient would no longer pass through that op's backward."""
    fn = tensor._grad_fn
    while fn is not None and fn.__dict__.get("output_view"):
        if not fn.inplace_view:
            raise RuntimeError(
                f"an output of {type(fn).__name__} is a view and is being modified in place. "
                "This view was created inside a custom Function (or because an input was "
                "returned as-is) and the autograd logic to handle view+inplace would override "
                "the custom backward associated with the custom Function, leading to incorrect "
                "gradients. This behavior is forbidden. You can fix this by cloning the output "
                "of the custom Function.")
        fn = fn.inputs[0]._grad_fn


def _check_versions(fn: Function) -> None:
    """PyTorch's check: an input (or the output) whose values ``fn.backward`` uses must not
    have been written in place since ``fn`` ran (its saved array would hold the new values)."""
    name = type(fn).__name__
    hint = "use an out-of-place op (x = x * 2, not x.mul_(2)) or clone() it first"
    if fn.saves_output and fn.output_box.version != fn.output_version:
        raise RuntimeError(f"the output of {name}, which its gradient needs, has been "
                           f"modified by an in-place operation; {hint}")
    for index, (tensor, version) in enumerate(zip(fn.inputs, fn.versions, strict=True)):
        if tensor._version != version and fn.reads(index):
            raise RuntimeError(
                f"one of the tensors needed for the gradient of {name} has been modified by "
                f"an in-place operation (version {tensor._version}, expected {version}); {hint}"
            )


def _topological_order(root: Tensor) -> list[Tensor]:
    """Tensors reachable from ``root`` through recorded functions, outputs before inputs."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:  # iterative: deep graphs must not hit Python's recursion limit
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        if tensor._grad_fn is not None and "inputs" in tensor._grad_fn.__dict__:
            for parent in _edges(tensor._grad_fn):
                if parent is not None and id(parent) not in visited:
                    stack.append((parent, False))
    order.reverse()
    return order


def _no_create_graph(create_graph: bool) -> None:
    if create_graph:
        raise NotImplementedError("create_graph=True (gradients of gradients) is not supported: "
                                  "lucid's backward passes run on arrays, outside any graph")


def _accumulate(tensor: Tensor, g: Any) -> None:
    """Add ``g`` into ``tensor.grad``: never overwritten, added in place, as PyTorch's."""
    from lucid.tensor import Tensor

    if tensor.grad is None:
        tensor.grad = Tensor._wrap(g.astype(tensor.dtype, copy=True))
    else:
        tensor.grad.data[...] += g
        tensor.grad._bump_version()


def backward(root: Tensor, grad: Any, retain_graph: bool = False,
             inputs: Sequence[Tensor] | None = None) -> None:
    """Accumulate d(root)/d(leaf) into every leaf's ``.grad``, seeded with ``grad``; with
    ``inputs``, into theirs only (leaves or not), as PyTorch's. A non-leaf tensor's that
    ``retain_grad`` asked for is kept in any pass that reaches it (``_propagate``)."""
    _check_views([root])
    if inputs is None:
        _propagate(root, grad, retain_graph, _accumulate)
        return
    if not inputs:
        raise RuntimeError("'inputs' argument to backward() cannot be empty")
    wanted = {id(tensor) for tensor in inputs}

    def chosen(tensor: Tensor, g: Any) -> None:
        if id(tensor) in wanted and not tensor._retains_grad:  # a retained one has it
            _accumulate(tensor, g)

    _propagate(root, grad, retain_graph, chosen, chosen, wanted)


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool = False, create_graph: bool = False,
         allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """The gradient of ``outputs`` with respect to each of ``inputs``, returned, not
    accumulated: no tensor's ``.grad`` changes.

    As ``torch.autograd.grad`` for one output tensor (alone or in a one-element sequence; a
    scalar unless ``grad_outputs`` is given, a tensor or array of the output's shape),
    without ``create_graph`` (True raises NotImplementedError). An input the output does not
    depend on is an error unless ``allow_unused``, then its gradient is None. Graphs that
    share only leaves (say a model's parameters) can be differentiated on several threads at
    once.

    Example:
        >>> import lucid
        >>> x = lucid.tensor([1.0, 2.0], requires_grad=True)
        >>> (g,) = lucid.autograd.grad((x * x).sum(), [x])
        >>> g.tolist(), x.grad
        ([2.0, 4.0], None)
    """
    from lucid.tensor import Tensor

    _no_create_graph(create_graph)
    outputs = _one_output(outputs)
    _check_views([outputs])
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if isinstance(grad_outputs, (list, tuple)) and len(grad_outputs) == 1:
        grad_outputs = grad_outputs[0]
    for tensor in inputs:
        if not tensor.requires_grad:
            raise RuntimeError("one of the differentiated tensors does not require grad")
    seed = outputs._grad_seed(grad_outputs, "grad_outputs")
    found: dict[int, Any] = {}
    wanted = {id(t) for t in inputs}

    def collect(tensor: Tensor, g: Any) -> None:
        if id(tensor) in wanted:
            found[id(tensor)] = g

    _propagate(outputs, seed, retain_graph, collect, collect, wanted)
    result: list[Tensor | None] = []
    for tensor in inputs:
        g = found.get(id(tensor))
        if g is None and not allow_unused:
            raise RuntimeError("one of the differentiated tensors appears to not have been "
                               "used in the graph; set allow_unused=True if this is intended")
        result.append(None if g is None else Tensor._wrap(g.astype(tensor.dtype, copy=True)))
    return tuple(result)


def _one_output(outputs: Tensor | Sequence[Tensor]) -> Tensor:
    from lucid.tensor import Tensor

    if isinstance(outputs, Tensor):
        return outputs
    if len(outputs) != 1:
        raise NotImplementedError("lucid.autograd.grad takes one output tensor")
    return outputs[0]


def _propagate(root: Tensor, grad: Any, retain_graph: bool, on_leaf: Callable[[Tensor, Any], None],
               on_node: Callable[[Tensor, Any], None] | None = None,
               wanted: set[int] | None = None) -> None:
    """Walk the graph from ``root`` (seeded with ``grad``) and hand every leaf its total
    gradient (``on_node`` also sees each intermediate tensor's, once complete). With
    ``wanted`` (ids of tensors), only the part of the graph that leads to them runs: hooks
    and retained gradients elsewhere stay untouched, as PyTorch's."""
    from lucid.tensor import Tensor

    order = _topological_order(root)
    needed = None if wanted is None else _leading_to(order, wanted)
    grads: dict[int, Any] = {id(root): grad}
    with _grad_mode(False), np.errstate(all="ignore"):  # IEEE quietly, as PyTorch
        for tensor in order:
            g = grads.pop(id(tensor), None)
            if g is None:
                continue
            if tensor._hooks:
                g = tensor._hooked(g)
            if tensor._retains_grad:  # in autograd.grad too; a new tensor, as PyTorch's
                tensor.grad = Tensor._wrap(g.astype(tensor.dtype, copy=True)
                                           if tensor.grad is None else tensor.grad.data + g)
            fn = tensor._grad_fn
            if fn is None:
                on_leaf(tensor, g)
                continue
            if on_node is not None:
                on_node(tensor, g)
            if fn.__dict__.get("released"):
                raise RuntimeError(
                    "trying to backward through the graph a second time; "
                    "call backward(retain_graph=True) the first time if you need to"
                )
            parents = _edges(fn)
            if needed is not None:
                parents = [p if p is not None and id(p) in needed else None for p in parents]
                if not any(p is not None for p in parents):
                    continue  # nothing wanted below
            _check_versions(fn)
            input_grads = fn.backward(g)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            for parent, parent_grad in zip(parents, input_grads, strict=True):
                if parent_grad is None or parent is None:
                    continue
                key = id(parent)
                grads[key] = parent_grad if key not in grads else grads[key] + parent_grad
            if not retain_graph:
                # free saved activations as soon as they are used: training memory stays flat
                fn.__dict__.clear()
                fn.released = True


def _leading_to(order: list[Tensor], wanted: set[int]) -> set[int]:
    """The ids of the tensors in ``order`` (a topological order, outputs first) that are
    wanted or made from one that is: the part of the graph a backward to them runs."""
    needed: set[int] = set()
    for tensor in reversed(order):  # inputs before what is made from them
        fn = tensor._grad_fn
        if id(tensor) in wanted or (fn is not None and "inputs" in fn.__dict__ and any(
                p is not None and id(p) in needed for p in _edges(fn))):
            needed.add(id(tensor))
    return needed
