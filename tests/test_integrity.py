"""Every bundled file (each sample and the shipped weights) is checked against its recorded sha256
before use: a truncated, emptied, bit-flipped or missing copy is refused with an error that names
the file, and nothing is read from it."""

import json
import shutil

import pytest

import lsmkit
from lsmkit import pretrained, samples


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _empty(path):
    path.write_bytes(b"")


def _flip_byte(path):
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3] ^= 0x01  # one bit, in the middle of the data
    path.write_bytes(bytes(raw))


def _append(path):
    path.write_bytes(path.read_bytes() + b"\n")


DAMAGE = {"truncated": _truncate, "empty": _empty, "one bit flipped": _flip_byte, "a byte appended": _append}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
@pytest.mark.parametrize("name", list(samples.SAMPLES), ids=list(samples.SAMPLES))
def test_damaged_sample_is_refused_by_name(name, damage, tmp_path, monkeypatch):
    copy = tmp_path / samples.SAMPLES[name].file
    shutil.copy(samples.sample_path(name), copy)
    DAMAGE[damage](copy)
    monkeypatch.setattr(samples, "sample_path", lambda _: copy)
    with pytest.raises(ValueError, match=rf"sample '{name}' at .*{copy.name} is corrupted or was changed: sha256"):
        lsmkit.load_sample(name)


@pytest.mark.parametrize("name", list(samples.SAMPLES), ids=list(samples.SAMPLES))
def test_missing_sample_says_how_to_get_it_back(name, tmp_path, monkeypatch):
    monkeypatch.setattr(samples, "sample_path", lambda _: tmp_path / samples.SAMPLES[name].file)
    with pytest.raises(FileNotFoundError, match="is missing; reinstall lsmkit"):
        lsmkit.load_sample(name)


@pytest.mark.parametrize("name", list(samples.SAMPLES), ids=list(samples.SAMPLES))
def test_every_bundled_sample_matches_its_recorded_hash(name):
    assert samples._sha256(samples.sample_path(name)) == samples.SAMPLES[name].sha256


@pytest.fixture()
def shipped(tmp_path, monkeypatch):
    """A private copy of the shipped weights and cards, which the tests may damage."""
    for path in pretrained._weights_dir().iterdir():
        shutil.copy(path, tmp_path / path.name)
    monkeypatch.setattr(pretrained, "_weights_dir", lambda: tmp_path)
    return tmp_path


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
@pytest.mark.parametrize("name", pretrained.list_pretrained())
def test_damaged_weights_are_refused_by_name(name, damage, shipped):
    DAMAGE[damage](shipped / f"{name}.safetensors")
    with pytest.raises(ValueError, match=rf"weights .*{name}.safetensors are corrupted or were changed: sha256"):
        pretrained.load_pretrained(name)


@pytest.mark.parametrize("name", pretrained.list_pretrained())
def test_missing_weights_say_how_to_get_them_back(name, shipped):
    (shipped / f"{name}.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match=rf"{name}.safetensors is missing; reinstall lsmkit"):
        pretrained.load_pretrained(name)


@pytest.mark.parametrize("damage", ["truncated", "empty"])
@pytest.mark.parametrize("name", pretrained.list_pretrained())
def test_damaged_card_is_refused_by_name(name, damage, shipped):
    DAMAGE[damage](shipped / f"{name}.json")
    with pytest.raises(ValueError, match=rf"card .*{name}.json is not valid JSON"):
        pretrained.load_pretrained(name)


@pytest.mark.parametrize("name", pretrained.list_pretrained())
def test_card_with_a_changed_hash_does_not_vouch_for_other_weights(name, shipped):
    path = shipped / f"{name}.json"
    card = json.loads(path.read_text())
    card["sha256"] = card["sha256"][::-1]
    path.write_text(json.dumps(card))
    with pytest.raises(ValueError, match="corrupted or were changed"):
        pretrained.load_pretrained(name)
