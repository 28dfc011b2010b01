"""The orientation-robust `mag_res` pipeline: what it measures, and that turning the board does not change it.

(Firmware parity of every pipeline, this one included, is tests/test_features_parity.py.)
"""

from __future__ import annotations

import numpy as np

from tinyml_disco.training import features, synth

LSB = 240e-6


def _float_reference(raw: np.ndarray) -> np.ndarray:
    """The same six statistics in floating point, straight from their definitions."""
    a = raw.astype(np.float64)
    n = a.shape[1]
    mag = np.linalg.norm(a, axis=2)
    r = a - a.mean(axis=1, keepdims=True)
    rmag = np.linalg.norm(r, axis=2)
    jerk = np.linalg.norm(np.diff(a, axis=1), axis=2).sum(axis=1)
    total_std = np.sqrt((r ** 2).sum(axis=2).mean(axis=1))
    return np.stack([mag.sum(1), n * mag.std(1), n * total_std, rmag.sum(1), n * rmag.max(1), jerk], axis=1)


def test_integer_statistics_match_their_float_definitions() -> None:
    raw = synth.generate(20, seed=21, config=synth.load_config(overrides=["unknown.enabled=true"])).raw
    got = features.mag_res_stats(raw).astype(np.float64)
    ref = _float_reference(raw)
    # Floor square roots lose < 1 count per root; a sum of N roots loses < N; the std of floored
    # magnitudes moves by a few counts (N * std is ~1e5 counts here).
    n = raw.shape[1]
    assert np.all(np.abs(got - ref) <= np.array([n, n / 8, 2, n + 1, 1, n]))


def test_features_do_not_change_when_the_board_is_turned() -> None:
    w = synth.generate(10, seed=22)
    rng = np.random.default_rng(0)
    f0 = features.get("mag_res").float_features(w.raw, LSB)
    turned = np.stack([synth.to_raw(g @ synth.random_rotation(rng), w.sensor) for g in w.g])
    f1 = features.get("mag_res").float_features(turned, LSB)
    # Only rounding to the LSB differs: a few milli-g at most, against features of 10 mg to several g.
    assert np.abs(f1 - f0).max() < 0.003
    # The post's mean/std features, by contrast, move by up to 2 g.
    m0 = features.get("mean_std").float_features(w.raw, LSB)
    m1 = features.get("mean_std").float_features(turned, LSB)
    assert np.abs(m1 - m0).max() > 0.5


def test_features_separate_the_gestures() -> None:
    """Per class medians are ordered as the physics says (a cheap check that the features mean something)."""
    w = synth.generate(40, seed=23)
    f = features.get("mag_res").float_features(w.raw, LSB)
    med = {lab: np.median(f[w.labels == i], axis=0) for i, lab in enumerate(w.label_names)}
    assert abs(med["idle"][0] - 1.0) < 0.05  # mean |a| at rest = 1 g
    assert med["idle"][2] < 0.1 < 0.2 < med["circle"][2]  # gravity-removed motion (idle: tremor, drift)
    assert med["shake"][5] > 3 * med["circle"][5]  # jerk: shaking is fast, circling slow
    assert med["flick"][4] / med["flick"][2] > med["circle"][4] / med["circle"][2]  # a flick is one peak


def test_quantized_features_follow_the_float_ones() -> None:
    w = synth.generate(10, seed=24)
    pipe = features.get("mag_res")
    scale, zp = 0.02, -128
    fq = pipe.feature_quant(LSB, w.raw.shape[1], scale, zp)
    q = pipe.quantized(w.raw, fq).astype(np.float64)
    expected = np.clip(np.round(pipe.float_features(w.raw, LSB) / scale) + zp, -128, 127)
    assert np.abs(q - expected).max() <= 1
