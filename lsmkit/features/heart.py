"""Beat intervals -> the per-minute heart channels (see :mod:`lsmkit.features` for the conventions)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..channels import CHANNEL_NAMES
from ._checks import _check_option, _frame, _minutes, _times, _values

#: Histogram bin width (ms) for the Shannon entropies, as in common HRV toolboxes.
ENTROPY_BIN_MS = 8.0
#: Share of the minute valid beat intervals must cover for ``heart_rate``.
MIN_HEART_RATE_COVERAGE = 0.25
#: Share of the minute valid beat intervals must cover for the interval statistics (percentiles, HRV).
MIN_HRV_COVERAGE = 0.5
#: Physiological beat intervals (ms): 25 to 240 bpm, the registry's ``heart_rate`` range.
RR_RANGE_MS = (250.0, 2400.0)
#: An interval further than this share from the median of its 11 in-range neighbours is an artefact.
RR_MAX_DEVIATION = 0.2
_RR_MEDIAN_SPAN = 11
#: Beats are contiguous when one starts within this many ms of the previous one's end.
_CONTIGUOUS_MS = 50.0


def shannon_entropy(values, bin_ms: float = ENTROPY_BIN_MS) -> float:
    """Plug-in Shannon entropy (bits) of ``values`` in bins ``[k * bin_ms, (k + 1) * bin_ms)``.

    Bins are fixed on the ms grid (not aligned to the data).

    Parameters
    ----------
    values : array-like of float
        Intervals or interval differences (ms).
    bin_ms : float, default ENTROPY_BIN_MS
        Bin width (ms).

    Returns
    -------
    float
        The entropy in bits; NaN for empty input.

    Examples
    --------
    >>> shannon_entropy([800, 801, 900, 901])
    1.0
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return float("nan")
    _, counts = np.unique(np.floor(values / bin_ms), return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum()) + 0.0  # + 0.0 turns -0.0 into 0.0


def rr_statistics(rr, diffs=None) -> dict[str, float]:
    """The registry's per-minute interval statistics of one minute's valid intervals (ms).

    Parameters
    ----------
    rr : array-like
        The minute's valid beat intervals (ms), at least two.
    diffs : array-like, optional
        Successive differences to use for ``rmssd`` and ``rr_diff_entropy``; by default
        ``numpy.diff(rr)`` (every interval follows the previous). :func:`beats_to_minutes`
        passes only the differences of contiguous valid pairs.

    Returns
    -------
    dict
        ``rr_median``, ``rr_p20``, ``rr_p80`` (``numpy.percentile``, linear interpolation),
        ``rmssd`` = sqrt(mean(diffs**2)), ``sdnn`` = SD with ``ddof=1``, ``rr_entropy`` and
        ``rr_diff_entropy`` (:func:`shannon_entropy`, 8 ms bins). NaN where fewer than two
        intervals (or no difference) are given.
    """
    rr = np.asarray(rr, dtype=float)
    diffs = np.diff(rr) if diffs is None else np.asarray(diffs, dtype=float)
    enough = rr.size >= 2
    return {
        "rr_median": float(np.median(rr)) if enough else np.nan,
        "rr_p20": float(np.percentile(rr, 20)) if enough else np.nan,
        "rr_p80": float(np.percentile(rr, 80)) if enough else np.nan,
        "rmssd": float(np.sqrt(np.mean(diffs**2))) if diffs.size else np.nan,
        "sdnn": float(np.std(rr, ddof=1)) if enough else np.nan,
        "rr_entropy": shannon_entropy(rr) if enough else np.nan,
        "rr_diff_entropy": shannon_entropy(diffs) if diffs.size else np.nan,
    }


def valid_beats(rr_ms) -> np.ndarray:
    """Tell which beat intervals are valid.

    An interval is valid when it lies in :data:`RR_RANGE_MS` and within :data:`RR_MAX_DEVIATION`
    (20 %) of the median of the 11 in-range intervals centred on it (a median filter, robust
    to the runs of artefacts that defeat a previous-beat rule such as Malik's).

    Parameters
    ----------
    rr_ms : array-like of float
        Consecutive beat intervals (ms).

    Returns
    -------
    numpy.ndarray of bool
        One flag per interval.
    """
    rr = np.asarray(rr_ms, dtype=float)
    ok = (rr >= RR_RANGE_MS[0]) & (rr <= RR_RANGE_MS[1])
    ranged = pd.Series(np.where(ok, rr, np.nan))
    local = ranged.rolling(_RR_MEDIAN_SPAN, center=True, min_periods=1).median().to_numpy()
    return ok & (np.abs(rr - local) <= RR_MAX_DEVIATION * local)


def beats_to_minutes(times, rr_ms, *, on_out_of_range: str = "nan") -> pd.DataFrame:
    """Beat-to-beat intervals -> the nine per-minute heart channels.

    Parameters
    ----------
    times : array-like of datetime64
        The end of each interval (the beat), strictly increasing; naive UTC or tz-aware.
    rr_ms : array-like of float
        The intervals (ms), one per time, positive.
    on_out_of_range : {"nan", "raise", "keep"}, default "nan"
        What to do with a statistic outside its channel's plausible range (module docstring).

    Returns
    -------
    pandas.DataFrame
        Per minute (by the interval's end time): ``heart_rate`` = 60000 / mean valid interval
        (bpm), ``rr_percent_valid`` = % of the minute's 60 s covered by valid intervals (the
        union of ``[end - rr, end]``, split at minute boundaries), and the statistics of
        :func:`rr_statistics` on the valid intervals; ``rmssd`` and ``rr_diff_entropy`` use only
        successive differences of two valid intervals that are contiguous (one starts within
        50 ms of the other's end). Validity is :func:`valid_beats`. ``heart_rate`` needs
        coverage >= :data:`MIN_HEART_RATE_COVERAGE`, the other statistics >=
        :data:`MIN_HRV_COVERAGE`; below that they are NaN. ``resting_heart_rate`` is a daily
        device estimate, not a beat statistic, and is not computed here.
    """
    _check_option(on_out_of_range, "on_out_of_range", ("nan", "raise", "keep"))
    ns = _times(times)
    rr = _values(rr_ms, "rr_ms", ns.size)
    if (rr <= 0).any():
        i = int(np.flatnonzero(rr <= 0)[0])
        raise ValueError(f"rr_ms[{i}] = {rr[i]} is not a positive interval (ms)")
    valid = valid_beats(rr)
    starts, row = _minutes(ns)
    origin = starts[0] if starts.size else 0
    end = (ns - origin) / 1e6  # ms since the first minute: exact enough in float64
    start = end - rr
    contiguous = np.r_[False, np.abs(start[1:] - end[:-1]) <= _CONTIGUOUS_MS] & valid & np.r_[False, valid[:-1]]
    covered = _coverage_ms(start, end, valid, (starts - origin) / 1e6)
    out = {name: np.full(starts.size, np.nan) for name in CHANNEL_NAMES[:10] if name != "resting_heart_rate"}
    out["rr_percent_valid"] = np.clip(100.0 * covered / 60000.0, 0.0, 100.0)
    bounds = np.searchsorted(row, np.arange(starts.size + 1))
    for r in range(starts.size):
        part = slice(bounds[r], bounds[r + 1])
        good = rr[part][valid[part]]
        share = covered[r] / 60000.0
        if good.size and share >= MIN_HEART_RATE_COVERAGE:
            out["heart_rate"][r] = 60000.0 / good.mean()
        if good.size >= 2 and share >= MIN_HRV_COVERAGE:
            diffs = (rr[part] - np.r_[np.nan, rr[:-1]][part])[contiguous[part]]
            for name, value in rr_statistics(good, diffs).items():
                out[name][r] = value
    return _frame(starts, out, on_out_of_range, "beats_to_minutes")


def _coverage_ms(start: np.ndarray, end: np.ndarray, valid: np.ndarray, minute_ms: np.ndarray) -> np.ndarray:
    """Per minute (starts in ms), the length (ms) of the union of the valid intervals within it."""
    s, e = start[valid], end[valid]
    s = np.maximum(s, np.r_[-np.inf, np.maximum.accumulate(e)[:-1]])  # overlaps count once
    s = np.minimum(s, e)
    m_s, m_e = np.floor(s / 60000.0) * 60000.0, np.floor(e / 60000.0) * 60000.0
    covered = np.zeros(minute_ms.size)
    # A valid interval (<= 2400 ms) spans at most one minute boundary: its part in the minute of
    # its end, and the part before the boundary, which counts in the previous minute if that is a row.
    for minute, length in ((m_e, e - np.maximum(s, m_e)), (m_s, np.where(m_s < m_e, m_e - s, 0.0))):
        pos = np.minimum(np.searchsorted(minute_ms, minute), max(minute_ms.size - 1, 0))
        hit = minute_ms[pos] == minute if minute_ms.size else np.zeros(0, bool)
        np.add.at(covered, pos[hit], length[hit])
    return covered
