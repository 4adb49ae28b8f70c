"""Bad input to the pretrained wrapper: each named case ends in a ``TypeError``/``ValueError`` that
names the offending thing, or in a fallback the wrapper documents (asserted here).

Part of "bad input never crashes or loses data": no torch shape error, KeyError or xarray
alignment message from deep inside, no NaN in a fill, no observed value lost. The shipped model
is loaded once for the module.
"""

import json
import shutil

import numpy as np
import pytest
import xarray as xr

import lsmkit
from lsmkit import masks, pretrained

from malformed import relabel, with_signal, with_value


@pytest.fixture(scope="module")
def model():
    return lsmkit.load_pretrained()


@pytest.fixture(scope="module")
def sample():
    return lsmkit.load_sample().isel(window=slice(0, 3))


@pytest.fixture()
def windows(sample):
    return sample.copy(deep=True)


def _assert_filled_and_kept(out, w, mask=None):
    """No NaN or inf left, every observed unhidden value kept, fills inside the valid range."""
    values, original = out["signal"].values, w["signal"].values
    assert out["signal"].dims == w["signal"].dims and out["signal"].dtype == np.float32
    assert list(out["channel"].values) == list(w["channel"].values)
    assert np.isfinite(values).all()
    keep = ~np.isnan(original) & (True if mask is None else ~mask.transpose(*w["signal"].dims).values)
    np.testing.assert_array_equal(values[keep], original[keep].astype(np.float32))
    for c, name in enumerate(w["channel"].values):
        low, high = lsmkit.get_channel(name).valid_range
        assert values[..., c].min() >= low and values[..., c].max() <= high


# ---- loading -----------------------------------------------------------------------------------
@pytest.fixture()
def card_copy(tmp_path):
    """A copy of the shipped card and weights, to break."""
    source = pretrained._weights_dir()
    for name in ("lsm-2m.json", "lsm-2m.safetensors"):
        shutil.copy(source / name, tmp_path / name)
    return tmp_path / "lsm-2m.json"


def _break_card(card, case):
    if case == "card-not-json":
        card.write_text("{ this is not json")
    elif case == "card-not-a-dict":
        card.write_text("[1, 2, 3]")
    elif case == "card-lacks-keys":
        content = json.loads(card.read_text())
        del content["norm_std"], content["sha256"]
        card.write_text(json.dumps(content))
    elif case == "weights-file-missing":
        (card.parent / "lsm-2m.safetensors").unlink()
    elif case == "weights-corrupted":
        weights = card.parent / "lsm-2m.safetensors"
        data = bytearray(weights.read_bytes())
        data[-10] ^= 0xFF
        weights.write_bytes(bytes(data))
    return str(card)


BROKEN_CARDS = {
    "card-not-json": (ValueError, r"card .*lsm-2m.json is not valid JSON"),
    "card-not-a-dict": (ValueError, r"card .*lsm-2m.json lacks \['weights_file'"),
    "card-lacks-keys": (ValueError, r"card .*lsm-2m.json lacks \['sha256', 'norm_std'\]"),
    "weights-file-missing": (FileNotFoundError, r"weights file .*lsm-2m.safetensors is missing"),
    "weights-corrupted": (ValueError, r"weights .*lsm-2m.safetensors are corrupted or were changed: sha256"),
}


@pytest.mark.parametrize("case", list(BROKEN_CARDS), ids=list(BROKEN_CARDS))
def test_broken_checkpoint_files_are_named(card_copy, case):
    error, message = BROKEN_CARDS[case]
    with pytest.raises(error, match=message):
        lsmkit.load_pretrained(_break_card(card_copy, case))


BAD_LOADS = {
    "unknown-name": (dict(name="lsm-999m"), ValueError, "unknown pretrained model 'lsm-999m'; available: .*lsm-2m"),
    "name-is-a-number": (dict(name=5), ValueError, "unknown pretrained model '5'"),
    "card-path-that-does-not-exist": (dict(name="/no/such/dir/card.json"), ValueError,
                                      "unknown pretrained model '/no/such/dir/card.json'"),
    "unknown-device": (dict(device="gpu7"), ValueError, "device must name a torch device .*'gpu7'"),
    "device-not-a-string": (dict(device=3.5), ValueError, "device must name a torch device .*3.5"),
}


@pytest.mark.parametrize("case", list(BAD_LOADS), ids=list(BAD_LOADS))
def test_bad_load_arguments_are_named(case):
    kwargs, error, message = BAD_LOADS[case]
    with pytest.raises(error, match=message):
        lsmkit.load_pretrained(**kwargs)


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, None, "8"], ids=["zero", "negative", "fraction", "None", "string"])
def test_bad_batch_size_is_named(model, batch_size):
    with pytest.raises(ValueError, match=f"batch_size must be a positive integer, got {batch_size!r}"):
        pretrained.PretrainedLSM(model.model, model.card, batch_size=batch_size)


def test_a_small_batch_size_gives_the_same_fills(model, windows):
    small = pretrained.PretrainedLSM(model.model, model.card, batch_size=np.int64(2))  # 3 windows: two batches
    mask = masks.random(windows, 0.5, rng=0)
    np.testing.assert_allclose(small.impute(windows, mask)["signal"].values,
                               model.impute(windows, mask)["signal"].values, rtol=1e-5, atol=1e-4)


# ---- windows that the model cannot take -----------------------------------------------------------

BAD_WINDOWS = {
    "numpy-array": (lambda w: w["signal"].values, TypeError, "windows must be an xarray.Dataset, got ndarray"),
    "dataarray": (lambda w: w["signal"], TypeError, "windows must be an xarray.Dataset, got DataArray"),
    "no-signal-variable": (lambda w: w.rename(signal="values"), ValueError, "must have a 'signal' variable"),
    "dims-in-wrong-order": (lambda w: w.transpose("channel", "time", "window"), ValueError, r"must have dims"),
    "dim-renamed": (lambda w: w.rename(time="minute"), ValueError, r"must have dims .*'minute'"),
    "shorter-than-a-patch": (lambda w: w.isel(time=slice(0, 9)), ValueError,
                             "windows are 9 minutes long; this model takes 300-minute windows"),
    "shorter-than-the-context": (lambda w: w.isel(time=slice(0, 290)), ValueError, "windows are 290 minutes long"),
    "longer-than-the-context": (
        lambda w: xr.concat([w, w.assign_coords(time=w["time"] + 300)], "time", data_vars="all"), ValueError,
        "windows are 600 minutes long; this model takes 300-minute windows"),
    "unknown-channel": (lambda w: relabel(w.isel(channel=[0, 1]), ["heart_rate", "bogus"]), ValueError,
                        r"unknown channels \['bogus'\]"),
    "extra-channel-beyond-the-26": (
        lambda w: xr.concat([w, relabel(w.isel(channel=[0]), ["battery"])], "channel", data_vars="all"), ValueError,
        r"unknown channels \['battery'\]"),
    "duplicate-channel": (lambda w: w.isel(channel=[0, 1, 1]), ValueError,
                          r"duplicate channels \['resting_heart_rate'\]"),
    "no-participant-coordinate": (lambda w: w.drop_vars("participant"), ValueError, "'participant' coordinate"),
    "no-start-coordinate": (lambda w: w.drop_vars("start"), ValueError, "'start' coordinate"),
    "string-dtype": (lambda w: with_signal(w, w["signal"].astype(str)), TypeError, "must be floating point"),
    "object-dtype": (lambda w: with_signal(w, w["signal"].astype(object)), TypeError, "floating point, got object"),
    "complex-dtype": (lambda w: with_signal(w, w["signal"].astype(complex)), TypeError, "floating point, got complex"),
    "bool-dtype": (lambda w: with_signal(w, w["signal"] > 0), TypeError, "must be floating point, got bool"),
    "inf-value": (lambda w: with_value(w, np.inf), ValueError, r"infinite values in channels \['steps'\]"),
    "minus-inf-value": (lambda w: with_value(w, -np.inf, "heart_rate"), ValueError,
                        r"infinite values in channels \['heart_rate'\]"),
}

CALLS = {
    "impute": lambda m, w: m.impute(w),
    "reconstruct": lambda m, w: m.reconstruct(w),
    "forecast": lambda m, w: m.forecast(w, 30),
    "embed": lambda m, w: m.embed(w),
}


@pytest.mark.parametrize("call", list(CALLS), ids=list(CALLS))
@pytest.mark.parametrize("case", list(BAD_WINDOWS), ids=list(BAD_WINDOWS))
def test_bad_windows_are_refused_by_name(model, windows, case, call):
    make, error, message = BAD_WINDOWS[case]
    with pytest.raises(error, match=message):
        CALLS[call](model, make(windows))


# ---- masks that do not fit the windows -------------------------------------------------------------
def _mask(w):
    return masks.extrapolation(w, 30)


BAD_MASKS = {
    "numpy-array": (lambda w: _mask(w).values, TypeError, "boolean xarray.DataArray .*got ndarray"),
    "int-dtype": (lambda w: _mask(w).astype(int), TypeError, "boolean xarray.DataArray .*DataArray of int64"),
    "float-dtype": (lambda w: _mask(w).astype(float), TypeError, "DataArray of float64"),
    "too-few-minutes": (lambda w: _mask(w).isel(time=slice(0, 100)), ValueError, r"mask shape \(3, 100, 26\) differs"),
    "too-few-windows": (lambda w: _mask(w).isel(window=[0, 1]), ValueError, r"mask shape \(2, 300, 26\) differs"),
    "too-few-channels": (lambda w: _mask(w).isel(channel=slice(0, 5)), ValueError, r"mask shape \(3, 300, 5\) differs"),
    "2d-no-window-dim": (lambda w: _mask(w).isel(window=0), ValueError, r"mask must have dims .*\('time', 'channel'\)"),
    "4d-extra-dim": (lambda w: _mask(w).expand_dims(extra=2), ValueError, r"mask must have dims .*'extra'"),
    "dim-renamed": (lambda w: _mask(w).rename(time="minute"), ValueError, r"mask must have dims .*'minute'"),
    "other-windows": (lambda w: _mask(w).assign_coords(window=_mask(w)["window"] + 100), ValueError,
                      "made for other windows"),
}


@pytest.mark.parametrize("call", ["impute", "reconstruct"])
@pytest.mark.parametrize("case", list(BAD_MASKS), ids=list(BAD_MASKS))
def test_bad_masks_are_refused_by_name(model, windows, case, call):
    make, error, message = BAD_MASKS[case]
    with pytest.raises(error, match=message):
        getattr(model, call)(windows, make(windows))


@pytest.mark.parametrize("call", ["impute", "reconstruct"])
def test_mask_for_other_channels_of_the_same_count_is_refused(model, windows, call):
    """Five windows' channels, a mask over five others: the shapes agree, the channels do not.
    It used to hide nothing of the windows silently."""
    w = windows.isel(channel=slice(0, 5))
    other = masks.sensors(windows.isel(channel=slice(5, 10)), channels=["rr_median"])
    with pytest.raises(ValueError, match=r"mask channels differ .*'heart_rate'.*'rr_median'"):
        getattr(model, call)(w, other)


def test_mask_with_a_duplicated_channel_is_refused(model, windows):
    w = windows.isel(channel=[0, 1])
    mask = relabel(_mask(w), ["heart_rate", "heart_rate"])
    with pytest.raises(ValueError, match="mask channels differ .*duplicated"):
        model.impute(w, mask)


# ---- forecast horizons and embed options -------------------------------------------------------------
BAD_HORIZONS = {
    "zero": (0, ValueError), "negative": (-5, ValueError), "beyond-the-context": (301, ValueError),
    "fraction": (2.5, ValueError), "nan": (float("nan"), ValueError), "inf": (float("inf"), ValueError),
    "None": (None, TypeError), "string": ("30", TypeError), "bool": (True, TypeError),
}


@pytest.mark.parametrize("case", list(BAD_HORIZONS), ids=list(BAD_HORIZONS))
def test_bad_forecast_horizon_is_named(model, windows, case):
    minutes, error = BAD_HORIZONS[case]
    with pytest.raises(error, match=r"minutes \(the forecast horizon\) must be an integer.*got"):
        model.forecast(windows, minutes)


def test_forecast_on_short_windows_blames_the_windows_not_the_horizon(model, windows):
    with pytest.raises(ValueError, match="windows are 20 minutes long; this model takes 300-minute"):
        model.forecast(windows.isel(time=slice(0, 20)), 30)


@pytest.mark.parametrize("minutes", [np.int64(30), 30.0], ids=["numpy-int", "whole-float"])
def test_integer_like_horizons_are_accepted(model, windows, minutes):
    xr.testing.assert_identical(model.forecast(windows, minutes), model.forecast(windows, 30))


BAD_EMBED = {
    "pool-unknown": (dict(pool="avg"), "pool must be 'mean', 'max', 'min', several of them joined by '\\+' "
                                       "\\(e.g. 'max\\+min'\\) or 'none', got 'avg'"),
    "pool-repeated": (dict(pool="max+max"), "pool must be .*got 'max\\+max'"),
    "pool-unknown-part": (dict(pool="max+median"), "pool must be .*got 'max\\+median'"),
    "pool-empty": (dict(pool=""), "pool must be .*got ''"),
    "pool-none-joined": (dict(pool="none+max"), "pool must be .*got 'none\\+max'"),
    "centre-string": (dict(centre="yes"), "centre must be True or False, got 'yes'"),
    "centre-number": (dict(centre=1), "centre must be True or False, got 1"),
    "pool-wrong-case": (dict(pool="MEAN"), "pool must be .*got 'MEAN'"),
    "pool-None": (dict(pool=None), "pool must be .*got None"),
    "pool-number": (dict(pool=3), "pool must be .*got 3"),
    "layers-unknown": (dict(layers="first"), "layers must be 'last' or 'all', got 'first'"),
    "layers-number": (dict(layers=2), "layers must be 'last' or 'all', got 2"),
    "layers-list": (dict(layers=[1]), r"layers must be 'last' or 'all', got \[1\]"),
    "pool-none-with-all-layers": (dict(pool="none", layers="all"), "pool='none' keeps the tokens of the last layer"),
}


@pytest.mark.parametrize("case", list(BAD_EMBED), ids=list(BAD_EMBED))
def test_bad_embed_options_are_named(model, windows, case):
    kwargs, message = BAD_EMBED[case]
    with pytest.raises(ValueError, match=message):
        model.embed(windows, **kwargs)


def test_embedding_zero_windows_is_refused(model, windows):
    with pytest.raises(ValueError, match="windows hold no window to embed"):
        model.embed(windows.isel(window=slice(0, 0)))


# ---- documented fallbacks -------------------------------------------------------------------------------
def test_nothing_visible_gives_the_models_unconditional_guess(model, windows):
    """Documented in impute: no token to see, so every such window gets the same finite fill, and
    hiding everything is the same as having nothing."""
    empty = with_signal(windows, windows["signal"] * np.nan)
    assert model.impute(empty)["signal"].isnull().all()  # nothing recorded: nothing invented
    guess = model.impute(empty, infer_absent=True)
    _assert_filled_and_kept(guess, empty)
    values = guess["signal"].values
    np.testing.assert_array_equal(values, np.broadcast_to(values[:1], values.shape))
    np.testing.assert_array_equal(model.impute(windows, xr.ones_like(_mask(windows)))["signal"].values, values)
    np.testing.assert_array_equal(model.forecast(windows, 300)["signal"].values, values)  # the whole window


def test_embedding_windows_without_data_gives_the_class_token(model, windows):
    """Documented in embed: windows with no data get the class token (pooled), NaN tokens (pool='none')."""
    empty = with_signal(windows, windows["signal"] * np.nan)
    emb = model.embed(empty).values
    assert np.isfinite(emb).all()
    np.testing.assert_array_equal(emb, np.broadcast_to(emb[:1], emb.shape))
    assert not np.allclose(emb[0], model.embed(windows).values[0])
    assert np.isnan(model.embed(empty, pool="none").values).all()
    # centred: the class token less the average window's, the same for every such window
    centred = model.embed(empty, centre=True).values
    assert np.isfinite(centred).all() and not np.allclose(centred, emb)
    np.testing.assert_array_equal(centred, np.broadcast_to(centred[:1], centred.shape))


def test_all_missing_channel_stays_absent_unless_inferred_from_the_others(model, windows):
    w = with_signal(windows, windows["signal"].where(windows["channel"] != "heart_rate"))
    out = model.impute(w)
    assert out["signal"].sel(channel="heart_rate").isnull().all()
    assert not out["inferred"].any()
    _assert_filled_and_kept(out.drop_sel(channel="heart_rate"), w.drop_sel(channel="heart_rate"))
    inferred = model.impute(w, infer_absent=True)
    _assert_filled_and_kept(inferred, w)
    assert inferred["inferred"].sel(channel="heart_rate") and inferred["inferred"].sum() == 1


def test_a_hidden_channel_is_carried_and_filled(model, windows):
    """Sensor imputation by mask: the user hid it, so it is filled without infer_absent."""
    mask = masks.sensors(windows, channels=["heart_rate"])
    out = model.impute(windows, mask)
    assert out["signal"].sel(channel="heart_rate").notnull().all() and not out["inferred"].any()


@pytest.mark.parametrize("case", ["five-channels", "one-channel"])
def test_missing_channels_are_legal_and_come_back_as_given(model, windows, case):
    w = windows.isel(channel=slice(0, 5) if case == "five-channels" else [0])
    mask = masks.interpolation(w, 30, rng=0)
    _assert_filled_and_kept(model.impute(w, mask), w, mask)


def test_channels_in_another_order_are_read_by_name(model, windows):
    order = np.random.default_rng(0).permutation(windows.sizes["channel"])
    shuffled = windows.isel(channel=order)
    mask = masks.interpolation(windows, 30, rng=0)
    out = model.impute(shuffled, mask.isel(channel=order))
    np.testing.assert_allclose(out["signal"].values, model.impute(windows, mask)["signal"].values[:, :, order],
                               rtol=1e-5, atol=1e-4)


def test_float64_signal_is_taken_and_float32_returned(model, windows):
    w = with_signal(windows, windows["signal"].astype(np.float64))
    _assert_filled_and_kept(model.impute(w), w)


def test_mask_that_hides_nothing_fills_only_the_real_gaps(model, windows):
    out = model.impute(windows, xr.zeros_like(_mask(windows)))
    _assert_filled_and_kept(out, windows)
    xr.testing.assert_identical(out, model.impute(windows))


@pytest.mark.parametrize("case", ["transposed", "channels-reordered", "no-coordinates"])
def test_masks_are_read_by_dim_and_channel_name(model, windows, case):
    mask = masks.sensors(windows, n=4, rng=0)
    other = {"transposed": lambda: mask.transpose("channel", "window", "time"),
             "channels-reordered": lambda: mask.isel(channel=slice(None, None, -1)),
             "no-coordinates": lambda: xr.DataArray(mask.values, dims=mask.dims)}[case]()
    xr.testing.assert_identical(model.impute(windows, other), model.impute(windows, mask))


def test_zero_windows_come_back_empty(model, windows):
    out = model.impute(windows.isel(window=slice(0, 0)))
    assert out["signal"].shape == (0, 300, 26) and out["signal"].dtype == np.float32
