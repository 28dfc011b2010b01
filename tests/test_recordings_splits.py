"""Splits of recordings: every class in every split (whole files where possible, else time segments of a
file), refusal when impossible, and a given train/ val/ test/ layout respected with relative paths (issue 10)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.test_recordings import SENSOR, _session
from tinyml_disco.training import recordings, splits


def _classes(w: object) -> set[str]:
    return {w.label_names[i] for i in w.labels}  # type: ignore[attr-defined]


def _assert_every_class_everywhere(s: recordings.RecordingSplits) -> None:
    names = set(s.train.label_names)
    for w in (s.train, s.val, s.test):
        assert _classes(w) == names


def test_one_long_file_is_split_by_time_per_class(tmp_path: Path) -> None:
    d = tmp_path / "rec"
    d.mkdir()
    _session(d / "all.csv", 0, seconds_per_gesture=20.0)  # one session: idle, shake, circle, 20 s each
    s = recordings.load_dir(d, 100, 128, SENSOR, seed=3)
    _assert_every_class_everywhere(s)
    assert s.time_split == {c: ["all.csv"] for c in ("idle", "shake", "circle")}
    # 20 s at hop 64: 30 windows per class; 1 window dropped at each of the 2 boundaries.
    assert len(s.train) + len(s.val) + len(s.test) == 3 * (30 - 2)
    assert len(s.test) >= 3 and len(s.val) >= 3 and len(s.train) > len(s.test)


def test_time_segments_do_not_overlap(tmp_path: Path) -> None:
    labels = [["a"] * 20 + ["b"] * 20]
    plan = splits.plan_split(labels, ["a", "b"], seed=0, gap=1)
    by_split = {sp: sorted(i for p in plan.parts if p.split == sp for i in p.index) for sp in splits.SPLITS}
    for c0 in (0, 20):  # per class: train before val before test, one window apart at least
        tr, va, te = ([i for i in by_split[sp] if c0 <= i < c0 + 20] for sp in splits.SPLITS)
        assert max(tr) + 1 < min(va) and max(va) + 1 < min(te)


def test_a_class_in_one_file_of_many_reaches_every_split(tmp_path: Path) -> None:
    d = tmp_path / "rec"
    d.mkdir()
    for i in range(5):
        _session(d / f"p{i}.csv", i, seconds_per_gesture=4.0, gestures=("idle", "shake"))
    _session(d / "circle.csv", 9, seconds_per_gesture=12.0, gestures=("idle", "circle"))
    s = recordings.load_dir(d, 100, 128, SENSOR, seed=1)
    _assert_every_class_everywhere(s)
    assert list(s.time_split) == ["circle"]
    whole = {f for sp in ("val", "test") for f in s.files[sp]} - {"circle.csv"}
    assert whole and whole.isdisjoint(s.files["train"])  # the other files stay whole


def test_a_class_too_short_for_three_splits_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "rec"
    d.mkdir()
    for i in range(4):
        _session(d / f"p{i}.csv", i, gestures=("idle", "shake"))
    _session(d / "flick.csv", 7, seconds_per_gesture=2.0, gestures=("flick",))
    with pytest.raises(splits.SplitError, match=r"class 'flick' has 2 window\(s\) in 1 file\(s\).*Record more"):
        recordings.load_dir(d, 100, 128, SENSOR, seed=0)


def _given(tmp_path: Path, test_gestures: tuple[str, ...] = ("idle", "shake", "circle")) -> Path:
    d = tmp_path / "given"
    for split in ("train", "test"):
        (d / split).mkdir(parents=True)
    for i in range(2):
        _session(d / "train" / f"s{i}.csv", i)
    _session(d / "test" / "s0.csv", 5, gestures=test_gestures)  # same name as a training file
    return d


def test_a_given_layout_is_respected_with_relative_paths(tmp_path: Path) -> None:
    d = _given(tmp_path)
    s = recordings.load_dir(d, 100, 128, SENSOR, seed=0)
    assert s.layout == "given"
    assert s.files == {"train": ["train/s0.csv", "train/s1.csv"], "val": [], "test": ["test/s0.csv"]}
    assert len(s.test) == 3 * 3 and len(s.train) == 2 * 3 * 3 and len(s.val) == 0
    assert recordings.load_dir(d, 100, 128, SENSOR, seed=99).files == s.files  # the seed does not re-split


def test_a_given_layout_missing_a_class_is_refused(tmp_path: Path) -> None:
    d = _given(tmp_path, test_gestures=("idle", "shake"))
    with pytest.raises(splits.SplitError, match=r"given test/ folder has no window of circle"):
        recordings.load_dir(d, 100, 128, SENSOR, seed=0)


def test_split_is_seeded_and_files_are_relative(tmp_path: Path) -> None:
    d = tmp_path / "rec"
    (d / "a").mkdir(parents=True)
    for i in range(6):
        _session(d / "a" / f"p{i}.csv", i)
    s = recordings.load_dir(d, 100, 128, SENSOR, seed=4)
    _assert_every_class_everywhere(s)
    assert all(f.startswith("a/") for fs in s.files.values() for f in fs)
    assert recordings.load_dir(d, 100, 128, SENSOR, seed=4).files == s.files
    assert np.array_equal(recordings.load_dir(d, 100, 128, SENSOR, seed=4).test.raw, s.test.raw)


def test_train_refuses_with_rc_and_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tinyml_disco.app import cli

    d = tmp_path / "rec"
    d.mkdir()
    for i in range(4):
        _session(d / f"p{i}.csv", i, gestures=("idle", "shake"))
    _session(d / "flick.csv", 7, seconds_per_gesture=2.0, gestures=("flick",))
    rc = cli.main(["train", "--model", "mlp_robust", "--build-dir", str(tmp_path / "build"), "--data", str(d),
                   "--epochs", "1", "--device-per-class", "0"])
    err = capsys.readouterr().err
    assert rc != 0 and "class 'flick'" in err and "Record more" in err and "Traceback" not in err
    assert not (tmp_path / "build" / "mlp_robust" / "model.tflite").exists()


def test_a_half_given_layout_is_refused(tmp_path: Path) -> None:
    d = _given(tmp_path)
    (d / "test" / "s0.csv").rename(d / "s0.csv")
    (d / "test").rmdir()
    with pytest.raises(ValueError, match=r"has train/ but no test/ folder"):
        recordings.load_dir(d, 100, 128, SENSOR, seed=0)
