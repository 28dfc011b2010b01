"""The Robot keywords behind the per-model accuracy thresholds (app/robot_library.py): `Model Accuracy Threshold`
and `Accuracy Should Meet Model Threshold`, on a model.json with the built-in CNN's figures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tinyml_disco.app.robot_library import TinymlBoard
from tinyml_disco.sim import protocol
from tinyml_disco.training.artifacts import META_FORMAT

LABELS = ("idle", "shake", "tilt", "circle")


@dataclass
class _Windows:
    labels: np.ndarray
    label_names: tuple[str, ...] = LABELS

    def __len__(self) -> int:
        return len(self.labels)


def _board(tmp_path: Path, int8: float, test_windows: int) -> TinymlBoard:
    (tmp_path / "cnn").mkdir()
    accuracy = {"float": int8, "int8_host": int8, "test_windows": test_windows}
    # A whole model card: the library reads model.json through tinyml_disco.training.artifacts.ModelCard (issue 10).
    meta = {"format": META_FORMAT, "name": "cnn", "labels": list(LABELS), "sample_rate_hz": 100, "window": 128,
            "hop": 128, "features": {"id": "raw", "shape": [128, 3, 1]},
            "sensor": {"name": "LIS3DSH", "full_scale_g": 8, "lsb_ug": 240},
            "input": {"scale": 0.03, "zero_point": 0}, "output": {"scale": 1 / 256, "zero_point": -128},
            "accuracy": accuracy}
    (tmp_path / "cnn" / "model.json").write_text(json.dumps(meta))
    return TinymlBoard(model="cnn", build_dir=str(tmp_path))


def _feed(board: TinymlBoard, n: int, correct: int) -> None:
    labels = np.arange(n) % len(LABELS)
    board.windows = _Windows(labels)  # type: ignore[assignment]
    predicted = [int(lab) if i < correct else (int(lab) + 1) % len(LABELS) for i, lab in enumerate(labels)]
    board.predictions = [protocol.Prediction(i, c, LABELS[c], 200, 0) for i, c in enumerate(predicted)]


def test_threshold_values(tmp_path: Path) -> None:
    board = _board(tmp_path, 0.9566666666666667, 1500)  # the README's cnn: int8 95.7% on 1,500 windows
    assert [board.model_accuracy_threshold(n) for n in (20, 100, 400)] == [0.75, 0.86, 0.9025]


def test_a_cnn_that_lost_45_points_fails_and_a_correct_one_passes(tmp_path: Path) -> None:
    board = _board(tmp_path, 0.9566666666666667, 1500)
    _feed(board, 100, correct=51)
    assert board.accuracy_should_be_at_least(0.5) == 0.51  # the old MIN_ACCURACY let this pass
    with pytest.raises(AssertionError, match=r"on-device accuracy 0.510 < 0.86"):
        board.accuracy_should_meet_model_threshold()
    _feed(board, 100, correct=85)  # 10 points lost: also caught
    with pytest.raises(AssertionError, match=r"0.850 < 0.86"):
        board.accuracy_should_meet_model_threshold()
    _feed(board, 100, correct=96)
    assert board.accuracy_should_meet_model_threshold() == 0.96


def test_a_correct_firmware_rarely_fails(tmp_path: Path) -> None:
    """Simulated correct firmwares (true accuracy = model.json's figure): at most ~0.1% fail at z=3."""
    board = _board(tmp_path, 0.9566666666666667, 1500)
    threshold = board.model_accuracy_threshold(100)
    hits = np.random.default_rng(0).binomial(100, 0.9566666666666667, size=100_000) / 100
    assert float((hits < threshold).mean()) < 0.002


def test_predictions_must_cover_every_window(tmp_path: Path) -> None:
    board = _board(tmp_path, 0.9566666666666667, 1500)
    _feed(board, 20, correct=20)
    board.predictions = board.predictions[:19]
    with pytest.raises(AssertionError, match="19 predictions for 20 windows"):
        board.accuracy_should_meet_model_threshold()
