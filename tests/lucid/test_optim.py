"""lucid.optim against torch.optim: same start, same gradients, same parameters after each step.

Gradients come from a fixed quadratic, ``grad = c * (p - target)``, computed in each framework
from its own parameters, so any difference is the optimisers' own.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

import lucid
from lucid.backend import asnumpy, to_device
from lucid.optim import (
    SGD,
    Adam,
    AdamW,
    Optimizer,
    flatten_state_dict,
    lr_scheduler,
    unflatten_state_dict,
)

SHAPES = [(5, 3), (4,), (2, 2, 2)]
STEPS = 8
TOL = {np.float64: {"rtol": 1e-12, "atol": 1e-14}, np.float32: {"rtol": 1e-6, "atol": 1e-7}}


def _problem(dtype: Any, seed: int = 0) -> tuple[list, list, list]:
    """Initial params, targets and per-element curvatures of a random quadratic."""
    rng = np.random.default_rng(seed)
    inits = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    targets = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    curvatures = [rng.uniform(0.5, 2.0, s).astype(dtype) for s in SHAPES]
    return inits, targets, curvatures


def _has_grad(i: int, step: int) -> bool:
    """Param 2 never gets a gradient; the others skip some steps (optimisers must skip them)."""
    return i != 2 and (i + step) % 3 != 0


def _set_lucid_grads(params: list, targets: list, curvatures: list, step: int) -> None:
    for i, (p, t, c) in enumerate(zip(params, targets, curvatures, strict=True)):
        if not _has_grad(i, step):
            p.grad = None
            continue
        xp_t, xp_c = to_device(t, p.device), to_device(c, p.device)
        p.grad = lucid.Tensor(xp_c * (p.data - xp_t))


def _groups(params: list, group_opts: list[dict] | None) -> list:
    if group_opts is None:
        return list(params)
    # group k gets params k, k + n, ...: groups interleave the parameter order
    n = len(group_opts)
    return [{"params": params[k::n], **opts} for k, opts in enumerate(group_opts)]


def _compare_with_torch(
    lucid_cls: type, torch_name: str, kwargs: dict, dtype: Any, group_opts: list | None = None
) -> tuple[Optimizer, Any]:
    torch = pytest.importorskip("torch")
    inits, targets, curvatures = _problem(dtype)
    lp = [lucid.tensor(x, requires_grad=True) for x in inits]
    tp = [torch.tensor(x, requires_grad=True) for x in inits]
    lopt = lucid_cls(_groups(lp, group_opts), **kwargs)
    topt = getattr(torch.optim, torch_name)(_groups(tp, group_opts), **kwargs)
    t_targets = [torch.from_numpy(t) for t in targets]
    t_curv = [torch.from_numpy(c) for c in curvatures]
    for step in range(STEPS):
        _set_lucid_grads(lp, targets, curvatures, step)
        for i, p in enumerate(tp):
            p.grad = t_curv[i] * (p.detach() - t_targets[i]) if _has_grad(i, step) else None
        lopt.step()
        topt.step()
        for a, b in zip(lp, tp, strict=True):
            assert a.dtype == dtype
            np.testing.assert_allclose(a.data, b.detach().numpy(), **TOL[dtype])
    np.testing.assert_array_equal(lp[2].data, inits[2])  # never had a gradient: untouched
    return lopt, topt


SGD_CASES = [
    {"lr": 0.1},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
    {"lr": 0.05, "momentum": 0.8, "nesterov": True},
    {"lr": 0.1, "weight_decay": 0.1},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    {"lr": 0.05, "momentum": 0.5, "maximize": True},
]
ADAM_CASES = [
    {},
    {"lr": 0.05},
    {"lr": 0.05, "weight_decay": 0.1},
    {"lr": 0.05, "amsgrad": True},
    {"lr": 0.05, "amsgrad": True, "weight_decay": 0.05},
    {"lr": 0.02, "betas": (0.3, 0.9), "eps": 1e-6},  # beta1 < 0.5: torch's other lerp branch
    {"lr": 0.05, "maximize": True},
]
ADAMW_CASES = [{"lr": 0.05}, {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", SGD_CASES, ids=str)
def test_sgd_matches_torch(kwargs: dict, dtype: Any) -> None:
    _compare_with_torch(SGD, "SGD", kwargs, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=str)
def test_adam_matches_torch(kwargs: dict, dtype: Any) -> None:
    _compare_with_torch(Adam, "Adam", kwargs, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", ADAMW_CASES, ids=str)
def test_adamw_matches_torch(kwargs: dict, dtype: Any) -> None:
    _compare_with_torch(AdamW, "AdamW", kwargs, dtype)


@pytest.mark.parametrize(
    ("cls", "name", "kwargs", "group_opts"),
    [
        (SGD, "SGD", {"lr": 0.1}, [{"lr": 0.01}, {"momentum": 0.9, "nesterov": True}]),
        (Adam, "Adam", {"lr": 0.05}, [{"lr": 0.2, "amsgrad": True}, {"weight_decay": 0.1}]),
        (AdamW, "AdamW", {}, [{"lr": 0.1}, {"lr": 0.01, "betas": (0.8, 0.99)}]),
    ],
    ids=["SGD", "Adam", "AdamW"],
)
def test_param_groups_match_torch(cls: type, name: str, kwargs: dict, group_opts: list) -> None:
    lopt, topt = _compare_with_torch(cls, name, kwargs, np.float64, group_opts)
    # same group options and same state_dict layout (indices, state names, values)
    lsd, tsd = lopt.state_dict(), topt.state_dict()
    for lg, tg in zip(lsd["param_groups"], tsd["param_groups"], strict=True):
        assert lg["params"] == tg["params"]
        for key, value in lg.items():
            assert tg[key] == value, key
    assert sorted(lsd["state"]) == sorted(tsd["state"])
    for index, lstate in lsd["state"].items():
        tstate = tsd["state"][index]
        assert sorted(lstate) == sorted(tstate)
        for key, value in lstate.items():
            np.testing.assert_allclose(value, np.asarray(tstate[key]), rtol=1e-12, atol=1e-14)


# ---- behaviour ----------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_float32_updates_in_place_and_keep_dtype(cls: type) -> None:
    inits, targets, curvatures = _problem(np.float32)
    params = [lucid.tensor(x, requires_grad=True) for x in inits]
    arrays = [p.data for p in params]
    opt = cls(params, lr=0.1, **({"momentum": 0.9} if cls is SGD else {"amsgrad": True}))
    for step in range(3):
        _set_lucid_grads(params, targets, curvatures, step)
        opt.step()
    assert params[2] not in opt.state  # no gradient, no state
    for p, array in zip(params, arrays, strict=True):
        assert p.data is array and p.dtype == np.float32
        for value in opt.state.get(p, {}).values():
            assert isinstance(value, int) or value.dtype == np.float32


def test_adam_minimises_a_quadratic_without_torch() -> None:
    target = lucid.tensor([1.0, -2.0, 3.0, 0.5])
    x = lucid.zeros(4, requires_grad=True)
    opt = Adam([x], lr=0.1)
    for _ in range(300):
        opt.zero_grad()
        diff = x - target
        (diff * diff).sum().backward()
        opt.step()
    np.testing.assert_allclose(x.data, target.data, atol=1e-3)


def test_closure_and_zero_grad() -> None:
    x = lucid.tensor([2.0], requires_grad=True)
    opt = SGD([x], lr=0.25)

    def closure() -> lucid.Tensor:
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 4.0
    assert x.item() == 1.0
    opt.zero_grad(set_to_none=False)
    grad = x.grad
    assert grad is not None and grad.item() == 0.0
    opt.zero_grad()
    assert x.grad is None


def test_add_param_group_and_errors() -> None:
    a, b = lucid.zeros(2, requires_grad=True), lucid.zeros(3, requires_grad=True)
    opt = SGD([a], lr=0.1, momentum=0.5)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0.5
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError):
        SGD(a, lr=0.1)
    with pytest.raises(TypeError):
        SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(TypeError):
        SGD({a}, lr=0.1)
    with pytest.raises(ValueError):
        SGD([(a * 2)], lr=0.1)  # non-leaf
    with pytest.raises(ValueError):
        SGD([a], lr=-1.0)
    with pytest.raises(ValueError):
        SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(ValueError):
        Adam([a], betas=(1.0, 0.9))
    other = SGD([a, b], lr=0.1)
    with pytest.raises(ValueError):
        other.load_state_dict(opt.state_dict())  # 2 groups vs 1


def test_device(device: str) -> None:
    """On a GPU the same code path gives the CPU's result (to rounding)."""
    results = []
    for dev in ("cpu", device):
        inits, targets, curvatures = _problem(np.float32)
        params = [lucid.tensor(x, device=dev, requires_grad=True) for x in inits]
        opt = Adam([params[0]], lr=0.05, amsgrad=True)
        opt.add_param_group({"params": params[1:], "lr": 0.01, "weight_decay": 0.1})
        sgd_param = lucid.tensor(inits[0], device=dev, requires_grad=True)
        sgd = SGD([sgd_param], lr=0.05, momentum=0.9, nesterov=True)
        for step in range(5):
            _set_lucid_grads(params, targets, curvatures, step)
            _set_lucid_grads([sgd_param], targets[:1], curvatures[:1], step + 1)
            opt.step()
            sgd.step()
        assert all(p.device == dev for p in params)
        results.append([asnumpy(p.data) for p in [*params, sgd_param]])
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ---- state dicts and resume ----------------------------------------------------------------
def _run(opt: Optimizer, params: list, sched: Any, steps: range) -> None:
    _, targets, curvatures = _problem(np.float32)
    for step in steps:
        _set_lucid_grads(params, targets, curvatures, step)
        opt.step()
        if sched is not None:
            sched.step()


def _make(kind: str, params: list) -> tuple[Optimizer, Any]:
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": 0.02}]
    if kind == "sgd":
        opt: Optimizer = SGD(groups, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)
        return opt, lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    if kind == "adam":
        opt = Adam(groups, lr=0.05, amsgrad=True, weight_decay=1e-3)
        return opt, lr_scheduler.InverseDecayLR(opt, lr_decay=0.1)
    opt = AdamW(groups, lr=0.05)
    return opt, lr_scheduler.ExponentialLR(opt, gamma=0.9)


def _save_load_npz(arrays: dict, meta: str, tmp_path: Any) -> tuple[dict, str]:
    np.savez(tmp_path / "opt.npz", **arrays)
    with np.load(tmp_path / "opt.npz") as f:
        return {k: f[k] for k in f.files}, meta


def _save_load_safetensors(arrays: dict, meta: str, tmp_path: Any) -> tuple[dict, str]:
    st = pytest.importorskip("safetensors.numpy")
    from safetensors import safe_open

    st.save_file(arrays, str(tmp_path / "opt.safetensors"), metadata={"optimizer": meta})
    with safe_open(str(tmp_path / "opt.safetensors"), framework="numpy") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, f.metadata()["optimizer"]


@pytest.mark.parametrize("via", ["memory", "flatten", "npz", "safetensors"])
@pytest.mark.parametrize("kind", ["sgd", "adam", "adamw"])
def test_resume_is_bit_for_bit(kind: str, via: str, tmp_path: Any) -> None:
    inits, _, _ = _problem(np.float32)
    ref_params = [lucid.tensor(x, requires_grad=True) for x in inits]
    ref_opt, ref_sched = _make(kind, ref_params)
    _run(ref_opt, ref_params, ref_sched, range(6))

    params = [lucid.tensor(x, requires_grad=True) for x in inits]
    opt, sched = _make(kind, params)
    _run(opt, params, sched, range(3))
    # a checkpoint: parameter copies, the optimiser's and the scheduler's state dicts
    saved_params = [np.array(p.data, copy=True) for p in params]
    opt_sd, sched_sd = opt.state_dict(), sched.state_dict()
    _run(opt, params, sched, range(3, 5))  # the saved dicts must not follow later steps
    for state in opt_sd["state"].values():
        assert all(isinstance(v, (int, float, np.ndarray)) for v in state.values())
    if via != "memory":
        arrays, meta = flatten_state_dict(opt_sd)
        if via == "npz":
            arrays, meta = _save_load_npz(arrays, meta, tmp_path)
        elif via == "safetensors":
            arrays, meta = _save_load_safetensors(arrays, meta, tmp_path)
        opt_sd = unflatten_state_dict(arrays, meta)
        sched_sd = json.loads(json.dumps(sched_sd))

    new_params = [lucid.tensor(x, requires_grad=True) for x in saved_params]
    new_opt, new_sched = _make(kind, new_params)
    new_opt.load_state_dict(opt_sd)
    new_sched.load_state_dict(sched_sd)
    _run(new_opt, new_params, new_sched, range(3, 6))
    for a, b in zip(new_params, ref_params, strict=True):
        assert np.array_equal(a.data, b.data)
    assert new_sched.get_last_lr() == ref_sched.get_last_lr()
    assert [g["lr"] for g in new_opt.param_groups] == [g["lr"] for g in ref_opt.param_groups]


def test_flatten_round_trip_keeps_types() -> None:
    sd = {
        "state": {0: {"step": 7, "exp_avg": np.arange(3, dtype=np.float32)},
                  3: {"momentum_buffer": np.float64(2.5), "scale": np.array(1.5)}},
        "param_groups": [{"lr": 0.1 + 0.2, "betas": (0.9, 0.999), "params": [0, 3],
                          "nesterov": True, "name": None, "eps": float("inf")}],
    }
    arrays, meta = flatten_state_dict(sd)
    json.loads(meta)  # a plain JSON string, storable as safetensors metadata
    assert all(isinstance(a, np.ndarray) for a in arrays.values())
    back = unflatten_state_dict(arrays, meta)
    assert back["param_groups"] == sd["param_groups"]
    assert set(back["state"]) == {0, 3}
    assert back["state"][0]["step"] == 7 and isinstance(back["state"][0]["step"], int)
    for index, state in sd["state"].items():
        for key, value in state.items():
            if isinstance(value, int):
                continue
            got = back["state"][index][key]
            assert got.dtype == np.asarray(value).dtype and np.array_equal(got, value)
    with pytest.raises(ValueError):
        unflatten_state_dict(arrays, json.dumps({"tree": {}}))
    with pytest.raises(TypeError):
        flatten_state_dict({"state": {0: {"f": lambda: 0}}})


# ---- schedulers ----------------------------------------------------------------------------
def _lucid_and_torch_optimisers(lrs: list[float]) -> tuple[Optimizer, Any]:
    torch = pytest.importorskip("torch")
    lopt = SGD([{"params": [lucid.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs])
    topt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr}
                            for lr in lrs])
    return lopt, topt


class _Warmup:
    """A callable object: LambdaLR saves its attributes."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup

    def __call__(self, epoch: int) -> float:
        return min(1.0, (epoch + 1) / self.warmup) * 0.97**epoch


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("StepLR", {"step_size": 3, "gamma": 0.3}),
        ("StepLR", {"step_size": 1, "gamma": 0.9}),
        ("ExponentialLR", {"gamma": 0.93}),
        ("LambdaLR", {"lr_lambda": lambda e: 1.0 / (1.0 + 0.37 * e)}),
        ("LambdaLR", {"lr_lambda": [_Warmup(4), lambda e: 0.9**e]}),
        ("MultiStepLR", {"milestones": [9, 2, 5, 5], "gamma": 0.5}),
        ("LinearLR", {}),
        ("LinearLR", {"start_factor": 0.25, "end_factor": 0.8, "total_iters": 6}),
        ("CosineAnnealingLR", {"T_max": 5}),
        ("CosineAnnealingLR", {"T_max": 4, "eta_min": 0.001}),
    ],
)
def test_schedulers_match_torch(name: str, kwargs: dict) -> None:
    torch = pytest.importorskip("torch")
    lopt, topt = _lucid_and_torch_optimisers([0.1, 0.033])
    lsched = getattr(lr_scheduler, name)(lopt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for _ in range(15):
        assert lsched.get_last_lr() == tsched.get_last_lr()
        assert [g["lr"] for g in lopt.param_groups] == [g["lr"] for g in topt.param_groups]
        lopt.step()
        topt.step()
        lsched.step()
        tsched.step()
    assert lsched.last_epoch == tsched.last_epoch == 15


@pytest.mark.parametrize(("name", "kwargs"), [("CosineAnnealingLR", {"T_max": 6}),
                                              ("MultiStepLR", {"milestones": [2, 7]}),
                                              ("LinearLR", {"total_iters": 9})])
def test_schedulers_resumed_at_an_epoch_match_torch(name: str, kwargs: dict) -> None:
    """Built with ``last_epoch`` (a resumed run) the first lrs come from the closed form."""
    torch = pytest.importorskip("torch")
    lopt, topt = _lucid_and_torch_optimisers([0.1, 0.033])
    for opt in (lopt, topt):
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"]
    lsched = getattr(lr_scheduler, name)(lopt, last_epoch=4, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, last_epoch=4, **kwargs)
    for _ in range(6):
        np.testing.assert_allclose(lsched.get_last_lr(), tsched.get_last_lr(), rtol=1e-15)
        lopt.step()
        topt.step()
        lsched.step()
        tsched.step()


@pytest.mark.parametrize(("optimiser", "kwargs"), [
    ("SGD", {"total_steps": 17}),
    ("SGD", {"epochs": 3, "steps_per_epoch": 5, "anneal_strategy": "linear",
             "max_lr": [0.5, 2.0]}),
    ("Adam", {"total_steps": 16, "three_phase": True, "pct_start": 0.25}),
    ("Adam", {"total_steps": 12, "cycle_momentum": False, "div_factor": 5.0,
              "final_div_factor": 100.0}),
])
def test_one_cycle_lr_matches_torch(optimiser: str, kwargs: dict) -> None:
    """Every step's lrs and momenta (SGD's momentum, Adam's first beta) as PyTorch's, to the
    end of the cycle, and the refusal one step past it."""
    torch = pytest.importorskip("torch")
    kwargs = {"max_lr": 1.0, **kwargs}
    opts = []
    for m in (lucid, torch):
        groups = [{"params": [m.zeros(1, requires_grad=True)]} for _ in range(2)]
        opts.append(m.optim.SGD(groups, lr=0.1, momentum=0.9) if optimiser == "SGD" else
                    m.optim.Adam(groups, lr=0.1))
    lsched = lr_scheduler.OneCycleLR(opts[0], **kwargs)
    tsched = torch.optim.lr_scheduler.OneCycleLR(opts[1], **kwargs)
    momentum = "momentum" if optimiser == "SGD" else "betas"
    for _ in range(tsched.total_steps - 1):
        np.testing.assert_allclose(lsched.get_last_lr(), tsched.get_last_lr(), rtol=1e-13)
        for ours, theirs in zip(opts[0].param_groups, opts[1].param_groups, strict=True):
            np.testing.assert_allclose(ours[momentum], theirs[momentum], rtol=1e-13)
        for opt in opts:
            opt.step()
        lsched.step()
        tsched.step()
    lsched.step()
    with pytest.raises(ValueError, match="Tried to step"):
        lsched.step()


@pytest.mark.parametrize("kwargs", [
    {}, {"patience": 2, "factor": 0.5, "cooldown": 2},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.2, "patience": 1},
    {"patience": 0, "min_lr": [0.02, 0.001], "factor": 0.3},
])
def test_reduce_lr_on_plateau_matches_torch(kwargs: dict) -> None:
    torch = pytest.importorskip("torch")
    lopt, topt = _lucid_and_torch_optimisers([0.1, 0.033])
    lsched = lr_scheduler.ReduceLROnPlateau(lopt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    metrics = [5.0, 4.0, 4.0, 3.9999, 4.1, 4.0, 4.0, 3.0, 3.1, 3.2, 3.05, 3.0, 2.0, 2.0,
               2.1, 2.2, 2.3, 2.4, 2.5, 2.6, 2.7, 2.8, 2.9, 3.0, 3.1, 3.2]
    for value in metrics:
        lsched.step(value)
        tsched.step(torch.tensor(value))
        assert lsched.get_last_lr() == tsched.get_last_lr()
        assert [g["lr"] for g in lopt.param_groups] == [g["lr"] for g in topt.param_groups]
    assert lsched.get_last_lr() != [0.1, 0.033]  # something was reduced
    with pytest.warns(UserWarning, match="deprecated"):
        lsched.step(1.0, epoch=40)
    with pytest.warns(UserWarning, match="deprecated"):
        tsched.step(1.0, epoch=40)
    assert lsched.last_epoch == tsched.last_epoch == 40
    restored = lr_scheduler.ReduceLROnPlateau(SGD([lucid.zeros(1, requires_grad=True)] * 1,
                                                  lr=0.1))
    restored.load_state_dict(json.loads(json.dumps(lsched.state_dict())))
    assert restored.num_bad_epochs == lsched.num_bad_epochs and restored.best == lsched.best


def test_inverse_decay_lr_is_adain_schedule() -> None:
    base_lr, lr_decay = 1e-4, 5e-5
    opt = Adam([lucid.zeros(1, requires_grad=True)], lr=base_lr)
    sched = lr_scheduler.InverseDecayLR(opt, lr_decay=lr_decay)
    for iteration in range(0, 2000):
        # pytorch-AdaIN: adjust_learning_rate(optimizer, iteration_count=i) before step i
        assert opt.param_groups[0]["lr"] == base_lr / (1.0 + lr_decay * iteration)
        opt.step()
        sched.step()


def test_lambda_lr_state_dict_keeps_callable_object_attributes() -> None:
    opt = SGD([{"params": [lucid.zeros(1, requires_grad=True)]},
               {"params": [lucid.zeros(1, requires_grad=True)]}], lr=1.0)
    warmup = _Warmup(4)
    sched = lr_scheduler.LambdaLR(opt, [warmup, lambda e: 0.5**e])
    sched.step()
    sd = json.loads(json.dumps(sched.state_dict()))
    assert sd["lr_lambdas"] == [{"warmup": 4}, None]  # PyTorch's key
    warmup.warmup = 10
    sched.load_state_dict(sd)
    assert warmup.warmup == 4 and sched.last_epoch == 1


def test_scheduler_resume_needs_initial_lr() -> None:
    opt = SGD([lucid.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=4)


def test_named_parameters_as_pytorch() -> None:
    """``SGD(model.named_parameters())`` keeps the names in ``param_names`` and the state
    dict, as PyTorch 2's; groups with and without names do not mix."""
    torch = pytest.importorskip("torch")

    def run(m) -> list:  # noqa: ANN001 - lucid or torch
        layer = m.nn.Linear(2, 3)
        opt = m.optim.SGD(layer.named_parameters(), lr=0.1)
        grouped = m.optim.SGD([{"params": layer.named_parameters(), "lr": 0.5}], lr=0.1)
        seen = [opt.param_groups[0]["param_names"], grouped.param_groups[0]["param_names"],
                opt.state_dict()["param_groups"][0]["param_names"],
                opt.param_groups[0]["params"][0] is layer.weight]
        with pytest.raises(ValueError) as error:
            m.optim.SGD([{"params": [layer.weight]}, {"params": [("bias", layer.bias)]}], lr=1)
        seen.append(str(error.value))
        with pytest.raises(ValueError) as error:
            m.optim.SGD([("weight", layer.weight), layer.bias], lr=1)
        seen.append(str(error.value))
        return seen

    assert run(lucid) == run(torch)


def test_loading_a_state_dict_without_names_keeps_the_names() -> None:
    """A group's param_names survive loading a state dict saved without them, as PyTorch's
    (they were dropped, and adding a named group then failed)."""
    torch = pytest.importorskip("torch")

    def run(m) -> list:  # noqa: ANN001 - lucid or torch
        layer = m.nn.Linear(2, 3)
        named = m.optim.SGD(layer.named_parameters(), lr=0.1)
        named.load_state_dict(m.optim.SGD(layer.parameters(), lr=0.2).state_dict())
        named.add_param_group({"params": m.nn.Linear(1, 1).named_parameters()})
        return [g["param_names"] for g in named.param_groups] + [named.param_groups[0]["lr"]]

    assert run(lucid) == run(torch)


def test_optimizer_hooks_match_torch() -> None:
    """Step pre-hooks see and may replace the step's arguments (the optimiser first, then a
    closure given here), post
    hooks run after; state-dict hooks run around state_dict and load_state_dict and may
    replace the dict; prepend puts a hook first; removed hooks stop; a pre-hook returning
    anything but a pair is refused."""
    torch = pytest.importorskip("torch")

    def program(m):  # noqa: ANN001, ANN202 - lucid or torch
        w = m.tensor([1.0, -2.0], requires_grad=True)
        opt = m.optim.SGD([w], lr=0.5)
        calls = []

        def closure():  # noqa: ANN202
            opt.zero_grad()
            loss = (w * w).sum()
            loss.backward()
            return loss

        opt.register_step_pre_hook(lambda o, args, kwargs: ((*args, closure), {}))
        post = opt.register_step_post_hook(
            lambda o, args, kwargs: calls.append(("post", len(args), sorted(kwargs))))
        losses = [opt.step().item()]
        post.remove()
        losses.append(opt.step().item())
        opt.register_state_dict_pre_hook(lambda o: calls.append("pre-save"))
        opt.register_state_dict_post_hook(lambda o, sd: calls.append("post-save"))
        opt.register_state_dict_post_hook(lambda o, sd: calls.append("first"), prepend=True)
        opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
        saved = opt.state_dict()
        opt.register_load_state_dict_pre_hook(
            lambda o, sd: {"state": sd["state"],
                           "param_groups": [{**sd["param_groups"][0], "lr": 0.25}]})
        opt.register_load_state_dict_post_hook(lambda o: calls.append("loaded"))
        opt.load_state_dict(saved)
        bad = opt.register_step_pre_hook(lambda o, args, kwargs: 1)
        with pytest.raises(RuntimeError, match="must return None or a tuple"):
            opt.step()
        bad.remove()
        return losses, calls, saved["extra"], opt.param_groups[0]["lr"], w.detach().tolist()

    assert program(lucid) == program(torch)


def test_optimizer_hooks_review_findings_match_torch() -> None:
    """Found by a differential review (each failed before): a subclass's own step runs the
    step hooks, once even when it calls super().step() (PyTorch: twice if the base class has
    had an instance before in the process, else once); load_state_dict's pre-hooks change a
    copy of the caller's dict, not the dict."""
    torch = pytest.importorskip("torch")

    def program(m):  # noqa: ANN001, ANN202 - lucid or torch
        class Halved(m.optim.SGD):
            def step(self, closure=None):  # noqa: ANN001, ANN202
                for group in self.param_groups:
                    group["lr"] = group["lr"] / 2
                return super().step(closure)

        w = m.ones(1, requires_grad=True)
        opt, calls = Halved([w], lr=0.5), []
        opt.register_step_pre_hook(lambda o, args, kwargs: calls.append("pre"))
        opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))
        w.grad = m.ones(1)
        opt.step()
        saved = opt.state_dict()
        opt.register_load_state_dict_pre_hook(lambda o, sd: sd.update(extra=1))
        opt.load_state_dict(saved)
        return calls, w.item(), sorted(saved)

    ours, theirs = program(lucid), program(torch)
    assert ours[0] == ["pre", "post"]  # torch's count depends on what ran before
    assert ours[1:] == theirs[1:]
