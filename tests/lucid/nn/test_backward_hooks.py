"""Module backward hooks (``register_full_backward_pre_hook``, ``register_full_backward_hook``)
against PyTorch's: which hooks run, in which order, on which gradients, and what their
replacements do to the gradients that flow on."""

import copy
import pickle
import warnings

import numpy as np
import pytest

import lucid
import lucid.nn as nn
from lucid.parallel import data_parallel_backward

torch = pytest.importorskip("torch")


def _arrays(grads):  # noqa: ANN001, ANN202 - a tuple of lucid or torch tensors (or Nones)
    return tuple(None if g is None else g.detach().cpu().numpy().copy() for g in grads)


def _record(module, log, name):  # noqa: ANN001, ANN202 - lucid or torch
    """Pre and full hooks on ``module`` that log what they see under ``name``."""
    module.register_full_backward_pre_hook(
        lambda mod, grad_output: log.append((name, "pre", _arrays(grad_output))))
    module.register_full_backward_hook(
        lambda mod, grad_input, grad_output: log.append(
            (name, "full", _arrays(grad_input), _arrays(grad_output))))


def _assert_same(ours, theirs, rtol=1e-10):  # noqa: ANN001, ANN202
    """Nested tuples/lists of arrays and Nones (and labels) that match."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs), (ours, theirs)
        for a, b in zip(ours, theirs, strict=True):
            _assert_same(a, b, rtol)
    elif theirs is None or isinstance(theirs, str):
        assert ours == theirs
    else:
        assert (ours is None) == (theirs is None)
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-12)


def _grads(tensors):  # noqa: ANN001, ANN202
    return [None if t.grad is None else t.grad.detach().cpu().numpy() for t in tensors]


def _build(m, kind, device="cpu"):  # noqa: ANN001, ANN202
    """The same network in lucid or torch (torch's seed, float64), on ``device`` for lucid."""
    torch.manual_seed(0)
    layers = {
        "linear": lambda n: n.Linear(4, 3),
        "conv": lambda n: n.Conv2d(2, 3, 3, padding=1),
        "sequential": lambda n: n.Sequential(n.Conv2d(2, 3, 3, padding=1), n.ReLU(),
                                             n.Identity(), n.Flatten(), n.Linear(48, 2)),
    }
    reference = layers[kind](torch.nn).double()
    if m is torch:
        return reference
    net = layers[kind](nn).double().to(device)
    net.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    return net


def _input(m, kind, requires_grad, device="cpu"):  # noqa: ANN001, ANN202
    shape = (2, 4) if kind == "linear" else (2, 2, 4, 4)
    values = np.random.default_rng(1).normal(size=shape)
    if m is torch:
        return torch.tensor(values, requires_grad=requires_grad)
    return lucid.tensor(values, device=device, requires_grad=requires_grad)


@pytest.mark.parametrize("kind", ["linear", "conv", "sequential"])
@pytest.mark.parametrize("input_grad", [True, False])
def test_layers_match_torch(device, kind, input_grad) -> None:  # noqa: ANN001
    """Hooks on a layer (and, in a Sequential, on the container and every layer, Identity
    included) run in PyTorch's order with PyTorch's grad_input and grad_output; the
    gradients that flow on are unchanged. With an input that needs no gradient the full
    hooks run after the pre-hooks with grad_input all None."""

    def program(m, device="cpu"):  # noqa: ANN001, ANN202
        net = _build(m, kind, device)
        log = []
        for name, module in net.named_modules():
            _record(module, log, name or "net")
        x = _input(m, kind, input_grad, device)
        out = net(x)
        weight = np.random.default_rng(2).normal(size=tuple(out.shape))
        weight = torch.tensor(weight) if m is torch else lucid.tensor(weight, device=device)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no inputs require gradients": another test's
            (out * weight).sum().backward()
        return log, _grads([x, *net.parameters()])

    ours, theirs = program(lucid, device), program(torch)
    _assert_same(ours, theirs)
    names = [entry[:2] for entry in theirs[0]]
    assert names[0] == ("net", "pre") and len(names) == 2 * len(list(_build(torch, kind).modules()))
    assert names[-1 if input_grad else 1] == ("net", "full")


def test_tensor_and_other_arguments_match_torch() -> None:
    """grad_input has an entry per positional argument: the gradient for a tensor that
    needs one, zeros for a tensor that needs none (float or integer) or that the output
    does not depend on, None for a non-tensor; keyword arguments are left out. A tensor
    argument the output does not use gets zeros as its gradient, as in PyTorch."""

    def program(m):  # noqa: ANN001, ANN202
        class Mix(m.nn.Module):
            def forward(self, a, scale, mask, unused, index, *, k=1.0):  # noqa: ANN001, ANN202
                return (a * mask).sum(1) * scale * k

        mix, log = Mix(), []
        _record(mix, log, "mix")
        a = m.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        mask = m.tensor(np.array([[1.0, 0.0, 2.0]]))
        unused = m.tensor(np.ones(4), requires_grad=True)
        index = m.tensor(np.array([0, 2]))
        out = mix(a, 2.0, mask, unused, index, k=3.0)
        (out * m.tensor(np.array([1.0, -1.0]))).sum().backward()
        return log, _grads([a, unused])

    ours, theirs = program(lucid), program(torch)
    _assert_same(ours, theirs)
    (_, _, grad_input, _), = theirs[0][1:]
    assert grad_input[1] is None and grad_input[4].dtype == np.int64


def test_tuple_output_matches_torch() -> None:
    """A tuple's tensors are the outputs: grad_output has None for an output the loss does
    not use, one that needs no gradient, and a non-tensor; only the used outputs' gradients
    come into grad_input. Another kind of output (a list) is warned about and runs no
    hook."""

    def program(m):  # noqa: ANN001, ANN202
        class Split(m.nn.Module):
            def forward(self, a, b):  # noqa: ANN001, ANN202
                return a * 2, b * a, a.detach(), a.sum(), "label"

        split, log = Split(), []
        _record(split, log, "split")
        a = m.tensor(np.array([1.0, 2.0]), requires_grad=True)
        b = m.tensor(np.array([3.0, -1.0]), requires_grad=True)
        first, second, plain, total, label = split(a, b)
        assert label == "label" and not plain.requires_grad
        (first * first).sum().backward(retain_graph=True)
        (second * 3).sum().backward()  # the same call again, through another output

        class Listed(m.nn.Module):  # not a tuple: warned, and no hook runs
            def forward(self, a):  # noqa: ANN001, ANN202
                return [a * 2]

        listed = Listed()
        _record(listed, log, "listed")
        with pytest.warns(UserWarning, match="should be a Tensor or a tuple of Tensors"):
            out = listed(a)
        out[0].sum().backward()
        return log, _grads([a, b])

    _assert_same(program(lucid), program(torch))


def test_gradient_not_through_the_outputs_runs_no_hooks_as_torch() -> None:
    """A gradient that reaches a module's inputs through something else than its outputs
    (here the argument it kept) runs no full hook, as in PyTorch, also in a later pass over
    a kept graph; one through both is summed in grad_input."""

    def program(m):  # noqa: ANN001, ANN202
        class Stash(m.nn.Module):
            def forward(self, a):  # noqa: ANN001, ANN202
                self.seen = a
                return a * 2

        stash, log = Stash(), []
        _record(stash, log, "stash")
        a = m.tensor(np.array([1.0, -2.0]), requires_grad=True)
        out = stash(a)
        (out * out + stash.seen).sum().backward(retain_graph=True)
        log.append(("then", "through the kept argument only"))
        (stash.seen * 3).sum().backward()
        return log, _grads([a])

    ours, theirs = program(lucid), program(torch)
    _assert_same(ours, theirs)
    assert [entry[1] for entry in theirs[0]] == ["pre", "full", "through the kept argument only"]


def test_replacements_change_gradients_as_torch() -> None:
    """A pre-hook's grad_output flows on into the module (also a gradient for an output
    that got none), and the full hooks see it; a full hook's grad_input flows on to the
    inputs (None: none), and the hooks of the modules before see what it made."""

    def program(m):  # noqa: ANN001, ANN202
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                  torch.nn.Linear(4, 2)).double()
        if m is lucid:
            state = {k: v.numpy() for k, v in net.state_dict().items()}
            net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
            net.load_state_dict(state)

        class Pair(m.nn.Module):
            def forward(self, a):  # noqa: ANN001, ANN202
                return a * 2, a * a

        pair, log = Pair(), []
        for name, module in [("pair", pair), *net.named_modules()]:
            _record(module, log, name or "net")
        net[2].register_full_backward_pre_hook(lambda mod, go: (go[0] * 10,))
        net[1].register_full_backward_hook(lambda mod, gi, go: (gi[0] * 3,))
        net[0].register_full_backward_hook(lambda mod, gi, go: [gi[0] * 0.5])  # a list will do
        pair.register_full_backward_pre_hook(lambda mod, go: (go[0], m.ones_like(go[0])))
        x = m.tensor(np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]]), requires_grad=True)
        c = m.tensor(np.array([0.25, -1.5, 1.0]), requires_grad=True)
        first, _ = pair(c)
        out = net(x + first)
        (out * out).sum().backward()
        # a gradient dropped (None) at a leaf's module: the leaf gets none
        head = m.nn.Linear(3, 1).double()
        head.register_full_backward_hook(lambda mod, gi, go: (None,))
        leaf = m.tensor(np.ones((1, 3)), requires_grad=True)
        head(leaf).sum().backward()
        return log, _grads([x, c, *net.parameters(), leaf, head.bias])

    ours, theirs = program(lucid), program(torch)
    _assert_same(ours, theirs)
    assert ours[1][-2] is None and ours[1][-1] is not None


def test_dropped_gradient_stops_hooks_upstream() -> None:
    """Deliberate difference: where a hook drops every gradient into a module's outputs
    (returns None), lucid's engine goes no further on that path, so the module's hooks do
    not run; PyTorch runs them with None gradients (grad_output None, grad_input zeros) and
    leaves zeros in the leaves' ``.grad``."""
    results = []
    for m in (lucid, torch):
        first, second, log = m.nn.Identity(), m.nn.Identity(), []
        _record(first, log, "first")
        second.register_full_backward_hook(lambda mod, gi, go: (None,))
        x = m.ones(1, 2, requires_grad=True)
        second(first(x)).sum().backward()
        results.append((log, x.grad))
    assert results[0] == ([], None)
    assert [entry[:2] for entry in results[1][0]] == [("first", "pre"), ("first", "full")]
    assert results[1][1].tolist() == [[0.0, 0.0]]


def test_order_prepend_and_removal_match_torch() -> None:
    """Pre-hooks run before the full hooks, each kind in registration order with
    ``prepend`` first; a removed hook (``remove()`` or the end of ``with``) stops, but one
    removed after the call still runs for it (the hooks are taken at the call)."""

    def program(m):  # noqa: ANN001, ANN202
        layer, order = m.nn.Linear(2, 2).double(), []

        def hook(name, kind):  # noqa: ANN001, ANN202
            if kind == "pre":
                return lambda mod, go: order.append(name)
            return lambda mod, gi, go: order.append(name)

        x = m.ones(1, 2, dtype=m.float64, requires_grad=True)
        for kind in ("full", "pre"):  # full hooks registered first: pre-hooks still first
            register = {"full": layer.register_full_backward_hook,
                        "pre": layer.register_full_backward_pre_hook}[kind]
            register(hook(f"{kind}-a", kind))
            removed = register(hook(f"{kind}-removed", kind))
            register(hook(f"{kind}-b", kind))
            register(hook(f"{kind}-first", kind), prepend=True)
            register(hook(f"{kind}-before-all", kind), True)
            removed.remove()
            removed.remove()  # twice: nothing
        with layer.register_full_backward_hook(hook("with", "full")):
            layer(x).sum().backward()
        order.append("|")
        late = layer.register_full_backward_hook(hook("late", "full"))
        out = layer(x)
        late.remove()
        out.sum().backward()
        order.append("|")
        layer(x).sum().backward()
        return order

    ours = program(lucid)
    assert ours == program(torch)
    assert ours[:7] == ["pre-before-all", "pre-first", "pre-a", "pre-b",
                        "full-before-all", "full-first", "full-a"]


@pytest.mark.parametrize("library", ["lucid", "torch"])
def test_no_input_requires_grad_as_torch(library) -> None:  # noqa: ANN001
    """No argument needs a gradient: the full hooks run when the outputs' gradients are
    computed, with grad_input all None, and warn; one must return None (or all None)."""
    m = {"lucid": lucid, "torch": torch}[library]

    class Scaled(m.nn.Linear):
        def forward(self, x, k):  # noqa: ANN001, ANN202
            return super().forward(x) * k

    layer = Scaled(2, 1)
    seen = []
    layer.register_full_backward_hook(lambda mod, gi, go: seen.append(gi))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        layer(m.ones(3, 2), 7).sum().backward()
    assert seen == [(None, None)]
    layer.register_full_backward_hook(lambda mod, gi, go: (m.ones(3, 2), None))
    with pytest.raises(RuntimeError, match="should always return None"), \
            pytest.warns(UserWarning):
        layer(m.ones(3, 2), 7).sum().backward()


@pytest.mark.parametrize("library", ["lucid", "torch"])
def test_refusals_as_torch(library) -> None:  # noqa: ANN001
    """Returning the wrong number of gradients, or one of another size, is refused, as in
    PyTorch; so is writing in place to a hooked module's output, a view of it, or (inside
    ``forward``) its argument, in grad mode; in ``no_grad`` the write goes through."""
    m = {"lucid": lucid, "torch": torch}[library]
    x = m.ones(1, 2, requires_grad=True)
    for register, bad, message in [
            ("register_full_backward_pre_hook", lambda mod, go: (go[0], go[0]),
             "Backward pre hook returned an invalid number of grad_output, got 2, but "
             "expected 1"),
            ("register_full_backward_hook", lambda mod, gi, go: (),
             "Backward hook returned an invalid number of grad_input, got 0, but expected 1"),
            ("register_full_backward_hook", lambda mod, gi, go: (m.ones(3),),
             "has changed the size of value"),
            ("register_full_backward_pre_hook", lambda mod, go: (m.ones(2, 2),),
             "has changed the size of value")]:
        layer = m.nn.Linear(2, 2)
        getattr(layer, register)(bad)
        with pytest.raises(RuntimeError, match=message):
            layer(x).sum().backward()

    layer = m.nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda mod, gi, go: None)
    for write in (lambda t: t.add_(1), lambda t: t[0].mul_(2), lambda t: t.__setitem__(0, 1)):
        with pytest.raises(RuntimeError, match="is a view and is being modified in"):
            write(layer(x))
    out = layer(x)
    with m.no_grad():
        out.add_(1)
    if m is lucid:  # deliberate difference: PyTorch refuses to use it after the write
        out.sum().backward()
    layer(x).clone().add_(1).sum().backward()  # a copy may be written

    class Writes(m.nn.Module):
        def forward(self, a):  # noqa: ANN001, ANN202
            return a.mul_(2)

    writes = Writes()
    writes.register_full_backward_pre_hook(lambda mod, go: None)
    with pytest.raises(RuntimeError, match="is a view and is being modified in"):
        writes(x * 1)


def test_hooks_in_autograd_grad_and_repeated_backward_as_torch() -> None:
    """``autograd.grad`` for a layer's weight runs the path through its outputs only: the
    pre-hooks run, the full hooks (at the inputs) do not; a graph kept with retain_graph
    runs the hooks again in each pass."""

    def program(m):  # noqa: ANN001, ANN202
        torch.manual_seed(0)
        layer, log = torch.nn.Linear(2, 2).double(), []
        if m is lucid:
            state = {k: v.numpy() for k, v in layer.state_dict().items()}
            layer = nn.Linear(2, 2).double()
            layer.load_state_dict(state)
        _record(layer, log, "layer")
        x = m.tensor(np.array([[1.0, -2.0]]), requires_grad=True)
        (grad,) = m.autograd.grad((layer(x) ** 2).sum(), [layer.weight])
        log.append(("grad", "w", (grad.numpy(),)))
        out = (layer(x) ** 2).sum()
        out.backward(retain_graph=True)
        out.backward()
        return log, _grads([x])

    ours, theirs = program(lucid), program(torch)
    _assert_same(ours, theirs)
    assert [entry[1] for entry in theirs[0]] == ["pre", "w", "pre", "full", "pre", "full"]


def test_state_copies_and_cost() -> None:
    """Hooks live in ``_backward_pre_hooks`` / ``_backward_hooks`` (OrderedDicts by handle
    id) and not in the state dict; deepcopy and pickle keep working as with forward hooks.
    Without backward hooks, or under ``no_grad``, nothing is wrapped: the layer gets its
    argument itself and returns its output as made."""
    layer = nn.Linear(2, 1)
    plain = layer(lucid.ones(1, 2, requires_grad=True))
    assert type(plain.grad_fn).__name__ != "BackwardHookFunction"
    args = []
    layer.register_forward_hook(lambda mod, a, out: args.append(a[0]))
    x = lucid.ones(1, 2, requires_grad=True)
    layer(x)
    assert args.pop() is x
    calls = []
    pre = layer.register_full_backward_pre_hook(lambda mod, go: calls.append("pre"))
    full = layer.register_full_backward_hook(lambda mod, gi, go: calls.append("full"))
    assert list(layer._backward_pre_hooks) == [pre.id]
    assert list(layer._backward_hooks) == [full.id]
    assert type(layer._backward_hooks).__name__ == "OrderedDict"
    assert list(layer.state_dict()) == ["weight", "bias"]
    with lucid.no_grad():
        out = layer(x)
    assert args.pop() is x and out.grad_fn is None
    out = layer(x)
    assert args.pop() is not x and type(out.grad_fn).__name__ == "BackwardHookFunction"
    twin = copy.deepcopy(layer)
    twin(x).sum().backward()
    assert calls == ["pre", "full"]
    pre.remove()
    full.remove()
    assert not layer._backward_pre_hooks and not layer._backward_hooks
    assert len(twin._backward_hooks) == 1  # the copy keeps its own
    restored = pickle.loads(pickle.dumps(nn.Linear(2, 1)))
    assert not restored._backward_hooks and not restored._backward_pre_hooks


def test_data_parallel_backward_runs_hooks_per_shard() -> None:
    """In ``data_parallel_backward`` each shard's call runs the hooks on its own samples
    (on its own thread): the shards' gradients, put together, are the whole batch's."""
    rng = np.random.default_rng(0)
    x = lucid.tensor(rng.normal(size=(5, 3)))
    target = lucid.tensor(rng.normal(size=(5, 2)))
    results = []
    for workers in (1, 2):
        lucid.manual_seed(0)
        net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
        log = []
        _record(net[2], log, "head")
        net[2].register_full_backward_hook(lambda mod, gi, go: (gi[0] * 2,))

        def losses(part, net=net):  # noqa: ANN001, ANN202
            return [((net(x[part]) - target[part]) ** 2).mean()]

        data_parallel_backward(losses, 5, list(net.parameters()), workers)
        results.append((log, _grads(net.parameters())))
    (whole, whole_grads), (shards, shard_grads) = results
    assert [e[:2] for e in whole] == [("head", "pre"), ("head", "full")]
    shards = sorted(shards, key=lambda e: (e[1], -e[2][0].shape[0]))  # 3 samples, then 2
    assert [e[:2] for e in shards] == [("head", "full")] * 2 + [("head", "pre")] * 2
    for entry in whole:
        kind = entry[1]
        parts = [e for e in shards if e[1] == kind]
        for slot in range(2 if kind == "full" else 1):
            joined = np.concatenate([e[2 + slot][0] for e in parts])
            np.testing.assert_allclose(joined, entry[2 + slot][0], rtol=1e-12)
    for a, b in zip(whole_grads, shard_grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("library", ["lucid", "torch"])
def test_output_of_another_kind_is_warned_about_also_under_no_grad(library) -> None:  # noqa: ANN001
    """PyTorch sets up a module's backward hooks in every grad mode: an output that is not a
    tensor or a tuple is warned about under ``no_grad`` too (nothing is wrapped there)."""
    m = lucid if library == "lucid" else torch

    class Listed(m.nn.Module):
        def forward(self, a):  # noqa: ANN001, ANN202
            return [a * 2]

    listed = Listed()
    listed.register_full_backward_hook(lambda mod, gi, go: None)
    x = m.ones(2, requires_grad=True)
    with m.no_grad(), pytest.warns(UserWarning, match="should be a Tensor or a tuple of Tensors"):
        out = listed(x)
    assert not out[0].requires_grad
    with m.no_grad():
        single = m.nn.Linear(2, 1)
        single.register_full_backward_pre_hook(lambda mod, go: None)
        assert single(x).grad_fn is None
