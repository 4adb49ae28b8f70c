"""Scores: errors of a fill against the truth, and classification scores for downstream probes.

Fills are scored only where the task hid a truly observed value. A channel with nothing scored has
``n == 0`` and NaN errors; a fill left NaN or infinite where it is scored makes its channel's errors
NaN (never a mean over the rest); both are reported with a ``RuntimeWarning``. Fills, masks and
``std`` that do not match the windows are refused with a ``TypeError``/``ValueError`` naming them.

The paper scores MSE on z-scored values; z-scoring here uses each channel's default statistics
from :data:`lsmkit.CHANNELS` unless ``std`` is given, so numbers are comparable across methods
and models.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from .channels import get_channel
from .data import validate_windows

__all__ = ["scored_errors", "error_table", "confusion_matrix", "classification_scores", "CLASSIFICATION_METRICS"]


def _reference(windows: xr.Dataset, truth: str | None) -> xr.DataArray:
    """What a fill is compared with: ``truth`` (simulated gap truth) or the observed signal."""
    if truth is None:
        return windows["signal"]
    if truth not in windows:
        raise ValueError(f"windows have no {truth!r} variable; variables: {sorted(windows.data_vars)}")
    return windows[truth]


def _labels_differ(a, b, dim: str) -> bool:
    return dim in a.coords and dim in b.coords and {str(v) for v in a[dim].values} != {str(v) for v in b[dim].values}


def _check_filled(filled, windows: xr.Dataset, what: str = "filled") -> None:
    """Raise unless ``filled`` is a window batch with the windows' dims, sizes, windows and channels
    (in any order; more channels are fine, so that a subset of channels can be scored): anything
    less would be aligned away by xarray and scored on what is left."""
    if not isinstance(filled, xr.Dataset) or "signal" not in filled:
        raise TypeError(f"{what} must be filled windows (an xarray.Dataset with 'signal', as impute returns), "
                        f"got {type(filled).__name__}")
    signal, expected = filled["signal"], windows["signal"]
    if "channel" in filled.coords and "channel" in windows.coords:
        have = {str(c) for c in filled["channel"].values}
        lacking = [str(c) for c in windows["channel"].values if str(c) not in have]
        if lacking:
            raise ValueError(f"{what} lacks channels {lacking} of the windows")
        signal = signal.sel(channel=windows["channel"].values)
        filled = filled.sel(channel=windows["channel"].values)
    if set(signal.dims) != set(expected.dims) or any(signal.sizes[d] != expected.sizes[d] for d in expected.dims):
        raise ValueError(f"{what} has sizes {dict(signal.sizes)}; the windows' are {dict(expected.sizes)}")
    for dim in ("window", "time", "channel"):
        if _labels_differ(filled, windows, dim):
            raise ValueError(f"{what} has other {dim} labels than the windows; return the windows it was given, filled")


def _aligned(array: xr.DataArray, reference: xr.DataArray) -> xr.DataArray:
    """``array`` in ``reference``'s dim and label order (its labels were checked to match)."""
    array = array.transpose(*reference.dims)
    return array.sel({d: reference[d].values for d in reference.dims if d in array.indexes and d in reference.indexes})


def _check_mask(mask, windows: xr.Dataset) -> None:
    if not isinstance(mask, xr.DataArray) or mask.dtype != bool:
        kind = f"a DataArray of {mask.dtype}" if isinstance(mask, xr.DataArray) else type(mask).__name__
        raise TypeError(f"mask must be a boolean xarray.DataArray (see lsmkit.masks), got {kind}")
    expected = windows["signal"]
    if set(mask.dims) != set(expected.dims) or any(mask.sizes[d] != expected.sizes[d] for d in expected.dims):
        raise ValueError(f"mask has sizes {dict(mask.sizes)}; the windows' are {dict(expected.sizes)}")
    for dim in ("window", "time", "channel"):
        if _labels_differ(mask, windows, dim):
            raise ValueError(f"mask has other {dim} labels than the windows; build it from these windows")


def _channel_std(std, windows: xr.Dataset) -> xr.DataArray:
    """``std`` (or each channel's default) as a positive DataArray over the windows' channels.

    A DataArray over ``channel``, a pandas Series or a mapping is matched by channel name (extra
    channels are ignored, missing ones refused); a plain sequence or array is taken in the
    windows' channel order."""
    channels = windows["channel"].values
    if std is None:
        return xr.DataArray([get_channel(c).std for c in channels], dims="channel", coords={"channel": windows["channel"]})
    if isinstance(std, xr.DataArray) and "channel" in std.coords:
        missing = sorted({str(c) for c in channels} - {str(c) for c in std["channel"].values})
        if std.dims != ("channel",) or missing:
            raise ValueError(f"std must be a DataArray over 'channel' covering the windows' channels; "
                             f"dims {std.dims}, missing {missing}")
        std = std.sel(channel=channels)
    else:
        if isinstance(std, (pd.Series, Mapping)):  # labelled: by channel name, never by position
            labelled = {str(k): v for k, v in std.items()}
            missing = [str(c) for c in channels if str(c) not in labelled]
            if missing or len(labelled) != len(std):
                raise ValueError(f"std is labelled ({type(std).__name__}) and must be keyed by channel name, once "
                                 f"each, covering the windows' channels; missing {missing}"
                                 + (", repeated labels" if len(labelled) != len(std) else ""))
            std = [labelled[str(c)] for c in channels]
        values = np.asarray(std, dtype=np.float64)
        if values.shape != (len(channels),):
            raise ValueError(f"std must hold one value per channel ({len(channels)}), got shape {values.shape}")
        std = xr.DataArray(values, dims="channel", coords={"channel": windows["channel"]})
    bad = ~(np.isfinite(std.values) & (std.values > 0))
    if bad.any():
        raise ValueError(f"std must be positive and finite; channels {[str(c) for c in channels[bad]]} have "
                         f"{std.values[bad].tolist()}")
    return std


def scored_errors(filled: xr.Dataset, windows: xr.Dataset, mask: xr.DataArray, *, truth: str | None = None,
                  std: xr.DataArray | None = None) -> xr.Dataset:
    """Compute per-channel squared and absolute errors over the scored entries.

    Scored entries are hidden by ``mask`` and observed in ``windows["signal"]`` (or, with
    ``truth="truth"``, present in the simulator's gap truth, so real-looking gaps can be scored).

    Parameters
    ----------
    filled : xarray.Dataset
        The filled windows, as a method's ``impute`` returns them (more channels are fine).
    windows : xarray.Dataset
        The window batch the fill was made from.
    mask : xarray.DataArray
        Boolean task mask, True where hidden (see :mod:`lsmkit.masks`).
    truth : str, optional
        Name of the variable to score against (``"truth"``: the simulator's gap truth); the
        observed ``signal`` by default.
    std : xarray.DataArray, pandas.Series, mapping or array-like, optional
        Per-channel standard deviations for z-scoring ``mse``: labelled ones are matched by channel
        name, a plain sequence is taken in the windows' channel order. Defaults to each channel's
        default statistics from :data:`lsmkit.CHANNELS`.

    Returns
    -------
    xarray.Dataset
        Over ``channel``: ``mse`` (z-scored), ``mae`` (physical units) and ``n``; ``mse`` and
        ``mae`` are NaN where nothing is scored or the fill is NaN or infinite (with a
        ``RuntimeWarning``).

    Raises
    ------
    TypeError, ValueError
        If the fill, mask or ``std`` does not match the windows, ``truth`` names no variable, or
        the reference holds infinite values.
    """
    validate_windows(windows)
    _check_filled(filled, windows)
    _check_mask(mask, windows)
    reference = _reference(windows, truth)
    infinite = np.isinf(reference).any([d for d in reference.dims if d != "channel"])
    if infinite.any():
        raise ValueError(f"windows {truth or 'signal'!r} holds infinite values in channels "
                         f"{[str(c) for c in reference['channel'].values[infinite.values]]}")
    std = _channel_std(std, windows)
    signal = _aligned(filled["signal"], reference)  # xarray would align by label, but .where insists on one order
    scored = _aligned(mask, reference) & reference.notnull()
    error = (signal.astype(np.float64) - reference).where(scored, 0.0)
    dims = [d for d in error.dims if d != "channel"]
    n = scored.sum(dims)
    unfilled = (scored & ~np.isfinite(signal)).sum(dims)
    if int(unfilled.sum()):
        warnings.warn(f"the fill is NaN or infinite at {int(unfilled.sum())} scored values, in channels "
                      f"{[str(c) for c in unfilled['channel'].values[unfilled.values > 0]]}; their errors are NaN",
                      RuntimeWarning, stacklevel=2)
    elif not int(n.sum()):
        warnings.warn("the mask hides no observed value: nothing to score, every error is NaN", RuntimeWarning,
                      stacklevel=2)
    counted = n.where((n > 0) & (unfilled == 0))  # NaN: nothing scored, or a fill missing where it is scored
    with np.errstate(invalid="ignore", over="ignore"):
        return xr.Dataset({
            "mse": (((error / std) ** 2).sum(dims, skipna=False) / counted).astype(np.float64),
            "mae": (np.abs(error).sum(dims, skipna=False) / counted).astype(np.float64),
            "n": n,
        })


def error_table(fills: dict[str, xr.Dataset], windows: xr.Dataset, mask: xr.DataArray, **kwargs) -> pd.DataFrame:
    """Tabulate the errors of several fills, one row per method and scored channel.

    Each row has ``mse`` (z-scored), ``mae`` (physical units) and ``n`` (values); an ``all`` row
    per method pools every scored value into ``mse`` (NaN when nothing is scored or a channel's
    fill was NaN; its ``mae`` is NaN). See :func:`scored_errors`.

    Parameters
    ----------
    fills : mapping of str to xarray.Dataset
        Method name -> filled windows.
    windows : xarray.Dataset
        The window batch the fills were made from.
    mask : xarray.DataArray
        Boolean task mask, True where hidden.
    **kwargs
        Passed to :func:`scored_errors` (``truth``, ``std``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(method, channel)``, with columns ``mse``, ``mae`` and ``n``.

    Raises
    ------
    TypeError, ValueError
        If ``fills`` is not a non-empty mapping, or as :func:`scored_errors` raises.
    """
    if not isinstance(fills, Mapping):
        raise TypeError(f"fills must be a mapping of method name -> filled windows, got {type(fills).__name__}")
    if not fills:
        raise ValueError("fills is empty: pass at least one method name -> filled windows")
    rows = []
    for method, filled in fills.items():
        errors = scored_errors(filled, windows, mask, **kwargs)
        frame = errors.to_dataframe()[["mse", "mae", "n"]]
        frame = frame[frame["n"] > 0]
        weights = frame["n"] / frame["n"].sum()
        mse = (frame["mse"] * weights).sum(skipna=False) if len(frame) else np.nan
        pooled = pd.DataFrame({"mse": [mse], "mae": [np.nan], "n": [frame["n"].sum()]},
                              index=pd.Index(["all"], name="channel"))
        rows.append(pd.concat([frame, pooled]).assign(method=method))
    return pd.concat(rows).reset_index().set_index(["method", "channel"])


# ---- classification ----------------------------------------------------------------------------
#: The scores :func:`classification_scores` returns, in order.
CLASSIFICATION_METRICS: tuple[str, ...] = ("accuracy", "macro_f1", "balanced_accuracy")


def _labels(name: str, y) -> np.ndarray:
    """Class indices as int64; fractions, NaN and non-numbers are refused, not truncated. An object
    array of numbers (a pandas object column of ints) counts by its values."""
    values = np.asarray(y)
    if values.dtype == object and all(isinstance(v, numbers.Real) for v in values.flat):
        integral = all(isinstance(v, numbers.Integral) for v in values.flat)
        values = values.astype(np.int64 if integral else np.float64)  # fractions are refused below
    if values.dtype == bool or np.issubdtype(values.dtype, np.integer):
        return values.astype(np.int64)
    if not np.issubdtype(values.dtype, np.floating):
        raise TypeError(f"{name} must hold integer class indices, got dtype {values.dtype}")
    whole = np.isfinite(values) & (values == np.round(values))
    if not whole.all():
        raise ValueError(f"{name} must hold integer class indices, got {values[~whole][0].item()!r}")
    return values.astype(np.int64)


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Count the confusion matrix of class predictions.

    Parameters
    ----------
    y_true : array-like of int
        True class indices, 1-D.
    y_pred : array-like of int
        Predicted class indices, the same length.
    n_classes : int
        Number of classes; indices lie in ``[0, n_classes)``.

    Returns
    -------
    numpy.ndarray
        Counts ``(n_classes, n_classes)``: row = true class, column = predicted class.

    Raises
    ------
    TypeError, ValueError
        If ``n_classes`` is not a positive integer, the labels are not integer class indices in
        range, or ``y_true`` and ``y_pred`` are not 1-D and the same length.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1], [0, 1, 0], n_classes=2)
    array([[1, 0],
           [1, 1]])
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)):
        raise TypeError(f"n_classes must be a positive integer, got {n_classes!r}")
    if n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer, got {n_classes!r}")
    y_true, y_pred = _labels("y_true", y_true), _labels("y_pred", y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D and the same length, got {y_true.shape} and {y_pred.shape}")
    both = np.concatenate([y_true, y_pred])
    if both.size and (both.min() < 0 or both.max() >= n_classes):
        raise ValueError(f"class indices must lie in [0, {n_classes}), got {both.min()}..{both.max()}")
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def classification_scores(y_true, y_pred, n_classes: int) -> dict[str, float]:
    """Compute accuracy, macro F1 and balanced accuracy, as scikit-learn defines them.

    Macro F1 averages the per-class F1 over classes that occur in ``y_true`` or ``y_pred``;
    balanced accuracy is the mean recall over classes that occur in ``y_true``. Imbalanced
    downstream tasks (walking is half of all sessions) are why both are reported next to accuracy.

    Parameters
    ----------
    y_true : array-like of int
        True class indices, 1-D.
    y_pred : array-like of int
        Predicted class indices, the same length.
    n_classes : int
        Number of classes.

    Returns
    -------
    dict of str to float
        ``accuracy``, ``macro_f1`` and ``balanced_accuracy`` (:data:`CLASSIFICATION_METRICS`).

    Raises
    ------
    ValueError
        If there are no predictions to score, or as :func:`confusion_matrix` raises.
    """
    cm = confusion_matrix(y_true, y_pred, n_classes).astype(float)
    if cm.sum() == 0:
        raise ValueError("no predictions to score")
    tp, support, predicted = np.diag(cm), cm.sum(axis=1), cm.sum(axis=0)
    seen = (support + predicted) > 0
    f1 = np.divide(2 * tp, support + predicted, out=np.zeros_like(tp), where=seen)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    return {
        "accuracy": float(tp.sum() / cm.sum()),
        "macro_f1": float(f1[seen].mean()),
        "balanced_accuracy": float(recall[support > 0].mean()),
    }
