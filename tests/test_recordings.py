"""Users' CSV recordings: validation messages, resampling, windows inside label runs, split by recording."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from tinyml_disco.sim import sensor_csv
from tinyml_disco.training import recordings, synth

SENSOR = synth.SensorSpec()


def _session(path: Path, seed: int, rate: float = 100.0, seconds_per_gesture: float = 3.0,
             gestures: tuple[str, ...] = ("idle", "shake", "circle")) -> None:
    """A plausible recording: each gesture held for a few seconds, written at `rate` Hz."""
    rng = np.random.default_rng(seed)
    cfg = synth.SynthConfig()
    n = int(seconds_per_gesture * rate)
    t = np.arange(n) / rate
    rows, labels = [], []
    for lab in gestures:
        motion = synth.gesture_motion(lab, t, rng, cfg) + np.array([0.0, 0.0, 1.0])
        rows.append(motion)
        labels += [lab] * n
    sensor_csv.write_csv(path, np.concatenate(rows), rate, labels)


def _folder(tmp_path: Path, files: int = 5, **kw) -> Path:
    d = tmp_path / "rec"
    d.mkdir()
    for i in range(files):
        _session(d / f"person{i}.csv", i, **kw)
    return d


def test_windows_stay_inside_label_runs_and_splits_share_no_recording(tmp_path: Path) -> None:
    d = _folder(tmp_path, files=6)
    s = recordings.load_dir(d, 100, 128, SENSOR, seed=1)
    assert s.train.label_names == ("idle", "shake", "circle")
    all_files = [f for fs in s.files.values() for f in fs]
    assert sorted(all_files) == sorted(p.name for p in d.glob("*.csv"))
    assert len(set(all_files)) == len(all_files)  # no recording in two splits
    for w in (s.train, s.val, s.test):
        assert len(w) > 0
    train_groups = set(s.train.groups.tolist())
    assert train_groups.isdisjoint(s.test.groups.tolist()) and train_groups.isdisjoint(s.val.groups.tolist())
    # 3 s of each gesture at 100 Hz, hop 64: floor((300 - 128) / 64) + 1 = 3 windows per run, never across runs.
    assert len(s.train) + len(s.val) + len(s.test) == 6 * 3 * 3
    idle = s.train.raw[s.train.labels == 0]
    assert np.abs(idle.astype(np.float64).mean(axis=1)[:, 2] * SENSOR.lsb_g - 1.0).max() < 0.05
    # Same seed, same split; the split depends on the seed.
    assert recordings.load_dir(d, 100, 128, SENSOR, seed=1).files == s.files


def test_resampled_to_the_model_rate(tmp_path: Path) -> None:
    d = tmp_path / "rec"
    d.mkdir()
    for i in range(3):
        _session(d / f"r{i}.csv", i, rate=200.0)
    s = recordings.load_dir(d, 100, 128, SENSOR, seed=0)
    assert len(s.train) + len(s.val) + len(s.test) == 3 * 3 * 3  # 200 Hz rows, windows counted at 100 Hz


def test_counts_are_raw_sensor_counts(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    n = 200
    sensor_csv.write_csv(p, np.tile([0.5, -0.25, 20.0], (n, 1)), 100, ["idle"] * n)
    # 20 g on purpose: it must clip. units="g", since auto-detection reads a 20-unit gravity as m/s^2.
    rec = recordings.load_recording(p, 100, 128, 64, SENSOR, units="g")
    assert rec.raw[0, 0].tolist() == [round(0.5 / 240e-6), round(-0.25 / 240e-6), 32767]  # 20 g clips


def test_gap_cuts_the_recording_and_is_reported_with_its_line(tmp_path: Path) -> None:
    p = tmp_path / "gap.csv"
    t = np.concatenate([np.arange(150), np.arange(150) + 400]) / 100.0
    lines = ["timestamp_s,ax_g,ay_g,az_g,label"] + [f"{x:.2f},0,0,1,idle" for x in t]
    p.write_text("\n".join(lines) + "\n")
    with pytest.warns(recordings.RecordingWarning, match=r"gap\.csv, line 152: gap of 2\.510 s"):
        rec = recordings.load_recording(p, 100, 128, 64, SENSOR)
    assert len(rec.labels) == 2  # one window on each side, none across the gap


def test_irregular_timestamps_are_warned_about_with_the_line(tmp_path: Path) -> None:
    p = tmp_path / "jitter.csv"
    t = np.arange(300) / 100.0
    t[100] += 0.004  # a sample 4 ms late
    p.write_text("timestamp_s,ax_g,ay_g,az_g,label\n" + "".join(f"{x:.4f},0,0,1,idle\n" for x in t))
    with pytest.warns(recordings.RecordingWarning, match=r"jitter\.csv, line 102: interval"):
        recordings.load_recording(p, 100, 128, 64, SENSOR)


@pytest.mark.parametrize(("body", "message"), [
    ("timestamp_s,ax_g,ay_g,az_g\n0,0,0,1\n", r"line 1: missing column\(s\) label"),
    ("timestamp_s,ax_g,ay_g,az_g,label\n0,0,0,1,idle\n0.01,0,zero,1,idle\n", r"line 3: column ay_g value 'zero'"),
    ("timestamp_s,ax_g,ay_g,az_g,label\n0,0,0,1,idle\n0.01,0,0,1,idle\n0.005,0,0,1,idle\n",
     r"line 4: timestamp 0.005 s is not after"),
    ("timestamp_s,ax_g,ay_g,az_g,label\n0,0,0,1,idle\n0.01,0,0,1,\n", r"line 3: the label is empty"),
])
def test_bad_files_are_errors_naming_file_and_line(tmp_path: Path, body: str, message: str) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(body)
    with pytest.raises(sensor_csv.SensorCsvError, match=r"bad\.csv, " + message):
        recordings.load_recording(p, 100, 128, 64, SENSOR)


@pytest.mark.parametrize(("factor", "unit"), [(9.80665, "m/s\\^2"), (1000.0, "milli-g")])
def test_wrong_units_are_warned_about(tmp_path: Path, factor: float, unit: str) -> None:
    p = tmp_path / "units.csv"
    n = 200
    sensor_csv.write_csv(p, np.tile([0.0, 0.0, factor], (n, 1)), 100, ["idle"] * n)
    with pytest.warns(sensor_csv.SensorUnitWarning, match=f"units.csv.*{unit}"):
        recordings.load_recording(p, 100, 128, 64, SENSOR)


def test_too_few_recordings_or_labels_are_clear_errors(tmp_path: Path) -> None:
    d = _folder(tmp_path, files=2)  # 3 windows of each class per file: too few to split by time (issue 10)
    with pytest.raises(ValueError, match="too few to put it in train, validation and test"):
        recordings.load_dir(d, 100, 128, SENSOR, seed=0)
    with pytest.raises(FileNotFoundError, match="no .csv files"):
        recordings.load_dir(_empty(tmp_path), 100, 128, SENSOR, seed=0)
    one = tmp_path / "one"
    one.mkdir()
    for i in range(3):
        _session(one / f"{i}.csv", i, gestures=("idle",))
    with pytest.raises(ValueError, match="at least two"):
        recordings.load_dir(one, 100, 128, SENSOR, seed=0)


def _empty(tmp_path: Path) -> Path:
    d = tmp_path / "empty"
    d.mkdir()
    return d


def test_short_runs_give_no_window_and_say_so(tmp_path: Path) -> None:
    p = tmp_path / "short.csv"
    _session(p, 0, seconds_per_gesture=1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = recordings.load_recording(p, 100, 128, 64, SENSOR)
    assert not rec.labels
    assert any("short.csv: no label run is 128 samples" in str(w.message) for w in caught)
