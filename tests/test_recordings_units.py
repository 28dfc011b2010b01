"""A folder of gravity-removed recordings in m/s^2: files whose values alone cannot tell the unit (idle, gentle)
take the unit the other files were detected in; a folder that never tells is refused (issue 10)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from tinyml_disco.sim import sensor_csv
from tinyml_disco.training import recordings, synth

G0 = sensor_csv.STANDARD_GRAVITY


def _linear(path: Path, label: str, peak_ms2: float, seed: int) -> None:
    """Gravity-removed motion in m/s^2: 5 Hz oscillation of `peak_ms2` for 6 s."""
    t = np.arange(600) / 100.0
    rng = np.random.default_rng(seed)
    x = peak_ms2 * np.sin(2 * np.pi * 5 * t)
    sensor_csv.write_csv(path, np.stack([x, 0.2 * x, 0 * x], 1) + rng.normal(0, 0.02, (600, 3)), 100.0,
                         [label] * 600)


def test_unsure_files_take_the_folder_unit(tmp_path: Path) -> None:
    for i in range(3):
        _linear(tmp_path / f"shake{i}.csv", "shake", 30.0, i)  # beyond +/-16: m/s^2 by range
        _linear(tmp_path / f"wave{i}.csv", "wave", 8.0, 10 + i)  # 2..16, no gravity: g or m/s^2 alone
        _linear(tmp_path / f"idle{i}.csv", "idle", 0.5, 20 + i)  # under 2: taken as g alone
    with pytest.raises(sensor_csv.AmbiguousUnitsError):
        sensor_csv.read_csv(tmp_path / "wave0.csv")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = recordings.load_dir(tmp_path, 100, 128, synth.SensorSpec(), seed=0)
    assert {f: v["units"] for f, v in s.file_info.items()} == {
        f"{lab}{i}.csv": "m/s2" for lab in ("shake", "wave", "idle") for i in range(3)}
    assert any("wave0.csv: its values alone cannot tell the unit; read as m/s^2" in str(w.message) for w in caught)
    wave = s.train.raw[s.train.labels == s.train.label_names.index("wave")]
    assert np.abs(wave).max() * 240e-6 == pytest.approx(8.0 / G0 * 1.02, rel=0.1)  # converted to g


def test_a_folder_that_never_tells_is_refused(tmp_path: Path) -> None:
    for i in range(3):
        _linear(tmp_path / f"wave{i}.csv", "wave", 8.0, i)
        _linear(tmp_path / f"idle{i}.csv", "idle", 0.5, 10 + i)
    with pytest.raises(sensor_csv.AmbiguousUnitsError, match=r"wave\d\.csv, line \d+: no gravity.*--units"):
        recordings.load_dir(tmp_path, 100, 128, synth.SensorSpec(), seed=0)
    s = recordings.load_dir(tmp_path, 100, 128, synth.SensorSpec(), seed=0, units="m/s2")
    assert {v["units"] for v in s.file_info.values()} == {"m/s2"}
