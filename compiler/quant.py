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


# --- scalar gemmlowp fixed-point, for tables the compiler precomputes ------------------------------------

def _srdhm_scalar(a: int, b: int) -> int:
    if a == INT32_MIN and b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    total = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
    return total >> 31 if total >= 0 else -((-total) >> 31)


def _rdbpot_scalar(x: int, exponent: int) -> int:
    mask = (1 << exponent) - 1
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if (x & mask) > threshold else 0)


def _sat_shl_scalar(x: int, exponent: int) -> int:
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return INT32_MAX
    if x < -threshold:
        return INT32_MIN
    return x << exponent


def _wrap32(x: int) -> int:
    return ((x + 2**31) % 2**32) - 2**31


def exp_on_negative_values_q5_26(a: int) -> int:
    """gemmlowp exp_on_negative_values for a Q5.26 input <= 0, result Q0.31 (TFLM softmax's exp)."""
    if a == 0:
        return INT32_MAX
    frac_bits = 26
    one_quarter = 1 << (frac_bits - 2)
    mod_minus_quarter = (a & (one_quarter - 1)) - one_quarter
    x = _wrap32(_sat_shl_scalar(mod_minus_quarter, 5) + (1 << 28))
    x2 = _srdhm_scalar(x, x)
    x3 = _srdhm_scalar(x2, x)
    x4 = _srdhm_scalar(x2, x2)
    poly = _rdbpot_scalar(_wrap32(_srdhm_scalar(_wrap32(_rdbpot_scalar(x4, 2) + x3), 715827883) + x2), 1)
    result = _wrap32(1895147668 + _srdhm_scalar(1895147668, _wrap32(x + poly)))
    remainder = _wrap32(mod_minus_quarter - a)
    barrel = (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)
    for k, m in enumerate(barrel):
        if remainder & (1 << (frac_bits - 2 + k)):
            result = _srdhm_scalar(result, m)
    return result


def softmax_exp_table(mult: int, left_shift: int, diff_min: int) -> list[int]:
    """exp(beta * scale * diff) in Q0.31 for diff = 0, -1, ..., diff_min: what TFLM computes per element."""
    return [exp_on_negative_values_q5_26(_srdhm_scalar(_wrap32(-d << left_shift), mult))
            for d in range(0, -diff_min + 1)]
