"""The one device-vs-TFLM comparison: a PRED line (class, score 0..255) against TFLM's int8 output."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tinyml_disco.sim.protocol import Prediction


def tflm_predictions(tflm_out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(class, score) per row as the firmware reports them: argmax and its int8 output + 128."""
    cls = tflm_out.argmax(1)
    return cls, tflm_out[np.arange(len(cls)), cls].astype(np.int64) + 128


def pred_matches(preds: Sequence[Prediction], tflm_out: np.ndarray) -> np.ndarray:
    """Per window: the device's class and score equal TFLM's (bool array)."""
    ref_cls, ref_score = tflm_predictions(tflm_out[: len(preds)])
    cls = np.array([p.cls for p in preds])
    score = np.array([p.score for p in preds])
    return (cls == ref_cls) & (score == ref_score)
