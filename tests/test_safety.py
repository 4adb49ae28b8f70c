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


def unsafe_uses(tree: ast.AST) -> list[str]:
    """Every unpickling import or unsafe load call in a parsed module, as "line: what"."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: imports {a.name}" for a in node.names
                      if a.name.split(".")[0] in UNPICKLING_MODULES]
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in UNPICKLING_MODULES:
            found.append(f"{node.lineno}: imports {node.module}")
    for call in _calls(tree):
        name = _name(call.func)
        if name.endswith("torch.load"):
            value = _keyword(call, "weights_only")
            if not (isinstance(value, ast.Constant) and value.value is True):
                found.append(f"{call.lineno}: torch.load without weights_only=True")
        if name in ("np.load", "numpy.load"):
            value = _keyword(call, "allow_pickle")
            if not (value is None or (isinstance(value, ast.Constant) and value.value is False)):
                found.append(f"{call.lineno}: np.load with allow_pickle")
        if name.endswith("read_pickle"):
            found.append(f"{call.lineno}: {name}")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_unpickling(path):
    assert unsafe_uses(ast.parse(path.read_text(), filename=str(path))) == []


def test_the_scan_catches_each_unsafe_use():
    source = """
import pickle
from joblib import load
import torch, numpy as np, pandas as pd
state = torch.load("x.pt")
fine = torch.load("y.pt", weights_only=True)
loose = torch.load("z.pt", weights_only=False)
arrays = np.load("a.npy", allow_pickle=True)
safe = np.load("b.npy")
frame = pd.read_pickle("c.pkl")
"""
    assert unsafe_uses(ast.parse(source)) == [
        "2: imports pickle", "3: imports joblib", "5: torch.load without weights_only=True",
        "7: torch.load without weights_only=True", "8: np.load with allow_pickle", "10: pd.read_pickle"]


def test_jupyterlab_serves_localhost_with_a_token():
    script = (ROOT / "run").read_text()
    lab = [line for line in script.splitlines() if "jupyter\" lab" in line]
    assert len(lab) == 1
    assert "--ServerApp.ip=127.0.0.1" in lab[0]
    for disabled in ("token=''", 'token=""', "IdentityProvider.token=", "ServerApp.token=", "--no-browser --ip=0.0.0.0",
                     "disable_check_xsrf", "password_required=False"):
        assert disabled not in script, f"run must not weaken authentication ({disabled!r})"
