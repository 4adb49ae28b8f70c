"""Fitbit export reader (lsmkit.io.fitbit): known answers from hand-written files, round trips, DST, layouts.

Malformed exports are catalogued in tests/test_bad_fitbit.py.
"""

from __future__ import annotations

import json
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

import lsmkit
from lsmkit.data import validate_recordings
from lsmkit.io import fitbit
from lsmkit.io.devices import read_device

CHANNELS = ["heart_rate", "resting_heart_rate", "rmssd", "steps"]


def put(root, name, data):
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def hr(stamp, bpm, confidence=2):
    return {"dateTime": stamp, "value": {"bpm": bpm, "confidence": confidence}}


def series(ds, channel):
    """A channel of the (only) participant as a Series on its UTC minutes."""
    values = ds["signal"].isel(participant=0).sel(channel=channel).values
    start = ds["start"].values[0]
    return pd.Series(values, index=pd.DatetimeIndex(start + np.arange(len(values)) * np.timedelta64(1, "m")))


@pytest.fixture
def archive(tmp_path):
    """An older-style account archive, <Name>/Physical Activity/..., in Los Angeles (UTC-8 on 2021-03-01)."""
    root = tmp_path / "JaneDoe"
    put(root, "Your Profile/Profile.csv", "id,full_name,timezone\nABC123,Jane Doe,America/Los_Angeles\n")
    put(root, "Physical Activity/heart_rate-2021-03-01.json", [
        hr("03/01/21 00:00:07", 60), hr("03/01/21 00:00:17", 62, 3), hr("03/01/21 00:00:27", 200, 0),
        hr("03/01/21 00:01:02", 70), hr("03/01/21 00:03:59", 80, 1)])
    put(root, "Physical Activity/steps-2021-03-01.json", [
        {"dateTime": "03/01/21 00:00:00", "value": "0"}, {"dateTime": "03/01/21 00:01:00", "value": "12"},
        {"dateTime": "03/01/21 00:02:00", "value": "7"}])
    put(root, "Physical Activity/resting_heart_rate-2021-03-01.json", [
        {"dateTime": "03/01/21 00:00:00", "value": {"date": "03/01/21", "value": 58.25, "error": 6.9}}])
    put(root, "Sleep/Heart Rate Variability Details - 2021-03-01.csv",
        "timestamp,rmssd,coverage,low_frequency,high_frequency\n"
        "2021-03-01T00:05:00,41.5,0.93,512.1,301.2\n2021-03-01T00:10:00,38.0,0.90,500.0,280.0\n")
    put(root, "Physical Activity/altitude-2021-03-01.json", [{"dateTime": "03/01/21 00:01:00", "value": "10"}])
    put(root, "Physical Activity/calories-2021-03-01.json", [{"dateTime": "03/01/21 00:00:00", "value": "1.2"}])
    put(root, "Sleep/Computed Temperature - 2021-03-01.csv", "type,sleep_start,nightly_temperature\n")
    put(root, "README.txt", "Fitbit export\n")
    put(root, "Your Profile/Devices.csv", "wire_id,device_type,enabled\nab12,Charge 4,true\n")
    return root


def read_quiet(path, **options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = fitbit.read(path, **options)
    return ds, [str(w.message) for w in caught]


# ---- known answers ---------------------------------------------------------------------------


def test_archive_gives_known_per_minute_values(archive):
    ds, notes = read_quiet(archive)
    validate_recordings(ds)
    assert list(ds["participant"].values) == ["ABC123"]  # the Profile's id
    assert ds["timezone"].values[0] == "America/Los_Angeles"
    assert ds["start"].values[0] == np.datetime64("2021-03-01T08:00")  # local midnight, UTC-8
    h = series(ds, "heart_rate")
    assert h.iloc[0] == pytest.approx(61.0)  # 60 and 62; the confidence-0 sample (200) is dropped
    assert h.iloc[1] == 70 and np.isnan(h.iloc[2]) and h.iloc[3] == 80
    np.testing.assert_array_equal(series(ds, "steps").iloc[:3], [0, 12, 7])
    r = series(ds, "resting_heart_rate")
    assert r.notna().all() and (r == np.float32(58.25)).all()  # held over the local day (within the recording)
    m = series(ds, "rmssd")
    np.testing.assert_allclose(m.iloc[5:15], [41.5] * 5 + [38.0] * 5)  # each held over its 5 minutes
    assert m.iloc[:5].isna().all() and len(m) == 15  # the grid ends with the last held RMSSD minute
    assert any("confidence below 1 (first: entry 2)" in n for n in notes)


def test_archive_provenance_and_skipped(archive):
    ds, notes = read_quiet(archive)
    assert ds.attrs["format"] == "fitbit" and ds.attrs["source"] == "JaneDoe"
    assert ds.attrs["device"] == "Fitbit Charge 4"
    skipped = ds.attrs["skipped"]
    assert "altitude files (elevation gained per minute, not barometric altitude): 1" in skipped
    assert "calories files (no LSM channel): 1" in skipped
    assert "Computed Temperature files (relative to the personal baseline" in skipped
    assert "other files: 1" in skipped and "heart_rate samples with confidence below 1: 1" in skipped
    assert any(n.startswith("JaneDoe: left out") for n in notes)
    assert ds["signal"].sel(channel="altitude_std").isnull().all()  # altitude is not mapped


def test_min_confidence_drops_more_samples(archive):
    ds, _ = read_quiet(archive, min_confidence=3)
    h = series(ds, "heart_rate")
    assert h.iloc[0] == 62 and np.isnan(h.iloc[1]) and np.isnan(h.iloc[3])


def test_tz_and_name_options_override_the_profile(archive):
    ds, notes = read_quiet(archive, tz="Europe/Berlin", name="jane")
    assert list(ds["participant"].values) == ["jane"]
    assert ds["start"].values[0] == np.datetime64("2021-02-28T23:00")  # Berlin is UTC+1 in winter
    assert any("overrides the timezone 'America/Los_Angeles'" in n for n in notes)


def test_name_defaults_to_the_folder_without_a_profile_id(tmp_path):
    root = tmp_path / "MaxMuster"
    put(root, "Physical Activity/steps-2021-03-01.json", [{"dateTime": "03/01/21 10:00:00", "value": "5"}])
    ds, _ = read_quiet(root, tz="UTC")
    assert list(ds["participant"].values) == ["MaxMuster"] and series(ds, "steps").iloc[0] == 5


def test_zip_of_the_archive_reads_the_same(archive, tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as z:
        for f in archive.rglob("*"):
            if f.is_file():
                z.write(f, f.relative_to(archive.parent))
    a, _ = read_quiet(archive)
    b, _ = read_quiet(path, name="ABC123")
    np.testing.assert_array_equal(a["signal"].values, b["signal"].values)
    assert b.attrs["source"] == "export.zip"


def test_heart_rate_reaches_read_table_per_minute_not_per_sample(archive, monkeypatch):
    seen = {}
    real = fitbit.read_table

    def spy(frame, **options):
        seen["rows"] = frame["channel"].value_counts().to_dict()
        return real(frame, **options)

    monkeypatch.setattr(fitbit, "read_table", spy)
    read_quiet(archive)
    assert seen["rows"]["heart_rate"] == 3  # five samples, one dropped, in three minutes


def test_repeated_hour_samples_are_told_apart(tmp_path):
    """Europe/Berlin leaves summer time on 2024-10-27: 02:30 happens twice, an hour apart in UTC."""
    root = tmp_path / "dst"
    put(root, "Your Profile/Profile.csv", "id,timezone\nP1,Europe/Berlin\n")
    put(root, "Global Export Data/heart_rate-2024-10-27.json", [
        hr("10/27/24 02:30:05", 60), hr("10/27/24 02:30:15", 62), hr("10/27/24 02:59:55", 64),
        hr("10/27/24 02:00:05", 70), hr("10/27/24 02:30:10", 80)])
    ds, notes = read_quiet(root)
    h = series(ds, "heart_rate").dropna()
    assert list(h.index.strftime("%H:%M")) == ["00:30", "00:59", "01:00", "01:30"]  # UTC
    np.testing.assert_array_equal(h.values, [61, 64, 70, 80])
    assert any("resolved from row order" in n for n in notes)


def test_read_device_with_format_fitbit(archive):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = read_device(archive, format="fitbit")
    assert ds.attrs["format"] == "fitbit" and series(ds, "steps").iloc[1] == 12


def test_looks_like_recognises_exports_by_name_only(archive, tmp_path):
    assert fitbit.looks_like(archive)
    other = tmp_path / "other"
    put(other, "data.json", "[]")
    put(other, "notes-2021-03-01.json", "[]")  # dated, but not a Fitbit type
    assert not fitbit.looks_like(other)
    z = tmp_path / "some.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("Takeout/Fitbit/Global Export Data/heart_rate-2021-03-01.json", "[]")
    assert fitbit.looks_like(z)
    assert not fitbit.looks_like(put(tmp_path, "heart_rate-2021-03-01.json", "[]"))  # a file, not an export


# ---- round trips through write_example ------------------------------------------------------


def simulated(start="2024-01-01", tz="America/New_York", days=1, seed=1):
    return lsmkit.restrict(lsmkit.simulate(n_participants=1, days=days, seed=seed, start=start, timezone=tz), CHANNELS)


def compare(rec, ds):
    """Round-trip errors per channel on the minutes the recordings observed (and values the reader added)."""
    out = {}
    for c in CHANNELS:
        a, b = series(rec, c), series(ds, c).reindex(series(rec, c).index)
        if c == "rmssd":  # written as 5-minute means of the UTC clock
            a = a.groupby(a.index.floor("5min")).transform("mean").where(a.notna())
        seen = a.notna()
        assert b[seen].notna().all(), c
        out[c] = float(np.max(np.abs(a[seen] - b[seen])))
    return out


@pytest.mark.parametrize("suffix", ["", ".zip"])
def test_round_trip_gives_back_the_minutes(tmp_path, suffix):
    rec = simulated()
    path = fitbit.write_example(rec, tmp_path / f"export{suffix}")
    assert fitbit.looks_like(path)
    ds, _ = read_quiet(path)
    err = compare(rec, ds)
    assert err["steps"] == 0 and err["resting_heart_rate"] == 0
    assert err["heart_rate"] <= 0.125  # integer-bpm samples, at least 4 a minute
    assert err["rmssd"] < 1e-4
    assert list(ds["participant"].values) == list(rec["participant"].values)
    assert ds["timezone"].values[0] == "America/New_York"


@pytest.mark.parametrize("start", ["2024-10-27", "2024-03-31"], ids=["fall-back", "spring-forward"])
def test_round_trip_across_a_dst_change(tmp_path, start):
    rec = simulated(start=start, tz="Europe/Berlin", seed=3)
    ds, notes = read_quiet(fitbit.write_example(rec, tmp_path / "x.zip"))
    assert len(ds["time"]) == len(rec["time"])  # no minute lost or doubled at the change
    err = compare(rec, ds)
    assert err["steps"] == 0 and err["heart_rate"] <= 0.125 and err["resting_heart_rate"] == 0


def test_write_example_layout_and_samples(tmp_path):
    rec = simulated()
    root = fitbit.write_example(rec, tmp_path / "out")
    base = root / "Takeout" / "Fitbit"
    assert "timezone" in (base / "Your Profile" / "Profile.csv").read_text().splitlines()[0]
    day = sorted((base / "Global Export Data").glob("heart_rate-*.json"))[0]
    entries = json.loads(day.read_text())
    t = pd.to_datetime([e["dateTime"] for e in entries], format="%m/%d/%y %H:%M:%S")
    same_minute = t.floor("min")[1:] == t.floor("min")[:-1]
    within = np.diff(t.values).astype("timedelta64[s]").astype(int)[same_minute]
    assert within.min() >= 5 and within.max() <= 15  # samples every 5-15 s within a minute
    assert all(isinstance(e["value"]["bpm"], int) and 1 <= e["value"]["confidence"] <= 3 for e in entries)
    assert (base / "Heart Rate Variability").is_dir()


def test_write_example_needs_one_participant(tmp_path):
    rec = lsmkit.simulate(n_participants=2, days=1, seed=0)
    with pytest.raises(ValueError, match=r"one participant; the recordings hold 2 .*pass participant="):
        fitbit.write_example(rec, tmp_path / "x")
    path = fitbit.write_example(rec, tmp_path / "y", participant=str(rec["participant"].values[1]))
    ds, _ = read_quiet(path)
    assert list(ds["participant"].values) == [str(rec["participant"].values[1])]


def test_files_the_reader_does_not_use_may_repeat_across_folders(archive):
    put(archive, "Sleep/README.txt", "another readme\n")  # README.txt is also at the top
    put(archive, "Physical Activity/.DS_Store", "x")
    put(archive, "Sleep/.DS_Store", "x")
    ds, _ = read_quiet(archive)
    np.testing.assert_array_equal(series(ds, "steps").iloc[:3], [0, 12, 7])
