"""A raw tri-axial accelerometer -> steps and the nine motion channels (see :mod:`lsmkit.features`).

The stream is featurised a chunk of whole minutes at a time, so that memory stays bounded however
long the recording (a week at 32 Hz is 19 M samples). Every channel but two needs only its
minute's samples; steps and zero crossings band-pass each gap-free segment as a whole. Each chunk
is filtered with :data:`_MARGIN_S` of samples more on either side, long enough for the filter's
edge transients to die out, so the band in the chunk's core is the whole segment's; a step or
crossing is kept by the core it falls in, and the zero-crossing detector's state is carried from
one core to the next.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import butter, find_peaks, sosfiltfilt

from ..channels import CHANNEL_NAMES, get_channel
from ._checks import (_BLOCK, MIN_SECONDS, _NS_PER_MIN, _NS_PER_S, _check_min_seconds, _check_option, _frame,
                      _minutes, _seconds_covered, _times, _values)

#: The lowest accelerometer rate the step detector and the spectral features work at.
MIN_ACCELEROMETER_HZ = 10.0
#: Band-pass (Hz) of the magnitude for steps and zero crossings: walking to running cadences.
STEP_BAND_HZ = (0.5, 3.0)
#: A step is a peak of the band-passed magnitude at least this high (g) ...
STEP_MIN_G = 0.05
#: ... and at least this long (s) after the previous step (at most 240 steps a minute).
STEP_MIN_INTERVAL_S = 0.25
_CROSSING_HYSTERESIS_G = 0.01  # a zero crossing must swing from below -h to above +h (or back)
_SPLIT_HZ = 1.0  # log_energy_ratio: energy above this frequency over the energy below it
_MOVING_SECOND_G = 0.02  # sleep_coefficient: a second whose magnitude SD exceeds this is "moving"
_COLUMNS = tuple(c for c in CHANNEL_NAMES if get_channel(c).group == "accelerometer")
_MIN_LOG_ENERGY = -12.0  # floor of log_energy (the registry's lower bound), for a still device
# Filtered on either side of a chunk: the band-pass's slowest pole decays with a time constant of
# 0.52 s at any rate, so its edge transients are down by e^-58 (1e-25) at the core.
_MARGIN_S = 30.0


def _rate(ns: np.ndarray, rate_hz) -> float:
    """The stream's rate: given, or 1 / median spacing; the two must agree within 10 %."""
    if rate_hz is not None and (isinstance(rate_hz, bool) or not isinstance(rate_hz, (int, float, np.number))
                                or not np.isfinite(rate_hz) or rate_hz <= 0):
        raise ValueError(f"rate_hz must be a positive number of samples per second, got {rate_hz!r}")
    if ns.size < 2:
        if rate_hz is None:
            raise ValueError("times has fewer than two samples; pass rate_hz")
        rate = float(rate_hz)
    else:
        spacing = _median_spacing(ns) / _NS_PER_S
        rate = 1.0 / spacing if rate_hz is None else float(rate_hz)
        if abs(rate * spacing - 1.0) > 0.1:
            raise ValueError(f"rate_hz = {rate_hz} but the median spacing of times is {spacing:.6g} s "
                             f"({1.0 / spacing:.6g} Hz); they must agree within 10 %")
    if rate < MIN_ACCELEROMETER_HZ:
        raise ValueError(f"the accelerometer rate {rate:.6g} Hz is below {MIN_ACCELEROMETER_HZ:g} Hz, too slow for "
                         f"the step detector")
    return rate


def _median_spacing(ns: np.ndarray) -> float:
    """``np.median(np.diff(ns))`` with the spacings held as int32 (capped at 2.1 s, far above the
    10 Hz this featuriser needs) and computed a block at a time: half the memory of int64 spacings."""
    cap = np.iinfo(np.int32).max
    spacings = np.empty(ns.size - 1, dtype=np.int32)
    for a in range(0, ns.size - 1, _BLOCK):
        b = min(a + _BLOCK, ns.size - 1)
        spacings[a:b] = np.minimum(ns[a + 1:b + 1] - ns[a:b], cap)
    median = float(np.median(spacings))
    return median if median < cap else float(np.median(np.diff(ns)))  # a stream far too slow: say how slow


def _chunks(ns: np.ndarray, minutes: int, margin: int):
    """(window, core) slices of the samples: each core ``minutes`` whole minutes from the minute of its
    first sample (the next core starts at the next sample), its window ``margin`` samples more each side."""
    lo = 0
    while lo < ns.size:
        hi = int(np.searchsorted(ns, (ns[lo] // _NS_PER_MIN + minutes) * _NS_PER_MIN))
        yield slice(max(lo - margin, 0), min(hi + margin, ns.size)), slice(lo, hi)
        lo = hi


def _segments(ns: np.ndarray, rate: float):
    """Slices of samples without a gap longer than 2.5 sample periods."""
    cut = np.flatnonzero(np.diff(ns) > 2.5 * _NS_PER_S / rate) + 1
    edges = np.r_[0, cut, ns.size]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]


def _steps_and_crossings(ns, magnitude, rate, core, sign):
    """Times (ns) of the steps and of the zero crossings of the band-passed magnitude in ``core`` (a
    slice of the window ``ns``), segment by segment, and the detector's state at the core's end.

    The state ``sign`` is the sign of the band at the last sample past +-h before the core, in a
    segment that goes on into it (0: none). A step's minimum interval needs no state: the margins
    hold its neighbours, so both chunks by a seam find the same steps there, and keep their own.
    """
    sos = butter(2, STEP_BAND_HZ, btype="bandpass", fs=rate, output="sos")
    distance = max(1, int(round(STEP_MIN_INTERVAL_S * rate)))
    steps, crossings, after = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], 0.0
    for seg in _segments(ns, rate):
        a, b = max(seg.start, core.start), min(seg.stop, core.stop)  # the segment's samples in the core
        # In a margin only: another core's. Too short to filter (edge transients): no steps. With
        # margins over 3 s, a segment in the core is cut short by the window only if it is short.
        if a >= b or seg.stop - seg.start <= 3 * rate:
            continue
        band = sosfiltfilt(sos, magnitude[seg])  # zero phase: peaks stay at the step times
        peaks, _ = find_peaks(band, height=STEP_MIN_G, distance=distance)
        steps.append(ns[seg][peaks[(peaks >= a - seg.start) & (peaks < b - seg.start)]])
        # Schmitt trigger: a crossing is the first sample past +h after one past -h (or back).
        part = band[a - seg.start:b - seg.start]
        beyond = np.flatnonzero(np.abs(part) > _CROSSING_HYSTERESIS_G)
        signs = np.sign(part[beyond])
        start = sign if seg.start < a else 0.0  # the segment goes on from the previous core
        before = np.r_[start, signs[:-1]]  # the state at each sample past +-h
        crossings.append(ns[a:b][beyond[(before != 0) & (signs != before)]])
        if seg.stop > b:  # and on into the next
            after = signs[-1] if signs.size else start
    return np.concatenate(steps), np.concatenate(crossings), after


def _moving_seconds(ns, magnitude, row, n_rows):
    """Per minute row, the number of whole seconds whose magnitude SD exceeds the movement threshold."""
    second = ns // _NS_PER_S
    uniq, idx = np.unique(second, return_inverse=True)
    count = np.bincount(idx)
    mean = np.bincount(idx, magnitude) / count
    var = np.bincount(idx, (magnitude - mean[idx]) ** 2) / count
    first_row = row[np.searchsorted(second, uniq)]
    return np.bincount(first_row, weights=np.sqrt(var) > _MOVING_SECOND_G, minlength=n_rows)


def _accelerometer_minute(xyz, magnitude, rate, axis):
    """The eight per-minute features that need only the minute's samples (module docstring)."""
    d = magnitude - magnitude.mean()
    var = float(np.mean(d * d))
    out = {"log_energy": max(np.log(var) if var > 0 else -np.inf, _MIN_LOG_ENERGY),
           "axis_mean": float(xyz[:, axis].mean()),
           "kurtosis": min(float(np.mean(d**4)) / var**2, 100.0) if var > 1e-20 else np.nan}
    jerk = np.diff(magnitude)
    jerk = jerk - jerk.mean() if jerk.size else jerk
    denom = float((jerk * jerk).sum())
    out["jerk_autocorrelation_ratio"] = (float(np.clip((jerk[:-1] * jerk[1:]).sum() / denom, 0.0, 1.0))
                                         if denom > 1e-20 else np.nan)
    eig = np.linalg.eigvalsh(np.cov(xyz.T)) if len(xyz) >= 2 else np.zeros(3)
    out["covariance_condition_number"] = (float(np.log10(eig[-1] / max(eig[0], eig[-1] * 1e-8)))
                                          if eig[-1] > 1e-20 else np.nan)
    power = np.abs(np.fft.rfft(d)) ** 2
    freq = np.fft.rfftfreq(d.size, 1.0 / rate)
    high, low = power[freq > _SPLIT_HZ].sum(), power[(freq > 0) & (freq <= _SPLIT_HZ)].sum()
    tiny = (high + low) * 1e-6
    out["log_energy_ratio"] = float(np.clip(np.log(max(high, tiny) / max(low, tiny)), -6, 6)) if tiny > 0 else np.nan
    return out


def _minute_features(ns, xyz, magnitude, step_ns, crossing_ns, rate, axis, min_seconds):
    """The minutes of one core (whole minutes): their starts (ns) and the ten channels, NaN in those
    with fewer than ``min_seconds`` seconds holding samples."""
    starts, row = _minutes(ns)
    covered = _seconds_covered(ns, row, starts.size)
    moving = _moving_seconds(ns, magnitude, row, starts.size)
    bounds = np.searchsorted(row, np.arange(starts.size + 1))
    out = {c: np.full(starts.size, np.nan) for c in _COLUMNS}
    for r in np.flatnonzero(covered >= min_seconds):
        part = slice(bounds[r], bounds[r + 1])
        minute = (starts[r], starts[r] + _NS_PER_MIN)
        features = _accelerometer_minute(xyz[part], magnitude[part], rate, axis)
        s0, s1 = np.searchsorted(step_ns, minute)  # both sorted
        c0, c1 = np.searchsorted(crossing_ns, minute)
        features["steps"] = float(s1 - s0)
        features["zero_crossing_mean"], features["zero_crossing_std"] = _crossing_stats(crossing_ns[c0:c1])
        features["sleep_coefficient"] = 100.0 * moving[r] / covered[r]
        for c, value in features.items():
            out[c][r] = value
    return starts, out


def _crossing_stats(t_ns):
    """Mean and SD (s) of the times between the minute's zero crossings; (60, 0) with fewer than two."""
    if t_ns.size < 2:
        return 60.0, 0.0
    gaps = np.diff(t_ns) / _NS_PER_S
    return float(gaps.mean()), float(gaps.std())


def accelerometer_to_minutes(times, xyz_g, rate_hz=None, *, axis: int = 2, min_seconds: int = MIN_SECONDS,
                             on_out_of_range: str = "nan", chunk_minutes: int = 60) -> pd.DataFrame:
    """A raw tri-axial accelerometer (g, any rate >= 10 Hz) -> ``steps`` and nine motion channels.

    Parameters
    ----------
    times : array-like of datetime64
        Sample times, strictly increasing; gaps longer than 2.5 sample periods split the stream.
    xyz_g : array-like, shape (n, 3)
        Acceleration in g (a still device reads 1 g along the axis that points up).
    rate_hz : float, optional
        The sample rate; estimated from the median spacing of ``times`` when left out.
    axis : {0, 1, 2}, default 2
        The device axis whose mean is ``axis_mean`` (z: out of a watch face).
    min_seconds : int, default 30
        Seconds of the minute that must hold samples; other minutes are NaN throughout.
    on_out_of_range : {"nan", "raise", "keep"}, default "nan"
    chunk_minutes : int, default 60
        Minutes featurised at a time (each with 30 s more on either side for the filter), so that
        memory is bounded by the chunk, not the recording; the answers do not depend on it.

    Returns
    -------
    pandas.DataFrame
        Per minute, from the magnitude ``m = |xyz|`` (samples taken as evenly spaced):

        * ``steps``: peaks of ``m`` band-passed at :data:`STEP_BAND_HZ` (2nd-order Butterworth,
          zero phase, per gap-free segment longer than 3 s) at least :data:`STEP_MIN_G` high and
          :data:`STEP_MIN_INTERVAL_S` apart, counted in the minute of the peak;
        * ``zero_crossing_mean`` / ``_std``: mean and SD (s) of the times between successive
          crossings of the band-passed ``m`` through zero with +-0.01 g hysteresis; 60 and 0
          when the minute has fewer than two crossings;
        * ``log_energy``: ln of the variance of ``m`` (g^2), floored at -12 (a still device);
        * ``jerk_autocorrelation_ratio``: lag-1 autocovariance of the jerk ``diff(m)`` over its
          variance (one sample lag at the stream's rate), clipped to [0, 1];
        * ``covariance_condition_number``: log10 of the largest over the smallest eigenvalue of
          the 3-axis covariance, at most 8;
        * ``log_energy_ratio``: ln of the spectral energy of ``m`` above 1 Hz over that in
          (0, 1] Hz, clipped to [-6, 6];
        * ``axis_mean``: mean of axis ``axis`` (g);
        * ``kurtosis``: Pearson kurtosis of ``m`` (3 for a Gaussian), capped at 100;
        * ``sleep_coefficient``: % of the minute's covered seconds in which the SD of ``m``
          exceeds 0.02 g (low = still).

        Features undefined for a perfectly constant minute (jerk ratio, condition number,
        kurtosis, energy ratio) are NaN there.
    """
    _check_option(on_out_of_range, "on_out_of_range", ("nan", "raise", "keep"))
    _check_min_seconds(min_seconds)
    if isinstance(axis, bool) or axis not in (0, 1, 2):
        raise ValueError(f"axis must be 0, 1 or 2 (x, y, z), got {axis!r}")
    if isinstance(chunk_minutes, bool) or not isinstance(chunk_minutes, (int, np.integer)) or chunk_minutes < 1:
        raise ValueError(f"chunk_minutes must be a whole number of minutes, at least 1, got {chunk_minutes!r}")
    ns = _times(times)
    xyz = _values(xyz_g, "xyz_g", ns.size, columns=3, any_float=True)  # float32 stays float32: see the chunks
    if ns.size == 0:
        return _frame(ns, {c: [] for c in _COLUMNS}, on_out_of_range, "accelerometer_to_minutes")
    rate = _rate(ns, rate_hz)
    starts, parts, sign = [], [], 0.0
    for window, core in _chunks(ns, chunk_minutes, int(np.ceil(_MARGIN_S * rate))):
        window_xyz = np.asarray(xyz[window], dtype=float)  # (n, 3): float64 a window at a time
        magnitude = np.sqrt((window_xyz * window_xyz).sum(axis=1))
        inner = slice(core.start - window.start, core.stop - window.start)  # the core in the window
        step_ns, crossing_ns, sign = _steps_and_crossings(ns[window], magnitude, rate, inner, sign)
        minute_starts, out = _minute_features(ns[core], window_xyz[inner], magnitude[inner], step_ns, crossing_ns, rate,
                                              axis, min_seconds)
        starts.append(minute_starts)
        parts.append(out)
    out = {c: np.concatenate([part[c] for part in parts]) for c in _COLUMNS}
    return _frame(np.concatenate(starts), out, on_out_of_range, "accelerometer_to_minutes")

