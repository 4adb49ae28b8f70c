"""Helpers the bad-input modules (tests/test_bad_*.py) share to build malformed window batches."""

import numpy as np


def with_signal(ds, signal):
    """``ds`` with ``signal`` replaced."""
    out = ds.copy()
    out["signal"] = signal
    return out


def with_value(ds, value, channel="steps"):
    """``ds`` with ``value`` written at minute 3 of ``channel`` in every window."""
    return with_signal(ds, ds["signal"].where(~((ds["channel"] == channel) & (ds["time"] == 3)), value))


def relabel(obj, labels, dim="channel"):
    """``obj`` with the labels of ``dim`` replaced (channels as object strings, as lsmkit.make_windows writes them)."""
    return obj.assign_coords({dim: np.array(labels, dtype=object if dim == "channel" else None)})
