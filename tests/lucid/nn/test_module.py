"""Module: registration, naming, state dicts, modes, placement and printing."""

import copy
import re
import subprocess
import sys

import numpy as np
import pytest

import lucid
import lucid.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.norm = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
        self.register_buffer("scale", lucid.ones(3))
        self.register_buffer("scratch", lucid.zeros(2), persistent=False)

    def forward(self, x):
        return self.norm(self.conv(x)) * self.scale.reshape(1, 3, 1, 1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(3, 1, 1))
        self.gain = nn.Parameter(lucid.ones(1))
        self.plain = 3  # not registered

    def forward(self, x):
        return self.head(self.block(x)) * self.gain


STATE_KEYS = [
    "gain",
    "block.scale",
    "block.conv.weight", "block.conv.bias",
    "block.norm.weight", "block.norm.bias",
    "block.norm.running_mean", "block.norm.running_var", "block.norm.num_batches_tracked",
    "head.1.weight", "head.1.bias",
]


def test_parameter():
    p = nn.Parameter(lucid.zeros(2))
    assert p.requires_grad and p.is_leaf and isinstance(p, lucid.Tensor)
    assert repr(p) == "Parameter containing:\ntensor([0., 0.], requires_grad=True)"
    assert not nn.Parameter(lucid.zeros(2), requires_grad=False).requires_grad
    assert nn.Parameter(np.ones(3)).shape == (3,)
    # ops on parameters give plain tensors
    assert type(p * 2) is lucid.Tensor


def test_registration_and_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "gain", "block.conv.weight", "block.conv.bias", "block.norm.weight", "block.norm.bias",
        "head.1.weight", "head.1.bias",
    ]
    assert [n for n, _ in net.named_buffers()] == [
        "block.scale", "block.scratch", "block.norm.running_mean", "block.norm.running_var",
        "block.norm.num_batches_tracked",
    ]
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert [n for n, _ in net.named_modules()] == [
        "", "block", "block.conv", "block.norm", "head", "head.0", "head.1",
    ]
    assert len(list(net.modules())) == 7
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["gain"]
    assert [n for n, _ in net.block.named_parameters(prefix="b")][0] == "b.conv.weight"
    assert net.block.conv is net._modules["block"]._modules["conv"]
    assert net.plain == 3 and "plain" not in net._parameters


def test_shared_parameters_listed_once():
    layer = nn.Linear(2, 2)
    net = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(net.parameters())) == 2
    assert [n for n, _ in net.named_modules()] == ["", "0", "1"]


def test_reassignment_rules():
    net = Net()
    net.gain = None  # a declared parameter may be set to None ...
    assert net.gain is None and "gain" not in net.state_dict()
    with pytest.raises(TypeError, match="Parameter or None expected"):
        net.block.conv.weight = lucid.ones(3, 2, 3, 3)  # ... but not to a plain tensor
    with pytest.raises(TypeError, match="Module or None expected"):
        net.head = 5
    net.block.scale = lucid.full((3,), 2.0)  # buffers take tensors
    assert net.block.scale.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(TypeError, match="buffer"):
        net.block.scale = [1, 2, 3]
    # a name can move from plain attribute to parameter
    net.plain = nn.Parameter(lucid.zeros(1))
    assert "plain" in dict(net.named_parameters())
    # re-assigning a child keeps its position
    net.block = Block()
    assert [n for n, _ in net.named_children()] == ["block", "head"]


def test_registration_errors():
    module = nn.Module()
    with pytest.raises(KeyError, match="already exists"):
        module.register_buffer("training", lucid.ones(1))
    with pytest.raises(KeyError, match="contain"):
        module.register_parameter("a.b", nn.Parameter(lucid.ones(1)))
    with pytest.raises(TypeError, match="Parameter or None required"):
        module.register_parameter("w", lucid.ones(1))
    with pytest.raises(TypeError, match="not a Module"):
        module.add_module("m", 3)

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(lucid.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        _ = module.missing
    with pytest.raises(NotImplementedError, match="forward"):
        module(1)


def test_delattr_and_register_module():
    net = Net()
    net.register_module("extra", nn.Identity())
    assert "extra" in dict(net.named_children())
    del net.extra
    del net.gain
    del net.block.scale
    assert "extra" not in dict(net.named_children())
    assert "gain" not in net.state_dict() and "block.scale" not in net.state_dict()
    with pytest.raises(AttributeError):
        _ = net.gain


def test_state_dict():
    net = Net()
    state = net.state_dict()
    assert list(state) == STATE_KEYS  # non-persistent buffers are left out
    assert all(not t.requires_grad for t in state.values())
    # detached but sharing memory, as in PyTorch
    assert np.shares_memory(state["gain"].numpy(), net.gain.data)
    assert net.state_dict(keep_vars=True)["gain"] is net.gain


def test_state_dict_skips_none_buffers():
    norm = nn.InstanceNorm2d(3)
    assert norm.running_mean is None
    assert dict(norm.state_dict()) == {}
    assert len(nn.InstanceNorm2d(3, track_running_stats=True).state_dict()) == 3


def test_load_state_dict_round_trip_numpy():
    source, target = Net(), Net()
    with lucid.no_grad():
        source.block.norm.running_mean.copy_(lucid.arange(3.0))
        source.block.norm.num_batches_tracked.fill_(7)
    keep = target.block.conv.weight
    result = target.load_state_dict({k: v.numpy().copy() for k, v in source.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for key, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[key].numpy(), value.numpy())
    assert target.block.conv.weight is keep  # copied in place
    assert target.block.norm.num_batches_tracked.dtype == lucid.int64


def test_load_state_dict_keeps_dtype_and_device(device):
    net = nn.Linear(3, 2, device=device, dtype=lucid.float64)
    state = {"weight": lucid.ones(2, 3), "bias": np.zeros(2, dtype=np.float32)}
    net.load_state_dict(state)
    assert net.weight.dtype == lucid.float64 and net.weight.device == device
    assert net.weight.detach().cpu().numpy().sum() == 6


def test_load_state_dict_strict_errors():
    net = Net()
    state = {k: v for k, v in net.state_dict().items() if k != "gain"}
    state["extra.weight"] = lucid.ones(1)
    state["block.conv.weight"] = lucid.ones(3, 2, 5, 5)
    before = net.block.conv.bias.detach().numpy().copy()
    state["block.conv.bias"] = lucid.full((3,), 9.0)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(state)
    message = str(info.value)
    assert message.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "gain".' in message
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in message
    assert ("size mismatch for block.conv.weight: copying a param with shape (3, 2, 5, 5) from "
            "checkpoint, the shape in current model is (3, 2, 3, 3).") in message
    # nothing was copied by the failed load
    np.testing.assert_array_equal(net.block.conv.bias.detach().numpy(), before)


def test_load_state_dict_non_strict():
    net = Net()
    state = {"gain": np.full(1, 4.0), "unknown": np.ones(2)}
    result = net.load_state_dict(state, strict=False)
    assert result.unexpected_keys == ["unknown"]
    # as PyTorch: a norm layer's counter may be absent (older checkpoints), so not missing
    assert result.missing_keys == [k for k in STATE_KEYS
                                   if k != "gain" and not k.endswith("num_batches_tracked")]
    assert net.gain.item() == 4.0
    with pytest.raises(RuntimeError, match="size mismatch for gain"):
        net.load_state_dict({"gain": np.ones(2)}, strict=False)


def test_train_eval():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net.block.train(False)
    assert not net.block.norm.training and net.head.training
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_to_dtype_in_place():
    net = Net()
    weight = net.block.conv.weight
    x = lucid.randn(1, 2, 4, 4)
    net(x).sum().backward()
    assert net.to(lucid.float64) is net
    assert net.block.conv.weight is weight  # same object, new data
    assert weight.dtype == lucid.float64 and weight.grad.dtype == lucid.float64
    assert net.block.norm.running_var.dtype == lucid.float64
    assert net.block.norm.num_batches_tracked.dtype == lucid.int64  # integers are not cast
    assert net(x.double()).dtype == lucid.float64
    net.float()
    assert weight.dtype == lucid.float32
    with pytest.raises(TypeError, match="floating point"):
        net.to(lucid.int32)


def test_to_device(device):
    net = Net().to(device)
    assert all(p.device == device for p in net.parameters())
    assert all(b.device == device for b in net.buffers())
    assert net(lucid.randn(1, 2, 4, 4, device=device)).device == device


def test_zero_grad_and_requires_grad():
    net = Net()
    net(lucid.randn(1, 2, 4, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.block.requires_grad_(False)
    assert not net.block.conv.weight.requires_grad and net.gain.requires_grad
    net(lucid.randn(1, 2, 4, 4)).sum().backward()
    assert net.block.conv.weight.grad is None and net.head[1].weight.grad is not None


def test_apply():
    net = Net()
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Conv2d", "InstanceNorm2d", "Block", "ReLU", "Conv2d", "Sequential", "Net"]

    def zero_convs(m):
        if isinstance(m, nn.Conv2d):
            nn.init.zeros_(m.weight)

    net.apply(zero_convs)
    assert not net.head[1].weight.detach().numpy().any()


def test_repr():
    assert repr(Net()) == (
        "Net(\n"
        "  (block): Block(\n"
        "    (conv): Conv2d(2, 3, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "    (norm): InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=True, "
        "track_running_stats=True)\n"
        "  )\n"
        "  (head): Sequential(\n"
        "    (0): ReLU()\n"
        "    (1): Conv2d(3, 1, kernel_size=(1, 1), stride=(1, 1))\n"
        "  )\n"
        ")"
    )


def test_repr_matches_torch():
    torch = pytest.importorskip("torch")
    pairs = [
        (nn.Conv2d(3, 8, (3, 5), stride=2, padding=(1, 2), dilation=2, groups=1, bias=False,
                   padding_mode="replicate"),
         torch.nn.Conv2d(3, 8, (3, 5), stride=2, padding=(1, 2), dilation=2, groups=1,
                         bias=False, padding_mode="replicate")),
        (nn.Conv2d(4, 4, 3, padding="same", groups=2), torch.nn.Conv2d(4, 4, 3, padding="same",
                                                                        groups=2)),
        (nn.Sequential(nn.Linear(2, 3), nn.ReLU(inplace=True), nn.LeakyReLU(0.2),
                       nn.Sigmoid(), nn.Tanh(), nn.ReLU6(), nn.Dropout(0.1), nn.Identity()),
         torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(inplace=True),
                             torch.nn.LeakyReLU(0.2), torch.nn.Sigmoid(), torch.nn.Tanh(),
                             torch.nn.ReLU6(), torch.nn.Dropout(0.1), torch.nn.Identity())),
        (nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh()]),
         torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.ReLU(), torch.nn.Tanh()])),
        (nn.ModuleDict({"a": nn.ReflectionPad2d(1), "b": nn.ZeroPad2d((1, 2, 3, 4)),
                        "c": nn.ConstantPad2d(2, 0.5), "d": nn.ReplicationPad2d(1)}),
         torch.nn.ModuleDict({"a": torch.nn.ReflectionPad2d(1),
                              "b": torch.nn.ZeroPad2d((1, 2, 3, 4)),
                              "c": torch.nn.ConstantPad2d(2, 0.5),
                              "d": torch.nn.ReplicationPad2d(1)})),
        (nn.Sequential(nn.MaxPool2d(2), nn.AvgPool2d(3, 1, 1), nn.AdaptiveAvgPool2d((2, 3)),
                       nn.Upsample(scale_factor=2), nn.Upsample(size=(4, 5), mode="bilinear"),
                       nn.BatchNorm2d(3, momentum=None), nn.InstanceNorm2d(3, affine=True)),
         torch.nn.Sequential(torch.nn.MaxPool2d(2), torch.nn.AvgPool2d(3, 1, 1),
                             torch.nn.AdaptiveAvgPool2d((2, 3)),
                             torch.nn.Upsample(scale_factor=2),
                             torch.nn.Upsample(size=(4, 5), mode="bilinear"),
                             torch.nn.BatchNorm2d(3, momentum=None),
                             torch.nn.InstanceNorm2d(3, affine=True))),
    ]
    for ours, theirs in pairs:
        # recent PyTorch adds a keyword-only ``bias`` switch to its norm layers and prints it;
        # lucid keeps the reference page's signature, so compare without it
        assert repr(ours) == re.sub(r"(affine=\w+), bias=\w+", r"\1", repr(theirs))


def test_state_dict_keys_match_torch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2),
                         nn.InstanceNorm2d(2, track_running_stats=True), nn.InstanceNorm2d(2))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2),
                                 torch.nn.InstanceNorm2d(2, track_running_stats=True),
                                 torch.nn.InstanceNorm2d(2))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})


def test_deepcopy():
    net = Net()
    twin = copy.deepcopy(net)
    with lucid.no_grad():
        twin.gain.fill_(5.0)
    assert net.gain.item() == 1.0
    assert list(twin.state_dict()) == STATE_KEYS


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail._modules) == ["1", "2"]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and seq(lucid.randn(5, 2)).shape == (5, 1)
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and isinstance(seq[1], nn.Linear)
    seq[2] = nn.Tanh()
    assert isinstance(seq[2], nn.Tanh)
    with pytest.raises(IndexError):
        seq[5]
    from collections import OrderedDict

    # insert and pop, as PyTorch's (missing before): -len..len, renumbered, chained
    assert seq.insert(0, nn.ReLU()).insert(-1, nn.Sigmoid()) is seq
    assert [type(m).__name__ for m in seq] == ["ReLU", "Linear", "Linear", "Sigmoid", "Tanh"]
    assert list(seq._modules) == ["0", "1", "2", "3", "4"]
    with pytest.raises(IndexError, match="Index out of range: 6"):
        seq.insert(6, nn.ReLU())
    assert isinstance(seq.pop(-1), nn.Tanh) and list(seq._modules) == ["0", "1", "2", "3"]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]

    layers = nn.ModuleList([nn.Linear(2, 2)])
    layers.append(nn.ReLU())
    layers += [nn.Tanh()]
    layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Identity", "Linear", "ReLU", "Tanh"]
    assert list(layers.state_dict()) == ["1.weight", "1.bias"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2

    heads = nn.ModuleDict({"a": nn.Linear(1, 1)})
    heads["b"] = nn.Linear(1, 2)
    assert "b" in heads and len(heads) == 2 and list(heads) == ["a", "b"]
    assert list(heads.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert isinstance(heads.pop("a"), nn.Linear) and list(heads.keys()) == ["b"]


def test_a_checkpoint_without_num_batches_tracked_loads() -> None:
    """PyTorch loads norm layers from checkpoints older than their batch counter (the
    counter keeps its value); lucid's strict load refused them as a missing key."""
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4),
                        nn.InstanceNorm2d(4, track_running_stats=True))
    net[1].num_batches_tracked.fill_(7)
    old = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert net.load_state_dict(old) == ([], [])
    assert net[1].num_batches_tracked.item() == 7
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "1.running_var"'):
        net.load_state_dict({k: v for k, v in old.items() if k != "1.running_var"})


def test_paths_sequential_sums_and_half_as_pytorch() -> None:
    """get_submodule/get_parameter/get_buffer by dotted path (with PyTorch's errors),
    Sequential + Sequential, +=, * and *=, half(), and ``lucid.nn`` after a bare
    ``import lucid``."""
    torch = pytest.importorskip("torch")

    def run(m) -> list:  # noqa: ANN001 - lucid or torch
        a = m.nn.Sequential(m.nn.ReLU(), m.nn.Conv2d(1, 2, 3))
        b = m.nn.Sequential(m.nn.BatchNorm2d(2))
        c = a + b
        seen = [len(c), c[2] is b[0], len(a), c.get_submodule("1") is c[1],
                tuple(c.get_parameter("1.weight").shape), c.get_buffer("2.running_mean") is
                b[0].running_mean, c.get_submodule("") is c]
        a += b
        seen += [len(a), a[2] is b[0]]
        doubled, tripled = b * 2, 3 * b
        b *= 2
        seen += [len(doubled), doubled[1] is doubled[0], len(tripled), len(b), b[1] is b[0]]
        with pytest.raises(ValueError, match="Non-positive multiplication factor"):
            b * 0
        for get, target in ((c.get_submodule, "3"), (c.get_submodule, "1.weight.x"),
                            (c.get_parameter, "2.running_mean"), (c.get_buffer, "1.weight"),
                            (c.get_parameter, "1.nope")):
            with pytest.raises(AttributeError) as error:
                get(target)
            seen.append(str(error.value))
        with pytest.raises(ValueError, match="only objects of Sequential"):
            a + m.nn.ReLU()
        seen.append(str(c.half()[1].weight.dtype).removeprefix("torch."))
        return seen

    assert run(lucid) == run(torch)
    bare = "import lucid; lucid.nn.Conv2d; lucid.optim.Adam; lucid.nn.functional.relu"
    subprocess.run([sys.executable, "-c", bare], check=True)


def test_buffer_assignment_registers_as_torch() -> None:
    """``nn.Buffer`` assigned to a module registers a buffer (persistent or not) as
    PyTorch's: the same state_dict keys and buffers; the tensor is the data detached (shared
    array), a plain tensor that isinstance-checks as a Buffer; a plain tensor assigned later
    to the name stays a buffer with its persistence; a parameter's name is refused."""
    torch = pytest.importorskip("torch")
    results = []
    for m in (lucid, torch):
        module = m.nn.Module()
        source = m.zeros(2)
        module.count = m.nn.Buffer(source)
        module.scratch = m.nn.Buffer(m.ones(3), persistent=False)
        module.plain = m.ones(1)  # a tensor attribute, not a buffer
        module.scratch = m.full((3,), 2.0)
        module.weight = m.nn.Parameter(m.ones(1))
        with pytest.raises(TypeError):
            module.weight = m.nn.Buffer(m.ones(1))
        with pytest.raises(KeyError):  # over a plain attribute
            module.plain = m.nn.Buffer(m.ones(1))
        m.set_default_dtype(m.float64)
        try:
            assert str(m.nn.Buffer().dtype).endswith("float64")
        finally:
            m.set_default_dtype(m.float32)
        source.add_(1)
        results.append((list(module.state_dict()), [n for n, _ in module.named_buffers()],
                        type(module.count).__name__, isinstance(module.count, m.nn.Buffer),
                        isinstance(source, m.nn.Buffer), module.count.numpy().tolist(),
                        module.scratch.numpy().tolist()))
    assert results[0] == results[1]
    assert results[0][0] == ["weight", "count"]  # parameters first


def test_forward_hooks_match_torch() -> None:
    """Pre-hooks replace the arguments (one value, a tuple, or with kwargs both), forward
    hooks see arguments and output and may replace it; ``prepend`` runs first; removed
    hooks (also by ``with``) stop; a pre-hook with kwargs returning anything but a pair is
    refused."""
    torch = pytest.importorskip("torch")
    weight = np.arange(6.0).reshape(2, 3) / 5

    def program(m):  # noqa: ANN001, ANN202 - lucid or torch
        class Scale(m.nn.Module):
            def forward(self, x, scale=1.0):  # noqa: ANN001, ANN202
                return x @ m.tensor(weight.T) * scale

        layer, order, outputs = Scale(), [], []
        x = m.tensor(np.ones((1, 3)))
        layer.register_forward_pre_hook(lambda mod, args: args[0] + 1)
        layer.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        with layer.register_forward_pre_hook(
                lambda mod, args, kwargs: (args, {"scale": 3.0}), with_kwargs=True):
            outputs.append(layer(x))
        layer.register_forward_hook(lambda mod, args, out: order.append("second") or out + 1)
        layer.register_forward_hook(lambda mod, args, out: order.append("first"), prepend=True)
        removed = layer.register_forward_hook(lambda mod, args, kwargs, out: out * kwargs["scale"],
                                              with_kwargs=True)
        outputs.append(layer(x, scale=2.0))
        removed.remove()
        outputs.append(layer(x, scale=2.0))
        bad = layer.register_forward_pre_hook(lambda mod, args, kwargs: args, with_kwargs=True)
        with pytest.raises(RuntimeError, match="pre-hook must return None or a tuple"):
            layer(x)
        bad.remove()
        return outputs, order

    (ours, our_order), (theirs, their_order) = program(lucid), program(torch)
    assert our_order == their_order == ["first", "second"] * 2
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
