"""Loaders: read_table on wide/long frames and files, time zones, bad input, save/open round trips."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lsmkit
from lsmkit.data import categorical, make_recordings, validate_recordings
from lsmkit.io import iter_batches, load_dataset, open_dataset, read_table, save
from lsmkit.labels import ACTIVITIES


def minutes(start, n, freq="min", tz=None):
    return pd.date_range(start, periods=n, freq=freq, tz=tz)


def hr(ds, participant=0):
    return ds["signal"].isel(participant=participant).sel(channel="heart_rate").values


@pytest.fixture
def wide():
    return pd.DataFrame(
        {
            "timestamp": minutes("2024-05-06 09:00", 6),
            "Heart Rate (bpm)": [60.0, 61, np.nan, 63, 64, 65],
            "steps": [0, 5, 10, 0, 0, 1],
            "skin_temp": 33.5,
        }
    )


# ---- tables in ------------------------------------------------------------------------------


def test_wide_frame_maps_aliases_into_canonical_channels(wide):
    ds = read_table(wide)
    validate_recordings(ds)
    assert ds.sizes == {"participant": 1, "time": 6, "channel": 26}
    assert list(ds["participant"].values) == ["participant_0"]
    np.testing.assert_array_equal(hr(ds), [60, 61, np.nan, 63, 64, 65])
    np.testing.assert_array_equal(ds["signal"][0].sel(channel="steps"), [0, 5, 10, 0, 0, 1])
    assert ds["signal"].sel(channel="rmssd").isnull().all()  # absent channels are all-NaN
    assert ds["start"].values[0] == np.datetime64("2024-05-06T09:00")  # naive, no tz: UTC
    assert ds["timezone"].values[0] == "UTC"
    few = read_table(wide.rename(columns={"Heart Rate (bpm)": "bpm"}), all_channels=False)
    assert list(few["channel"].values) == ["heart_rate", "steps", "skin_temperature"]  # canonical order
    assert few["signal"].dtype == np.float32


def test_columns_mapping_renames_and_drops(wide):
    table = wide.rename(columns={"Heart Rate (bpm)": "HR_avg"}).assign(battery=90)
    ds = read_table(table, columns={"HR_avg": "heart_rate", "battery": None}, all_channels=False)
    assert list(ds["channel"].values) == ["heart_rate", "steps", "skin_temperature"]
    assert hr(ds)[0] == 60
    with pytest.raises(ValueError, match="'nope'.*does not have"):
        read_table(wide, columns={"nope": "heart_rate"})
    with pytest.raises(ValueError, match="'bogus' is not a channel"):
        read_table(wide, columns={"steps": "bogus"})


def test_long_frame_with_two_participants_and_named_columns():
    t = minutes("2024-01-01 00:00", 3)
    table = pd.DataFrame(
        {
            "when": list(t) * 2 + [t[0]],
            "who": ["a", "a", "a", "b", "b", "b", "b"],
            "metric": ["bpm", "bpm", "bpm", "hr", "hr", "hr", "step_count"],
            "reading": [60, 61, 62, 70, 71, 72, 12],
        }
    )
    ds = read_table(table, timestamp="when", participant="who", channel="metric", value="reading", all_channels=False)
    assert list(ds["participant"].values) == ["a", "b"]
    assert list(ds["channel"].values) == ["heart_rate", "steps"]
    np.testing.assert_array_equal(ds["signal"].values[..., 0], [[60, 61, 62], [70, 71, 72]])
    np.testing.assert_array_equal(ds["signal"].values[..., 1], [[np.nan] * 3, [12, np.nan, np.nan]])
    # A table with columns literally called channel/value is detected as long.
    renamed = {"when": "timestamp", "who": "participant", "metric": "channel", "reading": "value"}
    detected = read_table(table.rename(columns=renamed))
    np.testing.assert_array_equal(detected["signal"].sel(channel="heart_rate").values, [[60, 61, 62], [70, 71, 72]])


def test_csv_and_parquet_read_like_the_frame(wide, tmp_path):
    table = wide.assign(participant=["007"] * 3 + ["p2"] * 3)
    table.to_csv(tmp_path / "export.csv", index=False)
    table.to_parquet(tmp_path / "export.parquet")
    from_frame = read_table(table)
    for name in ("export.csv", "export.parquet"):
        ds = read_table(tmp_path / name)
        assert ds.attrs["source"] == name
        assert list(ds["participant"].values) == ["007", "p2"]  # ids stay text, zeros kept
        xr.testing.assert_identical(ds.drop_attrs(), from_frame.drop_attrs())
    wide.to_csv(tmp_path / "my_watch.csv", index=False)
    assert list(read_table(str(tmp_path / "my_watch.csv"))["participant"].values) == ["my_watch"]


def test_tz_aware_input_converts_to_utc_and_keeps_the_zone(wide):
    table = wide.assign(timestamp=minutes("2024-05-06 09:00", 6, tz="Europe/Berlin"))
    ds = read_table(table)
    assert ds["start"].values[0] == np.datetime64("2024-05-06T07:00")
    assert ds["timezone"].values[0] == "Europe/Berlin"
    assert pd.Timestamp(lsmkit.local_time(ds).values[0, 0]) == pd.Timestamp("2024-05-06 09:00")
    # tz= names the zone of aware input without moving its instants.
    named = read_table(table.assign(timestamp=table["timestamp"].dt.tz_convert("UTC")), tz="Europe/Berlin")
    assert named["start"].values[0] == np.datetime64("2024-05-06T07:00")
    assert named["timezone"].values[0] == "Europe/Berlin"


def test_tz_per_participant(wide):
    table = pd.concat([wide.assign(participant="berlin"), wide.assign(participant="nyc")])
    ds = read_table(table, tz={"berlin": "Europe/Berlin", "nyc": "America/New_York"})
    assert list(ds["timezone"].values) == ["Europe/Berlin", "America/New_York"]
    assert list(ds["start"].values) == [np.datetime64("2024-05-06T07:00"), np.datetime64("2024-05-06T13:00")]
    with pytest.raises(ValueError, match=r"no time zone for participant\(s\) \['nyc'\]"):
        read_table(table, tz={"berlin": "Europe/Berlin"})


def test_spring_forward_day_in_berlin_from_naive_times():
    local = [t for t in minutes("2024-03-31 00:00", 360) if t.hour != 2]  # 02:00-02:59 never happens
    table = pd.DataFrame({"timestamp": local, "hr": np.arange(len(local)) % 100 + 60.0})
    ds = read_table(table, tz="Europe/Berlin")
    assert ds.sizes["time"] == 300  # five real hours, no hole in the UTC grid
    assert ds["start"].values[0] == np.datetime64("2024-03-30T23:00")
    np.testing.assert_array_equal(hr(ds), table["hr"].values)
    assert pd.Timestamp(lsmkit.local_time(ds).values[0, 120]) == pd.Timestamp("2024-03-31 03:00")

    bad = pd.DataFrame({"timestamp": ["2024-03-31 01:59", "2024-03-31 02:30", "2024-03-31 03:00"], "hr": 60.0})
    with pytest.raises(ValueError, match=r"1 timestamp.*do not exist in Europe/Berlin.*02:30:00 at row 1"):
        read_table(bad, tz="Europe/Berlin")
    with pytest.warns(UserWarning, match="1 timestamp.*do not exist.*dropped"):
        assert read_table(bad, tz="Europe/Berlin", nonexistent="drop").sizes["time"] == 2
    with pytest.warns(UserWarning) as caught:
        shifted = read_table(bad, tz="Europe/Berlin", nonexistent="shift_forward", on_duplicates="first")
    assert shifted.sizes["time"] == 2  # 02:30 became 03:00, a duplicate of the next row
    assert [str(w.message).split(" (")[0] for w in caught] == [
        "1 timestamp(s) that do not exist in Europe/Berlin",
        "DataFrame: 1 timestamp(s) occurred more than once",
    ]


def test_fall_back_day_in_berlin_from_naive_times():
    local = list(minutes("2024-10-27 00:00", 180)) + list(minutes("2024-10-27 02:00", 240))  # 02:xx twice
    table = pd.DataFrame({"timestamp": local, "hr": np.arange(420) % 150 + 60.0})
    with pytest.warns(UserWarning, match=r"120 timestamp.*repeated.*Europe/Berlin.*resolved from row order"):
        ds = read_table(table, tz="Europe/Berlin")
    assert ds.sizes["time"] == 420  # seven real hours, no duplicates
    assert ds["start"].values[0] == np.datetime64("2024-10-26T22:00")
    np.testing.assert_array_equal(hr(ds), table["hr"].values)
    with pytest.raises(ValueError, match=r"120 timestamp.*repeated.*2024-10-27 02:00:00 at row 120"):
        read_table(table, tz="Europe/Berlin", ambiguous="raise")
    with pytest.warns(UserWarning, match="taken as winter time"):  # reported even though reading then fails:
        with pytest.raises(ValueError, match="occur more than once"):  # both passes land on the same instants
            read_table(table, tz="Europe/Berlin", ambiguous="latest")
    with pytest.raises(ValueError, match="cannot tell which pass"):
        read_table(table.iloc[:170], tz="Europe/Berlin")  # 02:00-02:49 appear once: nothing to infer from
    with pytest.warns(UserWarning, match="were dropped"):
        assert read_table(table, tz="Europe/Berlin", ambiguous="drop").sizes["time"] == 420


def test_mixed_utc_offsets_parse_into_one_utc_grid(tmp_path):
    text = "timestamp,hr\n2024-03-31T01:58:00+01:00,60\n2024-03-31T01:59:00+01:00,61\n2024-03-31T03:00:00+02:00,62\n"
    (tmp_path / "dst.csv").write_text(text)
    table = pd.DataFrame({"timestamp": text.split("\n")[1:4], "hr": [60, 61, 62]})
    table["timestamp"] = table["timestamp"].str.split(",").str[0]
    for source in (tmp_path / "dst.csv", table):
        ds = read_table(source, tz="Europe/Berlin")
        assert ds["start"].values[0] == np.datetime64("2024-03-31T00:58")
        np.testing.assert_array_equal(hr(ds), [60, 61, 62])
    mixed = pd.DataFrame({"timestamp": ["2024-03-31 01:59:00", "2024-03-31T03:00:00+02:00"], "hr": 60})
    with pytest.raises(ValueError, match="mixes times with and without a UTC offset.*'2024-03-31 01:59:00' at row 0"):
        read_table(mixed)


def test_unsorted_rows_are_sorted(wide):
    shuffled = wide.iloc[[3, 0, 5, 1, 4, 2]]
    xr.testing.assert_identical(read_table(shuffled), read_table(wide))


DUPLICATED = pd.DataFrame(
    {"timestamp": ["2024-01-01 00:00", "2024-01-01 00:01", "2024-01-01 00:00"], "hr": [60, 61, 80]}
)


@pytest.mark.parametrize(("policy", "expected"), [("mean", 70.0), ("first", 60.0), ("last", 80.0)])
def test_duplicate_policies(policy, expected):
    table = DUPLICATED
    with pytest.warns(UserWarning, match=f"1 timestamp.*more than once.*kept the {policy}"):
        ds = read_table(table, on_duplicates=policy)
    np.testing.assert_array_equal(hr(ds), [expected, 61])


def test_duplicates_raise_by_default_naming_rows_and_time():
    expected = r"1 timestamp.*\(2 rows\).*row 0 \(participant 'participant_0', 2024-01-01 00:00:00\+00:00\); row 2"
    with pytest.raises(ValueError, match=expected):
        read_table(DUPLICATED)


def test_per_second_data_is_aggregated_to_minutes():
    t = minutes("2024-01-01 00:00:00", 150, freq="s")  # two full minutes and half a third
    beats = 60 + np.arange(150) % 7.0
    table = pd.DataFrame({"timestamp": t, "hr": beats, "steps": 1, "skin_temperature": 33.0})
    ds = read_table(table, all_channels=False)
    assert ds.sizes["time"] == 3
    np.testing.assert_allclose(hr(ds), [beats[:60].mean(), beats[60:120].mean(), beats[120:].mean()], rtol=1e-6)
    np.testing.assert_array_equal(ds["signal"][0].sel(channel="steps"), [60, 60, 30])  # summed, not averaged
    maxed = read_table(table, agg={"hr": "max"}, all_channels=False)
    np.testing.assert_array_equal(hr(maxed), [66, 66, 66])


def test_coarse_data_leaves_nan_minutes():
    table = pd.DataFrame({"timestamp": minutes("2024-01-01", 3, freq="5min"), "steps": [3, 0, 7]})
    ds = read_table(table, all_channels=False)
    assert ds.sizes["time"] == 11
    steps = ds["signal"].values[0, :, 0]
    np.testing.assert_array_equal(steps[[0, 5, 10]], [3, 0, 7])
    assert np.isnan(np.delete(steps, [0, 5, 10])).all()  # a minute with no sample is NaN, not 0


# ---- bad input ------------------------------------------------------------------------------


def test_missing_timestamp_column_lists_the_columns(wide):
    with pytest.raises(ValueError, match=r"no timestamp column 'timestamp'; found columns \['time', 'Heart Rate"):
        read_table(wide.rename(columns={"timestamp": "time"}))
    assert read_table(wide.rename(columns={"timestamp": "time"}), timestamp="time").sizes["time"] == 6


def test_unparseable_time_quotes_value_and_line(tmp_path):
    (tmp_path / "t.csv").write_text("timestamp,hr\n2024-01-01 00:00:00,60\n2024-01-01 00:01:00,61\nyesterday,62\n")
    with pytest.raises(ValueError, match="unparseable time 'yesterday' at line 4 of t.csv"):
        read_table(tmp_path / "t.csv")
    with pytest.raises(ValueError, match="timestamp column 'timestamp' is empty at row 1"):
        read_table(pd.DataFrame({"timestamp": ["2024-01-01", None], "hr": 60}))
    with pytest.raises(TypeError, match="holds numbers.*unit='s'"):
        read_table(pd.DataFrame({"timestamp": [1_700_000_000, 1_700_000_060], "hr": 60}))


def test_unknown_channels_raise_or_are_ignored_with_a_warning(wide):
    table = wide.assign(battery=90, device="x")
    with pytest.raises(ValueError, match=r"unknown column\(s\) 'battery', 'device'.*lsmkit.channel_table\(\)"):
        read_table(table)
    with pytest.warns(UserWarning, match=r"ignored unknown column\(s\) 'battery', 'device'"):
        ds = read_table(table, unknown="ignore", all_channels=False)
    assert ds.sizes["channel"] == 3
    long = pd.DataFrame({"timestamp": minutes("2024-01-01", 3), "channel": ["hr", "glucose", "glucose"], "value": 60})
    with pytest.raises(ValueError, match=r"unknown channel name\(s\) glucose \(2 rows\)"):
        read_table(long)
    with pytest.warns(UserWarning, match=r"glucose \(2 rows\)"):
        assert read_table(long, unknown="ignore", all_channels=False).sizes["time"] == 1


def test_non_numeric_value_names_column_row_and_value(tmp_path, wide):
    (tmp_path / "v.csv").write_text("timestamp,hr\n2024-01-01 00:00,60\n2024-01-01 00:01,NA\n2024-01-01 00:02,abc\n")
    with pytest.raises(ValueError, match=r"column 'hr' holds a non-numeric value 'abc' at line 4 of v.csv.*in bpm"):
        read_table(tmp_path / "v.csv")
    with pytest.raises(ValueError, match=r"column 'steps' holds a non-numeric value 'many' at row 2"):
        read_table(wide.assign(steps=["1", "", "many", "0", None, "2"]))
    as_text = read_table(wide.assign(steps=["1", "", "NaN", "0", None, "n/a"]))  # missing-value markers are fine
    assert int(as_text["signal"].sel(channel="steps").isnull().sum()) == 4
    long = pd.DataFrame({"timestamp": minutes("2024-01-01", 3), "channel": ["hr", "hr", "notes"], "value": 60})
    long["value"] = [60, 61, "ok"]
    with pytest.warns(UserWarning, match="notes"):  # the text of an ignored channel is not checked
        assert hr(read_table(long, unknown="ignore")).tolist() == [60, 61]
    with pytest.warns(UserWarning, match="notes"), pytest.raises(ValueError, match="non-numeric value 'x' at row 1"):
        read_table(long.assign(value=[60, "x", "ok"]), unknown="ignore")
    with pytest.raises(TypeError, match="column 'steps' holds booleans"):
        read_table(wide.assign(steps=True))


def test_out_of_range_values_raise_or_become_nan_with_counts(wide):
    table = wide.assign(steps=[0, 5, -3, 0, 900, 1], **{"Heart Rate (bpm)": [60, 300, 61, 62, 63, 64]})
    with pytest.raises(ValueError, match=r"heart_rate value 300 at row 1 is outside its physical range \[25, 240\]"):
        read_table(table)
    with pytest.warns(UserWarning, match=r"set 3 value\(s\) outside the physical range to NaN \(heart_rate: 1, st"):
        ds = read_table(table, on_out_of_range="nan")
    assert int(ds["signal"].isnull().sel(channel=["heart_rate", "steps"]).sum()) == 3
    assert np.isnan(ds["signal"].values[0, [1, 2, 4], [0, 10, 10]]).all()  # rows 1 (hr), 2 and 4 (steps)
    with pytest.raises(ValueError, match="heart_rate value inf at row 4"):
        read_table(wide.assign(**{"Heart Rate (bpm)": [60, 61, 62, 63, np.inf, 64]}))


def test_empty_and_truncated_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="empty.csv is empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("timestamp,hr,steps\n")
    with pytest.raises(ValueError, match=r"header.csv has a header \(timestamp, hr, steps\) but no rows"):
        read_table(tmp_path / "header.csv")
    (tmp_path / "cut.csv").write_text(
        "timestamp,hr,steps\n2024-01-01 00:00,60,1\n2024-01-01 00:01,61\n2024-01-01 00:02,62,0"  # line 3 is cut short
    )
    with pytest.raises(ValueError, match=r"1 row\(s\) with the wrong number of fields.*line 3 has 2 field\(s\), exp"):
        read_table(tmp_path / "cut.csv")
    with pytest.raises(ValueError, match="but no rows"):
        read_table(pd.DataFrame({"timestamp": [], "hr": []}))
    with pytest.raises(ValueError, match="DataFrame is empty: no columns"):
        read_table(pd.DataFrame())


def test_wrong_types_and_options(tmp_path):
    with pytest.raises(TypeError, match="pandas DataFrame or a path.*got list"):
        read_table([1, 2, 3])
    (tmp_path / "data.xlsx").write_text("x")
    with pytest.raises(ValueError, match=r"suffix '.xlsx'; expected one of .csv"):
        read_table(tmp_path / "data.xlsx")
    with pytest.raises(FileNotFoundError, match="nothing.csv"):
        read_table(tmp_path / "nothing.csv")
    table = pd.DataFrame({"timestamp": ["2024-01-01"], "hr": [60]})
    with pytest.raises(ValueError, match="unknown time zone 'Europe/Berln'"):
        read_table(table, tz="Europe/Berln")
    with pytest.raises(ValueError, match="on_duplicates must be one of 'raise', 'mean'"):
        read_table(table, on_duplicates="max")
    with pytest.raises(ValueError, match="no participant column 'subject'"):
        read_table(table, participant="subject")


# ---- property -------------------------------------------------------------------------------

_VALUE = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32), st.integers(-10, 400), st.none())
_COLUMNS = st.lists(st.sampled_from(["hr", "bpm", "steps", "Heart Rate (bpm)", "skin_temp", "eda", "rmssd", "junk"]),
                    min_size=1, max_size=4, unique=True)


@st.composite
def tables(draw):
    n = draw(st.integers(1, 25))
    offsets = draw(st.lists(st.integers(0, 3 * 1440 * 60), min_size=n, max_size=n))  # seconds within 3 days
    table = {"timestamp": pd.Timestamp("2024-10-26 12:00") + pd.to_timedelta(offsets, unit="s")}
    if draw(st.booleans()):
        table["participant"] = draw(st.lists(st.sampled_from(["a", "b", "007"]), min_size=n, max_size=n))
    for col in draw(_COLUMNS):
        table[col] = draw(st.lists(_VALUE, min_size=n, max_size=n))
    options = {
        "tz": draw(st.sampled_from([None, "Europe/Berlin", "America/New_York"])),
        "on_duplicates": draw(st.sampled_from(["raise", "mean", "first", "last"])),
        "on_out_of_range": draw(st.sampled_from(["raise", "nan"])),
        "unknown": draw(st.sampled_from(["raise", "ignore"])),
        "ambiguous": draw(st.sampled_from(["infer", "earliest", "latest", "drop", "raise"])),
    }
    return pd.DataFrame(table), options


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_read_table_returns_valid_recordings_or_a_clear_error(case):
    table, options = case
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            ds = read_table(table, **options)
    except (ValueError, TypeError) as err:
        assert str(err)  # every refusal says why
        return
    validate_recordings(ds)
    values = ds["signal"].values
    assert not np.isinf(values).any()
    for j, name in enumerate(ds["channel"].values):
        lo, hi = lsmkit.get_channel(name).valid_range
        column = values[..., j][~np.isnan(values[..., j])]
        assert ((column >= lo) & (column <= hi)).all()
    if options["tz"] is None:  # naive times are UTC: each grid starts at the participant's first minute
        ids = table["participant"] if "participant" in table else pd.Series("participant_0", index=table.index)
        first = table.groupby(ids.astype(str))["timestamp"].min().dt.floor("min")
        assert list(ds["start"].values) == list(first[ds["participant"].values].values.astype("datetime64[ns]"))


# ---- on disk --------------------------------------------------------------------------------


@pytest.fixture
def recordings():
    rng = np.random.default_rng(0)
    signal = rng.normal(70, 5, (3, 700, 4)).astype(np.float32)
    signal[0, :50, 1] = np.nan
    signal[2, 600:] = np.nan
    signal[1, ::7, 0] = np.nan
    activity = categorical(rng.integers(0, len(ACTIVITIES), (3, 700)), ACTIVITIES)
    ds = make_recordings(
        signal,
        participant=["a", "bb", "ccc"],
        start=["2024-01-01T00:00", "2024-03-31T00:00", "2024-10-27T00:30"],
        channels=["heart_rate", "steps", "skin_temperature", "scl"],
        timezone=["Europe/Berlin", "UTC", "America/New_York"],
        activity=(("participant", "time"), *activity),
        worn=(("participant", "time"), rng.random((3, 700)) > 0.2),
        age=("participant", np.array([31, 45, 67], dtype=np.int16)),
    )
    ds.attrs["source"] = "unit test"
    return ds


def _assert_same(back, ds):
    xr.testing.assert_identical(back, ds)
    for name, var in ds.variables.items():
        assert back[name].dtype == var.dtype, name  # object strings stay object, int8 stays int8 ...
    for name in ("activity", "dominant_activity"):
        if name in ds:
            assert back[name].attrs["flag_meanings"] == ds[name].attrs["flag_meanings"]
            np.testing.assert_array_equal(back[name].attrs["flag_values"], ds[name].attrs["flag_values"])
            assert np.asarray(back[name].attrs["flag_values"]).dtype == np.int8
    np.testing.assert_array_equal(np.isnan(back["signal"].values), np.isnan(ds["signal"].values))


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_round_trip_preserves_recordings_and_windows(recordings, tmp_path, suffix):
    windows = lsmkit.to_windows(recordings, minutes=100, stride=50, max_missing=0.9)
    for name, ds in (("rec", recordings), ("win", windows)):
        path = save(ds, tmp_path / f"{name}{suffix}")
        _assert_same(load_dataset(path), ds)
        lazy = open_dataset(path)
        assert lazy["signal"].chunks is not None
        _assert_same(lazy.compute(), ds)
    assert load_dataset(tmp_path / f"rec{suffix}")["worn"].dtype == bool
    assert lsmkit.decode_labels(load_dataset(tmp_path / f"win{suffix}")["dominant_activity"]).values[0] in ACTIVITIES


def test_save_refuses_to_overwrite_and_unknown_suffix(recordings, tmp_path):
    save(recordings, tmp_path / "r.zarr")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save(recordings, tmp_path / "r.zarr")
    save(recordings.isel(participant=[0]), tmp_path / "r.zarr", overwrite=True)
    assert load_dataset(tmp_path / "r.zarr").sizes["participant"] == 1
    with pytest.raises(ValueError, match=r"suffix '.h5'; expected '.nc'"):
        save(recordings, tmp_path / "r.h5")
    with pytest.raises(TypeError, match="recordings or windows"):
        save(recordings["signal"], tmp_path / "s.nc")
    xr.Dataset({"x": ("y", [1, 2])}).to_netcdf(tmp_path / "other.nc", engine="h5netcdf")
    with pytest.raises(ValueError, match="is not lsmkit recordings or windows"):
        open_dataset(tmp_path / "other.nc")
    with pytest.raises(FileNotFoundError, match="missing.zarr"):
        open_dataset(tmp_path / "missing.zarr")


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_lazy_open_windows_like_eager_and_batches_stream(recordings, tmp_path, suffix):
    path = save(recordings, tmp_path / f"rec{suffix}")
    lazy = open_dataset(path, chunks={"participant": 1, "time": 97})  # chunks that do not align with windows
    assert lazy["signal"].data.chunksize == (1, 97, 4)
    eager = lsmkit.to_windows(recordings, 120, stride=40, max_missing=0.3)  # drops some windows
    windowed = lsmkit.to_windows(lazy, 120, stride=40, max_missing=0.3)
    assert windowed["signal"].chunks is not None
    assert 0 < eager.sizes["window"] < 3 * len(range(0, 700 - 120 + 1, 40))
    xr.testing.assert_identical(windowed.compute(), eager)
    batches = list(iter_batches(windowed, batch_size=7))
    assert [b.sizes["window"] for b in batches[:-1]] == [7] * (len(batches) - 1)
    assert all(b["signal"].chunks is None for b in batches)  # computed, numpy-backed
    xr.testing.assert_identical(xr.concat(batches, "window"), eager)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        next(iter_batches(eager, 0))
