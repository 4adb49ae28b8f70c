"""Loading: a user's data in, recordings and window batches to and from disk.

One module per kind of source, so that each format lives in one file named for it:

- :mod:`~lsmkit.io.tables`: per-minute CSV/Parquet tables and DataFrames (:func:`read_table`);
- :mod:`~lsmkit.io.stores`: netCDF and zarr stores (:func:`save`, lazy :func:`open_dataset`,
  eager :func:`load_dataset`, :func:`iter_batches`);
- :mod:`~lsmkit.io.devices`: :func:`read_device`, which hands a device export to the reader of its
  format: :mod:`~lsmkit.io.apple_health`, :mod:`~lsmkit.io.fitbit`, :mod:`~lsmkit.io.fit` (Garmin
  and other FIT files), :mod:`~lsmkit.io.empatica_e4`. Each of those modules says where its layout
  is documented and offers ``write_example`` (recordings written in that vendor's layout).
"""

from .devices import DEVICE_FORMATS, guess_format, read_device
from .stores import RECORDING_CHUNKS, WINDOW_CHUNKS, iter_batches, load_dataset, open_dataset, save
from .tables import DEFAULT_AGG, read_table

__all__ = [
    "read_table",
    "read_device",
    "guess_format",
    "DEVICE_FORMATS",
    "save",
    "open_dataset",
    "load_dataset",
    "iter_batches",
    "DEFAULT_AGG",
    "RECORDING_CHUNKS",
    "WINDOW_CHUNKS",
]
