"""lucid.optim's LBFGS, RMSprop and Adagrad against torch.optim's, step for step.

Each framework differentiates the same smooth loss of its own parameters (a Rosenbrock valley
over two parameters of different shapes, a logistic regression, a least-squares fit), so any
difference is the optimisers' own, up to rounding: PyTorch's CPU kernels fuse ``p + a * u``
into one multiply-add and its dot products and square roots round differently from numpy's,
so float64 trajectories agree to ~1e-12 (less near an ill-conditioned minimum), not bit for
bit. LBFGS is also held to PyTorch's iteration and closure-evaluation counts, so every run
takes the same branches of the iteration and of the strong-Wolfe line search as PyTorch's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import lucid
from lucid.backend import asnumpy
from lucid.optim import LBFGS, Adagrad, RMSprop, flatten_state_dict, unflatten_state_dict

Problem = tuple[list[np.ndarray], Callable[[Any, list[Any]], Any]]


def _rosenbrock_sum(v: Any) -> Any:
    a, b = v[:-1], v[1:]
    return ((1 - a) ** 2 + 100 * (b - a * a) ** 2).sum()


def _const(m: Any, params: list[Any], array: np.ndarray) -> Any:
    """A constant of the loss on the parameters' device."""
    return m.tensor(array, device=params[0].device)


def _problem(name: str, dtype: Any = np.float64) -> Problem:
    """Initial parameters and ``loss(m, params)`` (``m`` is lucid or torch).

    Every problem has a parameter that never enters the loss (no gradient: skipped) and
    one that enters it multiplied by zero (a gradient of zeros: not skipped).
    """
    rng = np.random.default_rng(7)
    unused = rng.standard_normal((2, 2)).astype(dtype)
    zero_grad = rng.standard_normal(3).astype(dtype)
    if name == "rosenbrock":
        inits = [np.array([-1.2, 1.0, -0.5, 0.8, 1.3, 0.2], dtype),
                 np.array([[0.5, -0.3, 1.1], [0.9, 0.0, -0.8]], dtype)]

        def loss(m: Any, p: list[Any]) -> Any:
            return (_rosenbrock_sum(p[0]) + 0.5 * _rosenbrock_sum(p[1].reshape(-1))
                    + (p[3] * 0).sum())

    elif name == "logistic":
        features = rng.standard_normal((24, 5)).astype(dtype)
        labels = np.where(rng.standard_normal(24) > 0, 1.0, -1.0).astype(dtype)
        inits = [0.5 * rng.standard_normal(5).astype(dtype), np.array(0.3, dtype)]

        def loss(m: Any, p: list[Any]) -> Any:
            z = _const(m, p, features) @ p[0] + p[1]
            margin = -_const(m, p, labels) * z
            return (margin.exp() + 1).log().mean() + 0.05 * (p[0] * p[0]).sum() \
                + (p[3] * 0).sum()

    elif name == "least_squares":
        features = rng.standard_normal((16, 3)).astype(dtype)
        targets = rng.standard_normal((16, 2)).astype(dtype)
        inits = [rng.standard_normal((3, 2)).astype(dtype), np.zeros(2, dtype)]

        def loss(m: Any, p: list[Any]) -> Any:
            residual = _const(m, p, features) @ p[0] + p[1] - _const(m, p, targets)
            return (residual * residual).mean() + (p[3] * 0).sum()

    else:
        raise ValueError(name)
    return [*inits, unused, zero_grad], loss


def _params(m: Any, inits: list[np.ndarray]) -> list[Any]:
    return [m.tensor(x.copy(), requires_grad=True) for x in inits]


def _numpy(p: Any) -> np.ndarray:
    """A copy of a lucid or torch parameter's values."""
    if isinstance(p, lucid.Tensor):
        return asnumpy(p.data).copy()
    return p.detach().numpy().copy()


def _to_numpy_tree(value: Any) -> Any:
    """A torch state dict's values as numpy (0-d tensors as 0-d arrays), for lucid."""
    if isinstance(value, dict):
        return {k: _to_numpy_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_numpy_tree(v) for v in value)
    if hasattr(value, "detach"):
        return value.detach().numpy().copy()
    return value


# ---- LBFGS ---------------------------------------------------------------------------------
def _lbfgs_closure(m: Any, opt: Any, params: list[Any], loss_fn: Callable) -> Callable:
    def closure() -> Any:
        opt.zero_grad()
        loss = loss_fn(m, params)
        loss.backward()
        return loss

    return closure


def _lbfgs_run(m: Any, problem: Problem, kwargs: dict, steps: int,
               params: list[Any] | None = None, opt: Any = None) -> tuple[list, Any, list]:
    """Run ``steps`` LBFGS steps; per step: parameters, returned loss, n_iter, func_evals."""
    inits, loss_fn = problem
    params = _params(m, inits) if params is None else params
    opt = m.optim.LBFGS(params, **kwargs) if opt is None else opt
    closure = _lbfgs_closure(m, opt, params, loss_fn)
    record = []
    for _ in range(steps):
        loss = opt.step(closure)
        state = opt.state[params[0]]
        record.append(([_numpy(p) for p in params], float(loss.detach()), state["n_iter"],
                       state["func_evals"]))
    return record, opt, params


def _assert_same_run(ours: list, theirs: list, rtol: float = 1e-9, atol: float = 1e-12) -> None:
    for step, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a[2:] == b[2:], f"step {step}: (n_iter, func_evals) {a[2:]} vs torch {b[2:]}"
        np.testing.assert_allclose(a[1], b[1], rtol=rtol, atol=atol)
        for x, y in zip(a[0], b[0], strict=True):
            assert x.dtype == y.dtype
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"step {step}")


LBFGS_CASES = [
    ("rosenbrock", {"line_search_fn": "strong_wolfe"}, 4),
    ("rosenbrock", {"line_search_fn": "strong_wolfe", "history_size": 3, "max_iter": 7}, 6),
    ("rosenbrock", {"line_search_fn": "strong_wolfe", "max_iter": 10, "max_eval": 12}, 4),
    ("rosenbrock", {"line_search_fn": "strong_wolfe", "lr": 10}, 3),  # overshoots: zoom
    ("rosenbrock", {"line_search_fn": "strong_wolfe", "lr": 0.01}, 3),  # short: extrapolate
    ("rosenbrock", {"lr": 0.1, "max_iter": 15}, 3),
    # evaluations run out inside the line search
    ("logistic", {"line_search_fn": "strong_wolfe", "lr": 1e-3, "max_eval": 6, "max_iter": 5}, 3),
    ("least_squares", {"line_search_fn": "strong_wolfe", "lr": 50, "tolerance_change": 1e-4}, 3),
    ("logistic", {}, 3),
    ("logistic", {"line_search_fn": "strong_wolfe", "history_size": 2}, 3),
    ("logistic", {"lr": 0.5, "max_iter": 4, "history_size": 2}, 8),
    ("least_squares", {"line_search_fn": "strong_wolfe", "max_iter": 5}, 4),
    ("least_squares", {"lr": 0.3, "max_iter": 6}, 4),
]


@pytest.mark.parametrize(("name", "kwargs", "steps"), LBFGS_CASES, ids=str)
def test_lbfgs_matches_torch(name: str, kwargs: dict, steps: int) -> None:
    torch = pytest.importorskip("torch")
    problem = _problem(name)
    ours, opt, params = _lbfgs_run(lucid, problem, kwargs, steps)
    theirs, topt, _ = _lbfgs_run(torch, problem, kwargs, steps)
    # near its minimum the Rosenbrock valley is flat along a curve: the point found moves
    # with the last bits of the losses compared, ~1e-8 relative after a few steps
    _assert_same_run(ours, theirs, rtol=1e-6 if name == "rosenbrock" else 1e-9)
    inits = problem[0]
    np.testing.assert_array_equal(params[2].data, inits[2])  # no gradient: untouched
    np.testing.assert_array_equal(params[3].data, inits[3])  # gradient 0: no move either
    # the state dict's layout and values are PyTorch's (state on the first parameter; the
    # gradients in it magnify the parameters' differences by the curvature)
    tol = {"rtol": 1e-4, "atol": 1e-7} if name == "rosenbrock" else {"rtol": 1e-6, "atol": 1e-9}
    ours_sd, theirs_sd = opt.state_dict(), _to_numpy_tree(topt.state_dict())
    assert sorted(ours_sd["state"]) == sorted(theirs_sd["state"]) == [0]
    assert sorted(ours_sd["state"][0]) == sorted(theirs_sd["state"][0])
    for key, value in theirs_sd["state"][0].items():
        mine = ours_sd["state"][0][key]
        if key == "al":  # scratch of the last two-loop recursion
            assert len(mine) == len(value)
            continue
        if isinstance(value, list):
            assert len(mine) == len(value), key
            for x, y in zip(mine, value, strict=True):
                np.testing.assert_allclose(x, y, err_msg=key, **tol)
        else:
            np.testing.assert_allclose(mine, value, err_msg=key, **tol)
    for key, value in ours_sd["param_groups"][0].items():
        assert theirs_sd["param_groups"][0][key] == value, key


def test_cubic_interpolate_matches_torch() -> None:
    """The line search's interpolation, on random points of both orders, with and without
    bounds, with and without a real minimiser (then the middle of the bounds)."""
    torch = pytest.importorskip("torch")
    from torch.optim.lbfgs import _cubic_interpolate as theirs

    from lucid.optim.lbfgs import _cubic_interpolate as ours

    rng = np.random.default_rng(3)
    kinds = set()
    for _ in range(400):
        x1, x2 = rng.uniform(-2, 2, 2)
        f1, f2 = rng.standard_normal(2)
        g1, g2 = rng.standard_normal(2) * 3
        bounds = tuple(sorted(rng.uniform(-3, 3, 2))) if rng.random() < 0.5 else None
        d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        kinds.add((x1 <= x2, d1**2 - g1 * g2 >= 0, bounds is None))
        expected = theirs(float(x1), float(f1), torch.tensor(g1), float(x2), float(f2),
                          torch.tensor(g2), bounds)
        got = ours(float(x1), float(f1), np.float64(g1), float(x2), float(f2), np.float64(g2),
                   bounds)
        np.testing.assert_allclose(float(got), float(expected), rtol=1e-13, atol=1e-15)
    assert len(kinds) == 8  # every branch


_LINE_FUNCTIONS = {
    "sine": (lambda x: float(np.sum(np.sin(3 * x) + 0.1 * x * x)),
             lambda x: 3 * np.cos(3 * x) + 0.2 * x),
    "abs15": (lambda x: float(np.sum(np.abs(x) ** 1.5)),
              lambda x: 1.5 * np.sign(x) * np.abs(x) ** 0.5),
}


@pytest.mark.parametrize(
    ("name", "x", "t", "max_ls", "tolerance_change"),
    [("abs15", -0.732, 28.361, 3, 0.1),  # zoom: insufficient progress marked
     ("sine", 1.583, 58.675, 3, 1e-3),  # zoom: moved 0.1 from the nearer boundary
     ("sine", 0.559, 7.299, 3, 1e-3),
     ("sine", 1.574, 84.097, 25, 1.0),  # zoom: bracket below tolerance_change
     ("sine", 0.522, 0.049, 3, 1.0)],  # bracketing runs out of evaluations
)
def test_strong_wolfe_matches_torch(name: str, x: float, t: float, max_ls: int,
                                    tolerance_change: float) -> None:
    """The line search alone, on 1-d functions (no rounding of sums between the two), through
    the branches a smooth optimisation rarely takes."""
    torch = pytest.importorskip("torch")
    from torch.optim.lbfgs import _strong_wolfe as theirs

    from lucid.optim.lbfgs import _strong_wolfe as ours

    f, g = _LINE_FUNCTIONS[name]
    x0 = np.array([x])
    g0 = g(x0)
    d = -g0
    gtd = float(g0 @ d)

    def our_obj(xs: list, t: Any, d: Any) -> tuple:
        return f(xs[0] + t * d), g(xs[0] + t * d)

    def their_obj(xs: list, t: Any, d: Any) -> tuple:
        point = xs[0].numpy() + float(t) * d.numpy()
        return f(point), torch.tensor(g(point))

    got = ours(our_obj, [x0.copy()], t, d, f(x0), g0, np.float64(gtd),
               tolerance_change=tolerance_change, max_ls=max_ls)
    expected = theirs(their_obj, [torch.tensor(x0)], t, torch.tensor(d), f(x0),
                      torch.tensor(g0), torch.tensor(gtd, dtype=torch.float64),
                      tolerance_change=tolerance_change, max_ls=max_ls)
    assert got[3] == expected[3]  # evaluations
    np.testing.assert_allclose(float(got[2]), float(expected[2]), rtol=1e-12)  # step
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-12)  # loss
    np.testing.assert_allclose(got[1], expected[1].numpy(), rtol=1e-12)  # gradient


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize(
    ("tolerances", "check"),
    [({"tolerance_grad": 1e-3}, "optimal"), ({"tolerance_change": 1e-3}, "progress"),
     ({"tolerance_change": 1e-3, "lr": 1e-3}, "progress"), ({"tolerance_grad": 10.0}, "at once")],
    ids=["tolerance_grad", "tolerance_change_loss", "tolerance_change_step",
         "optimal_at_start"],
)
def test_lbfgs_tolerances_stop_as_torch(line_search_fn: str | None, tolerances: dict,
                                        check: str) -> None:
    """Early termination by the tolerances: the same iteration and evaluation counts as
    PyTorch's, fewer than max_iter; a converged problem's step only evaluates the closure."""
    torch = pytest.importorskip("torch")
    problem = _problem("least_squares")
    kwargs = {"line_search_fn": line_search_fn, "max_iter": 50, "lr": 0.5, **tolerances}
    ours, _, _ = _lbfgs_run(lucid, problem, kwargs, 3)
    theirs, _, _ = _lbfgs_run(torch, problem, kwargs, 3)
    _assert_same_run(ours, theirs)
    n_iter = [record[2] for record in ours]
    func_evals = [record[3] for record in ours]
    if check == "at once":  # the gradient is already within tolerance: no iteration at all
        assert n_iter == [0, 0, 0] and func_evals == [1, 2, 3]
    else:
        assert 0 < n_iter[0] < 50  # stopped early
        if check == "optimal":  # converged: later steps stop after evaluating once
            assert n_iter[2] == n_iter[1] and func_evals[2] == func_evals[1] + 1


def test_lbfgs_float32_keeps_dtype_and_follows_torch() -> None:
    torch = pytest.importorskip("torch")
    problem = _problem("least_squares", np.float32)
    # a few iterations: later ones reach float32's noise floor, where the losses' last bits
    # (lucid's ops and PyTorch's round differently) decide the line search's branches
    kwargs = {"line_search_fn": "strong_wolfe", "max_iter": 3}
    ours, opt, params = _lbfgs_run(lucid, problem, kwargs, 2)
    theirs, _, _ = _lbfgs_run(torch, problem, kwargs, 2)
    _assert_same_run(ours, theirs, rtol=1e-5, atol=1e-6)
    state = opt.state[params[0]]
    for key in ("d", "prev_flat_grad"):
        assert state[key].dtype == np.float32
    assert all(a.dtype == np.float32 for a in state["old_dirs"] + state["old_stps"])
    # scalars as PyTorch's 0-d float32 tensors: float32 numpy scalars
    assert all(isinstance(r, np.float32) for r in state["ro"])
    assert isinstance(state["H_diag"], np.float32)
    assert all(p.dtype == np.float32 for p in params)


def _roundtrip(sd: dict, via: str, tmp_path: Any) -> dict:
    if via == "memory":
        return sd
    arrays, meta = flatten_state_dict(sd)
    if via == "npz":
        np.savez(tmp_path / "opt.npz", **arrays)
        with np.load(tmp_path / "opt.npz") as f:
            arrays = {k: f[k] for k in f.files}
    return unflatten_state_dict(arrays, json.loads(json.dumps(meta)))


@pytest.mark.parametrize("via", ["memory", "flatten", "npz"])
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_resume_is_bit_for_bit(line_search_fn: str | None, via: str,
                                     tmp_path: Any) -> None:
    """Saved mid-run (history, direction, step, counters) and loaded into a fresh optimiser,
    the optimisation continues exactly as the uninterrupted one."""
    problem = _problem("rosenbrock")
    kwargs = {"line_search_fn": line_search_fn, "max_iter": 5, "history_size": 4,
              "lr": 1 if line_search_fn else 0.05}
    reference, _, _ = _lbfgs_run(lucid, problem, kwargs, 6)

    first, opt, params = _lbfgs_run(lucid, problem, kwargs, 3)
    saved_params = [np.array(p.data, copy=True) for p in params]
    sd = opt.state_dict()
    assert len(sd["state"][0]["old_dirs"]) == 4  # the history is full: it shifts on resume
    _lbfgs_run(lucid, problem, kwargs, 2, params, opt)  # the saved dict must not follow
    sd = _roundtrip(sd, via, tmp_path)

    new_params = [lucid.tensor(x, requires_grad=True) for x in saved_params]
    new_opt = LBFGS(new_params, **kwargs)
    new_opt.load_state_dict(sd)
    resumed, _, _ = _lbfgs_run(lucid, problem, kwargs, 3, new_params, new_opt)
    for a, b in zip(first + resumed, reference, strict=True):
        assert a[1:] == b[1:]
        for x, y in zip(a[0], b[0], strict=True):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_resumes_from_torchs_state(line_search_fn: str | None) -> None:
    """PyTorch's state dict (tensors as numpy arrays) loads into lucid's LBFGS, which then
    continues as PyTorch's does."""
    torch = pytest.importorskip("torch")
    problem = _problem("logistic")
    kwargs = {"line_search_fn": line_search_fn, "max_iter": 4, "history_size": 3}
    theirs, topt, tparams = _lbfgs_run(torch, problem, kwargs, 2)
    params = [lucid.tensor(p.detach().numpy().copy(), requires_grad=True) for p in tparams]
    opt = LBFGS(params, **kwargs)
    opt.load_state_dict(_to_numpy_tree(topt.state_dict()))
    ours, _, _ = _lbfgs_run(lucid, problem, kwargs, 3, params, opt)
    theirs, _, _ = _lbfgs_run(torch, problem, kwargs, 3, tparams, topt)
    _assert_same_run(ours, theirs)


def test_lbfgs_errors_as_torch() -> None:
    torch = pytest.importorskip("torch")

    def messages(m: Any) -> list[str]:
        a, b = m.zeros(2, requires_grad=True), m.zeros(3, requires_grad=True)
        seen = []
        with pytest.raises(ValueError) as error:
            m.optim.LBFGS([{"params": [a]}, {"params": [b], "lr": 0.5}])
        seen.append(str(error.value))
        with pytest.raises(ValueError) as error:
            m.optim.LBFGS([a], lr=-1.0)
        seen.append(str(error.value))
        opt = m.optim.LBFGS([a])
        opt.add_param_group({"params": [b]})
        with pytest.raises(AssertionError) as error:
            opt.step(lambda: (a * a).sum())
        seen.append(str(error.value))
        x = m.ones(2, requires_grad=True)
        opt = m.optim.LBFGS([x], line_search_fn="armijo")

        def closure() -> Any:
            opt.zero_grad()
            loss = (x * x).sum()
            loss.backward()
            return loss

        with pytest.raises(RuntimeError) as error:
            opt.step(closure)
        seen.append(str(error.value))
        return seen

    assert messages(lucid) == messages(torch)
    assert "LBFGS doesn't support per-parameter options" in messages(lucid)[0]


def test_lbfgs_step_returns_first_loss_runs_hooks_and_defaults() -> None:
    x = lucid.tensor([3.0, -1.0], dtype="float64", requires_grad=True)
    opt = LBFGS([x], max_iter=10)
    assert opt.param_groups[0]["max_eval"] == 12  # max_iter * 5 // 4, as PyTorch
    calls = []
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(len(args)))
    closure = _lbfgs_closure(lucid, opt, [x], lambda m, p: (p[0] * p[0]).sum())
    loss = opt.step(closure)
    assert isinstance(loss, lucid.Tensor) and loss.item() == 10.0  # before any move
    assert calls == [2]  # once per step, however many closure calls
    np.testing.assert_allclose(x.data, [0.0, 0.0], atol=1e-12)


def test_lbfgs_device(device: str) -> None:
    """On a GPU the same code path gives the CPU's result (to rounding)."""
    inits, loss_fn = _problem("least_squares", np.float32)
    results = []
    for dev in ("cpu", device):
        params = [lucid.tensor(x, device=dev, requires_grad=True) for x in inits]
        opt = LBFGS(params, line_search_fn="strong_wolfe", max_iter=6)
        closure = _lbfgs_closure(lucid, opt, params, loss_fn)
        for _ in range(2):
            opt.step(closure)
        assert all(p.device == dev for p in params)
        results.append([asnumpy(p.data) for p in params])
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


# ---- RMSprop and Adagrad -------------------------------------------------------------------
def _has_grad(i: int, step: int) -> bool:
    """Param 2 never has a gradient; param 1 skips some steps (optimisers must skip them)."""
    return i != 2 and not (i == 1 and step % 4 == 3)


def _first_order_run(m: Any, cls_name: str, problem: Problem, kwargs: dict, steps: int,
                     groups: list[dict] | None = None) -> tuple[list, Any]:
    inits, loss_fn = problem
    params = _params(m, inits)
    spec: Any = params if groups is None else [
        {**g, "params": [params[i] for i in g["params"]]} for g in groups]
    opt = getattr(m.optim, cls_name)(spec, **kwargs)
    record = []
    for step in range(steps):
        opt.zero_grad()
        loss_fn(m, params).backward()
        for i, p in enumerate(params):
            if not _has_grad(i, step):
                p.grad = None
        opt.step()
        record.append([_numpy(p) for p in params])
    return record, opt


RMSPROP_CASES = [
    {},
    {"lr": 1e-3, "alpha": 0.9},
    {"lr": 1e-3, "momentum": 0.9},
    {"lr": 1e-3, "centered": True},
    {"lr": 1e-3, "centered": True, "momentum": 0.5, "weight_decay": 0.1},
    {"lr": 1e-3, "alpha": 0.3, "centered": True},  # lerp weight 0.7: torch's other branch
    {"lr": 1e-3, "eps": 1e-3, "weight_decay": 0.05, "maximize": True},
]
ADAGRAD_CASES = [
    {},
    {"lr": 0.05, "lr_decay": 0.1},
    {"lr": 0.05, "weight_decay": 0.1, "initial_accumulator_value": 0.5},
    {"lr": 0.02, "eps": 1e-4, "maximize": True},
]


def _compare_first_order(cls_name: str, kwargs: dict, groups: list | None = None) -> tuple:
    torch = pytest.importorskip("torch")
    results = []
    for name in ("rosenbrock", "logistic"):
        ours, opt = _first_order_run(lucid, cls_name, _problem(name), kwargs, 20, groups)
        theirs, topt = _first_order_run(torch, cls_name, _problem(name), kwargs, 20, groups)
        for step, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            for x, y in zip(a, b, strict=True):
                np.testing.assert_allclose(x, y, rtol=1e-11, atol=1e-13, err_msg=f"{step}")
        np.testing.assert_array_equal(ours[-1][2], _problem(name)[0][2])  # never a gradient
        results.append((opt, topt))
    return results[-1]


def _assert_same_state_dict(opt: Any, topt: Any) -> None:
    sd, tsd = opt.state_dict(), _to_numpy_tree(topt.state_dict())
    assert sorted(sd["state"]) == sorted(tsd["state"])
    for index, state in sd["state"].items():
        assert sorted(state) == sorted(tsd["state"][index])
        for key, value in state.items():
            np.testing.assert_allclose(value, tsd["state"][index][key], rtol=1e-11,
                                       atol=1e-13)
    for group, tgroup in zip(sd["param_groups"], tsd["param_groups"], strict=True):
        for key, value in group.items():
            assert tgroup[key] == value, key


@pytest.mark.parametrize("kwargs", RMSPROP_CASES, ids=str)
def test_rmsprop_matches_torch(kwargs: dict) -> None:
    _assert_same_state_dict(*_compare_first_order("RMSprop", kwargs))


@pytest.mark.parametrize("kwargs", ADAGRAD_CASES, ids=str)
def test_adagrad_matches_torch(kwargs: dict) -> None:
    opt, topt = _compare_first_order("Adagrad", kwargs)
    _assert_same_state_dict(opt, topt)  # incl. the eager state of the never-updated param
    assert opt.state[opt.param_groups[0]["params"][2]]["step"] == 0


@pytest.mark.parametrize(
    ("cls_name", "kwargs", "groups"),
    [("RMSprop", {"lr": 1e-3},
      [{"params": [0, 2], "momentum": 0.9}, {"params": [1, 3], "centered": True}]),
     ("Adagrad", {"lr": 0.05},
      [{"params": [1, 2], "lr_decay": 0.2}, {"params": [3, 0], "weight_decay": 0.1}])],
    ids=["RMSprop", "Adagrad"],
)
def test_param_groups_match_torch(cls_name: str, kwargs: dict, groups: list) -> None:
    _assert_same_state_dict(*_compare_first_order(cls_name, kwargs, groups))


def test_adagrad_group_initial_accumulator_value() -> None:
    """A group's own initial_accumulator_value fills its parameters' sums (a deliberate
    difference: PyTorch's constructor uses only the argument)."""
    a, b = lucid.zeros(2, requires_grad=True), lucid.zeros(3, requires_grad=True)
    opt = Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 2.0}],
                  initial_accumulator_value=0.5)
    assert opt.state[a]["sum"].tolist() == [0.5] * 2
    assert opt.state[b]["sum"].tolist() == [2.0] * 3
    c = lucid.ones(1, requires_grad=True)
    opt.add_param_group({"params": [c], "initial_accumulator_value": 3.0})
    assert c not in opt.state  # as PyTorch: added later, state on its first gradient
    c.grad = lucid.ones(1)
    opt.step()
    assert opt.state[c]["sum"].tolist() == [4.0] and opt.state[c]["step"] == 1


def test_invalid_arguments_as_torch() -> None:
    torch = pytest.importorskip("torch")
    cases = [("RMSprop", {"lr": -1.0}), ("RMSprop", {"eps": -1.0}),
             ("RMSprop", {"momentum": -0.1}), ("RMSprop", {"weight_decay": -1.0}),
             ("RMSprop", {"alpha": -0.5}), ("Adagrad", {"lr": -1.0}),
             ("Adagrad", {"lr_decay": -1.0}), ("Adagrad", {"weight_decay": -1.0}),
             ("Adagrad", {"initial_accumulator_value": -1.0}), ("Adagrad", {"eps": -1.0})]
    for name, kwargs in cases:
        messages = []
        for m in (lucid, torch):
            with pytest.raises(ValueError) as error:
                getattr(m.optim, name)([m.zeros(1, requires_grad=True)], **kwargs)
            messages.append(str(error.value))
        assert messages[0] == messages[1]


@pytest.mark.parametrize("via", ["memory", "flatten", "npz"])
@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [(RMSprop, {"lr": 1e-3, "momentum": 0.9, "centered": True, "weight_decay": 0.01}),
     (Adagrad, {"lr": 0.05, "lr_decay": 0.1, "initial_accumulator_value": 0.1})],
    ids=["RMSprop", "Adagrad"],
)
def test_resume_is_bit_for_bit(cls: type, kwargs: dict, via: str, tmp_path: Any) -> None:
    inits, loss_fn = _problem("rosenbrock")

    def run(params: list, opt: Any, steps: range) -> None:
        for step in steps:
            opt.zero_grad()
            loss_fn(lucid, params).backward()
            for i, p in enumerate(params):
                if not _has_grad(i, step):
                    p.grad = None
            opt.step()

    reference = _params(lucid, inits)
    run(reference, cls(reference, **kwargs), range(12))
    params = _params(lucid, inits)
    opt = cls(params, **kwargs)
    run(params, opt, range(6))
    saved = [np.array(p.data, copy=True) for p in params]
    sd = opt.state_dict()
    run(params, opt, range(6, 8))  # the saved dict must not follow
    sd = _roundtrip(sd, via, tmp_path)
    new_params = [lucid.tensor(x, requires_grad=True) for x in saved]
    new_opt = cls(new_params, **kwargs)
    new_opt.load_state_dict(sd)
    run(new_params, new_opt, range(6, 12))
    for a, b in zip(new_params, reference, strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def test_float32_updates_in_place_and_keep_dtype() -> None:
    inits, loss_fn = _problem("logistic", np.float32)
    for cls, kwargs in [(RMSprop, {"momentum": 0.9, "centered": True}),
                        (Adagrad, {"initial_accumulator_value": 0.1})]:
        params = _params(lucid, inits)
        arrays = [p.data for p in params]
        opt = cls(params, lr=0.01, **kwargs)
        for _ in range(3):
            opt.zero_grad()
            loss_fn(lucid, params).backward()
            opt.step()
        for p, array in zip(params, arrays, strict=True):
            assert p.data is array and p.dtype == np.float32
            for value in opt.state.get(p, {}).values():
                assert isinstance(value, int) or value.dtype == np.float32


def test_first_order_device(device: str) -> None:
    """On a GPU the same code path gives the CPU's result (to rounding)."""
    inits, loss_fn = _problem("logistic", np.float32)
    results = []
    for dev in ("cpu", device):
        out = []
        for cls, kwargs in [(RMSprop, {"momentum": 0.9, "centered": True}),
                            (Adagrad, {"lr_decay": 0.1, "weight_decay": 0.1})]:
            params = [lucid.tensor(x, device=dev, requires_grad=True) for x in inits]
            opt = cls(params, lr=0.01, **kwargs)
            for _ in range(5):
                opt.zero_grad()
                loss_fn(lucid, params).backward()
                opt.step()
            assert all(p.device == dev for p in params)
            out += [asnumpy(p.data) for p in params]
        results.append(out)
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
