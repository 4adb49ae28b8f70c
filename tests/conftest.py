"""Run the whole suite offline: outbound network is refused in pytest and every process it starts.

See tests/offline/sitecustomize.py. ``LSMKIT_ALLOW_NETWORK=1`` switches the guard off (for example
to debug a test against a live service); CI never sets it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

OFFLINE = Path(__file__).parent / "offline"


def pytest_configure(config):
    if os.environ.get("LSMKIT_ALLOW_NETWORK") == "1":
        return
    if "LSMKIT_NETWORK_LOG" not in os.environ:  # the controller; xdist workers inherit its log
        handle, path = tempfile.mkstemp(prefix="lsmkit-network-", suffix=".log")
        os.close(handle)
        os.environ["LSMKIT_NETWORK_LOG"] = path
    paths = [str(OFFLINE), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))  # kernels and subprocesses
    if "sitecustomize" not in sys.modules or not sys.modules["sitecustomize"].__file__.startswith(str(OFFLINE)):
        sys.path.insert(0, str(OFFLINE))
        import importlib

        sys.modules.pop("sitecustomize", None)
        importlib.import_module("sitecustomize")  # this process too


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("LSMKIT_NETWORK_LOG")
    if not path or hasattr(session.config, "workerinput"):  # only the controller reports
        return
    attempts = Path(path).read_text() if Path(path).exists() else ""
    Path(path).unlink(missing_ok=True)  # one log per session: nothing carries over to the next run
    if attempts:
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            "outbound network attempts during the tests (refused):\n" + attempts, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
