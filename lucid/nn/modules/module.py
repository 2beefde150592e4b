"""``Module``: the base class of layers, with PyTorch's registration and state-dict semantics.

Assigning a ``Parameter`` or a ``Module`` to an attribute registers it; ``register_buffer``
registers non-learnable state (running statistics). Everything registered is found by the
``named_*`` walkers under dotted names (``"body.0.weight"``), which are the keys of
``state_dict``.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from lucid import autograd
from lucid.backend import Device, array_module, as_device, device_of, to_device
from lucid.dtypes import as_dtype
from lucid.nn.modules._backward_hook import BackwardHook
from lucid.nn.parameter import Buffer, Parameter
from lucid.tensor import Tensor
from lucid.utils.hooks import RemovableHandle, add_hook

M = TypeVar("M", bound="Module")


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns, as PyTorch's ``_IncompatibleKeys``."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


def _addindent(text: str, spaces: int) -> str:
    """Indent every line but the first (how PyTorch nests child reprs)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _parse_to_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any]:
    """``(device, dtype)`` from the arguments of ``to`` (either may be None)."""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    if kwargs:
        raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, Device):
            device = arg
        elif isinstance(arg, str):
            # "gpu", "cuda:0" name devices; anything else ("float64") must name a dtype
            try:
                device = as_device(arg)
            except ValueError:
                dtype = arg
        else:
            dtype = arg
    return (None if device is None else as_device(device)), (
        None if dtype is None else as_dtype(dtype)
    )


def _as_array(value: Any) -> Any:
    """The array behind a state-dict value: a lucid Tensor, numpy or CuPy array, or a list."""
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return value
    return array_module("cpu").asarray(value)


class Module:
    """Base class of all layers; subclasses assign parameters and sub-modules in ``__init__``
    and implement ``forward``.

    Example:
        >>> import lucid
        >>> import lucid.nn as nn
        >>> class Net(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU())
        ...         self.head = nn.Linear(8, 2)
        ...     def forward(self, x):
        ...         return self.head(self.body(x))
        >>> net = Net()
        >>> [name for name, _ in net.named_parameters()]
        ['body.0.weight', 'body.0.bias', 'head.weight', 'head.bias']
        >>> net(lucid.randn(3, 4)).shape
        (3, 2)
    """

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent_buffers: set[str]
    _modules: dict[str, Module | None]

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these dicts to exist already
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_hooks_with_kwargs", set())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_pre_hooks
                or self._backward_hooks):
            return self.forward(*args, **kwargs)
        with_kwargs = self._hooks_with_kwargs
        for key, hook in list(self._forward_pre_hooks.items()):
            if key in with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {result}.")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        backward_hook = None
        if self._backward_hooks or self._backward_pre_hooks:  # it wraps nothing in no_grad
            backward_hook = BackwardHook(self, list(self._backward_hooks.values()),
                                         list(self._backward_pre_hooks.values()))
            args = backward_hook.setup_input_hook(args)
        output = self.forward(*args, **kwargs)
        for key, hook in list(self._forward_hooks.items()):
            result = (hook(self, args, kwargs, output) if key in with_kwargs
                      else hook(self, args, output))
            if result is not None:
                output = result
        if backward_hook is not None:
            if not isinstance(output, (Tensor, tuple)):
                warnings.warn("For backward hooks to be called, module output should be a "
                              f"Tensor or a tuple of Tensors but received {type(output)}",
                              stacklevel=2)
            output = backward_hook.setup_output_hook(output)
        return output

    # ---- hooks ------------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Run ``hook(module, args)`` before each ``forward``: a value it returns replaces
        the positional arguments (a tuple, or one argument). With ``with_kwargs``,
        ``hook(module, args, kwargs)`` returns None or ``(args, kwargs)``. ``prepend`` runs it
        before the hooks already registered. PyTorch's ``always_call`` is not supported.

        Example:
            >>> import lucid
            >>> from lucid import nn
            >>> layer = nn.Identity()
            >>> handle = layer.register_forward_pre_hook(lambda module, args: args[0] * 2)
            >>> layer(lucid.ones(2)).tolist()
            [2.0, 2.0]
        """
        return self._add_hook(self._forward_pre_hooks, hook, prepend, with_kwargs)

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                              with_kwargs: bool = False) -> RemovableHandle:
        """Run ``hook(module, args, output)`` after each ``forward``: a value it returns
        replaces the output. With ``with_kwargs``, ``hook(module, args, kwargs, output)``.
        ``prepend`` runs it before the hooks already registered. How to keep a network's
        inner features (a style loss's taps) without changing its code.

        Example:
            >>> import lucid
            >>> from lucid import nn
            >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
            >>> seen = {}
            >>> handle = net[1].register_forward_hook(
            ...     lambda module, args, output: seen.update(relu=output))
            >>> _ = net(lucid.ones(2, 3))
            >>> seen["relu"].shape
            (2, 4)
            >>> handle.remove()
        """
        return self._add_hook(self._forward_hooks, hook, prepend, with_kwargs)

    def register_full_backward_pre_hook(self, hook: Callable[..., Any],
                                        prepend: bool = False) -> RemovableHandle:
        """Run ``hook(module, grad_output)`` in each backward pass, once the gradients with
        respect to the module's outputs are computed: ``grad_output`` is a tuple with one entry
        per output (the tensor returned, or each item of a returned tuple), None for an item
        that is no tensor, needs no gradient or got none. A tuple it returns (of the same
        length) replaces ``grad_output`` for the later hooks, for the full hooks
        (``register_full_backward_hook``) and for the gradients that flow on into the module
        (a tensor where None was sends that output a gradient). ``prepend`` runs it before the
        hooks already registered. The hook should not change its arguments in place.

        As PyTorch's, under the rules (and deliberate differences) written in
        ``register_full_backward_hook``.

        Example:
            >>> import lucid
            >>> from lucid import nn
            >>> layer = nn.Linear(2, 1)
            >>> handle = layer.register_full_backward_pre_hook(
            ...     lambda module, grad_output: (grad_output[0] * 0,))
            >>> layer(lucid.ones(1, 2)).sum().backward()
            >>> layer.bias.grad.tolist()
            [0.0]
            >>> handle.remove()
        """
        return add_hook(self._backward_pre_hooks, hook, prepend)

    def register_full_backward_hook(self, hook: Callable[..., Any],
                                    prepend: bool = False) -> RemovableHandle:
        """Run ``hook(module, grad_input, grad_output)`` in each backward pass, once the
        gradients with respect to the module's inputs are computed: ``grad_input`` has one
        entry per positional argument (keyword arguments are left out), None for one that is
        no tensor; ``grad_output`` is what the pre-hooks left
        (``register_full_backward_pre_hook``). A tuple it returns (of the same length)
        replaces ``grad_input`` for the later hooks and for the gradients that flow on to the
        arguments (None: no gradient). ``prepend`` runs it before the hooks already
        registered. The hook should not change its arguments in place.

        As PyTorch's: the hooks run for a call of the module made in grad mode (under
        ``no_grad`` nothing is set up), and those registered at the call run (removing one
        after the call does not stop it). A tensor argument that needs no gradient, or that
        none reached, has zeros in ``grad_input``. When no argument needs a gradient the
        hooks run right after the pre-hooks, with ``grad_input`` all None (and a warning),
        and must return None. A gradient that reaches the arguments other than through the
        outputs runs no hook. Nothing runs unless the module returns a tensor, or a tuple
        holding one, that needs a gradient. The arguments and outputs that need a gradient
        pass through an identity, so that ``forward`` gets views of them and the caller
        views of the outputs; in grad mode an in-place write to such a view, or to a view of
        one, is refused (``clone()`` it first).

        Deliberate differences from PyTorch: the arguments (and the outputs) that need a
        gradient must be on one device; where a hook or an op drops every gradient into a
        module's outputs (returns None) the engine goes no further on that path, so the
        module's hooks do not run (PyTorch runs them with None gradients and leaves zeros in
        the arguments' ``.grad``); a tensor argument or output that needs no gradient is
        passed on as it is (PyTorch passes a view); after an in-place write under
        ``no_grad`` to a hooked output the output may still be used (PyTorch refuses); the
        "no inputs require gradients" warning comes only when there are full hooks. Hooks of
        calls on independent branches of a graph may run in another order than PyTorch's
        (lucid's engine goes depth first, as for tensor hooks); each sees the same gradients.
        ``register_backward_hook`` (the non-full kind) and the global module hooks are not
        provided.

        Example:
            >>> import lucid
            >>> from lucid import nn
            >>> layer = nn.Linear(2, 1)
            >>> seen = []
            >>> handle = layer.register_full_backward_hook(
            ...     lambda module, grad_input, grad_output: seen.append(grad_input[0].shape))
            >>> x = lucid.ones(3, 2, requires_grad=True)
            >>> layer(x).sum().backward()
            >>> seen
            [(3, 2)]
            >>> handle.remove()
        """
        return add_hook(self._backward_hooks, hook, prepend)

    def _add_hook(self, table: OrderedDict[int, Any], hook: Callable[..., Any], prepend: bool,
                  with_kwargs: bool) -> RemovableHandle:
        handle = add_hook(table, hook, prepend, self._hooks_with_kwargs)
        if with_kwargs:
            self._hooks_with_kwargs.add(handle.id)
        return handle

    # ---- registration -----------------------------------------------------------------------
    def _check_new_name(self, name: str, kind: str, table: Mapping[str, Any]) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f'{kind} name can\'t be empty or contain ".", got: {name!r}')
        if hasattr(self, name) and name not in table:
            raise KeyError(f"attribute '{name}' already exists")

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register non-learnable state; ``persistent=False`` keeps it out of ``state_dict``."""
        self._check_new_name(name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                "(lucid Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register a learnable tensor (or None, a declared but absent parameter)."""
        self._check_new_name(name, "parameter", self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(lucid.nn.Parameter or None required)"
            )
        self._parameters[name] = param

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a child module (or None)."""
        self._check_new_name(name, "module", self._modules)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        modules = self.__dict__.get("_modules")
        buffers = self.__dict__.get("_buffers")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep=params)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(lucid.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep=modules)
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(lucid.nn.Module or None expected)"
                )
            modules[name] = None
        elif isinstance(value, Buffer):  # over a plain attribute: refused, as PyTorch's
            self.register_buffer(name, value, value.persistent)
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(lucid.nn.Buffer, lucid Tensor or None expected)"
                )
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: Mapping[str, Any]) -> None:
        """Drop ``name`` from the other tables, so that it can be registered as ``keep``'s kind.

        ``keep`` itself is left alone so that re-assigning a name keeps its place in order.
        """
        self.__dict__.pop(name, None)
        for table in (self._parameters, self._buffers, self._modules):
            if table is not keep:
                table.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails, i.e. for registered names
        for table in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    # ---- walking the tree -------------------------------------------------------------------
    def named_modules(
        self, memo: set[Module] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module and every descendant, depth first, with dotted names ("" for self);
        modules in ``memo`` (a set of modules, as PyTorch's) are left out."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            if child is None:
                continue
            child_prefix = prefix + ("." if prefix else "") + name
            yield from child.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def get_submodule(self, target: str) -> Module:
        """The descendant at a dotted path (``"features.3"``; "" is the module itself)."""
        module = self
        for item in target.split(".") if target else []:
            if not hasattr(module, item):
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at a dotted path (``"features.3.weight"``)."""
        owner, name = self._owner_of(target)
        value = getattr(owner, name)
        if not isinstance(value, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return value

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at a dotted path (``"norm.running_mean"``)."""
        owner, name = self._owner_of(target)
        if name not in owner._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return getattr(owner, name)

    def _owner_of(self, target: str) -> tuple[Module, str]:
        path, _, name = target.rpartition(".")
        owner = self.get_submodule(path)
        if not hasattr(owner, name):
            raise AttributeError(f"{owner._get_name()} has no attribute `{name}`")
        return owner, name

    def _named_members(
        self, members: Callable[[Module], Iterator[tuple[str, Any]]], prefix: str,
        recurse: bool, remove_duplicate: bool,
    ) -> Iterator[tuple[str, Any]]:
        """Registered tensors of this module (and descendants), each once by identity."""
        seen: set[int] = set()
        owners = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse else [(prefix, self)]
        )
        for owner_prefix, owner in owners:
            for name, value in members(owner):
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield owner_prefix + ("." if owner_prefix else "") + name, value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs; a parameter shared by two layers comes once."""
        yield from self._named_members(
            lambda m: iter(m._parameters.items()), prefix, recurse, remove_duplicate
        )

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members(
            lambda m: iter(m._buffers.items()), prefix, recurse, remove_duplicate
        )

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self: M, fn: Callable[[Module], None]) -> M:
        """Call ``fn`` on every descendant, then on this module (e.g. custom initialisation)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- state --------------------------------------------------------------------------------
    def _local_state(self) -> Iterator[tuple[str, Tensor]]:
        """The parameters and persistent buffers this module itself saves (Nones skipped)."""
        for name, param in self._parameters.items():
            if param is not None:
                yield name, param
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                yield name, buffer

    def state_dict(
        self, destination: OrderedDict[str, Tensor] | None = None, prefix: str = "",
        keep_vars: bool = False,
    ) -> OrderedDict[str, Tensor]:
        """Parameters and persistent buffers under dotted names, detached (sharing memory)."""
        if destination is None:
            destination = OrderedDict()
        for name, value in self._local_state():
            destination[prefix + name] = value if keep_vars else value.detach()
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict: Mapping[str, Any],
                        strict: bool = True) -> IncompatibleKeys:
        """Copy values into the existing parameters and buffers, keeping their device and dtype.

        Values may be lucid tensors or numpy (or CuPy) arrays. With ``strict`` the keys must
        match exactly, except that a state a module lists in ``_optional_state`` may be
        absent and keeps its value (PyTorch's allowance for checkpoints older than the
        norm layers' ``num_batches_tracked``); a shape mismatch is always an error. Unlike
        PyTorch, nothing is copied when an error is raised, so a failed load leaves the
        module as it was.
        """
        own = self.state_dict(keep_vars=True)
        optional = {f"{name}.{key}" if name else key for name, module in self.named_modules()
                    for key in getattr(module, "_optional_state", ())}
        missing = [key for key in own if key not in state_dict and key not in optional]
        unexpected = [key for key in state_dict if key not in own]
        errors: list[str] = []
        if strict:
            if missing:
                errors.append("Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        updates: list[tuple[Tensor, Any]] = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            source = _as_array(state_dict[key])
            # PyTorch's allowance for old checkpoints: a 1-element vector loads into a scalar
            if target.ndim == 0 and tuple(source.shape) == (1,):
                source = source.reshape(())
            if tuple(source.shape) != target.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(source.shape)} "
                    f"from checkpoint, the shape in current model is {target.shape}."
                )
                continue
            updates.append((target, source))
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        with autograd.no_grad():
            for target, source in updates:
                # in place: optimizers and other holders of the tensor keep seeing it
                target.data[...] = to_device(source, target.device).astype(target.dtype, copy=False)
        return IncompatibleKeys(missing, unexpected)

    # ---- modes and placement ----------------------------------------------------------------
    def train(self: M, mode: bool = True) -> M:
        """Set training mode here and in every descendant (dropout, batch statistics)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self: M) -> M:
        """Evaluation mode: the same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self: M, requires_grad: bool = True) -> M:
        """Switch gradients of every parameter on or off (e.g. to freeze an encoder)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every parameter (drop them, or fill them with zeros)."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.data[...] = 0

    def to(self: M, *args: Any, **kwargs: Any) -> M:
        """``to(device)``, ``to(dtype)`` or both: move and cast parameters and buffers in place.

        The tensor objects stay the same (their ``.data`` is replaced), so an optimizer built
        before the move still holds them. As in PyTorch only floating-point tensors are cast;
        integer buffers such as ``num_batches_tracked`` keep their dtype.
        """
        device, dtype = _parse_to_args(args, kwargs)
        if dtype is not None and dtype.kind != "f":
            raise TypeError(
                f"Module.to only accepts floating point dtypes, but got desired dtype={dtype}"
            )

        def convert(array: Any) -> Any:
            if device is not None and device_of(array) != device:
                array = to_device(array, device)
            if dtype is not None and array.dtype.kind == "f" and array.dtype != dtype:
                array = array.astype(dtype)
            return array

        for module in self.modules():
            for table in (module._parameters, module._buffers):
                for value in table.values():
                    if value is None:
                        continue
                    value.data = convert(value.data)
                    if value.grad is not None:
                        value.grad.data = convert(value.grad.data)
        return self

    def cpu(self: M) -> M:
        return self.to("cpu")

    def gpu(self: M, index: int = 0) -> M:
        return self.to(Device("gpu", index))

    cuda = gpu

    def float(self: M) -> M:
        return self.to(as_dtype("float32"))

    def double(self: M) -> M:
        return self.to(as_dtype("float64"))

    def half(self: M) -> M:
        return self.to(as_dtype("float16"))

    # ---- printing -----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The layer's own settings, printed inside its parentheses; override in layers."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + _addindent(repr(child), 2) for name, child in self._modules.items()
        ]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"

    def __dir__(self) -> list[str]:
        names = set(super().__dir__())
        names.update(self._parameters, self._buffers, self._modules)
        return sorted(n for n in names if not n[:1].isdigit())
