"""Stores: recordings and window batches to and from netCDF or zarr.

:func:`save` writes either form to netCDF (``.nc``) or zarr (``.zarr``); :func:`open_dataset`
opens it lazily (dask, bounded memory, so :func:`lsmkit.to_windows` and :func:`iter_batches`
stream stores larger than memory) and :func:`load_dataset` eagerly. Round trips keep every
variable, coordinate, dtype and attribute.
"""

from __future__ import annotations

import errno
import os
import re
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import xarray as xr

from ..data import validate_recordings, validate_windows

__all__ = ["save", "open_dataset", "load_dataset", "iter_batches", "RECORDING_CHUNKS", "WINDOW_CHUNKS"]

#: Default dask chunks (and on-disk chunks written by :func:`save`): one participant-week of
#: minutes (1 MB of float32 for 26 channels) or 512 windows, always all channels.
RECORDING_CHUNKS: dict[str, int] = {"participant": 1, "time": 7 * 1440, "channel": -1}
WINDOW_CHUNKS: dict[str, int] = {"window": 512, "time": -1, "channel": -1}


# --------------------------------------------------------------------------------------------
# save / open_dataset / load_dataset / iter_batches
# --------------------------------------------------------------------------------------------


def _format(path) -> tuple[Path, str]:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".nc":
        return path, "netcdf"
    if suffix == ".zarr":
        return path, "zarr"
    raise ValueError(
        f"cannot tell the format of {str(path)!r} from its suffix {suffix!r}; expected '.nc' (netCDF) or '.zarr'"
    )


def _form(ds) -> str:
    """'recordings' or 'windows', validating the dataset."""
    if not isinstance(ds, xr.Dataset):
        raise TypeError(f"expected an xarray.Dataset of recordings or windows, got {type(ds).__name__}")
    dims = ds["signal"].dims if "signal" in ds else ()
    if dims and dims[0] == "window":
        validate_windows(ds)
        return "windows"
    validate_recordings(ds)
    return "recordings"


def _storage_chunks(ds: xr.Dataset, form: str) -> dict[str, int]:
    chunks = RECORDING_CHUNKS if form == "recordings" else WINDOW_CHUNKS
    return {d: ds.sizes[d] if n == -1 else min(n, ds.sizes[d]) for d, n in chunks.items() if d in ds.dims}


def save(ds: xr.Dataset, path, *, overwrite: bool = False) -> Path:
    """Write recordings or a window batch to netCDF or zarr, chosen by the suffix of ``path``.

    Parameters
    ----------
    ds : xarray.Dataset
        Recordings or windows (validated). numpy- or dask-backed; dask data is written chunk by
        chunk, so a lazily opened store can be saved in another format with bounded memory.
    path : str or path-like
        ``*.nc`` (netCDF4 through h5netcdf, compressed) or ``*.zarr`` (a zarr store directory).
    overwrite : bool, default False
        Replace an existing file or store; otherwise an existing ``path`` raises.

    Returns
    -------
    pathlib.Path
        The path written. Data is chunked on disk as :data:`RECORDING_CHUNKS` or
        :data:`WINDOW_CHUNKS`, the chunks :func:`open_dataset` uses.
    """
    path, fmt = _format(path)
    form = _form(ds)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{str(path)!r} exists; pass overwrite=True to replace it")
    chunks = _storage_chunks(ds, form)
    # Encodings carried over from another file (another format's chunks or filters) would clash.
    ds = ds.drop_encoding()
    if any(v.chunks is not None for v in ds.variables.values()):
        ds = ds.chunk(chunks)  # on-disk chunks must line up with dask chunks
    encoding = {}
    for name, var in ds.data_vars.items():
        if "time" not in var.dims:  # small per-participant or per-window variables: format defaults
            continue
        sizes = tuple(chunks.get(d, var.sizes[d]) for d in var.dims)
        if fmt == "netcdf":
            encoding[name] = {"chunksizes": sizes, "zlib": True, "complevel": 4, "shuffle": True}
        else:
            encoding[name] = {"chunks": sizes}
    if fmt == "netcdf":
        if path.exists():
            path.unlink()
        ds.to_netcdf(path, engine="h5netcdf", encoding=encoding)
    else:
        with warnings.catch_warnings():
            # zarr 3 notes that consolidated metadata is an extension of its spec; xarray reads it.
            warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
            ds.to_zarr(path, mode="w" if overwrite else "w-", encoding=encoding, consolidated=True)
    return path


def open_dataset(path, *, chunks: Mapping[str, int] | None = None) -> xr.Dataset:
    """Open saved recordings or windows lazily, backed by dask.

    Parameters
    ----------
    path : str or path-like
        A ``.nc`` file or ``.zarr`` store written by :func:`save` (or any file of the same form).
    chunks : mapping, optional
        Dask chunk sizes by dimension. Default: :data:`RECORDING_CHUNKS` (one participant-week)
        or :data:`WINDOW_CHUNKS` (512 windows), which bound the memory of
        :func:`lsmkit.to_windows` and :func:`iter_batches` whatever the store's size. ``{}``
        uses the file's own chunking.

    Returns
    -------
    xarray.Dataset
        Validated recordings or windows; data variables stay on disk until computed.
    """
    ds = _open(path, chunks=chunks if chunks is not None else "default")
    return ds


def load_dataset(path) -> xr.Dataset:
    """Read saved recordings or windows into memory (numpy-backed) and close the file.

    Parameters
    ----------
    path : str or path-like
        A ``.nc`` file or ``.zarr`` store written by :func:`save` (or any file of the same form).

    Returns
    -------
    xarray.Dataset
        Validated recordings or windows, in memory.

    Raises
    ------
    ValueError
        If the file cannot be read (empty, truncated, corrupt or another format) or does not hold
        lsmkit recordings or windows.
    FileNotFoundError
        If ``path`` does not exist.

    See Also
    --------
    open_dataset : The lazy version.
    """
    ds = _open(path, chunks=None)
    try:
        loaded = ds.load()
    except Exception as err:  # a corrupt or truncated chunk: the codec's own error type
        if _not_the_files_fault(err):
            raise
        raise ValueError(f"could not read the data in {str(path)!r} (corrupt or truncated?): "
                         f"{type(err).__name__}: {err}") from None
    finally:
        ds.close()
    return loaded


def _not_the_files_fault(err: Exception) -> bool:
    """Errors that say nothing about the file's content (out of memory, no permission, a lock held by
    another process): they pass through unchanged rather than as "corrupt or truncated?". The rest
    stay wrapped: codecs, h5py and zarr signal damage with many types (RuntimeError, OSError,
    KeyError, their own), so no narrower list is safe."""
    if isinstance(err, (MemoryError, PermissionError)):
        return True
    if isinstance(err, OSError):  # h5py raises plain OSError, its message holding the cause
        text = str(err).lower()  # "lock" as a word: "truncated file: ... sblock->base_addr" is damage
        return (err.errno in (errno.EACCES, errno.EPERM, errno.ENOMEM)
                or re.search(r"\block(s|ed|ing)?\b", text) is not None or "permission denied" in text)
    return False


def _open(path, chunks):
    path, fmt = _format(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file or store: {str(path)!r}")
    if fmt == "netcdf" and path.is_dir():
        raise ValueError(f"{str(path)!r} is a directory; expected a netCDF file")
    # "time" counts minutes; never let CF decoding turn it into dates or durations.
    options = dict(decode_times={"time": False}, decode_timedelta={"time": False})
    engine = "h5netcdf" if fmt == "netcdf" else "zarr"
    try:
        ds = xr.open_dataset(path, engine=engine, chunks=None, **options)
    except Exception as err:  # h5py, zarr and their codecs raise OSError, KeyError and their own types
        if _not_the_files_fault(err):
            raise
        raise ValueError(
            f"could not read {str(path)!r} as {'netCDF' if fmt == 'netcdf' else 'zarr'} (empty, truncated or "
            f"another format?): {type(err).__name__}: {err}"
        ) from None
    if fmt == "zarr" and path.is_dir():
        # Consolidated metadata outlives the arrays it lists: a partial copy would read as all-NaN.
        lost = [name for name in ds.variables if not (path / str(name)).is_dir()]
        if lost:
            ds.close()
            raise ValueError(
                f"{str(path)!r} is incomplete: its metadata lists {lost} but the store has no such arrays "
                f"(a partial copy or an interrupted write?)"
            )
    try:
        form = _form(ds)
    except (TypeError, ValueError) as err:
        ds.close()
        raise ValueError(f"{str(path)!r} is not lsmkit recordings or windows: {err}") from None
    ds = _restore(ds)
    if chunks is not None:
        wanted = _storage_chunks(ds, form) if chunks == "default" else dict(chunks)
        with warnings.catch_warnings():
            # Chunks that split the file's own (foreign files) only cost speed; not worth a warning.
            warnings.filterwarnings("ignore", message="The specified chunks separate", category=UserWarning)
            ds = ds.chunk({d: n for d, n in wanted.items() if d in ds.dims})
        # Coordinates are small (one value per participant, window or channel) and read often.
        ds = ds.assign_coords({k: v.compute() for k, v in ds.coords.items() if "time" not in v.dims})
    return ds


def _restore(ds: xr.Dataset) -> xr.Dataset:
    """Undo what the file formats change: fixed-width strings, list-valued CF attributes."""
    replaced = {}
    for name, var in ds.variables.items():
        if var.dtype.kind in "UST" and var.dtype != object:
            replaced[name] = var.load().astype(object)
        for attr in ("flag_values", "flag_masks", "valid_range"):
            if isinstance(var.attrs.get(attr), list):  # zarr stores array attributes as JSON lists
                dtype = var.dtype if var.dtype.kind in "iub" else None
                var.attrs[attr] = np.asarray(var.attrs[attr], dtype=dtype)
    if replaced:
        coords = {k: v for k, v in replaced.items() if k in ds.coords}
        data = {k: v for k, v in replaced.items() if k not in ds.coords}
        ds = ds.assign_coords(coords).assign(data)
    return ds


def iter_batches(windows: xr.Dataset, batch_size: int = 256) -> Iterator[xr.Dataset]:
    """Yield consecutive window batches computed into memory (numpy-backed).

    With a lazily opened or lazily windowed store, only one batch (plus the chunks it reads) is
    in memory at a time, so training or evaluation loops stream stores larger than memory.

    Parameters
    ----------
    windows : xarray.Dataset
        A window batch, numpy- or dask-backed.
    batch_size : int, default 256
        Windows per batch; the last batch may be smaller.

    Yields
    ------
    xarray.Dataset
        ``windows.isel(window=slice(i, i + batch_size))``, computed.
    """
    validate_windows(windows)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if any(v.chunks is not None for v in windows.variables.values()):
        import dask

        # Lazily cut windows carry a graph of thousands of small layers; fusing it once makes
        # each batch's compute cheap to plan (2-3x faster iteration) without computing anything.
        (windows,) = dask.optimize(windows)
    for i in range(0, windows.sizes["window"], int(batch_size)):
        yield windows.isel(window=slice(i, i + int(batch_size))).compute()
