"""A catalogue of malformed Fitbit exports: each named case ends in a clear error or a reported fallback.

Errors are ``ValueError`` (``TypeError`` for a wrong option type, ``FileNotFoundError`` for a missing path)
whose message names the file and the entry (0-based position in the JSON list), the CSV line (the header
is line 1) or the row read_table saw, labelled with the file and entry, and the bad value. Fallbacks are
reported with a warning and keep every value they do not report changing. Normal behaviour is in
tests/test_fitbit.py.
"""

from __future__ import annotations

import json
import warnings
import zipfile

import numpy as np
import pytest

from lsmkit.io import fitbit

PROFILE = "id,timezone\nP1,Europe/Berlin\n"
HR = "Physical Activity/heart_rate-2021-03-01.json"
STEPS = "Physical Activity/steps-2021-03-01.json"
RHR = "Physical Activity/resting_heart_rate-2021-03-01.json"
HRV = "Sleep/Heart Rate Variability Details - 2021-03-01.csv"
HRV_HEADER = "timestamp,rmssd,coverage,low_frequency,high_frequency\n"


def hr(stamp="03/01/21 10:00:07", bpm=62, confidence=2, **extra):
    value = {"bpm": bpm, "confidence": confidence} if confidence is not None else {"bpm": bpm}
    return {"dateTime": stamp, "value": value, **extra}


def good_hr(*more):
    return json.dumps([hr("03/01/21 10:00:07", 60), *more])


def step(stamp="03/01/21 10:00:00", value="5"):
    return {"dateTime": stamp, "value": value}


def make(tmp_path, files, profile=PROFILE):
    """An export folder <tmp>/JaneDoe holding ``files`` ({relative name: text, bytes or JSON-able})."""
    root = tmp_path / "JaneDoe"
    root.mkdir()
    if profile is not None:
        files = {"Your Profile/Profile.csv": profile, **files}
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return root


def zipped(tmp_path, members):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    return path


def hr_minutes(ds):
    return ds["signal"].isel(participant=0).sel(channel="heart_rate").values


# ---- errors ----------------------------------------------------------------------------------
# (files, read options, exception, regex the message must match)

ERRORS = [
    # the JSON itself
    pytest.param({HR: "[{\"dateTime\": \"03/01/21 10:00:07\", \"value\": {\"bpm\": 62,}}]"}, {}, ValueError,
                 r"heart_rate-2021-03-01\.json is not valid JSON \(truncated\?\).*line 1 column", id="invalid-json"),
    pytest.param({HR: good_hr()[:40]}, {}, ValueError, r"heart_rate-2021-03-01\.json is not valid JSON \(truncated",
                 id="truncated-json"),
    pytest.param({HR: ""}, {}, ValueError, r"heart_rate-2021-03-01\.json is empty \(0 bytes\)", id="empty-json-file"),
    pytest.param({HR: b"[{\"dateTime\": \"\xff\"}]"}, {}, ValueError, r"heart_rate-2021-03-01\.json is not UTF-8",
                 id="json-not-utf8"),
    pytest.param({HR: {"dateTime": "03/01/21 10:00:07", "value": {"bpm": 62}}}, {}, ValueError,
                 r"heart_rate-2021-03-01\.json: expected a JSON list of entries, found a dict", id="object-not-list"),
    pytest.param({HR: good_hr(62)}, {}, ValueError, r"heart_rate-2021-03-01\.json: entry 1 is a int \(62\)",
                 id="entry-not-an-object"),
    # entries
    pytest.param({HR: good_hr({"value": {"bpm": 62, "confidence": 2}})}, {}, ValueError,
                 r"heart_rate-2021-03-01\.json: entry 1 has no 'dateTime'", id="entry-without-datetime"),
    pytest.param({STEPS: [step(), {"dateTime": "03/01/21 10:01:00"}]}, {}, ValueError,
                 r"steps-2021-03-01\.json: entry 1 has no 'value'", id="entry-without-value"),
    pytest.param({HR: good_hr(hr("yesterday"))}, {}, ValueError,
                 r"heart_rate-2021-03-01\.json: entry 1 has dateTime 'yesterday'; expected Fitbit's local time "
                 r"'MM/DD/YY HH:MM:SS'", id="unparsable-datetime"),
    pytest.param({HR: good_hr(hr("2021-03-01T10:00:17"))}, {}, ValueError,
                 r"entry 1 has dateTime '2021-03-01T10:00:17'; expected Fitbit's", id="iso-datetime-among-fitbit-ones"),
    pytest.param({HR: json.dumps([hr("2021-03-01T10:00:07Z")])}, {}, ValueError,
                 r"entry 0 has dateTime '2021-03-01T10:00:07Z' \(it has a UTC offset", id="datetime-with-utc-offset"),
    pytest.param({HR: good_hr(hr(1614592807))}, {}, ValueError, r"entry 1 has dateTime 1614592807",
                 id="datetime-a-number"),
    pytest.param({HR: good_hr(hr("13/45/21 10:00:07"))}, {}, ValueError, r"entry 1 has dateTime '13/45/21 10:00:07'",
                 id="impossible-date"),
    # heart rate values
    pytest.param({HR: good_hr(hr(bpm="62"))}, {}, ValueError,
                 r"heart_rate-2021-03-01\.json: entry 1 has bpm '62'; expected a number", id="bpm-a-string"),
    pytest.param({HR: good_hr(hr(bpm=None))}, {}, ValueError, r"entry 1 has bpm None; expected a number",
                 id="bpm-null"),
    pytest.param({HR: good_hr(hr(bpm=True))}, {}, ValueError, r"entry 1 has bpm True", id="bpm-boolean"),
    pytest.param({HR: good_hr({"dateTime": "03/01/21 10:00:17", "value": {"confidence": 2}})}, {}, ValueError,
                 r"entry 1 has value \{'confidence': 2\}; expected \{'bpm'", id="bpm-missing"),
    pytest.param({HR: good_hr({"dateTime": "03/01/21 10:00:17", "value": 62})}, {}, ValueError,
                 r"entry 1 has value 62; expected \{'bpm'", id="heart-rate-value-not-an-object"),
    pytest.param({HR: good_hr(hr(bpm=400))}, {}, ValueError,
                 r"heart_rate-2021-03-01\.json: entry 1 has bpm 400, outside the physical range \[25, 240\] bpm.*"
                 r"on_out_of_range='nan'", id="absurd-bpm"),
    pytest.param({HR: good_hr(hr(bpm=0))}, {}, ValueError, r"entry 1 has bpm 0, outside", id="zero-bpm"),
    pytest.param({HR: good_hr(hr(confidence="high"))}, {}, ValueError,
                 r"entry 1 has confidence 'high'; expected an integer 0-3", id="confidence-not-an-integer"),
    pytest.param({HR: json.dumps([hr("03/01/21 10:00:07"), hr("03/01/21 10:00:07", 64)])}, {}, ValueError,
                 r"heart_rate-2021-03-01\.json: entries 0 and 1 share the time '03/01/21 10:00:07'",
                 id="duplicate-samples-in-a-file"),
    # steps
    pytest.param({STEPS: [step(), step("03/01/21 10:01:00", "-5")]}, {}, ValueError,
                 r"steps-2021-03-01\.json: entry 1 has steps '-5' \(negative\)", id="steps-negative"),
    pytest.param({STEPS: [step(value="3.5")]}, {}, ValueError,
                 r"steps-2021-03-01\.json: entry 0 has steps '3\.5' \(not a whole number\)", id="steps-not-whole"),
    pytest.param({STEPS: [step(value="many")]}, {}, ValueError, r"entry 0 has steps 'many'", id="steps-text"),
    pytest.param({STEPS: [step(value=4.0)]}, {}, ValueError, r"entry 0 has steps 4\.0", id="steps-a-float"),
    pytest.param({STEPS: [step(value="500")]}, {}, ValueError,
                 r"steps value 500 at row 0 \(index \('steps-2021-03-01\.json', 'entry 0'\)\) is outside its physical "
                 r"range", id="steps-over-300-a-minute"),
    # resting heart rate
    pytest.param({RHR: [{"dateTime": "03/01/21 00:00:00", "value": 58}]}, {}, ValueError,
                 r"resting_heart_rate-2021-03-01\.json: entry 0 has value 58; expected \{'date'", id="rhr-value-flat"),
    pytest.param({RHR: [{"dateTime": "03/01/21 00:00:00", "value": {"date": "03/01/21", "value": "58"}}]}, {},
                 ValueError, r"entry 0 has resting heart rate '58'; expected a number", id="rhr-a-string"),
    pytest.param({RHR: [{"dateTime": "03/01/21 00:00:00", "value": {"date": "03/01/21", "value": 200}}]}, {},
                 ValueError, r"resting_heart_rate value 200 at row 0 \(index \('resting_heart_rate-2021-03-01\.json', "
                 r"'entry 0'\)\)", id="rhr-out-of-range"),
    # HRV details CSV
    pytest.param({HRV: "timestamp,coverage\n2021-03-01T01:05:00,0.9\n"}, {}, ValueError,
                 r"Heart Rate Variability Details - 2021-03-01\.csv line 1: no column\(s\) \['rmssd'\]",
                 id="hrv-missing-column"),
    pytest.param({HRV: ""}, {}, ValueError, r"Details - 2021-03-01\.csv line 1: no column\(s\) \['timestamp', 'rmssd'\]",
                 id="hrv-empty-file"),
    pytest.param({HRV: HRV_HEADER + "2021-03-01T01:05:00,41,0.9,1,1\n2021-03-01T01:10:00,abc,0.9,1,1\n"}, {},
                 ValueError, r"Details - 2021-03-01\.csv line 3: rmssd 'abc' is not a number", id="hrv-rmssd-text"),
    pytest.param({HRV: HRV_HEADER + "2021-03-01T01:05:00Z,41,0.9,1,1\n"}, {}, ValueError,
                 r"Details - 2021-03-01\.csv line 2: timestamp '2021-03-01T01:05:00Z'; expected a local time",
                 id="hrv-timestamp-with-zone"),
    pytest.param({HRV: HRV_HEADER + "soon,41,0.9,1,1\n"}, {}, ValueError, r"line 2: timestamp 'soon'",
                 id="hrv-timestamp-unparsable"),
    pytest.param({HRV: HRV_HEADER + "2021-03-01T01:05:00,900,0.9,1,1\n"}, {}, ValueError,
                 r"rmssd value 900 at row 0 \(index \('Heart Rate Variability Details - 2021-03-01\.csv', 'line 2'\)\)",
                 id="hrv-rmssd-out-of-range"),
    # across files
    pytest.param({HR: good_hr(), "Physical Activity/heart_rate-2021-02-28.json": json.dumps([hr("03/01/21 10:00:30")])},
                 {}, ValueError, r"occur more than once.*heart_rate-2021-02-28\.json.*heart_rate-2021-03-01\.json.*"
                 r"on_duplicates=", id="duplicate-minute-across-files"),
    pytest.param({HR: good_hr(), "Other/heart_rate-2021-03-01.json": good_hr()}, {}, ValueError,
                 r"holds heart_rate-2021-03-01\.json twice .*one export of one participant", id="same-file-twice"),
    # time zones and DST
    pytest.param({HR: good_hr()}, {"profile": None}, ValueError,
                 r"no Profile\.csv with a timezone.*pass tz=", id="no-profile-no-tz"),
    pytest.param({HR: good_hr()}, {"profile": "id,full_name\nP1,Jane\n"}, ValueError, r"pass tz=",
                 id="profile-without-timezone"),
    pytest.param({HR: good_hr()}, {"tz": "Mars/Olympus"}, ValueError, r"unknown time zone 'Mars/Olympus' \(tz=\)",
                 id="unknown-tz"),
    pytest.param({HR: good_hr()}, {"profile": "id,timezone\nP1,Moon/Base\n"}, ValueError,
                 r"unknown time zone 'Moon/Base' \(Profile\.csv timezone\)", id="unknown-profile-timezone"),
    pytest.param({"Physical Activity/heart_rate-2021-03-28.json": json.dumps([hr("03/28/21 02:30:07")])}, {},
                 ValueError, r"do not exist in Europe/Berlin \(clocks spring forward\), e\.g\. 2021-03-28 02:30:00 at "
                 r"row 0 \(index \('heart_rate-2021-03-28\.json', 'entry 0'\)\); pass nonexistent=",
                 id="nonexistent-spring-time"),
    pytest.param({"Physical Activity/heart_rate-2021-10-31.json": json.dumps([hr("10/31/21 02:30:07")])},
                 {"ambiguous": "raise"}, ValueError, r"repeated when Europe/Berlin leaves summer time, e\.g\. "
                 r"2021-10-31 02:30:00 at row 0 \(index \('heart_rate-2021-10-31\.json'", id="ambiguous-fall-time"),
    # what the export holds
    pytest.param({}, {}, ValueError, r"JaneDoe holds no Fitbit data files .*is it a Fitbit export", id="empty-folder"),
    pytest.param({"Physical Activity/altitude-2021-03-01.json": "[]", "notes.txt": "x"}, {}, ValueError,
                 r"holds no Fitbit data files", id="only-files-without-channels"),
    pytest.param({HR: "[]"}, {}, ValueError, r"JaneDoe: no heart_rate, steps, resting_heart_rate .* entries to read",
                 id="only-empty-lists"),
    pytest.param({HR: good_hr()}, {"on_out_of_range": "drop"}, ValueError,
                 r"on_out_of_range must be one of 'raise', 'nan'; got 'drop'", id="unknown-option-value"),
    pytest.param({HR: good_hr()}, {"min_confidence": "1"}, TypeError, r"min_confidence must be an int",
                 id="min-confidence-not-int"),
]


@pytest.mark.parametrize("files, options, error, match", ERRORS)
def test_malformed_export_raises(tmp_path, files, options, error, match):
    options = dict(options)
    root = make(tmp_path, files, profile=options.pop("profile", PROFILE))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=match):
            fitbit.read(root, **options)


def test_zip_without_fitbit_files(tmp_path):
    path = zipped(tmp_path, {"photos/cat.jpg": "x", "README.txt": "hello"})
    with pytest.raises(ValueError, match=r"export\.zip holds no Fitbit data files"):
        fitbit.read(path, tz="UTC")


def test_truncated_zip_is_not_taken_for_an_export(tmp_path):
    path = zipped(tmp_path, {f"Takeout/Fitbit/Global Export Data/{HR.split('/')[1]}": good_hr()})
    path.write_bytes(path.read_bytes()[:-30])  # the central directory is cut off
    with pytest.raises(ValueError, match=r"export\.zip is neither a folder nor a zip file"):
        fitbit.read(path, tz="UTC")


def test_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no such file or folder: .*nowhere"):
        fitbit.read(tmp_path / "nowhere")


# ---- warned fallbacks ------------------------------------------------------------------------


def read_warned(tmp_path, files, match, **options):
    root = make(tmp_path, files, profile=options.pop("profile", PROFILE))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the other warnings of the read, re-emitted by pytest.warns
        with pytest.warns(UserWarning, match=match):
            return fitbit.read(root, **options)


def test_confidence_zero_samples_are_dropped_and_counted(tmp_path):
    ds = read_warned(tmp_path, {HR: good_hr(hr("03/01/21 10:00:17", 200, confidence=0))},
                     r"heart_rate-2021-03-01\.json: 1 heart_rate samples with confidence below 1 \(first: entry 1\)")
    assert hr_minutes(ds)[0] == 60 and "confidence below 1: 1" in ds.attrs["skipped"]


def test_missing_confidence_is_kept_and_counted(tmp_path):
    ds = read_warned(tmp_path, {HR: good_hr(hr("03/01/21 10:00:17", 64, confidence=None))},
                     r"1 heart_rate samples without confidence \(kept\) \(first: entry 1\)")
    assert hr_minutes(ds)[0] == 62


def test_absurd_bpm_left_out_on_request(tmp_path):
    ds = read_warned(tmp_path, {HR: good_hr(hr("03/01/21 10:00:17", 400))},
                     r"1 heart_rate samples outside the physical range \(first: entry 1\)", on_out_of_range="nan")
    assert hr_minutes(ds)[0] == 60


def test_file_name_date_disagreeing_with_entries_warns(tmp_path):
    ds = read_warned(tmp_path, {"Physical Activity/heart_rate-2021-03-05.json": good_hr()},
                     r"heart_rate-2021-03-05\.json: its name says 2021-03-05 but its first entry \(entry 0\) is on "
                     r"2021-03-01; read as the entries say")
    assert ds["start"].values[0] == np.datetime64("2021-03-01T09:00")  # 10:00 in Berlin (UTC+1)


def test_whole_file_in_iso_times_is_read_with_a_warning(tmp_path):
    ds = read_warned(tmp_path, {HR: json.dumps([hr("2021-03-01T10:00:07"), hr("2021-03-01T10:00:17", 64)])},
                     r"times are ISO 8601 \('2021-03-01T10:00:07'\) rather than Fitbit's")
    assert hr_minutes(ds)[0] == 63


def test_duplicates_merged_on_request(tmp_path):
    files = {HR: good_hr(), "Physical Activity/heart_rate-2021-02-28.json": json.dumps([hr("03/01/21 10:00:30", 70)])}
    ds = read_warned(tmp_path, files, r"occurred more than once \(2 rows\); kept the mean", on_duplicates="mean")
    assert hr_minutes(ds)[0] == 65


def test_samples_sharing_a_time_averaged_on_request(tmp_path):
    files = {HR: json.dumps([hr("03/01/21 10:00:07", 60), hr("03/01/21 10:00:07", 64)])}
    ds = read_warned(tmp_path, files, r"1 heart_rate sample\(s\) share a time with the one before \(first: entry 1\)",
                     on_duplicates="first")
    assert hr_minutes(ds)[0] == 62


def test_nonexistent_time_shifted_on_request(tmp_path):
    files = {"Physical Activity/heart_rate-2021-03-28.json": json.dumps([hr("03/28/21 02:30:07")])}
    ds = read_warned(tmp_path, files, r"do not exist in Europe/Berlin .* moved to the first minute",
                     nonexistent="shift_forward")
    assert ds["start"].values[0] == np.datetime64("2021-03-28T01:00")  # 03:00 CEST


def test_rhr_without_estimate_is_left_out(tmp_path):
    files = {RHR: [{"dateTime": "03/01/21 00:00:00", "value": {"date": "03/01/21", "value": 0, "error": 0}}],
             STEPS: [step()]}
    ds = read_warned(tmp_path, files, r"1 day\(s\) without a resting heart-rate estimate \(value 0 or null\)")
    assert ds["signal"].sel(channel="resting_heart_rate").isnull().all()


def test_hrv_rows_without_rmssd_are_counted(tmp_path):
    files = {HRV: HRV_HEADER + "2021-03-01T01:05:00,,0.1,,\n2021-03-01T01:10:00,40,0.9,1,1\n"}
    ds = read_warned(tmp_path, files, r"left out Heart Rate Variability Details rows without rmssd: 1")
    assert int(ds["signal"].sel(channel="rmssd").notnull().sum()) == 5


def test_unknown_files_are_counted_not_errors(tmp_path):
    files = {HR: good_hr(), "Physical Activity/mystery-2021-03-01.json": "not even json", "a.txt": "x",
             "Sleep/sleep-2021-03-01.json": "[]", "Physical Activity/wrist_temperature-2021-03-01.json": "[]"}
    ds = read_warned(tmp_path, files, r"JaneDoe: left out")
    skipped = ds.attrs["skipped"]
    assert "mystery files (no LSM channel): 1" in skipped and "sleep files (no LSM channel): 1" in skipped
    assert "other files: 1" in skipped and "wrist_temperature files (relative to the personal baseline" in skipped
    assert hr_minutes(ds)[0] == 60
