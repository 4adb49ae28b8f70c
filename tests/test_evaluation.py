import numpy as np
import pytest

import lsmkit
from lsmkit import baselines
from lsmkit.evaluation import TASK_SIZES


@pytest.fixture(scope="module")
def windows():
    return lsmkit.load_sample().isel(window=slice(0, 12))


def oracle(windows, mask):
    """Knows the truth: zero error on every scored value."""
    out = windows.copy()
    out["signal"] = windows["truth"]
    return out


def test_tidy_table_covers_every_task_size_and_method(windows):
    table = lsmkit.evaluate({"oracle": oracle, "linear": baselines.Linear()}, windows, rng=0, n_boot=50)
    expected = sum(len(s) for s in TASK_SIZES.values()) + 1  # + the simulator's own gaps
    assert len(table) == 2 * expected
    assert set(table["task"]) == {*TASK_SIZES, "gaps"}
    oracle_rows = table[table["method"] == "oracle"]
    assert (oracle_rows["mse"] == 0).all() and (oracle_rows["n"] > 0).all()
    linear = table[table["method"] == "linear"]
    assert (linear["mse"] > 0).all()
    assert ((linear["mse_low"] <= linear["mse"]) & (linear["mse"] <= linear["mse_high"])).all()


def test_every_method_sees_the_same_masks_and_results_repeat_under_a_seed(windows):
    seen = []

    def spy(w, mask):
        seen.append(mask.values.copy())
        return baselines.WindowMean().impute(w, mask)

    tasks = {"interpolation": (30,), "sensors": (6,)}
    a = lsmkit.evaluate({"spy": spy, "mean": baselines.WindowMean()}, windows, tasks=tasks, rng=3, n_boot=20)
    b = lsmkit.evaluate({"mean": baselines.WindowMean()}, windows, tasks=tasks, rng=3, n_boot=20)
    np.testing.assert_allclose(a[a["method"] == "spy"]["mse"].values, a[a["method"] == "mean"]["mse"].values)
    np.testing.assert_allclose(a[a["method"] == "mean"]["mse"].values, b["mse"].values)
    assert not np.array_equal(seen[0], seen[1])  # the two tasks' masks differ


def test_masks_do_not_depend_on_the_bootstrap_and_n_boot_zero_skips_it(windows):
    tasks = {"interpolation": (30,), "sensors": (6,)}
    none = lsmkit.evaluate({"mean": baselines.WindowMean()}, windows, tasks=tasks, rng=3, n_boot=0, progress=False)
    many = lsmkit.evaluate({"mean": baselines.WindowMean()}, windows, tasks=tasks, rng=3, n_boot=40, progress=False)
    np.testing.assert_array_equal(none["mse"].values, many["mse"].values)  # same masks, whatever n_boot
    assert none[["mse_low", "mse_high"]].isna().all().all() and many[["mse_low", "mse_high"]].notna().all().all()


def test_errors(windows):
    with pytest.raises(ValueError, match="methods is empty"):
        lsmkit.evaluate({}, windows)
    with pytest.raises(ValueError, match="unknown task 'denoise'"):
        lsmkit.evaluate({"mean": baselines.WindowMean()}, windows, tasks={"denoise": (1,)})


def test_hidden_but_missing_values_are_never_scored(windows):
    """A method that is exact where the data was observed and absurd where it was not scores 0,
    and ``n`` counts exactly the hidden, truly observed values."""

    def exact_where_observed(w, mask):
        out = w.copy()
        out["signal"] = w["signal"].fillna(1e6)
        return out

    tasks = {"interpolation": (60,), "sensors": (6,)}
    table = lsmkit.evaluate({"m": exact_where_observed}, windows, tasks=tasks, rng=5, n_boot=20, progress=False)
    assert (table["mse"] == 0).all()
    rng = np.random.default_rng(5)  # evaluate draws the masks in order (the bootstrap from a spawned child)
    for (task, (size,)), n in zip(tasks.items(), table["n"]):
        mask = lsmkit.evaluation.task_mask(windows, task, size, rng)
        assert n == int((mask & windows["signal"].notnull()).sum())
        assert n < int(mask.sum())  # some hidden values were missing and are not counted


def test_mse_is_on_values_z_scored_with_each_channels_default_std(windows):
    def one_std_off(w, mask):
        out = w.copy()
        std = np.array([lsmkit.get_channel(c).std for c in w["channel"].values], dtype=np.float32)
        out["signal"] = w["signal"] + std
        return out

    table = lsmkit.evaluate({"m": one_std_off}, windows, tasks={"random": (0.8,)}, rng=0, n_boot=20, progress=False)
    np.testing.assert_allclose(table["mse"], 1.0, rtol=1e-5)
    np.testing.assert_allclose(table["mae"], 1.0, rtol=1e-5)
    np.testing.assert_allclose(table[["mse_low", "mse_high"]].values, 1.0, rtol=1e-5)
