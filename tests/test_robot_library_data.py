"""The Robot keyword library reads model.json through the typed model card and converts a CSV's windows with
the model's sensor (here LIS2DW12 at +/-4 g, not the default LIS3DSH at 8 g) (issue 10)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tinyml_disco.app.robot_library import TinymlBoard
from tinyml_disco.sim import sensor_csv
from tinyml_disco.training.artifacts import META_FORMAT


def _card(root: Path) -> None:
    root.mkdir(parents=True)
    (root / "model.json").write_text(json.dumps({
        "format": META_FORMAT, "name": "mlp", "labels": ["idle", "shake"], "sample_rate_hz": 100, "window": 128,
        "hop": 128, "features": {"id": "mean_std", "shape": [6]},
        "sensor": {"name": "LIS2DW12", "full_scale_g": 4, "lsb_ug": 488},
        "input": {"scale": 0.01, "zero_point": 0}, "output": {"scale": 1 / 256, "zero_point": -128},
        "accuracy": {"float": 0.9, "int8_host": 0.9, "test_windows": 100}, "data": {"source": "synthetic"}}))


def test_windows_from_a_csv_are_in_the_model_sensor_counts(tmp_path: Path) -> None:
    _card(tmp_path / "build" / "mlp")
    path = tmp_path / "w.csv"
    g = np.tile([0.5, -0.25, 1.0], (256, 1))
    sensor_csv.write_csv(path, g, 100.0, ["idle"] * 128 + ["shake"] * 128)
    board = TinymlBoard(model="mlp", build_dir=str(tmp_path / "build"))
    assert board.load_windows_from_file(str(path)) == 2
    w = board.windows
    assert w is not None
    assert w.sensor.name == "LIS2DW12" and w.sensor.lsb_ug == 488
    assert w.raw[0, 0].tolist() == [round(0.5 / 488e-6), round(-0.25 / 488e-6), round(1.0 / 488e-6)]
    assert w.labels.tolist() == [0, 1] and w.label_names == ("idle", "shake")
    assert board.model_accuracy_threshold(windows=100) < 0.9
