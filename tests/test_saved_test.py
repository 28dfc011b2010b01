"""The saved test set (data/test_windows.npz) is read as windows of the model's own sensor and sample rate by every
reader (`report` and `report --again`, the on-device windows of a recordings model), also when the model was
trained on recordings with a sensor other than the generator's default (no generator settings in model.json).

No TensorFlow, no firmware: a hand-made build folder (model.json + a placeholder model.tflite + test_windows.npz);
the device_evaluation test replaces the TFLM oracle, the feature stage and the emulated board by recorders.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from tinyml_disco.app import pipeline, report, report_inputs, tflm_oracle
from tinyml_disco.compiler.fileio import sha256_bytes
from tinyml_disco.training import synth
from tinyml_disco.training.artifacts import META_FORMAT, ArtifactMismatchError, ModelPaths, load_card

LABELS = ["idle", "shake", "circle"]
SENSOR = {"name": "LIS2DW12", "full_scale_g": 4, "lsb_ug": 488}  # not the generator's LIS3DSH +/-8 g, 240 ug
RATE = 50  # not the generator's 100 Hz
TFLITE = b"placeholder .tflite"


def fake_model_dir(tmp_path: Path, source: str = "recordings", file_labels: list[str] | None = None) -> ModelPaths:
    """build/mlp_robust/ with model.json (LIS2DW12 +/-4 g, 50 Hz), a placeholder model.tflite and 9 test windows."""
    paths = ModelPaths(tmp_path / "build" / "mlp_robust")
    paths.data_dir.mkdir(parents=True)
    paths.tflite.write_bytes(TFLITE)
    generator = synth.config_to_dict(synth.SynthConfig())
    data = ({"source": "recordings", "dir": "/rec", "files": {"train": [], "val": [], "test": ["t.csv"]}}
            if source == "recordings" else {"source": "synthetic", "generator": generator})
    meta = {"format": META_FORMAT, "name": paths.name, "tflite_sha256": sha256_bytes(TFLITE), "labels": LABELS,
            "sample_rate_hz": RATE, "window": 16, "hop": 16, "features": {"id": "raw", "shape": [16, 3]},
            "sensor": SENSOR, "input": {"scale": 1.0, "zero_point": 0},
            "output": {"scale": 1 / 256, "zero_point": -128}, "training": {"seed": 1}, "data": data}
    paths.meta_json.write_text(json.dumps(meta))
    rng = np.random.default_rng(3)
    raw = rng.integers(-2000, 2000, size=(9, 16, 3)).astype(np.int16)
    labels = np.array([0, 1, 2, 2, 1, 0, 0, 1, 2])
    buf = io.BytesIO()
    np.savez_compressed(buf, raw=raw, labels=labels, label_names=np.array(file_labels or LABELS),
                        float_pred=labels[::-1].copy())
    (paths.data_dir / "test_windows.npz").write_bytes(buf.getvalue())
    return paths


def test_saved_test_has_the_model_sensor_and_rate(tmp_path: Path) -> None:
    paths = fake_model_dir(tmp_path)
    card = load_card(paths)
    assert card.generator is None  # a recordings model: the generator's defaults are not its sensor
    test, float_pred = pipeline.saved_test(paths, card)
    assert (test.sensor.name, test.sensor.full_scale_g, test.sensor.lsb_ug) == ("LIS2DW12", 4, 488)
    assert test.sample_rate_hz == RATE and test.label_names == tuple(LABELS)
    saved = np.load(paths.data_dir / "test_windows.npz")
    np.testing.assert_array_equal(test.raw, saved["raw"])
    np.testing.assert_array_equal(float_pred, saved["float_pred"])
    np.testing.assert_allclose(test.g, saved["raw"] * 488e-6)


def test_device_evaluation_feeds_the_board_in_the_model_sensor_units(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    paths = fake_model_dir(tmp_path)
    seen: dict[str, object] = {}

    class Oracle:
        def __init__(self, model_bytes: bytes) -> None:
            seen["tflite"] = model_bytes

        def invoke(self, inputs: np.ndarray) -> np.ndarray:
            return np.zeros((len(inputs), len(LABELS)), dtype=np.int8)

    def board(elf: Path, windows_g: np.ndarray, labels: np.ndarray, tflm_out: np.ndarray, names: list[str]) -> dict:
        seen.update(elf=elf, g=windows_g, labels=labels, names=names)
        return {"accuracy": 1.0}

    monkeypatch.setattr(tflm_oracle, "TflmOracle", Oracle)
    monkeypatch.setattr(pipeline, "model_inputs", lambda _paths, raw: raw)
    monkeypatch.setattr(report, "evaluate_device", board)
    assert report_inputs.device_evaluation(paths, load_card(paths), 2, log=lambda _m: None) == {"accuracy": 1.0}
    saved = np.load(paths.data_dir / "test_windows.npz")
    idx = report.pick_per_class(saved["labels"], 2)
    assert seen["tflite"] == TFLITE and seen["elf"] == paths.elf and seen["names"] == LABELS
    np.testing.assert_array_equal(seen["labels"], saved["labels"][idx])
    # The firmware reads counts of the model's sensor: g must be counts x the model's 488 ug, not the default 240.
    np.testing.assert_allclose(seen["g"], saved["raw"][idx] * 488e-6)


def test_device_windows_of_a_recordings_model_are_its_saved_test_windows(tmp_path: Path) -> None:
    paths = fake_model_dir(tmp_path)
    w = pipeline.device_windows(paths, 1)
    assert w.label_names == tuple(LABELS) and w.sensor.lsb_ug == 488 and w.sample_rate_hz == RATE
    np.testing.assert_array_equal(w.labels, [0, 1, 2])  # the first window of each class, in test order


def test_missing_saved_test_names_the_train_command(tmp_path: Path) -> None:
    rec = fake_model_dir(tmp_path / "rec")
    (rec.data_dir / "test_windows.npz").unlink()
    with pytest.raises(FileNotFoundError, match=r"tinyml-disco train --model mlp_robust --data DIR"):
        pipeline.saved_test(rec, load_card(rec))
    syn = fake_model_dir(tmp_path / "syn", source="synthetic")
    (syn.data_dir / "test_windows.npz").unlink()
    with pytest.raises(FileNotFoundError, match=r"run `tinyml-disco train --model mlp_robust` first"):
        pipeline.saved_test(syn, load_card(syn))


def test_saved_test_of_another_training_is_refused(tmp_path: Path) -> None:
    paths = fake_model_dir(tmp_path, file_labels=["idle", "circle", "shake"])
    with pytest.raises(ArtifactMismatchError, match="has labels idle, circle, shake"):
        pipeline.saved_test(paths, load_card(paths))
