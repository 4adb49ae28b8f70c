"""Scaling laws: power-law fits with honest uncertainty, and the compute a training step costs.

Read top to bottom: input checks and the run bootstrap shared by every fit, the single-axis law
``L = a * x^b + c`` (robust fit, and the log-log OLS line), the joint Chinchilla law
``L(N, D) = E + A / N^alpha + B / D^beta`` with its compute-optimal allocation, then FLOP
accounting for the LSM model.

Vocabulary: ``x`` the scaled quantity of a single-axis law (compute, hours, parameters), ``N``
parameters, ``D`` data, ``C`` compute in FLOPs, ``L`` loss. A *run* is one training run; every
point (x, L) belongs to one, and several points can come from the same run (checkpoints along it,
or several evaluations of it).

Decisions, written down (see LSM_REFERENCE.md, "Scaling laws"):

- Every fit works in log space, ``log L_pred - log L_obs``, so that a 1% miss counts the same at
  every loss level, and with a Huber loss (default ``delta = 1e-3``, Chinchilla's) so that a few
  diverged or unlucky runs do not drag the curve. Non-convex fits start from a grid of initial
  values and keep the best optimum.
- Uncertainty comes from bootstrapping *runs*, not points: a run's points share its seed, data
  order and schedule, so their errors are correlated and resampling them one by one treats them
  as independent evidence (the replication of Chinchilla's approach 3 found the original
  intervals far too narrow for this reason). Every fit takes ``groups``, the run id of each
  point; without it every point is its own run.
  Intervals are percentile intervals of the bootstrap replicates; prediction intervals are those
  of the fitted curve (the mean loss), not of a new run's loss.
- Bootstrap replicates are refitted from the few best optima of the full-data fit rather than the
  whole grid: a resample is a small perturbation of the data, and this keeps a 200-replicate
  bootstrap at a second or two.
- Randomness comes only from the ``rng`` argument (a Generator, a seed, or None for a fresh one).
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import optimize, stats

__all__ = ["PowerLawFit", "fit_power_law", "fit_power_law_ols", "ChinchillaFit", "fit_chinchilla",
           "chinchilla_grid", "Allocation", "compute_optimal", "bootstrap_indices", "forward_flops",
           "training_flops"]

#: Parameters of the single-axis law by ``floor``: L = a * x^b + c (True) or L = a * x^b (False).
SINGLE_PARAMETERS: dict[bool, tuple[str, ...]] = {True: ("a", "b", "c"), False: ("a", "b")}
CHINCHILLA_PARAMETERS = ("E", "A", "B", "alpha", "beta")
HUBER_DELTA = 1e-3


# ---- input checks and the run bootstrap -------------------------------------------------------
def _as_numbers(name: str, values) -> np.ndarray:
    """``values`` as a float array, or an error naming ``name`` and the first entry that is not a
    number (a stray word in a numeric column of a CSV, a missing ``pd.NA``, a date)."""
    if values is None:
        raise TypeError(f"{name} must be an array of numbers, got None")
    raw = np.asarray(values)
    if raw.dtype.kind in "bcmM":  # booleans, complex numbers, datetimes: numbers only by accident
        raise TypeError(f"{name} must hold real numbers, got {raw.dtype} values")
    try:
        return raw.astype(float)
    except (TypeError, ValueError):
        pass
    for i, value in enumerate(raw.ravel()):
        try:
            float(value)
        except (TypeError, ValueError):
            value = value.item() if isinstance(value, np.generic) else value  # 'a', not np.str_('a')
            error = ValueError if isinstance(value, str) else TypeError
            raise error(f"{name} must hold numbers; got {value!r} at index {i}") from None
    raise TypeError(f"{name} must hold numbers, got {raw.dtype} values")


def _positive_finite(name: str, values) -> np.ndarray:
    """``values`` as a 1-D float array, or a ValueError naming the first bad entry."""
    array = np.atleast_1d(_as_numbers(name, values))
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise ValueError(f"{name} must be finite; got {array[bad[0]]} at index {bad[0]}")
    bad = np.flatnonzero(array <= 0)
    if bad.size:
        raise ValueError(f"{name} must be positive (power laws are fitted in log space); "
                         f"got {array[bad[0]]} at index {bad[0]}")
    return array


def _same_length(**arrays) -> int:
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError("inputs must have the same length, got "
                         + ", ".join(f"{name}: {n}" for name, n in lengths.items()))
    return next(iter(lengths.values()))


def _enough_points(n_points: int, names: tuple[str, ...], what: str) -> None:
    if n_points < len(names):
        raise ValueError(f"{what} has {len(names)} parameters ({', '.join(names)}) but only {n_points} "
                         f"point{' was' if n_points == 1 else 's were'} given")


def _enough_distinct(name: str, values: np.ndarray, needed: int, what: str) -> None:
    """Refuse a law that the data cannot pin down: a curve with ``needed`` free parameters along
    ``name`` (its exponent, prefactor and the intercept it shares) through fewer distinct values
    of ``name`` has a whole family of exact optima, and the optimiser would return any one of them."""
    distinct = len(np.unique(values))
    if distinct < needed:
        raise ValueError(f"{what} needs at least {needed} distinct values of {name}, got {distinct} "
                         f"({', '.join(f'{v:g}' for v in np.unique(values)[:5])}): its parameters are not "
                         "determined by the data")


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _is_whole(value) -> bool:
    """A whole number (an int, or a float such as 3.0); not a bool, NaN, inf or a string."""
    return _is_real(value) and math.isfinite(value) and int(value) == value


def _check_level(level: float) -> None:
    if not (_is_real(level) and 0 < level < 1):
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")


def _check_fit_options(delta: float, refit_starts: int) -> None:
    if not (_is_real(delta) and 0 < delta < np.inf):
        raise ValueError(f"delta (the Huber threshold on log residuals) must be a positive number, got {delta!r}")
    if not (_is_whole(refit_starts) and refit_starts >= 1):
        raise ValueError(f"refit_starts must be a positive integer, got {refit_starts!r}")


def _check_bootstrap(n_boot: int, level: float) -> None:
    if not _is_whole(n_boot) or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    _check_level(level)


def _run_members(groups, n_points: int) -> list[np.ndarray]:
    """The point indices of each run; without ``groups`` every point is its own run."""
    if groups is None:
        return [np.array([i]) for i in range(n_points)]
    groups = np.asarray(groups)
    if groups.ndim != 1 or len(groups) != n_points:
        raise ValueError(f"groups must give one run id per point: expected {n_points}, got shape {groups.shape}")
    if pd.isna(groups).any():
        raise ValueError("groups (run ids) must not be missing (NaN/None)")
    _, codes = np.unique(groups, return_inverse=True)
    return [np.flatnonzero(codes == k) for k in range(codes.max() + 1)]


def _sorted_runs(groups, n_points: int, order: np.ndarray) -> list[np.ndarray]:
    """The run members once the points are taken in ``order``. Runs keep the order of their ids
    (without ``groups``, the one-point runs follow the sorted points), so that the same runs get
    the same bootstrap draws however the input was ordered."""
    if groups is None:
        return [np.array([i]) for i in range(n_points)]
    position = np.empty(n_points, dtype=np.int64)
    position[order] = np.arange(n_points)  # original index -> index in the sorted points
    return [np.sort(position[m]) for m in _run_members(groups, n_points)]


def _draw_runs(members: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """One bootstrap resample: as many runs as there are, drawn with replacement, each with all its points."""
    chosen = rng.integers(0, len(members), size=len(members))
    return np.concatenate([members[k] for k in chosen])


def bootstrap_indices(groups, rng=None) -> np.ndarray:
    """Point indices of one bootstrap resample over runs.

    Parameters
    ----------
    groups : array-like
        One run id per point (any hashable, sortable values).
    rng : numpy.random.Generator, int or None
        Source of randomness.

    Returns
    -------
    numpy.ndarray
        Indices into the points: every drawn run contributes all of its points, once per draw.
    """
    if groups is None or np.ndim(groups) != 1 or len(groups) == 0:
        raise ValueError(f"groups must be a non-empty sequence of run ids, got {groups!r}")
    groups = np.asarray(groups)
    return _draw_runs(_run_members(groups, len(groups)), np.random.default_rng(rng))


def _bootstrap(fit_one, members: list[np.ndarray], n_boot: int, rng, n_params: int) -> np.ndarray:
    """Stack ``fit_one(indices)`` over ``n_boot`` run resamples: (n_boot, n_params)."""
    if n_boot and len(members) < 2:
        raise ValueError(f"bootstrapping over runs needs at least 2 runs, got {len(members)}; pass n_boot=0 "
                         "for a fit without intervals")
    rng = np.random.default_rng(rng)
    return np.array([fit_one(_draw_runs(members, rng)) for _ in range(n_boot)]).reshape(n_boot, n_params)


def _percentiles(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval along the first axis; NaN when there are no draws, or where every draw
    is NaN (e.g. the compute-optimal exponents of replicates whose exponents are both 0)."""
    if len(draws) == 0:
        nan = np.full(draws.shape[1:], np.nan)
        return nan, nan
    tail = (1 - level) / 2
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All-NaN slice encountered", RuntimeWarning)
        return np.nanquantile(draws, tail, axis=0), np.nanquantile(draws, 1 - tail, axis=0)


def _interval_table(estimates: dict[str, float], intervals: dict[str, tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"parameter": k, "estimate": v, "lower": intervals[k][0], "upper": intervals[k][1]}
                         for k, v in estimates.items()])


def _format_rows(table: pd.DataFrame) -> str:
    width = max(len(p) for p in table["parameter"])
    return "\n".join(f"  {r.parameter:<{width}} = {r.estimate:.4g}  [{r.lower:.4g}, {r.upper:.4g}]"
                     for r in table.itertuples())


# ---- single-axis law: L = a * x^b (+ c) -------------------------------------------------------
@dataclass(frozen=True)
class PowerLawFit:
    """A fitted single-axis power law ``L = a * x^b + c`` (``floor=True``) or ``L = a * x^b``.

    Made by :func:`fit_power_law` and :func:`fit_power_law_ols`; the fields are also its attributes.

    Parameters
    ----------
    floor : bool
        Whether the law has the irreducible floor ``c``.
    params : dict
        Estimates by name (``a``, ``b`` and, with a floor, ``c``).
    intervals : dict
        ``(lower, upper)`` at ``level`` for each parameter (NaN without bootstrap).
    level : float
        Coverage of the intervals.
    n_points, n_runs : int
        Data the fit saw.
    method : str
        ``"huber"`` (robust fit, bootstrap over runs) or ``"ols"`` (log-log OLS, t intervals;
        cluster-robust by run when ``groups`` were given).
    draws : numpy.ndarray, optional
        Bootstrap replicates of the parameters, (n_boot, n_params).
    covariance : numpy.ndarray, optional
        OLS covariance of (log a, b).
    t_crit : float, optional
        OLS critical value at ``level``.
    """

    floor: bool
    params: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    level: float
    n_points: int
    n_runs: int
    method: str
    draws: np.ndarray | None = field(default=None, repr=False, compare=False)  # (n_boot, n_params) bootstrap
    covariance: np.ndarray | None = field(default=None, repr=False, compare=False)  # OLS cov of (log a, b)
    t_crit: float = field(default=np.nan, repr=False, compare=False)  # OLS critical value at level

    def to_frame(self) -> pd.DataFrame:
        """Tidy table with columns parameter, estimate, lower, upper."""
        return _interval_table(self.params, self.intervals)

    def predict(self, x) -> pd.DataFrame:
        """Fitted loss at ``x``, with its interval at ``level``.

        Parameters
        ----------
        x : array-like
            Where to evaluate the law, positive and finite.

        Returns
        -------
        pandas.DataFrame
            Columns x, estimate (the central value), lower and upper (the interval; NaN without
            bootstrap).
        """
        x = _positive_finite("x", x)
        estimate = _power_law(np.log(x), np.array([self.params[k] for k in SINGLE_PARAMETERS[self.floor]]))
        if self.method == "ols":
            design = np.column_stack([np.ones_like(x), np.log(x)])  # (n, 2): log L = log a + b log x
            se = np.sqrt(np.einsum("ij,jk,ik->i", design, self.covariance, design))
            lower, upper = estimate * np.exp(-self.t_crit * se), estimate * np.exp(self.t_crit * se)
        else:
            curves = np.array([_power_law(np.log(x), d) for d in self.draws]).reshape(len(self.draws), len(x))
            lower, upper = _percentiles(curves, self.level)
        return pd.DataFrame({"x": x, "estimate": estimate, "lower": lower, "upper": upper})

    def __repr__(self) -> str:
        law = "a * x^b + c" if self.floor else "a * x^b"
        how = {"huber": f"{self.level:.0%} intervals, bootstrap over runs",
               "ols": f"{self.level:.0%} intervals, OLS t"}[self.method]
        if self.method == "huber" and len(self.draws) == 0:
            how = "no intervals (n_boot=0)"
        return (f"PowerLawFit(L = {law}; {self.n_runs} runs, {self.n_points} points; {how})\n"
                f"{_format_rows(self.to_frame())}")


def _power_law(log_x: np.ndarray, params: np.ndarray) -> np.ndarray:
    """L = a * x^b (+ c) from natural parameters (a, b[, c])."""
    a, b = params[0], params[1]
    c = params[2] if len(params) > 2 else 0.0
    return a * np.exp(b * log_x) + c


def _single_residuals(theta, log_x, log_loss, floor: bool):
    """log L_pred - log L_obs and its Jacobian, for theta = (log a, b[, c])."""
    power = theta[0] + theta[1] * log_x  # log(a x^b)
    if floor:
        with np.errstate(divide="ignore"):  # c = 0 is a legal floor: log 0 = -inf drops out of logaddexp
            log_pred = np.logaddexp(power, np.log(theta[2]))
    else:
        log_pred = power
    share = np.exp(power - log_pred)  # d log_pred / d log a: the power term's share of the prediction
    # d log_pred / d c = 1 / pred, capped where a line search strays to absurd predictions (< 1e-130)
    jac = [share, share * log_x] + ([np.exp(np.minimum(-log_pred, 300.0))] if floor else [])
    return log_pred - log_loss, np.column_stack(jac)


def _single_starts(log_x, log_loss, floor: bool) -> list[np.ndarray]:
    """Initial values: a grid over the exponent and the floor, log a then solved in closed form."""
    floors = np.min(np.exp(log_loss)) * np.array([0.0, 0.5, 0.9]) if floor else [0.0]
    starts = []
    for c in floors:
        log_reducible = np.log(np.exp(log_loss) - c)  # positive: c is below the smallest loss
        for b in (-0.05, -0.1, -0.2, -0.4, -0.8, -1.5):
            log_a = np.mean(log_reducible - b * log_x)  # least squares given b and c
            starts.append(np.array([log_a, b, c] if floor else [log_a, b]))
    return starts


def _huber(residual: np.ndarray, delta: float) -> tuple[float, np.ndarray]:
    """Huber loss summed over points and its derivative per point, both divided by delta^2.

    The scaling does not move the optimum; it lifts the objective well above 1 so that L-BFGS-B's
    relative stopping rule does not stop at the first step (an unscaled sum with delta = 1e-3 is ~1e-4).
    """
    size = np.abs(residual)
    value = np.where(size <= delta, 0.5 * residual**2, delta * (size - 0.5 * delta)).sum()
    return value / delta**2, np.clip(residual, -delta, delta) / delta**2


def _single_objective(theta, log_x, log_loss, floor: bool, delta: float):
    residual, jacobian = _single_residuals(theta, log_x, log_loss, floor)
    value, psi = _huber(residual, delta)
    return value, psi @ jacobian


def _minimise_from(objective, starts, args: tuple, bounds) -> list[tuple[float, np.ndarray]]:
    """L-BFGS-B from every start (``objective`` returns value and gradient): (objective, theta)
    pairs, best first."""
    results = []
    for start in starts:
        solution = optimize.minimize(objective, start, args=args, jac=True, method="L-BFGS-B", bounds=bounds,
                                     options={"maxiter": 2000, "ftol": 1e-12, "gtol": 1e-9})
        results.append((float(solution.fun), solution.x))
    return sorted(results, key=lambda r: r[0])


def _fit_single(log_x, log_loss, floor: bool, delta: float, starts) -> list[tuple[float, np.ndarray]]:
    """Robust fits (L-BFGS-B on the Huber loss) from every start: (objective, theta) pairs, best first."""
    bounds = [(None, None), (None, 0.0)] + ([(0.0, None)] if floor else [])  # b <= 0, c >= 0
    return _minimise_from(_single_objective, starts, (log_x, log_loss, floor, delta), bounds)


def _best_distinct(results: list[tuple[float, np.ndarray]], k: int) -> list[np.ndarray]:
    """The ``k`` best optima that differ from each other: starts for the bootstrap refits."""
    chosen = []
    for _, theta in results:
        if all(not np.allclose(theta, c, rtol=1e-3, atol=1e-6) for c in chosen):
            chosen.append(theta)
        if len(chosen) == k:
            break
    return chosen


def _natural_single(theta: np.ndarray) -> np.ndarray:
    """(log a, b[, c]) -> (a, b[, c])."""
    return np.concatenate([[np.exp(theta[0])], theta[1:]])


def fit_power_law(x, y, floor: bool = True, groups=None, n_boot: int = 200, *, level: float = 0.95, rng=None,
                  delta: float = HUBER_DELTA, refit_starts: int = 3) -> PowerLawFit:
    """Fit ``L = a * x^b + c`` (or ``a * x^b``) robustly in log space, with run-bootstrap intervals.

    Minimises the Huber loss of ``log L_pred - log L_obs`` (L-BFGS-B with an analytic gradient,
    the same objective as :func:`fit_chinchilla`; several times faster than
    ``least_squares(loss="huber")`` on this problem, same optima) from a grid of starting points
    and keeps the best fit. Bounds keep ``b <= 0`` and ``c >= 0``. The points are fitted and
    bootstrapped in sorted order, so a shuffled table gives the same fit and intervals (same ``rng``).

    Parameters
    ----------
    x, y : array-like
        The scaled quantity and the loss: positive, finite values, one per point, with at least as
        many distinct ``x`` as the law has parameters (3 with a floor, 2 without).
    floor : bool
        With (``L = a * x^b + c``) or without (``L = a * x^b``) the irreducible floor ``c``.
    groups : array-like, optional
        Run id per point; the bootstrap resamples runs. Default: every point is its own run.
    n_boot : int
        Bootstrap replicates (0: no intervals).
    level : float
        Interval coverage.
    rng : numpy.random.Generator, int or None
        Source of randomness for the bootstrap.
    delta : float
        Huber threshold on log residuals.
    refit_starts : int
        How many of the best full-data optima each bootstrap replicate starts from.

    Returns
    -------
    PowerLawFit
    """
    if not isinstance(floor, (bool, np.bool_)):
        raise ValueError(f"floor must be True (L = a * x^b + c) or False (L = a * x^b), got {floor!r}")
    floor = bool(floor)
    names = SINGLE_PARAMETERS[floor]
    x, y = _positive_finite("x", x), _positive_finite("y", y)
    n = _same_length(x=x, y=y)
    law = "L = a * x^b + c" if floor else "L = a * x^b"
    _enough_points(n, names, law)
    _enough_distinct("x", x, len(names), law)
    _check_bootstrap(n_boot, level)
    _check_fit_options(delta, refit_starts)
    # Sorted by (x, L): when most residuals exceed delta the Huber loss is nearly L1, whose optimum
    # can be a flat ridge, and where L-BFGS-B stops on it depends on the order of the points.
    order = np.lexsort((y, x))
    x, y = x[order], y[order]
    members = _sorted_runs(groups, n, order)
    log_x, log_loss = np.log(x), np.log(y)

    results = _fit_single(log_x, log_loss, floor, delta, _single_starts(log_x, log_loss, floor))
    estimate = _natural_single(results[0][1])
    refit_from = _best_distinct(results, refit_starts)

    def fit_one(index):
        best = _fit_single(log_x[index], log_loss[index], floor, delta, refit_from)[0][1]
        return _natural_single(best)

    draws = _bootstrap(fit_one, members, n_boot, rng, len(names))
    lower, upper = _percentiles(draws, level)
    return PowerLawFit(floor=floor, params=dict(zip(names, map(float, estimate))),
                       intervals={k: (float(lo), float(hi)) for k, lo, hi in zip(names, lower, upper)},
                       level=level, n_points=n, n_runs=len(members), method="huber", draws=draws)


def fit_power_law_ols(x, y, groups=None, *, level: float = 0.95) -> PowerLawFit:
    """The no-floor law ``L = a * x^b`` as an OLS line ``log L = log a + b log x`` (statsmodels).

    Intervals are statsmodels' t intervals, transformed to ``a = exp(log a)``. With ``groups`` the
    covariance is cluster-robust by run (t with runs - 1 degrees of freedom), because points of
    one run are not independent; few runs make even that optimistic, so prefer
    :func:`fit_power_law`'s bootstrap when runs are few.

    Parameters
    ----------
    x, y : array-like
        The scaled quantity and the loss: positive, finite values, one per point; at least 3
        points (2 runs with ``groups``) and 2 distinct ``x``.
    groups : array-like, optional
        Run id per point.
    level : float
        Interval coverage.

    Returns
    -------
    PowerLawFit
        With ``method="ols"``; ``predict`` gives t intervals of the fitted line.
    """
    import statsmodels.api as sm  # imported here: only this fit needs it, and it is slow to import

    x, y = _positive_finite("x", x), _positive_finite("y", y)
    n = _same_length(x=x, y=y)
    _enough_points(n, SINGLE_PARAMETERS[False], "L = a * x^b")
    _enough_distinct("x", x, 2, "L = a * x^b")
    _check_level(level)
    members = _run_members(groups, n)
    dof = n - 2 if groups is None else len(members) - 1  # t degrees of freedom: points - 2, or runs - 1
    if not dof > 0:  # checked first: statsmodels divides by runs - 1 when clustering
        raise ValueError(f"OLS intervals need more points (or runs) than parameters; got {n} points, "
                         f"{len(members)} runs")
    design = sm.add_constant(np.log(x), has_constant="add")  # (n, 2): columns 1, log x
    model = sm.OLS(np.log(y), design)
    if groups is None:
        result = model.fit()
    else:
        codes = np.empty(n, dtype=int)
        for k, index in enumerate(members):
            codes[index] = k
        result = model.fit(cov_type="cluster", cov_kwds={"groups": codes}, use_t=True)
    (lo_log_a, lo_b), (hi_log_a, hi_b) = np.asarray(result.conf_int(alpha=1 - level)).T
    log_a, b = np.asarray(result.params)
    return PowerLawFit(floor=False, params={"a": float(np.exp(log_a)), "b": float(b)},
                       intervals={"a": (float(np.exp(lo_log_a)), float(np.exp(hi_log_a))),
                                  "b": (float(lo_b), float(hi_b))},
                       level=level, n_points=n, n_runs=len(members), method="ols",
                       covariance=np.asarray(result.cov_params()), t_crit=float(stats.t.ppf(0.5 + level / 2, dof)))


# ---- joint law: L(N, D) = E + A / N^alpha + B / D^beta ----------------------------------------
@dataclass(frozen=True)
class Allocation:
    """Compute-optimal model and data size under ``C = 6 N D``.

    ``n_opt = G (C/6)^n_exponent`` and ``d_opt = G^-1 (C/6)^d_exponent`` with
    ``G = (alpha A / (beta B))^(1/(alpha+beta))``, ``n_exponent = beta/(alpha+beta)`` and
    ``d_exponent = alpha/(alpha+beta)``. Made by :func:`compute_optimal`; the fields are also its
    attributes.

    Parameters
    ----------
    compute : numpy.ndarray
        Training compute C in FLOPs.
    n_opt : numpy.ndarray
        Compute-optimal parameter count N at each C.
    d_opt : numpy.ndarray
        Compute-optimal data size D at each C.
    n_exponent : float
        ``beta/(alpha+beta)``.
    d_exponent : float
        ``alpha/(alpha+beta)``.
    g : float
        ``G``.
    """

    compute: np.ndarray
    n_opt: np.ndarray
    d_opt: np.ndarray
    n_exponent: float
    d_exponent: float
    g: float


def compute_optimal(flops, *, A: float, B: float, alpha: float, beta: float) -> Allocation:
    """The compute-optimal allocation of the Chinchilla law (minimise L(N, D) subject to 6 N D = C).

    Parameters
    ----------
    flops : array-like
        Training compute C in FLOPs, positive.
    A, B, alpha, beta : float
        Parameters of ``L(N, D) = E + A / N^alpha + B / D^beta`` (E does not matter here).

    Returns
    -------
    Allocation
        N_opt and D_opt at each budget.

    Raises
    ------
    ValueError
        If ``flops`` or one of ``A``, ``B``, ``alpha``, ``beta`` is not positive and finite.
    """
    compute = _positive_finite("flops", flops)
    for name, value in {"A": A, "B": B, "alpha": alpha, "beta": beta}.items():
        if not (_is_real(value) and np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be positive and finite, got {value!r}")
    total = alpha + beta
    log_g = (math.log(alpha) + math.log(A) - math.log(beta) - math.log(B)) / total  # log space: A, B can be huge
    log_c6 = np.log(compute / 6)
    n_exponent, d_exponent = beta / total, alpha / total
    return Allocation(compute=compute, n_opt=np.exp(log_g + n_exponent * log_c6),
                      d_opt=np.exp(-log_g + d_exponent * log_c6), n_exponent=n_exponent, d_exponent=d_exponent,
                      g=math.exp(log_g))


@dataclass(frozen=True)
class ChinchillaFit:
    """A fitted ``L(N, D) = E + A / N^alpha + B / D^beta`` (Chinchilla's approach 3).

    Made by :func:`fit_chinchilla`; the fields are also its attributes.

    Parameters
    ----------
    params : dict
        Estimates of E, A, B, alpha, beta.
    intervals : dict
        ``(lower, upper)`` at ``level`` for the parameters and the compute-optimal exponents
        ``N_opt_exponent = beta/(alpha+beta)`` and ``D_opt_exponent = alpha/(alpha+beta)``.
    level : float
        Coverage of the intervals.
    n_points, n_runs : int
        Data the fit saw.
    delta : float
        Huber threshold used.
    draws : numpy.ndarray
        Bootstrap replicates (n_boot, 5) of E, A, B, alpha, beta.
    """

    params: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    level: float
    n_points: int
    n_runs: int
    delta: float
    draws: np.ndarray = field(repr=False, compare=False)  # (n_boot, 5): E, A, B, alpha, beta

    @property
    def exponents(self) -> dict[str, float]:
        """Compute-optimal exponents: N_opt ~ C^N_opt_exponent, D_opt ~ C^D_opt_exponent."""
        alpha, beta = self.params["alpha"], self.params["beta"]
        if not alpha + beta > 0:  # both terms flat: loss does not fall with N or D, no allocation
            return {"N_opt_exponent": math.nan, "D_opt_exponent": math.nan}
        return {"N_opt_exponent": beta / (alpha + beta), "D_opt_exponent": alpha / (alpha + beta)}

    def to_frame(self) -> pd.DataFrame:
        """Tidy table (parameter, estimate, lower, upper): the five parameters, then the exponents."""
        return _interval_table({**self.params, **self.exponents}, self.intervals)

    def predict(self, n_params, n_data) -> pd.DataFrame:
        """Fitted loss at (N, D), broadcast together, with its interval at ``level``.

        Parameters
        ----------
        n_params : array-like
            Parameter counts N, positive and finite.
        n_data : array-like
            Data sizes D, positive and finite; broadcast against ``n_params``.

        Returns
        -------
        pandas.DataFrame
            Columns n_params, n_data, estimate (the central value), lower and upper (the interval).

        Raises
        ------
        ValueError
            If ``n_params`` and ``n_data`` do not broadcast together or are not positive and finite.
        """
        N, D = np.atleast_1d(_as_numbers("n_params", n_params)), np.atleast_1d(_as_numbers("n_data", n_data))
        try:
            N, D = np.broadcast_arrays(N, D)
        except ValueError:
            raise ValueError(f"n_params and n_data must broadcast together, got shapes {N.shape} "
                             f"and {D.shape}") from None
        N, D = _positive_finite("n_params", N.ravel()), _positive_finite("n_data", D.ravel())
        estimate = _chinchilla_loss(N, D, np.array([self.params[k] for k in CHINCHILLA_PARAMETERS]))
        curves = np.array([_chinchilla_loss(N, D, d) for d in self.draws]).reshape(len(self.draws), len(N))
        lower, upper = _percentiles(curves, self.level)
        return pd.DataFrame({"n_params": N, "n_data": D, "estimate": estimate, "lower": lower, "upper": upper})

    def compute_optimal(self, flops) -> pd.DataFrame:
        """N_opt and D_opt at each compute budget, with intervals.

        Replicates whose N or D term vanished are left out of the intervals.

        Parameters
        ----------
        flops : array-like
            Compute budgets in FLOPs, positive.

        Returns
        -------
        pandas.DataFrame
            Columns compute, quantity (``"N_opt"`` or ``"D_opt"``), estimate, lower, upper.

        Raises
        ------
        ValueError
            If the fit's N or D term vanished (``A``, ``B``, ``alpha`` or ``beta`` at 0: too few
            distinct sizes to pin it down), so that it has no allocation.

        See Also
        --------
        compute_optimal : The allocation for given parameters.
        """
        terms = {k: self.params[k] for k in ("A", "B", "alpha", "beta")}
        vanished = [f"{k} = {v:g}" for k, v in terms.items() if not v > 0]
        if vanished:
            raise ValueError(f"this fit has {', '.join(vanished)}: one term of the law vanished, so it has no "
                             "compute-optimal allocation; fit more varied n_params and n_data")
        central = compute_optimal(flops, **terms)
        replicates = [compute_optimal(flops, A=A, B=B, alpha=alpha, beta=beta)
                      for _, A, B, alpha, beta in self.draws if min(A, B, alpha, beta) > 0]
        rows = []
        for quantity, attribute in {"N_opt": "n_opt", "D_opt": "d_opt"}.items():
            draws = np.array([getattr(r, attribute) for r in replicates]).reshape(-1, len(central.compute))
            lower, upper = _percentiles(draws, self.level)
            rows.append(pd.DataFrame({"compute": central.compute, "quantity": quantity,
                                      "estimate": getattr(central, attribute), "lower": lower, "upper": upper}))
        return pd.concat(rows, ignore_index=True)

    def __repr__(self) -> str:
        how = f"{self.level:.0%} intervals, bootstrap over runs" if len(self.draws) else "no intervals (n_boot=0)"
        return (f"ChinchillaFit(L = E + A/N^alpha + B/D^beta; {self.n_runs} runs, {self.n_points} points; {how})\n"
                f"{_format_rows(self.to_frame())}")


def _chinchilla_loss(N, D, natural: np.ndarray) -> np.ndarray:
    E, A, B, alpha, beta = natural
    return E + A / N**alpha + B / D**beta


def _chinchilla_objective(theta, log_n, log_d, log_loss, delta):
    """Huber loss of log L_pred - log L_obs (see :func:`_huber`) and its gradient.

    theta = (a, b, e, alpha, beta) with log L = LSE(a - alpha log N, b - beta log D, e).
    """
    a, b, e, alpha, beta = theta
    n_term, d_term = a - alpha * log_n, b - beta * log_d  # log(A / N^alpha), log(B / D^beta)
    top = np.maximum(np.maximum(n_term, d_term), e)  # log-sum-exp by hand: scipy's is 3x slower here
    w_n, w_d, w_e = np.exp(n_term - top), np.exp(d_term - top), np.exp(e - top)
    total = w_n + w_d + w_e
    value, psi = _huber(top + np.log(total) - log_loss, delta)
    psi = psi / total  # times d log_pred / d term = w / total
    g_n, g_d = psi * w_n, psi * w_d  # per point: d loss / d a, d loss / d b
    return value, np.array([g_n.sum(), g_d.sum(), (psi * w_e).sum(), -(g_n @ log_n), -(g_d @ log_d)])


def chinchilla_grid() -> np.ndarray:
    """The initial values of Chinchilla's approach 3 as rows (a, b, e, alpha, beta): 4500 starts.

    alpha, beta in {0, 0.5, ..., 2}, e in {-1, -0.5, ..., 1}, a, b in {0, 5, ..., 25}. Thorough
    but slow; :func:`fit_chinchilla` uses a smaller grid adapted to the data unless given this one.
    """
    a = b = np.arange(0, 30, 5.0)
    e = np.arange(-1, 1.5, 0.5)
    alpha = beta = np.arange(0, 2.5, 0.5)
    return np.array(np.meshgrid(a, b, e, alpha, beta, indexing="ij")).reshape(5, -1).T


def _chinchilla_starts(log_n, log_d, log_loss) -> np.ndarray:
    """A data-adapted grid: exponents, the floor's share and how the rest splits between N and D.

    The prefactors follow from the exponents at the data's centre, so that every start predicts
    losses of the right size; an independent grid over a and b mostly starts far off.
    """
    loss_min, loss_mean = np.exp(log_loss.min()), np.exp(log_loss.mean())
    starts = []
    for alpha in (0.1, 0.3, 0.6, 1.0):
        for beta in (0.1, 0.3, 0.6, 1.0):
            for floor in (0.2, 0.8):
                E = floor * loss_min
                for share in (0.3, 0.7):  # share of the reducible loss that the N term carries
                    a = np.log(share * (loss_mean - E)) + alpha * log_n.mean()
                    b = np.log((1 - share) * (loss_mean - E)) + beta * log_d.mean()
                    starts.append([a, b, np.log(E), alpha, beta])
    return np.array(starts)


def _fit_chinchilla_from(log_n, log_d, log_loss, delta, starts) -> list[tuple[float, np.ndarray]]:
    """L-BFGS-B from every start: (objective, theta) pairs, best first."""
    bounds = [(None, None)] * 3 + [(0.0, 10.0)] * 2  # exponents >= 0: loss falls with N and D
    return _minimise_from(_chinchilla_objective, starts, (log_n, log_d, log_loss, delta), bounds)


def _natural_chinchilla(theta: np.ndarray) -> np.ndarray:
    """(a, b, e, alpha, beta) -> (E, A, B, alpha, beta)."""
    a, b, e, alpha, beta = theta
    return np.array([np.exp(e), np.exp(a), np.exp(b), alpha, beta])


def _with_exponents(natural: np.ndarray) -> np.ndarray:
    """(E, A, B, alpha, beta) -> the same plus beta/(alpha+beta), alpha/(alpha+beta), along the last axis."""
    alpha, beta = natural[..., 3], natural[..., 4]
    with np.errstate(invalid="ignore"):  # alpha = beta = 0 in a degenerate replicate: NaN, skipped
        return np.concatenate([natural, np.stack([beta / (alpha + beta), alpha / (alpha + beta)], axis=-1)], axis=-1)


def fit_chinchilla(n_params, n_data, loss, groups=None, n_boot: int = 200, *, level: float = 0.95, rng=None,
                   delta: float = HUBER_DELTA, starts=None, refit_starts: int = 3) -> ChinchillaFit:
    """Fit ``L(N, D) = E + A / N^alpha + B / D^beta`` as in Chinchilla's approach 3.

    Minimises the Huber loss (``delta``) between log predicted and log observed loss, with
    ``log L = LSE(a - alpha log N, b - beta log D, e)``, ``A = exp(a)``, ``B = exp(b)``,
    ``E = exp(e)``, by L-BFGS-B from a grid of initial values, keeping the best. Intervals come
    from bootstrapping runs. The points are fitted and bootstrapped sorted by (N, D, loss), so a
    shuffled table gives the same fit and intervals (same ``rng``).

    Parameters
    ----------
    n_params, n_data, loss : array-like
        Parameters N, data D (windows, hours or samples: any unit, it only rescales B) and loss
        per point; positive and finite, with at least 3 distinct N and 3 distinct D.
    groups : array-like, optional
        Run id per point (e.g. checkpoints of one run share it). Default: every point a run.
    n_boot : int
        Bootstrap replicates (0: no intervals).
    level : float
        Interval coverage.
    rng : numpy.random.Generator, int or None
        Source of randomness for the bootstrap.
    delta : float
        Huber threshold on log residuals (Chinchilla: 1e-3).
    starts : array-like of shape (k, 5), optional
        Initial values (a, b, e, alpha, beta); default a 64-point grid adapted to the data.
        :func:`chinchilla_grid` gives the paper's.
    refit_starts : int
        How many of the best full-data optima each bootstrap replicate starts from.

    Returns
    -------
    ChinchillaFit
    """
    N, D = _positive_finite("n_params", n_params), _positive_finite("n_data", n_data)
    loss = _positive_finite("loss", loss)
    n = _same_length(n_params=N, n_data=D, loss=loss)
    _enough_points(n, CHINCHILLA_PARAMETERS, "the Chinchilla law")
    _enough_distinct("n_params", N, 3, "the Chinchilla law (E + A/N^alpha along n_params)")
    _enough_distinct("n_data", D, 3, "the Chinchilla law (E + B/D^beta along n_data)")
    _check_bootstrap(n_boot, level)
    _check_fit_options(delta, refit_starts)
    order = np.lexsort((loss, D, N))  # as in fit_power_law: the optimum reached must not depend on input order
    N, D, loss = N[order], D[order], loss[order]
    members = _sorted_runs(groups, n, order)
    log_n, log_d, log_loss = np.log(N), np.log(D), np.log(loss)
    if starts is None:
        starts = _chinchilla_starts(log_n, log_d, log_loss)
    starts = _as_numbers("starts", starts)
    if starts.ndim != 2 or starts.shape[1] != 5 or len(starts) == 0 or not np.isfinite(starts).all():
        raise ValueError(f"starts must be a finite (k, 5) array of (a, b, e, alpha, beta) with k >= 1, "
                         f"got shape {starts.shape}")

    results = _fit_chinchilla_from(log_n, log_d, log_loss, delta, starts)
    estimate = _natural_chinchilla(results[0][1])
    refit_from = _best_distinct(results, refit_starts)

    def fit_one(index):
        return _natural_chinchilla(_fit_chinchilla_from(log_n[index], log_d[index], log_loss[index], delta,
                                                        refit_from)[0][1])

    draws = _bootstrap(fit_one, members, n_boot, rng, len(CHINCHILLA_PARAMETERS))
    lower, upper = _percentiles(_with_exponents(draws), level)
    names = CHINCHILLA_PARAMETERS + ("N_opt_exponent", "D_opt_exponent")
    return ChinchillaFit(params=dict(zip(CHINCHILLA_PARAMETERS, map(float, estimate))),
                         intervals={k: (float(lo), float(hi)) for k, lo, hi in zip(names, lower, upper)},
                         level=level, n_points=n, n_runs=len(members), delta=delta, draws=draws)


# ---- compute accounting -----------------------------------------------------------------------
def _block_flops(tokens: int, width: int, hidden: int) -> dict[str, int]:
    """Forward matmul FLOPs of one transformer block on ``tokens`` tokens (2 per multiply-add).

    The attention terms do not depend on the number of heads: heads x (tokens^2 x width/heads).
    """
    return {"projections": 2 * tokens * width * 3 * width + 2 * tokens * width * width,  # qkv, then out
            "attention": 2 * 2 * tokens * tokens * width,  # scores Q K^T, then the weighted sum of V
            "mlp": 2 * 2 * tokens * width * hidden}


def _resolve_config(preset, patch):
    from .model import ModelConfig, get_config  # here, so that the fits above never import torch

    if isinstance(preset, ModelConfig):
        return preset if patch is None else replace(preset, patch=tuple(patch))
    return get_config(preset) if patch is None else get_config(preset, patch=tuple(patch))


def forward_flops(preset, batch_size: int = 1, patch=None, minutes: int = 300,
                  visible_fraction: float = 1.0) -> dict[str, int]:
    """Forward-pass FLOPs of :class:`lsmkit.model.LSM` by component, counted from the config.

    Counts the matrix multiplications (2 FLOPs per multiply-add): patch embedding on all N tokens,
    attention projections, attention scores and weighted sums and MLPs of the encoder on the
    ``K + 1`` kept tokens plus class token, the decoder embedding on those, the decoder blocks on
    all ``N + 1`` tokens, and the prediction head on ``N + 1`` tokens. Ignored: layer norms, softmax,
    GELU, biases, position and residual additions, gathers and scatters, the loss, and the optimizer
    (all linear in the token count and small next to the matmuls).

    Parameters
    ----------
    preset : str or lsmkit.model.ModelConfig
        A preset name (see ``lsmkit.model.PRESETS``) or a config.
    batch_size : int
        Windows per step.
    patch : tuple of int, optional
        (minutes, channels) per patch; default the preset's own ((10, 5) for every preset).
    minutes : int
        Window length; padded up to whole patches as the model does.
    visible_fraction : float
        Share of the N tokens the encoder keeps, K = round(visible_fraction * N). In training this
        is the batch's *largest* visible share (the encoder keeps that many tokens for every row).

    Returns
    -------
    dict
        FLOPs per component; ``sum(...)`` is the forward total.
    """
    if not _is_whole(batch_size) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not _is_whole(minutes) or minutes < 1:
        raise ValueError(f"minutes must be a positive integer, got {minutes!r}")
    if not 0 <= visible_fraction <= 1:
        raise ValueError(f"visible_fraction must lie in [0, 1], got {visible_fraction!r}")
    config = _resolve_config(preset, patch)
    pt, pc = config.patch
    n_tokens = math.ceil(minutes / pt) * math.ceil(config.n_channels / pc)  # N, as patchify pads
    kept = round(visible_fraction * n_tokens)  # K
    P, D, E = pt * pc, config.width, config.decoder_width
    encoder = _block_flops(1 + kept, D, int(D * config.mlp_ratio))
    decoder = _block_flops(1 + n_tokens, E, int(E * config.mlp_ratio))
    counts = {"patch_embed": 2 * n_tokens * (2 * P) * D,  # values and presence flags: 2P inputs
              **{f"encoder_{k}": config.depth * v for k, v in encoder.items()},
              "decoder_embed": 2 * (1 + kept) * D * E,
              **{f"decoder_{k}": config.decoder_depth * v for k, v in decoder.items()},
              "decoder_pred": 2 * (1 + n_tokens) * E * P}
    return {k: int(batch_size * v) for k, v in counts.items()}


def training_flops(preset, batch_size: int = 1, patch=None, minutes: int = 300,
                   visible_fraction: float = 1.0) -> int:
    """FLOPs of one training step (forward and backward) of :class:`lsmkit.model.LSM`.

    Backward costs two forward passes for every matmul (gradients for its input and its weight),
    except the patch embedding, whose input is data and needs no gradient: so
    ``3 * forward - patch_embed``. What is ignored: see :func:`forward_flops`.
    Multiply by the number of steps for a run's compute ``C``.

    To check it with ``torch.utils.flop_counter.FlopCounterMode`` on CPU, run the model under
    ``torch.nn.attention.sdpa_kernel(SDPBackend.MATH)``: the counter has no formula for the CPU
    flash-attention kernel and silently leaves the attention matmuls out (about 30% of "tiny").

    Parameters
    ----------
    preset : str or lsmkit.model.ModelConfig
        A preset name (see ``lsmkit.model.PRESETS``) or a config.
    batch_size : int, default 1
        Windows per step.
    patch : tuple of int, optional
        (minutes, channels) per patch; default the preset's own ((10, 5) for every preset).
    minutes : int, default 300
        Window length; padded up to whole patches as the model does.
    visible_fraction : float, default 1.0
        Share of the N tokens the encoder keeps (see :func:`forward_flops`).

    Returns
    -------
    int
        FLOPs of one step.

    Raises
    ------
    ValueError
        If ``batch_size`` or ``minutes`` is not a positive integer or ``visible_fraction`` is not
        in [0, 1].

    See Also
    --------
    forward_flops : The forward pass by component.
    """
    counts = forward_flops(preset, batch_size, patch, minutes, visible_fraction)
    return 3 * sum(counts.values()) - counts["patch_embed"]
