"""What every benchmark writes next to its numbers: the machine, the versions, and a headline.

Each script writes ``<out-dir>/<name>.md`` (for people) and ``<out-dir>/<name>.json`` (for
``python -m benchmarks``, which gathers the headlines of all of them into one README):
``{"benchmark", "command", "seconds", "machine", "headline": {label: value}}``.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

PACKAGES = ("lsmkit", "numpy", "pandas", "xarray", "dask", "zarr", "scipy", "scikit-learn", "torch", "plotly",
            "ipywidgets", "pypots")


def cpu_model() -> str:
    """The processor's marketing name and its widest vector unit (Linux), else what ``platform`` knows.

    Virtual machines often report a bare "AMD EPYC" for processors of different generations; the
    vector unit (AVX-512 with bf16, AVX-512, AVX2) tells apart timings that are not comparable.
    """
    try:
        name, flags = None, set()
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and name is None:
                name = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
        if name:
            unit = ("AVX-512 BF16" if "avx512_bf16" in flags else "AVX-512" if "avx512f" in flags
                    else "AVX2" if "avx2" in flags else None)
            return f"{name} ({unit})" if unit else name
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions(names=PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (None: not installed)."""
    found = {"python": platform.python_version()}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def version_line(names=PACKAGES) -> str:
    """``"numpy 2.4.6, pypots (not installed), ..."``: the versions for a results header."""
    return ", ".join(f"{name} {v}" if v else f"{name} (not installed)" for name, v in versions(names).items()
                     if name != "python")


def markdown(frame, digits: int = 3) -> str:
    """A pandas DataFrame as a Markdown table (no extra dependency); floats to ``digits`` places."""
    import numpy as np
    import pandas as pd

    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()
    cells = [[f"{v:.{digits}f}" if isinstance(v, (float, np.floating)) else str(v) for v in row] for row in frame.itertuples(index=False)]
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


def commit() -> str | None:
    """The repository's commit, with ``+dirty`` when tracked files other than the results differ
    from it (a run rewrites ``benchmarks/results/`` as it goes)."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)benchmarks/results"], cwd=root, capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+dirty" if dirty else "")


def machine() -> dict:
    """The machine and software a benchmark ran on."""
    pages = os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 0
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cores_this_process_may_use": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": round(pages * os.sysconf("SC_PAGE_SIZE") / 2**30, 1) if pages else None,
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "commit": commit(),
        "versions": versions(),
    }


def _command() -> str:
    return " ".join(["python", *sys.argv])


def write(out_dir, name: str, markdown: str, headline: dict, seconds: float | None = None, **extra) -> Path:
    """Write ``<name>.md`` (the command, then ``markdown``) and ``<name>.json`` to ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.md").write_text(f"# {name}\n\n`{_command()}`\n\n{markdown.rstrip()}\n")
    return write_json(out_dir, name, headline, seconds, **extra)


def write_json(out_dir, name: str, headline: dict, seconds: float | None = None, **extra) -> Path:
    """Write ``<name>.json``: the benchmark, its command, duration, machine, versions and headline."""
    record = {"benchmark": name, "command": _command(), "seconds": seconds, "machine": machine(), "headline": headline,
              **extra}
    path = Path(out_dir) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    return path
