"""Feature pipelines: raw sensor counts (W, window, 3) int16 -> the model's input.

Every pipeline is integer arithmetic from raw counts, written twice: here (numpy, used for training
and as the host twin) and in firmware/src/features_<id>.c (selected by MODEL_FEATURES_<ID> in the
generated model.h). A parity test checks the two produce identical int8 inputs.

Pipelines:
- `mean_std` (the source post's): mean and standard deviation of each axis over the window, 6 inputs.
  Per axis S = sum(x), D = N*sum(x^2) - S^2; features are S and isqrt(D) (N times the mean and the
  standard deviation, in counts), each taken to int8 with one TFLite-style fixed-point multiplier.
  Order: mean_x, mean_y, mean_z, std_x, std_y, std_z.
- `raw`: the window itself, (window, 3), each count taken to int8 with one multiplier (for CNNs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from training.quant import multiply_by_quantized_multiplier, quantize_multiplier


@dataclass(frozen=True)
class FeatureQuant:
    """Integer constants that take a pipeline's integer statistic straight to the int8 model input."""

    multiplier: int
    shift: int
    zero_point: int


class FeaturePipeline(Protocol):
    id: str

    def input_shape(self, window: int) -> tuple[int, ...]: ...

    def float_features(self, raw: np.ndarray, lsb_g: float) -> np.ndarray: ...

    def feature_quant(self, lsb_g: float, window: int, input_scale: float, input_zero_point: int) -> FeatureQuant: ...

    def quantized(self, raw: np.ndarray, fq: FeatureQuant) -> np.ndarray: ...


def _requant_to_int8(stats: np.ndarray, fq: FeatureQuant) -> np.ndarray:
    q = multiply_by_quantized_multiplier(stats, fq.multiplier, fq.shift) + fq.zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def _isqrt(values: np.ndarray) -> np.ndarray:
    """Exact floor(sqrt(v)) for non-negative int64 values (float guess, then integer correction)."""
    v = values.astype(np.int64)
    r = np.floor(np.sqrt(v.astype(np.float64))).astype(np.int64)
    r = np.where(r * r > v, r - 1, r)
    r = np.where(r * r > v, r - 1, r)
    return np.where((r + 1) * (r + 1) <= v, r + 1, r)


def integer_stats(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-window integer statistics: (N*mean, N*std) in sensor counts, shapes (W, 3) int64."""
    x = raw.astype(np.int64)
    n = x.shape[1]
    s = x.sum(axis=1)
    q = (x * x).sum(axis=1)
    return s, _isqrt(n * q - s * s)


class MeanStd:
    id = "mean_std"

    def input_shape(self, window: int) -> tuple[int, ...]:
        return (6,)

    def float_features(self, raw: np.ndarray, lsb_g: float) -> np.ndarray:
        s, r = integer_stats(raw)
        return np.concatenate([s, r], axis=1).astype(np.float64) * (lsb_g / raw.shape[1])

    def feature_quant(self, lsb_g: float, window: int, input_scale: float, input_zero_point: int) -> FeatureQuant:
        mult, shift = quantize_multiplier(lsb_g / (window * float(input_scale)))
        return FeatureQuant(mult, shift, int(input_zero_point))

    def quantized(self, raw: np.ndarray, fq: FeatureQuant) -> np.ndarray:
        s, r = integer_stats(raw)
        return _requant_to_int8(np.concatenate([s, r], axis=1), fq)


class RawWindow:
    id = "raw"

    def input_shape(self, window: int) -> tuple[int, ...]:
        return (window, 3)

    def float_features(self, raw: np.ndarray, lsb_g: float) -> np.ndarray:
        return raw.astype(np.float64) * lsb_g

    def feature_quant(self, lsb_g: float, window: int, input_scale: float, input_zero_point: int) -> FeatureQuant:
        mult, shift = quantize_multiplier(lsb_g / float(input_scale))
        return FeatureQuant(mult, shift, int(input_zero_point))

    def quantized(self, raw: np.ndarray, fq: FeatureQuant) -> np.ndarray:
        return _requant_to_int8(raw.astype(np.int64), fq)


PIPELINES: dict[str, FeaturePipeline] = {p.id: p for p in (MeanStd(), RawWindow())}


def get(pipeline_id: str) -> FeaturePipeline:
    try:
        return PIPELINES[pipeline_id]
    except KeyError:
        raise ValueError(f"unknown feature pipeline {pipeline_id!r}; known: {', '.join(PIPELINES)}") from None


def c_define(pipeline_id: str) -> str:
    """The macro in model.h that selects firmware/src/features_<id>.c."""
    return f"MODEL_FEATURES_{pipeline_id.upper()}"
