"""lsmkit: an open, interactive toolkit for LSM-style wearable-sensor foundation models.

The data model (``lsmkit.data``) is shared by everything: continuous per-participant
*recordings* and *window batches*, both xarray Datasets with a float32 ``signal`` in physical
units and NaN where the sensor produced no value. The simulator is the default data source.
"""

from .channels import (CHANNEL_NAMES, CHANNELS, DEVICE_PROFILES, PROFILES, SENSOR_GROUPS, channel_table, get_channel,
                       profile_channels, profile_table, resolve_channel)
from .data import (decode_labels, local_time, make_recordings, make_windows, missing_fraction, observed_channels,
                   restrict, to_windows)
from .io import DEVICE_FORMATS, iter_batches, load_dataset, open_dataset, read_device, read_table, save
from .samples import list_samples, load_sample
from .simulator import simulate
from .evaluation import TASK_SIZES, evaluate
from . import baselines, features, labels, masks, metrics, plots, scaling, sweep
from . import probe_plots, scaling_plots


def load_pretrained(name: str | None = None, **kwargs):
    """Load a shipped pretrained encoder (default: the CPU-trained 2M model).

    Imported lazily so that ``import lsmkit`` does not pay for importing PyTorch.

    Parameters
    ----------
    name : str, optional
        A shipped checkpoint name or the path of an exported card; ``None`` loads the default.
    **kwargs
        Passed on to :func:`lsmkit.pretrained.load_pretrained` (e.g. ``device="cuda"``).

    Returns
    -------
    lsmkit.pretrained.PretrainedLSM
        The loaded model.

    See Also
    --------
    lsmkit.pretrained.load_pretrained : The function this one defers to.
    """
    from .pretrained import load_pretrained as _load

    return _load(name, **kwargs)


def adapt(init, data, out_dir, **kwargs):
    """Continue pretraining weights ``init`` on your own recordings.

    Imported lazily, like :func:`load_pretrained`; see :func:`lsmkit.adaptation.adapt` for the
    full description.

    Parameters
    ----------
    init : str
        A shipped name or the path of an exported card to start from.
    data : xarray.Dataset or path
        Your recordings or a window batch, in memory or as a store.
    out_dir : path
        The folder that receives the checkpoints and the exported card.
    **kwargs
        Passed on to :func:`lsmkit.adaptation.adapt` (``steps``, ``held_out``, ``by`` and
        training-recipe overrides).

    Returns
    -------
    pathlib.Path
        The exported card's path.

    See Also
    --------
    lsmkit.adaptation.adapt : The function this one defers to.
    """
    from .adaptation import adapt as _adapt

    return _adapt(init, data, out_dir, **kwargs)


__version__ = "0.1.0"

__all__ = [
    "CHANNELS",
    "CHANNEL_NAMES",
    "SENSOR_GROUPS",
    "channel_table",
    "get_channel",
    "resolve_channel",
    "DEVICE_PROFILES",
    "PROFILES",
    "profile_channels",
    "profile_table",
    "restrict",
    "observed_channels",
    "make_recordings",
    "make_windows",
    "to_windows",
    "local_time",
    "decode_labels",
    "missing_fraction",
    "simulate",
    "evaluate",
    "TASK_SIZES",
    "read_table",
    "read_device",
    "DEVICE_FORMATS",
    "save",
    "open_dataset",
    "load_dataset",
    "iter_batches",
    "load_sample",
    "list_samples",
    "load_pretrained",
    "adapt",
    "masks",
    "labels",
    "baselines",
    "features",
    "metrics",
    "plots",
    "scaling",
    "scaling_plots",
    "probe_plots",
    "sweep",
]
