import numpy as np
import pandas as pd
import pytest

import lsmkit
from lsmkit import downstream
from lsmkit.labels import AGE_BINS, MIN_EXERCISE_MINUTES, age_bin
from lsmkit.simulator import sample_traits


@pytest.fixture(scope="module")
def cohort():
    return downstream.evaluation_cohort(6, days=4, seed=3, chunk=4)


@pytest.fixture(scope="module")
def windows(cohort):
    return downstream.session_windows(cohort, rng=0)


def _traits(seq: np.random.SeedSequence, n: int) -> list[tuple]:
    return [tuple(sample_traits(np.random.default_rng(child)).values()) for child in seq.spawn(n)]


def test_evaluation_participants_are_not_pretraining_participants(cohort):
    """The shipped weights streamed simulator chunks SeedSequence([0, 1, k]), 16 participants each,
    and validated on SeedSequence([0, 9]); no evaluation participant is one of them."""
    assert list(cohort["participant"].values) == [f"E{i:03d}" for i in range(6)]
    pretraining = {t for k in range(200) for t in _traits(np.random.SeedSequence([0, 1, k]), 16)}
    pretraining |= set(_traits(np.random.SeedSequence([0, 9]), 8))
    for seed in (0, 3):  # sweep training sets (lsmkit.sweep), as many people as a large sweep draws
        pretraining |= set(_traits(np.random.SeedSequence([seed, 20]), 256))
    evaluation = set(_traits(np.random.SeedSequence([3, downstream.EVALUATION_STREAM, 0]), 4))
    evaluation |= set(_traits(np.random.SeedSequence([3, downstream.EVALUATION_STREAM, 1]), 2))
    assert len(evaluation) == 6 and not evaluation & pretraining
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*32\)"):
        downstream.evaluation_cohort(2, days=1, seed=2**32)
    assert np.allclose(sorted(cohort["age"].values), sorted(t[0] for t in evaluation))  # age is the first trait


def test_cohort_chunks_do_not_depend_on_cohort_size(cohort):
    small = downstream.evaluation_cohort(4, days=4, seed=3, chunk=4)
    np.testing.assert_array_equal(small["signal"].values, cohort["signal"].values[:4])


def test_every_session_sits_whole_inside_its_window(cohort, windows):
    table = downstream.sessions(cohort)
    assert len(table) > 0 and (table["activity"].between(1, 8)).all()
    # positives: each holds at least one whole session of its dominant class
    exercise = windows.isel(window=np.flatnonzero(windows["exercise"].values))
    first = ((exercise["start"].values - cohort["start"].values[0]) // np.timedelta64(1, "m")).astype(int)
    for w in range(exercise.sizes["window"]):
        p = list(cohort["participant"].values).index(exercise["participant"].values[w])
        inside = table[(table["participant"] == p) & (table["first"] >= first[w]) & (table["end"] <= first[w] + 300)]
        assert len(inside) >= 1


def test_negatives_have_no_exercise_and_match_the_ratio(cohort, windows):
    activity = windows["activity"].values
    negatives = ~windows["exercise"].values
    assert (activity[negatives] == 0).all()
    positives = windows["exercise"].values
    assert (np.sum(activity[positives] > 0, axis=1) >= MIN_EXERCISE_MINUTES).all()
    assert abs(negatives.sum() - positives.sum()) <= 0.2 * positives.sum()
    none = downstream.session_windows(cohort, negatives=0, rng=0)
    assert none["exercise"].values.all()


def test_windows_respect_max_missing_and_are_reproducible(cohort, windows):
    assert (lsmkit.missing_fraction(windows).values <= 0.5).all()
    again = downstream.session_windows(cohort, rng=0)
    np.testing.assert_array_equal(again["start"].values, windows["start"].values)
    other = downstream.session_windows(cohort, rng=1)
    assert not np.array_equal(other["start"].values, windows["start"].values)


def test_task_windows_label_each_task(windows):
    activity = downstream.task_windows(windows, "activity")
    assert activity.sizes["window"] == int(windows["exercise"].sum())
    np.testing.assert_array_equal(activity["label"].values, activity["dominant_activity"].values - 1)
    assert activity["label"].attrs["flag_meanings"].split() == list(downstream.TASKS["activity"])
    exercise = downstream.task_windows(windows, "exercise")
    np.testing.assert_array_equal(exercise["label"].values, windows["exercise"].values.astype(int))
    age = downstream.task_windows(windows, "age")
    np.testing.assert_array_equal(age["label"].values, age_bin(windows["age"].values))
    assert len(downstream.TASKS["age"]) == len(AGE_BINS)
    with pytest.raises(ValueError, match="unknown task 'mood'; tasks: exercise, activity, age"):
        downstream.task_windows(windows, "mood")
    with pytest.raises(ValueError, match="needs a per-window 'age' variable"):
        downstream.task_windows(windows.drop_vars("age"), "age")


def test_cut_windows_matches_to_windows(cohort):
    grid = lsmkit.to_windows(cohort, minutes=300, stride=300, max_missing=1.0)
    first = ((grid["start"].values - cohort["start"].values[0]) // np.timedelta64(1, "m")).astype(int)
    p_idx = [list(cohort["participant"].values).index(p) for p in grid["participant"].values]
    cut = lsmkit.data.cut_windows(cohort, p_idx, first, 300)
    np.testing.assert_array_equal(cut["signal"].values, grid["signal"].values)
    np.testing.assert_array_equal(cut["dominant_activity"].values, grid["dominant_activity"].values)
    with pytest.raises(ValueError, match="must lie inside the 5760-minute recordings"):
        lsmkit.data.cut_windows(cohort, [0], [5700], 300)
    with pytest.raises(ValueError, match=r"participant positions must lie in \[0, 6\)"):
        lsmkit.data.cut_windows(cohort, [6], [0], 300)


def test_labelled_windows_from_your_own_table(cohort, tmp_path):
    t0 = pd.Timestamp(cohort["start"].values[1])
    table = pd.DataFrame({"participant": ["E001", "E002", "E001"],
                          "start": [t0 + pd.Timedelta(minutes=600), t0 + pd.Timedelta(minutes=1200),
                                    t0 + pd.Timedelta(minutes=2000)],
                          "label": ["good day", "bad day", "good day"]})
    path = tmp_path / "labels.csv"
    table.to_csv(path, index=False)
    out = downstream.labelled_windows(cohort, path, minutes=300)
    assert out["label"].attrs["flag_meanings"] == "bad_day good_day"
    assert out["label"].values.tolist() == [1, 0, 1]
    np.testing.assert_array_equal(out["signal"].values[0], cohort["signal"].values[1, 600:900])
    centred = downstream.labelled_windows(cohort, table, minutes=300, align="center")
    np.testing.assert_array_equal(centred["signal"].values[0], cohort["signal"].values[1, 450:750])
    with pytest.raises(ValueError, match=r"participants not in the recordings: \['E999'\]"):
        downstream.labelled_windows(cohort, table.assign(participant="E999"))
    with pytest.raises(ValueError, match="1 labelled windows leave the recordings, e.g. rows \\[0\\]"):
        downstream.labelled_windows(cohort, table.assign(start=[t0 - pd.Timedelta(minutes=5)] + list(table["start"][1:])))
    with pytest.raises(ValueError, match=r"missing \['label'\]"):
        downstream.labelled_windows(cohort, table.drop(columns="label"))
    with pytest.raises(ValueError, match=r"labels \['a b', 'a_b'\] become the same name"):
        downstream.labelled_windows(cohort, table.assign(label=["a b", "a_b", "a b"]))
