"""lsmkit.read_device: the format is guessed from the file names, each export reaches its reader,
and what cannot be read is refused by name. Each format's own behaviour is in tests/test_<format>.py."""

import warnings

import numpy as np
import pytest

import lsmkit
from lsmkit.io import DEVICE_FORMATS, apple_health, empatica_e4, fit, fitbit, guess_format

WRITERS = {
    "apple_health": (apple_health, "smartwatch", "export.zip"),
    "fitbit": (fitbit, ["heart_rate", "resting_heart_rate", "rmssd", "steps"], "fitbit_export"),
    "fit": (fit, "sports_watch", "ride.fit"),
    "empatica_e4": (empatica_e4, "research_wristband", "session.zip"),
}


@pytest.fixture(scope="module")
def day():
    return lsmkit.simulate(1, 1, seed=3)


@pytest.mark.parametrize("format", list(WRITERS))
def test_every_format_is_recognised_and_read_back_with_its_channels_only(format, day, tmp_path):
    module, profile, name = WRITERS[format]
    recordings = lsmkit.restrict(day, profile)
    path = module.write_example(recordings, tmp_path / name) or tmp_path / name
    assert guess_format(path) == format
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        read = lsmkit.read_device(path)
    assert read.attrs["format"] == format
    observed = set(lsmkit.observed_channels(read))
    assert set(lsmkit.profile_channels(profile)) & observed  # what the device records came back
    assert observed <= set(lsmkit.profile_channels("full")) - set(_never_from(profile, observed))
    # every minute's heart rate is the simulated one, to the vendor's rounding and beat resolution
    want = recordings["signal"].sel(channel="heart_rate").values[0]
    start = int((read["start"].values[0] - recordings["start"].values[0]) / np.timedelta64(1, "m"))
    got = read["signal"].sel(channel="heart_rate").values[0]
    both = np.isfinite(got) & np.isfinite(want[start : start + len(got)])
    assert both.sum() > 100
    np.testing.assert_allclose(got[both], want[start : start + len(got)][both], atol=1.5)


def _never_from(profile, observed):
    """Channels a device of ``profile`` cannot give (none from beats: those it derives are allowed)."""
    derived = {"rr_percent_valid", "rr_p80", "rr_p20", "rr_median", "rr_entropy", "rr_diff_entropy", "rmssd", "sdnn"}
    channels = set(lsmkit.profile_channels(profile))
    return [c for c in lsmkit.CHANNEL_NAMES if c not in channels and c not in derived]


def test_an_explicit_format_skips_the_guess(day, tmp_path):
    path = fit.write_example(lsmkit.restrict(day, "sports_watch"), tmp_path / "ride.fit").rename(tmp_path / "ride.bin")
    with pytest.raises(ValueError, match="cannot tell the device format"):
        guess_format(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert lsmkit.read_device(path, format="fit").attrs["format"] == "fit"


def test_unknown_formats_missing_paths_and_unrecognised_files_are_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match=r"unknown device format 'garmin'; expected one of \['apple_health'"):
        lsmkit.read_device(tmp_path, format="garmin")
    with pytest.raises(FileNotFoundError, match="no such file or folder: '.*nowhere.zip'"):
        lsmkit.read_device(tmp_path / "nowhere.zip")
    with pytest.raises(TypeError, match="path must be a str or os.PathLike, got int"):
        lsmkit.read_device(3)
    notes = tmp_path / "notes.txt"
    notes.write_text("not an export\n")
    with pytest.raises(ValueError, match=r"cannot tell the device format of '.*notes.txt' \(none of the readers"):
        lsmkit.read_device(notes)
    assert set(DEVICE_FORMATS) == {"apple_health", "fitbit", "fit", "empatica_e4"}
