"""Bad input to the scaling-law fits never crashes obscurely or fits silently: each named case ends in
a ValueError/TypeError that names the offending argument, or in the documented result, asserted."""

import io

import numpy as np
import pandas as pd
import pytest

from lsmkit import sweep
from lsmkit.scaling import (
    bootstrap_indices,
    compute_optimal,
    fit_chinchilla,
    fit_power_law,
    fit_power_law_ols,
)
from lsmkit.scaling_plots import synthetic_sweep

# Every warning is an error here: a fit must not pass RuntimeWarning/OptimizeWarning through unexplained.
pytestmark = pytest.mark.filterwarnings("error")

X, L = np.logspace(0, 3, 6), np.linspace(2.0, 1.0, 6)
N, D = (g.ravel() for g in np.meshgrid(np.logspace(6, 9, 3), np.logspace(8, 11, 3), indexing="ij"))
LOSS = 1.7 + 400.0 / N**0.34 + 410.0 / D**0.28  # a 3 x 3 grid on a known Chinchilla law


def table_from_csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text))


STRAY_WORD = table_from_csv("flops,loss\n1e15,2.0\n1e16,1.8\n1e17,oops\n1e18,1.4\n")
BLANK_CELL = table_from_csv("flops,loss\n1e15,2.0\n1e16,1.8\n1e17,\n1e18,1.4\n")
NULLABLE = pd.Series([1, 10, None, 1000, 10_000, 100_000], dtype="Int64")

# ---- errors that name the offending thing -------------------------------------------------------
CASES = {
    # fewer points than parameters
    "floor-law-2-points-for-3-parameters": (lambda: fit_power_law(X[:2], L[:2]), ValueError,
                                            r"3 parameters \(a, b, c\) but only 2 points were given"),
    "no-floor-law-1-point": (lambda: fit_power_law(X[:1], L[:1], floor=False), ValueError,
                             r"2 parameters \(a, b\) but only 1 point was given"),
    "ols-1-point": (lambda: fit_power_law_ols(X[:1], L[:1]), ValueError, "2 parameters .* only 1 point was given"),
    "chinchilla-4-points-for-5-parameters": (lambda: fit_chinchilla(N[:4], D[:4], LOSS[:4]), ValueError,
                                             r"5 parameters \(E, A, B, alpha, beta\) but only 4 points"),
    # exactly as many points as parameters, where the method cannot say anything
    "ols-2-points-no-residual-degrees-of-freedom": (lambda: fit_power_law_ols(X[:2], L[:2]), ValueError,
                                                    "OLS intervals need more points"),
    # empty input
    "floor-law-empty": (lambda: fit_power_law([], []), ValueError, "only 0 points were given"),
    "ols-empty": (lambda: fit_power_law_ols([], []), ValueError, "only 0 points were given"),
    "chinchilla-empty": (lambda: fit_chinchilla([], [], []), ValueError, "only 0 points were given"),
    "x-is-None": (lambda: fit_power_law(None, L), TypeError, "x must be an array of numbers, got None"),
    # non-positive losses
    "zero-loss": (lambda: fit_power_law(X, np.r_[L[:3], 0.0, L[4:]]), ValueError,
                  "y must be positive .*got 0.0 at index 3"),
    "negative-loss": (lambda: fit_power_law(X, np.r_[-1.0, L[1:]]),
                      ValueError, "y must be positive .*got -1.0 at index 0"),
    "ols-zero-loss": (lambda: fit_power_law_ols(X, np.r_[L[:5], 0.0]), ValueError, "y must be positive.*index 5"),
    "chinchilla-negative-loss": (lambda: fit_chinchilla(N, D, np.r_[LOSS[:8], -0.5]), ValueError,
                                 "loss must be positive.*index 8"),
    # non-positive x: compute, parameters, hours
    "zero-compute": (lambda: fit_power_law(np.r_[0.0, X[1:]], L), ValueError, "x must be positive.*got 0.0 at index 0"),
    "negative-compute": (lambda: fit_power_law(np.r_[X[:2], -1e15, X[3:]], L),
                         ValueError, "x must be positive.*index 2"),
    "ols-negative-x": (lambda: fit_power_law_ols(-X, L), ValueError, "x must be positive"),
    "chinchilla-zero-parameters": (lambda: fit_chinchilla(np.r_[0.0, N[1:]], D, LOSS), ValueError,
                                   "n_params must be positive.*index 0"),
    "chinchilla-zero-hours": (lambda: fit_chinchilla(N, np.r_[D[:4], 0.0, D[5:]], LOSS), ValueError,
                              "n_data must be positive.*index 4"),
    # NaN and inf
    "nan-x": (lambda: fit_power_law(np.r_[X[:2], np.nan, X[3:]], L),
              ValueError, "x must be finite; got nan at index 2"),
    "nan-loss": (lambda: fit_power_law(X, np.r_[np.nan, L[1:]]), ValueError, "y must be finite; got nan at index 0"),
    "inf-x": (lambda: fit_power_law(np.r_[X[:5], np.inf], L), ValueError, "x must be finite; got inf at index 5"),
    "minus-inf-loss": (lambda: fit_power_law(X, np.r_[L[:5], -np.inf]), ValueError, "y must be finite; got -inf"),
    "ols-nan-loss": (lambda: fit_power_law_ols(X, np.r_[L[:1], np.nan, L[2:]]),
                     ValueError, "y must be finite.*index 1"),
    "chinchilla-inf-parameters": (lambda: fit_chinchilla(np.r_[N[:8], np.inf], D, LOSS), ValueError,
                                  "n_params must be finite; got inf at index 8"),
    "chinchilla-nan-loss": (lambda: fit_chinchilla(N, D, np.r_[np.nan, LOSS[1:]]), ValueError,
                            "loss must be finite; got nan at index 0"),
    # all-identical x: the law is not determined by the data
    "identical-x-floor-law": (lambda: fit_power_law(np.full(6, 1e15), L), ValueError,
                              "at least 3 distinct values of x, got 1"),
    "identical-x-no-floor-law": (lambda: fit_power_law(np.full(6, 1e15), L, floor=False), ValueError,
                                 "at least 2 distinct values of x, got 1"),
    "identical-x-ols": (lambda: fit_power_law_ols(np.full(6, 1e15), L), ValueError,
                        "at least 2 distinct values of x, got 1"),
    "two-distinct-x-floor-law": (lambda: fit_power_law(np.repeat([1e15, 1e16], 3), L), ValueError,
                                 "at least 3 distinct values of x, got 2"),
    "identical-parameters-chinchilla": (lambda: fit_chinchilla(np.full(9, 1e6), D, LOSS), ValueError,
                                        "at least 3 distinct values of n_params, got 1"),
    "identical-data-chinchilla": (lambda: fit_chinchilla(N, np.full(9, 1e9), LOSS), ValueError,
                                  "at least 3 distinct values of n_data, got 1"),
    # mismatched lengths
    "x-longer-than-y": (lambda: fit_power_law(X, L[:5]), ValueError, "same length.*x: 6, y: 5"),
    "ols-y-longer-than-x": (lambda: fit_power_law_ols(X[:4], L), ValueError, "same length.*x: 4, y: 6"),
    "chinchilla-short-n_data": (lambda: fit_chinchilla(N, D[:8], LOSS), ValueError,
                                "same length.*n_params: 9, n_data: 8, loss: 9"),
    "groups-wrong-length": (lambda: fit_power_law(X, L, groups=[0, 1]), ValueError,
                            "groups must give one run id per point: expected 6"),
    "groups-with-missing-run-id": (lambda: fit_power_law(X, L, groups=[0, 1, None, 3, 4, 5]), ValueError,
                                   r"groups \(run ids\) must not be missing"),
    # strings and other non-numbers in numeric columns of a table
    "stray-word-in-loss-column": (lambda: fit_power_law(STRAY_WORD["flops"], STRAY_WORD["loss"]), ValueError,
                                  "y must hold numbers; got 'oops' at index 2"),
    "stray-word-in-chinchilla-data": (lambda: fit_chinchilla(N, np.concatenate([D[:3], ["n/a"], D[4:]]), LOSS),
                                      ValueError, "n_data must hold numbers; got 'n/a' at index 3"),
    "blank-cell-in-loss-column": (lambda: fit_power_law(BLANK_CELL["flops"], BLANK_CELL["loss"]), ValueError,
                                  "y must be finite; got nan at index 2"),
    "missing-value-in-nullable-column": (lambda: fit_power_law(NULLABLE, L), ValueError,
                                         "x must be finite; got nan at index 2"),
    "booleans-as-x": (lambda: fit_power_law(np.ones(6, dtype=bool), L),
                      TypeError, "x must hold real numbers, got bool"),
    "dates-as-x": (lambda: fit_power_law(pd.date_range("2024-01-01", periods=6).values, L), TypeError,
                   "x must hold real numbers, got datetime64"),
    "complex-loss": (lambda: fit_power_law(X, L + 1j), TypeError, "y must hold real numbers, got complex"),
    "dict-as-x": (lambda: fit_power_law({"flops": 1.0}, L), TypeError, "x must hold numbers; got {'flops': 1.0}"),
    "2d-x": (lambda: fit_power_law(X.reshape(2, 3), L.reshape(2, 3)),
             ValueError, r"x must be one-dimensional, got shape \(2, 3\)"),
    # options
    "floor-not-a-bool": (lambda: fit_power_law(X, L, floor="yes"), ValueError, "floor must be True .* or False"),
    "level-as-string": (lambda: fit_power_law(X, L, level="high"),
                        ValueError, "level must lie strictly between 0 and 1, got 'high'"),
    "ols-level-above-1": (lambda: fit_power_law_ols(X, L, level=95),
                          ValueError, "level must lie strictly between 0 and 1, got 95"),
    "n_boot-fractional": (lambda: fit_power_law(X, L, n_boot=2.5),
                          ValueError, "n_boot must be a non-negative integer, got 2.5"),
    "n_boot-nan": (lambda: fit_power_law(X, L, n_boot=float("nan")),
                   ValueError, "n_boot must be a non-negative integer, got nan"),
    "n_boot-as-string": (lambda: fit_power_law(X, L, n_boot="10"),
                         ValueError, "n_boot must be a non-negative integer, got '10'"),
    "huber-delta-zero": (lambda: fit_power_law(X, L, n_boot=0, delta=0),
                         ValueError, "delta .* must be a positive number, got 0"),
    "chinchilla-negative-delta": (lambda: fit_chinchilla(N, D, LOSS, n_boot=0, delta=-1e-3), ValueError,
                                  "delta .* must be a positive number, got -0.001"),
    "refit_starts-zero": (lambda: fit_power_law(X, L, refit_starts=0),
                          ValueError, "refit_starts must be a positive integer, got 0"),
    "chinchilla-no-starts": (lambda: fit_chinchilla(N, D, LOSS, n_boot=0, starts=np.zeros((0, 5))), ValueError,
                             r"starts must be a finite \(k, 5\) array .* got shape \(0, 5\)"),
    "chinchilla-starts-with-text": (lambda: fit_chinchilla(N, D, LOSS, n_boot=0, starts=[["a", 0, 0, 0.3, 0.3]]),
                                    ValueError, "starts must hold numbers; got 'a'"),
    # a table with a single run: checkpoints along it are not independent evidence
    "single-run-bootstrap": (lambda: fit_power_law(X, L, groups=["run-0"] * 6), ValueError,
                             "bootstrapping over runs needs at least 2 runs, got 1"),
    "single-run-ols-clustered": (lambda: fit_power_law_ols(X, L, groups=["run-0"] * 6), ValueError,
                                 r"OLS intervals need more points \(or runs\).*1 runs"),
    # predictions and allocations
    "predict-at-nan": (lambda: fit_power_law(X, L, n_boot=0).predict([10.0, np.nan]), ValueError,
                       "x must be finite; got nan at index 1"),
    "predict-at-zero": (lambda: fit_power_law_ols(X, L).predict([0.0]), ValueError, "x must be positive"),
    "chinchilla-predict-shapes-do-not-broadcast": (
        lambda: fit_chinchilla(N, D, LOSS, n_boot=0).predict([1e6, 1e7], [1e9, 1e10, 1e11]), ValueError,
        r"n_params and n_data must broadcast together, got shapes \(2,\) and \(3,\)"),
    "compute_optimal-text-prefactor": (lambda: compute_optimal([1e20], A="big", B=1.0, alpha=0.3, beta=0.3), ValueError,
                                       "A must be positive and finite, got 'big'"),
    "compute_optimal-zero-exponent": (lambda: compute_optimal([1e20], A=1.0, B=1.0, alpha=0.3, beta=0.0), ValueError,
                                      "beta must be positive and finite, got 0.0"),
    "compute_optimal-negative-flops": (lambda: compute_optimal([1e20, -1.0], A=1.0, B=1.0, alpha=0.3, beta=0.3),
                                       ValueError, "flops must be positive.*index 1"),
    "bootstrap_indices-empty": (lambda: bootstrap_indices([]),
                                ValueError, "groups must be a non-empty sequence of run ids"),
    "bootstrap_indices-None": (lambda: bootstrap_indices(None),
                               ValueError, "groups must be a non-empty sequence of run ids"),
}


@pytest.mark.parametrize("call, error, message", CASES.values(), ids=CASES.keys())
def test_bad_input_raises_a_named_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- documented outcomes ------------------------------------------------------------------------
def test_exactly_as_many_points_as_parameters_interpolates_the_law():
    """Three points, three parameters: the floor law goes through them and recovers the law exactly."""
    x = np.array([1.0, 100.0, 10_000.0])
    fit = fit_power_law(x, 2.0 * x**-0.5 + 0.5, n_boot=20, rng=0)
    assert fit.params == pytest.approx({"a": 2.0, "b": -0.5, "c": 0.5}, rel=1e-4)
    assert (fit.n_points, fit.n_runs) == (3, 3)
    two = fit_power_law(x[:2], 3.0 * x[:2] ** -0.2, floor=False, n_boot=0)
    assert two.params == pytest.approx({"a": 3.0, "b": -0.2}, rel=1e-6)
    assert np.isnan(two.intervals["b"]).all()  # n_boot=0: documented NaN intervals


def test_chinchilla_with_exactly_five_points_fits_but_has_no_allocation_when_a_term_vanishes():
    """Five points on a line of N against D cannot separate the two terms: the fit returns, and its
    compute-optimal allocation refuses, naming the term that vanished."""
    n, d = np.logspace(0, 3, 6)[:5], np.logspace(0, 3, 6)[::-1][:5]
    fit = fit_chinchilla(n, d, L[:5], n_boot=10, rng=0)
    assert fit.n_points == 5 and set(fit.params) == {"E", "A", "B", "alpha", "beta"}
    with pytest.raises(ValueError, match=r"this fit has \w+ = 0.*: one term of the law vanished"):
        fit.compute_optimal([1e20])


@pytest.fixture(scope="module")
def final_runs():
    return sweep.per_run(synthetic_sweep(rng=0), "final")


def test_unsorted_input_gives_the_same_fit_as_sorted(final_runs):
    """A shuffled table gives exactly the sorted table's robust fit: on these points (residuals far
    above delta) the Huber optimum is a flat ridge, and which point of it the optimiser returned used
    to depend on the order of the rows."""
    x, y, runs = (final_runs[c].to_numpy() for c in ("flops", "loss_random", "run"))
    order = np.argsort(x, kind="stable")
    for seed in range(3):
        shuffled = np.random.default_rng(seed).permutation(len(x))
        for floor in (True, False):
            a = fit_power_law(x[order], y[order], floor=floor, groups=runs[order], n_boot=10, rng=0)
            b = fit_power_law(x[shuffled], y[shuffled], floor=floor, groups=runs[shuffled], n_boot=10, rng=0)
            assert a.params == b.params and a.intervals == b.intervals
        no_groups = fit_power_law(x[shuffled], y[shuffled], n_boot=0)
        assert no_groups.params == fit_power_law(x[order], y[order], n_boot=0).params
        ols_a, ols_b = fit_power_law_ols(x[order], y[order]), fit_power_law_ols(x[shuffled], y[shuffled])
        assert ols_a.params == pytest.approx(ols_b.params, rel=1e-10)
    shuffled = np.random.default_rng(0).permutation(len(N))
    joint = fit_chinchilla(N, D, LOSS, n_boot=0)
    again = fit_chinchilla(N[shuffled], D[shuffled], LOSS[shuffled], n_boot=0)
    assert joint.params == pytest.approx(again.params, rel=1e-5)


def test_a_table_with_a_single_run_fits_without_intervals():
    """Checkpoints of one run: the curve is fitted (n_boot=0) and reports one run and NaN intervals."""
    fit = fit_power_law(X, L, groups=["run-0"] * 6, n_boot=0)
    assert (fit.n_points, fit.n_runs) == (6, 1)
    assert all(np.isnan(v).all() for v in fit.intervals.values())
    assert "no intervals (n_boot=0)" in repr(fit)


def test_predicting_at_no_points_gives_an_empty_table():
    for fit in (fit_power_law(X, L, n_boot=5, rng=0), fit_power_law(X, L, n_boot=0), fit_power_law_ols(X, L)):
        table = fit.predict([])
        assert list(table.columns) == ["x", "estimate", "lower", "upper"] and len(table) == 0


def test_numbers_written_as_text_still_fit():
    """A CSV column read as text ("1e15") is parsed; only words that are not numbers are refused."""
    as_text = fit_power_law(X.astype(str).astype(object), L, n_boot=0)
    assert as_text.params == fit_power_law(X, L, n_boot=0).params


# ---- sweep tables the fits read from ------------------------------------------------------------
def write_results(tmp_path, table: pd.DataFrame, name="results.csv"):
    path = tmp_path / name
    table.to_csv(path, index=False)
    return path


def test_results_table_missing_a_column_names_the_header(tmp_path):
    path = write_results(tmp_path, synthetic_sweep(rng=0).drop(columns="flops"))
    with pytest.raises(ValueError, match=r"is not a sweep results table: header \[.*\], expected \[.*'flops'"):
        sweep.read_results(path)


def test_results_table_with_a_word_in_a_numeric_column_drops_that_row_with_a_warning(tmp_path):
    table = synthetic_sweep(rng=0).astype({"loss_random": object})
    table.loc[3, "loss_random"] = "diverged"
    with pytest.warns(UserWarning, match="ignoring 1 damaged line"):
        results = sweep.read_results(write_results(tmp_path, table))
    assert len(results) == len(table) - 1 and results["loss_random"].dtype == float


def test_results_table_of_a_single_run_is_too_few_points_for_a_law(tmp_path):
    table = synthetic_sweep(rng=0)
    one = table[table["run"] == table["run"].iloc[0]]
    final = sweep.per_run(sweep.read_results(write_results(tmp_path, one)), "final")
    assert len(final) == 1
    with pytest.raises(ValueError, match="only 1 point was given"):
        fit_power_law(final["flops"], final["loss_random"], groups=final["run"])


@pytest.mark.parametrize("drop, axis, message", [
    ("flops", "compute", r"results lack columns \['flops'\]"),
    ("loss_random", "compute", r"results lack columns \['loss_random'\]"),
    ("windows", "parameters", r"results lack columns \['windows'\]"),
    ("hours", "data", r"results lack columns \['hours'\]"),
], ids=["no-flops-for-compute", "no-loss-column", "no-windows-for-parameters", "no-hours-for-data"])
def test_scaling_points_name_a_missing_column(drop, axis, message):
    from lsmkit.scaling_plots import scaling_points, synthetic_sweep

    table = synthetic_sweep(rng=0).drop(columns=[drop])
    with pytest.raises(ValueError, match=message):
        scaling_points(table, "random", axis)
