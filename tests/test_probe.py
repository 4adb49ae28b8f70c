import numpy as np
import pandas as pd
import pytest
import torch

import lsmkit
from lsmkit import downstream, probe


@pytest.fixture(scope="module")
def model():
    return lsmkit.load_pretrained()


@pytest.fixture(scope="module")
def windows():
    cohort = downstream.evaluation_cohort(8, days=4, seed=5, chunk=8)
    return downstream.task_windows(downstream.session_windows(cohort, rng=0), "exercise")


def _toy(n_people=6, per_person=10, seed=0):
    """Windows whose class sets the heart-rate level: separable by any sensible method."""
    rng = np.random.default_rng(seed)
    y = np.tile([0, 1], n_people * per_person // 2)
    mean = np.array([c.mean for c in lsmkit.CHANNELS])
    std = np.array([c.std for c in lsmkit.CHANNELS])
    z = rng.normal(0, 1, (len(y), 300, 26))
    z[..., 0] += 2.0 * y[:, None]  # heart rate two standard deviations higher in class 1
    people = np.repeat([f"p{i}" for i in range(n_people)], per_person)
    ds = lsmkit.make_windows((mean + std * z).astype(np.float32), participant=people, start=["2024-01-01"] * len(y))
    values, attrs = lsmkit.data.categorical(y, ["low", "high"])
    return ds.assign(label=("window", values, attrs))


# ---- labels, splits, shots ---------------------------------------------------------------------
def test_labels_keep_categories_and_read_booleans_and_strings(windows):
    y, names = probe.labels(windows)
    assert names == ("no_exercise", "exercise") and set(np.unique(y)) == {0, 1}
    y_bool, names_bool = probe.labels(windows, "exercise")
    assert names_bool == ("False", "True")
    np.testing.assert_array_equal(y_bool, y)
    strings = windows.assign(mood=("window", np.where(y == 1, "happy", "calm").astype(object)))
    y_str, names_str = probe.labels(strings, "mood")
    assert names_str == ("calm", "happy")
    np.testing.assert_array_equal(y_str, y)
    with pytest.raises(ValueError, match="windows have no 'mood' variable"):
        probe.labels(windows, "mood")
    with pytest.raises(ValueError, match="per-window label"):
        probe.labels(windows, "activity")


@pytest.mark.parametrize("seed", range(5))
def test_split_never_puts_a_participant_on_both_sides(windows, seed):
    y, _ = probe.labels(windows)
    train, test = probe.split_participants(windows, y, test_fraction=0.3, rng=seed)
    people = windows["participant"].values
    assert not set(people[train]) & set(people[test])
    assert len(train) + len(test) == windows.sizes["window"]
    assert set(y[train]) == set(y[test]) == {0, 1}
    assert 0.1 < len(test) / windows.sizes["window"] < 0.75  # whole participants: only roughly 0.3


def test_split_refuses_one_participant(windows):
    one = windows.isel(window=np.flatnonzero(windows["participant"].values == windows["participant"].values[0]))
    with pytest.raises(ValueError, match="at least 2 participants, got 1"):
        probe.split_participants(one)
    with pytest.raises(ValueError, match=r"test_fraction must lie in \(0, 1\)"):
        probe.split_participants(windows, test_fraction=1.0)


def test_shots_take_at_most_k_per_class():
    y = np.array([0] * 10 + [1] * 3 + [2] * 7)
    picked = probe.sample_shots(y, 5, rng=0)
    assert np.bincount(y[picked]).tolist() == [5, 3, 5]
    np.testing.assert_array_equal(picked, probe.sample_shots(y, 5, rng=0))
    assert len(probe.sample_shots(y, None)) == len(y)
    with pytest.raises(ValueError, match="shots must be a positive integer or None"):
        probe.sample_shots(y, 0)


# ---- methods -----------------------------------------------------------------------------------
def test_every_method_separates_an_easy_problem_and_is_deterministic(model):
    toy = _toy()
    y, _ = probe.labels(toy)
    train, test = probe.split_participants(toy, y, rng=0)
    fast = {"linear": probe.LinearProbe(model), "conv": probe.ConvProbe(model, steps=60),
            "fine-tune": probe.FineTune(model, steps=20), "scratch": probe.FineTune(model, pretrained=False, steps=60),  # instance norm: levels come slower
            "cnn": probe.CNN(steps=60)}
    for name, method in fast.items():
        X = method.features(toy)
        first = method.fit(X[train], y[train], 2, rng=1).predict(X[test])
        again = method.fit(X[train], y[train], 2, rng=1).predict(X[test])
        np.testing.assert_array_equal(first, again, err_msg=name)
        assert (first == y[test]).mean() >= 0.9, name


def test_boolean_labels_are_classes_0_and_1(model):
    toy = _toy()
    y, _ = probe.labels(toy)
    train, test = probe.split_participants(toy, y, rng=0)
    method = probe.LinearProbe(model)
    X = method.features(toy)
    as_bool = method.fit(X[train], y[train] == 1, 2).predict(X[test])
    np.testing.assert_array_equal(as_bool, method.fit(X[train], y[train], 2).predict(X[test]))


def test_training_leaves_the_pretrained_model_and_global_rng_alone(model):
    before = {k: v.clone() for k, v in model.model.state_dict().items()}
    toy = _toy()
    y, _ = probe.labels(toy)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    method = probe.FineTune(model, steps=5)
    method.fit(method.features(toy), y, 2, rng=0)
    np.testing.assert_array_equal(torch.rand(3).numpy(), expected.numpy())  # fork_rng restored it
    for k, v in model.model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_window_statistics_are_each_channels_mean_max_and_sd_and_separate_the_toy():
    toy = _toy()
    toy["signal"][0, :, 3] = np.nan  # one window lacks a channel entirely: its statistics are 0
    toy["signal"][1, :150, 0] = np.nan  # another lacks half its heart rate: statistics of the rest
    X = probe.WindowStatistics().features(toy)
    assert X.shape == (toy.sizes["window"], 3 * 26) and np.isfinite(X).all()
    hr = (toy["signal"].values[1, 150:, 0] - lsmkit.CHANNELS[0].mean) / lsmkit.CHANNELS[0].std
    np.testing.assert_allclose(X[1, [0, 26, 52]], [hr.mean(), hr.max(), hr.std()], rtol=1e-5)
    assert (X[0, [3, 29, 55]] == 0).all()
    y, _ = probe.labels(toy)
    train, test = probe.split_participants(toy, y, rng=0)
    method = probe.WindowStatistics(C=0.5)
    assert (method.fit(X[train], y[train], 2).predict(X[test]) == y[test]).mean() >= 0.9


def test_linear_probe_features_pool_every_block(model, windows):
    X = probe.LinearProbe(model).features(windows.isel(window=slice(0, 3)))
    width, depth = model.model.config.width, model.model.config.depth
    assert X.shape == (3, 2 * width * depth)
    # the default: max and min of every block's tokens, centred on the average window
    np.testing.assert_allclose(X, model.embed(windows.isel(window=slice(0, 3)), pool="max+min", layers="all",
                                              centre=True).values)
    paper = probe.LinearProbe(model, pool="mean", layers="last", centre=False)
    paper = paper.features(windows.isel(window=slice(0, 3)))
    np.testing.assert_allclose(paper, model.embed(windows.isel(window=slice(0, 3))).values)


def test_unfitted_methods_and_bad_methods_are_named(model):
    with pytest.raises(RuntimeError, match="CNN is not fitted"):
        probe.CNN().predict(np.zeros((1, 300, 26), np.float32))
    with pytest.raises(TypeError, match="method 'x' lacks features, fit, predict"):
        probe.evaluate({"x": object()}, _toy())
    with pytest.raises(ValueError, match=r"methods \['linear probe'\] share a name"):
        probe.evaluate([probe.LinearProbe(model), probe.LinearProbe(model, C=0.1)], _toy())


def test_a_methods_scores_do_not_depend_on_the_other_methods(model):
    alone = probe.evaluate([probe.CNN(steps=20)], _toy(), rng=3, n_boot=50)
    together = probe.evaluate([probe.LinearProbe(model), probe.CNN(steps=20)], _toy(), rng=3, n_boot=50)
    pd.testing.assert_frame_equal(alone.reset_index(drop=True),
                                  together[together["method"] == "1-D CNN"].reset_index(drop=True))


# ---- evaluate and few-shot ---------------------------------------------------------------------
def test_evaluate_reports_scores_with_intervals(model):
    table = probe.evaluate([probe.LinearProbe(model), probe.CNN(steps=40)], _toy(), rng=0, n_boot=200)
    assert set(table["method"]) == {"linear probe", "1-D CNN"}
    assert set(table["metric"]) == {"accuracy", "macro_f1", "balanced_accuracy"}
    assert ((table["low"] <= table["value"]) & (table["value"] <= table["high"])).all()
    assert (table["n_train"] + table["n_test"] == 60).all()
    linear = table[table["method"] == "linear probe"].set_index("metric")["value"]
    assert linear["accuracy"] >= 0.9


def test_few_shot_uses_k_per_class_and_the_same_sample_for_every_method(model):
    toy = _toy()
    methods = {"a": probe.LinearProbe(model), "b": probe.LinearProbe(model, C=0.1)}
    table = probe.few_shot(methods, toy, shots=(1, 3, None), draws=2, rng=0, progress=False)
    assert len(table) == 2 * 3 * 2
    assert sorted(table["shots"].unique()) == [-1, 1, 3]
    assert (table.loc[table["shots"] == 3, "n_train"] == 6).all()
    a, b = (table[table["method"] == m].reset_index(drop=True) for m in "ab")
    np.testing.assert_array_equal(a[["shots", "draw", "n_train", "n_test"]], b[["shots", "draw", "n_train", "n_test"]])
    again = probe.few_shot(methods, toy, shots=(1, 3, None), draws=2, rng=0, progress=False)
    pd.testing.assert_frame_equal(table, again)


class _Recorder(probe.LinearProbe):
    """A linear probe whose features are window positions, remembering what it was trained on."""

    def __init__(self):
        self.seen = []

    def features(self, windows):
        return np.arange(windows.sizes["window"], dtype=float)[:, None]

    def fit(self, X, y, n_classes, rng=None):
        self.seen.append((tuple(X[:, 0].astype(int)), rng))
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def test_few_shot_samples_do_not_depend_on_the_other_shots_and_are_nested():
    toy = _toy()
    alone, together = _Recorder(), _Recorder()
    probe.few_shot(alone, toy, shots=(3,), draws=3, rng=5, progress=False)
    probe.few_shot(together, toy, shots=(1, 3, None), draws=3, rng=5, progress=False)
    assert alone.seen == together.seen[1::3]  # same windows and same training seed per draw
    for d in range(3):
        one, three, every = (set(w) for w, _ in together.seen[3 * d: 3 * d + 3])
        assert one < three < every
        assert len(one) == 2 and len(three) == 6
    assert len({w for w, _ in together.seen[1::3]}) == 3  # each draw draws anew


def test_summarise_gives_means_inside_their_intervals():
    table = pd.DataFrame({"method": ["m"] * 4, "shots": [5] * 4, "draw": range(4),
                          "accuracy": [0.5, 0.6, 0.7, 0.8], "macro_f1": [0.4] * 4, "balanced_accuracy": [0.5] * 4})
    summary = probe.summarise(table).set_index("metric")
    assert summary.loc["accuracy", "mean"] == pytest.approx(0.65)
    assert 0.5 <= summary.loc["accuracy", "low"] < 0.65 < summary.loc["accuracy", "high"] <= 0.8
    assert summary.loc["macro_f1", "low"] == summary.loc["macro_f1", "high"] == pytest.approx(0.4)
    with pytest.raises(ValueError, match="expected few_shot's table"):
        probe.summarise(table.drop(columns="shots"))


def test_pca_projection_matches_scikit_learn_up_to_sign():
    from sklearn.decomposition import PCA

    X = np.random.default_rng(0).normal(size=(50, 6)) * [5, 4, 3, 2, 1, 1]
    ours = probe.project(X)
    Z = (X - X.mean(0)) / X.std(0)
    theirs = PCA(2).fit_transform(Z)
    for j in range(2):
        assert abs(np.corrcoef(ours[:, j], theirs[:, j])[0, 1]) == pytest.approx(1.0)
    np.testing.assert_array_equal(ours, probe.project(X))
    with pytest.raises(ValueError, match="method must be 'pca' or 'umap'"):
        probe.project(X, "tsne")


def test_summarise_keeps_tasks_apart():
    table = pd.DataFrame({"task": ["a", "a", "b", "b"], "method": ["m"] * 4, "shots": [5] * 4, "draw": [0, 1, 0, 1],
                          "macro_f1": [0.2, 0.4, 0.8, 1.0]})
    summary = probe.summarise(table).set_index("task")
    assert summary.loc["a", "mean"] == pytest.approx(0.3) and summary.loc["b", "mean"] == pytest.approx(0.9)
