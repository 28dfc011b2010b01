"""The built-in MLP against TFLite Micro on 10,000+ inputs (the CNN's twin is in test_cnn.py)."""

from __future__ import annotations

import numpy as np

from training.artifacts import ModelPaths


def test_mlp_host_bit_exact_on_10000_inputs(trained_mlp: ModelPaths) -> None:
    from app import pipeline
    from app.tflm_oracle import TflmOracle

    w = pipeline.device_windows(trained_mlp, 25)
    real = pipeline.model_inputs(trained_mlp, w.raw).reshape(len(w.raw), -1)
    rand = np.random.default_rng(21).integers(-128, 128, size=(10_000, real.shape[1])).astype(np.int8)
    x = np.concatenate([real, rand])
    ours = pipeline.host_model(trained_mlp).invoke(x)
    ref = TflmOracle(trained_mlp.tflite.read_bytes()).invoke(x)
    assert (ours == ref).all(), f"{int((ours != ref).any(axis=1).sum())} of {len(x)} rows differ"
