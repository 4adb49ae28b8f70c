"""Scaling-law fits recover known laws, their intervals are honest about runs, and the FLOP count
of a training step matches PyTorch's own counter."""

import inspect

import numpy as np
import pandas as pd
import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from lsmkit.model import LSM, get_config
from lsmkit.scaling import (
    bootstrap_indices,
    compute_optimal,
    fit_chinchilla,
    fit_power_law,
    fit_power_law_ols,
    forward_flops,
    training_flops,
)

CHINCHILLA = {"E": 1.7, "A": 400.0, "B": 410.0, "alpha": 0.34, "beta": 0.28}


def power_law_data(a=2.0, b=-0.5, c=0.5, repeats=3, noise=0.01, seed=0):
    """Three independent runs at each of 11 sizes over five decades, 1% multiplicative noise."""
    x = np.repeat(np.logspace(0, 5, 11), repeats)
    loss = (a * x**b + c) * np.exp(np.random.default_rng(seed).normal(0, noise, x.size))
    return x, loss


def chinchilla_data(noise=0.01, seed=0):
    """A 6 x 6 grid of model sizes and token counts, one run per point."""
    N, D = (g.ravel() for g in np.meshgrid(np.logspace(6, 9, 6), np.logspace(8, 11, 6), indexing="ij"))
    p = CHINCHILLA
    loss = (p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"])
    return N, D, loss * np.exp(np.random.default_rng(seed).normal(0, noise, N.size))


def width(fit, name):
    lower, upper = fit.intervals[name]
    return upper - lower


# ---- single-axis law ----------------------------------------------------------------------------
def test_floor_law_recovers_parameters_and_covers_them():
    x, loss = power_law_data()
    fit = fit_power_law(x, loss, n_boot=100, rng=0)
    assert fit.params["b"] == pytest.approx(-0.5, abs=0.03)
    assert fit.params["c"] == pytest.approx(0.5, abs=0.02)
    assert fit.params["a"] == pytest.approx(2.0, rel=0.05)
    for name, true in {"a": 2.0, "b": -0.5, "c": 0.5}.items():
        lower, upper = fit.intervals[name]
        assert lower <= fit.params[name] <= upper
        assert lower <= true <= upper
    assert (fit.n_points, fit.n_runs) == (33, 33)


def test_no_floor_law_robust_and_ols_agree_with_truth():
    x, loss = power_law_data(a=3.0, b=-0.2, c=0.0)
    robust = fit_power_law(x, loss, floor=False, n_boot=50, rng=0)
    ols = fit_power_law_ols(x, loss)
    for fit in (robust, ols):
        assert fit.params["b"] == pytest.approx(-0.2, abs=0.005)
        assert fit.params["a"] == pytest.approx(3.0, rel=0.02)
    lower, upper = ols.intervals["b"]
    assert lower < -0.2 < upper and upper - lower < 0.01
    assert ols.intervals["a"][0] < ols.params["a"] < ols.intervals["a"][1]


def test_predict_gives_the_curve_and_an_interval_around_it():
    x, loss = power_law_data()
    for fit in (fit_power_law(x, loss, n_boot=50, rng=0), fit_power_law_ols(x, loss)):
        table = fit.predict([1.0, 10.0, 1e6])
        assert list(table.columns) == ["x", "estimate", "lower", "upper"]
        p = fit.params
        assert np.allclose(table["estimate"], p["a"] * table["x"] ** p["b"] + p.get("c", 0.0))
        assert (table["lower"] < table["estimate"]).all() and (table["estimate"] < table["upper"]).all()


def test_result_reads_well_and_tabulates():
    x, loss = power_law_data()
    fit = fit_power_law(x, loss, n_boot=20, rng=0)
    text = repr(fit)
    assert "a * x^b + c" in text and "33 runs, 33 points" in text and "95%" in text
    assert all(f"\n  {k} = " in text for k in "abc")
    table = fit.to_frame()
    assert list(table.columns) == ["parameter", "estimate", "lower", "upper"]
    assert list(table["parameter"]) == ["a", "b", "c"]
    assert (table["lower"] <= table["estimate"]).all() and (table["estimate"] <= table["upper"]).all()


def test_public_signatures_follow_issue_5():
    # The names are fixed in the issue: fit_power_law(x, y, floor=True, groups=None, n_boot=...),
    # fit_chinchilla(n_params, n_data, loss, ...); both usable positionally in that order.
    assert list(inspect.signature(fit_power_law).parameters)[:5] == ["x", "y", "floor", "groups", "n_boot"]
    assert list(inspect.signature(fit_chinchilla).parameters)[:3] == ["n_params", "n_data", "loss"]
    x, loss = power_law_data(c=0.0)
    fit = fit_power_law(x, loss, False, np.arange(x.size) // 3, 10, rng=0)
    assert set(fit.params) == set(fit.intervals) == {"a", "b"} and fit.n_runs == x.size // 3
    assert set(fit_power_law(x, loss, n_boot=0).params) == {"a", "b", "c"}


# ---- the bootstrap resamples runs ---------------------------------------------------------------
def test_bootstrap_draws_whole_runs():
    run = np.array(["a"] * 3 + ["b"] * 2 + ["c"] * 4)
    for seed in range(20):
        index = bootstrap_indices(run, rng=seed)
        counts = np.bincount(index, minlength=run.size)
        drawn = {r: counts[run == r] for r in "abc"}
        assert all(len(set(c)) == 1 for c in drawn.values())  # a run's points come in or out together
        assert sum(c[0] for c in drawn.values()) == 3  # as many runs drawn as there are
    assert np.array_equal(bootstrap_indices(run, rng=5), bootstrap_indices(run, rng=5))


def test_repeating_a_runs_points_does_not_narrow_the_interval():
    x, loss = power_law_data()
    copies = 5
    rank = np.empty(x.size, dtype=int)
    rank[np.lexsort((loss, x))] = np.arange(x.size)  # run ids in the sorted order that one-point runs follow
    x5, loss5, run5 = np.repeat(x, copies), np.repeat(loss, copies), np.repeat(rank, copies)
    base = fit_power_law(x, loss, n_boot=60, rng=3)
    by_run = fit_power_law(x5, loss5, groups=run5, n_boot=60, rng=3)
    by_point = fit_power_law(x5, loss5, n_boot=60, rng=3)
    # Same runs, same draws: the copies add no evidence and the interval stays put ...
    assert width(by_run, "b") == pytest.approx(width(base, "b"), rel=0.02)
    assert by_run.n_runs == x.size and by_run.n_points == x5.size
    # ... whereas resampling points would treat them as independent and shrink it (~1/sqrt(5)).
    assert width(by_point, "b") < 0.7 * width(base, "b")


def test_ols_intervals_are_clustered_by_run():
    x, loss = power_law_data(c=0.0)
    copies = 5
    rank = np.empty(x.size, dtype=int)
    rank[np.lexsort((loss, x))] = np.arange(x.size)  # run ids in the sorted order that one-point runs follow
    x5, loss5, run5 = np.repeat(x, copies), np.repeat(loss, copies), np.repeat(rank, copies)
    base = fit_power_law_ols(x, loss, groups=np.arange(x.size))
    assert width(fit_power_law_ols(x5, loss5, groups=run5), "b") == pytest.approx(width(base, "b"), rel=0.05)
    assert width(fit_power_law_ols(x5, loss5), "b") < 0.6 * width(fit_power_law_ols(x, loss), "b")


def test_intervals_widen_when_runs_are_removed():
    x, loss = power_law_data()
    keep = np.arange(x.size) % 3 == 0  # one run of three at every size
    full = fit_power_law(x, loss, n_boot=100, rng=1)
    fewer = fit_power_law(x[keep], loss[keep], n_boot=100, rng=1)
    for name in "abc":
        assert width(fewer, name) > 1.2 * width(full, name)


def test_seeded_fits_are_reproducible():
    x, loss = power_law_data()
    first = fit_power_law(x, loss, n_boot=30, rng=11).to_frame()
    pd.testing.assert_frame_equal(first, fit_power_law(x, loss, n_boot=30, rng=11).to_frame())
    pd.testing.assert_frame_equal(first, fit_power_law(x, loss, n_boot=30, rng=np.random.default_rng(11)).to_frame())
    assert not first.equals(fit_power_law(x, loss, n_boot=30, rng=12).to_frame())


def test_a_shuffled_table_gives_identical_estimates_and_intervals():
    """Without groups every point is its own run; those runs used to keep the input order, so the
    same rng drew other points for a shuffled table and the intervals moved."""
    x, loss = power_law_data()
    shuffle = np.random.default_rng(5).permutation(x.size)
    first = fit_power_law(x, loss, n_boot=50, rng=0)
    again = fit_power_law(x[shuffle], loss[shuffle], n_boot=50, rng=0)
    pd.testing.assert_frame_equal(first.to_frame(), again.to_frame(), check_exact=True)
    runs = np.repeat(np.arange(x.size // 3), 3)
    pd.testing.assert_frame_equal(fit_power_law(x, loss, groups=runs, n_boot=20, rng=0).to_frame(),
                                  fit_power_law(x[shuffle], loss[shuffle], groups=runs[shuffle], n_boot=20,
                                                rng=0).to_frame(), check_exact=True)
    N, D, loss = chinchilla_data()
    shuffle = np.random.default_rng(5).permutation(N.size)
    pd.testing.assert_frame_equal(fit_chinchilla(N, D, loss, n_boot=5, rng=0).to_frame(),
                                  fit_chinchilla(N[shuffle], D[shuffle], loss[shuffle], n_boot=5, rng=0).to_frame(),
                                  check_exact=True)


# ---- Chinchilla's joint law ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def chinchilla_fit():
    N, D, loss = chinchilla_data()
    return fit_chinchilla(N, D, loss, n_boot=60, rng=0)


def test_chinchilla_recovers_exponents(chinchilla_fit):
    p = chinchilla_fit.params
    assert p["alpha"] == pytest.approx(0.34, abs=0.05)
    assert p["beta"] == pytest.approx(0.28, abs=0.05)
    assert p["E"] == pytest.approx(1.7, abs=0.15)
    table = chinchilla_fit.predict([1e6, 1e9], [1e8, 1e11])
    truth = [CHINCHILLA["E"] + CHINCHILLA["A"] / n ** CHINCHILLA["alpha"] + CHINCHILLA["B"] / d ** CHINCHILLA["beta"]
             for n, d in [(1e6, 1e8), (1e9, 1e11)]]
    assert list(table.columns) == ["n_params", "n_data", "estimate", "lower", "upper"]
    assert np.allclose(table["estimate"], truth, rtol=0.01)
    assert (table["lower"] <= table["estimate"]).all() and (table["estimate"] <= table["upper"]).all()
    assert "36 runs, 36 points" in repr(chinchilla_fit) and "alpha" in repr(chinchilla_fit)


def test_compute_optimal_exponents_follow_alpha_and_beta(chinchilla_fit):
    p = chinchilla_fit.params
    alpha, beta = p["alpha"], p["beta"]
    assert chinchilla_fit.exponents == pytest.approx({"N_opt_exponent": beta / (alpha + beta),
                                                      "D_opt_exponent": alpha / (alpha + beta)})
    rows = chinchilla_fit.to_frame().set_index("parameter")
    assert rows.loc["N_opt_exponent", "estimate"] == pytest.approx(beta / (alpha + beta))
    assert rows.loc["N_opt_exponent", "lower"] < rows.loc["N_opt_exponent", "upper"]
    # The fitted allocation grows with those exponents and spends exactly C = 6 N D.
    table = chinchilla_fit.compute_optimal([1e18, 1e22]).set_index(["quantity", "compute"])["estimate"]
    assert np.log(table["N_opt"][1e22] / table["N_opt"][1e18]) / np.log(1e4) == pytest.approx(beta / (alpha + beta))
    assert np.log(table["D_opt"][1e22] / table["D_opt"][1e18]) / np.log(1e4) == pytest.approx(alpha / (alpha + beta))
    assert 6 * table["N_opt"][1e18] * table["D_opt"][1e18] == pytest.approx(1e18)


def test_compute_optimal_minimises_the_loss_at_fixed_compute():
    c = CHINCHILLA
    allocation = compute_optimal(1e21, A=c["A"], B=c["B"], alpha=c["alpha"], beta=c["beta"])
    assert allocation.n_exponent == pytest.approx(0.28 / 0.62) and allocation.d_exponent == pytest.approx(0.34 / 0.62)
    n = np.logspace(6, 12, 20001)
    loss = c["A"] / n ** c["alpha"] + c["B"] / (1e21 / (6 * n)) ** c["beta"]
    assert n[np.argmin(loss)] == pytest.approx(allocation.n_opt[0], rel=1e-3)
    assert allocation.d_opt[0] == pytest.approx(1e21 / (6 * allocation.n_opt[0]))


def test_chinchilla_intervals_widen_with_fewer_runs(chinchilla_fit):
    N, D, loss = chinchilla_data()
    keep = np.arange(N.size) % 2 == 0
    fewer = fit_chinchilla(N[keep], D[keep], loss[keep], n_boot=60, rng=0)
    assert width(fewer, "alpha") > width(chinchilla_fit, "alpha")
    assert width(fewer, "beta") > width(chinchilla_fit, "beta")


# ---- bad input ----------------------------------------------------------------------------------
X, L = np.logspace(0, 3, 6), np.linspace(2.0, 1.0, 6)


@pytest.mark.parametrize("call, message", [
    (lambda: fit_power_law(X, L[:5]), "same length.*x: 6, y: 5"),
    (lambda: fit_power_law(np.r_[0.0, X[1:]], L), "x must be positive.*got 0.0 at index 0"),
    (lambda: fit_power_law(X, np.r_[L[:5], -1.0]), "y must be positive.*index 5"),
    (lambda: fit_power_law(X, np.r_[np.nan, L[1:]]), "y must be finite; got nan at index 0"),
    (lambda: fit_power_law(np.r_[X[:5], np.inf], L), "x must be finite; got inf"),
    (lambda: fit_power_law(X, L, floor="yes"), "floor must be True .* or False .*, got 'yes'"),
    (lambda: fit_power_law(X[:2], L[:2]), "3 parameters \\(a, b, c\\) but only 2 points"),
    (lambda: fit_power_law(X, L, groups=[1, 2]), "groups must give one run id per point: expected 6"),
    (lambda: fit_power_law(X, L, groups=[0] * 6), "at least 2 runs"),
    (lambda: fit_power_law(X, L, level=1.5), "level must lie strictly between 0 and 1"),
    (lambda: fit_power_law(X, L, n_boot=-1), "n_boot must be a non-negative integer"),
    (lambda: fit_power_law_ols(X[:2], L[:2]), "OLS intervals need more points"),
    (lambda: fit_power_law_ols(X, np.r_[L[:5], 0.0]), "y must be positive"),
    (lambda: fit_power_law(X, L, n_boot=0).predict([1.0, -2.0]), "x must be positive.*index 1"),
    (lambda: fit_chinchilla(X[:4], X[:4], L[:4]), "5 parameters \\(E, A, B, alpha, beta\\) but only 4 points"),
    (lambda: fit_chinchilla(X, X[:5], L), "same length.*n_params: 6, n_data: 5, loss: 6"),
    (lambda: fit_chinchilla(X, np.r_[X[:5], np.nan], L), "n_data must be finite"),
    (lambda: fit_chinchilla(X, X, L, starts=np.zeros((3, 4))), "starts must be a finite \\(k, 5\\) array"),
    (lambda: compute_optimal([1e20], A=1.0, B=1.0, alpha=-0.3, beta=0.3), "alpha must be positive"),
    (lambda: compute_optimal([0.0], A=1.0, B=1.0, alpha=0.3, beta=0.3), "flops must be positive"),
    (lambda: training_flops("tiny", visible_fraction=1.5), "visible_fraction must lie in \\[0, 1\\]"),
    (lambda: training_flops("tiny", batch_size=0), "batch_size must be a positive integer"),
    (lambda: training_flops("huge"), "unknown preset 'huge'"),
])
def test_bad_input_raises_a_named_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---- compute accounting -------------------------------------------------------------------------
def counted_training_flops(config, hidden_minutes=0, batch=2):
    """FLOPs of forward + backward of the real model, counted by PyTorch.

    The math kernel for attention: the counter has no formula for the CPU flash-attention kernel
    and would leave the attention matmuls out; the math kernel computes them as counted bmm calls.
    """
    torch.manual_seed(0)
    model = LSM(config)
    x = torch.randn(batch, 300, 26)
    hidden = torch.zeros(batch, 300, 26, dtype=torch.bool)
    if hidden_minutes:
        hidden[:, -hidden_minutes:] = True  # whole tokens hidden: the encoder keeps the rest
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        loss, _ = model(x, hidden)
        loss.backward()
    return counter.get_total_flops()


@pytest.mark.parametrize("name, patch, visible", [
    ("tiny", None, 1.0), ("mini", None, 1.0), ("2M", None, 1.0), ("tiny", (20, 2), 1.0), ("mini", None, 0.5),
])
def test_training_flops_match_torch_counter(name, patch, visible):
    config = get_config(name) if patch is None else get_config(name, patch=patch)
    counted = counted_training_flops(config, hidden_minutes=round(300 * (1 - visible)))
    predicted = training_flops(name, batch_size=2, patch=patch, visible_fraction=visible)
    assert predicted == pytest.approx(counted, rel=0.10)


def test_flops_scale_with_batch_and_shrink_with_hidden_tokens():
    assert training_flops("2M", batch_size=8) == 8 * training_flops("2M")
    assert training_flops("2M", visible_fraction=0.2) < training_flops("2M")
    parts = forward_flops("tiny")
    assert parts["encoder_attention"] > 0 and parts["decoder_pred"] == 2 * 181 * 64 * 50  # (1 + N) x E x P
    assert training_flops("tiny") == 3 * sum(parts.values()) - parts["patch_embed"]
