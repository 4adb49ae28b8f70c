"""Every curated notebook is committed clean and follows the skeleton in DESIGN.md.

Clean means: no widget state (``metadata.widgets``, megabytes of JavaScript), and outputs kept only
for the cells tagged ``nbval-check-output`` (with their execution counts, so that nbval compares
them); figures, widgets and reprs are re-created when the notebook runs. To clean notebooks after
running them in JupyterLab::

    python tests/test_notebooks_clean.py --fix notebooks/*.ipynb

Skeleton: a markdown title first, a "What you will learn" section, exactly one code cell tagged
``parameters`` that sets ``FAST``, a "Summary" section; logic comes from lsmkit only (imports limited
to lsmkit, lsmkit.widgets, numpy, pandas, xarray, plotly and a few standard-library helpers).
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
CHECK_TAG = "nbval-check-output"
ALLOWED_IMPORTS = {"lsmkit", "numpy", "pandas", "xarray", "plotly", "tempfile", "pathlib"}
MAX_BYTES = 300_000


def _read(path: Path):
    import nbformat

    return nbformat.read(path, as_version=4)


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _checked(cell) -> bool:
    return CHECK_TAG in _tags(cell) or "# NBVAL_CHECK_OUTPUT" in cell.source


def strip(nb):
    """Remove widget state and every output except those of checked cells (in place)."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        if not _checked(cell):
            cell.outputs = []
            cell.execution_count = None
        for output in cell.outputs:
            output.get("metadata", {}).pop("application/vnd.jupyter.widget-view+json", None)
            output.get("data", {}).pop("application/vnd.jupyter.widget-view+json", None)
    return nb


def _code(cell) -> str:
    # IPython magics and shell escapes are not Python; notebooks should not need them anyway
    return "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))


@pytest.fixture(params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def notebook(request):
    return request.param, _read(request.param)


def test_there_are_notebooks():
    assert {"_template.ipynb", "01_data_tour.ipynb"} <= {p.name for p in NOTEBOOKS}


def test_no_widget_state_and_small(notebook):
    path, nb = notebook
    assert "widgets" not in nb.metadata, f"{path.name} carries widget state; run: python {__file__} --fix {path}"
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size} bytes"


def test_only_checked_cells_keep_outputs_and_they_have_counts(notebook):
    path, nb = notebook
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        if _checked(cell):
            assert cell.execution_count is not None and cell.outputs, (
                f"{path.name} code cell {i} is tagged {CHECK_TAG} but has no stored output or count, "
                "so nbval would not compare it: run the notebook, then strip it"
            )
            assert all(o.output_type != "error" for o in cell.outputs), f"{path.name} code cell {i} stored an error"
        else:
            assert not cell.outputs, f"{path.name} code cell {i} keeps outputs; run: python {__file__} --fix {path}"


def test_skeleton(notebook):
    path, nb = notebook
    first = nb.cells[0]
    assert first.cell_type == "markdown" and re.match(r"# \S", first.source), f"{path.name}: first cell must be a '# Title'"
    headings = [line for c in nb.cells if c.cell_type == "markdown" for line in c.source.splitlines() if line.startswith("#")]
    assert any(re.match(r"##\s+What you will learn", h) for h in headings), f"{path.name}: no 'What you will learn'"
    assert any(re.match(r"##\s+Summary", h) for h in headings), f"{path.name}: no '## Summary' heading"
    parameters = [c for c in nb.cells if "parameters" in _tags(c)]
    assert len(parameters) == 1, f"{path.name}: expected exactly one cell tagged 'parameters', found {len(parameters)}"
    assert parameters[0].cell_type == "code"
    assigned = {name.id for node in ast.parse(parameters[0].source).body if isinstance(node, ast.Assign)
                for target in node.targets for name in ast.walk(target) if isinstance(name, ast.Name)}
    assert "FAST" in assigned, f"{path.name}: the parameters cell must set FAST"
    params_at = nb.cells.index(parameters[0])
    learn_at = next(i for i, c in enumerate(nb.cells) if "What you will learn" in c.source)
    summary_at = next(i for i, c in enumerate(nb.cells) if re.search(r"^##\s+Summary", c.source, re.M))
    assert learn_at < params_at < summary_at, f"{path.name}: order must be title, what you will learn, parameters, ..., summary"


def test_logic_comes_from_lsmkit(notebook):
    path, nb = notebook
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        tree = ast.parse(_code(cell))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{path.name} code cell {i}: relative import"
                modules = [node.module]
            else:
                assert not isinstance(node, ast.ClassDef), f"{path.name} code cell {i} defines a class: move it to lsmkit"
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    assert len(node.body) <= 5, f"{path.name} code cell {i}: function {node.name!r} belongs in lsmkit"
                continue
            roots = {m.split(".")[0] for m in modules}
            assert roots <= ALLOWED_IMPORTS, f"{path.name} code cell {i} imports {sorted(roots - ALLOWED_IMPORTS)}"


def test_strip_removes_widget_state_and_unchecked_outputs():
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    checked = new_code_cell("print(1)", metadata={"tags": [CHECK_TAG]}, execution_count=3,
                            outputs=[new_output("stream", name="stdout", text="1\n")])
    figure = new_code_cell("fig", execution_count=4, outputs=[new_output("execute_result", data={"text/plain": "x"})])
    nb = new_notebook(cells=[checked, figure], metadata={"widgets": {"state": {}}})
    strip(nb)
    nbformat.validate(nb)
    assert "widgets" not in nb.metadata
    assert (checked.execution_count, len(checked.outputs)) == (3, 1)
    assert (figure.execution_count, figure.outputs) == (None, [])


if __name__ == "__main__":
    import nbformat

    if sys.argv[1:2] != ["--fix"] or len(sys.argv) < 3:
        sys.exit(f"usage: python {sys.argv[0]} --fix NOTEBOOK.ipynb ...")
    for name in sys.argv[2:]:
        nb = strip(_read(Path(name)))
        nbformat.write(nb, name)
        print(f"stripped {name}")
