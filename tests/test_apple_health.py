"""Apple Health exports: per-minute values of hand-written exports and of write_example round trips.

The malformed-input catalogue is tests/test_bad_apple_health.py.
"""

from __future__ import annotations

import warnings
import zipfile

import numpy as np
import pytest

import lsmkit
from lsmkit.io import apple_health as ah
from lsmkit.io.devices import read_device

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n <ExportDate value="2024-01-02 09:00:00 +0100"/>\n'


def rec(kind="HeartRate", value="60", start="2024-01-01 08:00:00 +0100", end=None, unit=None, source="Apple Watch",
        body=""):
    unit = unit or {"HeartRate": "count/min", "RestingHeartRate": "count/min", "StepCount": "count",
                    "HeartRateVariabilitySDNN": "ms", "AppleSleepingWristTemperature": "degC"}.get(kind, "count")
    attrs = (f'type="HKQuantityTypeIdentifier{kind}" sourceName="{source}" unit="{unit}" startDate="{start}" '
             f'endDate="{end or start}" value="{value}"')
    return f" <Record {attrs}/>\n" if not body else f" <Record {attrs}>\n{body} </Record>\n"


def export(tmp_path, *records, name="export.xml"):
    path = tmp_path / name
    path.write_text(HEAD + "".join(records) + "</HealthData>\n", encoding="utf-8")
    return path


def read(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return ah.read(path, **options)


def channel(ds, name):
    return ds["signal"].isel(participant=0).sel(channel=name).values


def minute_of(ds, stamp):
    """Index on the recording's grid of a UTC time."""
    return int((np.datetime64(stamp) - ds["start"].values[0]) / np.timedelta64(1, "m"))


@pytest.fixture(scope="module")
def simulated():
    return lsmkit.restrict(lsmkit.simulate(1, 2, timezone="Europe/Berlin"), "smartwatch")


def _aligned(rec, out, name):
    """The simulated and the read channel over the read grid."""
    offset = minute_of(out, rec["start"].values[0]) * -1
    truth = rec["signal"].isel(participant=0).sel(channel=name).values[offset:offset + out.sizes["time"]]
    return truth, channel(out, name)


@pytest.mark.parametrize("suffix", ["xml", "zip"])
def test_round_trip_gives_back_the_minutes_written(tmp_path, simulated, suffix):
    path = ah.write_example(simulated, tmp_path / f"export.{suffix}")
    out = read(path)
    truth, hr = _aligned(simulated, out, "heart_rate")
    rows = np.arange(out.sizes["time"])
    written = np.isfinite(truth) & ((minute_of(out, simulated["start"].values[0]) + rows) % 5 == 0)
    assert written.sum() > 250
    np.testing.assert_array_equal(hr[written], truth[written])  # float32-exact
    truth, steps = _aligned(simulated, out, "steps")
    positive = truth > 0
    np.testing.assert_array_equal(steps[positive], truth[positive])  # the phone's copies never add to them
    assert np.isnan(steps[~positive]).all()  # no zero-step samples in Apple's layout
    truth, sdnn = _aligned(simulated, out, "sdnn")
    assert np.isfinite(sdnn).sum() == 8
    np.testing.assert_array_equal(sdnn[np.isfinite(sdnn)], truth[np.isfinite(sdnn)])
    assert str(out["timezone"].values[0]) == "Etc/GMT-1"
    assert out.attrs["format"] == "apple_health" and out.attrs["device"] == "Apple Watch (Watch Watch6,2)"


def test_round_trip_heart_rate_from_beats_and_nightly_temperature(tmp_path, simulated):
    out = read(ah.write_example(simulated, tmp_path / "export.xml"))
    truth, hr = _aligned(simulated, out, "heart_rate")
    beat_minutes = np.flatnonzero(np.isfinite(channel(out, "rr_median")))
    assert beat_minutes.size == 8
    assert np.abs(hr[beat_minutes] - truth[beat_minutes]).max() < 1.0  # integer bpm in the beat list
    truth, temp = _aligned(simulated, out, "skin_temperature")
    night = np.isfinite(temp)
    assert night.sum() == 360  # 00:00-06:00 local of the one observed night
    np.testing.assert_allclose(temp[night], np.float32(np.nanmean(truth[night])), rtol=0, atol=1e-4)


def test_zip_reads_the_member_without_extracting_and_ignores_cda(tmp_path, simulated):
    path = ah.write_example(simulated, tmp_path / "export.zip")
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["apple_health_export/export.xml", "apple_health_export/export_cda.xml"]
    out = read(path)
    assert out.attrs["source"] == "export.zip"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.zip"]


def test_heart_rate_is_averaged_per_minute_and_converted_from_count_per_second(tmp_path):
    out = read(export(tmp_path, rec(value="60", start="2024-01-01 08:00:10 +0100"),
                      rec(value="70", start="2024-01-01 08:00:40 +0100"),
                      rec(value="1.5", unit="count/s", start="2024-01-01 08:02:00 +0100")))
    np.testing.assert_array_equal(channel(out, "heart_rate"), [65, np.nan, 90])
    assert str(out["start"].values[0]) == "2024-01-01T07:00:00.000000000"


def test_steps_are_spread_uniformly_over_the_interval(tmp_path):
    out = read(export(tmp_path, rec("StepCount", "100", "2024-01-01 10:00:00 +0000", "2024-01-01 10:05:00 +0000"),
                      rec("StepCount", "30", "2024-01-01 10:05:30 +0000", "2024-01-01 10:06:30 +0000")))
    np.testing.assert_allclose(channel(out, "steps"), [20, 20, 20, 20, 20, 15, 15])


def test_watch_is_preferred_where_it_counts_and_the_phone_fills_the_rest(tmp_path):
    path = export(tmp_path, rec("StepCount", "60", "2024-01-01 10:00:00 +0000", "2024-01-01 10:02:00 +0000"),
                  rec("StepCount", "100", "2024-01-01 09:58:00 +0000", "2024-01-01 10:03:00 +0000", source="iPhone"))
    with pytest.warns(UserWarning, match=r"steps from 2 sources, never summed.*2 min of 'iPhone'"):
        out = ah.read(path)
    np.testing.assert_allclose(channel(out, "steps"), [20, 20, 30, 30, 20])
    assert "steps: 'Apple Watch' (2 min), 'iPhone' (3 min)" in out.attrs["sources"]
    phone = read(path, sources=["iPhone"])
    np.testing.assert_allclose(channel(phone, "steps"), [20] * 5)
    assert phone.attrs["skipped"] == "source 'Apple Watch' (1 records)"


def test_sources_order_sets_the_priority(tmp_path):
    path = export(tmp_path, rec(value="60"), rec(value="80", source="Polar H10"))
    assert channel(read(path), "heart_rate")[0] == 60
    assert channel(read(path, sources=["Polar H10", "Apple Watch"]), "heart_rate")[0] == 80


def test_resting_heart_rate_is_held_for_its_local_day(tmp_path):
    out = read(export(tmp_path, rec("RestingHeartRate", "52", "2024-01-01 06:13:30 +0100", "2024-01-01 21:06:16 +0100")))
    rhr = channel(out, "resting_heart_rate")
    assert rhr.size == 1440 and (rhr == 52).all()
    assert str(out["start"].values[0]) == "2023-12-31T23:00:00.000000000"  # local midnight at +0100


def test_beats_give_heart_channels_and_a_time_zone_shift_is_undone(tmp_path):
    beats = "".join(f'   <InstantaneousBeatsPerMinute bpm="60" time="6:14:{s:05.2f} PM"/>\n' for s in range(1, 59))
    body = f"  <HeartRateVariabilityMetadataList>\n{beats}  </HeartRateVariabilityMetadataList>\n"
    path = export(tmp_path, rec("HeartRateVariabilitySDNN", "32.5", "2017-11-22 19:14:00 -0400",
                                "2017-11-22 19:15:00 -0400", body=body))
    with pytest.warns(UserWarning, match=r"beat times shifted, shifted them back.*\+1 h"):
        out = ah.read(path)
    assert channel(out, "sdnn")[0] == 32.5  # the record's own value, not the beats' 0 ms
    assert channel(out, "heart_rate")[0] == pytest.approx(60.0)
    assert channel(out, "rr_median")[0] == pytest.approx(1000.0)


def test_offsets_around_a_dst_change_are_each_honoured(tmp_path):
    path = export(tmp_path, rec(value="60", start="2024-03-31 01:59:00 +0100"),
                  rec(value="61", start="2024-03-31 03:00:00 +0200"), rec(value="62", start="2024-03-31 03:01:00 +0200"))
    with pytest.warns(UserWarning, match=r"timezone named 'Etc/GMT-2' after the most common offset \(2 offsets"):
        out = ah.read(path)
    np.testing.assert_array_equal(channel(out, "heart_rate"), [60, 61, 62])  # 00:59, 01:00, 01:01 UTC
    assert str(out["start"].values[0]) == "2024-03-31T00:59:00.000000000"
    named = read(path, tz="Europe/Berlin")
    assert str(named["timezone"].values[0]) == "Europe/Berlin"
    np.testing.assert_array_equal(channel(named, "heart_rate"), [60, 61, 62])


def test_unmapped_types_and_elements_are_counted_in_one_warning(tmp_path):
    path = export(tmp_path, rec(), rec("ActiveEnergyBurned", "3", unit="Cal"), rec("ActiveEnergyBurned", "4", unit="Cal"),
                  ' <Workout workoutActivityType="HKWorkoutActivityTypeRunning" sourceName="Apple Watch" '
                  'startDate="2024-01-01 08:00:00 +0100" endDate="2024-01-01 08:30:00 +0100"/>\n')
    with pytest.warns(UserWarning, match=r"left out ActiveEnergyBurned \(2\), Workout \(1\)") as seen:
        out = ah.read(path)
    assert len(seen) == 1
    assert out.attrs["skipped"] == "ActiveEnergyBurned (2), Workout (1)"


def test_wrist_temperature_is_held_over_its_night_or_left_out(tmp_path):
    path = export(tmp_path, rec(value="60", start="2024-01-01 07:00:00 +0000"),
                  rec("AppleSleepingWristTemperature", "95", "2024-01-01 00:00:00 +0000", "2024-01-01 06:00:00 +0000",
                      unit="degF"))
    temp = channel(read(path), "skin_temperature")
    assert np.isfinite(temp).sum() == 360 and temp[0] == pytest.approx(35.0)
    without = read(path, wrist_temperature=False)
    assert np.isnan(channel(without, "skin_temperature")).all()
    assert "AppleSleepingWristTemperature (1)" in without.attrs["skipped"]


def test_participant_name_and_read_device(tmp_path):
    path = export(tmp_path, rec(), name="anna.xml")
    assert str(read(path)["participant"].values[0]) == "anna"
    assert str(read(path, participant="P7")["participant"].values[0]) == "P7"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out = read_device(path, format="apple_health")
    assert channel(out, "heart_rate")[0] == 60


def test_looks_like_checks_names_not_contents(tmp_path, simulated):
    xml = export(tmp_path, rec())
    other = tmp_path / "data.xml"
    other.write_text("<svg/>")
    folder = tmp_path / "apple"
    (folder / "apple_health_export").mkdir(parents=True)
    (folder / "apple_health_export" / "export.xml").write_text(xml.read_text())
    zipped = ah.write_example(simulated, tmp_path / "mine.zip")
    assert [ah.looks_like(p) for p in (xml, other, folder, zipped, tmp_path / "empty")] == [True, False, True, True, False]
    assert channel(read(folder), "heart_rate")[0] == 60


def test_write_example_needs_one_participant(tmp_path):
    two = lsmkit.simulate(2, 1)
    with pytest.raises(ValueError, match=r"holds one person; pick one of \['P000', 'P001'\]"):
        ah.write_example(two, tmp_path / "x.xml")
    path = ah.write_example(two, tmp_path / "x.xml", participant="P001", extra_records_per_minute=2)
    out = read(path)
    assert out.attrs["skipped"] == "ActiveEnergyBurned (1440), BasalEnergyBurned (1440)"


def test_an_export_without_export_date_saves_and_windows(tmp_path):
    path = tmp_path / "export.xml"
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n' + rec() + "</HealthData>\n",
                    encoding="utf-8")
    ds = read(path)
    assert ds.attrs["export_date"] == ""
    assert lsmkit.load_dataset(lsmkit.save(ds, tmp_path / "out.nc")).attrs["export_date"] == ""
