import numpy as np
import pandas as pd
import pytest
import xarray as xr

import lsmkit
from lsmkit import baselines, masks

ALL = [baselines.WindowMean(), baselines.Nearest(), baselines.Linear(), baselines.KNN(k=2, max_fit_rows=50),
       baselines.MICE(max_iter=3, max_fit_rows=50), baselines.SeasonalNaive(), baselines.AutoRegressive(lags=2)]


def _windows(values, channels=("heart_rate",), start="2024-01-01", participant="a"):
    values = np.asarray(values, dtype=np.float32)
    values = values[None, :, None] if values.ndim == 1 else values[None]  # (1, T, C)
    return lsmkit.make_windows(values, participant=[participant], start=[start], channels=list(channels))


def _hr(ds):
    return ds["signal"].values[0, :, 0]


def test_linear_interpolates_between_visible_minutes_and_holds_at_edges():
    w = _windows([np.nan, 60, np.nan, np.nan, 90, np.nan])
    np.testing.assert_allclose(_hr(baselines.Linear().impute(w)), [60, 60, 70, 80, 90, 90])


def test_nearest_and_mean():
    w = _windows([np.nan, 60, np.nan, np.nan, 90, np.nan])
    np.testing.assert_allclose(_hr(baselines.Nearest().impute(w)), [60, 60, 60, 90, 90, 90])
    np.testing.assert_allclose(_hr(baselines.WindowMean().impute(w)), [75, 60, 75, 75, 90, 75])


def test_hidden_values_are_not_seen_and_observed_ones_kept():
    w = _windows([50, 60, 70, 80, 90, 100])
    mask = masks.extrapolation(w, 2)
    np.testing.assert_allclose(_hr(baselines.Linear().impute(w, mask)), [50, 60, 70, 80, 80, 80])


@pytest.mark.parametrize("method", ALL, ids=lambda m: type(m).__name__)
def test_all_missing_channel_stays_absent_unless_inferred_then_gets_the_registry_mean(method):
    w = _windows([np.nan] * 12)
    out = method.impute(w)
    assert out["signal"].isnull().all() and not out["inferred"].any()
    inferred = method.impute(w, infer_absent=True)
    np.testing.assert_allclose(inferred["signal"].values, lsmkit.get_channel("heart_rate").mean)
    assert inferred["inferred"].values.tolist() == [True]


@pytest.mark.parametrize("method", ALL, ids=lambda m: type(m).__name__)
def test_gaps_at_start_and_end_are_filled_inside_the_valid_range(method):
    rng = np.random.default_rng(0)
    values = np.stack([70 + 10 * np.sin(np.arange(40) / 5) + rng.normal(0, 1, 40),
                       800 + 50 * np.cos(np.arange(40) / 5)], axis=1)
    w = _windows(values, channels=("heart_rate", "rr_median"))
    mask = masks.extrapolation(w, 6)
    mask[:, :5, :] = True  # a gap at the start too
    out = method.impute(w, mask)["signal"].values
    assert not np.isnan(out).any()
    for c, name in enumerate(["heart_rate", "rr_median"]):
        low, high = lsmkit.get_channel(name).valid_range
        assert (out[..., c] >= low).all() and (out[..., c] <= high).all()
    np.testing.assert_array_equal(out[:, 5:34], values[None, 5:34].astype(np.float32))  # visible values kept


def test_knn_and_mice_use_the_other_channels_at_the_same_minute():
    """rr_median = 60000 / heart_rate: hiding rr_median for the whole window leaves only the heart
    rate to go on, which a within-channel method cannot use."""
    rng = np.random.default_rng(1)
    hr = rng.uniform(55, 150, size=(6, 120)).astype(np.float32)
    signal = np.stack([hr, 60000 / hr], axis=-1)
    w = lsmkit.make_windows(signal, participant=list("abcdef"), start=["2024-01-01"] * 6,
                            channels=["heart_rate", "rr_median"])
    mask = masks.sensors(w, channels=["rr_median"])
    mask[:3] = False  # the first three windows show both channels: something to learn from
    truth = signal[3:, :, 1]
    knn = baselines.KNN(k=3).impute(w, mask)["signal"].values[3:, :, 1]
    mice = baselines.MICE().impute(w, mask)["signal"].values[3:, :, 1]
    mean = baselines.WindowMean().impute(w, mask)["signal"].values[3:, :, 1]
    assert np.abs(knn - truth).mean() < 0.1 * np.abs(mean - truth).mean()
    assert np.abs(mice - truth).mean() < 0.5 * np.abs(mean - truth).mean()  # a linear fit of a 1/x law


def test_cross_channel_methods_fall_back_to_linear_where_every_channel_is_hidden():
    values = np.stack([np.linspace(60, 90, 30), np.linspace(700, 900, 30)], axis=1)
    w = _windows(values, channels=("heart_rate", "rr_median"))
    mask = masks.interpolation(w, 10, rng=0)
    linear = baselines.Linear().impute(w, mask)["signal"].values
    for method in (baselines.KNN(), baselines.MICE()):
        np.testing.assert_allclose(method.impute(w, mask)["signal"].values, linear, rtol=1e-6)


def test_seasonal_naive_copies_the_same_minutes_one_day_earlier():
    day = np.arange(1440 * 2, dtype=np.float32) % 1440 / 10 + 50  # a daily pattern, 50..194 bpm
    recordings = lsmkit.make_recordings(day[None, :, None], participant=["a"], start=["2024-01-01"],
                                        channels=["heart_rate"])
    windows = lsmkit.to_windows(recordings, 300, stride=300).isel(window=[5, 6])  # both on day 2
    mask = masks.extrapolation(windows, 30)
    seen_day_one = baselines.SeasonalNaive(history=recordings).impute(windows, mask)["signal"].values
    np.testing.assert_allclose(seen_day_one, windows["signal"].values)  # the pattern repeats exactly
    # without history, the batch holds no earlier day: the last visible value is carried forward
    alone = baselines.SeasonalNaive().impute(windows, mask)["signal"].values
    np.testing.assert_allclose(alone[:, -30:, 0], windows["signal"].values[:, -31:-30, 0].repeat(30, axis=1))


def test_seasonal_naive_never_reads_the_hidden_minutes_of_its_own_window():
    values = np.arange(600, dtype=np.float32)[None, :, None] / 10 + 60
    recordings = lsmkit.make_recordings(values, participant=["a"], start=["2024-01-01"], channels=["heart_rate"])
    windows = lsmkit.to_windows(recordings, 300, stride=300)
    mask = masks.extrapolation(windows, 60)
    out = baselines.SeasonalNaive(history=recordings, period=30).impute(windows, mask)["signal"].values
    # minutes 210-269 lie partly in the hidden tail: all are refused, the last visible value is held
    np.testing.assert_allclose(out[0, 240:, 0], windows["signal"].values[0, 239, 0])


def test_autoregressive_follows_a_stationary_ar_process_and_holds_explosive_ones():
    rng = np.random.default_rng(0)
    x = np.zeros(300)
    for t in range(1, 300):
        x[t] = 0.9 * x[t - 1] + rng.normal(0, 1)
    w = _windows(70 + 3 * x)
    mask = masks.extrapolation(w, 20)
    out = _hr(baselines.AutoRegressive(lags=1).impute(w, mask))
    m = out[:280].mean()
    expected = m + (out[279] - m) * 0.9 ** np.arange(1, 21)  # an AR(1) forecast decays to the mean
    np.testing.assert_allclose(out[280:], expected, atol=1.5)
    grow = _windows(60 * 1.003 ** np.arange(300))  # explosive: would leave any plausible range
    held = _hr(baselines.AutoRegressive(lags=1).impute(grow, mask))
    np.testing.assert_allclose(held[280:], held[279])


def test_forecasters_declare_their_task_and_evaluate_runs_them_only_there():
    w = lsmkit.load_sample().isel(window=slice(0, 4))
    table = lsmkit.evaluate({"ar": baselines.AutoRegressive(), "linear": baselines.Linear()}, w,
                            tasks={"interpolation": (30,), "extrapolation": (30,)}, rng=0, n_boot=10, progress=False)
    assert set(table[table["method"] == "ar"]["task"]) == {"extrapolation"}
    assert set(table[table["method"] == "linear"]["task"]) == {"interpolation", "extrapolation"}


def test_classical_lists_every_baseline_by_display_name():
    methods = baselines.classical()
    assert list(methods) == ["window mean", "nearest", "linear interpolation", "kNN", "MICE", "seasonal naive",
                             "AR (statsmodels)"]
    assert all(hasattr(m, "impute") for m in methods.values())
    assert "KNN(" in repr(methods["kNN"])


def test_bad_input_is_refused():
    w = _windows([1.0] * 6)
    with pytest.raises(ValueError, match="mask shape"):
        baselines.Linear().impute(w, masks.extrapolation((1, 5, 1), 2))
    with pytest.raises(TypeError, match="boolean xarray.DataArray"):
        baselines.Linear().impute(w, np.zeros((1, 6, 1), bool))
    with pytest.raises(ValueError, match="k must be"):
        baselines.KNN(k=0)
    with pytest.raises(ValueError, match="lags must be"):
        baselines.AutoRegressive(lags=0)
    with pytest.raises(ValueError, match="period must be"):
        baselines.SeasonalNaive(period=0)
