"""Scores: errors of a fill against the truth, and classification scores for downstream probes.

Fills are scored only where the task hid a truly observed value.

The paper scores MSE on z-scored values; z-scoring here uses each channel's default statistics
from :data:`lsmkit.CHANNELS` unless ``std`` is given, so numbers are comparable across methods
and models.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .channels import get_channel

__all__ = ["scored_errors", "error_table", "confusion_matrix", "classification_scores", "CLASSIFICATION_METRICS"]


def _reference(windows: xr.Dataset, truth: str | None) -> xr.DataArray:
    """What a fill is compared with: ``truth`` (simulated gap truth) or the observed signal."""
    if truth is None:
        return windows["signal"]
    if truth not in windows:
        raise ValueError(f"windows have no {truth!r} variable; variables: {sorted(windows.data_vars)}")
    return windows[truth]


def scored_errors(filled: xr.Dataset, windows: xr.Dataset, mask: xr.DataArray, *, truth: str | None = None,
                  std: xr.DataArray | None = None) -> xr.Dataset:
    """Per-channel squared and absolute errors over the scored entries.

    Scored entries are hidden by ``mask`` and observed in ``windows["signal"]`` (or, with
    ``truth="truth"``, present in the simulator's gap truth, so real-looking gaps can be scored).
    Returns a Dataset over ``channel`` with ``mse`` (z-scored), ``mae`` (physical units) and ``n``.
    """
    reference = _reference(windows, truth)
    scored = mask & reference.notnull()
    if std is None:
        std = xr.DataArray([get_channel(c).std for c in windows["channel"].values], dims="channel",
                           coords={"channel": windows["channel"]})
    error = (filled["signal"] - reference).where(scored)
    dims = [d for d in error.dims if d != "channel"]
    return xr.Dataset({
        "mse": ((error / std) ** 2).mean(dims),
        "mae": np.abs(error).mean(dims),
        "n": scored.sum(dims),
    })


def error_table(fills: dict[str, xr.Dataset], windows: xr.Dataset, mask: xr.DataArray, **kwargs) -> pd.DataFrame:
    """One row per method and scored channel (``mse`` z-scored, ``mae`` physical, ``n`` values),
    plus an ``all`` row per method pooling every scored value."""
    rows = []
    for method, filled in fills.items():
        errors = scored_errors(filled, windows, mask, **kwargs)
        frame = errors.to_dataframe()[["mse", "mae", "n"]]
        frame = frame[frame["n"] > 0]
        weights = frame["n"] / frame["n"].sum()
        pooled = pd.DataFrame({"mse": [(frame["mse"] * weights).sum()], "mae": [np.nan], "n": [frame["n"].sum()]},
                              index=pd.Index(["all"], name="channel"))
        rows.append(pd.concat([frame, pooled]).assign(method=method))
    return pd.concat(rows).reset_index().set_index(["method", "channel"])


# ---- classification ----------------------------------------------------------------------------
#: The scores :func:`classification_scores` returns, in order.
CLASSIFICATION_METRICS: tuple[str, ...] = ("accuracy", "macro_f1", "balanced_accuracy")


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Counts ``(n_classes, n_classes)``: row = true class, column = predicted class."""
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D and the same length, got {y_true.shape} and {y_pred.shape}")
    both = np.concatenate([y_true, y_pred])
    if both.size and (both.min() < 0 or both.max() >= n_classes):
        raise ValueError(f"class indices must lie in [0, {n_classes}), got {both.min()}..{both.max()}")
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def classification_scores(y_true, y_pred, n_classes: int) -> dict[str, float]:
    """Accuracy, macro F1 and balanced accuracy, as scikit-learn defines them.

    Macro F1 averages the per-class F1 over classes that occur in ``y_true`` or ``y_pred``;
    balanced accuracy is the mean recall over classes that occur in ``y_true``. Imbalanced
    downstream tasks (walking is half of all sessions) are why both are reported next to accuracy.
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
