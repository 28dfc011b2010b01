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
- `mag_res` (orientation-robust): rotation-invariant statistics of the acceleration magnitude |a| and of the
  gravity-removed signal r = a - mean(a), 6 inputs, all scaled as N times a value in counts so that one
  multiplier takes them to int8. Order: sum |a|, N*std |a|, N*std r (total over the axes), sum |r|,
  N*max |r|, (sum of |a[i] - a[i-1]|) (jerk). A rotation of the board changes none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tinyml_disco.compiler import FeatureInput, Graph
from tinyml_disco.compiler.quant import multiply_by_quantized_multiplier, quantize_multiplier


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


def _norm3(v: np.ndarray) -> np.ndarray:
    """floor(|v|) of integer 3-vectors along the last axis (int64 in, int64 out)."""
    return _isqrt((v * v).sum(axis=-1))


def mag_res_stats(raw: np.ndarray) -> np.ndarray:
    """Integer statistics of the `mag_res` pipeline, (W, 6) int64, each N times a value in counts.

    firmware/src/features_mag_res.c does the same arithmetic step by step (int64, floor square roots,
    truncating division of non-negative numbers).
    """
    x = raw.astype(np.int64)
    n = x.shape[1]
    mag = _norm3(x)  # (W, N) |a| in counts
    m_sum = mag.sum(axis=1)
    m_std = _isqrt(n * (mag * mag).sum(axis=1) - m_sum * m_sum)
    s = x.sum(axis=1)  # (W, 3)
    spread = n * (x * x).sum(axis=1) - s * s  # N^2 * variance per axis
    r_std = _isqrt(spread.sum(axis=1))
    r_mag = _norm3(n * x - s[:, None, :])  # N * |r| per sample
    r_sum = r_mag.sum(axis=1) // n
    r_max = r_mag.max(axis=1)
    jerk = _norm3(np.diff(x, axis=1)).sum(axis=1)
    return np.stack([m_sum, m_std, r_std, r_sum, r_max, jerk], axis=1)


class MagRes:
    id = "mag_res"

    def input_shape(self, window: int) -> tuple[int, ...]:
        return (6,)

    def float_features(self, raw: np.ndarray, lsb_g: float) -> np.ndarray:
        return mag_res_stats(raw).astype(np.float64) * (lsb_g / raw.shape[1])

    def feature_quant(self, lsb_g: float, window: int, input_scale: float, input_zero_point: int) -> FeatureQuant:
        mult, shift = quantize_multiplier(lsb_g / (window * float(input_scale)))
        return FeatureQuant(mult, shift, int(input_zero_point))

    def quantized(self, raw: np.ndarray, fq: FeatureQuant) -> np.ndarray:
        return _requant_to_int8(mag_res_stats(raw), fq)


PIPELINES: dict[str, FeaturePipeline] = {p.id: p for p in (MeanStd(), RawWindow(), MagRes())}


def get(pipeline_id: str) -> FeaturePipeline:
    try:
        return PIPELINES[pipeline_id]
    except KeyError:
        raise ValueError(f"unknown feature pipeline {pipeline_id!r}; known: {', '.join(PIPELINES)}") from None


def c_define(pipeline_id: str) -> str:
    """The macro in model.h that selects firmware/src/features_<id>.c."""
    return f"MODEL_FEATURES_{pipeline_id.upper()}"


def feature_input(pipeline_id: str, window: int, lsb_ug: int, input_scale: float, input_zero_point: int
                  ) -> FeatureInput:
    """What the compiler needs to emit the feature stage of a model whose int8 input has this quantization."""
    pipe = get(pipeline_id)
    fq = pipe.feature_quant(lsb_ug * 1e-6, window, float(input_scale), int(input_zero_point))
    return FeatureInput(pipe.id, c_define(pipe.id), int(np.prod(pipe.input_shape(window))), fq.multiplier,
                        fq.shift, fq.zero_point)


def feature_input_for_graph(pipeline_id: str, window: int, lsb_ug: int, g: Graph) -> FeatureInput:
    """feature_input for the quantization of g's model input tensor."""
    t = g.tensors[g.inputs[0]]
    return feature_input(pipeline_id, window, lsb_ug, float(t.scale[0]), int(t.zero_point[0]))
