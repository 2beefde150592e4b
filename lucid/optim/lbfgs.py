"""L-BFGS, with PyTorch's algorithm: fixed steps or a strong-Wolfe line search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lucid.autograd import enable_grad, no_grad
from lucid.backend import get_array_module
from lucid.optim.optimizer import Optimizer, ParamsT
from lucid.tensor import Tensor

__all__ = ["LBFGS"]

# Scalars: where PyTorch's LBFGS holds a 0-d tensor (a dot product, a norm, a step length
# derived from them) this port holds a numpy scalar of the parameters' dtype, and where PyTorch
# holds a Python number, a Python number. numpy 2's promotion (NEP 50: Python numbers are
# "weak") is PyTorch's for 0-d tensors, so every comparison and every piece of step-length
# arithmetic runs in the same precision as PyTorch's (float32 stays float32).


def _scalar(value: Any) -> Any:
    """A reduction's result as a host numpy scalar of its dtype (CuPy gives a 0-d array)."""
    if isinstance(value, np.generic):
        return value
    return value.dtype.type(value.item())


def _live_scalar(value: Any) -> Any:
    """A scalar read back from a loaded state dict (a 0-d array) as the step uses it."""
    if value is None or isinstance(value, (int, float, np.generic)):
        return value
    return _scalar(value.reshape(()))


def _dot(a: Any, b: Any) -> Any:
    return _scalar(get_array_module(a).dot(a, b))


def _abs_max(a: Any) -> Any:
    return _scalar(get_array_module(a).abs(a).max())


def _cubic_interpolate(
    x1: Any, f1: Any, g1: Any, x2: Any, f2: Any, g2: Any,
    bounds: tuple[Any, Any] | None = None,
) -> Any:
    """The minimiser of the cubic through two points with values and slopes, clamped to
    ``bounds`` (default: the interval between the points); the middle when it has none.

    Ported from PyTorch (which ported ``polyinterp.lua`` of torch/optim).
    """
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    # most common case: cubic interpolation of 2 points with values and derivatives
    #   d1 = g1 + g2 - 3*(f1-f2)/(x1-x2);  d2 = sqrt(d1^2 - g1*g2);
    #   min_pos = x2 - (x2 - x1)*((g2 + d2 - d1)/(g2 - g1 + 2*d2));
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # as torch: no warning
        d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        d2_square = d1**2 - g1 * g2
        if d2_square >= 0:
            d2 = np.sqrt(d2_square)
            if x1 <= x2:
                min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
            else:
                min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
            return min(max(min_pos, xmin_bound), xmax_bound)
        return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(
    obj_func: Callable[[list[Any], Any, Any], tuple[float, Any]],
    x: list[Any],
    t: Any,
    d: Any,
    f: float,
    g: Any,
    gtd: Any,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, Any, Any, int]:
    """A line search along ``d`` from ``x`` for a step meeting the strong Wolfe conditions.

    ``obj_func(x, t, d)`` gives the loss and the flat gradient at ``x + t d``. Returns the
    loss, the flat gradient and the step at the point found, and the evaluations used.
    Ported from PyTorch (which ported ``lswolfe.lua`` of torch/optim), branch for branch.
    """
    d_norm = _abs_max(d)
    g = g.copy()
    # evaluate objective and gradient using initial step
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = _dot(g_new, d)

    # bracket an interval containing a point satisfying the Wolfe criteria
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        # check conditions
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket = [t_prev, t]
            bracket_f = [f_prev, f_new]
            bracket_g = [g_prev, g_new.copy()]
            bracket_gtd = [gtd_prev, gtd_new]
            break

        if abs(gtd_new) <= -c2 * gtd:
            bracket = [t]
            bracket_f = [f_new]
            bracket_g = [g_new]
            done = True
            break

        if gtd_new >= 0:
            bracket = [t_prev, t]
            bracket_f = [f_prev, f_new]
            bracket_g = [g_prev, g_new.copy()]
            bracket_gtd = [gtd_prev, gtd_new]
            break

        # interpolate
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(
            t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step)
        )

        # next step
        t_prev = tmp
        f_prev = f_new
        g_prev = g_new.copy()
        gtd_prev = gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1

    # reached max number of iterations?
    if ls_iter == max_ls:
        bracket = [0, t]
        bracket_f = [f, f_new]
        bracket_g = [g, g_new]

    # zoom phase: we now have a point satisfying the criteria, or a bracket around it;
    # refine the bracket until we find the exact point satisfying the criteria
    insuf_progress = False
    # find high and low points in bracket
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        # line-search bracket is so small
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break

        # compute new trial value
        t = _cubic_interpolate(
            bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]
        )

        # test that we are making sufficient progress: when t is so close to the boundary,
        # mark insufficient progress, and if we made insufficient progress in the last step
        # too or t is at a boundary, move t to 0.1 * len(bracket) from the nearest boundary
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            # interpolation close to boundary
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                # evaluate at 0.1 away from boundary
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        # evaluate new point
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # Armijo condition not satisfied or not lower than lowest point
            bracket[high_pos] = t
            bracket_f[high_pos] = f_new
            bracket_g[high_pos] = g_new.copy()
            bracket_gtd[high_pos] = gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                # Wolfe conditions satisfied
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # old high becomes new low
                bracket[high_pos] = bracket[low_pos]
                bracket_f[high_pos] = bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]

            # new point becomes new low
            bracket[low_pos] = t
            bracket_f[low_pos] = f_new
            bracket_g[low_pos] = g_new.copy()
            bracket_gtd[low_pos] = gtd_new

    # return stuff
    t = bracket[low_pos]
    f_new = bracket_f[low_pos]
    g_new = bracket_g[low_pos]
    return f_new, g_new, t, ls_func_evals


class LBFGS(Optimizer):
    r"""L-BFGS (limited-memory BFGS), with PyTorch's algorithm step for step.

    Each ``step(closure)`` runs up to ``max_iter`` iterations (and ``max_eval`` evaluations of
    the closure): the two-loop recursion over the last ``history_size`` pairs of parameter and
    gradient changes turns the gradient into a search direction :math:`d`, then the parameters
    move by :math:`t d`, with :math:`t` = ``lr`` (on the very first iteration
    :math:`\min(1, 1 / \lVert g \rVert_1)\,` ``lr``), or, with ``line_search_fn="strong_wolfe"``,
    the step a bracketing and cubic-interpolation line search finds that meets the strong Wolfe
    conditions (:math:`c_1 = 10^{-4}`, :math:`c_2 = 0.9`). A step ends early when the largest
    gradient entry is at most ``tolerance_grad``, or the step, the directional derivative or
    the change of the loss falls below ``tolerance_change``.

    The closure re-evaluates the model: it zeroes the gradients, computes the loss, calls
    ``backward`` and returns the loss (it runs with gradients enabled; ``step`` returns its
    first result). This is the optimiser of Gatys-style neural style transfer, where the
    whole optimisation is one ``step`` call or a few.

    The state is global, kept (as PyTorch's) in ``state[p]`` of the first parameter:
    ``func_evals`` and ``n_iter`` (counts over all steps), the last direction ``d`` and step
    ``t``, the history ``old_dirs`` (gradient changes), ``old_stps`` (parameter changes) and
    ``ro`` (their inverse inner products), ``H_diag`` (the initial inverse-Hessian scale),
    ``prev_flat_grad`` and ``prev_loss``, and the scratch list ``al``. ``state_dict`` saves all
    of it (lists of arrays included) and ``load_state_dict`` restores it, so a resumed
    optimisation continues exactly as an uninterrupted one.

    Args:
        params: the parameters (one group only: LBFGS has no per-parameter options).
        lr: the step length's scale (default 1).
        max_iter: iterations per ``step`` (default 20).
        max_eval: closure evaluations per ``step`` (default ``max_iter * 5 // 4``).
        tolerance_grad: stop when the gradient's largest absolute entry is at most this.
        tolerance_change: stop when the step, the directional derivative or the loss's change
            is below this.
        history_size: how many update pairs to remember (default 100).
        line_search_fn: None (fixed steps) or ``"strong_wolfe"``.

    Differences from PyTorch: all parameters must be real and on one device (PyTorch takes
    complex ones as pairs of reals), and ``lr`` is a number. The algorithm's scalars (dot
    products, step lengths) are host numpy scalars of the parameters' dtype where PyTorch has
    0-d tensors, with the same type promotion, so a float32 run compares and interpolates in
    float32 as PyTorch's does. Rounding is not PyTorch's bit for bit: numpy's dot products sum
    in another order, its square root is correctly rounded (PyTorch's CPU one is not always),
    and ``p + t * d`` rounds twice where PyTorch's CPU kernel fuses it; in float64 the
    trajectories agree to about 1e-12 (less on ill-conditioned problems, where the line
    search's comparisons amplify the last bits, as any two implementations' would).

    Example:
        >>> import lucid
        >>> from lucid.optim import LBFGS
        >>> x = lucid.tensor([-1.5, 2.0], dtype="float64", requires_grad=True)
        >>> opt = LBFGS([x], line_search_fn="strong_wolfe")
        >>> def closure():
        ...     opt.zero_grad()
        ...     a, b = x[0], x[1]
        ...     loss = (1 - a) ** 2 + 100 * (b - a * a) ** 2  # Rosenbrock
        ...     loss.backward()
        ...     return loss
        >>> for _ in range(3):
        ...     loss = opt.step(closure)
        >>> [round(v, 4) for v in x.tolist()]
        [1.0, 1.0]
        >>> opt.state[x]["n_iter"] <= 60
        True
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params: list[Tensor] = self.param_groups[0]["params"]
        self._numel_cache: int | None = None

    # ---- flat views of the parameters and gradients ----------------------------------------
    def _numel(self) -> int:
        if self._numel_cache is None:
            self._numel_cache = sum(p.numel() for p in self._params)
        return self._numel_cache

    def _gather_flat_grad(self) -> Any:
        """All gradients as one new 1-d array (zeros for a parameter without a gradient)."""
        xp = get_array_module(self._params[0].data)
        views = []
        for p in self._params:
            if p.grad is None:
                views.append(xp.zeros(p.numel(), dtype=p.dtype))
            else:
                views.append(p.grad.data.reshape(-1))
        return xp.concatenate(views, 0)

    def _add_grad(self, step_size: Any, update: Any) -> None:
        """``p += step_size * update`` for the slice of the flat ``update`` that is ``p``'s."""
        offset = 0
        for p in self._params:
            numel = p.numel()
            # the array on the left: a CuPy array times a numpy scalar stays on the GPU
            p.data += update[offset : offset + numel].reshape(p.shape) * step_size
            p._bump_version()  # written in place: a graph from before refuses the old values
            offset += numel
        if offset != self._numel():
            raise AssertionError(f"Expected offset {offset} to equal {self._numel()}")

    def _clone_param(self) -> list[Any]:
        return [p.data.copy() for p in self._params]

    def _set_param(self, params_data: list[Any]) -> None:
        for p, pdata in zip(self._params, params_data, strict=True):
            p.data[...] = pdata
            p._bump_version()

    def _directional_evaluate(
        self, closure: Callable[[], Any], x: list[Any], t: Any, d: Any
    ) -> tuple[float, Any]:
        """Loss and flat gradient at ``x + t d``; the parameters are ``x`` again after."""
        self._add_grad(t, d)
        with enable_grad():
            loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # ---- the step ---------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Run up to ``max_iter`` L-BFGS iterations; return the closure's first loss.

        Args:
            closure: re-evaluates the model: zeroes the gradients, computes the loss, calls
                ``backward`` and returns the loss. Required (called at least once).
        """
        if len(self.param_groups) != 1:
            raise AssertionError(
                f"Expected exactly one param_group, but got {len(self.param_groups)}"
            )
        with no_grad():
            return self._step(closure)

    def _step(self, closure: Callable[[], Any]) -> Any:
        group = self.param_groups[0]
        lr = group["lr"]
        if not isinstance(lr, (int, float)):
            lr = float(lr)  # a 1-element tensor, as PyTorch's _to_scalar
        max_iter = group["max_iter"]
        max_eval = group["max_eval"]
        tolerance_grad = group["tolerance_grad"]
        tolerance_change = group["tolerance_change"]
        line_search_fn = group["line_search_fn"]
        history_size = group["history_size"]

        # LBFGS has only global state; it is registered as the first parameter's (as PyTorch's:
        # load_state_dict then moves and casts its arrays as that parameter's)
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        # evaluate initial f(x) and df/dx
        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1

        flat_grad = self._gather_flat_grad()
        opt_cond = _abs_max(flat_grad) <= tolerance_grad

        # optimal condition
        if opt_cond:
            return orig_loss

        # state carried over from the last step (scalars from a loaded state dict come back
        # as 0-d arrays: made host scalars again)
        d = state.get("d")
        t = _live_scalar(state.get("t"))
        old_dirs = state.get("old_dirs")
        old_stps = state.get("old_stps")
        ro = state.get("ro")
        if ro is not None:
            ro = [_live_scalar(r) for r in ro]
        H_diag = _live_scalar(state.get("H_diag"))
        prev_flat_grad = state.get("prev_flat_grad")
        prev_loss = state.get("prev_loss")
        if "al" in state:
            state["al"] = [_live_scalar(a) for a in state["al"]]

        n_iter = 0
        # optimize for a max of max_iter iterations
        while n_iter < max_iter:
            # keep track of nb of iterations
            n_iter += 1
            state["n_iter"] += 1

            # ---- compute gradient descent direction
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs = []
                old_stps = []
                ro = []
                H_diag = 1
            else:
                # do lbfgs update (update memory)
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = _dot(y, s)  # y*s
                if ys > 1e-10:
                    # updating memory
                    if len(old_dirs) == history_size:
                        # shift history by one (limited-memory)
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)

                    # store new direction/step
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)

                    # update scale of initial Hessian approximation
                    H_diag = ys / _dot(y, y)  # (y*y)

                # compute the approximate (L-BFGS) inverse Hessian multiplied by the gradient
                num_old = len(old_dirs)

                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]

                # iteration in L-BFGS loop collapsed to use just one buffer
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = _dot(old_stps[i], q) * ro[i]
                    q += old_dirs[i] * -al[i]

                # multiply by initial Hessian; r/d is the final direction
                d = r = q * H_diag
                for i in range(num_old):
                    be_i = _dot(old_dirs[i], r) * ro[i]
                    r += old_stps[i] * (al[i] - be_i)

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss

            # ---- compute step length
            # reset initial guess for step size
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / _scalar(get_array_module(flat_grad).abs(flat_grad).sum())) * lr
            else:
                t = lr

            # directional derivative
            gtd = _dot(flat_grad, d)  # g * d

            # directional derivative is below tolerance
            if gtd > -tolerance_change:
                break

            # optional line search: user function
            ls_func_evals = 0
            if line_search_fn is not None:
                # perform line search, using user function
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = self._clone_param()

                def obj_func(x: list[Any], t: Any, d: Any) -> tuple[float, Any]:
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals
                )
                self._add_grad(t, d)
                opt_cond = _abs_max(flat_grad) <= tolerance_grad
            else:
                # no line search, simply move with fixed-step
                self._add_grad(t, d)
                if n_iter != max_iter:
                    # re-evaluate function only if not in last iteration: in a stochastic
                    # setting there is no use re-evaluating the function here
                    with enable_grad():
                        loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = _abs_max(flat_grad) <= tolerance_grad
                    ls_func_evals = 1

            # update func eval
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # ---- check conditions
            if n_iter == max_iter:
                break

            if current_evals >= max_eval:
                break

            # optimal condition
            if opt_cond:
                break

            # lack of progress
            if _abs_max(d * t) <= tolerance_change:
                break

            if abs(loss - prev_loss) < tolerance_change:
                break

        state["d"] = d
        state["t"] = t
        state["old_dirs"] = old_dirs
        state["old_stps"] = old_stps
        state["ro"] = ro
        state["H_diag"] = H_diag
        state["prev_flat_grad"] = prev_flat_grad
        state["prev_loss"] = prev_loss

        return orig_loss
