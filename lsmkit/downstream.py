"""Labelled window batches for downstream tasks: exercise detection, activity recognition, age.

The paper's discriminative tasks use 300-minute windows around logged events. Here:

======================  ===================================================================
``session_windows``     one window around every exercise session (its position in the
                        window drawn at random) plus windows without exercise as negatives
``task_windows``        the windows and a categorical ``label`` for one named task
                        (:data:`TASKS`): ``"exercise"``, ``"activity"`` or ``"age"``
``evaluation_cohort``   simulated participants that no pretraining run has seen
``labelled_windows``    your own labels: windows cut at (participant, start) rows of a table
======================  ===================================================================

Class balance follows the simulator, which follows the paper: walking is about half of the
sessions, swimming about one in twenty-five.

Participants for evaluation must not be those an encoder was pretrained on. lsmkit simulates
people from three seed streams: pretraining (:mod:`lsmkit.train`) chunk ``k`` of a run with seed
``s`` from ``SeedSequence([s, 1, k])``, its validation set from ``SeedSequence([s, 9])``, and a
sweep's training set (:mod:`lsmkit.sweep`) from ``SeedSequence([s, 20])``.
:func:`evaluation_cohort` draws from ``SeedSequence([seed, EVALUATION_STREAM, k])`` with a second
word no other stream uses (numpy pads shorter entropy with zeros, so only that word separates
streams; seeds are limited to 32 bits so they cannot spill into it) and names its participants
``E000``, ``E001``, ... so they never coincide with a pretraining or sweep participant.
"""

from __future__ import annotations

import math
import numbers
import re
import warnings

import numpy as np
import pandas as pd
import xarray as xr

from .data import categorical, cut_windows, validate_recordings, validate_windows
from .labels import AGE_BINS, EXERCISES, MIN_EXERCISE_MINUTES, age_bin
from .simulator import simulate

__all__ = ["TASKS", "EVALUATION_STREAM", "evaluation_cohort", "sessions", "session_windows", "task_windows",
           "labelled_windows"]

#: Downstream tasks by name, with their class names.
TASKS: dict[str, tuple[str, ...]] = {
    "exercise": ("no_exercise", "exercise"),
    "activity": EXERCISES,
    "age": tuple(name for name, _, _ in AGE_BINS),
}
#: The second word of every evaluation cohort's seed; pretraining uses 1 (chunks) and 9
#: (validation), sweeps 20 (training sets).
EVALUATION_STREAM = 41


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _is_whole(value) -> bool:
    """A whole number (an int, or a float such as 3.0); not a bool, NaN, inf or a string."""
    return _is_real(value) and math.isfinite(value) and int(value) == value


def evaluation_cohort(n_participants: int = 64, days: int = 14, seed: int = 0, *, chunk: int = 16) -> xr.Dataset:
    """Simulated recordings of participants kept out of every pretraining run.

    Simulated ``chunk`` participants at a time (chunk ``k`` from
    ``SeedSequence([seed, EVALUATION_STREAM, k])``), so a cohort's first participants do not depend
    on its size beyond their chunk.

    Parameters
    ----------
    n_participants : int, default 64
        Number of participants.
    days : int, default 14
        Days simulated per participant.
    seed : int, default 0
        Seed, an integer in [0, 2**32).
    chunk : int, default 16
        Participants simulated at a time.

    Returns
    -------
    xarray.Dataset
        The recordings; participants are named ``E000``, ``E001``, ...

    Raises
    ------
    ValueError
        If ``n_participants`` or ``chunk`` is not a positive integer, or ``seed`` is not an integer
        in [0, 2**32).

    Examples
    --------
    >>> cohort = evaluation_cohort(32, days=7)
    >>> windows = task_windows(session_windows(cohort, rng=0), "activity")
    """
    if not _is_whole(n_participants) or n_participants < 1:
        raise ValueError(f"n_participants must be a positive integer, got {n_participants!r}")
    if not _is_whole(chunk) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
    if not _is_whole(seed) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    parts = []
    for k, first in enumerate(range(0, int(n_participants), int(chunk))):
        size = min(int(chunk), int(n_participants) - first)
        parts.append(simulate(size, days, seed=np.random.SeedSequence([seed, EVALUATION_STREAM, k])))
    cohort = xr.concat(parts, dim="participant") if len(parts) > 1 else parts[0]
    return cohort.assign_coords(participant=[f"E{i:03d}" for i in range(cohort.sizes["participant"])])


def sessions(recordings: xr.Dataset) -> pd.DataFrame:
    """Exercise sessions: runs of one exercise class in the per-minute ``activity`` label.

    Parameters
    ----------
    recordings : xarray.Dataset
        Recordings with a per-minute ``activity`` label.

    Returns
    -------
    pandas.DataFrame
        One row per session with ``participant`` (integer position), ``first`` and ``end``
        (minutes, end exclusive) and ``activity`` (code, 1-8).

    Raises
    ------
    ValueError
        If the recordings are invalid or have no ``activity`` label.
    """
    validate_recordings(recordings)
    if "activity" not in recordings:
        raise ValueError("recordings have no per-minute 'activity' label; variables: "
                         f"{sorted(recordings.data_vars)}")
    activity = np.asarray(recordings["activity"].transpose("participant", "time").values, dtype=np.int64)
    rows = []
    for p, codes in enumerate(activity):
        edges = np.flatnonzero(np.diff(codes)) + 1
        first, end = np.r_[0, edges], np.r_[edges, len(codes)]
        keep = codes[first] > 0
        rows.append(pd.DataFrame({"participant": p, "first": first[keep], "end": end[keep],
                                  "activity": codes[first[keep]]}))
    return pd.concat(rows, ignore_index=True)


def _missing_minutes(recordings: xr.Dataset) -> np.ndarray:
    """Cumulative missing values per participant, (P, T+1), over the channels the recordings carry,
    normalised so that ``cum[p, b] - cum[p, a]`` is the missing fraction of minutes ``[a, b)``
    times ``b - a``."""
    present = recordings["signal"].notnull().any(("participant", "time")).values
    per_minute = recordings["signal"].isel(channel=np.flatnonzero(present)).isnull().sum("channel")
    per_minute = per_minute.transpose("participant", "time").values / present.sum()  # (P, T)
    return np.concatenate([np.zeros((len(per_minute), 1)), np.cumsum(per_minute, axis=1)], axis=1)


def session_windows(recordings: xr.Dataset, minutes: int = 300, *, negatives: float = 1.0,
                    max_missing: float = 0.5, rng=None) -> xr.Dataset:
    """Windows around exercise sessions, and windows without exercise as negatives.

    Each session that fits in a window and lasts at least
    :data:`lsmkit.labels.MIN_EXERCISE_MINUTES` gets one ``minutes``-long window that contains it
    whole, its offset in the window drawn uniformly. Recordings without a single such session give
    an empty batch, with a warning.

    Parameters
    ----------
    recordings : xarray.Dataset
        Recordings with a per-minute ``activity`` label.
    minutes : int, default 300
        Window length, between :data:`lsmkit.labels.MIN_EXERCISE_MINUTES` and the recording length.
    negatives : float, default 1.0
        This many times as many windows without a single exercise minute are drawn per participant
        (at random 10-minute-aligned starts).
    max_missing : float, default 0.5
        Windows whose missing fraction exceeds this are dropped.
    rng : int or numpy.random.Generator, optional
        Source of the session offsets and negative starts.

    Returns
    -------
    xarray.Dataset
        The window batch, ordered by participant and start. The per-window labels ``exercise`` and
        ``dominant_activity`` and per-participant ones such as ``age`` come along (see
        :func:`lsmkit.to_windows`).

    Raises
    ------
    ValueError
        If the recordings are invalid or lack ``activity``, ``max_missing`` is not in [0, 1],
        ``negatives`` is negative or infinite, or ``minutes`` is out of range.
    """
    validate_recordings(recordings)
    if not (_is_real(max_missing) and 0.0 <= max_missing <= 1.0):
        raise ValueError(f"max_missing must be a fraction in [0, 1], got {max_missing!r}")
    if not (_is_real(negatives) and 0 <= negatives < np.inf):
        raise ValueError(f"negatives must be a non-negative ratio, got {negatives!r}")
    n_time = recordings.sizes["time"]
    if not _is_whole(minutes) or not MIN_EXERCISE_MINUTES <= minutes <= n_time:
        raise ValueError(f"minutes must be an integer in [{MIN_EXERCISE_MINUTES}, {n_time}] (an exercise window "
                         f"holds at least {MIN_EXERCISE_MINUTES} exercise minutes; {n_time} is the recording "
                         f"length), got {minutes!r}")
    minutes, rng = int(minutes), np.random.default_rng(rng)
    table = sessions(recordings)
    length = table["end"] - table["first"]
    # too short to make an exercise window (labels.window_labels), or too long to fit in one
    table = table[(length >= MIN_EXERCISE_MINUTES) & (length <= minutes)]
    lo = np.maximum(table["end"].to_numpy() - minutes, 0)
    hi = np.minimum(table["first"].to_numpy(), n_time - minutes)
    p_pos = table["participant"].to_numpy()
    first_pos = lo + np.floor(rng.random(len(table)) * (hi - lo + 1)).astype(np.int64)

    activity = np.asarray(recordings["activity"].transpose("participant", "time").values) > 0  # (P, T)
    cum = np.concatenate([np.zeros((len(activity), 1)), np.cumsum(activity, axis=1)], axis=1)
    starts = np.arange(0, n_time - minutes + 1, 10)
    missing = _missing_minutes(recordings)
    p_neg, first_neg = [], []
    for p in range(recordings.sizes["participant"]):
        quiet = starts[(cum[p, starts + minutes] - cum[p, starts]) == 0]
        quiet = quiet[(missing[p, quiet + minutes] - missing[p, quiet]) / minutes <= max_missing]
        n = min(len(quiet), int(round(negatives * np.sum(p_pos == p))))
        p_neg.append(np.full(n, p))
        first_neg.append(np.sort(rng.choice(quiet, size=n, replace=False)))

    p_idx = np.concatenate([p_pos, *p_neg]).astype(np.int64)
    first = np.concatenate([first_pos, *first_neg]).astype(np.int64)
    keep = (missing[p_idx, first + minutes] - missing[p_idx, first]) / minutes <= max_missing
    order = np.lexsort((first[keep], p_idx[keep]))
    if not keep.any():
        warnings.warn(f"no exercise session of {MIN_EXERCISE_MINUTES} to {minutes} minutes fits a window with at "
                      f"most {max_missing:.0%} missing values in these recordings: the result has no windows",
                      stacklevel=2)
    out = cut_windows(recordings, p_idx[keep][order], first[keep][order], minutes)
    out.attrs.update(window_placement="around exercise sessions", negatives=float(negatives),
                     max_missing=float(max_missing))
    return out


def task_windows(windows: xr.Dataset, task: str) -> xr.Dataset:
    """The windows of one downstream task with its categorical ``label`` (names in :data:`TASKS`).

    A task left with no windows warns and returns them empty.

    Parameters
    ----------
    windows : xarray.Dataset
        A window batch with the per-window variable the task reads.
    task : {"exercise", "activity", "age"}
        ``"exercise"``: every window, labelled by the ``exercise`` flag. ``"activity"``: exercise
        windows only, labelled by their dominant class (8 classes). ``"age"``: every window,
        labelled by its participant's age bin (needs an ``age`` variable).

    Returns
    -------
    xarray.Dataset
        The task's windows with a categorical per-window ``label``.

    Raises
    ------
    ValueError
        If the windows are invalid, the task is unknown, or the variable the task reads is absent,
        not per-window, or missing for some windows (those windows are refused).
    """
    validate_windows(windows)
    if not isinstance(task, str) or task not in TASKS:
        raise ValueError(f"unknown task {task!r}; tasks: {', '.join(TASKS)}")
    needs = {"exercise": "exercise", "activity": "dominant_activity", "age": "age"}[task]
    if needs not in windows:
        raise ValueError(f"task {task!r} needs a per-window {needs!r} variable; variables: "
                         f"{sorted(windows.data_vars)}")
    if windows[needs].dims != ("window",):
        raise ValueError(f"task {task!r} needs a per-window {needs!r} with dims ('window',), got {windows[needs].dims}")
    missing = np.flatnonzero(pd.isna(windows[needs].values))
    if missing.size:
        raise ValueError(f"task {task!r} needs every window's {needs!r}; {missing.size} windows have none, e.g. "
                         f"windows {missing[:5].tolist()}: drop those windows first")
    if task == "exercise":
        codes = windows["exercise"].values.astype(np.int8)
    elif task == "activity":
        windows = windows.isel(window=np.flatnonzero(windows["dominant_activity"].values > 0))
        codes = windows["dominant_activity"].values.astype(np.int8) - 1
    else:
        codes = age_bin(windows["age"].values)
    if windows.sizes["window"] == 0:
        warnings.warn(f"task {task!r} has no windows" + (" (none of these windows holds exercise)"
                                                           if task == "activity" else ""), stacklevel=2)
    values, attrs = categorical(codes, TASKS[task], long_name=f"{task} class")
    return windows.assign(label=("window", values, attrs))


def labelled_windows(recordings: xr.Dataset, labels: pd.DataFrame | str, minutes: int = 300, *,
                     align: str = "start") -> xr.Dataset:
    """Windows cut at your own labelled events.

    Parameters
    ----------
    recordings : xarray.Dataset
        The recordings the events belong to.
    labels : pandas.DataFrame or str or path-like
        A DataFrame or CSV path with columns ``participant``, ``start`` (a time, UTC unless it
        carries a zone) and ``label`` (any values; at most 127 distinct ones).
    minutes : int, default 300
        Window length, between 1 and the recording length.
    align : {"start", "center"}, default "start"
        ``"start"`` starts each window at its event, ``"center"`` centres it there.

    Returns
    -------
    xarray.Dataset
        The windows, with a categorical ``label`` (categories in sorted order) ready for
        :func:`lsmkit.probe.evaluate`.

    Raises
    ------
    ValueError
        For rows whose participant, start or label is missing or unknown, whose start is not a
        time, or whose window would leave the recording; the error lists them (rows counted from 0,
        as in the DataFrame; in a CSV the first line after the header is row 0). Also for an empty
        table or file, missing columns, an unknown ``align``, ``minutes`` out of range, more than
        127 labels, or labels that clash once spaces become underscores.
    TypeError
        If ``labels`` is neither a DataFrame nor a path.

    Examples
    --------
    >>> windows = labelled_windows(recordings, "events.csv", minutes=300, align="center")
    """
    validate_recordings(recordings)
    if isinstance(labels, (str, bytes)) or hasattr(labels, "__fspath__"):
        try:
            labels = pd.read_csv(labels)
        except pd.errors.EmptyDataError:
            raise ValueError(f"labels file {labels!r} is empty; expected a header participant,start,label "
                             "and one row per labelled event") from None
    if not isinstance(labels, pd.DataFrame):
        raise TypeError(f"labels must be a DataFrame or the path of a CSV file, got {type(labels).__name__}")
    missing = {"participant", "start", "label"} - set(labels.columns)
    if missing:
        raise ValueError(f"labels need columns participant, start and label; missing {sorted(missing)}")
    if align not in ("start", "center"):
        raise ValueError(f"align must be 'start' or 'center', got {align!r}")
    n_time = recordings.sizes["time"]
    if not _is_whole(minutes) or not 1 <= minutes <= n_time:
        raise ValueError(f"minutes must be an integer in [1, {n_time}] (the recording length), got {minutes!r}")
    minutes = int(minutes)
    if len(labels) == 0:
        raise ValueError("labels have no rows: nothing to cut")
    labels = labels.reset_index(drop=True)
    for column in ("participant", "label"):
        blank = labels[column].isna() | (labels[column].astype(str).str.strip() == "")
        if blank.any():
            raise ValueError(f"labels column {column!r} is missing in {int(blank.sum())} rows, e.g. rows "
                             f"{np.flatnonzero(blank)[:5].tolist()} (a truncated file?)")
    known = {str(p): i for i, p in enumerate(recordings["participant"].values)}
    unknown = sorted(set(labels["participant"].astype(str)) - set(known))
    if unknown:
        raise ValueError(f"labels name participants not in the recordings: {unknown[:5]}")
    p_idx = labels["participant"].astype(str).map(known).to_numpy()
    when = _start_times(labels["start"]).to_numpy()
    first = ((when - recordings["start"].values[p_idx]) // np.timedelta64(1, "m")).astype(np.int64)
    first = first - (minutes // 2 if align == "center" else 0)
    outside = (first < 0) | (first + minutes > n_time)
    if outside.any():
        raise ValueError(f"{outside.sum()} labelled windows leave the recordings, e.g. rows "
                         f"{np.flatnonzero(outside)[:5].tolist()}")
    categories = sorted(labels["label"].astype(str).unique())
    if len(categories) > 127:
        raise ValueError(f"labels have {len(categories)} distinct values; categorical labels hold at most 127 "
                         f"(e.g. {categories[:3]}): is 'label' a free-text or numeric column?")
    names = [re.sub(r"\s", "_", c) for c in categories]  # flag_meanings are space-separated
    if len(set(names)) < len(names):
        clash = sorted(c for c in categories if names.count(re.sub(r"\s", "_", c)) > 1)
        raise ValueError(f"labels {clash} become the same name once spaces are underscores; rename one")
    codes = pd.Categorical(labels["label"].astype(str), categories=categories).codes
    values, attrs = categorical(codes, names, long_name="your label")
    return cut_windows(recordings, p_idx, first, minutes).assign(label=("window", values, attrs))


def _start_times(start: pd.Series) -> pd.Series:
    """``start`` as naive UTC times, or an error listing the rows that are missing, not a time, or
    outside the dates pandas can hold."""
    if pd.api.types.is_numeric_dtype(start) and not pd.api.types.is_bool_dtype(start):
        raise ValueError(f"labels column 'start' holds numbers ({start.iloc[0]}, ...), whose unit and epoch are "
                         "ambiguous; give times such as '2024-05-01 08:30' or datetimes")
    try:
        with warnings.catch_warnings():  # element-wise parsing of mixed formats is fine, and said below if not
            warnings.filterwarnings("ignore", "Could not infer format", UserWarning)
            when = pd.to_datetime(start, utc=True)
    except (TypeError, ValueError, OverflowError):  # pandas' parse and out-of-bounds errors: find the rows
        when = pd.Series([_one_time(v) for v in start], index=start.index)
    bad = np.flatnonzero(when.isna())
    if bad.size:
        raise ValueError(f"labels column 'start' has {bad.size} missing, unparsable or out-of-range times, "
                         f"e.g. rows {bad[:5].tolist()}: {[start.iloc[i] for i in bad[:3]]}")
    return when.dt.tz_localize(None)


def _one_time(value):
    try:
        return pd.to_datetime(value, utc=True)
    except (TypeError, ValueError, OverflowError):
        return pd.NaT
