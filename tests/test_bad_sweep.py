"""Sweep results tables on awkward platforms: no ``fcntl`` (Windows) or filesystems that refuse
``flock`` still get whole rows, with a warning where concurrent appenders could interleave."""

import errno
import warnings

import pytest

from lsmkit import sweep
from lsmkit.sweep import COLUMNS, append_row, read_results


def row(run, step, loss=1.0):
    return {c: 0 for c in COLUMNS} | {"run": run, "preset": "tiny", "step": step, "loss_random": loss}


@pytest.mark.skipif(sweep.fcntl is None, reason="no fcntl on this platform")
@pytest.mark.parametrize("code", [errno.ENOLCK, errno.EOPNOTSUPP])
def test_a_filesystem_without_locks_appends_whole_rows_with_one_warning(tmp_path, monkeypatch, code):
    def refuse(fd, operation):
        raise OSError(code, "no locks here")

    monkeypatch.setattr(sweep.fcntl, "flock", refuse)
    monkeypatch.setattr(sweep, "_warned_no_lock", False)
    path = tmp_path / "results.csv"
    with pytest.warns(UserWarning, match="may interleave.*results-\\$i.csv"):
        append_row(path, row("a", 1, 2.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once: the second append is silent
        append_row(path, row("a", 2, 1.5))
    table = read_results(path)
    assert table["step"].tolist() == [1, 2] and table["loss_random"].tolist() == [2.0, 1.5]


@pytest.mark.skipif(sweep.fcntl is None, reason="no fcntl on this platform")
def test_other_lock_errors_are_not_swallowed(tmp_path, monkeypatch):
    def refuse(fd, operation):
        raise OSError(errno.EBADF, "bad file descriptor")

    monkeypatch.setattr(sweep.fcntl, "flock", refuse)
    with pytest.raises(OSError, match="bad file descriptor"):
        append_row(tmp_path / "results.csv", row("a", 1))


def test_without_fcntl_rows_are_appended_unlocked(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep, "fcntl", None)  # as on Windows
    path = tmp_path / "results.csv"
    append_row(path, row("a", 1, 2.0))
    append_row(path, row("a", 2, 1.5))
    assert read_results(path)["loss_random"].tolist() == [2.0, 1.5]
