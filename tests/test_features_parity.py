"""Firmware feature code (host-compiled) and training/features.py give identical int8 inputs."""

from __future__ import annotations

import numpy as np

from training import features, pipeline, synth
from training.artifacts import ModelPaths


def test_feature_parity_on_synthetic_and_extreme_windows(trained_mlp: ModelPaths) -> None:
    host = pipeline.host_model(trained_mlp)
    fq = pipeline.feature_quant(trained_mlp)
    w = synth.generate(100, seed=4242).raw
    rng = np.random.default_rng(3)
    extremes = np.stack([
        np.full((128, 3), 32767, np.int16),
        np.full((128, 3), -32768, np.int16),
        rng.integers(-32768, 32768, size=(128, 3)).astype(np.int16),
        np.tile(np.array([[32767, -32768, 0]], np.int16), (128, 1)) * np.where(np.arange(128) % 2, 1, -1)[:, None]
        .astype(np.int16),
    ])
    raw = np.concatenate([w, extremes])
    assert np.array_equal(host.features(raw), features.quantized_features(raw, fq))


def test_integer_std_matches_float_std() -> None:
    raw = synth.generate(20, seed=5).raw
    _, r = features.integer_stats(raw)
    expected = raw.astype(np.float64).std(axis=1) * raw.shape[1]
    assert np.all(np.abs(r - expected) <= 1.0)


def test_synthetic_data_is_deterministic() -> None:
    a = synth.generate(10, seed=7)
    b = synth.generate(10, seed=7)
    c = synth.generate(10, seed=8)
    assert np.array_equal(a.raw, b.raw) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.raw, c.raw)
