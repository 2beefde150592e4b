"""``Optimizer``: the base class of lucid's optimisers, with PyTorch's interface.

An optimiser holds *param groups* (dicts with a ``"params"`` list and per-group options such
as ``"lr"``) and a per-parameter ``state`` dict. Subclasses implement ``_update_group``, which
changes each parameter's raw array (``p.data``) in place from its gradient; ``step`` wraps it
in ``no_grad`` and handles the optional closure.

``state_dict`` / ``load_state_dict`` use PyTorch's layout: state keyed by the integer index of
the parameter in the order the groups list them, and param groups whose ``"params"`` are lists
of those indices. State values are numpy arrays or Python numbers (or lists of them, as
LBFGS's history), so a checkpoint writer can store them with :func:`flatten_state_dict`
(arrays for safetensors / npz plus a JSON string).
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from lucid.autograd import enable_grad, no_grad
from lucid.backend import asnumpy, device_of, to_device
from lucid.optim._state import flatten_state_dict, unflatten_state_dict
from lucid.tensor import Tensor
from lucid.utils.hooks import RemovableHandle, add_hook

__all__ = ["Optimizer", "ParamsT", "flatten_state_dict", "unflatten_state_dict"]

ParamsT = Iterable[Tensor] | Iterable[tuple[str, Tensor]] | Iterable[dict[str, Any]]


def gradients(group: dict[str, Any]) -> Iterator[tuple[Tensor, Any, Any]]:
    """Each parameter of ``group`` that has a gradient, with its array and the gradient to
    descend (negated under the group's ``maximize``): what an update rule loops over."""
    for p in group["params"]:
        if p.grad is not None:
            yield p, p.data, (-p.grad.data if group.get("maximize") else p.grad.data)


class Optimizer:
    """Base class: param groups, per-parameter state, ``zero_grad``, ``step``, state dicts.

    Args:
        params: an iterable of tensors (or of ``(name, tensor)`` pairs, such as
            ``module.named_parameters()``, whose names go into the groups' ``"param_names"``),
            or of dicts (param groups) each with a ``"params"`` entry and any options that
            override ``defaults`` for that group.
        defaults: the default value of every option (``lr``, ``momentum``, ...).

    ``state[p]`` is a dict of raw arrays (numpy or CuPy, on the parameter's device and of its
    dtype) and Python numbers; it is created on the first ``step`` that sees a gradient for
    ``p``.

    Example:
        >>> import lucid
        >>> from lucid.optim import SGD
        >>> w = lucid.ones(2, requires_grad=True)
        >>> b = lucid.zeros(1, requires_grad=True)
        >>> opt = SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
        >>> [g["lr"] for g in opt.param_groups]
        [0.1, 0.5]
        >>> opt.state_dict()["param_groups"][1]["params"]
        [1]
    """

    def __init__(self, params: ParamsT, defaults: Mapping[str, Any]) -> None:
        self.defaults: dict[str, Any] = dict(defaults)
        # keyed by the parameter tensor itself: Tensor hashes by identity, like torch's
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._optimizer_step_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict[int, Callable[..., Any]] = \
            OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict[int, Callable[..., Any]] = \
            OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict[int, Callable[..., Any]] = \
            OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict[int, Callable[..., Any]] = \
            OrderedDict()

        if isinstance(params, (Tensor, set)):
            # a set's order changes between runs, so state_dict indices would not be stable
            raise TypeError(
                "params argument given to the optimizer should be an ordered iterable of "
                f"Tensors or dicts, but got {type(params).__name__}"
            )
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    # ---- param groups -----------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (missing ones come from defaults,
        filled into the dict given, which the optimiser keeps, as PyTorch's).

        Useful for fine-tuning: unfreeze layers and give them to the optimiser as training
        goes on.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = param_group  # the caller's dict, as PyTorch: its later edits reach the group
        params = group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            # a set's order changes between runs, so state_dict indices would not be stable
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs; please use a list instead"
            )
        elif params is None:
            raise ValueError("a param group needs a 'params' entry")
        params = list(params)
        named = [p for p in params if isinstance(p, tuple)]  # module.named_parameters()
        if named:
            if len(named) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some "
                                 "param names are missing")
            group["param_names"] = [name for name, _ in named]
            params = [p for _, p in named]
        if self.param_groups and \
                ("param_names" in group) != ("param_names" in self.param_groups[0]):
            with_names = "with" if "param_names" in group else "without"
            raise ValueError("all optimizer param groups should be with/without names. "
                             f"cannot add param group {with_names} names to the optimizer")
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is "
                    f"{type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group["params"] = params

        for name, default in self.defaults.items():
            group.setdefault(name, default)

        # identity, not ==: Tensor.__eq__ is elementwise
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, "
                "this will cause an error",
                UserWarning,
                stacklevel=3,
            )
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if taken.intersection(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # ---- gradients and updates --------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters.

        With ``set_to_none`` (the default, as in PyTorch) ``p.grad`` becomes None, which frees
        memory and lets ``step`` skip parameters that get no gradient; otherwise the gradient
        arrays are filled with zeros in place.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.data[...] = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A subclass's own ``step`` runs the step hooks too, as PyTorch wraps it."""
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _with_step_hooks(cls.__dict__["step"])

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()``'s loss, if given.

        The closure (re-evaluating the model and calling ``backward``) runs with gradients
        enabled; the update itself runs under ``no_grad`` on the raw arrays. The step hooks
        (``register_step_pre_hook``, ``register_step_post_hook``) run before and after, with
        the arguments as given, after the optimiser itself (as PyTorch's: ``args[0]``).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._update_group(group)
                for p in group["params"]:  # written in place: a graph kept from before
                    if p.grad is not None:  # (retain_graph) refuses to reuse the old values
                        p._bump_version()
        return loss

    def _update_group(self, group: dict[str, Any]) -> None:
        """Apply one update to the parameters of ``group`` (implemented by subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _update_group")

    # ---- hooks ------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Run ``hook(optimizer, args, kwargs)`` before each ``step``: it returns None, or
        ``(args, kwargs)`` for the step to take instead.

        Example:
            >>> import lucid
            >>> from lucid.optim import SGD
            >>> opt = SGD([lucid.ones(1, requires_grad=True)], lr=0.1)
            >>> steps = []
            >>> handle = opt.register_step_post_hook(lambda o, args, kwargs: steps.append(1))
            >>> opt.step(); opt.step(); len(steps)
            2
        """
        return add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Run ``hook(optimizer, args, kwargs)`` after each ``step`` (its result unused)."""
        return add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Callable[..., Any],
                                     prepend: bool = False) -> RemovableHandle:
        """Run ``hook(optimizer)`` before ``state_dict`` builds its dict."""
        return add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable[..., Any],
                                      prepend: bool = False) -> RemovableHandle:
        """Run ``hook(optimizer, state_dict)`` on the dict ``state_dict`` returns: a dict it
        returns is returned instead."""
        return add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any],
                                          prepend: bool = False) -> RemovableHandle:
        """Run ``hook(optimizer, state_dict)`` before ``load_state_dict`` reads the dict: a
        dict it returns is loaded instead."""
        return add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any],
                                           prepend: bool = False) -> RemovableHandle:
        """Run ``hook(optimizer)`` after ``load_state_dict``."""
        return add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ---- state dicts ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The optimiser's state in PyTorch's layout, detached from the live optimiser.

        Returns ``{"state": {index: {name: value}}, "param_groups": [{..., "params": [index,
        ...]}]}`` where indices count parameters across groups in order. Array values are numpy
        copies (from any device), so later steps do not change a saved state dict.
        """
        for hook in list(self._optimizer_state_dict_pre_hooks.values()):
            hook(self)
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            indices = []
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
                indices.append(index_of[id(p)])
            packed["params"] = indices
            groups.append(packed)
        state = {
            index_of[id(p)]: {k: _export_value(v) for k, v in s.items()}
            for p, s in self.state.items()
            if id(p) in index_of
        }
        state_dict = {"state": state, "param_groups": groups}
        for hook in list(self._optimizer_state_dict_post_hooks.values()):
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a state from :meth:`state_dict` (of an optimiser with the same groups).

        Floating-point arrays are cast to each parameter's dtype and moved to its device (the
        ``"step"`` counter stays a Python number). Group options (``lr``, ...) come from the
        state dict; the parameters stay this optimiser's own.
        """
        state_dict = dict(state_dict)  # hooks may change it: not the caller's
        for hook in list(self._optimizer_load_state_dict_pre_hooks.values()):
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group ({i}) that doesn't match the "
                    "size of optimizer's group"
                )
        params_by_index: dict[int, Tensor] = {}
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            for index, p in zip(saved["params"], group["params"], strict=True):
                params_by_index[int(index)] = p

        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for index, values in state_dict["state"].items():
            p = params_by_index.get(int(index))
            if p is None:
                continue  # state of a parameter this optimiser does not have: as torch, drop it
            state[p] = {k: _import_value(k, v, p) for k, v in values.items()}
        self.state = state

        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            restored = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            restored["params"] = group["params"]
            if "param_names" in group and "param_names" not in restored:  # kept, as PyTorch
                restored["param_names"] = group["param_names"]
            new_groups.append(restored)
        self.param_groups = new_groups
        for hook in list(self._optimizer_load_state_dict_post_hooks.values()):
            hook(self)


def _export_value(value: Any) -> Any:
    """A state value as stored in a state dict: arrays become numpy copies (also inside the
    lists some optimisers keep, as LBFGS's history)."""
    if isinstance(value, (list, tuple)):
        return type(value)(_export_value(v) for v in value)
    if isinstance(value, np.generic):
        return np.array(value)  # keep the dtype: a 0-d array, not a Python float
    if hasattr(value, "dtype") and hasattr(value, "shape"):  # numpy or cupy array
        return np.array(asnumpy(value), copy=True)
    return copy.deepcopy(value)


def _import_value(key: str, value: Any, param: Tensor) -> Any:
    """A state-dict value made live for ``param``: same device, float arrays in its dtype
    (also inside lists, as LBFGS's history)."""
    if isinstance(value, (list, tuple)):
        return type(value)(_import_value(key, v, param) for v in value)
    if key == "step":
        # torch keeps the count as a float tensor; lucid as a Python int (exact past 2**24)
        number = np.asarray(value).item()
        return int(number) if float(number).is_integer() else number
    if isinstance(value, np.generic) or (hasattr(value, "dtype") and hasattr(value, "shape")):
        array = to_device(value, device_of(param.data))
        dtype = param.dtype if array.dtype.kind == "f" and param.dtype.kind == "f" else None
        # always copy: the optimiser updates state in place, the caller's dict must not change
        return array.astype(dtype or array.dtype, copy=True)
    return copy.deepcopy(value)


def _with_step_hooks(step: Callable[..., Any]) -> Callable[..., Any]:
    """``step`` running the optimiser's step pre-hooks (which may replace its arguments)
    before and its post-hooks after; once a call, also when a subclass's ``step`` calls
    ``super().step()``, as PyTorch's."""

    @functools.wraps(step)
    def hooked(*args: Any, **kwargs: Any) -> Any:
        optimizer = args[0]
        if optimizer.__dict__.get("_in_step"):
            return step(*args, **kwargs)
        optimizer._in_step = True
        try:
            for hook in list(optimizer._optimizer_step_pre_hooks.values()):
                result = hook(optimizer, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(f"{hook} must return None or a tuple of (new_args, "
                                           f"new_kwargs), but got {result}.")
                    args, kwargs = result
            out = step(*args, **kwargs)
            for hook in list(optimizer._optimizer_step_post_hooks.values()):
                hook(optimizer, args, kwargs)
            return out
        finally:
            optimizer._in_step = False

    return hooked


Optimizer.step = _with_step_hooks(Optimizer.step)  # type: ignore[method-assign]
