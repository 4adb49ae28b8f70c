"""Plausibility of the simulator: each test asserts a physiological number, not that it ran."""

import numpy as np
import pytest
import xarray as xr
from scipy.stats import spearmanr

import lsmkit
from lsmkit.labels import ACTIVITIES


@pytest.fixture(scope="module")
def cohort():
    return lsmkit.simulate(24, 7, seed=11)


def channel(ds, name, var="truth"):
    return ds[var].sel(channel=name)


def per_participant_mean(da, where):
    return da.where(where).mean("time")


def test_shape_dtype_and_conventions(cohort):
    assert cohort["signal"].dims == ("participant", "time", "channel")
    assert cohort["signal"].dtype == np.float32
    assert cohort.sizes == {"participant": 24, "time": 7 * 1440, "channel": 26}
    assert list(cohort["channel"].values) == list(lsmkit.CHANNEL_NAMES)
    lsmkit.data.validate_recordings(cohort)


def test_seeded_and_prefix_stable():
    a = lsmkit.simulate(3, 1, seed=5)
    b = lsmkit.simulate(3, 1, seed=5)
    c = lsmkit.simulate(5, 1, seed=5)
    d = lsmkit.simulate(3, 1, seed=6)
    xr.testing.assert_identical(a, b)
    np.testing.assert_array_equal(a["truth"].values, c["truth"].values[:3])
    assert not np.allclose(a["truth"].values, d["truth"].values)


def test_truth_matches_signal_where_observed(cohort):
    observed = cohort["signal"].notnull()
    assert bool(cohort["truth"].notnull().all())
    np.testing.assert_array_equal(cohort["signal"].values[observed.values], cohort["truth"].values[observed.values])


def test_values_inside_physical_ranges(cohort):
    for c in lsmkit.CHANNELS:
        values = channel(cohort, c.name).values
        assert values.min() >= c.valid_range[0] and values.max() <= c.valid_range[1], c.name


def test_resting_heart_rate_in_normal_band(cohort):
    rhr = channel(cohort, "resting_heart_rate", "signal").median("time")
    assert float(rhr.min()) >= 50 and float(rhr.max()) <= 85
    sleeping = per_participant_mean(channel(cohort, "heart_rate"), cohort["sleep"])
    assert float(sleeping.min()) >= 42 and float(sleeping.max()) <= 80
    # Sleep HR sits below the daytime resting estimate, as in real recordings.
    assert float((sleeping < rhr).mean()) >= 0.9


def test_running_heart_rate_well_above_walking(cohort):
    hr = channel(cohort, "heart_rate")
    walk = float(hr.where(cohort["activity"] == ACTIVITIES.index("walk")).mean())
    run = float(hr.where(cohort["activity"] == ACTIVITIES.index("run")).mean())
    rest = float(hr.where((cohort["activity"] == 0) & ~cohort["sleep"]).mean())
    assert walk > rest + 10
    assert run > walk + 25


def test_rmssd_falls_as_heart_rate_rises_within_each_person(cohort):
    for p in range(cohort.sizes["participant"]):
        hr = channel(cohort, "heart_rate").isel(participant=p).values
        rmssd = channel(cohort, "rmssd").isel(participant=p).values
        rho = spearmanr(hr, rmssd).statistic
        assert rho < -0.6, (p, rho)


def test_rr_statistics_consistent_with_heart_rate(cohort):
    hr = channel(cohort, "heart_rate").values
    median = channel(cohort, "rr_median").values
    # Mean heart rate and median interval describe the same beats: 60000 / HR within 5%.
    rel = np.abs(median - 60000.0 / hr) / median
    assert np.median(rel) < 0.05
    assert np.all(channel(cohort, "rr_p20").values <= median + 1e-3)
    assert np.all(channel(cohort, "rr_p80").values >= median - 1e-3)


def test_hr_on_and_off_kinetics(cohort):
    """HR rises within minutes of a session's start; after its end it falls fast, then slowly."""
    hr = channel(cohort, "heart_rate").values
    act = cohort["activity"].values
    drops_1min, elevated_10min, rises_3min = [], [], []
    for p in range(act.shape[0]):
        steady = np.isin(act[p], [2, 3, 5]).astype(int)  # run, bike, elliptical: no on/off sets
        starts = np.flatnonzero(np.diff(steady) == 1) + 1
        ends = np.flatnonzero(np.diff(steady) == -1)  # last exercising minute
        for s in starts:
            e = ends[ends >= s]
            if s < 10 or not len(e) or e[0] + 12 >= act.shape[1]:
                continue
            e = e[0]
            before = hr[p, s - 5 : s].mean()
            plateau = hr[p, s + 8 : s + 12].mean()
            rises_3min.append((hr[p, s + 2] - before) / max(plateau - before, 1.0))
            drops_1min.append(hr[p, e - 2 : e + 1].mean() - hr[p, e + 1])
            elevated_10min.append(hr[p, e + 10] - before)
    assert len(drops_1min) >= 10
    assert np.median(rises_3min) > 0.6  # most of the rise within 3 minutes
    assert np.median(drops_1min) > 12  # bpm lost in the first minute of recovery
    assert np.median(elevated_10min) > 2  # yet still above the pre-exercise level after 10 minutes


def test_near_zero_steps_in_sleep(cohort):
    steps = channel(cohort, "steps")
    in_sleep = steps.where(cohort["sleep"])
    assert float(in_sleep.mean()) == 0.0
    awake = float(steps.where(~cohort["sleep"]).mean())
    assert awake > 5


def test_skin_temperature_higher_at_night_than_midday(cohort):
    temp = channel(cohort, "skin_temperature")
    hour = (cohort["time"] % 1440) // 60
    night = temp.where((hour >= 2) & (hour < 4)).mean("time")
    midday = temp.where((hour >= 12) & (hour < 14)).mean("time")
    assert float((night - midday).mean()) > 0.8
    assert float((night > midday).mean()) >= 0.9
    # and it falls during exercise
    ex = cohort["activity"] > 0
    assert float(temp.where(ex).mean()) < float(temp.where(~ex & ~cohort["sleep"]).mean()) - 0.3


def test_eda_higher_in_stress(cohort):
    scl = channel(cohort, "scl")
    calm = (~cohort["stress"]) & (~cohort["sleep"]) & (cohort["activity"] == 0)
    stressed = per_participant_mean(scl, cohort["stress"])
    baseline = per_participant_mean(scl, calm)
    ratio = (stressed / baseline).dropna("participant")
    assert ratio.sizes["participant"] >= 8
    assert float(ratio.median()) > 1.3


def test_altitude_variability_higher_on_stairs_and_hills(cohort):
    alt = channel(cohort, "altitude_std")
    ratio = float(alt.where(cohort["terrain"]).median()) / float(alt.where(~cohort["terrain"]).median())
    assert ratio > 5


def test_missingness_realistic(cohort):
    missing = cohort["signal"].isnull()
    overall = float(missing.mean())
    assert 0.05 < overall < 0.30
    assert float(missing.mean(("time", "channel")).max()) < 0.6
    # PPG drops out in motion: HRV is missing far more often during exercise than at rest.
    rmssd_missing = missing.sel(channel="rmssd")
    worn = ~missing.sel(channel="steps")
    in_exercise = float(rmssd_missing.where(worn & (cohort["activity"] > 0)).mean())
    at_rest = float(rmssd_missing.where(worn & (cohort["activity"] == 0)).mean())
    assert in_exercise > 3 * at_rest
    # EDA loses contact on its own.
    assert float(missing.sel(channel="scl").mean()) > float(missing.sel(channel="steps").mean()) + 0.02


def test_activity_classes_uneven_as_in_paper():
    ds = lsmkit.simulate(48, 7, seed=2)
    windows = lsmkit.to_windows(ds, 300, max_missing=1.0)
    dominant = windows["dominant_activity"].values
    classes = dominant[dominant > 0]
    shares = np.bincount(classes, minlength=len(ACTIVITIES))[1:] / len(classes)
    assert len(classes) > 100
    assert 0.35 < shares[ACTIVITIES.index("walk") - 1] < 0.65
    assert np.all(shares > 0)  # every class occurs


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="n_participants"):
        lsmkit.simulate(0, 1)
    with pytest.raises(ValueError, match="days"):
        lsmkit.simulate(1, 1.5)
    with pytest.raises(ValueError, match="start must be a date"):
        lsmkit.simulate(1, 1, start="2024-01-01 05:00")


def test_stress_and_terrain_are_optional():
    calm = lsmkit.simulate(4, 2, seed=8, stress=False, terrain=False)
    busy = lsmkit.simulate(4, 2, seed=8)
    assert not calm["stress"].any() and not calm["terrain"].any()
    assert busy["stress"].any() and busy["terrain"].any()
    np.testing.assert_array_equal(calm["sleep"].values, busy["sleep"].values)  # same days otherwise
    alt = "altitude_std"
    assert float(calm["truth"].sel(channel=alt).max()) < float(busy["truth"].sel(channel=alt).max()) / 2
