"""A catalogue of malformed input for the task masks: each named case ends in a clear error.

``random``, ``interpolation``, ``extrapolation``, ``sensors``, ``union`` and ``scored`` are fed bad
ratios, lengths, channel names and counts, windows of the wrong type or dims, masks that do not fit
together and random generators of the wrong type. An error must be a ``ValueError`` or ``TypeError``
whose message names the offending argument; the few accepted edge cases (lengths that are not a
multiple of the patch, all-NaN channels) are asserted to do what the docstrings say.
tests/test_masks.py holds the normal behaviour; tests/test_fuzz.py the property-based search.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import lsmkit
from lsmkit import masks

CHANNELS = ["heart_rate", "steps", "scl", "skin_temperature"]


@pytest.fixture(scope="module")
def windows():
    """Two 60-minute windows of four channels; skin temperature is never observed."""
    signal = np.random.default_rng(0).normal(70, 5, (2, 60, 4)).astype(np.float32)
    signal[:, :, 3] = np.nan
    return lsmkit.make_windows(signal, participant=["a", "b"], start=["2024-01-01"] * 2, channels=CHANNELS)


# ---- arguments of each mask ---------------------------------------------------------------------
# Each case: (call(windows), exception, regex the message must match).

ARGUMENT_ERRORS = [
    # random: ratio and patch
    pytest.param(lambda w: masks.random(w, -0.1), ValueError, r"ratio must be in \[0, 1\], got -0\.1", id="ratio-negative"),
    pytest.param(lambda w: masks.random(w, 1.5), ValueError, r"ratio must be in \[0, 1\], got 1\.5", id="ratio-above-one"),
    pytest.param(lambda w: masks.random(w, float("nan")), ValueError, r"ratio must be in \[0, 1\], got nan", id="ratio-nan"),
    pytest.param(lambda w: masks.random(w, float("inf")), ValueError, r"ratio must be in \[0, 1\], got inf", id="ratio-inf"),
    pytest.param(lambda w: masks.random(w, "0.5"), TypeError, r"ratio must be a number in \[0, 1\], got '0\.5'",
                 id="ratio-text"),
    pytest.param(lambda w: masks.random(w, None), TypeError, r"ratio must be a number in \[0, 1\], got None", id="ratio-none"),
    pytest.param(lambda w: masks.random(w, True), TypeError, r"ratio must be a number in \[0, 1\], got True", id="ratio-bool"),
    pytest.param(lambda w: masks.random(w, [0.5]), TypeError, r"ratio must be a number.*got \[0\.5\]", id="ratio-list"),
    pytest.param(lambda w: masks.random(w, patch=(0, 5)), ValueError,
                 r"patch must be \(minutes, channels\), two positive integers, got \(0, 5\)", id="patch-zero-minutes"),
    pytest.param(lambda w: masks.random(w, patch=(10,)), ValueError, r"patch must be \(minutes, channels\).*got \(10,\)",
                 id="patch-one-number"),
    pytest.param(lambda w: masks.random(w, patch=(10, 5, 1)), ValueError, r"patch must be.*got \(10, 5, 1\)",
                 id="patch-three-numbers"),
    pytest.param(lambda w: masks.random(w, patch=(2.5, 5)), ValueError, r"patch must be.*got \(2\.5, 5\)",
                 id="patch-fractional"),
    pytest.param(lambda w: masks.random(w, patch="10x5"), TypeError, r"patch must be.*got '10x5'", id="patch-text"),
    pytest.param(lambda w: masks.random(w, patch=None), TypeError, r"patch must be.*got None", id="patch-none"),
    pytest.param(lambda w: masks.patch_grid(60, 4, patch=(10, -5)), ValueError, r"patch must be.*got \(10, -5\)",
                 id="patch-grid-negative-channels"),
    # sensors: n and channels
    pytest.param(lambda w: masks.sensors(w, n=0), ValueError, r"n must be an integer between 1 and 4, got 0", id="n-zero"),
    pytest.param(lambda w: masks.sensors(w, n=-1), ValueError, r"n must be an integer between 1 and 4, got -1",
                 id="n-negative"),
    pytest.param(lambda w: masks.sensors(w, n=5), ValueError, r"n must be an integer between 1 and 4, got 5",
                 id="n-more-than-channels"),
    pytest.param(lambda w: masks.sensors(w, n=1.5), ValueError, r"n must be an integer between 1 and 4, got 1\.5",
                 id="n-fractional"),
    pytest.param(lambda w: masks.sensors(w, n=float("nan")), ValueError, r"n must be an integer between 1 and 4, got nan",
                 id="n-nan"),
    pytest.param(lambda w: masks.sensors(w, n="2"), TypeError, r"n must be an integer between 1 and 4, got '2'",
                 id="n-text"),
    pytest.param(lambda w: masks.sensors(w, n=True), TypeError, r"n must be an integer between 1 and 4, got True",
                 id="n-bool"),
    pytest.param(lambda w: masks.sensors(w, channels="glucose"), ValueError, r"unknown channel 'glucose'",
                 id="unknown-channel-name"),
    pytest.param(lambda w: masks.sensors(w, channels=["hr", "glucose"]), ValueError, r"unknown channel 'glucose'",
                 id="unknown-channel-in-list"),
    pytest.param(lambda w: masks.sensors(w, channels=["hr", "rmssd"]), ValueError,
                 r"channels \['rmssd'\] are not in these windows; they have \['heart_rate', 'steps', 'scl', "
                 r"'skin_temperature'\]", id="channel-not-in-windows"),
    pytest.param(lambda w: masks.sensors(w, channels=[]), ValueError, r"channels names no channel; pass at least one",
                 id="empty-channel-list"),
    pytest.param(lambda w: masks.sensors(w, channels=3), TypeError,
                 r"channels must be a channel name or a list of names, got int", id="channels-as-a-number"),
    pytest.param(lambda w: masks.sensors(w, channels=["hr"], n=1), ValueError, r"pass exactly one of channels .* or n",
                 id="both-channels-and-n"),
    pytest.param(lambda w: masks.sensors(w), ValueError, r"pass exactly one of channels .* or n", id="neither-channels-nor-n"),
    pytest.param(lambda w: masks.sensors((2, 60, 4), channels=["hr"]), ValueError,
                 r"naming channels needs windows with a 'channel' coordinate", id="channel-names-on-a-bare-shape"),
]

# interpolation and extrapolation share their check of minutes
for _name, _call in (("interpolation", lambda w, m: masks.interpolation(w, m, rng=0)),
                     ("extrapolation", masks.extrapolation)):
    ARGUMENT_ERRORS += [
        pytest.param((lambda c, m: lambda w: c(w, m))(_call, minutes), error,
                     rf"minutes must be an integer between 1 and the window length 60, got {shown}",
                     id=f"{_name}-minutes-{label}")
        for label, minutes, error, shown in [
            ("zero", 0, ValueError, "0"),
            ("negative", -10, ValueError, "-10"),
            ("longer-than-the-window", 61, ValueError, "61"),
            ("fractional", 7.5, ValueError, r"7\.5"),
            ("nan", float("nan"), ValueError, "nan"),
            ("inf", float("inf"), ValueError, "inf"),
            ("text", "10", TypeError, "'10'"),
            ("none", None, TypeError, "None"),
            ("bool", True, TypeError, "True"),
        ]
    ]


@pytest.mark.parametrize(("call", "error", "match"), ARGUMENT_ERRORS)
def test_mask_arguments_are_checked_naming_the_argument(windows, call, error, match):
    with pytest.raises(error, match=match):
        call(windows)


# ---- windows of the wrong kind --------------------------------------------------------------------

MASKS = {
    "random": lambda w: masks.random(w, 0.5, rng=0),
    "interpolation": lambda w: masks.interpolation(w, 10, rng=0),
    "extrapolation": lambda w: masks.extrapolation(w, 10),
    "sensors": lambda w: masks.sensors(w, n=1, rng=0),
}

BAD_WINDOWS = [
    pytest.param(lambda w: None, TypeError, r"windows must be a window batch \(xarray\.Dataset\), its 'signal' DataArray "
                 r"or a \(window, time, channel\) shape, got NoneType", id="none"),
    pytest.param(lambda w: 60, TypeError, r"windows must be a window batch.*got int", id="a-number"),
    pytest.param(lambda w: "windows", TypeError, r"windows must be a window batch.*got str", id="text"),
    pytest.param(lambda w: {"signal": w["signal"]}, TypeError, r"windows must be a window batch.*got dict", id="dict"),
    pytest.param(lambda w: w["signal"].values, TypeError,
                 r"windows is a numpy array of shape \(2, 60, 4\); pass the window batch", id="numpy-values"),
    pytest.param(lambda w: (60, 4), ValueError,
                 r"a mask shape must be \(window, time, channel\) with positive integer sizes, got \(60, 4\)",
                 id="shape-with-two-sizes"),
    pytest.param(lambda w: (2, 0, 4), ValueError, r"positive integer sizes, got \(2, 0, 4\)", id="shape-with-zero-minutes"),
    pytest.param(lambda w: (2, 60.5, 4), ValueError, r"positive integer sizes, got \(2, 60\.5, 4\)",
                 id="shape-fractional"),
    pytest.param(lambda w: w["signal"].isel(channel=0), ValueError,
                 r"windows must have dims \('window', 'time', 'channel'\), got \('window', 'time'\)", id="dataarray-2d"),
    pytest.param(lambda w: w["signal"].transpose("time", "window", "channel"), ValueError,
                 r"got \('time', 'window', 'channel'\)", id="dataarray-dims-in-wrong-order"),
    pytest.param(lambda w: w.transpose("time", "window", "channel"), ValueError,
                 r"got \('time', 'window', 'channel'\)", id="dataset-dims-in-wrong-order"),
    pytest.param(lambda w: w.rename(signal="values"), ValueError, r"windows must have a 'signal' variable",
                 id="dataset-without-signal"),
]


@pytest.mark.parametrize("mask", list(MASKS.values()), ids=list(MASKS))
@pytest.mark.parametrize(("change", "error", "match"), BAD_WINDOWS)
def test_masks_refuse_windows_of_the_wrong_kind(windows, mask, change, error, match):
    with pytest.raises(error, match=match):
        mask(change(windows))


# ---- random generators --------------------------------------------------------------------------

RANDOM_MASKS = {k: v for k, v in MASKS.items() if k != "extrapolation"}

BAD_RNG = [
    pytest.param("seed", TypeError, r"rng must be a numpy\.random\.Generator, an integer seed or None, got 'seed'",
                 id="rng-text"),
    pytest.param(0.5, TypeError, r"rng must be a numpy\.random\.Generator, an integer seed or None, got 0\.5",
                 id="rng-float"),
    pytest.param(True, TypeError, r"rng must be .* got True", id="rng-bool"),
    pytest.param(-1, ValueError, r"rng must be a numpy\.random\.Generator, a non-negative integer seed or None, got -1",
                 id="rng-negative-seed"),
    pytest.param(object(), TypeError, r"rng must be a numpy\.random\.Generator.*got <object object", id="rng-object"),
]


@pytest.mark.parametrize("kind", list(RANDOM_MASKS))
@pytest.mark.parametrize(("rng", "error", "match"), BAD_RNG)
def test_masks_refuse_a_random_generator_of_the_wrong_type(windows, kind, rng, error, match):
    call = {
        "random": lambda: masks.random(windows, 0.5, rng=rng),
        "interpolation": lambda: masks.interpolation(windows, 10, rng=rng),
        "sensors": lambda: masks.sensors(windows, n=1, rng=rng),
    }[kind]
    with pytest.raises(error, match=match):
        call()


# ---- union and scored ----------------------------------------------------------------------------


def _other_channels(windows):
    """The same shape, but scl replaced by rmssd: label alignment would silently drop two channels."""
    other = windows.assign_coords(channel=["heart_rate", "steps", "rmssd", "skin_temperature"])
    return masks.extrapolation(other, 10)


COMBINE_ERRORS = [
    pytest.param(lambda w, a: masks.union(), ValueError, r"union needs at least one mask", id="union-of-nothing"),
    pytest.param(lambda w, a: masks.union(a, masks.extrapolation(w.isel(window=[0]), 10)), ValueError,
                 r"masks differ in shape: \(2, 60, 4\) vs \(1, 60, 4\)", id="union-shapes-differ"),
    pytest.param(lambda w, a: masks.union(a, a.rename(time="minute")), ValueError,
                 r"mask 1 must have dims \('window', 'time', 'channel'\) \(in any order\), got \('window', 'minute', "
                 r"'channel'\)", id="union-wrong-dim-names"),
    pytest.param(lambda w, a: masks.scored(a.rename(time="minute"), w), ValueError,
                 r"mask must have dims .*got \('window', 'minute', 'channel'\)", id="scored-wrong-dim-names"),
    pytest.param(lambda w, a: masks.scored(a, w["signal"].rename(time="minute")), ValueError,
                 r"windows must be a window batch .*got dims \('window', 'minute', 'channel'\)",
                 id="scored-windows-wrong-dim-names"),
    pytest.param(lambda w, a: masks.scored(a, w["signal"].isel(window=0)), ValueError,
                 r"windows must be a window batch .*got dims \('time', 'channel'\)", id="scored-windows-2d"),
    pytest.param(lambda w, a: masks.union(a, a.values), TypeError, r"mask 1 must be a boolean xarray\.DataArray, got ndarray",
                 id="union-numpy-mask"),
    pytest.param(lambda w, a: masks.union(a, a.astype(float)), TypeError,
                 r"mask 1 must be boolean \(True = hidden\), got dtype float64", id="union-float-mask"),
    pytest.param(lambda w, a: masks.union(a.astype(int), a), TypeError, r"mask 0 must be boolean.*got dtype int64",
                 id="union-integer-mask"),
    pytest.param(lambda w, a: masks.union([a, a]), TypeError,
                 r"mask 0 must be a boolean xarray\.DataArray, got list \(pass masks as separate arguments",
                 id="union-of-a-list"),
    pytest.param(lambda w, a: masks.union(a, None), TypeError, r"mask 1 must be a boolean xarray\.DataArray, got NoneType",
                 id="union-with-none"),
    pytest.param(lambda w, a: masks.union(a, _other_channels(w)), ValueError,
                 r"masks differ in their 'channel' labels \(e\.g\. rmssd, scl in only one\)", id="union-channel-labels-differ"),
    pytest.param(lambda w, a: masks.scored(masks.extrapolation(w.isel(window=[0]), 10), w), ValueError,
                 r"mask and windows differ in shape: \(1, 60, 4\) vs \(2, 60, 4\)", id="scored-shapes-differ"),
    pytest.param(lambda w, a: masks.scored(_other_channels(w), w), ValueError,
                 r"mask and windows differ in their 'channel' labels", id="scored-channel-labels-differ"),
    pytest.param(lambda w, a: masks.scored(a.values, w), TypeError, r"mask must be a boolean xarray\.DataArray, got ndarray",
                 id="scored-numpy-mask"),
    pytest.param(lambda w, a: masks.scored(a.astype(float), w), TypeError, r"mask must be boolean.*float64",
                 id="scored-float-mask"),
    pytest.param(lambda w, a: masks.scored(a, w["signal"].values), TypeError,
                 r"windows must be a window batch \(xarray\.Dataset with 'signal'\) or its 'signal' DataArray.*got ndarray",
                 id="scored-numpy-windows"),
    pytest.param(lambda w, a: masks.scored(a, None), TypeError, r"windows must be a window batch.*got NoneType",
                 id="scored-windows-none"),
]


@pytest.mark.parametrize(("call", "error", "match"), COMBINE_ERRORS)
def test_union_and_scored_refuse_masks_that_do_not_fit(windows, call, error, match):
    with pytest.raises(error, match=match):
        call(windows, masks.extrapolation(windows, 10))


def test_union_and_scored_take_transposed_masks_by_dim_name(windows):
    """Dim names are unambiguous: a transposed mask (or signal) gives what the ordered one gives."""
    a, b = masks.extrapolation(windows, 10), masks.interpolation(windows, 10, rng=0)
    flip = ("time", "channel", "window")
    expected = masks.union(a, b)
    for got in (masks.union(a, b.transpose(*flip)), masks.union(a.transpose(*flip), b),
                masks.union(a.transpose(*flip), b.transpose(*flip))):
        assert got.dims == masks.DIMS
        xr.testing.assert_identical(got, expected)
    expected = masks.scored(a, windows)
    for got in (masks.scored(a.transpose(*flip), windows), masks.scored(a, windows["signal"].transpose(*flip))):
        assert got.dims == masks.DIMS
        xr.testing.assert_identical(got, expected)


# ---- accepted edge cases do what the docstrings say -----------------------------------------------


@pytest.mark.parametrize("minutes", [1, 7, 13, 59, 60], ids=lambda m: f"{m}-minutes")
def test_block_lengths_need_not_be_a_multiple_of_the_patch(windows, minutes):
    # Partially hidden patches are legal (DESIGN.md): the blocks hide exactly the minutes asked for.
    block = masks.interpolation(windows, minutes, rng=0)
    per_window = block.any("channel").sum("time").values
    assert (per_window == minutes).all() and block.all("channel").equals(block.any("channel"))
    tail = masks.extrapolation(windows, float(minutes))  # an integral float is accepted
    assert tail.isel(time=slice(60 - minutes, None)).all() and not tail.isel(time=slice(0, 60 - minutes)).any()


def test_sensors_with_n_prefer_observed_channels_and_n_may_be_all(windows):
    three = masks.sensors(windows, n=3, rng=0)
    assert not three.sel(channel="skin_temperature").any()  # all-NaN: hiding it would score nothing
    assert three.sel(channel=["heart_rate", "steps", "scl"]).all()
    assert masks.sensors(windows, n=4, rng=0).all()


def test_union_aligns_permuted_channel_labels_and_scored_skips_real_nans(windows):
    a = masks.sensors(windows, channels="steps")
    permuted = a.isel(channel=[3, 2, 1, 0])  # same labels, other order: combined by label, not position
    both = masks.union(masks.extrapolation(windows, 10), permuted)
    assert both.sel(channel="steps").all() and not both.sel(channel="heart_rate").isel(time=slice(0, 50)).any()
    hidden = masks.union(masks.extrapolation(windows, 10), masks.sensors(windows, channels="skin_temperature"))
    assert not masks.scored(hidden, windows).sel(channel="skin_temperature").any()


@pytest.mark.parametrize("rng", [None, 7, np.random.default_rng(7), [7, 1]], ids=["none", "int", "generator", "sequence"])
def test_valid_random_generators_are_accepted(windows, rng):
    mask = masks.random(windows, 0.5, rng=rng)
    assert masks.patch_grid(60, 4) == (6, 1)  # four channels: one partial patch wide
    assert int(mask.isel(window=0).sum()) == 3 * 10 * 4  # half of 6 patches, each 10 minutes x 4 channels


def test_a_bare_shape_makes_an_unlabelled_mask_that_fits_any_batch_of_that_shape(windows):
    mask = masks.extrapolation((2, 60, 4), 10)
    assert mask.dims == masks.DIMS and mask.shape == (2, 60, 4) and int(mask.sum()) == 2 * 10 * 4
    labelled = masks.sensors(windows, channels="hr")
    both = masks.union(mask, labelled)
    assert int(both.sum()) == 2 * 10 * 4 + 2 * 50
    assert int(masks.scored(mask, windows).sum()) == 2 * 10 * 3  # skin temperature is never observed
