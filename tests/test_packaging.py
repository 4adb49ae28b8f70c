"""The package installs as promised: one dependency list, widgets as lsmkit.widgets, data in wheels."""

import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch"}  # PyPI name -> conda-forge name where they differ


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_names = {_name(r) for r in project["dependencies"]}
    for extra in ("test", "docs"):
        pip_names |= {_name(r) for r in project["optional-dependencies"][extra]}
    conda = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    conda_names = {_name(d) for d in conda if isinstance(d, str)} - {"python", "pip"}
    assert conda_names == {CONDA_NAMES.get(n, n) for n in pip_names}


def test_torch_is_not_pinned_exactly_in_pyproject():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    torch = [d for d in deps if _name(d) == "torch"]
    assert torch and "==" not in torch[0]
    assert "torch==" in (ROOT / "constraints.txt").read_text()


PROBE = textwrap.dedent(
    """
    import lsmkit, lsmkit.widgets
    from lsmkit.samples import sample_path
    print(lsmkit.__file__)
    print(lsmkit.widgets.__file__)
    print(sample_path("cohort"))
    print(lsmkit.load_sample("cohort").sizes["window"])
    """
)


def _probe(cwd, env=None):
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_editable_install_maps_widgets_and_data(tmp_path):
    lsmkit_file, widgets_file, sample, n_windows = _probe(tmp_path)
    assert Path(lsmkit_file).parent == ROOT / "lsmkit"
    assert Path(widgets_file).parent == ROOT / "widgets"
    assert Path(sample).parent == ROOT / "data_samples"
    assert int(n_windows) > 0


@pytest.mark.slow
def test_wheel_install_carries_widgets_and_data(tmp_path):
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", wheels, ROOT],
                   check=True, capture_output=True)
    (wheel,) = wheels.glob("lsmkit-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", target, wheel],
                   check=True, capture_output=True)
    # PYTHONPATH comes before the editable install's finder, so this imports the wheel's copy.
    lsmkit_file, widgets_file, sample, n_windows = _probe(tmp_path, env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert Path(lsmkit_file).parent == target / "lsmkit"
    assert Path(widgets_file).parent == target / "lsmkit" / "widgets"
    assert Path(sample).parent == target / "lsmkit" / "data_samples"
    assert int(n_windows) > 0
