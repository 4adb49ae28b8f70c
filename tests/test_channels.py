import numpy as np
import pytest

import lsmkit
from lsmkit.channels import SENSOR_GROUPS, channel_table, get_channel, resolve_channel


def test_registry_has_the_26_lsm_channels_in_canonical_order():
    assert len(lsmkit.CHANNELS) == 26
    groups = [c.group for c in lsmkit.CHANNELS]
    assert [groups.count(g) for g in SENSOR_GROUPS] == [10, 10, 3, 2, 1]
    assert SENSOR_GROUPS == ("heart", "accelerometer", "eda", "temperature", "altimeter")
    assert lsmkit.CHANNEL_NAMES[0] == "heart_rate" and lsmkit.CHANNEL_NAMES[-1] == "altitude_std"
    assert len(set(lsmkit.CHANNEL_NAMES)) == 26
    assert all(name == name.lower() and " " not in name for name in lsmkit.CHANNEL_NAMES)


def test_every_channel_has_unit_range_and_normalisation():
    for c in lsmkit.CHANNELS:
        lo, hi = c.valid_range
        assert lo < hi, c.name
        assert lo <= c.mean <= hi, c.name
        assert c.std > 0, c.name
        assert c.unit and c.description, c.name
        assert c.denormalise(c.normalise(np.float64(c.mean + c.std))) == pytest.approx(c.mean + c.std)


@pytest.mark.parametrize("alias", ["bpm", "heart_rate", "hr", "HR", "Heart Rate", "Heart Rate (bpm)", "heart-rate", "pulse"])
def test_heart_rate_aliases(alias):
    assert resolve_channel(alias) == "heart_rate"


@pytest.mark.parametrize("alias, name", [("step_count", "steps"), ("EDA", "scl"), ("skin_temp", "skin_temperature"),
                                         ("RMSSD (ms)", "rmssd"), ("hrv_sdnn", "sdnn"), ("rhr", "resting_heart_rate")])
def test_other_aliases(alias, name):
    assert resolve_channel(alias) == name
    assert get_channel(alias).name == name


def test_unknown_channel_names_the_valid_ones():
    with pytest.raises(ValueError, match="unknown channel 'glucose'.*heart_rate"):
        resolve_channel("glucose")
    assert resolve_channel("glucose", strict=False) is None


def test_channel_table():
    table = channel_table()
    assert list(table.index) == list(lsmkit.CHANNEL_NAMES)
    assert table.loc["heart_rate", "unit"] == "bpm"
    assert "bpm" in table.loc["heart_rate", "aliases"]
