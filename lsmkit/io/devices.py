"""Device exports in: :func:`read_device` picks the reader of a vendor's format.

Each format is a module of its own in this package, named for it, that documents where its layout
is described and offers two functions:

- ``read(path, **options) -> xarray.Dataset``: the file or folder as recordings
  (:func:`lsmkit.make_recordings`), per-minute LSM channels in physical units, with provenance in
  ``attrs`` (``source``, ``format``, ``device``, ``skipped``); everything it changes or leaves out
  is reported with :func:`warnings.warn`;
- ``looks_like(path) -> bool``: a cheap check of the file names (never a full read), used to guess
  the format when none is given.

Raw streams (beat intervals, a raw accelerometer, EDA, temperature, barometric altitude) become
channels through :mod:`lsmkit.features`, so that real and simulated channels mean the same.
"""

from __future__ import annotations

import importlib
import os
import warnings
from pathlib import Path

import xarray as xr

__all__ = ["read_device", "guess_format", "DEVICE_FORMATS"]

#: The readable export formats: name -> what it is. Each has a module of the same name here.
DEVICE_FORMATS: dict[str, str] = {
    "apple_health": "Apple Health export (export.xml, or the export.zip around it)",
    "fitbit": "Fitbit account export (folder or zip of per-day JSON files)",
    "fit": "FIT activity or monitoring file, or a folder of them (Garmin, Wahoo, Coros, ...)",
    "empatica_e4": "Empatica E4 session (folder or zip of ACC, BVP, EDA, HR, IBI, TEMP CSVs)",
}


def _reader(format: str):
    if format not in DEVICE_FORMATS:
        raise ValueError(f"unknown device format {format!r}; expected one of {sorted(DEVICE_FORMATS)}")
    return importlib.import_module(f".{format}", __package__)


def _check_path(path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {str(path)!r}")
    return path


def guess_format(path) -> str:
    """Return the name of the format whose reader recognises ``path`` (by its file names only).

    Parameters
    ----------
    path : str or path-like
        A device export: a file, folder or zip.

    Returns
    -------
    str
        A key of :data:`DEVICE_FORMATS`.

    Raises
    ------
    ValueError
        No reader, or more than one, recognises the path; the message lists the formats.
    TypeError
        If ``path`` is not a str or path-like.
    FileNotFoundError
        If ``path`` does not exist.
    """
    path = _check_path(path)
    matches = [name for name in DEVICE_FORMATS if _reader(name).looks_like(path)]
    if len(matches) != 1:
        found = "none" if not matches else " and ".join(repr(m) for m in matches)
        formats = "; ".join(f"{name!r}: {what}" for name, what in DEVICE_FORMATS.items())
        raise ValueError(f"cannot tell the device format of {str(path)!r} ({found} of the readers recognise it); "
                         f"pass format= one of {formats}")
    return matches[0]


def read_device(path, format: str | None = None, **options) -> xr.Dataset:
    """Read a device export (file, folder or zip) into recordings of per-minute LSM channels.

    Parameters
    ----------
    path : str or path-like
        The export: an Apple Health ``export.xml`` or ``export.zip``, a Fitbit export folder or
        zip, a ``.fit`` file or a folder of them, an Empatica E4 session folder or zip.
    format : str, optional
        One of :data:`DEVICE_FORMATS`; guessed from the file names when left out
        (:func:`guess_format`).
    **options
        Passed to the format's reader; see ``lsmkit.io.<format>.read`` for what each takes.

    Returns
    -------
    xarray.Dataset
        Recordings, as :func:`lsmkit.read_table` returns them, with ``attrs["format"]``,
        ``attrs["source"]``, ``attrs["device"]`` and ``attrs["skipped"]`` (what the reader left out).

    Examples
    --------
    >>> rec = lsmkit.read_device("export.zip")                    # doctest: +SKIP
    >>> rec = lsmkit.read_device("session/", format="empatica_e4")  # doctest: +SKIP
    """
    path = _check_path(path)
    if format is None:
        format = guess_format(path)
    reader = _reader(format)
    notes: list = []
    try:
        with warnings.catch_warnings(record=True) as caught:  # re-issued below, pointing at the caller's line
            warnings.simplefilter("always")
            try:
                return reader.read(path, **options)
            finally:
                notes = list(caught)
    finally:  # also when reading fails: what was changed before the error still counts
        for note in notes:
            warnings.warn(note.message, note.category, stacklevel=2)
