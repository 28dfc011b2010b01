"""TensorFlow imported before tinyml_disco.training.train with oneDNN on makes trainings differ in the last bits
from the CLI's (measured: the cnn's .tflite sha256); train.ONEDNN_BEFORE_IMPORT records it and train_model warns."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = "from tinyml_disco.training import train; print(train.ONEDNN_BEFORE_IMPORT)"


def _probe(tf_first: bool, onednn: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if onednn is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = onednn
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    code = ("import tensorflow; " if tf_first else "") + PROBE
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(("tf_first", "onednn", "expected"), [
    (True, None, "True"),  # the caller's TensorFlow came first, oneDNN at its default (on)
    (True, "0", "False"),  # ... but with oneDNN off, as the CLI runs
    (False, None, "False"),  # train.py first: it turns oneDNN off before TensorFlow is imported
])
def test_onednn_before_import(tf_first: bool, onednn: str | None, expected: str) -> None:
    assert _probe(tf_first, onednn) == expected
