"""Pure figure builders for recordings, window batches and evaluation tables.

Every function here takes a recordings dataset or a window batch (see :mod:`lsmkit.data`), or
the table of :func:`lsmkit.evaluate`, and returns a ``plotly.graph_objects.Figure`` (or the
table behind one). They hold all the plotting logic: the widgets in ``lsmkit.widgets`` only wire
controls to them, and the tests check them directly.
This module never imports ipywidgets or anything from Jupyter.

Days are *local calendar days*: day 0 is the local date of the participant's first minute, and a
day runs from local midnight to local midnight in the participant's ``timezone``, so a recording
that starts at 08:00 has a partial day 0. A participant's recording ends at its last minute with
any value (observed, or ``truth`` behind a gap when the dataset carries it); the NaN padding that
aligns recordings of different lengths is not counted as missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import xarray as xr

from .channels import get_channel, resolve_channel
from .data import validate_recordings, validate_windows

__all__ = ["DEFAULT_CHANNELS", "recording_days", "recording_figure", "missingness_table", "missingness_figure",
           "window_figure", "imputation_figure", "task_error_figure", "training_figure"]

DEFAULT_CHANNELS: tuple[str, ...] = ("heart_rate", "steps", "skin_temperature")

# Colours: one per subplot row (plotly's default qualitative palette), bands in soft tints.
_ROW_COLOURS = ("#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A", "#19D3F3", "#FF6692", "#B6E880")
_BANDS = {
    "sleep": dict(fillcolor="rgba(99, 110, 250, 0.13)", name="sleep"),
    "exercise": dict(fillcolor="rgba(255, 161, 90, 0.25)", name="exercise"),
}
_ROW_GAP = 0.035  # vertical space between subplot rows, as a fraction of the plotting area
# A light look set by hand on the bare "none" template: a named template such as "plotly_white"
# costs ~35 ms of validation per figure, more than the rest of the figure together.
_AXIS_STYLE = dict(showgrid=True, gridcolor="#e6e6e6", linecolor="#888", showline=True, ticks="outside",
                   tickcolor="#888", zeroline=False)
_FONT = dict(family="Helvetica, Arial, sans-serif", size=12, color="#333")


@dataclass(frozen=True)
class _Participant:
    """One participant's slice of the recordings, with its local clock."""

    index: int
    name: str
    zone: str
    local: pd.DatetimeIndex  # local wall-clock time of every minute, (T,)
    length: int  # minutes up to and including the last one with any value

    @property
    def dates(self) -> pd.DatetimeIndex:
        """Local calendar dates from the first to the last recorded minute (midnights)."""
        if self.length == 0:
            return pd.DatetimeIndex([])
        first, last = self.local[0].normalize(), self.local[: self.length].max().normalize()
        return pd.date_range(first, last, freq="D")


def _participant(recordings: xr.Dataset, participant) -> _Participant:
    """Locate ``participant`` (a name, or an integer position) and compute its local clock."""
    validate_recordings(recordings)
    names = list(recordings["participant"].values)
    if participant in names:
        index = names.index(participant)
    elif isinstance(participant, (int, np.integer)) and not isinstance(participant, bool) and -len(names) <= participant < len(names):
        index = int(participant) % len(names)
    else:
        shown = ", ".join(map(repr, names[:10])) + (", ..." if len(names) > 10 else "")
        raise ValueError(
            f"unknown participant {participant!r}; expected one of {shown} "
            f"(or an integer position below {len(names)})"
        )
    one = recordings.isel(participant=index)
    zone = str(one["timezone"].values) if "timezone" in one.coords else "UTC"
    offsets = pd.to_timedelta(one["time"].values, unit="min")
    local = (pd.Timestamp(one["start"].values) + offsets).tz_localize("UTC").tz_convert(zone).tz_localize(None)

    present = np.isfinite(one["signal"].values).any(axis=1)  # (T, C) -> (T,)
    if "truth" in one:
        present |= np.isfinite(one["truth"].values).any(axis=1)
    length = int(np.flatnonzero(present)[-1]) + 1 if present.any() else 0
    return _Participant(index, str(names[index]), zone, local, length)


def _channels(recordings: xr.Dataset, channels, kind: str = "recordings") -> list[str]:
    """Canonical names for ``channels`` (names or aliases), each checked against the dataset."""
    if isinstance(channels, str):
        channels = [channels]
    channels = list(channels)
    if not channels:
        raise ValueError("channels is empty; pass at least one channel name")
    available = list(recordings["channel"].values)
    out = []
    for name in channels:
        canonical = resolve_channel(name, strict=False)
        if canonical is None:
            raise ValueError(
                f"unknown channel {name!r}; expected a canonical name or alias from lsmkit.channel_table(), "
                f"e.g. one of {', '.join(available)}"
            )
        if canonical not in available:
            raise ValueError(f"channel {name!r} ({canonical}) is not in these {kind}; they hold {', '.join(available)}")
        if canonical not in out:
            out.append(canonical)
    return out


def _iso(timestamp) -> str:
    """A naive local timestamp as the ISO string plotly reads as a date, to the minute."""
    return pd.Timestamp(timestamp).strftime("%Y-%m-%dT%H:%M")


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` index pairs of the runs of True in a 1-D boolean array."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def recording_days(recordings: xr.Dataset, participant) -> pd.DatetimeIndex:
    """The local calendar dates that a participant's recording covers.

    Parameters
    ----------
    recordings : xarray.Dataset
        Recordings with dims ``("participant", "time", "channel")``.
    participant : str or int
        A participant name from the ``participant`` coordinate, or an integer position.

    Returns
    -------
    pandas.DatetimeIndex
        One local midnight per day; ``day=k`` in :func:`recording_figure` is element ``k``.

    Raises
    ------
    ValueError
        If ``participant`` is unknown.
    """
    return _participant(recordings, participant).dates


def recording_figure(
    recordings: xr.Dataset,
    participant,
    day: int | None = 0,
    channels: Sequence[str] | str = DEFAULT_CHANNELS,
    show_truth: bool = True,
    height: int | None = None,
) -> go.Figure:
    """One participant's day (or whole recording): one stacked subplot row per channel.

    The x axis is local wall-clock time over the chosen day (midnight to midnight in the
    participant's ``timezone``), or over all days with ``day=None``. Observed values are drawn
    as lines broken wherever the signal is NaN. When the dataset has a ``truth`` variable and
    ``show_truth`` is set, the values behind the gaps are drawn as a faint dotted line in the
    same colour (one minute either side of each gap is included, so that it joins the observed
    line). When per-minute labels are present, sleep (``sleep``) and exercise (``activity``
    other than ``"none"``) are shaded.

    Parameters
    ----------
    recordings : xarray.Dataset
        Recordings with dims ``("participant", "time", "channel")``.
    participant : str or int
        A participant name from the ``participant`` coordinate, or an integer position.
    day : int or None, default 0
        Local calendar day, counted from the participant's first day (see
        :func:`recording_days`); negative values count from the end. ``None`` draws the whole
        recording (a week is about 10,000 points per channel, still quick to draw).
    channels : sequence of str or str, default ``("heart_rate", "steps", "skin_temperature")``
        Channels to draw, top to bottom; canonical names or aliases.
    show_truth : bool, default True
        Draw the ground truth behind gaps (needs a ``truth`` variable).
    height : int, optional
        Figure height in pixels; defaults to 170 per channel plus margins.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces in order: for each channel, the observed trace, then its truth trace if that
        channel has gaps with known truth on this day. Sleep and exercise are ``layout.shapes``
        (exercise bands are labelled with the activity in the one-day view).

    Raises
    ------
    ValueError
        For an unknown participant, a day outside the recording, or an unknown or absent channel.
    """
    part = _participant(recordings, participant)
    names = _channels(recordings, channels)
    in_day, first, last, when = _select_days(part, day)
    local = part.local[in_day]
    one = recordings.isel(participant=part.index, time=in_day)
    signal = one["signal"].sel(channel=names).values  # (T, C)
    truth = one["truth"].sel(channel=names).values if show_truth and "truth" in one else None  # (T, C)

    # A break wherever the wall clock steps back (the repeated hour when daylight saving ends),
    # so that lines do not double back on themselves.
    back = np.flatnonzero(np.diff(local.values) <= np.timedelta64(0, "m")) + 1
    # Millisecond precision: FigureWidget sends datetime64[ns] arrays as integers (no Python
    # datetime holds nanoseconds), coarser ones as dates; strings would cost 10x to validate.
    x = local.values.astype("datetime64[ms]")
    x = np.insert(x, back, x[back - 1]) if len(back) else x

    def broken(values):
        return np.insert(values.astype(float), back, np.nan) if len(back) else values

    clock = "%{x|%H:%M}" if day is not None else "%{x|%a %H:%M}"
    layout, traces = _stacked_axes(names, _iso(first), _iso(last), one_day=day is not None), []
    layout["xaxis" + ("" if len(names) == 1 else str(len(names)))]["title"] = dict(text=f"local time ({part.zone})")
    for row, name in enumerate(names):
        axis, unit = ("" if row == 0 else str(row + 1)), get_channel(name).unit
        common = dict(xaxis=f"x{axis}", yaxis=f"y{axis}", x=x, mode="lines", connectgaps=False, type="scatter")
        colour = _ROW_COLOURS[row % len(_ROW_COLOURS)]
        traces.append(dict(
            common, y=broken(signal[:, row]), name=name, showlegend=False, line=dict(color=colour, width=1.4),
            hovertemplate=f"{clock}  %{{y:.4g}} {unit}<extra>{name}</extra>",
        ))
        gap = np.isnan(signal[:, row]) & np.isfinite(truth[:, row]) if truth is not None else None
        if gap is None or not gap.any():
            continue
        near_gap = gap | np.concatenate([gap[1:], [False]]) | np.concatenate([[False], gap[:-1]])
        traces.append(dict(
            common, y=broken(np.where(near_gap, truth[:, row], np.nan)), name="truth behind gaps",
            legendgroup="truth", showlegend=not any(t.get("legendgroup") == "truth" for t in traces),
            line=dict(color=colour, width=1.2, dash="dot"), opacity=0.55,
            hovertemplate=f"{clock}  truth %{{y:.4g}} {unit}<extra>{name}</extra>",
        ))

    layout.update(
        title=dict(text=f"Participant {part.name} · {when} · {part.zone}", x=0.01, xanchor="left"),
        height=height or 120 + 170 * len(names),
        margin=dict(l=80, r=20, t=60, b=50),
        template="none",
        font=_FONT,
        plot_bgcolor="rgba(0,0,0,0)",  # transparent, so that the sleep/exercise bands show through
        shapes=_label_bands(one, local, label_activities=day is not None),
        legend=dict(orientation="h", x=1, xanchor="right", y=1, yanchor="bottom"),
        hovermode="closest",
    )
    return go.Figure(data=traces, layout=layout)


def _select_days(part: _Participant, day):
    """Minutes (indices into ``part.local``) of ``day``, its local range and a title phrase."""
    dates = part.dates
    if day is None:
        if not len(dates):
            raise ValueError(f"participant {part.name!r} has no recorded value to draw")
        when = f"{dates[0]:%a %d %b} – {dates[-1]:%a %d %b %Y} · {len(dates)} days"
        return np.arange(part.length), dates[0], dates[-1] + pd.Timedelta(days=1), when
    if isinstance(day, (int, np.integer)) and not isinstance(day, bool) and -len(dates) <= day < len(dates):
        first = dates[day]
        in_day = np.flatnonzero(part.local[: part.length].normalize() == first)
        when = f"{first:%a %d %b %Y} · day {day % len(dates)} of days 0–{len(dates) - 1}"
        return in_day, first, first + pd.Timedelta(days=1), when
    raise ValueError(
        f"day {day!r} is out of range for participant {part.name!r}: the recording covers "
        f"{len(dates)} local day(s), so day must be an integer in [0, {len(dates) - 1}] or None"
    )


def _stacked_axes(names: list[str], first: str, last: str, one_day: bool) -> dict:
    """Layout axes for one subplot row per channel, top to bottom, sharing the x axis."""
    n = len(names)
    row_height = (1 - _ROW_GAP * (n - 1)) / n
    layout = {}
    for row, name in enumerate(names):
        axis = "" if row == 0 else str(row + 1)
        top = 1 - row * (row_height + _ROW_GAP)
        layout[f"yaxis{axis}"] = dict(
            domain=[max(top - row_height, 0.0), min(top, 1.0)], anchor=f"x{axis}",
            title=dict(text=f"{name.replace('_', ' ')}<br>({get_channel(name).unit})", font=dict(size=12)),
            **_AXIS_STYLE,
        )
        layout[f"xaxis{axis}"] = dict(
            anchor=f"y{axis}", matches=None if row == 0 else "x", showticklabels=row == n - 1,
            range=[first, last], tickformat="%H:%M" if one_day else "%a %d %b", **_AXIS_STYLE,
        )
    return layout


def _label_bands(one: xr.Dataset, local: pd.DatetimeIndex, label_activities: bool) -> list[dict]:
    """Shaded full-height rectangles for sleep and exercise minutes, from per-minute labels."""
    bands = {}
    if "sleep" in one:
        bands["sleep"] = (np.asarray(one["sleep"].values) == 1, None)
    if "activity" in one:
        codes = np.asarray(one["activity"].values)
        bands["exercise"] = (codes > 0, codes)
    meanings = one["activity"].attrs.get("flag_meanings", "").split() if "activity" in one else []
    shapes = []
    for kind, (flags, codes) in bands.items():
        for start, stop in _runs(flags):
            label = {}
            if codes is not None and label_activities:
                code = int(np.bincount(codes[start:stop].astype(np.int64)).argmax())
                text = meanings[code] if code < len(meanings) else str(code)
                label = {"label": dict(text=text, textposition="top center", font=dict(size=10, color="#9a4a00"))}
            shapes.append(dict(
                type="rect", xref="x", yref="paper", y0=0, y1=1, layer="below", line=dict(width=0),
                x0=_iso(local[start]), x1=_iso(local[stop - 1] + pd.Timedelta(minutes=1)), **_BANDS[kind],
                legendgroup=kind, showlegend=not any(s["legendgroup"] == kind for s in shapes), **label,
            ))
    return shapes


def missingness_table(recordings: xr.Dataset, participant=None) -> pd.DataFrame:
    """Missing fraction per channel, per participant or per local day of one participant.

    Parameters
    ----------
    recordings : xarray.Dataset
        Recordings with dims ``("participant", "time", "channel")``.
    participant : str or int, optional
        Without it: one column per participant, over that participant's whole recording.
        With it: one column per local calendar day of that participant (labelled by date).

    Returns
    -------
    pandas.DataFrame
        Fractions in [0, 1], indexed by channel. A channel the data never carries has 1.0.

    Raises
    ------
    ValueError
        If ``participant`` is unknown.
    """
    validate_recordings(recordings)
    if participant is None:
        columns = {}
        for index in range(recordings.sizes["participant"]):
            part = _participant(recordings, index)
            values = recordings["signal"].isel(participant=index, time=slice(0, part.length)).values
            columns[part.name] = np.isnan(values).mean(axis=0) if part.length else np.ones(values.shape[1])
        table = pd.DataFrame(columns, index=recordings["channel"].values)
        table.columns.name = "participant"
    else:
        part = _participant(recordings, participant)
        values = recordings["signal"].isel(participant=part.index, time=slice(0, part.length)).values
        dates = part.local[: part.length].normalize()
        table = pd.DataFrame(np.isnan(values), columns=recordings["channel"].values).groupby(dates.values).mean().T
        table.columns = pd.DatetimeIndex(table.columns).date
        table.columns.name = "date"
    table.index.name = "channel"
    return table


def missingness_figure(recordings: xr.Dataset, participant=None, channels: Sequence[str] | None = None) -> go.Figure:
    """Heatmap of the missing fraction per channel per participant, or per day of one participant.

    Parameters
    ----------
    recordings : xarray.Dataset
        Recordings with dims ``("participant", "time", "channel")``.
    participant : str or int, optional
        Without it, one column per participant; with it, one column per local day of that
        participant (see :func:`missingness_table`).
    channels : sequence of str, optional
        Restrict to these channels (names or aliases); default all channels in the dataset.

    Returns
    -------
    plotly.graph_objects.Figure
        One ``Heatmap`` trace: ``z`` has shape (channels, columns), values in [0, 1].

    Raises
    ------
    ValueError
        For an unknown participant or an unknown or absent channel.
    """
    table = missingness_table(recordings, participant)
    if channels is not None:
        table = table.loc[_channels(recordings, channels)]
    if participant is None:
        columns = [str(c) for c in table.columns]
        xtitle, title = "participant", "Missing fraction per channel and participant"
    else:
        columns = [f"{d:%a %d %b}" for d in table.columns]
        xtitle = "local date"
        title = f"Missing fraction per channel and day · participant {_participant(recordings, participant).name}"
    heatmap = go.Heatmap(
        z=table.values, x=columns, y=list(table.index), zmin=0, zmax=1, colorscale="Blues",
        colorbar=dict(title=dict(text="missing"), tickformat=".0%"),
        hovertemplate="%{y} · %{x}<br>missing %{z:.1%}<extra></extra>",
        texttemplate="%{z:.0%}" if table.size <= 400 else None, textfont=dict(size=9),
        xgap=1, ygap=1,
    )
    layout = dict(
        title=dict(text=title, x=0.01, xanchor="left"),
        xaxis=dict(title=dict(text=xtitle), type="category", side="bottom"),
        yaxis=dict(autorange="reversed", type="category", automargin=True),
        height=140 + 20 * len(table.index),
        margin=dict(l=20, r=20, t=60, b=60),
        template="none",
        font=_FONT,
    )
    return go.Figure(data=[heatmap], layout=layout)


_METHOD_COLOURS = ("#EF553B", "#00CC96", "#AB63FA", "#FFA15A", "#19D3F3", "#FF6692")


def window_figure(
    windows: xr.Dataset,
    window: int = 0,
    fills: dict[str, xr.Dataset] | None = None,
    mask: xr.DataArray | None = None,
    channels: Sequence[str] | str = DEFAULT_CHANNELS,
    height: int | None = None,
) -> go.Figure:
    """One window, one stacked row per channel: what the model saw, what was hidden, each fill.

    Hidden observed values (the truth a method is scored against) are black; the hidden span is shaded.

    Parameters
    ----------
    windows : xarray.Dataset
        A window batch.
    window : int, default 0
        Position of the window in the batch (negative counts from the end).
    fills : dict of str to xarray.Dataset, optional
        Method name to a Dataset shaped like ``windows`` (e.g. the output of ``model.impute``);
        fills are drawn only where ``mask`` hides values.
    mask : xarray.DataArray, optional
        Boolean ``(window, time, channel)`` mask, ``True`` where values were hidden.
    channels : str or sequence of str, default DEFAULT_CHANNELS
        Channels to draw, one row each (any alias :func:`lsmkit.resolve_channel` knows).
    height : int, optional
        Figure height in pixels; by default it grows with the number of rows.

    Returns
    -------
    plotly.graph_objects.Figure

    Raises
    ------
    ValueError
        If ``window`` is out of range or a channel is not in ``windows``.
    """
    fills = fills or {}
    if not isinstance(window, (int, np.integer)) or not -windows.sizes["window"] <= window < windows.sizes["window"]:
        raise ValueError(f"window {window!r} is out of range: the batch has {windows.sizes['window']} windows")
    names = [resolve_channel(c) for c in ([channels] if isinstance(channels, str) else channels)]
    absent = [c for c in names if c not in windows["channel"].values]
    if absent:
        raise ValueError(f"channels {absent} are not in these windows")
    one = windows.isel(window=window)
    observed = one["signal"].sel(channel=names).transpose("time", "channel").values  # (T, C)
    hidden = (mask.isel(window=window).sel(channel=names).transpose("time", "channel").values
              if mask is not None else np.zeros_like(observed, dtype=bool))
    minutes = one["time"].values
    layout, traces = _stacked_axes(names, 0, int(minutes[-1]) + 1, one_day=False), []
    for row, name in enumerate(names):
        axis, unit = ("" if row == 0 else str(row + 1)), get_channel(name).unit
        layout[f"xaxis{axis}"].update(tickformat="", range=[0, int(minutes[-1]) + 1])
        common = dict(xaxis=f"x{axis}", yaxis=f"y{axis}", x=minutes, type="scatter", mode="lines")
        traces.append(dict(common, y=np.where(hidden[:, row], np.nan, observed[:, row]), name="seen by the model",
                           legendgroup="seen", showlegend=row == 0, line=dict(color="#636EFA", width=1.4)))
        if hidden[:, row].any():
            traces.append(dict(common, y=np.where(hidden[:, row], observed[:, row], np.nan), name="hidden (truth)",
                               legendgroup="hidden", showlegend=row == 0, line=dict(color="black", width=1.4)))
        for k, (method, filled) in enumerate(fills.items()):
            values = filled["signal"].isel(window=window).sel(channel=name).values
            traces.append(dict(common, y=np.where(hidden[:, row], values, np.nan), name=method, legendgroup=method,
                               showlegend=row == 0,
                               line=dict(color=_METHOD_COLOURS[k % len(_METHOD_COLOURS)], width=1.6, dash="dash"),
                               hovertemplate=f"minute %{{x}}  %{{y:.4g}} {unit}<extra>{method}</extra>"))
    last = "xaxis" + ("" if len(names) == 1 else str(len(names)))
    layout[last]["title"] = dict(text="minute of the window")
    start = pd.Timestamp(one["start"].values)
    layout.update(
        title=dict(text=f"Window {window} · participant {one['participant'].item()} · starts {start:%a %d %b %Y %H:%M} UTC",
                   x=0.01, xanchor="left"),
        height=height or 120 + 170 * len(names), margin=dict(l=80, r=20, t=60, b=50), template="none",
        font=_FONT, legend=dict(orientation="h", x=1, xanchor="right", y=1, yanchor="bottom"),
        shapes=[dict(type="rect", xref=f"x{row + 1 if row else ''}", yref=f"y{row + 1 if row else ''} domain",
                     x0=int(s), x1=int(e), y0=0, y1=1,
                     line_width=0, fillcolor="rgba(0,0,0,0.07)", layer="below")  # each row's hidden span
                for row in range(len(names)) for s, e in _runs(hidden[:, row])],
    )
    return go.Figure(data=traces, layout=layout)


# ---- imputation and the comparison of methods -----------------------------------------------------
_SEEN_COLOUR, _TRUTH_COLOUR = "#636EFA", "black"
_MAX_DEFAULT_CHANNELS = 4
# Tie-break for the default channels of imputation_figure: one from each of the main sensors first.
_PREFERRED = ("heart_rate", "steps", "skin_temperature", "scl", "rmssd")
_WINDOW_DIMS = ("window", "time", "channel")


def _window_position(windows: xr.Dataset, window) -> int:
    n = windows.sizes["window"]
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or not -n <= window < n:
        raise ValueError(f"window {window!r} is out of range: the batch has {n} windows (positions 0 to {n - 1})")
    return int(window) % n


def _one_window_mask(mask, windows: xr.Dataset, window: int) -> np.ndarray:
    """The ``(T, C)`` boolean mask of one window, channels in the windows' order."""
    if not isinstance(mask, xr.DataArray) or mask.dtype != bool:
        raise TypeError(f"mask must be a boolean xarray.DataArray (see lsmkit.masks), got {type(mask).__name__}")
    if set(mask.dims) != set(_WINDOW_DIMS):
        raise ValueError(f"mask must have dims {_WINDOW_DIMS}, got {mask.dims}")
    mask = mask.transpose(*_WINDOW_DIMS)
    available = list(windows["channel"].values)
    if "channel" in mask.coords:  # align by name, as the model and the baselines do
        unknown = [c for c in mask["channel"].values if c not in available]
        if unknown:
            raise ValueError(f"mask has channels {unknown} that are not in the windows; they hold {', '.join(available)}")
        mask = mask.reindex(channel=available, fill_value=False)
    expected = tuple(windows.sizes[d] for d in _WINDOW_DIMS)
    if mask.shape != expected:
        raise ValueError(f"mask shape {mask.shape} differs from the windows' {expected} (window, time, channel)")
    return mask.values[window]


def _default_channels(names: list[str], observed: np.ndarray, hidden: np.ndarray) -> list[str]:
    """Up to four channels worth showing: hidden and observed first, whole hidden channels before
    partly hidden ones, then one of each main sensor (``_PREFERRED``), then registry order."""
    scored = (hidden & ~np.isnan(observed)).any(axis=0)  # (T, C) -> (C,)
    whole = hidden.all(axis=0) & scored
    present = ~np.isnan(observed).all(axis=0)
    rank = [_PREFERRED.index(c) if c in _PREFERRED else len(_PREFERRED) + i for i, c in enumerate(names)]
    order = np.lexsort((rank, ~present, ~whole, ~scored))  # last key sorts first
    keep = [names[i] for i in order if scored[i]] or [names[i] for i in order if present[i]] or names
    return keep[:_MAX_DEFAULT_CHANNELS]


def imputation_figure(
    windows: xr.Dataset,
    mask: xr.DataArray,
    fills: dict[str, xr.Dataset] | None,
    window: int = 0,
    channels: Sequence[str] | str | None = None,
    height: int | None = None,
) -> go.Figure:
    """One window, one row per channel: what a method saw, the hidden truth, and each method's fill.

    Parameters
    ----------
    windows : xarray.Dataset
        A window batch (dims ``("window", "time", "channel")``, NaN where nothing was measured).
    mask : xarray.DataArray
        Boolean task mask of the batch's shape, True where hidden (see :mod:`lsmkit.masks`);
        aligned to ``windows`` by channel name when it has a ``channel`` coordinate.
    fills : dict of str to xarray.Dataset, or None
        Method name -> the batch as that method filled it (e.g. ``model.impute(windows, mask)``).
        Each fill is drawn only over the hidden minutes.
    window : int, default 0
        Position of the window in the batch.
    channels : sequence of str or str, optional
        Channels to draw, top to bottom (names or aliases). By default up to four informative
        ones: channels the mask hides where something was measured, whole hidden channels (the
        sensors task) first; ties go to heart rate, steps, skin temperature, skin conductance.
    height : int, optional
        Figure height in pixels; 150 per row plus margins by default.

    Returns
    -------
    plotly.graph_objects.Figure
        For every row, in order: ``"observed"`` (visible values, NaN where hidden or missing),
        ``"hidden (truth)"`` (the observed values the mask hid: what fills are scored against),
        then one dashed trace per method in ``fills`` (its values on hidden minutes, NaN
        elsewhere). Every row has all of them, so the trace count is rows x (2 + methods); legend
        entries come from the first row. Each run of hidden minutes is a shaded
        ``layout.shapes`` rectangle on its row. y axes are titled with units.

    Raises
    ------
    ValueError
        For a window out of range, a mask or fill of the wrong shape, or an unknown or absent
        channel. ``TypeError`` if ``mask`` is not a boolean DataArray.
    """
    validate_windows(windows)
    window = _window_position(windows, window)
    hidden_all = _one_window_mask(mask, windows, window)  # (T, C)
    available = list(windows["channel"].values)
    signal = windows["signal"].values[window]  # (T, C): validate_windows fixed the dim order
    if channels is None:
        names = _default_channels(available, signal, hidden_all)
    else:
        names = _channels(windows, channels, kind="windows")
    columns = [available.index(c) for c in names]
    observed, hidden = signal[:, columns], hidden_all[:, columns]  # (T, C) -> (T, rows)
    filled = {}
    for method, ds in (fills or {}).items():
        if not isinstance(ds, xr.Dataset) or "signal" not in ds:
            raise ValueError(f"fill {method!r} must be a Dataset with a 'signal' variable, got {type(ds).__name__}")
        values = ds["signal"]
        if values.sizes.get("window") != windows.sizes["window"] or values.sizes.get("time") != windows.sizes["time"]:
            raise ValueError(f"fill {method!r} has sizes {dict(values.sizes)}; expected those of the windows, "
                             f"{dict(windows['signal'].sizes)}")
        where = values.get_index("channel").get_indexer(names)  # positions by name: fills may hold other channels
        if (where < 0).any():
            raise ValueError(f"fill {method!r} lacks channels {[c for c, i in zip(names, where) if i < 0]}")
        filled[method] = values.transpose(*_WINDOW_DIMS).values[window][:, where]  # (W, T, C) -> (T, rows)

    minutes = windows["time"].values
    end = int(minutes[-1]) + 1
    layout, traces = _stacked_axes(names, 0, end, one_day=False), []
    for row, name in enumerate(names):
        axis, unit = ("" if row == 0 else str(row + 1)), get_channel(name).unit
        layout[f"xaxis{axis}"].update(tickformat="", range=[0, end])
        common = dict(type="scatter", mode="lines", xaxis=f"x{axis}", yaxis=f"y{axis}", x=minutes, showlegend=row == 0)
        on, off = hidden[:, row], ~hidden[:, row]
        traces.append(dict(common, name="observed", legendgroup="observed", y=np.where(off, observed[:, row], np.nan),
                           line=dict(color=_SEEN_COLOUR, width=1.4),
                           hovertemplate=f"minute %{{x}}  %{{y:.4g}} {unit}<extra>{name}</extra>"))
        traces.append(dict(common, name="hidden (truth)", legendgroup="hidden", y=np.where(on, observed[:, row], np.nan),
                           line=dict(color=_TRUTH_COLOUR, width=1.4),
                           hovertemplate=f"minute %{{x}}  truth %{{y:.4g}} {unit}<extra>{name}</extra>"))
        for k, (method, values) in enumerate(filled.items()):
            traces.append(dict(common, name=method, legendgroup=method, y=np.where(on, values[:, row], np.nan),
                               line=dict(color=_METHOD_COLOURS[k % len(_METHOD_COLOURS)], width=1.6, dash="dash"),
                               hovertemplate=f"minute %{{x}}  %{{y:.4g}} {unit}<extra>{method}</extra>"))
    last = "xaxis" + ("" if len(names) == 1 else str(len(names)))
    layout[last]["title"] = dict(text="minute of the window")
    one = windows.isel(window=window)
    n_hidden = int(hidden_all.sum())
    title = (f"Window {one['window'].item()} · participant {one['participant'].item()} · "
             f"{pd.Timestamp(one['start'].values):%a %d %b %Y %H:%M} · {n_hidden} of {hidden_all.size} values hidden")
    layout.update(
        # the title at the top, the legend (which may wrap) on its own line between title and plot
        title=dict(text=title, x=0.01, xanchor="left", y=1, yref="container", yanchor="top", pad=dict(t=12),
                   font=dict(size=14)),
        height=height or 130 + 150 * len(names), margin=dict(l=80, r=20, t=95, b=50), template="none",
        font=_FONT, legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom"), hovermode="closest",
        shapes=[dict(type="rect", xref=f"x{row + 1 if row else ''}", yref=f"y{row + 1 if row else ''} domain",
                     x0=int(minutes[s]), x1=int(minutes[e - 1]) + 1, y0=0, y1=1,
                     line_width=0, fillcolor="rgba(0,0,0,0.07)", layer="below")  # each row's hidden spans
                for row in range(len(names)) for s, e in _runs(hidden[:, row])],
    )
    return go.Figure(data=traces, layout=layout)


# Panels in the paper's order; per task: x axis title and how a size reads as a category.
_TASKS = {
    "random": ("share of patches hidden", lambda size: f"{float(size):.0%}"),
    "interpolation": ("minutes hidden", lambda size: f"{int(size)}"),
    "extrapolation": ("minutes forecast", lambda size: f"{int(size)}"),
    "sensors": ("channels hidden", lambda size: f"{int(size)}"),
    "gaps": ("the device's own gaps", lambda size: "all gaps"),
}
_PANEL_GAP = 0.05  # horizontal space between panels, as a fraction of the plotting area


def _size_key(size) -> tuple[int, float]:
    """Sort numeric sizes ascending; a task without sizes (``None``, NaN) last."""
    return (1, 0.0) if size is None or size != size else (0, float(size))


def task_error_figure(table: pd.DataFrame, log_y: bool = False, height: int = 380) -> go.Figure:
    """The paper's comparison: MSE against mask size, one panel per task, one line per method.

    Parameters
    ----------
    table : pandas.DataFrame
        The tidy table of :func:`lsmkit.evaluate`: columns ``task``, ``size``, ``method``,
        ``mse``, ``mse_low``, ``mse_high`` (others are ignored).
    log_y : bool, default False
        Logarithmic MSE axes (useful when methods differ by orders of magnitude).
    height : int, default 380
        Figure height in pixels.

    Returns
    -------
    plotly.graph_objects.Figure
        Panels left to right in the order random, interpolation, extrapolation, sensors, gaps
        (then any other task, in table order), each with a categorical x axis of sizes in
        increasing order. One ``lines+markers`` trace per method and panel, in table order,
        with asymmetric error bars from ``mse_low`` to ``mse_high``; a method keeps its colour
        in every panel and has one legend entry. Panel titles are ``layout.annotations``.

    Raises
    ------
    ValueError
        If columns are missing or the table is empty.
    """
    required = ["task", "size", "method", "mse", "mse_low", "mse_high"]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks columns {missing}; expected the table of lsmkit.evaluate with {required}")
    if table.empty:
        raise ValueError("table is empty: evaluate at least one method on one task first")
    present = list(dict.fromkeys(table["task"]))
    tasks = [t for t in _TASKS if t in present] + [t for t in present if t not in _TASKS]
    methods = list(dict.fromkeys(table["method"]))
    palette = _METHOD_COLOURS + ("#636EFA", "#B6E880", "#FF97FF", "#FECB52")
    colours = {m: palette[i % len(palette)] for i, m in enumerate(methods)}
    width = (1 - _PANEL_GAP * (len(tasks) - 1)) / len(tasks)
    layout, traces, annotations = {}, [], []
    for i, task in enumerate(tasks):
        axis = "" if i == 0 else str(i + 1)
        xtitle, label = _TASKS.get(task, ("size", str))
        rows = table[table["task"] == task]
        sizes = sorted(dict.fromkeys(rows["size"]), key=_size_key)
        categories = [label(s) for s in sizes]
        left = i * (width + _PANEL_GAP)
        layout[f"xaxis{axis}"] = dict(domain=[left, min(left + width, 1.0)], anchor=f"y{axis}", type="category",
                                      categoryorder="array", categoryarray=categories,
                                      title=dict(text=xtitle), **_AXIS_STYLE)
        layout[f"yaxis{axis}"] = dict(anchor=f"x{axis}", type="log" if log_y else "linear",
                                      rangemode="normal" if log_y else "tozero",
                                      title=dict(text="MSE (z-scored)" if i == 0 else ""), **_AXIS_STYLE)
        annotations.append(dict(text=f"<b>{task}</b>", x=left + width / 2, y=1.0, xref="paper", yref="paper",
                                xanchor="center", yanchor="bottom", showarrow=False, font=dict(size=13)))
        for method in methods:
            one = rows[rows["method"] == method]
            if one.empty:
                continue
            one = one.iloc[sorted(range(len(one)), key=lambda k: _size_key(one["size"].iloc[k]))]
            mse, low, high = (one[c].to_numpy(dtype=float) for c in ("mse", "mse_low", "mse_high"))
            traces.append(dict(
                type="scatter", mode="lines+markers", xaxis=f"x{axis}", yaxis=f"y{axis}",
                x=[label(s) for s in one["size"]], y=mse, name=method, legendgroup=method,
                showlegend=not any(t["legendgroup"] == method for t in traces),
                line=dict(color=colours[method], width=1.6), marker=dict(color=colours[method], size=7),
                error_y=dict(type="data", symmetric=False, array=high - mse, arrayminus=mse - low,
                             color=colours[method], thickness=1.2, width=4),
                customdata=np.stack([low, high], axis=1),
                hovertemplate=f"{task} %{{x}}<br>MSE %{{y:.3f}} [%{{customdata[0]:.3f}}, %{{customdata[1]:.3f}}]"
                              f"<extra>{method}</extra>",
            ))
    layout.update(
        title=dict(text="Error by task and mask size (z-scored MSE, 95% bootstrap interval)", x=0.01, xanchor="left"),
        annotations=annotations, height=height, margin=dict(l=70, r=20, t=90, b=60), template="none", font=_FONT,
        legend=dict(orientation="h", x=1, xanchor="right", y=1.12, yanchor="bottom"), hovermode="closest",
    )
    return go.Figure(data=traces, layout=layout)


def training_figure(history: Sequence[dict]) -> go.Figure:
    """Validation MSE per task (z-scored) against training step, from a training history.

    Parameters
    ----------
    history : sequence of dict
        The rows a training run logs (``step`` and one ``val_<task>`` key per task), as in
        ``history.jsonl`` of a run folder.

    Returns
    -------
    plotly.graph_objects.Figure

    Raises
    ------
    ValueError
        If ``history`` is empty.
    """
    if not history:
        raise ValueError("history is empty: train for at least one validation interval first")
    frame = pd.DataFrame(history)
    tasks = [c for c in frame.columns if c.startswith("val_")]
    traces = [go.Scatter(x=frame["step"], y=frame[t], mode="lines+markers", name=t[4:]) for t in tasks]
    layout = dict(template="none", font=_FONT, height=360, margin=dict(l=70, r=20, t=50, b=50),
                  title=dict(text="Validation MSE on held-out participants (z-scored)", x=0.01, xanchor="left"),
                  xaxis=dict(title="step", **_AXIS_STYLE), yaxis=dict(title="MSE", **_AXIS_STYLE))
    return go.Figure(data=traces, layout=layout)
