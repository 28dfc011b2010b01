"""Feature pipeline `mean_std`: mean and standard deviation of each axis over the window.

Computed in integers from raw sensor counts, exactly as firmware/src/features.c does, so the
model sees the same int8 inputs on the host and on the board:
  S = sum(x), Q = sum(x^2)  (per axis);  mean_counts = S / N;  std_counts = isqrt(N*Q - S^2) / N
Feature order: mean_x, mean_y, mean_z, std_x, std_y, std_z (in g when dequantized).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.quant import multiply_by_quantized_multiplier, quantize_multiplier

PIPELINE_ID = "mean_std"
NUM_FEATURES = 6


def _isqrt_u64(values: np.ndarray) -> np.ndarray:
    """Exact floor(sqrt(v)) for non-negative int64 values (float guess, then integer correction)."""
    v = values.astype(np.int64)
    r = np.floor(np.sqrt(v.astype(np.float64))).astype(np.int64)
    r = np.where(r * r > v, r - 1, r)
    r = np.where(r * r > v, r - 1, r)
    r = np.where((r + 1) * (r + 1) <= v, r + 1, r)
    return r


def integer_stats(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-window integer statistics: (N*mean, N*std) in sensor counts, shapes (W, 3) int64."""
    x = raw.astype(np.int64)
    n = x.shape[1]
    s = x.sum(axis=1)
    q = (x * x).sum(axis=1)
    d = n * q - s * s
    return s, _isqrt_u64(d)


def float_features(raw: np.ndarray, lsb_g: float) -> np.ndarray:
    """Features in g (W, 6) from the same integer statistics the firmware uses."""
    s, r = integer_stats(raw)
    n = raw.shape[1]
    return np.concatenate([s, r], axis=1).astype(np.float64) * (lsb_g / n)


@dataclass(frozen=True)
class FeatureQuant:
    """Integer multiplier taking N*stat (counts) straight to the model's int8 input."""

    multiplier: int
    shift: int
    zero_point: int

    @classmethod
    def for_model(cls, lsb_g: float, window: int, input_scale: float, input_zero_point: int) -> FeatureQuant:
        mult, shift = quantize_multiplier(lsb_g / (window * float(input_scale)))
        return cls(mult, shift, int(input_zero_point))


def quantized_features(raw: np.ndarray, fq: FeatureQuant) -> np.ndarray:
    """Int8 model inputs (W, 6), bit-identical to features_compute() in the firmware."""
    s, r = integer_stats(raw)
    stats = np.concatenate([s, r], axis=1)
    q = multiply_by_quantized_multiplier(stats, fq.multiplier, fq.shift) + fq.zero_point
    return np.clip(q, -128, 127).astype(np.int8)
