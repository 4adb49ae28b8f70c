"""Property-based fuzzing of the boundaries where user data enters: the table loader, windowing and masks.

Each property feeds generated, often malformed, input and accepts exactly two outcomes: a valid
result, or a ``ValueError``/``TypeError`` whose message names something (never an empty message).
Any other exception type (KeyError, IndexError, AttributeError, ...) is a bug. 500 examples each.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lsmkit
from lsmkit import masks

EXAMPLES = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXPECTED = (ValueError, TypeError)

# Column names: real ones, aliases, junk, and duplicates of each other after resolution.
COLUMN_NAMES = ["timestamp", "participant", "heart_rate", "bpm", "steps", "skin_temperature", "channel", "value",
                "battery", "", "Heart Rate (bpm)", "time"]
TIMESTAMPS = st.one_of(
    st.datetimes(min_value=pd.Timestamp("1970-01-02").to_pydatetime(), max_value=pd.Timestamp("2100-01-01").to_pydatetime())
    .map(lambda t: t.strftime("%Y-%m-%d %H:%M:%S")),
    st.sampled_from(["2024-03-31 02:30:00", "2024-10-27 02:30:00",  # Europe's spring gap and autumn repeat
                     "2024-03-10 02:15:00+00:00", "2024-03-10T02:15:00-05:00", "2024-01-01T00:00:00Z",
                     "not a time", "", "NaT", "1e9", "2024-13-45 25:61:00", "0000-00-00"]),
)
CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32).map(repr),
    st.integers(-10**12, 10**12).map(str),
    st.sampled_from(["", "NaN", "inf", "-inf", "abc", "1,5", "null", "None", " 60 ", "P1", "heart_rate", "steps"]),
    TIMESTAMPS,
)


@st.composite
def csv_tables(draw):
    """CSV text: a header drawn from COLUMN_NAMES (sometimes ragged) and up to 25 rows of any cells."""
    columns = draw(st.lists(st.sampled_from(COLUMN_NAMES), min_size=0, max_size=6))
    n_rows = draw(st.integers(0, 25))
    rows = []
    for _ in range(n_rows):
        width = len(columns) + draw(st.sampled_from([0, 0, 0, 1, -1]))  # now and then a ragged row
        row = []
        for j in range(max(width, 0)):
            name = columns[j] if j < len(columns) else ""
            if name in ("timestamp", "time"):
                row.append(draw(TIMESTAMPS))
            elif name == "participant":
                row.append(draw(st.sampled_from(["P1", "P2", "", "P1"])))
            else:
                row.append(draw(CELLS))
        rows.append(",".join(f'"{c}"' if "," in c else c for c in row))
    return "\n".join([",".join(columns), *rows]) + "\n"


def _check(error: Exception) -> None:
    assert isinstance(error, EXPECTED), f"unexpected {type(error).__name__}: {error}"
    assert str(error).strip(), f"{type(error).__name__} without a message"


@EXAMPLES
@given(text=csv_tables(), tz=st.sampled_from([None, "UTC", "Europe/Berlin", "America/New_York", "Mars/Olympus"]),
       duplicates=st.sampled_from(["raise", "mean"]), out_of_range=st.sampled_from(["raise", "nan"]),
       unknown=st.sampled_from(["raise", "ignore"]))
def test_read_table_returns_recordings_or_a_clear_error(tmp_path_factory, text, tz, duplicates, out_of_range, unknown):
    path = tmp_path_factory.mktemp("fuzz") / "export.csv"
    path.write_text(text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # reported fallbacks (dropped rows, NaN'd values) are fine
            recordings = lsmkit.read_table(path, tz=tz, on_duplicates=duplicates, on_out_of_range=out_of_range,
                                           unknown=unknown)
    except Exception as error:  # noqa: BLE001 - the property is about which exceptions escape
        _check(error)
        return
    lsmkit.data.validate_recordings(recordings)
    values = recordings["signal"].values
    assert values.dtype == np.float32 and not np.isinf(values).any()
    for name in recordings["channel"].values:  # whatever was kept lies in the channel's physical range
        lo, hi = lsmkit.get_channel(name).valid_range
        column = values[..., list(recordings["channel"].values).index(name)]
        assert np.all((column[~np.isnan(column)] >= lo) & (column[~np.isnan(column)] <= hi))


@pytest.mark.filterwarnings("ignore:no .*-minute window has at most:UserWarning")  # the documented empty batch
@EXAMPLES
@given(n_participants=st.integers(1, 3), n_minutes=st.integers(1, 120), n_channels=st.integers(1, 4),
       missing=st.floats(0, 1), minutes=st.one_of(st.integers(-5, 150), st.floats(-1, 50), st.just(None)),
       stride=st.one_of(st.none(), st.integers(-2, 60)), max_missing=st.floats(-0.5, 1.5), seed=st.integers(0, 2**16))
def test_to_windows_returns_windows_or_a_clear_error(n_participants, n_minutes, n_channels, missing, minutes, stride,
                                                     max_missing, seed):
    rng = np.random.default_rng(seed)
    signal = rng.normal(70, 5, (n_participants, n_minutes, n_channels)).astype(np.float32)
    signal[rng.random(signal.shape) < missing] = np.nan
    recordings = lsmkit.make_recordings(signal, participant=[f"P{i}" for i in range(n_participants)],
                                        start=["2024-01-01"] * n_participants,
                                        channels=list(lsmkit.CHANNEL_NAMES[:n_channels]))
    try:
        windows = lsmkit.to_windows(recordings, minutes=minutes, stride=stride, max_missing=max_missing)
    except Exception as error:  # noqa: BLE001
        _check(error)
        return
    lsmkit.data.validate_windows(windows)
    assert windows.sizes["time"] == minutes
    present = [str(c) for c in recordings["channel"].values if recordings["signal"].sel(channel=c).notnull().any()]
    if windows.sizes["window"]:  # a channel NaN throughout the recordings is absent, not missing
        assert float(lsmkit.missing_fraction(windows, channels=present).max()) <= max_missing + 1e-9


@EXAMPLES
@given(shape=st.tuples(st.integers(0, 3), st.integers(0, 60), st.integers(0, 6)),
       kind=st.sampled_from(["random", "interpolation", "extrapolation", "sensors_n", "sensors_names"]),
       amount=st.one_of(st.integers(-5, 80), st.floats(-1, 2), st.just(float("nan")), st.just(None), st.just("ten")),
       names=st.lists(st.sampled_from(["heart_rate", "steps", "bpm", "nope", ""]), max_size=3), seed=st.integers(0, 99))
def test_masks_return_boolean_masks_or_a_clear_error(shape, kind, amount, names, seed):
    W, T, C = shape
    signal = np.zeros((W, T, C), dtype=np.float32)
    try:
        windows = lsmkit.make_windows(signal, participant=["P"] * W, start=["2024-01-01"] * W,
                                      channels=list(lsmkit.CHANNEL_NAMES[:C]))
        if kind == "random":
            mask = masks.random(windows, amount, rng=seed)
        elif kind == "interpolation":
            mask = masks.interpolation(windows, amount, rng=seed)
        elif kind == "extrapolation":
            mask = masks.extrapolation(windows, amount)
        elif kind == "sensors_n":
            mask = masks.sensors(windows, n=amount, rng=seed)
        else:
            mask = masks.sensors(windows, channels=names, rng=seed)
    except Exception as error:  # noqa: BLE001
        _check(error)
        return
    assert mask.dtype == bool and mask.shape == (W, T, C)
    assert mask.dims == ("window", "time", "channel")


def test_the_property_rejects_an_unexpected_exception_type():
    with pytest.raises(AssertionError, match="unexpected KeyError"):
        _check(KeyError("heart_rate"))
    with pytest.raises(AssertionError, match="without a message"):
        _check(ValueError(""))
    _check(ValueError("minutes must be a positive integer, got -1"))


def test_a_dataframe_source_goes_through_the_same_checks():
    frame = pd.read_csv(io.StringIO("timestamp,heart_rate\n2024-01-01 00:00,abc\n"))
    with pytest.raises(EXPECTED) as info:
        lsmkit.read_table(frame)
    _check(info.value)
