"""Per-minute tables in: a user's own CSV/Parquet file or DataFrame becomes recordings.

:func:`read_table` turns a CSV/Parquet file or a DataFrame (one row per timestamp, one column
per channel; or long rows of timestamp, participant, channel, value) into recordings
(:mod:`lsmkit.data`): times in UTC on a per-minute grid, vendor column names mapped to the
canonical channels, finer samples aggregated to minutes. It fails loudly on anything it cannot
read faithfully and reports, with :func:`warnings.warn`, everything it changes or leaves out.
The device readers (:func:`lsmkit.read_device`) hand their per-minute values to it, so every
format shares its time-zone, aggregation and range rules.
"""

from __future__ import annotations

import datetime
import os
import warnings
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..channels import CHANNEL_NAMES, get_channel, resolve_channel
from ..data import make_recordings

__all__ = ["read_table", "DEFAULT_AGG"]

#: How samples within one minute are combined, by channel; every other channel takes the mean.
DEFAULT_AGG: dict[str, str] = {"steps": "sum"}
_AGGS = ("mean", "median", "sum", "min", "max", "first", "last")

_CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_COMPRESSION_SUFFIXES = (".gz", ".bz2", ".zst")
# A dense grid larger than this is almost always a stray timestamp (say 1970-01-01) stretching
# one participant's recording over decades; refuse it rather than exhaust memory.
_MAX_GRID_BYTES = 8 * 2**30
_NS_PER_MINUTE = 60 * 10**9
# Times must fit datetime64[ns] (1677-09-21 to 2262-04-11) or they silently wrap around; a day of
# margin each side leaves room for time-zone conversion.
_EARLIEST, _LATEST = pd.Timestamp("1677-09-22"), pd.Timestamp("2262-04-10")
_OFFSET_RE = r"(?:[zZ]|[+-]\d\d(?::?\d\d)?)$"
# Text that means "no value" in a numeric column (pyarrow's CSV null markers, so frames and files agree).
_NA_TEXT = frozenset(
    ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
     "NULL", "NaN", "None", "n/a", "nan", "null"]
)


# --------------------------------------------------------------------------------------------
# read_table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rows:
    """Names rows in messages: ``line N`` of a file (header is line 1) or ``row N`` of a frame."""

    source: str
    in_file: bool
    labels: pd.Index

    def name(self, pos: int) -> str:
        if self.in_file:
            return f"line {pos + 2} of {self.source}"
        label = self.labels[pos]
        return f"row {pos}" if label == pos else f"row {pos} (index {label!r})"


def read_table(
    source,
    *,
    timestamp: str = "timestamp",
    participant: str = "participant",
    channel: str | None = None,
    value: str | None = None,
    columns: Mapping[str, str | None] | None = None,
    tz: str | Mapping[str, str] | None = None,
    ambiguous: str = "infer",
    nonexistent: str = "raise",
    agg: str | Mapping[str, str] | None = None,
    on_duplicates: str = "raise",
    on_out_of_range: str = "raise",
    unknown: str = "raise",
    all_channels: bool = True,
) -> xr.Dataset:
    """Read a table of timestamped sensor values into recordings.

    Parameters
    ----------
    source : pandas.DataFrame, str or path-like
        A DataFrame, or a path to a CSV (``.csv``, ``.tsv``, ``.txt``, optionally ``.gz``/
        ``.bz2``/``.zst`` compressed) or Parquet (``.parquet``, ``.pq``) file.
    timestamp : str, default "timestamp"
        Column of timestamps: datetimes, or strings that pandas parses (ISO 8601 preferred;
        other formats are inferred from the first value, month first when ambiguous). Also
        accepted as the DataFrame's index name.
    participant : str, default "participant"
        Column of participant ids (turned into strings). When the table has no such column and
        the name is left at its default, every row belongs to one participant named after the
        file's stem (``"participant_0"`` for a DataFrame); a non-default name must exist.
    channel, value : str, optional
        Give both for a *long* table: one row per (timestamp, participant, channel) with the
        channel name in ``channel`` and the number in ``value``. Left out, a table with columns
        named ``"channel"`` and ``"value"`` is read as long, any other as *wide*: one column
        per channel.
    columns : mapping, optional
        Explicit names, applied before the alias registry: ``{"HR_avg": "heart_rate"}`` maps a
        column (wide) or a channel name (long) to a channel; ``{"battery": None}`` drops it
        silently. Names not in the mapping go through :func:`lsmkit.resolve_channel`, which
        knows common vendor names (``"bpm"``, ``"Heart Rate (bpm)"``; see
        :func:`lsmkit.channel_table`).
    tz : str or mapping, optional
        IANA time zone of the participants (one name, or ``{participant: name}``). Naive
        timestamps are local wall-clock times in this zone; without ``tz`` they are taken as
        UTC. Timezone-aware timestamps (``"+01:00"`` offsets, mixed or not, or a tz-aware
        column) are converted to UTC as they are, and ``tz`` only names the zone. The zone is
        recorded in the ``timezone`` coordinate (``"UTC"`` when not given, except for a
        tz-aware DataFrame column with a named zone, whose name is kept).
    ambiguous : {"infer", "earliest", "latest", "drop", "raise"}, default "infer"
        Naive times in the hour repeated when clocks fall back: ``"infer"`` resolves them from
        row order (the first pass is summer time), per participant (and channel); ``"earliest"``
        takes summer time, ``"latest"`` winter time, ``"drop"`` leaves the rows out. Every
        resolution is reported with a warning.
    nonexistent : {"raise", "shift_forward", "drop"}, default "raise"
        Naive times that do not exist because clocks spring forward (02:30 on the change day in
        Europe): raise, move them to the first existing minute, or leave them out (reported).
    agg : str or mapping, optional
        How several samples in one minute (per-second data, irregular beats) are combined: one
        of ``"mean"``, ``"median"``, ``"sum"``, ``"min"``, ``"max"``, ``"first"``, ``"last"`` for
        all channels, or ``{channel: how}`` overriding :data:`DEFAULT_AGG` (``steps`` is summed,
        everything else averaged). Minutes without a sample are NaN.
    on_duplicates : {"raise", "mean", "first", "last"}, default "raise"
        Rows with exactly the same timestamp for one participant (and channel): raise naming
        them, or keep their mean, first or last non-missing value per channel (reported).
    on_out_of_range : {"raise", "nan"}, default "raise"
        Values outside a channel's physical range (:attr:`lsmkit.channels.Channel.valid_range`,
        including ``inf``): raise naming the first, or set them to NaN with a warning that
        counts them per channel.
    unknown : {"raise", "ignore"}, default "raise"
        Column (wide) or channel (long) names that are not channels: raise naming them, or leave
        them out with a warning.
    all_channels : bool, default True
        Return all 26 canonical channels (the model's sensor image), those not in the table
        all-NaN; otherwise only the channels found. Channels are in canonical order either way.

    Returns
    -------
    xarray.Dataset
        Recordings (:func:`lsmkit.make_recordings`): float32 ``signal`` with dims
        ``("participant", "time", "channel")`` on a per-minute grid from each participant's
        first to last minute (UTC), NaN where there is no value, participants in order of first
        appearance. ``attrs["source"]`` names the file (or ``"DataFrame"``).

    Raises
    ------
    TypeError
        ``source`` is not a DataFrame or path, or a column has the wrong kind of data (numbers
        as timestamps, booleans or datetimes as values).
    ValueError
        Anything else that cannot be read faithfully; the message names the column, row (``line
        N`` of a file, counting the header as line 1, or ``row N`` of a DataFrame) and value,
        and what was expected.

    Warns
    -----
    UserWarning
        One per kind of change (values set to NaN, rows or columns left out, duplicates merged,
        DST resolutions), with counts and the first affected row; emitted even when reading
        then fails, so that an error is never the only trace of what happened before it.
    """
    notes: list[str] = []  # warnings, emitted at the end so that they point at the caller
    try:
        return _read_table(
            source, timestamp, participant, channel, value, columns, tz, ambiguous, nonexistent, agg,
            on_duplicates, on_out_of_range, unknown, all_channels, notes,
        )
    finally:  # also when reading fails: what was dropped or changed before the error still counts
        for note in notes:
            warnings.warn(note, UserWarning, stacklevel=2)


def _read_table(
    source, timestamp, participant, channel, value, columns, tz, ambiguous, nonexistent, agg,
    on_duplicates, on_out_of_range, unknown, all_channels, notes,
) -> xr.Dataset:
    _check_choice("ambiguous", ambiguous, ("infer", "earliest", "latest", "drop", "raise"))
    _check_choice("nonexistent", nonexistent, ("raise", "shift_forward", "drop"))
    _check_choice("on_duplicates", on_duplicates, ("raise", "mean", "first", "last"))
    _check_choice("on_out_of_range", on_out_of_range, ("raise", "nan"))
    _check_choice("unknown", unknown, ("raise", "ignore"))
    if (channel is None) != (value is None):
        raise ValueError(
            f"a long table needs both channel= and value= column names, got channel={channel!r}, value={value!r}"
        )

    frame, rows, default_name = _read_source(source, timestamp, participant, channel)
    if timestamp not in frame.columns:
        raise ValueError(
            f"{rows.source} has no timestamp column {timestamp!r}; found columns {list(frame.columns)} "
            f"(name yours with timestamp=...)"
        )
    long = channel is not None or {"channel", "value"} <= set(frame.columns)
    channel, value = (channel or "channel", value or "value") if long else (None, None)
    for col in (channel, value):
        if col is not None and col not in frame.columns:
            raise ValueError(
                f"{rows.source} has no column {col!r} for a long table; found columns {list(frame.columns)}"
            )

    codes, names = _participants(frame, participant, default_name, rows)
    if long:  # values (rows,), ch_of_rows: index into CHANNEL_NAMES per row
        values, ch_of_rows, keep = _long_values(frame, channel, value, columns, unknown, rows, notes)
        channels = [CHANNEL_NAMES[i] for i in np.unique(ch_of_rows)]
    else:  # values (rows, channels)
        values, channels = _wide_values(frame, {timestamp, participant}, columns, unknown, rows, notes)
        ch_of_rows, keep = None, np.ones(len(frame), dtype=bool)
    positions = np.flatnonzero(keep)  # rows that carry channels, as positions in the table
    codes = codes[keep]
    _check_range(values, ch_of_rows, channels, positions, rows, on_out_of_range, notes)

    zones = _zones(tz, names)
    groups = codes if ch_of_rows is None else codes * len(CHANNEL_NAMES) + ch_of_rows
    t_ns, ok, aware_zone = _utc_times(
        frame[timestamp], positions, codes, groups, zones, ambiguous, nonexistent, rows, notes
    )
    if not ok.all():
        codes, t_ns, groups = codes[ok], t_ns[ok], groups[ok]
        values, positions = values[ok], positions[ok]
    if len(t_ns) == 0:
        raise ValueError(f"{rows.source}: no rows left to read (all were dropped; see the warnings)")

    if not _is_sorted(groups, t_ns):
        order = np.lexsort((t_ns, groups))  # stable: file order breaks ties for "first"/"last"
        codes, t_ns, groups = codes[order], t_ns[order], groups[order]
        values, positions = values[order], positions[order]
    key = pd.DataFrame({"group": groups, "t": t_ns})
    values, key = _resolve_duplicates(values, key, positions, names, codes, on_duplicates, rows, notes)

    channels_out = list(CHANNEL_NAMES) if all_channels else channels
    signal, starts = _to_grid(values, key, long, channels, channels_out, names, agg, on_out_of_range, rows, notes)
    zone_names = [zones.get(n) or aware_zone or "UTC" for n in names]
    ds = make_recordings(signal, participant=names, start=starts, channels=channels_out, timezone=zone_names)
    ds.attrs["source"] = rows.source
    return ds


def _check_choice(name: str, given, options: tuple[str, ...]) -> None:
    if given not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {given!r}")


# ---- reading the source ---------------------------------------------------------------------


def _read_source(source, timestamp: str, participant: str, channel: str | None):
    """The table as a DataFrame, a row namer and the default participant name."""
    if isinstance(source, pd.DataFrame):
        frame = source
        if timestamp not in frame.columns and frame.index.name == timestamp:
            frame = frame.reset_index()
        rows = _Rows("DataFrame", False, frame.index)
        default_name = "participant_0"
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"no such file: {str(path)!r}")
        if path.is_dir() and not path.name.lower().endswith(_PARQUET_SUFFIXES):  # *.parquet: a partitioned dataset
            raise ValueError(f"{str(path)!r} is a directory; expected a CSV or Parquet file")
        kind = _file_kind(path)
        frame = _read_csv(path, (participant, channel)) if kind == "csv" else _read_parquet(path)
        rows = _Rows(path.name, True, frame.index)
        default_name = _stem(path)
    else:
        raise TypeError(
            f"source must be a pandas DataFrame or a path to a CSV or Parquet file, got {type(source).__name__}"
        )
    if frame.shape[1] == 0:
        raise ValueError(f"{rows.source} is empty: no columns")
    if frame.shape[0] == 0:
        raise ValueError(f"{rows.source} has a header ({', '.join(map(str, frame.columns))}) but no rows")
    if frame.columns.duplicated().any():
        twice = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise ValueError(f"{rows.source} has duplicate column names {twice}; expected each column once")
    return frame, rows, default_name


def _stem(path: Path) -> str:
    """``my.watch.csv.gz`` -> ``my.watch``."""
    name = path.name
    for suffix in (*_COMPRESSION_SUFFIXES, *_CSV_SUFFIXES, *_PARQUET_SUFFIXES):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


def _file_kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in _CSV_SUFFIXES:
        return "csv"
    if suffix in _PARQUET_SUFFIXES:
        return "parquet"
    raise ValueError(
        f"cannot tell the format of {path.name!r} from its suffix {suffix!r}; expected one of "
        f"{', '.join(_CSV_SUFFIXES + _PARQUET_SUFFIXES)} (CSV optionally compressed)"
    )


def _read_csv(path: Path, text_columns) -> pd.DataFrame:
    """CSV through pyarrow (fast), refusing rows with the wrong number of fields."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    _check_text(path)
    bad = []

    def on_bad_row(row):  # collect every malformed row, report them together below
        bad.append(row)
        return "skip"

    delimiter = "\t" if ".tsv" in [s.lower() for s in path.suffixes] else ","
    # Ids and channel names stay text: "007" must not become 7 (names not in the file are ignored).
    types = {c: pa.string() for c in text_columns if c is not None}
    try:
        table = pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_bad_row),
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True),
        )
    except pa.ArrowInvalid as err:
        if "Empty CSV file" in str(err):
            size = path.stat().st_size
            if size == 0:
                raise ValueError(f"{path.name} is empty (0 bytes: no header, no rows)") from None
            raise ValueError(
                f"{path.name} is empty or cut short: {size} bytes, but no complete header line and no rows"
            ) from None
        hint = " (the file is not UTF-8 text; save it as UTF-8)" if "invalid UTF8" in str(err) else ""
        raise ValueError(f"could not parse {path.name} as CSV{hint}: {err}") from None
    except OSError as err:  # pyarrow's I/O errors: a truncated or corrupt compressed stream
        if isinstance(err, (FileNotFoundError, PermissionError)):
            raise
        raise ValueError(f"could not read {path.name} (truncated or corrupt?): {err}") from None
    if bad:
        first = bad[0]
        line = first.number if first.number is not None else _find_line(path, first.text)
        where = f"line {line}" if line is not None else "a line"
        raise ValueError(
            f"{path.name}: {len(bad)} row(s) with the wrong number of fields (truncated or malformed); "
            f"{where} has {first.actual_columns} field(s), expected {first.expected_columns}: {first.text!r}"
        )
    return table.to_pandas()


def _check_text(path: Path) -> None:
    """Refuse binary files (a Parquet or Excel file named .csv) before pyarrow trips over them."""
    if path.suffix.lower() in _COMPRESSION_SUFFIXES:  # decompressed by pyarrow; its errors say enough
        return
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (b"\x00" in head and _utf16_text(head)):
        raise ValueError(
            f"{path.name} is UTF-16 text (Excel's 'Unicode Text' export); save it as CSV in UTF-8, or convert it "
            f"with pandas.read_csv({path.name!r}, encoding='utf-16').to_csv(..., index=False)"
        )
    if b"\x00" in head:
        raise ValueError(
            f"{path.name} is not a text file (it holds NUL bytes); expected CSV text in UTF-8. "
            f"Is it a Parquet or spreadsheet file with the wrong suffix?"
        )


def _utf16_text(head: bytes) -> bool:
    """Whether bytes without a byte-order mark read as UTF-16 text: printable ASCII with every other byte NUL."""
    pairs = head[: len(head) // 2 * 2]
    for low, high in ((pairs[0::2], pairs[1::2]), (pairs[1::2], pairs[0::2])):
        if high and set(high) == {0} and all(32 <= b < 127 or b in b"\t\r\n" for b in low):
            return True
    return False


def _find_line(path: Path, text: str) -> int | None:
    """Line number of a malformed row whose number pyarrow did not track (multi-threaded read)."""
    if path.suffix.lower() in _COMPRESSION_SUFFIXES:
        return None
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, start=1):
            if line.rstrip("\r\n") == text:
                return number
    return None


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for corrupt or non-Parquet files
        raise ValueError(f"could not read {path.name} as Parquet: {err}") from None


# ---- participants and values ----------------------------------------------------------------


def _participants(frame: pd.DataFrame, column: str, default_name: str, rows: _Rows):
    """Integer code per row and the participant names, in order of first appearance."""
    if column not in frame.columns:
        if column != "participant":
            raise ValueError(f"{rows.source} has no participant column {column!r}; found columns {list(frame.columns)}")
        return np.zeros(len(frame), dtype=np.int64), [default_name]
    ids = frame[column]
    missing = ids.isna().to_numpy()
    if missing.any():
        raise ValueError(f"participant column {column!r} is empty at {rows.name(int(np.argmax(missing)))}")
    codes, uniques = pd.factorize(ids.astype(str), sort=False)
    return codes.astype(np.int64), [str(u) for u in uniques]


def _wide_values(frame, reserved, columns, unknown, rows, notes):
    """(rows, channels) float64 values from one column per channel, and the channel names."""
    mapping = _mapping(columns, [c for c in frame.columns if c not in reserved], rows)
    found, ignored = {}, []
    for col in frame.columns:
        if col in reserved:
            continue
        name = mapping[col] if col in mapping else resolve_channel(str(col), strict=False)
        if col in mapping and name is None:
            continue  # dropped on request
        if name is None:
            ignored.append(col)
        elif name in found:
            raise ValueError(
                f"columns {found[name]!r} and {col!r} both map to channel {name!r}; "
                f"keep one (columns={{{col!r}: None}})"
            )
        else:
            found[name] = col
    _unknown(ignored, "column", unknown, rows, notes)
    if not found:
        raise ValueError(
            f"{rows.source} has no channel columns; found {list(frame.columns)}, expected channel names or "
            f"aliases (see lsmkit.channel_table()), or a long table (channel= and value=)"
        )
    channels = [c for c in CHANNEL_NAMES if c in found]  # canonical order
    values = np.empty((len(frame), len(channels)), dtype=np.float64)
    for j, name in enumerate(channels):
        values[:, j] = _numeric(frame[found[name]], found[name], name, rows)
    return values, channels


def _long_values(frame, channel, value, columns, unknown, rows, notes):
    """Values, channel index (into CHANNEL_NAMES) per row and the rows kept."""
    labels = frame[channel]
    if labels.isna().any():
        where = rows.name(int(np.argmax(labels.isna().to_numpy())))
        raise ValueError(f"channel column {channel!r} is empty at {where}; expected a channel name in every row")
    codes, uniques = pd.factorize(labels.astype(str), sort=False)
    mapping = _mapping(columns, list(uniques), rows, what="channel name")
    index = {name: i for i, name in enumerate(CHANNEL_NAMES)}
    lookup, ignored = np.full(len(uniques), -1), []  # -1: row left out
    for k, label in enumerate(uniques):
        name = mapping[label] if label in mapping else resolve_channel(label, strict=False)
        if name is not None:
            lookup[k] = index[name]
        elif label not in mapping:  # mapped to None: dropped on request, silently
            ignored.append(label)
    counts = np.bincount(codes, minlength=len(uniques))
    listed = [f"{u} ({counts[k]} rows)" for k, u in enumerate(uniques) if u in ignored]
    _unknown(listed, "channel name", unknown, rows, notes)
    ch = lookup[codes]
    keep = ch >= 0
    if not keep.any():
        raise ValueError(f"{rows.source}: no row has a known channel name (see lsmkit.channel_table())")
    kept = np.flatnonzero(keep)  # values of left-out rows are not checked
    values = _numeric(frame[value].iloc[kept], value, None, rows, channel_of_rows=ch[kept], positions=kept)
    return values, ch[kept], keep


def _mapping(columns, names, rows, what="column"):
    """Validate ``columns=``: keys must exist, targets must be channels (or None)."""
    if columns is None:
        return {}
    if not isinstance(columns, Mapping):
        raise TypeError(f"columns must be a mapping such as {{'HR_avg': 'heart_rate'}}, got {type(columns).__name__}")
    missing = [k for k in columns if k not in set(names)]
    if missing:
        raise ValueError(f"columns= names {what}s {missing} that {rows.source} does not have; found {list(names)}")
    out = {}
    for key, target in columns.items():
        if target is None:
            out[key] = None
            continue
        name = resolve_channel(str(target), strict=False)
        if name is None:
            raise ValueError(
                f"columns={{{key!r}: {target!r}}}: {target!r} is not a channel; see lsmkit.channel_table()"
            )
        out[key] = name
    return out


def _unknown(names: list, what: str, policy: str, rows: _Rows, notes: list[str]) -> None:
    if not names:
        return
    listed = ", ".join(map(repr, names)) if what == "column" else ", ".join(names)
    if policy == "raise":
        raise ValueError(
            f"{rows.source} has unknown {what}(s) {listed}; expected canonical channel names or their aliases "
            f"(see lsmkit.channel_table()). Map them with columns={{name: channel}}, drop them with "
            f"columns={{name: None}}, or pass unknown='ignore'"
        )
    notes.append(f"{rows.source}: ignored unknown {what}(s) {listed} (not channels; see lsmkit.channel_table())")


def _numeric(column: pd.Series, col: str, name: str | None, rows: _Rows, channel_of_rows=None, positions=None):
    """A value column as float64; refuse text, booleans and datetimes, naming the first bad row.

    ``positions`` maps the entries of a subset ``column`` to rows of the table (for messages).
    """
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        raise TypeError(f"column {col!r} holds booleans; expected numbers{_unit(name)}")
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        raise TypeError(f"column {col!r} holds {dtype} values; expected numbers{_unit(name)}")
    if pd.api.types.is_complex_dtype(dtype):
        raise TypeError(f"column {col!r} holds complex numbers; expected real numbers{_unit(name)}")
    if pd.api.types.is_numeric_dtype(dtype):
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    # Text (or mixed objects): blanks are missing values, anything else must parse as a number.
    text = column.astype(object)
    blank = text.isna().to_numpy() | np.array([isinstance(v, str) and v.strip() in _NA_TEXT for v in text], dtype=bool)
    parsed = pd.to_numeric(text.where(~blank, np.nan), errors="coerce")
    bad = np.isnan(parsed.to_numpy(dtype=np.float64, na_value=np.nan)) & ~blank
    bad |= np.array([isinstance(v, (bool, np.bool_)) for v in text], dtype=bool)
    if bad.any():
        first = int(np.argmax(bad))
        if channel_of_rows is not None and channel_of_rows[first] >= 0:
            name = CHANNEL_NAMES[channel_of_rows[first]]
        unit = _unit(name)
        raise ValueError(
            f"column {col!r} holds a non-numeric value {text.iloc[first]!r} at "
            f"{rows.name(first if positions is None else int(positions[first]))}"
            f"{f' and {int(bad.sum()) - 1} more' if bad.sum() > 1 else ''}; expected numbers{unit}"
        )
    return parsed.to_numpy(dtype=np.float64, na_value=np.nan)


def _unit(name: str | None) -> str:
    return "" if name is None else f" ({name} in {get_channel(name).unit})"


def _check_range(values, ch_of_rows, channels, positions, rows, policy, notes) -> None:
    """Values outside a channel's physical range (inf included): raise, or set NaN and count."""
    wide = ch_of_rows is None
    names = channels if wide else CHANNEL_NAMES
    lo = np.array([get_channel(c).valid_range[0] for c in names])
    hi = np.array([get_channel(c).valid_range[1] for c in names])
    with np.errstate(invalid="ignore"):
        out = (values < lo) | (values > hi) if wide else (values < lo[ch_of_rows]) | (values > hi[ch_of_rows])
    if not out.any():
        return
    counts = out.sum(axis=0) if wide else np.bincount(ch_of_rows[out], minlength=len(names))
    if policy == "raise":
        r, j = (np.argwhere(out)[0] if wide else (int(np.argmax(out)), ch_of_rows[int(np.argmax(out))]))
        c = get_channel(names[j])
        v = values[r, j] if wide else values[r]
        raise ValueError(
            f"{c.name} value {v:g} at {rows.name(int(positions[r]))} is outside its physical range "
            f"[{c.valid_range[0]:g}, {c.valid_range[1]:g}] {c.unit} ({int(counts.sum())} such value(s) in all); "
            f"pass on_out_of_range='nan' to set them to NaN"
        )
    values[out] = np.nan
    summary = ", ".join(f"{names[j]}: {int(n)}" for j, n in enumerate(counts) if n)
    notes.append(f"{rows.source}: set {int(counts.sum())} value(s) outside the physical range to NaN ({summary})")


# ---- time -----------------------------------------------------------------------------------


def _zones(tz, names: list[str]) -> dict[str, str | None]:
    """Validated IANA zone per participant (None where the data decides)."""
    if tz is None:
        return {n: None for n in names}
    if isinstance(tz, str):
        tz = {n: tz for n in names}
    elif not isinstance(tz, Mapping):
        raise TypeError(
            f"tz must be an IANA time zone name or a {{participant: name}} mapping, got {type(tz).__name__}"
        )
    missing = [n for n in names if n not in tz]
    if missing:
        raise ValueError(f"tz= gives no time zone for participant(s) {missing}; it covers {list(tz)}")
    for zone in set(tz[n] for n in names):
        try:
            zoneinfo.ZoneInfo(str(zone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {zone!r}; expected an IANA name such as 'Europe/Berlin' "
                f"(see zoneinfo.available_timezones())"
            ) from None
    return {n: str(tz[n]) for n in names}


def _utc_times(column, positions, codes, groups, zones, ambiguous, nonexistent, rows, notes):
    """UTC nanoseconds per kept row, a mask of rows that survive, and the zone of aware input."""
    parsed = _parse_times(column, rows).iloc[positions]
    aware = isinstance(parsed.dtype, pd.DatetimeTZDtype)
    if aware:
        zone = str(parsed.dtype.tz)
        named = zone in zoneinfo.available_timezones() and zone not in ("UTC", "Etc/UTC")
        utc = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        return _ns(utc.to_numpy()), np.ones(len(parsed), dtype=bool), zone if named else None
    naive = pd.DatetimeIndex(parsed.to_numpy())
    t_ns = np.empty(len(naive), dtype=np.int64)
    ok = np.ones(len(naive), dtype=bool)
    zone_of_code = np.array([zone or "UTC" for zone in zones.values()], dtype=object)  # zones: by code order
    for zone in dict.fromkeys(zone_of_code):
        sel = np.flatnonzero(zone_of_code[codes] == zone)
        t_ns[sel], ok[sel] = _localize(
            naive[sel], zone, groups[sel], positions[sel], ambiguous, nonexistent, rows, notes
        )
    return t_ns, ok, None


def _parse_times(column: pd.Series, rows: _Rows) -> pd.Series:
    """Timestamps as a datetime Series (naive or tz-aware), naming the first bad value."""
    name = column.name
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        parsed = column
    elif pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        first = column.dropna()
        example = f", e.g. {first.iloc[0]!r}" if len(first) else ""
        raise TypeError(
            f"timestamp column {name!r} holds numbers ({column.dtype}{example}); expected dates and times. "
            f"Convert epoch times first, e.g. pd.to_datetime(df[{name!r}], unit='s', utc=True)"
        )
    else:
        parsed = _parse_time_strings(column.astype(object), rows)
    missing = parsed.isna().to_numpy()
    if missing.any():
        raise ValueError(f"timestamp column {name!r} is empty at {rows.name(int(np.argmax(missing)))}")
    wall = parsed.dt.tz_localize(None) if isinstance(parsed.dtype, pd.DatetimeTZDtype) else parsed
    outside = ((wall < _EARLIEST) | (wall > _LATEST)).to_numpy()
    if outside.any():
        i = int(np.argmax(outside))
        raise ValueError(
            f"timestamp column {name!r} holds {parsed.iloc[i]} at {rows.name(i)}, outside the years "
            f"{_EARLIEST.year}-{_LATEST.year} that lsmkit can represent (datetime64[ns]); is the year right?"
        )
    return parsed.reset_index(drop=True)


def _parse_time_strings(text: pd.Series, rows: _Rows) -> pd.Series:
    name = text.name
    present = text.dropna()
    if present.empty:
        raise ValueError(f"timestamp column {name!r} has no values")
    kind = pd.api.types.infer_dtype(present, skipna=True)
    if kind in ("datetime", "datetime64"):  # Timestamp/datetime objects, perhaps in several zones
        return _to_datetime_objects(text, rows)
    if kind == "date":  # pyarrow reads date-only CSV columns ("2024-01-01") as datetime.date objects
        text, kind = text.map(lambda v: v.isoformat(), na_action="ignore"), "string"
    if kind != "string":
        not_text = text.map(lambda v: not isinstance(v, str) and not pd.isna(v)).to_numpy(dtype=bool)
        i = int(np.argmax(not_text))
        v = text.iloc[i]
        if isinstance(v, (pd.Timestamp, np.datetime64, datetime.date)):
            raise TypeError(
                f"timestamp column {name!r} mixes text and {type(v).__name__} values ({v!r} at {rows.name(i)}); "
                f"expected all text or all datetimes"
            )
        raise TypeError(
            f"timestamp column {name!r} holds {type(v).__name__} values such as {v!r} at {rows.name(i)}; "
            f"expected dates and times"
        )
    text = text.str.strip()
    try:
        return pd.to_datetime(text, format="ISO8601")
    except (ValueError, TypeError) as err:
        if "Mixed timezones" in str(err):
            return _parse_mixed_offsets(text, rows)
    try:  # not ISO 8601: let pandas infer one format from the first value
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "could not infer format" is reported below
            return pd.to_datetime(text)
    except (ValueError, TypeError):
        pass
    fmt = pd.tseries.api.guess_datetime_format(str(present.iloc[0])) or "ISO8601"
    coerced = pd.to_datetime(text, format=fmt, errors="coerce", utc=True)
    bad = coerced.isna().to_numpy() & text.notna().to_numpy()
    first = int(np.argmax(bad)) if bad.any() else int(np.flatnonzero(text.notna().to_numpy())[0])
    raise ValueError(
        f"timestamp column {name!r} holds an unparseable time {text.iloc[first]!r} at {rows.name(first)}; "
        f"expected ISO 8601 such as '2024-03-31 02:30:00' or '2024-03-31T02:30:00+02:00', in one format"
    )


def _to_datetime_objects(values: pd.Series, rows: _Rows) -> pd.Series:
    aware = np.array([getattr(v, "tzinfo", None) is not None for v in values], dtype=bool)
    naive = ~aware & values.notna().to_numpy()
    if aware.any() and naive.any():  # as for text: naive times in an aware column have no meaning
        i, j = int(np.argmax(naive)), int(np.argmax(aware))
        raise ValueError(
            f"timestamp column {values.name!r} mixes times with and without a time zone: {values.iloc[i]!r} at "
            f"{rows.name(i)} has none, {values.iloc[j]!r} at {rows.name(j)} has one; expected one or the other"
        )
    try:
        return pd.to_datetime(values)
    except (ValueError, TypeError):  # aware objects in several zones: same instants, in UTC
        return pd.to_datetime(values, utc=True)


def _parse_mixed_offsets(text: pd.Series, rows: _Rows) -> pd.Series:
    """Strings with different UTC offsets (a DST change) are fine; with and without offsets is not."""
    has_offset = text.str.contains(_OFFSET_RE, regex=True, na=True).to_numpy(dtype=bool)
    if not has_offset.all():
        i, j = int(np.argmax(~has_offset)), int(np.argmax(has_offset))
        raise ValueError(
            f"timestamp column {text.name!r} mixes times with and without a UTC offset: {text.iloc[i]!r} at "
            f"{rows.name(i)} has none, {text.iloc[j]!r} at {rows.name(j)} has one; expected one or the other"
        )
    return pd.to_datetime(text, format="ISO8601", utc=True)


def _ns(values: np.ndarray) -> np.ndarray:
    return values.astype("datetime64[ns]").astype(np.int64)


def _localize(naive: pd.DatetimeIndex, zone, groups, positions, ambiguous, nonexistent, rows, notes):
    """Naive local times in ``zone`` -> UTC ns, with explicit handling of DST changes."""
    if zone == "UTC":
        return _ns(naive.to_numpy()), np.ones(len(naive), dtype=bool)
    try:  # the common case: no time near a DST change
        utc = naive.tz_localize(zone).tz_convert("UTC").tz_localize(None)
        return _ns(utc.to_numpy()), np.ones(len(naive), dtype=bool)
    except (ValueError, TypeError):
        pass
    n = len(naive)
    summer = naive.tz_localize(zone, ambiguous=np.ones(n, dtype=bool), nonexistent="NaT")
    winter = naive.tz_localize(zone, ambiguous=np.zeros(n, dtype=bool), nonexistent="NaT")
    gap = np.asarray(summer.isna())
    repeated = ~gap & np.asarray(summer != winter)
    utc = summer.tz_convert("UTC").tz_localize(None).to_numpy().copy()  # to_numpy() may be a read-only view
    ok = np.ones(n, dtype=bool)
    if repeated.any():
        ok &= _resolve_repeated(naive, zone, groups, positions, repeated, winter, utc, ambiguous, rows, notes)
    if gap.any():
        ok &= _resolve_gap(naive, zone, positions, gap, utc, nonexistent, rows, notes)
    utc[~ok] = np.datetime64("1970-01-01")  # placeholder for dropped rows; removed by the caller
    return _ns(utc), ok


def _resolve_repeated(naive, zone, groups, positions, repeated, winter, utc, policy, rows, notes) -> np.ndarray:
    """Times in the hour repeated at fall-back; writes resolved UTC into ``utc``."""
    first = int(np.argmax(repeated))
    count = int(repeated.sum())
    example = f"{naive[first]} at {rows.name(int(positions[first]))}"
    ok = np.ones(len(naive), dtype=bool)
    if policy == "raise":
        raise ValueError(
            f"{count} timestamp(s) fall in the hour repeated when {zone} leaves summer time, e.g. {example}; "
            f"pass ambiguous='infer' (from row order), 'earliest', 'latest' or 'drop'"
        )
    if policy == "latest":
        utc[repeated] = winter[repeated].tz_convert("UTC").tz_localize(None).to_numpy()
    elif policy == "drop":
        ok[repeated] = False
    elif policy == "infer":
        by_group = np.argsort(groups, kind="stable")  # each group's rows stay in table order
        bounds = np.flatnonzero(np.diff(groups[by_group])) + 1
        for sel in np.split(by_group, bounds):
            if not repeated[sel].any():
                continue
            try:
                local = naive[sel].tz_localize(zone, ambiguous="infer", nonexistent="NaT")
            except ValueError:
                i = sel[np.argmax(repeated[sel])]
                raise ValueError(
                    f"cannot tell which pass of the repeated hour {naive[i]} at {rows.name(int(positions[i]))} "
                    f"belongs to ({zone} leaves summer time): ambiguous='infer' needs the rows in time order with the "
                    f"hour present twice; pass ambiguous='earliest', 'latest' or 'drop'"
                ) from None
            mask = repeated[sel]
            utc[sel[mask]] = local[mask].tz_convert("UTC").tz_localize(None).to_numpy()
    how = {"infer": "resolved from row order", "earliest": "taken as summer time", "latest": "taken as winter time",
           "drop": "dropped"}[policy]
    notes.append(
        f"{count} timestamp(s) in the hour repeated when {zone} leaves summer time (first: {example}) were {how}"
    )
    return ok


def _resolve_gap(naive, zone, positions, gap, utc, policy, rows, notes) -> np.ndarray:
    """Times skipped at spring-forward; writes shifted UTC into ``utc``."""
    first = int(np.argmax(gap))
    count = int(gap.sum())
    example = f"{naive[first]} at {rows.name(int(positions[first]))}"
    ok = np.ones(len(naive), dtype=bool)
    if policy == "raise":
        raise ValueError(
            f"{count} timestamp(s) do not exist in {zone} (clocks spring forward), e.g. {example}; "
            f"pass nonexistent='shift_forward' or 'drop'"
        )
    if policy == "drop":
        ok[gap] = False
    else:
        shifted = naive[gap].tz_localize(zone, nonexistent="shift_forward")
        utc[gap] = shifted.tz_convert("UTC").tz_localize(None).to_numpy()
    how = "dropped" if policy == "drop" else "moved to the first minute after the change"
    notes.append(
        f"{count} timestamp(s) that do not exist in {zone} (clocks spring forward; first: {example}) were {how}"
    )
    return ok


# ---- duplicates, minutes, grid --------------------------------------------------------------


def _is_sorted(groups: np.ndarray, t_ns: np.ndarray) -> bool:
    """Rows already in (group, time) order, as most exports are: sorting would only copy."""
    same = groups[1:] == groups[:-1]
    return bool(np.all((groups[1:] > groups[:-1]) | (same & (t_ns[1:] >= t_ns[:-1]))))


def _resolve_duplicates(values, key, positions, names, codes, policy, rows, notes):
    """Rows sharing a timestamp (per participant, and channel in long tables)."""
    group, t = key["group"].to_numpy(), key["t"].to_numpy()
    same = (group[1:] == group[:-1]) & (t[1:] == t[:-1])  # rows are sorted: duplicates are neighbours
    if not same.any():
        return values, key
    dup = np.zeros(len(key), dtype=bool)
    dup[1:] |= same
    dup[:-1] |= same
    n_groups = int((dup[1:] & ~same).sum() + dup[0])  # distinct duplicated timestamps
    if policy == "raise":
        shown = []
        for i in np.flatnonzero(dup)[:6]:
            stamp = pd.Timestamp(int(key["t"].iloc[i]), tz="UTC")
            shown.append(f"{rows.name(int(positions[i]))} (participant {names[codes[i]]!r}, {stamp})")
        raise ValueError(
            f"{n_groups} timestamp(s) occur more than once ({int(dup.sum())} rows), e.g. {'; '.join(shown)}; "
            f"pass on_duplicates='mean', 'first' or 'last'"
        )
    frame = pd.DataFrame(values if values.ndim == 2 else values[:, None])
    grouped = frame.groupby([key["group"].to_numpy(), key["t"].to_numpy()], sort=False)
    merged = getattr(grouped, policy)()
    out = merged.to_numpy()
    levels = merged.index
    new_key = pd.DataFrame({"group": levels.get_level_values(0).to_numpy(), "t": levels.get_level_values(1).to_numpy()})
    notes.append(
        f"{rows.source}: {n_groups} timestamp(s) occurred more than once ({int(dup.sum())} rows); kept the {policy}"
        + (" (first/last non-missing value per channel)" if policy != "mean" else "")
    )
    return (out if values.ndim == 2 else out[:, 0]), new_key


def _aggregations(agg, channels: list[str]) -> dict[str, str]:
    if agg is None or isinstance(agg, Mapping):
        chosen = {c: DEFAULT_AGG.get(c, "mean") for c in channels}
        for key, how in (agg or {}).items():
            name = resolve_channel(str(key), strict=False)
            if name is None:
                raise ValueError(f"agg= names {key!r}, which is not a channel; see lsmkit.channel_table()")
            _check_choice(f"agg[{key!r}]", how, _AGGS)
            if name in chosen:
                chosen[name] = how
        return chosen
    if isinstance(agg, str):
        _check_choice("agg", agg, _AGGS)
        return {c: agg for c in channels}
    raise TypeError(f"agg must be a name such as 'mean' or a {{channel: name}} mapping, got {type(agg).__name__}")


def _to_grid(values, key, long, channels, channels_out, names, agg, policy, rows, notes):
    """Aggregate rows to minutes and place them on each participant's per-minute grid.

    ``channels`` are those in the table (the columns of wide ``values``), ``channels_out`` those
    of the result. Returns the ``(participant, time, channel)`` signal and the UTC starts.
    """
    n_all = len(CHANNEL_NAMES)
    group = key["group"].to_numpy()
    codes = group // n_all if long else group
    minute = np.floor_divide(key["t"].to_numpy(), _NS_PER_MINUTE)
    how = _aggregations(agg, channels)

    n_part = len(names)
    first = np.full(n_part, np.iinfo(np.int64).max)
    last = np.full(n_part, np.iinfo(np.int64).min)
    np.minimum.at(first, codes, minute)
    np.maximum.at(last, codes, minute)
    spans = last - first + 1
    n_time = int(spans.max())
    n_chan = len(channels_out)
    if n_part * n_time * n_chan * 4 > _MAX_GRID_BYTES:
        p = int(np.argmax(spans))
        raise ValueError(
            f"participant {names[p]!r} spans {spans[p]} minutes, from {_minute_str(first[p])} to "
            f"{_minute_str(last[p])} "
            f"(UTC); the per-minute grid would need {n_part * n_time * n_chan * 4 / 2**30:.1f} GiB. "
            f"Is there a stray timestamp?"
        )
    signal = np.full((n_part, n_time, n_chan), np.nan, dtype=np.float32)

    column = np.array([channels_out.index(c) for c in channels])  # table channel -> result column
    if long:
        index = np.full(n_all, -1)
        index[[CHANNEL_NAMES.index(c) for c in channels]] = np.arange(len(channels))
        p, m, c, v = _per_minute_long(codes, minute, index[group % n_all], values, channels, how)
        signal[p, m - first[p], column[c]] = v
    else:
        p, m, v = _per_minute_wide(codes, minute, values, channels, how)
        signal[p[:, None], (m - first[p])[:, None], column] = v  # (rows, channels) into (P, T, C)
    _check_sums(signal, channels_out, how, names, first, policy, rows, notes)
    starts = pd.DatetimeIndex((first * _NS_PER_MINUTE).astype("datetime64[ns]")).tz_localize("UTC")
    return signal, starts


def _minute_str(minute: int) -> str:
    return str(np.datetime64(int(minute), "m"))


def _one_per_minute(group: np.ndarray, minute: np.ndarray) -> bool:
    """Sorted rows with at most one per minute and group: nothing to aggregate (per-minute exports)."""
    return bool(np.all((group[1:] != group[:-1]) | (minute[1:] != minute[:-1])))


def _per_minute_wide(codes, minute, values, channels, how):
    if _one_per_minute(codes, minute):
        return codes, minute, values
    frame = pd.DataFrame(values, columns=channels)
    grouped = frame.groupby([codes, minute], sort=False)
    parts = []
    for kind in dict.fromkeys(how.values()):
        cols = [c for c in channels if how[c] == kind]
        parts.append(getattr(grouped[cols], kind)(**({"min_count": 1} if kind == "sum" else {})))
    merged = pd.concat(parts, axis=1)[channels]
    return merged.index.get_level_values(0).to_numpy(), merged.index.get_level_values(1).to_numpy(), merged.to_numpy()


def _per_minute_long(codes, minute, ch_col, values, channels, how):
    if _one_per_minute(codes * len(channels) + ch_col, minute):
        return codes, minute, ch_col, values
    frame = pd.DataFrame({"p": codes, "m": minute, "c": ch_col, "v": values})
    out = []
    for kind in dict.fromkeys(how.values()):
        cols = [j for j, c in enumerate(channels) if how[c] == kind]
        part = frame[np.isin(ch_col, cols)]
        grouped = part.groupby(["p", "m", "c"], sort=False)["v"]
        out.append(getattr(grouped, kind)(**({"min_count": 1} if kind == "sum" else {})))
    merged = pd.concat(out)
    idx = merged.index
    return (idx.get_level_values(0).to_numpy(), idx.get_level_values(1).to_numpy(), idx.get_level_values(2).to_numpy(),
            merged.to_numpy())


def _check_sums(signal, channels, how, names, first, policy, rows, notes) -> None:
    """Summed minutes (steps from per-second counts) must still be physically possible."""
    for j, name in enumerate(channels):
        if how.get(name) != "sum":
            continue
        lo, hi = get_channel(name).valid_range
        with np.errstate(invalid="ignore"):
            bad = (signal[:, :, j] < lo) | (signal[:, :, j] > hi)
        if not bad.any():
            continue
        if policy == "nan":
            signal[:, :, j][bad] = np.nan
            notes.append(
                f"{rows.source}: set {int(bad.sum())} minute(s) of {name} whose sum is outside the physical "
                f"range to NaN"
            )
            continue
        p, t = np.argwhere(bad)[0]
        raise ValueError(
            f"{rows.source}: {name} summed over the minute {_minute_str(first[p] + t)} UTC "
            f"(participant {names[p]!r}) is {signal[p, t, j]:g}, outside its physical range "
            f"[{lo:g}, {hi:g}] {get_channel(name).unit}; are the "
            f"samples counts per sample, not running totals? (on_out_of_range='nan' sets such minutes to NaN)"
        )


