"""A model trained on recordings describes its data in model.json (folder, files relative to it, rate, units,
split) and carries no synthetic generator settings or seeds; demo's title says what the data is (issue 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_recordings_splits import _given
from tinyml_disco.app import cli, pipeline
from tinyml_disco.training.artifacts import ModelPaths


@pytest.fixture(scope="module")
def recordings_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModelPaths, Path]:
    root = tmp_path_factory.mktemp("rec")
    data = _given(root)
    paths = ModelPaths(root / "build" / "mlp_robust")
    pipeline.train(paths, seed=5, epochs=1, data_dir=data, log=lambda _m: None)
    return paths, data


def test_model_json_records_the_recordings_not_the_generator(recordings_model: tuple[ModelPaths, Path]) -> None:
    paths, data_dir = recordings_model
    meta = json.loads(paths.meta_json.read_text())
    data = meta["data"]
    assert data["source"] == "recordings"
    assert "generator" not in data and "seeds" not in meta["training"] and "per_class" not in meta["training"]
    assert data["dir"] == str(data_dir.resolve())
    assert data["files"] == {"train": ["train/s0.csv", "train/s1.csv"], "val": [], "test": ["test/s0.csv"]}
    assert data["split"]["layout"] == "given"
    assert data["labels"] == ["idle", "shake", "circle"] == meta["labels"]
    assert data["sample_rate_hz"] == 100
    assert data["file_info"]["test/s0.csv"] == {"units": "g", "rate_hz": 100.0, "windows": 9}
    assert "test/s0.csv" in (paths.root / "report.md").read_text()


def test_device_windows_use_the_model_sensor(recordings_model: tuple[ModelPaths, Path]) -> None:
    paths, _ = recordings_model
    w = pipeline.device_windows(paths, 2)
    assert w.label_names == ("idle", "shake", "circle") and len(w) == 6
    assert w.sensor.lsb_ug == 240 and w.sample_rate_hz == 100


def test_demo_title_names_the_recordings(recordings_model: tuple[ModelPaths, Path]) -> None:
    paths, data_dir = recordings_model
    title = cli._data_title(paths.name, json.loads(paths.meta_json.read_text())["data"])
    assert "synthetic" not in title and str(data_dir.resolve()) in title
    assert cli._data_title("mlp", {"source": "synthetic"}) == "held-out synthetic windows"
