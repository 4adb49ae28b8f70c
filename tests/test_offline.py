"""Everything runs offline: the guard of tests/conftest.py is on, and the main API needs no network.

The guard covers the whole suite (nbval's notebook kernels included); these tests check that it is
really on in this process and in a fresh subprocess, and run the main API end to end in one.
"""

import os
import socket
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(os.environ.get("LSMKIT_ALLOW_NETWORK") == "1", reason="network guard switched off")

MAIN_API = """
import lsmkit
from lsmkit import downstream, masks, probe
windows = lsmkit.load_sample()
model = lsmkit.load_pretrained()
batch = windows.isel(window=slice(0, 8))
filled = model.impute(batch, masks.random(batch, 0.5, rng=0))
table = lsmkit.evaluate({"model": model, "linear": lsmkit.baselines.Linear()}, batch, rng=0, n_boot=10)
sweep = lsmkit.load_sample("cpu_sweep")
fit = lsmkit.scaling.fit_power_law(sweep["flops"], sweep["loss_random"], n_boot=5)
cohort = downstream.evaluation_cohort(6, days=3, seed=1)
tasks = downstream.task_windows(downstream.session_windows(cohort, rng=0), "exercise")
scores = probe.evaluate(probe.LinearProbe(model), tasks, rng=0, n_boot=20)
print("ok", len(table), round(float(scores["value"].iloc[0]), 3))
"""


def test_outbound_connections_are_refused_and_logged(tmp_path, monkeypatch):
    log = tmp_path / "network.log"
    monkeypatch.setenv("LSMKIT_NETWORK_LOG", str(log))  # this attempt is the test's own: keep it off the session log
    with socket.socket() as s, pytest.raises(ConnectionRefusedError, match="offline test guard"):
        s.connect(("192.0.2.1", 443))  # TEST-NET-1: never routable, and refused before trying
    with socket.socket() as s, pytest.raises(ConnectionRefusedError, match="offline test guard"):
        s.connect(("pypi.org", 443))  # a host name is refused without a DNS query
    assert "192.0.2.1" in log.read_text() and "pypi.org" in log.read_text()


def test_loopback_still_works():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.socket() as client:
            client.connect(server.getsockname())


def test_main_api_runs_in_a_guarded_subprocess(tmp_path):
    log = tmp_path / "network.log"
    env = dict(os.environ, LSMKIT_NETWORK_LOG=str(log), OMP_NUM_THREADS="1",
               HF_HUB_OFFLINE="0", NO_PROXY="", no_proxy="")  # nothing here may rely on being told to stay offline
    probe_guard = "import socket\ntry:\n    socket.create_connection(('192.0.2.1', 80), timeout=1)\nexcept ConnectionRefusedError:\n    print('guarded')\n"
    guarded = subprocess.run([sys.executable, "-c", probe_guard], env=env, capture_output=True, text=True, timeout=60)
    assert guarded.stdout.strip() == "guarded", guarded.stderr
    log.write_text("")
    result = subprocess.run([sys.executable, "-c", MAIN_API], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("ok"), result.stdout
    assert log.read_text() == "", log.read_text()
