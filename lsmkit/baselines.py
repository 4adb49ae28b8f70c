"""Classical imputation and forecasting baselines with the model's interface.

Every baseline is a small class with ``impute(windows, mask=None) -> windows``, exactly like
:meth:`lsmkit.PretrainedLSM.impute`: the result is shaped like ``windows``, keeps every observed,
unhidden value, and fills the hidden and missing ones. A method sees only what the mask leaves
visible, so hidden values never leak into a fill.

==========================  ====================================================================
``WindowMean()``            each channel's mean over the visible minutes of its window
``Nearest()``               the nearest visible minute (last observation carried forward / back)
``Linear()``                linear interpolation in time
``KNN(k=5)``                cross-channel k-nearest neighbours (scikit-learn ``KNNImputer``)
``MICE()``                  iterative cross-channel regression (scikit-learn ``IterativeImputer``)
``SeasonalNaive()``         forecasting: the same minute one day earlier, where the data has it
``AutoRegressive(lags=5)``  forecasting: an AR(p) model per window and channel (statsmodels)
==========================  ====================================================================

Fallbacks (documented, never a crash):

- every fill is clipped to the channel's valid range (as the model's are);
- a window-channel with no visible value at all is filled with the channel's default mean from
  :data:`lsmkit.CHANNELS`, the only thing known about it;
- ``Nearest`` and ``Linear`` hold the first and last visible values constant beyond them;
- ``KNN`` and ``MICE`` work across channels at each minute; minutes with no visible channel
  (temporal blocks) give them nothing to work with, so those are filled by ``Linear``;
- ``SeasonalNaive`` and ``AutoRegressive`` are forecasters: hidden minutes with visible data after
  them are filled by ``Linear``; a day-earlier value that is missing falls back to the last visible
  value; a channel with fewer than ``2 * lags + 2`` visible minutes before its forecast, or whose
  fitted AR model is not stationary (it would diverge), is held at its last visible value;
- an empty batch (no windows, minutes or channels) comes back as it is, with nothing to fill.

Bad input is refused with a ``TypeError``/``ValueError`` naming it: windows that are not a window
batch or hold infinite values, duplicate channels, and masks that are not boolean, have other
dims or sizes, or were made for other windows or channels.

Forecasters carry ``tasks = ("extrapolation",)``; :func:`lsmkit.evaluate` runs a method only on its
``tasks`` (all of them when the attribute is absent or None).
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from .channels import get_channel
from .data import validate_recordings, validate_windows

__all__ = ["Baseline", "WindowMean", "Nearest", "Linear", "KNN", "MICE", "SeasonalNaive", "AutoRegressive",
           "classical"]


class Baseline:
    """Shared plumbing: turn ``(windows, mask)`` into a (W, T, C) visible array and back.

    Subclasses implement ``_fill(visible, windows) -> (W, T, C)`` array; only the entries that are
    NaN in ``visible`` are taken from it.
    """

    name = "baseline"
    tasks: tuple[str, ...] | None = None  # None: every task

    def impute(self, windows: xr.Dataset, mask: xr.DataArray | None = None, *,
               infer_absent: bool = False) -> xr.Dataset:
        """Fill the values hidden by ``mask`` and the gaps of the channels the windows carry.

        Observed, unhidden values stay. Channels with no observed value anywhere in ``windows``
        stay absent unless ``infer_absent=True`` (the same rule as
        :meth:`lsmkit.PretrainedLSM.impute`, with the same ``inferred`` coordinate).

        Parameters
        ----------
        windows : xarray.Dataset
            A window batch.
        mask : xarray.DataArray, optional
            Boolean task mask, True where hidden (see :mod:`lsmkit.masks`); ``None`` fills only
            the gaps.
        infer_absent : bool, default False
            Also fill channels with no observed value anywhere in ``windows``.

        Returns
        -------
        xarray.Dataset
            ``windows`` with ``signal`` filled, and a boolean ``inferred`` coordinate on
            ``channel`` marking the absent channels that were filled.

        Raises
        ------
        TypeError, ValueError
            For windows that are not a window batch or hold infinite values, duplicate channels,
            masks that are not boolean, have other dims or sizes, or were made for other windows
            or channels, and an ``infer_absent`` that is not a bool.
        """
        if not isinstance(infer_absent, (bool, np.bool_)):
            raise ValueError(f"infer_absent must be True or False, got {infer_absent!r}")
        visible = _visible(windows, mask)
        signal = windows["signal"].transpose("window", "time", "channel")
        absent = signal.isnull().all(("window", "time")).values & (visible.shape[0] > 0)  # (C,)
        if visible.size:  # an empty batch has nothing to fill
            low, high = _ranges(windows)
            filled = np.clip(self._fill(visible, windows), low, high)  # never outside what a sensor can report
            if not infer_absent:
                filled[..., absent] = np.nan
            visible = np.where(np.isnan(visible), filled, visible)
        values = visible.astype(np.float32)
        out = windows.copy()
        out["signal"] = signal.copy(data=values).transpose(*windows["signal"].dims)
        return out.assign_coords(inferred=("channel", absent & bool(infer_absent)))

    def __call__(self, windows: xr.Dataset, mask: xr.DataArray | None = None, **kwargs) -> xr.Dataset:
        return self.impute(windows, mask, **kwargs)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"

    def _fill(self, visible: np.ndarray, windows: xr.Dataset) -> np.ndarray:
        raise NotImplementedError


# ---- shared helpers -----------------------------------------------------------------------------
DIMS = ("window", "time", "channel")


def _integer(name: str, value, minimum: int = 1, expected: str = "a positive integer") -> int:
    """``value`` as an int, refusing fractions, strings, None and bools with a message naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be {expected}, got {value!r}")
    if not float(value).is_integer() or value < minimum:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def _duplicates(values) -> list[str]:
    values = [str(v) for v in values]
    return sorted({v for v in values if values.count(v) > 1})


def _visible(windows: xr.Dataset, mask: xr.DataArray | None) -> np.ndarray:
    """(W, T, C) float32 array of what a method may see: observed and not hidden, NaN elsewhere."""
    validate_windows(windows)
    if _duplicates(windows["channel"].values):
        raise ValueError(f"windows have duplicate channels {_duplicates(windows['channel'].values)}")
    signal = windows["signal"].transpose(*DIMS).values.astype(np.float32)
    infinite = np.isinf(signal).any(axis=(0, 1))  # (C,)
    if infinite.any():  # an inf would be kept as observed and spread by every fill that averages it
        names = [str(c) for c in windows["channel"].values[infinite]]
        raise ValueError(f"windows hold infinite values in channels {names}; mark values the sensor did not produce as NaN")
    if mask is None:
        return signal
    if not isinstance(mask, xr.DataArray) or mask.dtype != bool:
        kind = f"a DataArray of {mask.dtype}" if isinstance(mask, xr.DataArray) else type(mask).__name__
        raise TypeError(f"mask must be a boolean xarray.DataArray (see lsmkit.masks), got {kind}")
    if set(mask.dims) != set(DIMS):
        raise ValueError(f"mask must have dims {DIMS}, got {mask.dims}")
    mask = mask.transpose(*DIMS)
    if "window" in mask.coords and "window" in windows.coords and (
            mask.sizes["window"] == windows.sizes["window"]
            and not np.array_equal(mask["window"].values, windows["window"].values)):
        raise ValueError("mask was made for other windows (its 'window' coordinate differs); build it from these windows")
    if "channel" in mask.coords:  # align by name, as the model wrapper does, not by position
        if _duplicates(mask["channel"].values):
            raise ValueError(f"mask has duplicate channels {_duplicates(mask['channel'].values)}")
        unknown = {str(c) for c in mask["channel"].values} - {str(c) for c in windows["channel"].values}
        if unknown:
            raise ValueError(f"mask has channels {sorted(unknown)} that the windows do not")
        mask = mask.reindex(channel=windows["channel"].values, fill_value=False)
    hidden = mask.values
    if hidden.shape != signal.shape:
        raise ValueError(f"mask shape {hidden.shape} differs from the windows' {signal.shape}")
    return np.where(hidden, np.nan, signal)


def _stats(windows: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Default per-channel mean and std from the registry: two (C,) arrays."""
    channels = [get_channel(c) for c in windows["channel"].values]
    return (np.array([c.mean for c in channels], dtype=np.float32),
            np.array([c.std for c in channels], dtype=np.float32))


def _ranges(windows: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Each channel's valid range from the registry: two (C,) arrays."""
    ranges = np.array([get_channel(c).valid_range for c in windows["channel"].values], dtype=np.float32)
    return ranges[:, 0], ranges[:, 1]


def _interpolate(visible: np.ndarray, defaults: np.ndarray, kind: str) -> np.ndarray:
    """Per window and channel: ``"linear"`` or ``"nearest"`` in time over the visible minutes."""
    W, T, C = visible.shape
    t = np.arange(T)
    filled = np.empty_like(visible)
    for w in range(W):
        for c in range(C):
            y = visible[w, :, c]
            seen = np.flatnonzero(~np.isnan(y))
            if not len(seen):
                filled[w, :, c] = defaults[c]
            elif kind == "linear":  # constant beyond the first and last visible minute
                filled[w, :, c] = np.interp(t, seen, y[seen])
            else:  # nearest visible minute; ties go to the earlier one
                right = np.clip(np.searchsorted(seen, t), 0, len(seen) - 1)
                left = np.clip(right - 1, 0, len(seen) - 1)
                pick = np.where(np.abs(seen[left] - t) <= np.abs(seen[right] - t), seen[left], seen[right])
                filled[w, :, c] = y[pick]
    return filled


def _tail(visible: np.ndarray) -> np.ndarray:
    """(W, T, C) True on minutes after a channel's last visible value (what is left to forecast)."""
    seen = ~np.isnan(visible)
    after_last = np.flip(np.cumsum(np.flip(seen, axis=1), axis=1), axis=1) == 0  # no visible value from here on
    return after_last & seen.any(axis=1, keepdims=True)


# ---- within-channel methods -------------------------------------------------------------------------
class WindowMean(Baseline):
    """Each channel's mean over the visible minutes of its window."""

    name = "window mean"

    def _fill(self, visible, windows):
        with np.errstate(invalid="ignore"):
            count = (~np.isnan(visible)).sum(axis=1)  # (W, C)
            mean = np.nansum(visible, axis=1) / np.maximum(count, 1)
        mean = np.where(count > 0, mean, _stats(windows)[0])
        return np.broadcast_to(mean[:, None, :], visible.shape)


class Nearest(Baseline):
    """The value of the nearest visible minute in the same channel (carried forward or back)."""

    name = "nearest"

    def _fill(self, visible, windows):
        return _interpolate(visible, _stats(windows)[0], "nearest")


class Linear(Baseline):
    """Linear interpolation in time between visible minutes; constant beyond the first and last."""

    name = "linear interpolation"

    def _fill(self, visible, windows):
        return _interpolate(visible, _stats(windows)[0], "linear")


# ---- cross-channel methods (scikit-learn) ----------------------------------------------------------
class _CrossChannel(Baseline):
    """Impute each minute from the other channels at that minute, on z-scored values.

    The imputer is fitted on up to ``max_fit_rows`` visible minutes of the batch itself (drawn with
    ``rng``), so it uses no data beyond what it is given. Minutes with no visible channel are left to
    :class:`Linear`.
    """

    def __init__(self, max_fit_rows: int = 1500, rng=0):
        self.max_fit_rows = _integer("max_fit_rows", max_fit_rows, 10, "an integer of at least 10")
        try:
            np.random.default_rng(rng)
        except (TypeError, ValueError):
            raise TypeError(f"rng must be a non-negative integer seed, a numpy Generator or None, got {rng!r}") from None
        self.rng = rng

    def _imputer(self, rows: np.ndarray):
        """A scikit-learn imputer for the (n, C) z-scored fitting rows."""
        raise NotImplementedError

    def _fill(self, visible, windows):
        mean, std = _stats(windows)
        W, T, C = visible.shape
        rows = ((visible - mean) / std).reshape(W * T, C)  # (W, T, C) -> (W*T, C)
        seen = ~np.isnan(rows)
        usable = np.flatnonzero(seen.any(axis=1))  # minutes with at least one visible channel
        filled = _interpolate(visible, mean, "linear").reshape(W * T, C)
        todo = usable[~seen[usable].all(axis=1)]
        if not len(todo):
            return filled.reshape(W, T, C)
        # fit on the most complete minutes first: an imputer learns little from mostly-empty rows
        rng = np.random.default_rng(self.rng)
        order = usable[np.lexsort((rng.random(len(usable)), -seen[usable].sum(axis=1)))]
        fit_rows = rows[order[: self.max_fit_rows]]
        imputer = self._imputer(fit_rows)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter of IterativeImputer, all-NaN columns
            imputer.fit(fit_rows)
            out = imputer.transform(rows[todo])  # keep_empty_features keeps all C columns
        filled[todo] = out * std + mean
        return filled.reshape(W, T, C)


class KNN(_CrossChannel):
    """Cross-channel k-nearest neighbours: each minute from the ``k`` most similar visible minutes.

    Distances are NaN-aware Euclidean over the channels both minutes have (scikit-learn
    ``KNNImputer``), on z-scored values. Minutes with no visible channel are left to
    :class:`Linear`.

    Parameters
    ----------
    k : int, default 5
        Number of neighbours.
    max_fit_rows : int, default 1500
        The imputer is fitted on up to this many visible minutes of the batch itself (drawn with
        ``rng``), so it uses no data beyond what it is given; at least 10.
    rng : int, numpy.random.Generator or None, default 0
        Seed or generator for drawing the fitting minutes.

    Raises
    ------
    TypeError, ValueError
        If a count is not a whole number in range, or ``rng`` is not a seed or generator.
    """

    name = "kNN"

    def __init__(self, k: int = 5, max_fit_rows: int = 1500, rng=0):
        super().__init__(max_fit_rows, rng)
        self.k = _integer("k", k)

    def _imputer(self, rows):
        from sklearn.impute import KNNImputer

        return KNNImputer(n_neighbors=self.k, weights="distance", keep_empty_features=True)


class MICE(_CrossChannel):
    """Multivariate imputation by chained equations: each channel regressed on the others in turn.

    Uses scikit-learn ``IterativeImputer`` with Bayesian ridge regression, on z-scored values.
    Imputations are bounded by the range each channel spans in the fitting minutes: linear
    regressions fed unusual rows otherwise extrapolate far outside anything observed. Minutes
    with no visible channel are left to :class:`Linear`.

    Parameters
    ----------
    max_iter : int, default 10
        Rounds of chained regressions.
    max_fit_rows : int, default 1500
        The imputer is fitted on up to this many visible minutes of the batch itself (drawn with
        ``rng``), so it uses no data beyond what it is given; at least 10.
    rng : int, numpy.random.Generator or None, default 0
        Seed or generator for drawing the fitting minutes.

    Raises
    ------
    TypeError, ValueError
        If a count is not a whole number in range, or ``rng`` is not a seed or generator.
    """

    name = "MICE"

    def __init__(self, max_iter: int = 10, max_fit_rows: int = 1500, rng=0):
        super().__init__(max_fit_rows, rng)
        self.max_iter = _integer("max_iter", max_iter)

    def _imputer(self, rows):
        from sklearn.experimental import enable_iterative_imputer  # noqa: F401  (registers the class)
        from sklearn.impute import IterativeImputer

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: bounded at 0 below
            low, high = np.nan_to_num(np.nanmin(rows, axis=0), nan=0.0), np.nan_to_num(np.nanmax(rows, axis=0), nan=0.0)
        # a channel constant over the fitting minutes (resting heart rate within a day) or never seen
        # there: scikit-learn needs min < max, and a hair above its one value still pins it there.
        # In float64 and at least one representable step: in float32 1e-6 vanishes once |z| >= 32.
        low, high = low.astype(np.float64), high.astype(np.float64)
        high = np.maximum(high, np.maximum(low + 1e-6, np.nextafter(low, np.inf)))
        return IterativeImputer(max_iter=self.max_iter, random_state=int(np.random.default_rng(self.rng).integers(2**31)),
                                keep_empty_features=True, min_value=low, max_value=high)


# ---- forecasters -------------------------------------------------------------------------------------
class SeasonalNaive(Baseline):
    """Forecast each minute by the same minute ``period`` minutes (one day) earlier.

    Earlier values come from ``history`` and from the visible values of the batch itself. Only
    times before each window's own forecast are ever looked up, so nothing hidden leaks in.

    Parameters
    ----------
    history : xarray.Dataset, optional
        Recordings or windows of the same participants (e.g. the recordings the windows were
        cut from).
    period : int, default 1440
        The season, in minutes.

    Raises
    ------
    TypeError, ValueError
        If ``period`` is not a positive integer or ``history`` is neither recordings nor
        windows.
    """

    name = "seasonal naive"
    tasks = ("extrapolation",)

    def __init__(self, history: xr.Dataset | None = None, period: int = 1440):
        self.period = _integer("period", period, 1, "a positive number of minutes")
        if history is not None:
            if not isinstance(history, xr.Dataset):
                raise TypeError(f"history must be recordings or windows (an xarray.Dataset), got {type(history).__name__}")
            recordings = "signal" in history and "participant" in history["signal"].dims
            try:
                (validate_recordings if recordings else validate_windows)(history)
            except (TypeError, ValueError) as error:
                raise type(error)(f"history: {error}") from None
        self.history = history

    def __repr__(self) -> str:
        return f"SeasonalNaive(history={'None' if self.history is None else 'Dataset'}, period={self.period})"

    def _fill(self, visible, windows):
        channels = list(windows["channel"].values)
        earlier = np.full_like(visible, np.nan)
        minute = _epoch_minutes(windows)  # (W, T) absolute minute of every value
        lookup = {}
        for source in ([self.history] if self.history is not None else []):
            for participant, times, values in _by_participant(source, channels):
                lookup.setdefault(participant, []).append((times, values))
        for participant, times, values in _by_participant(windows, channels, visible):
            lookup.setdefault(participant, []).append((times, values))
        for w, participant in enumerate(windows["participant"].values):
            for times, values in lookup.get(participant, []):
                wanted = minute[w] - self.period
                wanted = np.where(wanted < minute[w, 0], wanted, -1)  # only the past of this window
                index = np.searchsorted(times, wanted)
                hit = (index < len(times)) & (times[np.minimum(index, len(times) - 1)] == wanted)
                found = values[np.minimum(index, len(times) - 1)]  # (T, C)
                take = hit[:, None] & np.isnan(earlier[w]) & ~np.isnan(found)
                earlier[w] = np.where(take, found, earlier[w])
        fallback = _interpolate(visible, _stats(windows)[0], "linear")  # inner gaps; last value in the tail
        return np.where(_tail(visible) & ~np.isnan(earlier), earlier, fallback)


def _epoch_minutes(ds: xr.Dataset) -> np.ndarray:
    """Absolute minute (since 1970, UTC) of every (window, time) or (participant, time) value."""
    start = ds["start"].values.astype("datetime64[m]").astype(np.int64)  # (W,) or (P,)
    return start[:, None] + ds["time"].values[None, :].astype(np.int64)


def _by_participant(ds: xr.Dataset, channels: list[str], values: np.ndarray | None = None):
    """(participant, sorted absolute minutes, (n, C) values) for every window or participant row."""
    lead = "participant" if "participant" in ds["signal"].dims else "window"
    signal = ds["signal"].reindex(channel=channels).transpose(lead, "time", "channel").values
    values = signal if values is None else values
    minutes = _epoch_minutes(ds)
    names = ds[lead].values if lead == "participant" else ds["participant"].values
    for i, participant in enumerate(names):
        yield participant, minutes[i], values[i]


class AutoRegressive(Baseline):
    """Forecast each channel's hidden tail with an AR(``lags``) model with a constant.

    The model is fitted to the visible minutes before the tail (ARIMA(p, 0, 0) by conditional
    least squares, statsmodels ``AutoReg``). Gaps in those minutes are linearly interpolated
    before fitting.

    Parameters
    ----------
    lags : int, default 5
        The order ``p`` of the model, a positive integer.

    Raises
    ------
    TypeError, ValueError
        If ``lags`` is not a positive integer.
    """

    name = "AR (statsmodels)"
    tasks = ("extrapolation",)

    def __init__(self, lags: int = 5):
        self.lags = _integer("lags", lags)

    def _fill(self, visible, windows):
        from statsmodels.tsa.ar_model import AutoReg

        filled = _interpolate(visible, _stats(windows)[0], "linear")
        tail = _tail(visible)
        for w, c in zip(*np.nonzero(tail.any(axis=1))):
            first = int(np.argmax(tail[w, :, c]))
            history = filled[w, :first, c].astype(np.float64)  # linear already filled its inner gaps
            if (~np.isnan(visible[w, :first, c])).sum() < 2 * self.lags + 2 or np.ptp(history) == 0:
                continue  # too little to fit: keep the last visible value (Linear's tail)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # near-constant stretches make a rank-deficient design
                fit = AutoReg(history, lags=self.lags, trend="c").fit()
            if not np.all(np.abs(fit.roots) > 1):  # explosive or unit root: its forecast would run away
                continue
            filled[w, first:, c] = fit.predict(start=first, end=visible.shape[1] - 1)
        return filled


def classical(history: xr.Dataset | None = None) -> dict[str, Baseline]:
    """Return every baseline with its defaults, by display name.

    Parameters
    ----------
    history : xarray.Dataset, optional
        Passed to :class:`SeasonalNaive`.

    Returns
    -------
    dict of str to Baseline
        Display name -> baseline.

    Examples
    --------
    >>> methods = lsmkit.baselines.classical()
    >>> filled = methods["linear interpolation"].impute(windows, mask)
    """
    methods = [WindowMean(), Nearest(), Linear(), KNN(), MICE(), SeasonalNaive(history), AutoRegressive()]
    return {m.name: m for m in methods}
