"""TFLite int8 fixed-point arithmetic, exactly as TFLite Micro's reference kernels do it.

These functions mirror firmware/nn/include/tdnn_math.h so that host-side feature
quantization and the generated constants agree bit for bit with the firmware.
"""

from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def quantize_multiplier(real: float) -> tuple[int, int]:
    """Split a positive real multiplier into (Q31 multiplier, shift) like TFLite's QuantizeMultiplier.

    shift > 0 is a left shift, shift < 0 a right shift. std::round rounds half away from zero,
    Python's round() does not, hence floor(x + 0.5) (the value is always positive here).
    """
    if real == 0.0:
        return 0, 0
    if real < 0.0 or not math.isfinite(real):
        raise ValueError(f"multiplier must be finite and non-negative, got {real!r}")
    mantissa, shift = math.frexp(real)
    q_fixed = int(math.floor(mantissa * (1 << 31) + 0.5))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def srdhm(a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """SaturatingRoundingDoublingHighMul on int32 values (vectorised, int64 internally)."""
    a64 = np.asarray(a, dtype=np.int64)
    b64 = np.asarray(b, dtype=np.int64)
    ab = a64 * b64
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    total = ab + nudge
    # C integer division truncates toward zero.
    high = np.where(total >= 0, total >> 31, -((-total) >> 31))
    overflow = (a64 == INT32_MIN) & (b64 == INT32_MIN)
    return np.where(overflow, INT32_MAX, high).astype(np.int64)


def rounding_divide_by_pot(x: np.ndarray | int, exponent: int) -> np.ndarray:
    """gemmlowp RoundingDivideByPOT: round half away from zero."""
    x64 = np.asarray(x, dtype=np.int64)
    if exponent == 0:
        return x64
    mask = (1 << exponent) - 1
    remainder = x64 & mask
    threshold = (mask >> 1) + (x64 < 0).astype(np.int64)
    return (x64 >> exponent) + (remainder > threshold).astype(np.int64)


def multiply_by_quantized_multiplier(x: np.ndarray | int, multiplier: int, shift: int) -> np.ndarray:
    """TFLM's two-rounding MultiplyByQuantizedMultiplier (not XNNPACK's single rounding)."""
    left = shift if shift > 0 else 0
    right = -shift if shift < 0 else 0
    x64 = np.asarray(x, dtype=np.int64) * (1 << left)
    # int32 wrap as on the target (the shift never overflows for sane models, but stay faithful).
    x64 = ((x64 + 2**31) % 2**32) - 2**31
    return rounding_divide_by_pot(srdhm(x64, multiplier), right)
