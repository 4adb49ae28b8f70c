"""Device profiles and ``restrict``: what a device lacks is absent, and nothing absent is ever scored."""

import numpy as np
import pytest
import xarray as xr

import lsmkit
from lsmkit import masks
from lsmkit.baselines import Linear
from lsmkit.channels import CHANNEL_NAMES, profile_channels
from lsmkit.data import calibration_shifts, shift_calibration


@pytest.fixture(scope="module")
def windows():
    return lsmkit.load_sample().isel(window=slice(0, 12))


def test_profiles_name_the_device_kinds_the_issue_lists():
    assert list(lsmkit.DEVICE_PROFILES) == ["full", "smartwatch", "sports_watch", "chest_strap", "research_wristband",
                                            "ring", "heart_rate_only", "skin_temperature_only"]
    assert lsmkit.DEVICE_PROFILES["full"] == CHANNEL_NAMES
    assert lsmkit.DEVICE_PROFILES["sports_watch"] == ("heart_rate", "steps", "altitude_std")
    assert len(lsmkit.DEVICE_PROFILES["chest_strap"]) == 10
    wristband = lsmkit.DEVICE_PROFILES["research_wristband"]
    assert "scl" in wristband and "altitude_std" not in wristband and "resting_heart_rate" not in wristband
    table = lsmkit.profile_table()
    assert table.loc["ring", "n_channels"] == 5 and table["why"].str.len().min() > 20
    for channels in lsmkit.DEVICE_PROFILES.values():  # canonical order
        assert list(channels) == sorted(channels, key=CHANNEL_NAMES.index)


def test_a_channel_list_works_in_place_of_a_name_aliases_resolved():
    assert profile_channels(["skin_temp", "HR"]) == ("heart_rate", "skin_temperature")


@pytest.mark.parametrize("profile, error, message", [
    ("watch", ValueError, "unknown device profile 'watch'.*smartwatch"),
    ([], ValueError, "names no channel"),
    (["heart_rate", "glucose"], ValueError, "unknown channel 'glucose'"),
    (["hr", "heart_rate"], ValueError, "repeats channels.*heart_rate"),
    (3, TypeError, "profile must be a profile name"),
])
def test_bad_profiles_are_named(windows, profile, error, message):
    with pytest.raises(error, match=message):
        lsmkit.restrict(windows, profile)


def test_data_holding_none_of_the_profile_say_which_they_hold(windows):
    hr = lsmkit.restrict(windows, "heart_rate_only")
    with pytest.raises(ValueError, match="none of profile 'skin_temperature_only'.*observe \\['heart_rate'\\]"):
        lsmkit.restrict(hr, "skin_temperature_only")
    with pytest.raises(TypeError, match="window batch or recordings"):
        lsmkit.restrict(windows["signal"], "ring")


@pytest.mark.parametrize("profile", list(lsmkit.DEVICE_PROFILES))
def test_restrict_makes_every_other_channel_absent_in_signal_and_truth(windows, profile):
    out = lsmkit.restrict(windows, profile)
    keep = np.isin(CHANNEL_NAMES, lsmkit.DEVICE_PROFILES[profile])
    assert out.sizes == windows.sizes and out.attrs["profile"] == profile
    for var in ("signal", "truth"):
        assert out[var].dtype == windows[var].dtype
        assert out[var].isel(channel=~keep).isnull().all()
        xr.testing.assert_identical(out[var].isel(channel=keep), windows[var].isel(channel=keep))


def test_restrict_works_on_recordings():
    cohort = lsmkit.simulate(2, days=1, seed=0)
    out = lsmkit.restrict(cohort, "sports_watch")
    assert lsmkit.observed_channels(out) == ["heart_rate", "steps", "altitude_std"]


def test_an_absent_channel_is_never_scored_even_when_a_mask_hides_it(windows):
    out = lsmkit.restrict(windows, "smartwatch")
    hidden = masks.union(masks.sensors(out, channels=["scl", "heart_rate"]), masks.interpolation(out, 60, rng=0))
    assert not (masks.scored(hidden, out).sel(channel="scl")).any()
    # a fill that writes nonsense into the absent channels scores exactly as one that leaves them alone
    absent = xr.DataArray(~np.isin(CHANNEL_NAMES, lsmkit.DEVICE_PROFILES["smartwatch"]), dims="channel",
                          coords={"channel": out["channel"]})

    def poisoned(w, m):
        filled = Linear().impute(w, m)
        filled["signal"] = filled["signal"].where(~absent, np.float32(1e6))
        return filled

    table = lsmkit.evaluate({"linear": Linear(), "poisoned": poisoned}, out,
                            tasks={"interpolation": (60,), "random": (0.8,), "gaps": (None,)},
                            rng=0, n_boot=0, progress=False)
    assert table["mse"].notna().all()
    assert table.groupby("task")["mse"].nunique().eq(1).all()


def test_calibration_shifts_follow_the_documented_ranges():
    scale, offset = calibration_shifts(4000, np.random.default_rng(0))
    i = {c: CHANNEL_NAMES.index(c) for c in ("heart_rate", "skin_temperature", "scl", "scl_slope", "rmssd")}
    assert np.abs(offset[:, i["heart_rate"]]).max() <= 10 and np.abs(offset[:, i["heart_rate"]]).max() > 9.9
    assert np.abs(offset[:, i["skin_temperature"]]).max() <= 3
    assert 0.3 <= scale[:, i["scl"]].min() < 0.31 and 2.9 < scale[:, i["scl"]].max() <= 3.0
    np.testing.assert_array_equal(scale[:, i["scl"]], scale[:, i["scl_slope"]])
    assert np.median(np.log(scale[:, i["scl"]])) == pytest.approx(0.0, abs=0.1)  # log-uniform around 1
    assert (scale[:, i["rmssd"]] == 1).all() and (offset[:, i["rmssd"]] == 0).all()


def test_shift_calibration_is_one_shift_per_participant(windows):
    shifted = shift_calibration(windows, rng=0)
    delta = (shifted["signal"] - windows["signal"]).sel(channel="heart_rate")
    for participant in np.unique(windows["participant"].values):
        rows = windows["participant"].values == participant
        spread = float(delta.isel(window=rows).max() - delta.isel(window=rows).min())
        assert spread < 1e-3  # one offset (clipping aside, none at these values)
    assert shifted["calibration_scale"].dims == ("window", "channel")
