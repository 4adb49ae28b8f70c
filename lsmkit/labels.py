"""Label vocabularies shared by the simulator, loaders and downstream probes.

Categorical labels are stored as small integers with CF ``flag_values``/``flag_meanings``
attributes (see :func:`lsmkit.data.categorical`), so they survive netCDF and zarr round trips.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["ACTIVITIES", "EXERCISES", "SEXES", "AGE_BINS", "MIN_EXERCISE_MINUTES", "window_labels", "age_bin"]

#: Per-minute activity: 0 is "no exercise", 1-8 are the eight LSM exercise classes.
ACTIVITIES: tuple[str, ...] = (
    "none", "walk", "run", "bike", "swim", "elliptical", "weightlifting", "hiit", "strength_training",
)
EXERCISES: tuple[str, ...] = ACTIVITIES[1:]
SEXES: tuple[str, ...] = ("female", "male")
#: The paper's binned-age probe.
AGE_BINS: tuple[tuple[str, int, int], ...] = (("18-34", 18, 34), ("35-49", 35, 49), ("50-64", 50, 64), ("65+", 65, 200))
#: A window counts as an exercise window when it holds at least this many exercise minutes.
MIN_EXERCISE_MINUTES = 10


def window_labels(activity: xr.DataArray) -> dict[str, xr.DataArray]:
    """Derive per-window ``exercise`` and ``dominant_activity`` labels from per-minute ``activity``.

    A window is an exercise window when at least :data:`MIN_EXERCISE_MINUTES` of its minutes are
    exercise; its dominant activity is the most frequent exercise class (0, "none", when it is
    not an exercise window).

    Parameters
    ----------
    activity : xarray.DataArray
        Per-minute activity codes (indices into :data:`ACTIVITIES`), dims ``("window", "time")``.

    Returns
    -------
    dict of str to xarray.DataArray
        ``exercise`` (bool) and ``dominant_activity`` (a categorical label over
        :data:`ACTIVITIES`), both with dims ``("window",)``.
    """
    codes = np.asarray(activity.values, dtype=np.int64)
    counts = np.stack([(codes == k).sum(axis=1) for k in range(1, len(ACTIVITIES))], axis=1)  # (W, 8)
    exercise = counts.sum(axis=1) >= MIN_EXERCISE_MINUTES
    dominant = np.where(exercise, counts.argmax(axis=1) + 1, 0).astype(np.int8)
    flags = {"flag_values": np.arange(len(ACTIVITIES), dtype=np.int8), "flag_meanings": " ".join(ACTIVITIES)}
    return {
        "exercise": xr.DataArray(exercise, dims="window", attrs={"long_name": "window holds exercise"}),
        "dominant_activity": xr.DataArray(dominant, dims="window", attrs=flags),
    }


def age_bin(age) -> np.ndarray:
    """Return the index into :data:`AGE_BINS` for each age in years.

    Parameters
    ----------
    age : float or array-like of float
        Ages in years: known, and at least the youngest bin's 18.

    Returns
    -------
    numpy.ndarray of int8
        Bin indices, shaped like ``age``.

    Raises
    ------
    ValueError
        If an age is unknown (NaN) or below 18.

    Examples
    --------
    >>> age_bin([25, 40, 70])
    array([0, 1, 3], dtype=int8)
    """
    age = np.asarray(age, dtype=float)
    bad = np.flatnonzero(~(age >= AGE_BINS[0][1]))  # NaN too: searchsorted would put it in "65+"
    if bad.size:
        raise ValueError(f"age must be known and at least {AGE_BINS[0][1]} (the youngest of AGE_BINS); got "
                         f"{age.ravel()[bad[0]]} at index {bad[0]}")
    edges = np.array([lo for _, lo, _ in AGE_BINS[1:]])
    return np.searchsorted(edges, age, side="right").astype(np.int8)
