"""Evaluation reports, `train --data` end to end, reproducibility, and the orientation-robust model's target."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests import informative
from tinyml_disco.app import cli, pipeline, report
from tinyml_disco.sim import sensor_csv
from tinyml_disco.training import synth
from tinyml_disco.training.artifacts import ModelPaths


def test_class_metrics_by_hand() -> None:
    # truth:      a a a b b c ; predicted: a a b b c c
    m = report.class_metrics(np.array([0, 0, 0, 1, 1, 2]), np.array([0, 0, 1, 1, 2, 2]), ["a", "b", "c"])
    assert m["confusion"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert m["accuracy"] == pytest.approx(4 / 6)
    b = m["per_class"]["b"]
    assert (b["precision"], b["recall"], b["support"]) == (pytest.approx(0.5), pytest.approx(0.5), 2)
    c = m["per_class"]["c"]
    assert c["f1"] == pytest.approx(2 * 0.5 * 1.0 / 1.5)
    assert m["macro_f1"] == pytest.approx(np.mean([0.8, 0.5, 2 / 3]))


def test_a_class_never_predicted_has_zero_precision_not_nan() -> None:
    m = report.class_metrics(np.array([0, 1]), np.array([0, 0]), ["a", "b"])
    assert m["per_class"]["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def test_report_after_training(trained_mlp: ModelPaths) -> None:
    meta = json.loads(trained_mlp.meta_json.read_text())
    r = json.loads((trained_mlp.root / "report.json").read_text())
    assert r["accuracy"]["float"] == meta["accuracy"]["float"]
    assert r["accuracy"]["int8_host"] == meta["accuracy"]["int8_host"]
    host = r["evaluations"]["int8 host (TFLM)"]
    assert sum(c["support"] for c in host["per_class"].values()) == meta["accuracy"]["test_windows"]
    assert np.trace(np.array(host["confusion"])) == round(host["accuracy"] * host["windows"])
    assert (trained_mlp.root / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (trained_mlp.root / "report.md").read_text()
    assert "| int8 host (TFLM) |" in md and "| shake |" in md
    assert meta["data"]["source"] == "synthetic" and meta["data"]["generator"]["sensor"]["lsb_ug"] == 240


def test_device_evaluation_matches_tflm(trained_mlp: ModelPaths, mlp_elf: Path) -> None:
    from tinyml_disco.app.tflm_oracle import TflmOracle

    w = pipeline.device_windows(trained_mlp, 2, seed=41)
    ref = TflmOracle(trained_mlp.tflite.read_bytes()).invoke(pipeline.model_inputs(trained_mlp, w.raw))
    informative.assert_informative(ref, 7, 4, "device evaluation windows")  # 8 windows of 4 gestures
    dev = report.evaluate_device(mlp_elf, w.g, w.labels, ref, w.label_names)
    assert dev["pred_matches_tflm"] == 1.0
    assert dev["accuracy"] == float((ref.argmax(1) == w.labels).mean())
    assert 0 < dev["cycles_per_inference"] <= dev["cycles_per_inference_max"] and dev["flash_bytes"] > 0


def _recordings(d: Path, files: int = 4) -> Path:
    d.mkdir()
    cfg = synth.SynthConfig()
    for i in range(files):
        rng = np.random.default_rng(i)
        n = 400
        t = np.arange(n) / 100.0
        parts = [synth.gesture_motion(lab, t, rng, cfg) @ synth.random_rotation(rng) for lab in synth.LABELS]
        up = np.array([0.0, 0.0, 1.0])
        g = np.concatenate(parts) + up
        labels = [lab for lab in synth.LABELS for _ in range(n)]
        sensor_csv.write_csv(d / f"session{i}.csv", g, 100.0, labels)
    return d


def test_train_from_recordings_end_to_end(tmp_path: Path) -> None:
    data = _recordings(tmp_path / "rec")
    build = tmp_path / "build"
    assert cli.main(["train", "--model", "mlp_robust", "--data", str(data), "--epochs", "3", "--seed", "5",
                     "--device-per-class", "0", "--build-dir", str(build)]) == 0
    paths = ModelPaths(build / "mlp_robust")
    meta = json.loads(paths.meta_json.read_text())
    assert meta["data"]["source"] == "recordings" and meta["labels"] == list(synth.LABELS)
    files = meta["data"]["files"]
    assert sorted(sum(files.values(), [])) == [f"session{i}.csv" for i in range(4)]
    r = json.loads((paths.root / "report.json").read_text())
    assert "recordings" in r["data_summary"] and "skipped" in r["evaluations"]["device (emulated)"]["error"]
    # Robot data for a recordings model = its held-out recording windows, with labels.
    index = json.loads((paths.data_dir / "device_windows.json").read_text())
    assert index["source"] == "recordings" and set(index["labels"]) <= set(synth.LABELS)
    rec = sensor_csv.read_csv(paths.data_dir / "device_windows.csv", require_label=True)
    assert len(rec.samples_g) == len(index["labels"]) * meta["window"]


def test_bad_generator_setting_is_a_clear_cli_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["train", "--synth", "sensor.full_scale_g=3", "--build-dir", str(tmp_path)]) == 2
    assert "no +/-3 g range" in capsys.readouterr().err


def test_same_seed_same_model_bytes(tmp_path: Path) -> None:
    cfg = synth.load_config(overrides=["unknown.enabled=true"])
    runs = []
    for name in ("a", "b"):
        paths = ModelPaths(tmp_path / name / "mlp_robust")
        meta = pipeline.train(paths, seed=3, per_class=60, epochs=3, synth_config=cfg, log=lambda _m: None)
        runs.append((paths.tflite.read_bytes(), meta["accuracy"], (paths.root / "report.json").read_text()))
    assert runs[0] == runs[1]
    assert json.loads(runs[0][2])["labels"][-1] == "unknown"


def test_robust_model_meets_the_target_on_randomly_held_boards(tmp_path: Path) -> None:
    """Issue 4 target at CI size: 6 -> 16 -> 4 on orientation-randomized data, >= 98%, int8 within 1 point."""
    paths = ModelPaths(tmp_path / "mlp_robust")
    meta = pipeline.train(paths, seed=8, per_class=300, epochs=40, log=lambda _m: None)
    acc = meta["accuracy"]
    assert synth.SynthConfig().orientation.random
    assert acc["int8_host"] >= 0.98, acc
    assert acc["float"] - acc["int8_host"] <= 0.01, acc
