"""The FIT reader (lsmkit.io.fit): real files, round trips through write_example, known answers.

Small FIT files are built here with ``lsmkit.io.fit.encode`` from messages written out field by
field (profile numbers: record 20, hrv 78, monitoring 55, file_id 0, sport 12, event 21, session 18,
activity 34, monitoring_info 103); tests/test_bad_fit.py uses the same builders for malformed files.
The real files in data_samples/fit/ are three of sweat 0.25.0's example workouts (MIT licence).
"""

from __future__ import annotations

import importlib.util
import warnings
import weakref
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lsmkit
from lsmkit.io import fit
from lsmkit.io._fit_encode import fit_time
from lsmkit.io.devices import read_device

REAL = Path(__file__).resolve().parents[1] / "data_samples" / "fit"
T0 = fit_time("2024-03-01 10:00")  # a whole minute, in FIT seconds


def u8(v):
    return ("uint8", v)


def u32(v):
    return ("uint32", v)


def file_id(kind=4, manufacturer=255):
    return 0, {0: ("enum", kind), 1: ("uint16", manufacturer), 2: ("uint16", 0), 4: u32(T0)}


def timer(t, start=True):
    return 21, {253: u32(t), 0: ("enum", 0), 1: ("enum", 0 if start else 4)}


def record(t, hr=None, cadence=None, altitude=None, hr_type="uint8"):
    fields = {253: u32(t), 3: (hr_type, hr), 4: u8(cadence)}
    if altitude is not None:
        fields[78] = u32(int(round((altitude + 500) * 5)))
    return 20, fields


def sport(number=1):
    return 12, {0: ("enum", number), 1: ("enum", 0)}


def session(start, end, number=1):
    return 18, {253: u32(end), 2: u32(start), 7: u32((end - start + 1) * 1000), 5: ("enum", number), 6: ("enum", 0)}


def hrv(*seconds):
    return 78, {0: ("uint16", tuple(None if s is None else int(round(s * 1000)) for s in seconds))}


def activity(minutes=2, hr=lambda s: 60 + s // 60, cadence=85, sport_number=1, extra=()):
    """Messages of a running activity: one record a second from T0, heart rate 60 then 61 ...."""
    end = T0 + 60 * minutes - 1
    yield file_id()
    yield sport(sport_number)
    yield timer(T0)
    for s in range(60 * minutes):
        yield record(T0 + s, hr(s), cadence, 100.0 + (s % 2) * 0.4)
    yield from extra
    yield timer(end, start=False)
    yield session(T0, end, sport_number)
    yield 34, {253: u32(end), 1: ("uint16", 1), 2: ("enum", 0), 5: u32(end + 3600)}


def write(tmp_path, messages, name="a.fit", **options) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(fit.encode(list(messages), **options))
    return path


def channel(ds, name, p=0):
    return ds["signal"].isel(participant=p).sel(channel=name).values


def quiet_read(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fit.read(path, **options)


# ---- known answers -------------------------------------------------------------------------


def test_activity_minutes_heart_rate_steps_altitude(tmp_path):
    ds = quiet_read(write(tmp_path, activity()))
    assert pd.Timestamp(ds["start"].values[0]) == pd.Timestamp("2024-03-01 10:00")
    assert channel(ds, "heart_rate").tolist() == [60.0, 61.0]
    np.testing.assert_allclose(channel(ds, "steps"), [170.0, 170.0], atol=1e-4)  # 2 x 85 strides a minute
    np.testing.assert_allclose(channel(ds, "altitude_std"), [0.2, 0.2], atol=1e-5)  # +-0.2 m alternating
    assert ds.attrs["format"] == "fit" and ds.attrs["source"] == "a.fit"
    assert ds.attrs["device"] == "development 0"
    assert str(ds["timezone"].values[0]) == "Etc/GMT-1" and ds["utc_offset"].values[0] == 60


def test_big_endian_file_reads_the_same(tmp_path):
    little = quiet_read(write(tmp_path, activity(), "l.fit"))
    big = quiet_read(write(tmp_path, activity(), "b.fit", endian=">"))
    np.testing.assert_array_equal(little["signal"].values, big["signal"].values)


def test_cycling_cadence_is_not_steps_and_is_reported(tmp_path):
    with pytest.warns(UserWarning, match=r"record.cadence \(cycling: not steps\) \(120\)"):
        ds = fit.read(write(tmp_path, activity(sport_number=2)))
    assert np.isnan(channel(ds, "steps")).all()
    assert "record.cadence (cycling: not steps) (120)" in ds.attrs["skipped"]


def test_paused_timer_counts_no_steps_and_restarts_cleanly(tmp_path):
    def messages():
        yield file_id()
        yield sport(1)
        yield timer(T0)
        for s in range(60):
            yield record(T0 + s, 70, 90)
        yield timer(T0 + 59, start=False)
        yield timer(T0 + 599)  # ten minutes later: the first record after it counts one second, not 60
        for s in range(600, 660):
            yield record(T0 + s, 80, 90)

    ds = quiet_read(write(tmp_path, messages()))
    steps = channel(ds, "steps")
    assert ds.sizes["time"] == 11
    np.testing.assert_allclose(steps[[0, 10]], [180.0, 180.0], atol=1e-4)
    assert np.isnan(steps[1:10]).all()


def test_multisport_sessions_decide_the_sport(tmp_path):
    def messages():
        yield file_id()
        yield timer(T0)
        for s in range(120):
            yield record(T0 + s, 100, 80)
        yield session(T0, T0 + 59, 2)  # cycling, then running
        yield session(T0 + 60, T0 + 119, 1)

    ds = quiet_read(write(tmp_path, messages()))
    steps = channel(ds, "steps")
    assert np.isnan(steps[0])
    assert steps[1] == pytest.approx(160.0, abs=1e-4)


def test_hrv_beats_become_heart_channels(tmp_path):
    def messages():
        yield file_id()
        for s in range(120):
            yield record(T0 + s)  # timestamps only: the beats are the heart rate
            yield hrv(1.0)

    ds = quiet_read(write(tmp_path, messages()))
    np.testing.assert_allclose(channel(ds, "heart_rate")[:2], [60.0, 60.0], atol=1e-4)
    np.testing.assert_allclose(channel(ds, "rr_median")[:2], [1000.0, 1000.0], atol=1e-3)
    np.testing.assert_allclose(channel(ds, "rmssd")[:2], [0.0, 0.0], atol=1e-6)
    assert channel(ds, "rr_percent_valid")[0] == pytest.approx(100.0, abs=1e-3)


def test_record_heart_rate_wins_over_the_beats(tmp_path):
    def messages():
        yield file_id()
        for s in range(60):
            yield record(T0 + s, 75)
            yield hrv(1.0)

    ds = quiet_read(write(tmp_path, messages()))
    assert channel(ds, "heart_rate")[0] == 75.0
    assert channel(ds, "rr_median")[0] == pytest.approx(1000.0)


def monitoring_messages():
    """Counters: walking 100 at T0, 160 at +120 s, reset to 10 at +180 s; running 500 at +120, 560 at +180."""
    t0 = 60 * ((T0 | 0xFFFF) // 60) - 60  # 16-bit timestamps wrap between T0 and T0 + 180 s
    assert (t0 + 180) & 0xFFFF < t0 & 0xFFFF

    def steps(t, kind, count, full=False):
        time = {253: u32(t)} if full else {26: ("uint16", t & 0xFFFF)}
        return 55, {**time, 5: ("enum", kind), 3: u32(count)}

    def heart(t, bpm):
        return 55, {26: ("uint16", t & 0xFFFF), 27: u8(bpm)}

    return t0, [
        file_id(kind=32), (103, {253: u32(t0), 0: u32(t0 - 3600)}),
        steps(t0, 6, 100, full=True), heart(t0 + 60, 70), steps(t0 + 120, 6, 160), steps(t0 + 120, 1, 500),
        heart(t0 + 130, 80), heart(t0 + 150, 90), steps(t0 + 180, 6, 10), steps(t0 + 180, 1, 560),
    ]


def test_monitoring_counters_differenced_and_timestamp_16_resolved(tmp_path):
    t0, messages = monitoring_messages()
    ds = quiet_read(write(tmp_path, messages))
    assert pd.Timestamp(ds["start"].values[0]) == pd.Timestamp(t0 + fit.FIT_EPOCH_UNIX, unit="s")
    np.testing.assert_allclose(channel(ds, "steps"), [30.0, 30.0, 70.0], atol=1e-4)  # 60 over 2 min; 60 + reset 10
    np.testing.assert_array_equal(channel(ds, "heart_rate"), [np.nan, 70.0, 85.0])
    assert ds["utc_offset"].values[0] == -60 and str(ds["timezone"].values[0]) == "Etc/GMT+1"


# ---- files and folders ---------------------------------------------------------------------


def test_folder_is_one_participant_or_one_per_file(tmp_path):
    write(tmp_path, activity(), "x.fit")
    write(tmp_path, activity(hr=lambda s: 90), "sub/y.FIT")
    one = quiet_read(tmp_path)
    assert one["participant"].values.tolist() == [tmp_path.name]
    assert channel(one, "heart_rate").tolist() == [75.0, 75.5]  # the same seconds of both files, averaged
    each = quiet_read(tmp_path, participant="file")
    assert each["participant"].values.tolist() == ["y", "x"]  # files in path order: sub/y.FIT, x.fit
    assert channel(each, "heart_rate", 0).tolist() == [90.0, 90.0]


def test_monitoring_steps_are_not_counted_again_from_an_activity(tmp_path):
    # A watch's GARMIN folder: the all-day counter (monitoring) covers the workout's first minute only.
    def counter(t, count):
        return 55, {253: u32(t), 5: ("enum", 6), 3: u32(count)}

    write(tmp_path, activity(), "Activity/run.fit")  # 2 minutes at cadence 85: 170 steps a minute
    write(tmp_path, [file_id(kind=32), counter(T0, 1000), counter(T0 + 60, 1150)], "Monitor/day.fit")
    with pytest.warns(UserWarning, match=r"run.fit: steps of 60 record\(s\) dropped: a monitoring file"):
        ds = fit.read(tmp_path)
    np.testing.assert_allclose(channel(ds, "steps"), [150.0, 170.0], atol=1e-4)
    np.testing.assert_array_equal(channel(ds, "heart_rate"), [60.0, 61.0])  # only steps are affected
    apart = quiet_read(tmp_path, participant="file")  # two participants: nothing to drop
    np.testing.assert_allclose(channel(apart, "steps", apart["participant"].values.tolist().index("run")),
                               [170.0, 170.0], atol=1e-4)


def test_files_are_read_one_at_a_time(tmp_path, monkeypatch):
    # A bulk export of many files keeps no file's decoded messages once its rows are made.
    for i in range(3):
        write(tmp_path, activity(), f"{i}.fit")
    alive, scan = [], fit._scan

    def tracked(path, *args):
        result = scan(path, *args)
        alive.append(weakref.ref(result))
        assert sum(r() is not None for r in alive) <= 2  # this file's scan and, at most, the last one's
        return result

    monkeypatch.setattr(fit, "_scan", tracked)
    quiet_read(tmp_path)
    assert len(alive) == 3


def test_looks_like_and_read_device(tmp_path):
    path = write(tmp_path, activity())
    (tmp_path / "notes.csv").write_text("a,b\n")
    assert fit.looks_like(path) and fit.looks_like(tmp_path)
    assert not fit.looks_like(tmp_path / "notes.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ds = read_device(path, format="fit")
    assert channel(ds, "heart_rate").tolist() == [60.0, 61.0]


def test_tz_names_the_zone_and_keeps_utc_times(tmp_path):
    ds = quiet_read(write(tmp_path, activity()), tz="Europe/Berlin")
    assert str(ds["timezone"].values[0]) == "Europe/Berlin"
    assert pd.Timestamp(ds["start"].values[0]) == pd.Timestamp("2024-03-01 10:00")


# ---- round trips through write_example -----------------------------------------------------


@pytest.fixture(scope="module")
def simulated():
    rec = lsmkit.simulate(1, 1, seed=3)
    return rec.isel(time=slice(1059, 1099))  # 40 minutes of an afternoon walk (1,070 steps)


def test_round_trip_records_every_second(tmp_path, simulated):
    back = quiet_read(fit.write_example(simulated, tmp_path / "s.fit"))
    start = pd.Timestamp(simulated["start"].values[0]) + pd.Timedelta(minutes=1059)  # the slice's first minute
    assert pd.Timestamp(back["start"].values[0]) == start
    for name, atol, rtol in (("heart_rate", 1 / 120 + 1e-4, 0), ("steps", 1 / 64, 0), ("altitude_std", 0.01, 0.03)):
        want, got = channel(simulated, name), channel(back, name)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got, want, atol=atol, rtol=rtol, equal_nan=True, err_msg=name)
    assert np.nansum(channel(simulated, "steps")) > 100  # the slice does exercise steps


def test_round_trip_records_every_minute(tmp_path, simulated):
    with pytest.warns(UserWarning, match="altitude_std is not written"):
        path = fit.write_example(simulated, tmp_path / "m.fit", records="minute")
    back = quiet_read(path)
    np.testing.assert_allclose(channel(back, "heart_rate"), np.round(channel(simulated, "heart_rate")), atol=1e-4)
    np.testing.assert_allclose(channel(back, "steps"), channel(simulated, "steps"), atol=1 / 64)
    assert np.isnan(channel(back, "altitude_std")).all()


def test_round_trip_gap_and_zone(tmp_path, simulated):
    rec = simulated.copy(deep=True)
    rec["signal"][0, 10:20, :] = np.nan  # ten minutes off the wrist
    rec = rec.assign_coords(timezone=("participant", ["Europe/Paris"]))
    back = quiet_read(fit.write_example(rec, tmp_path / "g.fit"))
    want, got = channel(rec, "steps"), channel(back, "steps")
    np.testing.assert_allclose(got, want, atol=1 / 64, equal_nan=True)
    assert np.isnan(got[10:20]).all() and str(back["timezone"].values[0]) == "Etc/GMT-1"


def test_write_example_one_file_per_participant(tmp_path):
    rec = lsmkit.simulate(2, 1, seed=1).isel(time=slice(600, 603))
    paths = fit.write_example(rec, tmp_path / "out")
    assert [p.name for p in paths] == [f"{p}.fit" for p in rec["participant"].values]
    back = quiet_read(tmp_path / "out", participant="file")
    np.testing.assert_allclose(back["signal"].sel(channel="heart_rate").values,
                               rec["signal"].sel(channel="heart_rate").values, atol=1 / 120 + 1e-4)


# ---- real files ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["2020-06-01-16-52-40", "6449921903_ACTIVITY"])
def test_real_files_match_the_bundled_sweat_sample(name):
    """Same minutes, same heart rate (to float32) as data_samples/sweat_workouts.nc (made with fitparse).

    The sample needs 30 recorded seconds for a minute; this reader averages whatever records a
    minute has, so one partial minute of each workout (its first or last) is only here.
    """
    ds = quiet_read(REAL / f"{name}.fit")
    sample = lsmkit.load_sample("sweat_workouts", "recordings").sel(participant=name.removesuffix("_ACTIVITY"))
    assert pd.Timestamp(ds["start"].values[0]) == pd.Timestamp(sample["start"].values)
    n = ds.sizes["time"]
    for ch in ("heart_rate", "altitude_std"):
        mine, theirs = channel(ds, ch), sample["signal"].sel(channel=ch).values[:n]
        both = ~np.isnan(mine) & ~np.isnan(theirs)
        assert np.array_equal(np.isnan(theirs) | both, np.ones(n, bool)) or ch == "altitude_std"
        np.testing.assert_allclose(mine[both], theirs[both], rtol=1e-6)
    only_here = ~np.isnan(channel(ds, "heart_rate")) & np.isnan(sample["signal"].sel(channel="heart_rate").values[:n])
    assert np.flatnonzero(only_here).tolist() in ([0], [n - 1])
    assert ds.attrs["device"] in ("garmin edge1000", "garmin fr935")
    assert "record.temperature (device, not skin)" in ds.attrs["skipped"]


def test_real_multisport_file():
    ds = quiet_read(REAL / "6471559601_ACTIVITY.fit")
    assert ds.attrs["device"] == "garmin fr935" and ds["utc_offset"].values[0] == 60
    assert "record.cadence (transition: not steps) (12)" in ds.attrs["skipped"]
    assert "record.cadence (rowing: not steps) (24)" in ds.attrs["skipped"]  # strokes, not steps
    assert channel(ds, "steps")[0] == 0.0  # the running part: standing still, cadence 0
    assert channel(ds, "heart_rate")[0] == pytest.approx(51.93, abs=0.01)


@pytest.mark.skipif(importlib.util.find_spec("sweat") is None, reason="sweat (its larger example files) not installed")
@pytest.mark.parametrize("name", ["4078723797", "4801048867"])
def test_installed_sweat_files_match_the_sample(name):
    data = Path(importlib.util.find_spec("sweat").origin).parent / "examples" / "data"
    ds = quiet_read(data / f"{name}.fit")
    sample = lsmkit.load_sample("sweat_workouts", "recordings").sel(participant=name)
    mine, theirs = channel(ds, "heart_rate"), sample["signal"].sel(channel="heart_rate").values[: ds.sizes["time"]]
    both = ~np.isnan(mine) & ~np.isnan(theirs)
    assert both.sum() >= 80
    np.testing.assert_allclose(mine[both], theirs[both], rtol=1e-6)


def test_smart_recording_every_5_s_still_gives_altitude_std(tmp_path):
    """Garmin's default "smart recording" writes a record every few seconds, not every second."""
    messages = [file_id(), sport(1), timer(T0)]
    messages += [record(T0 + s, 70, 85, 100.0 + (s % 10) * 0.2) for s in range(0, 180, 5)]  # 12 records a minute
    messages += [timer(T0 + 179, start=False), session(T0, T0 + 179, 1)]
    ds = quiet_read(write(tmp_path, messages))
    np.testing.assert_allclose(channel(ds, "altitude_std"), [0.5] * 3, atol=1e-3)  # 100.0 and 101.0, alternately
