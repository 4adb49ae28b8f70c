"""Bad input to the classical baselines: each named case ends in a ``TypeError``/``ValueError`` that
names the offending thing, or in the fallback :mod:`lsmkit.baselines` documents (asserted here).

Part of "bad input never crashes or loses data": no IndexError, KeyError or scikit-learn message
from deep inside, no inf or NaN in a fill, no observed value lost.
"""

import numpy as np
import pytest
import xarray as xr

import lsmkit
from lsmkit import baselines, masks

from malformed import relabel, with_signal, with_value

CHANNELS = ("heart_rate", "steps", "skin_temperature")
MEANS = np.array([lsmkit.get_channel(c).mean for c in CHANNELS], dtype=np.float32)

# Factories, not instances: every test gets a fresh method.
METHODS = {
    "WindowMean": lambda: baselines.WindowMean(),
    "Nearest": lambda: baselines.Nearest(),
    "Linear": lambda: baselines.Linear(),
    "KNN": lambda: baselines.KNN(k=2, max_fit_rows=50),
    "MICE": lambda: baselines.MICE(max_iter=3, max_fit_rows=50),
    "SeasonalNaive": lambda: baselines.SeasonalNaive(),
    "AutoRegressive": lambda: baselines.AutoRegressive(lags=2),
}


def _windows(n_window=2, minutes=40, channels=CHANNELS):
    """Plausible values around each channel's default mean, with one real gap."""
    rng = np.random.default_rng(0)
    registry = [lsmkit.get_channel(c) for c in channels]
    mean = np.array([c.mean for c in registry], dtype=np.float32)
    std = np.array([c.std for c in registry], dtype=np.float32)
    low, high = np.array([c.valid_range for c in registry], dtype=np.float32).T
    values = np.clip(mean + 0.3 * std * rng.standard_normal((n_window, minutes, len(channels))), low, high)
    values[0, 5:8, 0] = np.nan
    return lsmkit.make_windows(values, participant=["a", "b", "c"][:n_window],
                               start=["2024-01-01", "2024-01-02", "2024-01-03"][:n_window], channels=list(channels))


@pytest.fixture(params=list(METHODS), ids=list(METHODS))
def method(request):
    return METHODS[request.param]()


# ---- windows that are not a window batch ------------------------------------------------------


BAD_WINDOWS = {
    "numpy-array": (lambda w: w["signal"].values, TypeError, "windows must be an xarray.Dataset, got ndarray"),
    "dataarray": (lambda w: w["signal"], TypeError, "windows must be an xarray.Dataset, got DataArray"),
    "no-signal-variable": (lambda w: w.rename(signal="values"), ValueError, "must have a 'signal' variable"),
    "dims-in-wrong-order": (lambda w: w.transpose("time", "window", "channel"), ValueError, r"must have dims"),
    "dim-renamed": (lambda w: w.rename(time="minute"), ValueError, r"must have dims .*'minute'"),
    "unknown-channel": (lambda w: relabel(w, ["heart_rate", "steps", "bogus"]), ValueError,
                        r"unknown channels \['bogus'\]"),
    "duplicate-channel": (lambda w: w.isel(channel=[0, 0, 1]), ValueError, r"duplicate channels \['heart_rate'\]"),
    "no-participant-coordinate": (lambda w: w.drop_vars("participant"), ValueError, "'participant' coordinate"),
    "string-dtype": (lambda w: with_signal(w, w["signal"].astype(str)), TypeError, "must be floating point"),
    "object-dtype": (lambda w: with_signal(w, w["signal"].astype(object)), TypeError, "must be floating point, got object"),
    "complex-dtype": (lambda w: with_signal(w, w["signal"].astype(complex)), TypeError, "floating point, got complex"),
    "bool-dtype": (lambda w: with_signal(w, w["signal"] > 0), TypeError, "must be floating point, got bool"),
    "int-dtype": (lambda w: with_signal(w, w["signal"].fillna(0).astype(int)), TypeError, "must be floating point"),
    "inf-value": (lambda w: with_value(w, np.inf), ValueError, r"infinite values in channels \['steps'\]"),
    "minus-inf-value": (lambda w: with_value(w, -np.inf, "skin_temperature"), ValueError,
                        r"infinite values in channels \['skin_temperature'\]"),
}


@pytest.mark.parametrize("case", list(BAD_WINDOWS), ids=list(BAD_WINDOWS))
def test_bad_windows_are_refused_by_name(method, case):
    make, error, message = BAD_WINDOWS[case]
    with pytest.raises(error, match=message):
        method.impute(make(_windows()))


# ---- masks that do not fit the windows --------------------------------------------------------
def _mask(w):
    return masks.extrapolation(w, 10)


BAD_MASKS = {
    "numpy-array": (lambda w: _mask(w).values, TypeError, "boolean xarray.DataArray .*got ndarray"),
    "list": (lambda w: _mask(w).values.tolist(), TypeError, "boolean xarray.DataArray .*got list"),
    "int-dtype": (lambda w: _mask(w).astype(int), TypeError, "boolean xarray.DataArray .*DataArray of int64"),
    "float-with-nan": (lambda w: _mask(w).where(_mask(w)), TypeError, "DataArray of float64"),
    "too-few-minutes": (lambda w: _mask(w).isel(time=slice(0, 20)), ValueError, r"mask shape \(2, 20, 3\) differs"),
    "too-few-windows": (lambda w: _mask(w).isel(window=[0]), ValueError, r"mask shape \(1, 40, 3\) differs"),
    "2d-no-window-dim": (lambda w: _mask(w).isel(window=0), ValueError, r"mask must have dims .*\('time', 'channel'\)"),
    "4d-extra-dim": (lambda w: _mask(w).expand_dims(extra=2), ValueError, r"mask must have dims .*'extra'"),
    "dim-renamed": (lambda w: _mask(w).rename(time="minute"), ValueError, r"mask must have dims .*'minute'"),
    "other-windows": (lambda w: _mask(w).assign_coords(window=[10, 11]), ValueError, "made for other windows"),
    "unknown-channel": (lambda w: relabel(_mask(w), ["heart_rate", "steps", "sdnn"]), ValueError,
                        r"mask has channels \['sdnn'\] that the windows do not"),
    "duplicate-channel": (lambda w: relabel(_mask(w), ["heart_rate", "steps", "steps"]), ValueError,
                          r"mask has duplicate channels \['steps'\]"),
}


@pytest.mark.parametrize("case", list(BAD_MASKS), ids=list(BAD_MASKS))
def test_bad_masks_are_refused_by_name(method, case):
    make, error, message = BAD_MASKS[case]
    w = _windows()
    with pytest.raises(error, match=message):
        method.impute(w, make(w))


# ---- documented fallbacks ----------------------------------------------------------------------
def _assert_filled_and_kept(out, w, mask=None):
    """No NaN or inf left, every observed unhidden value kept, fills inside the valid range."""
    values, original = out["signal"].values, w["signal"].values
    assert out["signal"].dims == w["signal"].dims and out["signal"].dtype == np.float32
    assert np.isfinite(values).all()
    keep = ~np.isnan(original) & (True if mask is None else ~mask.transpose(*w["signal"].dims).values)
    np.testing.assert_array_equal(values[keep], original[keep].astype(np.float32))
    for c, name in enumerate(w["channel"].values):
        low, high = lsmkit.get_channel(name).valid_range
        assert values[..., c].min() >= low and values[..., c].max() <= high


def test_transposed_mask_is_read_by_dim_name(method):
    w = _windows()
    mask = masks.interpolation(w, 10, rng=0)
    out = method.impute(w, mask.transpose("channel", "time", "window"))
    xr.testing.assert_identical(out, method.impute(w, mask))


def test_mask_channels_are_aligned_by_name_not_position(method):
    w = _windows()
    mask = masks.sensors(w, channels=["steps"])
    reordered = mask.isel(channel=[2, 0, 1])  # same channels, other order
    out = method.impute(w, reordered)
    xr.testing.assert_identical(out, method.impute(w, mask))
    assert not np.array_equal(out["signal"].sel(channel="steps").values, w["signal"].sel(channel="steps").values)


def test_mask_without_coordinates_is_positional(method):
    w = _windows()
    mask = masks.interpolation(w, 10, rng=0)
    bare = xr.DataArray(mask.values, dims=mask.dims)
    xr.testing.assert_identical(method.impute(w, bare), method.impute(w, mask))


def test_mask_that_hides_nothing_fills_only_the_real_gaps(method):
    w = _windows()
    out = method.impute(w, xr.zeros_like(_mask(w)))
    _assert_filled_and_kept(out, w)
    xr.testing.assert_identical(out, method.impute(w))


@pytest.mark.parametrize("case", ["mask-hides-everything", "all-missing-windows"])
def test_nothing_visible_falls_back_to_the_registry_mean(method, case):
    """The documented fallback: a window-channel with no visible value gets the channel's default mean."""
    w = _windows()
    if case == "mask-hides-everything":
        out = method.impute(w, xr.ones_like(_mask(w)))
    else:
        out = method.impute(with_signal(w, w["signal"] * np.nan), infer_absent=True)
    np.testing.assert_allclose(out["signal"].values, np.broadcast_to(MEANS, out["signal"].shape), rtol=1e-5)


def test_all_missing_channel_stays_absent_and_the_others_are_filled(method):
    """No invented sensors: a channel absent from the whole input comes back absent."""
    w = _windows()
    w = with_signal(w, w["signal"].where(w["channel"] != "skin_temperature"))
    out = method.impute(w)
    assert out["signal"].sel(channel="skin_temperature").isnull().all()
    assert out["inferred"].values.tolist() == [False, False, False]
    _assert_filled_and_kept(out.isel(channel=[0, 1]), w.isel(channel=[0, 1]))


def test_all_missing_channel_gets_the_registry_mean_when_inferred(method):
    w = _windows()
    w = with_signal(w, w["signal"].where(w["channel"] != "skin_temperature"))
    out = method.impute(w, infer_absent=True)
    np.testing.assert_allclose(out["signal"].sel(channel="skin_temperature").values, MEANS[2], rtol=1e-5)
    assert out["inferred"].values.tolist() == [False, False, True]
    _assert_filled_and_kept(out.isel(channel=[0, 1]), w.isel(channel=[0, 1]))


def test_infer_absent_must_be_a_flag(method):
    with pytest.raises(ValueError, match="infer_absent must be True or False, got 'yes'"):
        method.impute(_windows(), infer_absent="yes")


@pytest.mark.parametrize("empty", ["zero-windows", "zero-minutes", "zero-channels"])
def test_empty_batch_comes_back_empty(method, empty):
    w = _windows()
    w = w.isel({"zero-windows": {"window": slice(0, 0)}, "zero-minutes": {"time": slice(0, 0)},
                "zero-channels": {"channel": slice(0, 0)}}[empty])
    out = method.impute(w)
    assert out["signal"].shape == w["signal"].shape and out["signal"].dtype == np.float32
    assert out["signal"].size == 0


@pytest.mark.parametrize("case", ["one-minute-window", "one-channel", "float64-signal", "fewer-channels"])
def test_small_or_unusual_but_legal_windows_are_filled(method, case):
    w = _windows()
    if case == "one-minute-window":
        w = _windows(minutes=1)
    elif case == "one-channel":
        w = w.isel(channel=[0])
    elif case == "float64-signal":
        w = with_signal(w, w["signal"].astype(np.float64))
    else:
        w = w.sel(channel=["steps", "heart_rate"])  # fewer channels, another order: legal
    out = method.impute(w)
    assert list(out["channel"].values) == list(w["channel"].values)
    _assert_filled_and_kept(out, w)


def test_mice_with_a_channel_constant_over_the_fitting_minutes():
    """Resting heart rate is one value per day: a bundled day made MICE hand scikit-learn
    min_value == max_value, which it refuses ("One (or more) features have min_value >= max_value")."""
    w = _windows()
    w = with_signal(w, w["signal"].where(w["channel"] != "steps", 7.0))  # steps constant everywhere
    mask = masks.random(w, 0.5, rng=0)
    out = baselines.MICE(max_iter=3, max_fit_rows=50).impute(w, mask)
    _assert_filled_and_kept(out, w, mask)
    np.testing.assert_allclose(out["signal"].sel(channel="steps").values, 7.0, atol=1e-3)


def test_mice_with_a_constant_channel_far_from_its_default_mean():
    """At z about 100 a float32 ``low + 1e-6`` rounded back to ``low``: min_value == max_value again."""
    w = _windows(channels=("heart_rate", "scl_slope", "skin_temperature"))
    slope = lsmkit.get_channel("scl_slope")
    value = np.float32(slope.mean + 100 * slope.std)  # 15 uS/min: within the valid range, z = 100
    w = with_signal(w, w["signal"].where(w["channel"] != "scl_slope", value))
    mask = masks.random(w, 0.5, rng=0)
    out = baselines.MICE(max_iter=3, max_fit_rows=50).impute(w, mask)
    _assert_filled_and_kept(out, w, mask)
    np.testing.assert_allclose(out["signal"].sel(channel="scl_slope").values, value, rtol=1e-5)


def test_mice_on_a_few_bundled_windows_does_not_crash():
    w = lsmkit.load_sample().isel(window=slice(0, 3))
    mask = masks.random(w, 0.5, rng=0)
    out = baselines.MICE(max_iter=3, max_fit_rows=50).impute(w, mask)
    _assert_filled_and_kept(out, w, mask)


def test_autoregressive_with_more_lags_than_minutes_holds_the_last_value():
    w = _windows()
    mask = masks.extrapolation(w, 10)
    out = baselines.AutoRegressive(lags=500).impute(w, mask)["signal"].values
    np.testing.assert_allclose(out[:, 30:], np.repeat(out[:, 29:30], 10, axis=1))


# ---- constructors ------------------------------------------------------------------------------
BAD_ARGUMENTS = {
    "KNN-k-zero": (lambda: baselines.KNN(k=0), ValueError, "k must be a positive integer, got 0"),
    "KNN-k-negative": (lambda: baselines.KNN(k=-1), ValueError, "k must be a positive integer, got -1"),
    "KNN-k-fraction": (lambda: baselines.KNN(k=2.5), ValueError, "k must be a positive integer, got 2.5"),
    "KNN-k-string": (lambda: baselines.KNN(k="3"), TypeError, "k must be a positive integer, got '3'"),
    "KNN-k-None": (lambda: baselines.KNN(k=None), TypeError, "k must be a positive integer, got None"),
    "KNN-k-bool": (lambda: baselines.KNN(k=True), TypeError, "k must be a positive integer, got True"),
    "KNN-max_fit_rows-too-few": (lambda: baselines.KNN(max_fit_rows=5), ValueError, "max_fit_rows must be .*got 5"),
    "KNN-max_fit_rows-negative": (lambda: baselines.KNN(max_fit_rows=-1), ValueError, "max_fit_rows must be .*got -1"),
    "KNN-max_fit_rows-None": (lambda: baselines.KNN(max_fit_rows=None), TypeError, "max_fit_rows must be .*got None"),
    "KNN-rng-string": (lambda: baselines.KNN(rng="x"), TypeError, "rng must be .*got 'x'"),
    "KNN-rng-negative": (lambda: baselines.KNN(rng=-1), TypeError, "rng must be .*got -1"),
    "MICE-max_iter-zero": (lambda: baselines.MICE(max_iter=0), ValueError, "max_iter must be a positive integer, got 0"),
    "MICE-max_iter-negative": (lambda: baselines.MICE(max_iter=-3), ValueError, "max_iter must be .*got -3"),
    "MICE-max_iter-fraction": (lambda: baselines.MICE(max_iter=1.5), ValueError, "max_iter must be .*got 1.5"),
    "MICE-max_iter-None": (lambda: baselines.MICE(max_iter=None), TypeError, "max_iter must be .*got None"),
    "MICE-rng-string": (lambda: baselines.MICE(rng="seed"), TypeError, "rng must be .*got 'seed'"),
    "AR-lags-zero": (lambda: baselines.AutoRegressive(lags=0), ValueError, "lags must be a positive integer, got 0"),
    "AR-lags-negative": (lambda: baselines.AutoRegressive(lags=-1), ValueError, "lags must be .*got -1"),
    "AR-lags-fraction": (lambda: baselines.AutoRegressive(lags=2.5), ValueError, "lags must be .*got 2.5"),
    "AR-lags-string": (lambda: baselines.AutoRegressive(lags="a"), TypeError, "lags must be .*got 'a'"),
    "AR-lags-None": (lambda: baselines.AutoRegressive(lags=None), TypeError, "lags must be .*got None"),
    "SeasonalNaive-period-zero": (lambda: baselines.SeasonalNaive(period=0), ValueError, "period must be .*got 0"),
    "SeasonalNaive-period-negative": (lambda: baselines.SeasonalNaive(period=-1440), ValueError, "period must be .*-1440"),
    "SeasonalNaive-period-fraction": (lambda: baselines.SeasonalNaive(period=1.5), ValueError, "period must be .*1.5"),
    "SeasonalNaive-period-None": (lambda: baselines.SeasonalNaive(period=None), TypeError, "period must be .*None"),
    "SeasonalNaive-history-int": (lambda: baselines.SeasonalNaive(history=5), TypeError,
                                  "history must be recordings or windows .*got int"),
    "SeasonalNaive-history-dataarray": (lambda: baselines.SeasonalNaive(history=_windows()["signal"]), TypeError,
                                        "history must be .*got DataArray"),
    "SeasonalNaive-history-no-signal": (lambda: baselines.SeasonalNaive(history=_windows().rename(signal="x")),
                                        ValueError, "history: .*'signal' variable"),
    "SeasonalNaive-history-unknown-channel": (
        lambda: baselines.SeasonalNaive(history=relabel(_windows(), ["heart_rate", "steps", "bogus"])),
        ValueError, r"history: .*unknown channels \['bogus'\]"),
    "classical-history-int": (lambda: baselines.classical(history=5), TypeError, "history must be"),
    "WindowMean-takes-no-arguments": (lambda: baselines.WindowMean(3), TypeError, "WindowMean"),
}


@pytest.mark.parametrize("case", list(BAD_ARGUMENTS), ids=list(BAD_ARGUMENTS))
def test_bad_constructor_arguments_are_named(case):
    make, error, message = BAD_ARGUMENTS[case]
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("make, expected", [
    (lambda: baselines.KNN(k=np.int64(3)), {"k": 3}),
    (lambda: baselines.KNN(k=3.0), {"k": 3}),
    (lambda: baselines.MICE(rng=np.random.default_rng(1)), {"max_iter": 10}),
    (lambda: baselines.AutoRegressive(lags=np.int32(4)), {"lags": 4}),
    (lambda: baselines.SeasonalNaive(period=60.0, history=_windows()), {"period": 60}),
], ids=["KNN-numpy-int", "KNN-whole-float", "MICE-generator-rng", "AR-numpy-int32",
        "SeasonalNaive-whole-float-and-windows-history"])
def test_integer_like_arguments_are_accepted(make, expected):
    method = make()
    for name, value in expected.items():
        assert getattr(method, name) == value and type(getattr(method, name)) is int
