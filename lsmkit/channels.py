"""The registry of the 26 canonical LSM channels and of the device profiles that record subsets of them.

Every other module refers to channels through this registry: their canonical order (the column
order of the model's "sensor image"), sensor group, physical unit, plausible physical range and
default normalisation (per-channel z-score statistics, used when no pretrained model supplies its
own). Vendor column names are mapped to canonical ones through ``aliases``.

The names and order follow LSM_REFERENCE.md (the paper lists the features but not their exact
definitions). The ranges are *plausibility* bounds: a value outside them is physically impossible
for the sensor, not merely unusual, and loaders reject it.

Every real device records a *subset* of the 26 channels. :data:`PROFILES` names the subsets of
common device kinds (:data:`DEVICE_PROFILES` maps each name to its channels,
:func:`profile_table` shows why each holds what it holds); :func:`lsmkit.restrict` makes the
other channels absent in a window batch or recordings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

__all__ = [
    "Channel",
    "CHANNELS",
    "CHANNEL_NAMES",
    "SENSOR_GROUPS",
    "get_channel",
    "resolve_channel",
    "channel_table",
    "DeviceProfile",
    "PROFILES",
    "DEVICE_PROFILES",
    "profile_channels",
    "profile_name",
    "profile_table",
]


@dataclass(frozen=True)
class Channel:
    """One per-minute feature of the sensor image.

    Parameters
    ----------
    name : str
        The canonical channel name.
    group : str
        The sensor group (one of :data:`SENSOR_GROUPS`).
    unit : str
        The physical unit.
    valid_range : tuple of float
        The closed interval ``(low, high)`` of physically possible values.
    mean : float
        The default z-score mean (a typical free-living value).
    std : float
        The default z-score standard deviation (typical free-living spread).
    description : str
        What the channel measures.
    aliases : tuple of str, default ()
        Vendor column names that map to this channel.
    """

    name: str
    group: str
    unit: str
    valid_range: tuple[float, float]
    mean: float
    std: float
    description: str
    aliases: tuple[str, ...] = ()

    def normalise(self, values):
        """Z-score ``values`` with the default statistics.

        Parameters
        ----------
        values : array-like
            Values in physical units.

        Returns
        -------
        array-like
            ``(values - mean) / std``.
        """
        return (values - self.mean) / self.std

    def denormalise(self, values):
        """Inverse of :meth:`normalise`.

        Parameters
        ----------
        values : array-like
            Z-scored values.

        Returns
        -------
        array-like
            ``values * std + mean``, in physical units.
        """
        return values * self.std + self.mean


def _c(name, group, unit, lo, hi, mean, std, description, *aliases):
    return Channel(name, group, unit, (float(lo), float(hi)), float(mean), float(std), description, aliases)


# Canonical order: heart (10), accelerometer (10), EDA (3), skin temperature (2), altimeter (1).
CHANNELS: tuple[Channel, ...] = (
    _c("heart_rate", "heart", "bpm", 25, 240, 75.0, 15.0, "mean heart rate over the minute (PPG)",
       "hr", "bpm", "heart_rate_bpm", "heartrate", "pulse", "pulse_rate"),
    _c("resting_heart_rate", "heart", "bpm", 25, 130, 62.0, 7.0, "device estimate of today's resting heart rate",
       "rhr", "resting_hr", "restingheartrate"),
    _c("rr_percent_valid", "heart", "%", 0, 100, 80.0, 20.0, "share of the minute covered by valid beat intervals",
       "rr_valid", "percent_valid_rr", "ibi_coverage"),
    _c("rr_p80", "heart", "ms", 200, 2500, 880.0, 150.0, "80th percentile of beat-to-beat (RR) intervals",
       "rr_80th_percentile", "ibi_p80"),
    _c("rr_p20", "heart", "ms", 200, 2500, 790.0, 140.0, "20th percentile of RR intervals",
       "rr_20th_percentile", "ibi_p20"),
    _c("rr_median", "heart", "ms", 200, 2500, 835.0, 145.0, "median RR interval",
       "median_rr", "ibi_median", "median_nn"),
    _c("rmssd", "heart", "ms", 0, 400, 38.0, 22.0, "root mean square of successive RR differences",
       "hrv_rmssd", "rmssd_ms"),
    _c("sdnn", "heart", "ms", 0, 400, 45.0, 22.0, "standard deviation of RR intervals",
       "hrv_sdnn", "sdnn_ms"),
    _c("rr_entropy", "heart", "bits", 0, 10, 3.2, 0.8, "Shannon entropy of RR intervals (8 ms bins)",
       "shannon_entropy_rr", "rr_shannon_entropy"),
    _c("rr_diff_entropy", "heart", "bits", 0, 10, 3.3, 0.8, "Shannon entropy of successive RR differences (8 ms bins)",
       "shannon_entropy_rr_diff", "rr_diff_shannon_entropy"),
    _c("steps", "accelerometer", "steps/min", 0, 300, 8.0, 22.0, "step count in the minute",
       "step_count", "steps_per_minute", "stepcount", "step"),
    _c("jerk_autocorrelation_ratio", "accelerometer", "1", 0, 1, 0.35, 0.15, "lag-1 autocorrelation of jerk over its variance",
       "jerk_ratio", "jerk_autocorrelation"),
    _c("log_energy", "accelerometer", "log(g^2)", -12, 6, -4.5, 2.2, "log of accelerometer energy (magnitude variance)",
       "accel_log_energy", "log_acc_energy"),
    _c("covariance_condition_number", "accelerometer", "log10(1)", 0, 8, 2.0, 0.9,
       "log10 condition number of the 3-axis covariance", "cov_condition_number", "condition_number"),
    _c("log_energy_ratio", "accelerometer", "1", -6, 6, 0.0, 1.0, "log ratio of high- to low-frequency energy",
       "energy_ratio"),
    _c("zero_crossing_std", "accelerometer", "s", 0, 60, 3.0, 3.0, "std of time between zero crossings",
       "zcr_std", "zero_crossing_sd"),
    _c("zero_crossing_mean", "accelerometer", "s", 0, 60, 4.0, 4.0, "mean time between zero crossings",
       "zcr_mean", "zero_crossing_average", "zero_crossing_avg"),
    _c("axis_mean", "accelerometer", "g", -2, 2, 0.3, 0.4, "mean of the vertical axis (wrist orientation)",
       "accel_axis_mean", "mean_axis"),
    _c("kurtosis", "accelerometer", "1", -3, 100, 3.5, 3.0, "kurtosis of acceleration magnitude",
       "accel_kurtosis", "acc_kurtosis"),
    _c("sleep_coefficient", "accelerometer", "1", 0, 100, 40.0, 30.0, "movement-based sleep/wake score (low = still)",
       "sleep_coef", "sleep_score_raw"),
    _c("scl", "eda", "uS", 0, 100, 2.5, 2.5, "skin conductance level (tonic EDA)",
       "eda", "skin_conductance", "skin_conductance_level", "gsr"),
    _c("scl_slope", "eda", "uS/min", -20, 20, 0.0, 0.15, "slope of skin conductance level over the minute",
       "eda_slope", "skin_conductance_slope"),
    _c("eda_lead_contact", "eda", "count", 0, 60, 50.0, 15.0, "EDA samples per minute with lead contact",
       "lead_contact", "eda_contact", "lead_contact_counts"),
    _c("skin_temperature", "temperature", "degC", 15, 45, 33.0, 1.5, "wrist skin temperature",
       "temperature", "skin_temp", "temp", "wrist_temperature"),
    _c("skin_temperature_slope", "temperature", "degC/min", -5, 5, 0.0, 0.05, "slope of skin temperature over the minute",
       "temperature_slope", "skin_temp_slope"),
    _c("altitude_std", "altimeter", "m", 0, 100, 0.3, 0.6, "std of barometric altitude within the minute",
       "altimeter_std", "altitude_sd", "alt_std"),
)

CHANNEL_NAMES: tuple[str, ...] = tuple(c.name for c in CHANNELS)
SENSOR_GROUPS: tuple[str, ...] = tuple(dict.fromkeys(c.group for c in CHANNELS))

_BY_NAME = {c.name: c for c in CHANNELS}


def _key(name: str) -> str:
    """Normalise a column name for alias look-up: case, spaces, dashes and units in brackets."""
    key = re.sub(r"[\(\[].*?[\)\]]", "", str(name)).strip().lower()
    return re.sub(r"[\s\-./]+", "_", key).strip("_")


_ALIASES = {_key(alias): c.name for c in CHANNELS for alias in (c.name, *c.aliases)}
assert len(_ALIASES) == sum(1 + len(c.aliases) for c in CHANNELS), "alias collision in the registry"


def get_channel(name: str) -> Channel:
    """Return the :class:`Channel` for a canonical name or alias.

    Parameters
    ----------
    name : str
        A canonical channel name or one of its aliases.

    Returns
    -------
    Channel
        The registry entry.

    Raises
    ------
    ValueError
        If ``name`` is unknown; the message names the valid ones.
    """
    return _BY_NAME[resolve_channel(name)]


def resolve_channel(name: str, *, strict: bool = True) -> str | None:
    """Map a vendor column name (``"bpm"``, ``"Heart Rate"``, ``"hr"``) to its canonical name.

    Parameters
    ----------
    name : str
        A column name; case, spaces, dashes and units in brackets are ignored.
    strict : bool, default True
        Whether an unknown name raises; if false, it gives ``None``.

    Returns
    -------
    str or None
        The canonical name, or ``None`` for an unknown name when ``strict`` is false.

    Raises
    ------
    ValueError
        If ``name`` is unknown and ``strict`` is true; the message lists the canonical names.

    Examples
    --------
    >>> resolve_channel("Heart Rate")
    'heart_rate'
    >>> resolve_channel("nonsense", strict=False) is None
    True
    """
    canonical = _ALIASES.get(_key(name))
    if canonical is None and strict:
        raise ValueError(
            f"unknown channel {name!r}; expected one of the canonical names "
            f"{', '.join(CHANNEL_NAMES)} or one of their aliases (see lsmkit.channel_table())"
        )
    return canonical


def channel_table() -> pd.DataFrame:
    """Return the registry as a DataFrame indexed by canonical name (handy in notebooks).

    Returns
    -------
    pandas.DataFrame
        One row per channel, in canonical order: ``group``, ``unit``, ``min`` and ``max`` (the
        valid range), ``mean``, ``std``, ``description`` and ``aliases``.
    """
    rows = [
        {
            "name": c.name,
            "group": c.group,
            "unit": c.unit,
            "min": c.valid_range[0],
            "max": c.valid_range[1],
            "mean": c.mean,
            "std": c.std,
            "description": c.description,
            "aliases": ", ".join(c.aliases),
        }
        for c in CHANNELS
    ]
    return pd.DataFrame(rows).set_index("name")


# ---- device profiles ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeviceProfile:
    """A named subset of the channels: what one kind of device records, and why.

    Parameters
    ----------
    name : str
        The profile's name (a key of :data:`DEVICE_PROFILES`).
    channels : tuple of str
        The canonical names of the channels the device records.
    device : str
        The kind of device, in words.
    why : str
        Why the device records these channels.
    """

    name: str
    channels: tuple[str, ...]
    device: str
    why: str


_HEART = CHANNEL_NAMES[:10]
_BEATS = tuple(c for c in _HEART if c != "resting_heart_rate")  # what beat intervals give, minute by minute
_ACCELEROMETER = tuple(c.name for c in CHANNELS if c.group == "accelerometer")

PROFILES: tuple[DeviceProfile, ...] = (
    DeviceProfile("full", CHANNEL_NAMES, "Fitbit / Pixel Watch (the paper's devices)",
                  "all 26 LSM channels: PPG, accelerometer, EDA, skin temperature and altimeter"),
    DeviceProfile("smartwatch", ("heart_rate", "rmssd", "sdnn", "steps", "skin_temperature"),
                  "smartwatch (Apple Watch, Galaxy Watch class)",
                  "optical heart rate, HRV as RMSSD or SDNN, a step counter and a wrist temperature sensor; "
                  "beat-interval percentiles, EDA and the raw-accelerometer features are not exported"),
    DeviceProfile("sports_watch", ("heart_rate", "steps", "altitude_std"),
                  "sports watch (Garmin, Polar, Coros class; FIT files)",
                  "heart rate, steps or cadence and a barometric altimeter are what activity and monitoring "
                  "files carry minute by minute"),
    DeviceProfile("chest_strap", _HEART, "chest strap with an app (Polar H10 class)",
                  "beat-to-beat intervals give every heart channel (the app adds a daily resting heart rate); "
                  "no motion, EDA or temperature channels"),
    DeviceProfile("research_wristband", (*_BEATS, *_ACCELEROMETER, "scl", "scl_slope", "eda_lead_contact",
                                         "skin_temperature", "skin_temperature_slope"),
                  "research wristband (Empatica E4 / EmbracePlus class)",
                  "beat intervals from BVP, a raw 3-axis accelerometer, EDA and skin temperature; no resting "
                  "heart rate estimate and no altimeter"),
    DeviceProfile("ring", ("heart_rate", "resting_heart_rate", "rmssd", "steps", "skin_temperature"),
                  "smart ring (Oura class)",
                  "optical heart rate and RMSSD, a daily resting heart rate, steps from its accelerometer and "
                  "finger skin temperature"),
    DeviceProfile("heart_rate_only", ("heart_rate",), "any heart-rate monitor or export with heart rate alone",
                  "the one channel every wearable exports"),
    DeviceProfile("skin_temperature_only", ("skin_temperature",), "a temperature patch or logger",
                  "a single temperature channel"),
)

#: Profile name -> its channels, in canonical order.
DEVICE_PROFILES: dict[str, tuple[str, ...]] = {p.name: p.channels for p in PROFILES}
assert all(set(p.channels) <= set(CHANNEL_NAMES) for p in PROFILES), "a profile names an unknown channel"


def profile_channels(profile) -> tuple[str, ...]:
    """Return the channels of ``profile``, in canonical order.

    Parameters
    ----------
    profile : str, DeviceProfile or list of str
        A name in :data:`DEVICE_PROFILES`, a :class:`DeviceProfile`, or a list of channel names
        (aliases resolved).

    Returns
    -------
    tuple of str
        Canonical channel names, in canonical order.

    Raises
    ------
    ValueError
        For unknown names, an empty list or repeated channels, naming them.
    TypeError
        If ``profile`` is neither a profile name nor a list of channel names.

    Examples
    --------
    >>> profile_channels("sports_watch")
    ('heart_rate', 'steps', 'altitude_std')
    """
    if isinstance(profile, DeviceProfile):
        profile = profile.channels
    if isinstance(profile, str):
        if profile not in DEVICE_PROFILES:
            raise ValueError(f"unknown device profile {profile!r}; valid profiles: {', '.join(DEVICE_PROFILES)} "
                             f"(or pass a list of channel names)")
        return DEVICE_PROFILES[profile]
    try:
        names = [resolve_channel(c) for c in profile]
    except TypeError:
        raise TypeError(f"profile must be a profile name ({', '.join(DEVICE_PROFILES)}) or a list of channel "
                        f"names, got {type(profile).__name__}") from None
    if not names:
        raise ValueError("the profile names no channel; pass a profile name or at least one channel name")
    repeated = sorted({c for c in names if names.count(c) > 1})
    if repeated:
        raise ValueError(f"the profile repeats channels {repeated}")
    return tuple(c for c in CHANNEL_NAMES if c in names)


def profile_name(profile) -> str:
    """Return a display name for a profile.

    Parameters
    ----------
    profile : str, DeviceProfile or list of str
        A profile name or a list of channel names, as for :func:`profile_channels`.

    Returns
    -------
    str
        ``profile`` itself when it is a name in :data:`DEVICE_PROFILES`; otherwise its channels
        joined by ``+``.
    """
    if isinstance(profile, str) and profile in DEVICE_PROFILES:
        return profile
    return "+".join(profile_channels(profile))


def profile_table() -> pd.DataFrame:
    """Return the device profiles as a DataFrame indexed by name.

    Returns
    -------
    pandas.DataFrame
        One row per profile: ``device`` (its kind), ``n_channels``, ``channels`` and ``why``.
    """
    rows = [{"name": p.name, "device": p.device, "n_channels": len(p.channels), "channels": ", ".join(p.channels),
             "why": p.why} for p in PROFILES]
    return pd.DataFrame(rows).set_index("name")
