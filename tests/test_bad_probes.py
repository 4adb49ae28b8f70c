"""Bad input to the downstream probes and labelled-window builders never crashes obscurely or scores
silently: each named case ends in a ValueError/TypeError that names the offending thing (argument,
column, task, label, method), or in the documented result, asserted. Networks are only constructed
or fitted for a step on a handful of windows."""

import numpy as np
import pandas as pd
import pytest

import lsmkit
from lsmkit import downstream, probe

pytestmark = pytest.mark.filterwarnings("error")  # a fallback must be a documented warning, asserted below


@pytest.fixture(scope="module")
def model():
    return lsmkit.load_pretrained()


def toy(n_people=4, per_person=4, seed=0, classes=("low", "high")):
    """Small windows whose class shifts the heart rate; participants p0, p1, ..."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_people * per_person) % len(classes)
    mean = np.array([c.mean for c in lsmkit.CHANNELS])
    std = np.array([c.std for c in lsmkit.CHANNELS])
    z = rng.normal(0, 1, (len(y), 300, 26))
    z[..., 0] += 2.0 * y[:, None]
    people = np.repeat([f"p{i}" for i in range(n_people)], per_person)
    ds = lsmkit.make_windows((mean + std * z).astype(np.float32), participant=people, start=["2024-01-01"] * len(y))
    values, attrs = lsmkit.data.categorical(y, list(classes))
    return ds.assign(label=("window", values, attrs))


TOY = toy()
Y, NAMES = probe.labels(TOY)
W = TOY.sizes["window"]
ONE_CLASS = TOY.assign(label=("window", np.zeros(W, np.int8), TOY["label"].attrs))
NAN_LABELS = TOY.assign(label=("window", np.where(np.arange(W) % 5 == 0, np.nan, Y.astype(float))))
NONE_LABELS = TOY.assign(label=("window", np.array([None, *["a", "b"] * (W // 2 - 1), "a"], dtype=object)))
PER_MINUTE = TOY.assign(label=(("window", "time"), np.zeros((W, 300), np.int8)))
BAD_CODES = TOY.assign(label=("window", np.where(np.arange(W) == 3, 5, Y).astype(np.int8), TOY["label"].attrs))
ONE_PERSON = TOY.isel(window=np.flatnonzero(TOY["participant"].values == "p0"))
NO_WINDOWS = TOY.isel(window=[])


class SignalProbe(probe.LinearProbe):
    """The linear probe on each channel's mean over the window: the real fit/predict, no encoder."""

    name = "signal probe"

    def features(self, windows):
        return np.nan_to_num(np.nanmean(windows["signal"].values, axis=1))  # (W, T, C) -> (W, C)


def scores(n=4):
    return pd.DataFrame({"method": ["m"] * n, "shots": [5] * n, "draw": range(n),
                         "accuracy": np.linspace(0.5, 0.8, n), "macro_f1": [0.4] * n})


# ---- labels, shots, splits, methods, summaries, projections -------------------------------------
CNN1 = probe.CNN(steps=1)  # never trains below: every case fails before features are computed
X4, Y4 = np.zeros((4, 300, 26), np.float32), np.array([0, 1, 0, 1])

PROBE_CASES = {
    # windows without a label, or with unusable labels
    "windows-without-label": (lambda: probe.evaluate(CNN1, TOY.drop_vars("label")), ValueError,
                              r"windows have no 'label' variable; variables: \['signal'\]"),
    "label-name-not-in-windows": (lambda: probe.few_shot(CNN1, TOY, "mood", progress=False), ValueError,
                                  "windows have no 'mood' variable"),
    "per-minute-label": (lambda: probe.labels(PER_MINUTE), ValueError,
                         r"'label' must be a per-window label with dims \('window',\)"),
    "nan-labels": (lambda: probe.evaluate(CNN1, NAN_LABELS), ValueError,
                   r"'label' has missing values in 4 windows, e.g. windows \[0, 5, 10, 15\]"),
    "none-in-text-labels": (lambda: probe.labels(NONE_LABELS), ValueError, r"'label' has missing values in 1 windows"),
    "codes-outside-flag-values": (lambda: probe.labels(BAD_CODES), ValueError,
                                  r"'label' holds codes \[5\] outside its flag_values \[0, 1\]"),
    "single-class-evaluate": (lambda: probe.evaluate(CNN1, ONE_CLASS), ValueError,
                              r"'label' has a single class \('low'\) in these 16 windows; a classifier needs at "
                              "least 2"),
    "single-class-few_shot": (lambda: probe.few_shot(CNN1, ONE_CLASS, shots=(1,), progress=False), ValueError,
                              r"'label' has a single class \('low'\)"),
    "no-windows": (lambda: probe.evaluate(CNN1, NO_WINDOWS), ValueError, "no windows to classify"),
    # shots
    "shots-zero": (lambda: probe.sample_shots(Y, 0), ValueError, "shots must be a positive integer or None .*got 0"),
    "shots-negative": (lambda: probe.sample_shots(Y, -3), ValueError, "shots must be a positive integer .*got -3"),
    "shots-fractional": (lambda: probe.sample_shots(Y, 2.5), ValueError, "shots must be a positive integer .*got 2.5"),
    "shots-as-text": (lambda: probe.sample_shots(Y, "5"), ValueError, "shots must be a positive integer .*got '5'"),
    "shots-nan": (lambda: probe.sample_shots(Y, float("nan")),
                  ValueError, "shots must be a positive integer .*got nan"),
    "shots-as-bool": (lambda: probe.sample_shots(Y, True), ValueError, "shots must be a positive integer .*got True"),
    "few_shot-zero-shots": (lambda: probe.few_shot(CNN1, TOY, shots=(1, 0), progress=False), ValueError,
                            r"shots must be positive integers or None \(all\), got 0 in \[1, 0\]"),
    "few_shot-negative-shots": (lambda: probe.few_shot(CNN1, TOY, shots=(-1,), progress=False), ValueError,
                                "shots must be positive integers .*got -1"),
    "few_shot-shots-not-a-sequence": (lambda: probe.few_shot(CNN1, TOY, shots=5, progress=False), TypeError,
                                      "shots must be a sequence of shot counts .*got 5"),
    "few_shot-shots-as-text": (lambda: probe.few_shot(CNN1, TOY, shots="5", progress=False), TypeError,
                               "shots must be a sequence of shot counts .*got '5'"),
    "few_shot-no-shots": (lambda: probe.few_shot(CNN1, TOY, shots=(), progress=False), ValueError, "shots is empty"),
    "few_shot-zero-draws": (lambda: probe.few_shot(CNN1, TOY, draws=0, progress=False), ValueError,
                            "draws must be a positive integer, got 0"),
    "few_shot-fractional-draws": (lambda: probe.few_shot(CNN1, TOY, draws=1.5, progress=False), ValueError,
                                  "draws must be a positive integer, got 1.5"),
    # test fractions and participants
    "test_fraction-zero": (lambda: probe.split_participants(TOY, test_fraction=0), ValueError,
                           r"test_fraction must lie in \(0, 1\), got 0"),
    "test_fraction-one": (lambda: probe.evaluate(CNN1, TOY, test_fraction=1.0), ValueError,
                          r"test_fraction must lie in \(0, 1\), got 1.0"),
    "test_fraction-above-one": (lambda: probe.few_shot(CNN1, TOY, test_fraction=1.5, progress=False), ValueError,
                                r"test_fraction must lie in \(0, 1\), got 1.5"),
    "test_fraction-negative": (lambda: probe.split_participants(TOY, test_fraction=-0.2), ValueError,
                               "test_fraction must lie in .*got -0.2"),
    "test_fraction-nan": (lambda: probe.split_participants(TOY, test_fraction=float("nan")), ValueError,
                          "test_fraction must lie in .*got nan"),
    "test_fraction-as-text": (lambda: probe.split_participants(TOY, test_fraction="0.3"), ValueError,
                              "test_fraction must lie in .*got '0.3'"),
    "one-participant-split": (lambda: probe.split_participants(ONE_PERSON), ValueError,
                              "a participant-disjoint split needs at least 2 participants, got 1"),
    "one-participant-evaluate": (lambda: probe.evaluate(CNN1, ONE_PERSON), ValueError,
                                 "needs at least 2 participants, got 1"),
    "labels-shorter-than-windows": (lambda: probe.split_participants(TOY, Y[:5]), ValueError,
                                    "y must give one label per window: expected 16, got 5"),
    "zero-tries": (lambda: probe.split_participants(TOY, Y, tries=0),
                   ValueError, "tries must be a positive integer, got 0"),
    # methods: unknown names, duplicate names, bad settings
    "no-methods-list": (lambda: probe.evaluate([], TOY), ValueError, "no methods to evaluate"),
    "no-methods-dict": (lambda: probe.few_shot({}, TOY, progress=False), ValueError, "no methods to evaluate"),
    "method-given-by-name": (lambda: probe.evaluate("linear probe", TOY), TypeError,
                             "methods must be a method .*got 'linear probe'; default_methods"),
    "methods-None": (lambda: probe.evaluate(None, TOY), TypeError, "methods must be a method .*got None"),
    "duplicate-method-names": (lambda: probe.evaluate([probe.CNN(steps=1), probe.CNN(steps=2)], TOY), ValueError,
                               r"methods \['1-D CNN'\] share a name; pass a \{name: method\} dict"),
    "object-that-is-not-a-method": (lambda: probe.evaluate({"mine": object()}, TOY), TypeError,
                                    "method 'mine' lacks features, fit, predict"),
    "cnn-zero-steps": (lambda: probe.CNN(steps=0), ValueError, "steps must be a positive integer, got 0"),
    "cnn-fractional-steps": (lambda: probe.CNN(steps=2.5), ValueError, "steps must be a positive integer, got 2.5"),
    "cnn-nan-steps": (lambda: probe.CNN(steps=float("nan")), ValueError, "steps must be a positive integer, got nan"),
    "cnn-zero-batch": (lambda: probe.CNN(batch_size=0), ValueError, "batch_size must be a positive integer, got 0"),
    "cnn-negative-lr": (lambda: probe.CNN(lr=-1e-3), ValueError, "lr must be a positive number, got -0.001"),
    "cnn-zero-width": (lambda: probe.CNN(width=0), ValueError, "width must be a positive integer, got 0"),
    "cnn-fit-labels-beyond-n_classes": (lambda: probe.CNN(steps=1).fit(X4, np.array([0, 1, 2, 3]), 2), ValueError,
                                        r"y must hold class indices in \[0, 2\) \(n_classes=2\)"),
    "cnn-fit-negative-labels": (lambda: probe.CNN(steps=1).fit(X4, np.array([0, -1, 0, 1]), 2), ValueError,
                                r"y must hold class indices in \[0, 2\)"),
    "cnn-fit-fewer-labels-than-rows": (lambda: probe.CNN(steps=1).fit(X4, Y4[:2], 2), ValueError,
                                       "CNN.fit needs one label per row: X has 4 rows, y has 2"),
    "cnn-fit-no-windows": (lambda: probe.CNN(steps=1).fit(X4[:0], Y4[:0], 2),
                           ValueError, "CNN.fit got no training windows"),
    "cnn-fit-zero-classes": (lambda: probe.CNN(steps=1).fit(X4, Y4, 0),
                             ValueError, "n_classes must be a positive integer"),
    "evaluate-negative-n_boot": (lambda: probe.evaluate(CNN1, TOY, n_boot=-1), ValueError,
                                 "n_boot must be a non-negative integer, got -1"),
    "evaluate-level-above-one": (lambda: probe.evaluate(CNN1, TOY, level=95), ValueError,
                                 "level must lie strictly between 0 and 1, got 95"),
    # summarise
    "summarise-empty-table": (lambda: probe.summarise(scores().iloc[:0]),
                              ValueError, "the table is empty: nothing to summarise"),
    "summarise-no-score-columns": (lambda: probe.summarise(scores()[["method", "shots", "draw"]]), ValueError,
                                   "expected few_shot's table"),
    "summarise-no-shots-column": (lambda: probe.summarise(scores().drop(columns="shots")), ValueError,
                                  "expected few_shot's table"),
    "summarise-nan-score": (lambda: probe.summarise(scores().assign(accuracy=[0.5, np.nan, 0.7, 0.8])), ValueError,
                            r"score column 'accuracy' has missing values in rows \[1\]"),
    "summarise-text-score": (lambda: probe.summarise(scores().assign(macro_f1=["0.4", "x", "0.5", "0.6"])), ValueError,
                             "score column 'macro_f1' must hold numbers"),
    "summarise-negative-n_boot": (lambda: probe.summarise(scores(), n_boot=-5),
                                  ValueError, "n_boot must be a non-negative integer"),
    "summarise-level-zero": (lambda: probe.summarise(scores(), level=0),
                             ValueError, "level must lie strictly between 0 and 1"),
    "summarise-not-a-table": (lambda: probe.summarise([0.5, 0.6]), ValueError, "expected few_shot's table"),
    # project
    "project-unknown-method": (lambda: probe.project(np.ones((5, 3)), "tsne"), ValueError,
                               "method must be 'pca' or 'umap', got 'tsne'"),
    "project-method-None": (lambda: probe.project(np.ones((5, 3)), None),
                            ValueError, "method must be 'pca' or 'umap', got None"),
    "project-nan-embedding": (lambda: probe.project(np.r_[np.eye(4, 3), [[np.nan, 1, 1]]]),
                              ValueError, r"embeddings must be finite; 1 windows hold NaN or inf, e.g. rows \[4\]"),
    "project-inf-embedding": (lambda: probe.project(np.r_[[[np.inf, 0, 0]], np.ones((4, 3))]), ValueError,
                              r"embeddings must be finite.*rows \[0\]"),
    "project-text": (lambda: probe.project([["a", "b"], ["c", "d"], ["e", "f"]]), ValueError,
                     "embeddings must be a .* array of numbers"),
    "project-one-dimensional": (lambda: probe.project(np.ones(5)),
                                ValueError, r"embeddings must be \(window, feature\)"),
    "project-two-windows": (lambda: probe.project(np.ones((2, 4))), ValueError, "at least 3 windows and 2 features"),
}


@pytest.mark.parametrize("call, error, message", PROBE_CASES.values(), ids=PROBE_CASES.keys())
def test_bad_probe_input_raises_a_named_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


MODEL_CASES = {
    "linear-probe-unknown-pool": (lambda m: probe.LinearProbe(m, pool="median"), ValueError,
                                  "pool must be 'mean', 'max', 'min' or several of them joined by '\\+' \\(e.g. "
                                  "'max\\+min'\\): a linear probe needs pooled embeddings; got 'median'"),
    "linear-probe-repeated-pool": (lambda m: probe.LinearProbe(m, pool="max+max"), ValueError,
                                   "pool must be .*got 'max\\+max'"),
    "linear-probe-centre-string": (lambda m: probe.LinearProbe(m, centre="yes"), ValueError,
                                   "centre must be True or False, got 'yes'"),
    "linear-probe-token-pool": (lambda m: probe.LinearProbe(m, pool="none"), ValueError, "pool must be .*got 'none'"),
    "linear-probe-unknown-layers": (lambda m: probe.LinearProbe(m, layers="first"), ValueError,
                                    "layers must be 'last' or 'all', got 'first'"),
    "linear-probe-zero-C": (lambda m: probe.LinearProbe(m, C=0), ValueError, "C must be a positive number, got 0"),
    "window-statistics-negative-C": (lambda m: probe.WindowStatistics(C=-1), ValueError,
                                     "C must be a positive number, got -1"),
    "window-statistics-unfitted": (lambda m: probe.WindowStatistics().predict(np.zeros((2, 78))), RuntimeError,
                                   "WindowStatistics is not fitted"),
    "linear-probe-fit-no-windows": (lambda m: SignalProbe(m).fit(np.zeros((0, 26)), np.zeros(0, int), 2), ValueError,
                                    "SignalProbe.fit got no training windows"),
    "conv-probe-zero-steps": (lambda m: probe.ConvProbe(m, steps=0),
                              ValueError, "steps must be a positive integer, got 0"),
    "conv-probe-zero-width": (lambda m: probe.ConvProbe(m, width=0), ValueError, "width must be a positive integer"),
    "fine-tune-negative-steps": (lambda m: probe.FineTune(m, steps=-1),
                                 ValueError, "steps must be a positive integer, got -1"),
    "fine-tune-zero-lr": (lambda m: probe.FineTune(m, lr=0.0), ValueError, "lr must be a positive number, got 0.0"),
    "fine-tune-pretrained-as-text": (lambda m: probe.FineTune(m, pretrained="no"), ValueError,
                                     r"pretrained must be True \(fine-tune\) or False \(from scratch\), got 'no'"),
    "fine-tune-model-by-name": (lambda m: probe.FineTune("tiny"), TypeError,
                                r"model must be a pretrained model .*got 'tiny'; .*load_pretrained\('tiny'\)"),
    "default-methods-model-by-name": (lambda m: probe.default_methods("tiny"),
                                      TypeError, "model must be a pretrained model"),
}


@pytest.mark.parametrize("call, error, message", MODEL_CASES.values(), ids=MODEL_CASES.keys())
def test_bad_method_settings_raise_a_named_error(model, call, error, message):
    with pytest.raises(error, match=message):
        call(model)


# ---- documented outcomes ------------------------------------------------------------------------
def test_more_shots_than_windows_in_a_class_takes_all_of_them(model):
    y = np.array([0] * 6 + [1] * 2 + [2] * 4)
    picked = probe.sample_shots(y, 5, rng=0)
    assert np.bincount(y[picked]).tolist() == [5, 2, 4]  # "at most k" per class
    assert probe.sample_shots(np.array([], dtype=int), 5).tolist() == []
    table = probe.few_shot(SignalProbe(model), TOY, shots=(1000, None), draws=2, rng=0, progress=False)
    for _, draw in table.groupby("draw"):
        assert draw["n_train"].nunique() == 1  # 1000 per class is every training window, as None is


def test_evaluate_without_bootstrap_reports_nan_intervals(model):
    table = probe.evaluate(SignalProbe(model), TOY, n_boot=0, rng=0)
    assert table["value"].notna().all() and table["low"].isna().all() and table["high"].isna().all()
    assert set(table["metric"]) == {"accuracy", "macro_f1", "balanced_accuracy"}


def test_summarise_without_bootstrap_reports_nan_intervals():
    summary = probe.summarise(scores(), n_boot=0).set_index("metric")
    assert summary.loc["accuracy", "mean"] == pytest.approx(0.65)
    assert summary[["low", "high"]].isna().all().all()


def test_linear_probe_trained_on_one_class_predicts_that_class(model):
    fitted = SignalProbe(model).fit(np.ones((3, 26)), np.array([1, 1, 1]), 2)
    assert fitted.predict(np.zeros((4, 26))).tolist() == [1, 1, 1, 1]


def test_a_network_fits_one_step_when_a_class_is_missing_from_training():
    net = probe.CNN(steps=1, width=4, batch_size=2).fit(X4, Y4, 3, rng=0)  # class 2 absent: weight 0
    pred = net.predict(X4)
    assert pred.shape == (4,) and set(pred.tolist()) <= {0, 1, 2}


def test_a_network_fits_object_labels_holding_ints_like_ints():
    """A pandas object column of ints was accepted before and must stay so; strings in it are still refused."""
    labels = pd.Series(Y4.tolist(), dtype=object)
    expected = probe.CNN(steps=1, width=4, batch_size=2).fit(X4, Y4, 2, rng=0).predict(X4)
    assert probe.CNN(steps=1, width=4, batch_size=2).fit(X4, labels, 2, rng=0).predict(X4).tolist() == expected.tolist()
    with pytest.raises(ValueError, match=r"y must hold class indices in \[0, 2\)"):
        probe.CNN(steps=1).fit(X4, pd.Series([0, "1", 0, 1], dtype=object), 2)


# ---- downstream tasks and your own labels -------------------------------------------------------
@pytest.fixture(scope="module")
def cohort():
    return downstream.evaluation_cohort(3, days=2, seed=3, chunk=4)


@pytest.fixture(scope="module")
def windows(cohort):
    return downstream.session_windows(cohort, rng=0)


@pytest.fixture(scope="module")
def table(cohort):
    t0 = pd.Timestamp(cohort["start"].values[1])
    return pd.DataFrame({"participant": ["E001", "E002", "E001"],
                         "start": [t0 + pd.Timedelta(minutes=m) for m in (600, 1200, 2000)],
                         "label": ["good day", "bad day", "good day"]})


TASK_CASES = {  # (call on cohort c and its session windows w, error, message)
    "unknown-task": (lambda c, w: downstream.task_windows(w, "mood"), ValueError,
                     "unknown task 'mood'; tasks: exercise, activity, age"),
    "task-wrong-case": (lambda c, w: downstream.task_windows(w, "Exercise"), ValueError, "unknown task 'Exercise'"),
    "task-None": (lambda c, w: downstream.task_windows(w, None), ValueError, "unknown task None"),
    "task-as-list": (lambda c, w: downstream.task_windows(w, ["exercise"]), ValueError, r"unknown task \['exercise'\]"),
    "age-task-without-age": (lambda c, w: downstream.task_windows(w.drop_vars("age"), "age"), ValueError,
                             "task 'age' needs a per-window 'age' variable"),
    "age-task-nan-age": (lambda c, w: downstream.task_windows(w.assign(age=w["age"].where(w["window"] > 0)), "age"),
                         ValueError, r"task 'age' needs every window's 'age'; 1 windows have none, e.g. windows \[0\]"),
    "exercise-task-nan-flag": (lambda c, w: downstream.task_windows(
        w.assign(exercise=w["exercise"].astype(float).where(w["window"] != 1)), "exercise"), ValueError,
        r"task 'exercise' needs every window's 'exercise'.*windows \[1\]"),
    "task-on-recordings": (lambda c, w: downstream.task_windows(c, "exercise"), ValueError,
                           r"windows 'signal' must have dims \('window', 'time', 'channel'\)"),
    "session-windows-shorter-than-an-exercise": (lambda c, w: downstream.session_windows(c, minutes=5), ValueError,
                                                 r"minutes must be an integer in \[10, 2880\].*got 5"),
    "session-windows-longer-than-recording": (lambda c, w: downstream.session_windows(c, minutes=10_000), ValueError,
                                              r"minutes must be an integer in \[10, 2880\]"),
    "session-windows-negative-ratio": (lambda c, w: downstream.session_windows(c, negatives=-1), ValueError,
                                       "negatives must be a non-negative ratio, got -1"),
    "session-windows-nan-ratio": (lambda c, w: downstream.session_windows(c, negatives=float("nan")), ValueError,
                                  "negatives must be a non-negative ratio, got nan"),
    "session-windows-max_missing-as-text": (lambda c, w: downstream.session_windows(c, max_missing="half"),
                                            ValueError, r"max_missing must be a fraction in \[0, 1\], got 'half'"),
    "session-windows-without-activity": (lambda c, w: downstream.session_windows(c.drop_vars("activity")),
                                         ValueError, "recordings have no per-minute 'activity' label"),
    "cohort-seed-as-text": (lambda c, w: downstream.evaluation_cohort(1, days=1, seed="a"), ValueError,
                            r"seed must be an integer in \[0, 2\*\*32\), got 'a'"),
    "cohort-nan-participants": (lambda c, w: downstream.evaluation_cohort(float("nan")), ValueError,
                                "n_participants must be a positive integer, got nan"),
    "cohort-no-participants": (lambda c, w: downstream.evaluation_cohort(0), ValueError,
                               "n_participants must be a positive integer, got 0"),
}


@pytest.mark.parametrize("call, error, message", TASK_CASES.values(), ids=TASK_CASES.keys())
def test_bad_task_input_raises_a_named_error(cohort, windows, call, error, message):
    with pytest.raises(error, match=message):
        call(cohort, windows)


def replace(column, *values):
    """An edit of the labels table: ``column`` set to ``values`` (``...`` keeps that row's value)."""
    return lambda t: t.assign(**{column: [t[column][i] if v is ... else v for i, v in enumerate(values)]})


EARLY, LATE = pd.Timedelta(minutes=600), pd.Timedelta(minutes=2700)  # row 0 is 600 minutes in; from 2700 a
# 300-minute window runs past the 2880-minute recording
LABEL_CASES = {  # (edit of the good labels table, keyword arguments, error, message)
    "unknown-participant": (replace("participant", ..., "X9", ...), {}, ValueError,
                            r"labels name participants not in the recordings: \['X9'\]"),
    "missing-participant": (replace("participant", None, ..., ...), {}, ValueError,
                            r"labels column 'participant' is missing in 1 rows, e.g. rows \[0\]"),
    "missing-start-column": (lambda t: t.drop(columns="start"), {}, ValueError,
                             r"labels need columns participant, start and label; missing \['start'\]"),
    "missing-two-columns": (lambda t: t[["start"]], {}, ValueError, r"missing \['label', 'participant'\]"),
    "empty-table": (lambda t: t.iloc[:0], {}, ValueError, "labels have no rows"),
    "unparsable-start": (replace("start", ..., "teatime", ...), {}, ValueError,
                         r"labels column 'start' has 1 missing, unparsable or out-of-range times, "
                         r"e\.g\. rows \[1\]: \['teatime'\]"),
    "missing-start": (replace("start", ..., pd.NaT, ...), {}, ValueError,
                      r"labels column 'start' has 1 missing.*rows \[1\]"),
    "impossible-date": (replace("start", "2024-13-45", ..., ...), {}, ValueError,
                        r"labels column 'start' has 1 missing, unparsable or out-of-range times, e\.g\. rows \[0\]"),
    "start-beyond-pandas-dates": (replace("start", *["99999-01-01"] * 3), {}, ValueError,
                                  r"labels column 'start' has 3 missing, unparsable or out-of-range"),
    "start-in-year-9999": (replace("start", *["9999-01-01"] * 3), {}, ValueError,
                           r"3 labelled windows leave the recordings, e.g. rows \[0, 1, 2\]"),
    "start-as-numbers": (replace("start", 1.7e9, 1.7e9, 1e30), {}, ValueError,
                         r"labels column 'start' holds numbers \(1700000000.0, ...\)"),
    "start-before-recording": (lambda t: replace("start", t.start[0] - pd.Timedelta(days=30), ..., ...)(t), {},
                               ValueError, r"1 labelled windows leave the recordings, e.g. rows \[0\]"),
    "window-runs-past-recording": (lambda t: replace("start", ..., ..., t.start[0] - EARLY + LATE)(t), {},
                                   ValueError, r"1 labelled windows leave the recordings, e.g. rows \[2\]"),
    "too-many-categories": (lambda t: pd.concat([t.iloc[[0]]] * 130, ignore_index=True).assign(
        label=[f"note {i}" for i in range(130)]), {}, ValueError,
        "labels have 130 distinct values; categorical labels hold at most 127"),
    "nan-label": (replace("label", ..., np.nan, ...), {}, ValueError,
                  r"labels column 'label' is missing in 1 rows, e.g. rows \[1\]"),
    "blank-label": (replace("label", ..., "  ", ...), {}, ValueError, "labels column 'label' is missing in 1 rows"),
    "labels-clash-once-spaces-go": (replace("label", "a b", "a_b", "a b"), {}, ValueError,
                                    r"labels \['a b', 'a_b'\] become the same name"),
    "zero-minutes": (lambda t: t, {"minutes": 0}, ValueError, r"minutes must be an integer in \[1, 2880\].*got 0"),
    "minutes-as-text": (lambda t: t, {"minutes": "300"}, ValueError, "minutes must be an integer .*got '300'"),
    "unknown-align": (lambda t: t, {"align": "end"}, ValueError, "align must be 'start' or 'center', got 'end'"),
    "labels-None": (lambda t: None, {}, TypeError,
                    "labels must be a DataFrame or the path of a CSV file, got NoneType"),
    "labels-dict": (lambda t: t.to_dict("list"), {}, TypeError,
                    "labels must be a DataFrame or the path of a CSV file, got dict"),
}


@pytest.mark.parametrize("edit, kwargs, error, message", LABEL_CASES.values(), ids=LABEL_CASES.keys())
def test_bad_labels_table_raises_a_named_error(cohort, table, edit, kwargs, error, message):
    with pytest.raises(error, match=message):
        downstream.labelled_windows(cohort, edit(table), **kwargs)


HEADER = "participant,start,label\n"
CSV_CASES = {
    "empty-file": ("", "labels file .* is empty; expected a header participant,start,label"),
    "header-only": (HEADER, "labels have no rows"),
    "truncated-in-the-start-field": (HEADER + "E001,{t0},good\nE002,2024-0",
                                     r"labels column 'label' is missing in 1 rows, e.g. rows \[1\]"),
    "truncated-before-the-label": (HEADER + "E001,{t0},good\nE002,{t0},",
                                   r"labels column 'label' is missing.*rows \[1\]"),
    "start-truncated-but-labelled": (HEADER + "E001,{t0},good\nE002,2024-01-0,bad\n",
                                     r"labels column 'start' has 1 missing, unparsable .*times, e.g. rows \[1\]"),
    "missing-label-column": ("participant,start\nE001,{t0}\n", r"missing \['label'\]"),
    "unknown-participant": (HEADER + "E001,{t0},good\nZ42,{t0},bad\n",
                            r"participants not in the recordings: \['Z42'\]"),
}


@pytest.mark.parametrize("text, message", CSV_CASES.values(), ids=CSV_CASES.keys())
def test_bad_labels_csv_raises_a_named_error(cohort, tmp_path, text, message):
    path = tmp_path / "labels.csv"
    path.write_text(text.format(t0=pd.Timestamp(cohort["start"].values[1]) + pd.Timedelta(minutes=60)))
    with pytest.raises(ValueError, match=message):
        downstream.labelled_windows(cohort, path)


def test_no_sessions_give_an_empty_batch_with_a_warning(cohort):
    quiet = cohort.assign(activity=cohort["activity"] * 0)
    with pytest.warns(UserWarning, match="no exercise session of 10 to 300 minutes fits a window"):
        out = downstream.session_windows(quiet, rng=0)
    assert out.sizes["window"] == 0 and out.sizes["time"] == 300


def test_activity_task_without_exercise_windows_is_empty_with_a_warning(windows):
    rest = windows.isel(window=np.flatnonzero(~windows["exercise"].values))
    with pytest.warns(UserWarning, match="task 'activity' has no windows"):
        out = downstream.task_windows(rest, "activity")
    assert out.sizes["window"] == 0
    assert out["label"].attrs["flag_meanings"].split() == list(downstream.TASKS["activity"])


def test_a_single_label_makes_windows_that_evaluate_refuses(cohort, table):
    out = downstream.labelled_windows(cohort, table.assign(label="same"))
    assert out["label"].attrs["flag_meanings"] == "same" and out["label"].values.tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match=r"'label' has a single class \('same'\)"):
        probe.evaluate(CNN1, out)


def test_start_times_with_a_zone_are_converted_to_utc(cohort, table):
    """Documented: ``start`` is UTC unless it carries a zone; +02:00 is two hours earlier in UTC."""
    zoned = table.assign(start=[(s + pd.Timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S+02:00")
                                for s in table["start"]])
    np.testing.assert_array_equal(downstream.labelled_windows(cohort, zoned)["signal"].values,
                                  downstream.labelled_windows(cohort, table)["signal"].values)


def test_age_bins_refuse_unknown_and_underage_ages():
    from lsmkit.labels import age_bin

    assert age_bin([18, 34.9, 35, 64, 65, 90]).tolist() == [0, 0, 1, 2, 3, 3]
    with pytest.raises(ValueError, match="age must be known and at least 18 .*got nan at index 1"):
        age_bin([30, np.nan])
    with pytest.raises(ValueError, match="age must be known and at least 18 .*got 12.0 at index 0"):
        age_bin([12])
