"""A catalogue of malformed input for the loaders: each named case ends in a clear error or a reported fallback.

``read_table`` (CSV, Parquet, DataFrames) and ``open_dataset``/``load_dataset`` (netCDF, zarr) are fed
empty, truncated, mislabelled and physically impossible data. An error must be a ``ValueError`` or
``TypeError`` (``FileNotFoundError`` for a path that does not exist) whose message names the offending
column, line, value, zone or file; a fallback must be reported with a warning and must keep every value
it does not report changing. tests/test_io.py holds the loaders' normal behaviour; the property-based
search for unexpected exceptions is in tests/test_fuzz.py.
"""

from __future__ import annotations

import gzip
import re
import shutil
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import lsmkit
from lsmkit.io import load_dataset, open_dataset, read_table, save

HEADER = "timestamp,participant,heart_rate,steps\n"
ROWS = [f"2024-01-01 00:0{i},P1,{60 + i},{i}\n" for i in range(6)]  # lines 2..7 of the file
GOOD = HEADER + "".join(ROWS)


def with_line(line: int, text: str) -> str:
    """GOOD with file line ``line`` (the header is line 1) replaced by ``text``."""
    rows = list(ROWS)
    rows[line - 2] = text + "\n"
    return HEADER + "".join(rows)


def times(*stamps: str, column: str = "heart_rate", value: str = "60") -> str:
    return f"timestamp,{column}\n" + "".join(f"{s},{value}\n" for s in stamps)


def hr(ds: xr.Dataset) -> np.ndarray:
    return ds["signal"].isel(participant=0).sel(channel="heart_rate").values


def frame(**columns) -> pd.DataFrame:
    table = {"timestamp": pd.date_range("2024-01-01", periods=4, freq="min"), "heart_rate": [60.0, 61, 62, 63]}
    table.update(columns)
    return pd.DataFrame(table)


# Fall back in Europe/Berlin on 2024-10-27: 02:00-02:59 local happens twice (CEST, then CET).
FALL_BACK = ["2024-10-27 01:30", "2024-10-27 02:00", "2024-10-27 02:30", "2024-10-27 02:00", "2024-10-27 02:30",
             "2024-10-27 03:00"]
# Spring forward in Europe/Berlin on 2024-03-31: 02:00-02:59 local does not exist.
SPRING = ["2024-03-31 01:30", "2024-03-31 02:30", "2024-03-31 03:30"]


def _parquet_bytes() -> bytes:
    import io

    buffer = io.BytesIO()
    frame().to_parquet(buffer)
    return buffer.getvalue()


PARQUET = _parquet_bytes()


# ---- read_table: errors ---------------------------------------------------------------------
# Each case: (source, read_table keyword arguments, exception, regex the message must match).
# A source is file text (str, written to the case's file name), bytes, a DataFrame, or a callable
# that gets tmp_path and returns the source (for paths that are directories or missing).

READ_ERRORS = [
    # empty, header only, truncated
    pytest.param("empty.csv", "", {}, ValueError, r"empty\.csv is empty \(0 bytes", id="empty-csv-0-bytes"),
    pytest.param("empty.parquet", b"", {}, ValueError, r"could not read empty\.parquet as Parquet.*0 bytes",
                 id="empty-parquet-0-bytes"),
    pytest.param("header.csv", HEADER, {}, ValueError,
                 r"header\.csv has a header \(timestamp, participant, heart_rate, steps\) but no rows", id="header-only"),
    pytest.param("cut.csv", "timestamp,heart_ra", {}, ValueError, r"cut\.csv is empty or cut short: 18 bytes",
                 id="csv-cut-inside-the-header"),
    pytest.param("cut.csv", GOOD[:-8], {}, ValueError,
                 r"cut\.csv: 1 row\(s\) with the wrong number of fields.*line 7 has 2 field\(s\), expected 4",
                 id="csv-cut-mid-line"),
    pytest.param("cut.csv.gz", gzip.compress(GOOD.encode())[:60], {}, ValueError,
                 r"could not read cut\.csv\.gz \(truncated or corrupt\?\)", id="gzip-csv-cut-short"),
    pytest.param("half.parquet", PARQUET[: len(PARQUET) // 2], {}, ValueError,
                 r"could not read half\.parquet as Parquet", id="parquet-cut-in-half"),
    # timestamp and participant columns
    pytest.param("t.csv", GOOD.replace("timestamp", "time"), {}, ValueError,
                 r"t\.csv has no timestamp column 'timestamp'; found columns \['time', 'participant'",
                 id="timestamp-column-missing"),
    pytest.param("t.csv", GOOD, {"timestamp": "Zeit"}, ValueError, r"t\.csv has no timestamp column 'Zeit'",
                 id="timestamp-argument-names-no-column"),
    pytest.param("t.csv", GOOD, {"participant": "subject"}, ValueError,
                 r"t\.csv has no participant column 'subject'; found columns", id="participant-argument-names-no-column"),
    pytest.param("t.csv", with_line(5, "2024-01-01 00:03,,63,3"), {}, ValueError,
                 r"participant column 'participant' is empty at line 5 of t\.csv", id="participant-id-blank-in-a-row"),
    pytest.param("t.csv", "timestamp,heart_rate\n2024-01-01,60\n,61\n", {}, ValueError,
                 r"timestamp column 'timestamp' is empty at line 3 of t\.csv", id="timestamp-blank-in-date-only-column"),
    pytest.param("t.csv", with_line(5, "yesterday,P1,63,3"), {}, ValueError,
                 r"timestamp column 'timestamp' holds an unparseable time 'yesterday' at line 5 of t\.csv",
                 id="timestamp-unparseable-text"),
    pytest.param("t.csv", times("1000-01-01 00:00:00"), {}, ValueError,
                 r"timestamp column 'timestamp' holds 1000-01-01 00:00:00 at line 2 of t\.csv, outside the years",
                 id="timestamp-year-1000"),
    pytest.param("t.csv", times("9999-12-31"), {}, ValueError,
                 r"holds 9999-12-31 00:00:00 at line 2 of t\.csv, outside the years", id="timestamp-year-9999-date-only"),
    pytest.param(None, frame(timestamp=np.arange(4) * 60), {}, TypeError,
                 r"timestamp column 'timestamp' holds numbers \(int64.*Convert epoch times first",
                 id="timestamp-epoch-seconds"),
    # values: text, booleans, complex, inf, impossible physics
    pytest.param("v.csv", with_line(5, "2024-01-01 00:03,P1,sixty,3"), {}, ValueError,
                 r"column 'heart_rate' holds a non-numeric value 'sixty' at line 5 of v\.csv; expected numbers "
                 r"\(heart_rate in bpm\)", id="text-in-numeric-column"),
    pytest.param("v.csv", with_line(5, '2024-01-01 00:03,P1,"60,5",3'), {}, ValueError,
                 r"column 'heart_rate' holds a non-numeric value '60,5' at line 5", id="decimal-comma"),
    pytest.param(None, frame(heart_rate=[True, False, True, True]), {}, TypeError,
                 r"column 'heart_rate' holds booleans; expected numbers \(heart_rate in bpm\)", id="booleans-as-values"),
    pytest.param(None, frame(heart_rate=np.ones(4) * 60j), {}, TypeError,
                 r"column 'heart_rate' holds complex numbers", id="complex-values"),
    pytest.param("v.csv", with_line(5, "2024-01-01 00:03,P1,inf,3"), {}, ValueError,
                 r"heart_rate value inf at line 5 of v\.csv is outside its physical range \[25, 240\] bpm",
                 id="inf-value"),
    pytest.param("v.csv", with_line(5, "2024-01-01 00:03,P1,-inf,3"), {}, ValueError,
                 r"heart_rate value -inf at line 5 of v\.csv", id="minus-inf-value"),
    pytest.param("v.csv", with_line(5, "2024-01-01 00:03,P1,1e400,3"), {}, ValueError,
                 r"heart_rate value inf at line 5 of v\.csv", id="number-overflowing-to-inf"),
    pytest.param("v.csv", with_line(5, "2024-01-01 00:03,P1,-5,3"), {}, ValueError,
                 r"heart_rate value -5 at line 5 of v\.csv is outside its physical range \[25, 240\] bpm "
                 r"\(1 such value\(s\) in all\); pass on_out_of_range='nan'", id="heart-rate-negative"),
    pytest.param("v.csv", with_line(5, "2024-01-01 00:03,P1,900,3"), {}, ValueError,
                 r"heart_rate value 900 at line 5 of v\.csv is outside its physical range", id="heart-rate-900"),
    pytest.param("v.csv", with_line(5, "2024-01-01 00:03,P1,63,-3"), {}, ValueError,
                 r"steps value -3 at line 5 of v\.csv is outside its physical range \[0, 300\] steps/min",
                 id="steps-negative"),
    pytest.param(None, pd.DataFrame({"timestamp": pd.date_range("2024-01-01", periods=120, freq="s"), "steps": 200.0}),
                 {}, ValueError, r"steps summed over the minute 2024-01-01T00:00 UTC \(participant 'participant_0'\) "
                 r"is 12000, outside its physical range", id="per-second-steps-summing-past-300-a-minute"),
    # time order and time zones
    pytest.param("d.csv", GOOD + "2024-01-01 00:02,P1,70,1\n", {}, ValueError,
                 r"1 timestamp\(s\) occur more than once \(2 rows\), e\.g\. line 4 of d\.csv \(participant 'P1', "
                 r"2024-01-01 00:02:00\+00:00\); line 8 of d\.csv", id="duplicated-timestamps"),
    pytest.param("fb.csv", times(*FALL_BACK), {"tz": "Europe/Berlin", "ambiguous": "raise"}, ValueError,
                 r"4 timestamp\(s\) fall in the hour repeated when Europe/Berlin leaves summer time, e\.g\. "
                 r"2024-10-27 02:00:00 at line 3 of fb\.csv", id="dst-fall-back-berlin-ambiguous-raise"),
    pytest.param("fb.csv", times("2024-10-27 02:30", "2024-10-27 03:00"), {"tz": "Europe/Berlin"}, ValueError,
                 r"cannot tell which pass of the repeated hour 2024-10-27 02:30:00 at line 2 of fb\.csv",
                 id="dst-fall-back-berlin-one-pass-cannot-infer"),
    pytest.param("fb.csv", times("2024-11-03 01:30", "2024-11-03 02:00"), {"tz": "America/New_York", "ambiguous": "raise"},
                 ValueError, r"fall in the hour repeated when America/New_York leaves summer time, e\.g\. "
                 r"2024-11-03 01:30:00 at line 2", id="dst-fall-back-new-york-ambiguous-raise"),
    pytest.param("sf.csv", times(*SPRING), {"tz": "Europe/Berlin"}, ValueError,
                 r"1 timestamp\(s\) do not exist in Europe/Berlin \(clocks spring forward\), e\.g\. 2024-03-31 02:30:00 "
                 r"at line 3 of sf\.csv", id="dst-spring-forward-berlin-nonexistent"),
    pytest.param("sf.csv", times("2024-03-10 01:30", "2024-03-10 02:30"), {"tz": "America/New_York"}, ValueError,
                 r"do not exist in America/New_York .*2024-03-10 02:30:00 at line 3", id="dst-spring-forward-new-york"),
    pytest.param("mx.csv", times("2024-01-01T00:00+01:00", "2024-01-01T00:01"), {}, ValueError,
                 r"timestamp column 'timestamp' mixes times with and without a UTC offset: '2024-01-01T00:01' at line 3 "
                 r"of mx\.csv has none", id="mixed-offset-and-naive-text"),
    pytest.param(None, pd.DataFrame({"timestamp": pd.Series([pd.Timestamp("2024-01-01 00:00", tz="Europe/Berlin"),
                                                             pd.Timestamp("2024-01-01 00:01")], dtype=object),
                                     "heart_rate": [60, 61]}), {}, ValueError,
                 r"mixes times with and without a time zone: Timestamp\('2024-01-01 00:01:00'\) at row 1 has none",
                 id="mixed-aware-and-naive-datetime-objects"),
    pytest.param(None, pd.DataFrame({"timestamp": pd.Series(["2024-01-01 00:00", pd.Timestamp("2024-01-01 00:01")],
                                                            dtype=object), "heart_rate": [60, 61]}), {}, TypeError,
                 r"timestamp column 'timestamp' mixes text and Timestamp values \(.* at row 1\)",
                 id="mixed-text-and-datetime-objects"),
    pytest.param("mx.csv", times("2024-01-01T00:00Z", "2024-01-01T00:01 CET"), {}, ValueError,
                 r"unparseable time '2024-01-01T00:01 CET' at line 3 of mx\.csv", id="zone-abbreviation-in-text"),
    pytest.param("t.csv", GOOD, {"tz": "Europe/Berln"}, ValueError, r"unknown time zone 'Europe/Berln'",
                 id="unknown-time-zone"),
    pytest.param("t.csv", GOOD, {"tz": {"P2": "UTC"}}, ValueError,
                 r"tz= gives no time zone for participant\(s\) \['P1'\]", id="time-zone-mapping-misses-a-participant"),
    # channels
    pytest.param("c.csv", GOOD.replace("steps", "battery"), {}, ValueError,
                 r"c\.csv has unknown column\(s\) 'battery'; expected canonical channel names", id="unknown-channel-column"),
    pytest.param(None, pd.DataFrame({"timestamp": ["2024-01-01 00:00"] * 2, "channel": ["hr", "glucose"],
                                     "value": [60, 3]}), {}, ValueError,
                 r"unknown channel name\(s\) glucose \(1 rows\)", id="unknown-channel-name-in-long-table"),
    pytest.param("c.csv", times("2024-01-01 00:00", column="battery"), {"unknown": "ignore"}, ValueError,
                 r"c\.csv has no channel columns; found \['timestamp', 'battery'\]", id="no-known-channel-left"),
    pytest.param("c.csv", "timestamp,hr,bpm\n2024-01-01 00:00,60,61\n", {}, ValueError,
                 r"columns 'hr' and 'bpm' both map to channel 'heart_rate'", id="two-columns-one-channel"),
    pytest.param("c.csv", "timestamp,hr,hr\n2024-01-01 00:00,60,61\n", {}, ValueError,
                 r"c\.csv has duplicate column names \['hr'\]", id="duplicate-column-names"),
    pytest.param("c.csv", GOOD, {"columns": {"pulse_ox": "heart_rate"}}, ValueError,
                 r"columns= names columns \['pulse_ox'\] that c\.csv does not have", id="columns-mapping-names-no-column"),
    pytest.param("c.csv", GOOD, {"columns": {"heart_rate": "glucose"}}, ValueError,
                 r"'glucose' is not a channel", id="columns-mapping-to-unknown-channel"),
    # wrong file type, wrong source
    pytest.param("data.xlsx", GOOD, {}, ValueError, r"cannot tell the format of 'data\.xlsx' from its suffix '\.xlsx'",
                 id="wrong-suffix-xlsx"),
    pytest.param("data", GOOD, {}, ValueError, r"cannot tell the format of 'data' from its suffix ''", id="no-suffix"),
    pytest.param("pq.csv", PARQUET, {}, ValueError, r"pq\.csv is not a text file.*Parquet",
                 id="parquet-file-named-csv"),
    pytest.param("u.csv", "timestamp,heart_rate\n2024-01-01 00:00,60\n".encode("utf-16"), {}, ValueError,
                 r"u\.csv is UTF-16 text .*save it as CSV in UTF-8", id="utf-16-with-bom"),
    pytest.param("u.csv", "timestamp,heart_rate\n2024-01-01 00:00,60\n".encode("utf-16-le"), {}, ValueError,
                 r"u\.csv is UTF-16 text", id="utf-16-without-bom"),
    pytest.param("x.parquet", GOOD, {}, ValueError, r"could not read x\.parquet as Parquet", id="csv-file-named-parquet"),
    pytest.param("l.csv", "timestamp,participant,heart_rate\n2024-01-01 00:00,M\xfcller,60\n".encode("latin-1"), {},
                 ValueError, r"could not parse l\.csv as CSV \(the file is not UTF-8 text", id="latin-1-encoded-csv"),
    pytest.param(None, lambda tmp: tmp / "no" / "such" / "dir" / "export.csv", {}, FileNotFoundError,
                 r"no such file: '.*no/such/dir/export\.csv'", id="directory-does-not-exist"),
    pytest.param(None, lambda tmp: tmp, {}, ValueError, r"is a directory; expected a CSV or Parquet file",
                 id="path-is-a-directory"),
    pytest.param(None, lambda tmp: (tmp / "export.csv").mkdir() or tmp / "export.csv", {}, ValueError,
                 r"'.*export\.csv' is a directory", id="directory-named-like-a-csv"),
    pytest.param(None, lambda tmp: [str(tmp / "a.csv")], {}, TypeError,
                 r"source must be a pandas DataFrame or a path to a CSV or Parquet file, got list", id="source-is-a-list"),
    pytest.param(None, lambda tmp: GOOD.encode(), {}, TypeError, r"got bytes", id="source-is-file-content-bytes"),
    # options
    pytest.param("t.csv", GOOD, {"on_duplicates": "max"}, ValueError,
                 r"on_duplicates must be one of 'raise', 'mean', 'first', 'last'; got 'max'", id="unknown-option-value"),
    pytest.param("t.csv", GOOD, {"agg": {"glucose": "sum"}}, ValueError, r"agg= names 'glucose', which is not a channel",
                 id="agg-names-unknown-channel"),
]


def _source(tmp_path, name, content):
    if callable(content):
        return content(tmp_path)
    if isinstance(content, pd.DataFrame):
        return content
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "content", "options", "error", "match"), READ_ERRORS)
def test_read_table_refuses_bad_input_naming_the_culprit(tmp_path, name, content, options, error, match):
    source = _source(tmp_path, name, content)
    with warnings.catch_warnings(record=True):  # a warning may precede the error (e.g. ignored columns)
        warnings.simplefilter("always")
        with pytest.raises(error, match=match):
            read_table(source, **options)


# ---- read_table: reported fallbacks -----------------------------------------------------------
# Each case: (file text, options, regex of the warning (None: documented and silent), check(ds)).


def _check_out_of_range_to_nan(ds):
    np.testing.assert_array_equal(hr(ds), [60, 61, np.nan, 63, 64, 65])
    np.testing.assert_array_equal(ds["signal"].isel(participant=0).sel(channel="steps").values, [0, 1, 2, np.nan, 4, 5])


def _check_fall_back_infer(ds):
    # 6 rows half an hour apart in UTC (CEST is UTC+2, CET UTC+1): nothing lost or merged.
    assert pd.Timestamp(ds["start"].values[0]) == pd.Timestamp("2024-10-26 23:30")  # 01:30 CEST
    assert np.flatnonzero(~np.isnan(hr(ds))).tolist() == [0, 30, 60, 90, 120, 150]


def _check_fall_back_drop(ds):
    assert np.isfinite(hr(ds)).sum() == 2  # 01:30 and 03:00 kept, the four repeated-hour rows left out


def _check_fall_back_latest(ds):
    # 02:00 and 02:30 taken as winter time (CET, UTC+1), not summer time (which would start at 00:00 UTC).
    assert pd.Timestamp(ds["start"].values[0]) == pd.Timestamp("2024-10-27 01:00")
    assert np.flatnonzero(~np.isnan(hr(ds))).tolist() == [0, 30]


def _check_spring_shift(ds):
    # 01:30 CET = 00:30 UTC; 02:30 (nonexistent) -> 03:00 CEST = 01:00 UTC; 03:30 CEST = 01:30 UTC
    assert np.flatnonzero(~np.isnan(hr(ds))).tolist() == [0, 30, 60]


def _check_spring_drop(ds):
    assert np.flatnonzero(~np.isnan(hr(ds))).tolist() == [0, 60]


def _check_unsorted(ds):
    np.testing.assert_array_equal(hr(ds), [60, 61, 62, 63, 64, 65])


def _check_duplicates_mean(ds):
    np.testing.assert_array_equal(hr(ds), [60, 61, 66, 63, 64, 65])  # line 4 (62) and the repeat (70) averaged


def _check_unknown_ignored(ds):
    np.testing.assert_array_equal(hr(ds), [60, 61, 62, 63, 64, 65])
    assert "battery" not in ds["channel"].values


def _check_blank_markers(ds):
    np.testing.assert_array_equal(hr(ds), [np.nan, np.nan, np.nan, 61])


def _check_mixed_offsets(ds):
    assert pd.Timestamp(ds["start"].values[0]) == pd.Timestamp("2024-01-01 00:00")  # 01:00+01:00
    assert np.flatnonzero(~np.isnan(hr(ds))).tolist() == [0, 1441]  # 19:01-05:00 is 00:01 UTC the next day


def _check_absent_channel(ds):
    assert np.isnan(ds["signal"].sel(channel="steps").values).all()
    np.testing.assert_array_equal(hr(ds), [60, 61])


READ_FALLBACKS = [
    pytest.param(with_line(4, "2024-01-01 00:02,P1,900,2").replace("00:03,P1,63,3", "00:03,P1,63,-3"),
                 {"on_out_of_range": "nan"},
                 r"set 2 value\(s\) outside the physical range to NaN \(heart_rate: 1, steps: 1\)",
                 _check_out_of_range_to_nan, id="out-of-range-values-to-nan"),
    pytest.param(HEADER + "".join(reversed(ROWS)), {}, None, _check_unsorted, id="unsorted-rows-are-sorted"),
    pytest.param(GOOD + "2024-01-01 00:02,P1,70,1\n", {"on_duplicates": "mean"},
                 r"1 timestamp\(s\) occurred more than once \(2 rows\); kept the mean", _check_duplicates_mean,
                 id="duplicated-timestamps-averaged"),
    pytest.param(GOOD.replace("steps", "battery"), {"unknown": "ignore"},
                 r"ignored unknown column\(s\) 'battery'", _check_unknown_ignored, id="unknown-column-ignored"),
    pytest.param(times(*FALL_BACK), {"tz": "Europe/Berlin"},
                 r"4 timestamp\(s\) in the hour repeated when Europe/Berlin leaves summer time \(first: "
                 r"2024-10-27 02:00:00 at line 3 of f\.csv\) were resolved from row order",
                 _check_fall_back_infer, id="dst-fall-back-inferred-from-row-order"),
    pytest.param(times(*FALL_BACK), {"tz": "Europe/Berlin", "ambiguous": "drop"}, r"were dropped",
                 _check_fall_back_drop, id="dst-fall-back-dropped"),
    pytest.param(times(*FALL_BACK[1:3]), {"tz": "Europe/Berlin", "ambiguous": "latest"}, r"were taken as winter time",
                 _check_fall_back_latest, id="dst-fall-back-as-winter-time"),
    pytest.param(times(*SPRING), {"tz": "Europe/Berlin", "nonexistent": "shift_forward"},
                 r"1 timestamp\(s\) that do not exist in Europe/Berlin .*were moved to the first minute after the change",
                 _check_spring_shift, id="dst-spring-forward-shifted"),
    pytest.param(times(*SPRING), {"tz": "Europe/Berlin", "nonexistent": "drop"}, r"do not exist in Europe/Berlin.*dropped",
                 _check_spring_drop, id="dst-spring-forward-dropped"),
    pytest.param("timestamp,heart_rate\n2024-01-01 00:00,NaN\n2024-01-01 00:01,\n2024-01-01 00:02,null\n"
                 "2024-01-01 00:03,61\n", {}, None, _check_blank_markers, id="nan-and-blank-markers-are-missing"),
    pytest.param(times("2024-01-01T01:00+01:00", "2024-01-01T19:01-05:00"), {}, None, _check_mixed_offsets,
                 id="mixed-utc-offsets-to-one-utc-grid"),
    pytest.param("timestamp,heart_rate,steps\n2024-01-01 00:00,60,\n2024-01-01 00:01,61,\n", {}, None,
                 _check_absent_channel, id="all-blank-column-is-an-absent-channel"),
]


@pytest.mark.parametrize(("text", "options", "warning", "check"), READ_FALLBACKS)
def test_read_table_fallbacks_are_reported_and_keep_the_data(tmp_path, text, options, warning, check):
    path = tmp_path / "f.csv"
    path.write_text(text)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = read_table(path, **options)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    if warning is None:
        assert messages == []
    else:
        assert any(re.search(warning, m) for m in messages), messages
    lsmkit.data.validate_recordings(ds)
    check(ds)


# ---- open_dataset / load_dataset --------------------------------------------------------------


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """A saved netCDF file and zarr store of small recordings, to copy and damage per case."""
    root = tmp_path_factory.mktemp("stores")
    rng = np.random.default_rng(0)
    recordings = lsmkit.make_recordings(rng.normal(70, 5, (2, 120, 3)), participant=["a", "b"],
                                        start=["2024-01-01"] * 2, channels=["heart_rate", "steps", "scl"])
    return save(recordings, root / "rec.nc"), save(recordings, root / "rec.zarr")


def _damaged(tmp_path, stores, how):
    """The path of a damaged copy of the saved stores (``how`` names the damage)."""
    nc, zarr = stores
    if how.startswith("zarr"):
        path = tmp_path / "copy.zarr"
        shutil.copytree(zarr, path)
    if how == "netcdf-0-bytes":
        (path := tmp_path / "empty.nc").write_bytes(b"")
    elif how == "netcdf-cut-in-half":
        data = nc.read_bytes()
        (path := tmp_path / "half.nc").write_bytes(data[: len(data) // 2])
    elif how == "netcdf-is-csv-text":
        (path := tmp_path / "text.nc").write_text(GOOD)
    elif how == "netcdf-path-is-directory":
        (path := tmp_path / "dir.nc").mkdir()
    elif how == "zarr-empty-directory":
        shutil.rmtree(path)
        path.mkdir()
    elif how == "zarr-root-metadata-missing":
        (path / "zarr.json").unlink()
    elif how == "zarr-signal-array-missing":
        shutil.rmtree(path / "signal")
    elif how == "zarr-is-a-file":
        (path := tmp_path / "file.zarr").write_text("not a store")
    elif how == "foreign-netcdf":
        path = tmp_path / "other.nc"
        xr.Dataset({"x": ("y", [1, 2])}).to_netcdf(path, engine="h5netcdf")
    elif how == "wrong-suffix":
        path = tmp_path / "rec.h5"
        shutil.copy(nc, path)
    elif how == "directory-does-not-exist":
        path = tmp_path / "no" / "such" / "rec.zarr"
    elif how == "path-not-a-path":
        path = 42
    return path


OPEN_ERRORS = [
    pytest.param("netcdf-0-bytes", ValueError, r"could not read '.*empty\.nc' as netCDF \(empty, truncated",
                 id="netcdf-0-bytes"),
    pytest.param("netcdf-cut-in-half", ValueError, r"could not read '.*half\.nc' as netCDF.*truncated file",
                 id="netcdf-cut-in-half"),
    pytest.param("netcdf-is-csv-text", ValueError, r"could not read '.*text\.nc' as netCDF", id="netcdf-is-csv-text"),
    pytest.param("netcdf-path-is-directory", ValueError, r"'.*dir\.nc' is a directory; expected a netCDF file",
                 id="netcdf-path-is-directory"),
    pytest.param("zarr-empty-directory", ValueError, r"could not read '.*copy\.zarr' as zarr", id="zarr-empty-directory"),
    pytest.param("zarr-root-metadata-missing", ValueError, r"could not read '.*copy\.zarr' as zarr",
                 id="zarr-truncated-root-metadata-missing"),
    pytest.param("zarr-signal-array-missing", ValueError,
                 r"'.*copy\.zarr' is incomplete: its metadata lists \['signal'\] but the store has no such arrays",
                 id="zarr-truncated-signal-array-missing"),
    pytest.param("zarr-is-a-file", ValueError, r"could not read '.*file\.zarr' as zarr", id="zarr-is-a-file"),
    pytest.param("foreign-netcdf", ValueError, r"'.*other\.nc' is not lsmkit recordings or windows: .*'signal'",
                 id="netcdf-without-signal-variable"),
    pytest.param("wrong-suffix", ValueError, r"cannot tell the format of '.*rec\.h5' from its suffix '\.h5'",
                 id="wrong-suffix"),
    pytest.param("directory-does-not-exist", FileNotFoundError, r"no such file or store: '.*no/such/rec\.zarr'",
                 id="directory-does-not-exist"),
    pytest.param("path-not-a-path", TypeError, r"path must be a str or os\.PathLike, got int", id="path-is-an-int"),
]


@pytest.mark.parametrize("opener", [open_dataset, load_dataset], ids=["open_dataset", "load_dataset"])
@pytest.mark.parametrize(("how", "error", "match"), OPEN_ERRORS)
def test_open_and_load_refuse_damaged_stores_naming_the_path(tmp_path, stores, opener, how, error, match):
    path = _damaged(tmp_path, stores, how)
    with pytest.raises(error, match=match):
        opener(path)


def test_load_dataset_names_the_store_with_a_corrupt_chunk(tmp_path, stores):
    path = tmp_path / "copy.zarr"
    shutil.copytree(stores[1], path)
    chunks = [p for p in (path / "signal").rglob("*") if p.is_file() and p.name != "zarr.json"]
    assert chunks
    for chunk in chunks:  # every chunk of signal cut in half
        chunk.write_bytes(chunk.read_bytes()[: chunk.stat().st_size // 2])
    with pytest.raises(ValueError, match=r"could not read the data in '.*copy\.zarr' \(corrupt or truncated\?\)"):
        load_dataset(path)


OTHER_FAILURES = [
    pytest.param(PermissionError(13, "Permission denied"), PermissionError, id="permission-error"),
    pytest.param(OSError("Unable to synchronously open file (unable to lock file, errno = 11, error message = "
                         "'Resource temporarily unavailable')"), OSError, id="hdf5-file-locked"),
    pytest.param(OSError("Unable to open file (unable to open file: name = 'x.nc', errno = 13, error message = "
                         "'Permission denied')"), OSError, id="hdf5-permission-denied"),
    pytest.param(MemoryError("Unable to allocate 96.0 GiB"), MemoryError, id="out-of-memory"),
]


@pytest.mark.parametrize("stage", ["open", "load"])
@pytest.mark.parametrize(("failure", "error"), OTHER_FAILURES)
def test_failures_that_are_not_the_files_fault_pass_through_unchanged(stores, monkeypatch, stage, failure, error):
    """Out of memory, no permission, a lock held elsewhere: not "corrupt or truncated?"."""
    def fail(*args, **kwargs):
        raise failure

    if stage == "open":
        monkeypatch.setattr(xr, "open_dataset", fail)
    else:
        monkeypatch.setattr(xr.Dataset, "load", fail)
    for path in stores:
        with pytest.raises(error) as caught:
            load_dataset(path)
        assert caught.value is failure


def test_hdf5_damage_mentioning_sblock_is_still_called_truncated(stores, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("Unable to open file (truncated file: eof = 96, sblock->base_addr = 0, stored_eof = 4096)")

    monkeypatch.setattr(xr, "open_dataset", fail)
    with pytest.raises(ValueError, match=r"could not read '.*rec\.nc' as netCDF \(empty, truncated"):
        load_dataset(stores[0])


def test_undamaged_stores_still_open(stores):
    for path in stores:
        assert open_dataset(path)["signal"].chunks is not None
        assert not np.isnan(load_dataset(path)["signal"].values).any()
