"""Safety properties of the source itself: nothing unpickles, and JupyterLab serves only localhost.

The scan walks the syntax tree of every Python file in lsmkit/, widgets/, benchmarks/ and
data_samples/, so comments and strings that mention the calls do not count. It matches calls by
their dotted name (``torch.load``, ``np.load``): an aliased import such as ``import torch as T``
would slip past it.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for folder in ("lsmkit", "widgets", "benchmarks", "data_samples") for p in (ROOT / folder).rglob("*.py"))
UNPICKLING_MODULES = {"pickle", "cPickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def _name(func: ast.expr) -> str:
    """Dotted name of a call's target (``torch.load``), or "" when it is not a plain name."""
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
        return ".".join(reversed(parts))
    return ""


def _keyword(call: ast.Call, name: str):
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def test_the_scan_sees_the_sources():
    assert len(SOURCES) > 20 and ROOT / "lsmkit" / "pretrained.py" in SOURCES


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_unpickling(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bad = {a.name.split(".")[0] for a in node.names} & UNPICKLING_MODULES
            assert not bad, f"{path.name}:{node.lineno} imports {bad}"
        if isinstance(node, ast.ImportFrom) and node.module:
            assert node.module.split(".")[0] not in UNPICKLING_MODULES, f"{path.name}:{node.lineno} imports {node.module}"
    for call in _calls(tree):
        name = _name(call.func)
        if name.endswith("torch.load"):
            value = _keyword(call, "weights_only")
            assert isinstance(value, ast.Constant) and value.value is True, \
                f"{path.name}:{call.lineno} calls torch.load without weights_only=True"
        if name in ("np.load", "numpy.load"):
            value = _keyword(call, "allow_pickle")
            assert value is None or (isinstance(value, ast.Constant) and value.value is False), \
                f"{path.name}:{call.lineno} calls np.load with allow_pickle"
        if name.endswith("read_pickle"):
            pytest.fail(f"{path.name}:{call.lineno} calls {name}")


def test_the_scan_catches_an_unsafe_call():
    tree = ast.parse("import torch\nstate = torch.load('x.pt')\nok = torch.load('y.pt', weights_only=True)\n")
    unsafe = [c.lineno for c in _calls(tree)
              if _name(c.func) == "torch.load" and not isinstance(_keyword(c, "weights_only"), ast.Constant)]
    assert unsafe == [2]


def test_jupyterlab_serves_localhost_with_a_token():
    script = (ROOT / "run").read_text()
    lab = [line for line in script.splitlines() if "jupyter\" lab" in line]
    assert len(lab) == 1
    assert "--ServerApp.ip=127.0.0.1" in lab[0]
    for disabled in ("token=''", 'token=""', "IdentityProvider.token=", "ServerApp.token=", "--no-browser --ip=0.0.0.0",
                     "disable_check_xsrf", "password_required=False"):
        assert disabled not in script, f"run must not weaken authentication ({disabled!r})"
