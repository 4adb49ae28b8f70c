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
    table = lsmkit.evaluate({"oracle": oracle, "linear": baselines.linear}, windows, rng=0, n_boot=50)
    expected = sum(len(s) for s in TASK_SIZES.values()) + 1  # + the simulator's own gaps
    assert len(table) == 2 * expected
    assert set(table["task"]) == {*TASK_SIZES, "gaps"}
    oracle_rows = table[table["method"] == "oracle"]
    assert (oracle_rows["mse"] == 0).all() and (oracle_rows["n"] > 0).all()
    linear = table[table["method"] == "linear"]
    assert (linear["mse"] > 0).all()
    assert ((linear["mse_lower"] <= linear["mse"]) & (linear["mse"] <= linear["mse_upper"])).all()


def test_every_method_sees_the_same_masks_and_results_repeat_under_a_seed(windows):
    seen = []

    def spy(w, mask):
        seen.append(mask.values.copy())
        return baselines.window_mean(w, mask)

    tasks = {"interpolation": (30,), "sensors": (6,)}
    a = lsmkit.evaluate({"spy": spy, "mean": baselines.window_mean}, windows, tasks=tasks, rng=3, n_boot=20)
    b = lsmkit.evaluate({"mean": baselines.window_mean}, windows, tasks=tasks, rng=3, n_boot=20)
    np.testing.assert_allclose(a[a["method"] == "spy"]["mse"].values, a[a["method"] == "mean"]["mse"].values)
    np.testing.assert_allclose(a[a["method"] == "mean"]["mse"].values, b["mse"].values)
    assert not np.array_equal(seen[0], seen[1])  # the two tasks' masks differ


def test_errors(windows):
    with pytest.raises(ValueError, match="methods is empty"):
        lsmkit.evaluate({}, windows)
    with pytest.raises(ValueError, match="unknown task 'denoise'"):
        lsmkit.evaluate({"mean": baselines.window_mean}, windows, tasks={"denoise": (1,)})
