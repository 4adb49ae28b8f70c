"""The one benchmark command, ``python -m benchmarks``: it runs the chosen scripts in their own
processes and gathers machine, versions and headline numbers into one results folder."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def benchmarks(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "benchmarks", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_runs_the_chosen_benchmarks_and_gathers_their_headlines(tmp_path):
    earlier = {"benchmark": "widgets", "headline": {"MaskExplorer: p95 (ms)": 86.9, "mean |error| %": 5.2}}
    (tmp_path / "widgets.json").write_text(json.dumps(earlier))  # results of an earlier invocation
    done = benchmarks("--quick", "--only", "simulator", "--out-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]

    record = json.loads((tmp_path / "simulator.json").read_text())
    assert record["benchmark"] == "simulator" and record["seconds"] > 0
    rates = record["headline"]
    assert set(rates) == {"simulate (windows/s, one core)", "simulate + to_windows (windows/s, one core)"}
    assert all(isinstance(v, int) and v > 0 for v in rates.values())
    machine = json.loads((tmp_path / "machine.json").read_text())
    assert machine["cores"] >= 1 and machine["versions"]["numpy"] and machine["versions"]["python"]
    assert (tmp_path / "logs" / "simulator.log").read_text().startswith("$ ")

    readme = (tmp_path / "README.md").read_text()
    assert "| [simulator](simulator.md) | simulator windows/s on one core | ok |" in readme
    assert f"| simulate (windows/s, one core) | {rates['simulate (windows/s, one core)']} |" in readme
    assert "| [loaders](loaders.md) |" in readme and "not run (earlier results kept)" in readme
    assert "### widgets (an earlier run, written" in readme and "| MaskExplorer: p95 (ms) | 86.9 |" in readme
    assert "| mean \\|error\\| % | 5.2 |" in readme  # a pipe in a label would split its Markdown cell


def test_unknown_benchmark_is_refused_by_name(tmp_path):
    done = benchmarks("--only", "simulator,warp-drive", "--out-dir", str(tmp_path))
    assert done.returncode != 0 and "unknown benchmark(s) warp-drive; choose from simulator" in done.stderr
    assert not any(tmp_path.iterdir())  # nothing ran


def test_a_failing_benchmark_is_reported_the_others_still_run_and_the_exit_status_says_so(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("benchmarks_main", ROOT / "benchmarks" / "__main__.py")
    runner = importlib.util.module_from_spec(spec)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the runner puts benchmarks/ on it: undone after the test
    monkeypatch.setitem(sys.modules, "benchmarks_main", runner)  # dataclasses look their module up there
    spec.loader.exec_module(runner)
    ghost = runner.Benchmark("ghost", "a script that does not exist")
    simulator = next(b for b in runner.BENCHMARKS if b.name == "simulator")
    monkeypatch.setattr(runner, "BENCHMARKS", (ghost, simulator))
    monkeypatch.setattr(runner, "NAMES", ("ghost", "simulator"))
    with pytest.raises(SystemExit, match="failed: ghost"):
        runner.main(["--quick", "--out-dir", str(tmp_path)])
    readme = (tmp_path / "README.md").read_text()
    assert "| [ghost](ghost.md) | a script that does not exist | failed (exit 2) |" in readme
    assert "| [simulator](simulator.md) | simulator windows/s on one core | ok |" in readme
    assert "ghost.py" in (tmp_path / "logs" / "ghost.log").read_text()


def test_the_results_readme_carries_each_tables_quoted_notes(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("benchmarks_main", ROOT / "benchmarks" / "__main__.py")
    runner = importlib.util.module_from_spec(spec)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setitem(sys.modules, "benchmarks_main", runner)
    spec.loader.exec_module(runner)
    note = "> Measured with other weights than today's."
    (tmp_path / "simulator.md").write_text(f"# simulator\n\n{note}\n\n| a | b |\n|---|---|\n> not a note\n")
    (tmp_path / "simulator.json").write_text(json.dumps({"headline": {"windows/s": 3}, "written": "today"}))
    machine = {"versions": {"lsmkit": "0"}, "commit": "abc", "cpu": "cpu", "cores": 2, "memory_gib": 1, "platform": "p"}
    readme = runner.summary(tmp_path, {}, False, machine)
    assert readme.count(note) == 1 and "not a note" not in readme
    assert readme.index("### simulator") < readme.index(note)


def _script(monkeypatch, name):
    """A benchmark script imported as a module (its ``main`` does not run)."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # for the script's sibling import of _report
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    return script


def _pretraining_probe(monkeypatch):
    return _script(monkeypatch, "pretraining_probe")


def test_downstream_skip_keeps_method_names_whole_and_refuses_unknown_pairs(monkeypatch):
    script = _script(monkeypatch, "downstream")
    methods = ["linear probe", "linear probe, paper pooling", "fine-tune"]
    # A method name with a comma is one pair; "linear probe" alone is not skipped by it.
    assert script.parse_skip("activity:fine-tune, exercise:linear probe, paper pooling,age:linear probe",
                             methods) == {("activity", "fine-tune"), ("exercise", "linear probe, paper pooling"),
                                          ("age", "linear probe")}
    assert script.parse_skip("exercise:linear probe, paper pooling", methods) == {
        ("exercise", "linear probe, paper pooling")}
    assert script.parse_skip("", methods) == set()
    for bad in ("activity:linear probe,paper pooling", "sleep:fine-tune", "fine-tune", "activity:fine tune"):
        with pytest.raises(ValueError, match="is not a task:method pair"):
            script.parse_skip(bad, methods)


def test_pretraining_probe_shortens_the_shipped_recipe_and_changes_nothing_else(monkeypatch):
    script = _pretraining_probe(monkeypatch)
    import dataclasses

    import lsmkit
    from lsmkit.train import _plain

    card = lsmkit.load_pretrained().card
    config = script.recipe(card, 250)
    assert (config.steps, config.val_every) == (250, 125)
    shipped = card["training"]["config"]
    changed = {k for k, v in _plain(config).items() if k in shipped and v != shipped[k]}
    assert changed == {"steps", "val_every"}
    added_since = {"patch", "channel_dropout", "calibration", "instance_norm", "residual", "bf16", "val_profiles", "init", "val_data"}
    assert {f.name for f in dataclasses.fields(config)} - set(shipped) <= added_since  # at their defaults


def test_pretraining_probe_mix_seed_and_preset_change_only_themselves_and_bad_values_are_refused(monkeypatch):
    import argparse

    import lsmkit
    from lsmkit.train import _plain

    script = _pretraining_probe(monkeypatch)
    card = lsmkit.load_pretrained().card
    assert script.parse_mix("random=0.5, sensors=1.5") == {"random": 0.5, "sensors": 1.5}
    config = script.recipe(card, 250, script.parse_mix("sensors=1"))
    assert config.mask_mix == {"sensors": 1.0}
    plain, base = _plain(config), _plain(script.recipe(card, 250))
    assert {k for k in plain if plain[k] != base[k]} == {"mask_mix"}
    reseeded = _plain(script.recipe(card, 250, seed=7))
    assert {k for k in reseeded if reseeded[k] != base[k]} == {"seed"} and reseeded["seed"] == 7
    larger = _plain(script.recipe(card, 250, preset="7M"))
    assert {k for k in larger if larger[k] != base[k]} == {"preset"} and larger["preset"] == "7M"
    with pytest.raises(ValueError, match="unknown preset"):
        script.recipe(card, 250, preset="7B")
    for bad in ("sensors", "sensors=lots", "sensors=1,random"):
        with pytest.raises(argparse.ArgumentTypeError, match="task=weight"):
            script.parse_mix(bad)
    with pytest.raises(ValueError, match="mask_mix"):  # TrainConfig names the tasks it knows
        script.recipe(card, 250, script.parse_mix("gaps=1"))


def test_device_profiles_summary_picks_the_best_other_method_and_applies_the_targets(monkeypatch):
    import pandas as pd

    script = _script(monkeypatch, "device_profiles")
    rows = []
    for profile, model, linear, mean in (("smartwatch", 0.5, 0.7, 0.9), ("heart_rate_only", 0.3, 0.29, 0.8),
                                         ("full", 0.30, 0.5, 0.6)):
        for size, bump in ((10, 0.0), (30, 0.02)):
            rows += [{"profile": profile, "task": "interpolation", "size": size, "method": m, "mse": v + bump}
                     for m, v in (("lsmkit", model), ("linear interpolation", linear), ("window mean", mean))]
    summary = script.targets(script.summarise(pd.DataFrame(rows), None)).set_index("profile")
    assert summary.loc["smartwatch", "best other"] == "linear interpolation"
    assert summary.loc["smartwatch", "reduction %"] == pytest.approx(100 * (1 - 0.51 / 0.71))
    assert bool(summary.loc["smartwatch", "target met"])  # 28% >= 15%
    assert not summary.loc["heart_rate_only", "target met"]  # one channel: above linear at every size
    assert bool(summary.loc["full", "target met"])  # 40% below, and 0.31 within 3% of 0.393
