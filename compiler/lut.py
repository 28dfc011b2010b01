"""Int8 lookup tables for ops whose int8 output depends on the int8 input alone (e.g. LOGISTIC).

Each entry is what TFLM's reference kernel computes for that input, in gemmlowp fixed point, so
a table lookup on the device is bit-identical to TFLM's per-element arithmetic.
"""

from __future__ import annotations

import math

from tinyml_disco.compiler.quant import (
    INT32_MAX,
    _rdbpot_scalar,
    _sat_shl_scalar,
    _srdhm_scalar,
    _wrap32,
    multiply_by_quantized_multiplier,
)

_BARREL = (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)  # exp(-2^e), e = -2..4


def _exp_interval(x: int) -> int:
    """gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl (Q0.31)."""
    x = _wrap32(x + (1 << 28))
    x2 = _srdhm_scalar(x, x)
    x3 = _srdhm_scalar(x2, x)
    x4 = _srdhm_scalar(x2, x2)
    poly = _rdbpot_scalar(_wrap32(_srdhm_scalar(_wrap32(_rdbpot_scalar(x4, 2) + x3), 715827883) + x2), 1)
    return _wrap32(1895147668 + _srdhm_scalar(1895147668, _wrap32(x + poly)))


def exp_on_negative_values(a: int, integer_bits: int) -> int:
    """gemmlowp exp_on_negative_values for a Q(integer_bits).(31-integer_bits) input <= 0; Q0.31 out."""
    frac = 31 - integer_bits
    one_quarter = 1 << (frac - 2)
    mod_minus_quarter = (a & (one_quarter - 1)) - one_quarter
    result = _exp_interval(_sat_shl_scalar(mod_minus_quarter, integer_bits))
    remainder = _wrap32(mod_minus_quarter - a)
    for k, mult in enumerate(_BARREL):
        exponent = k - 2
        if integer_bits > exponent and remainder & (1 << (frac + exponent)):
            result = _srdhm_scalar(result, mult)
    if integer_bits > 5:
        clamp = -(1 << (36 - integer_bits))
        if a < clamp:
            result = 0
    return INT32_MAX if a == 0 else result


def _one_over_one_plus_x(a: int) -> int:
    """gemmlowp one_over_one_plus_x_for_x_in_0_1 (Q0.31 in and out)."""
    s = a + INT32_MAX
    half_den = (s + (1 if s >= 0 else -1)) // 2 if s >= 0 else -((-s + 1) // 2)
    x = _wrap32(1515870810 + _srdhm_scalar(half_den, -1010580540))
    for _ in range(3):
        one_minus = _wrap32((1 << 29) - _srdhm_scalar(half_den, x))
        x = _wrap32(x + _sat_shl_scalar(_srdhm_scalar(x, one_minus), 2))
    return _sat_shl_scalar(x, 1)


def logistic_q4(a: int) -> int:
    """gemmlowp logistic of a Q4.27 value, Q0.31 result."""
    if a == 0:
        return 1 << 30
    positive = _one_over_one_plus_x(exp_on_negative_values(-abs(a), 4))
    return positive if a > 0 else _wrap32(INT32_MAX - positive)


def logistic_table(input_scale: float, input_zero_point: int) -> list[int]:
    """TFLM int8 LOGISTIC (logistic_common.cc + reference_integer_ops::Logistic) for inputs -128..127."""
    integer_bits = 4
    mantissa, left_shift = math.frexp(float(input_scale) * (1 << (31 - integer_bits)))
    mult = int(math.floor(mantissa * (1 << 31) + 0.5))
    radius = math.floor(((1 << integer_bits) - 1) * (1 << (31 - integer_bits)) / (1 << left_shift)) \
        if left_shift >= 0 else math.floor(((1 << integer_bits) - 1) * (1 << (31 - integer_bits)) * 2.0 ** -left_shift)
    table = []
    for q in range(-128, 128):
        x = q - input_zero_point
        if x <= -radius:
            table.append(-128)
        elif x >= radius:
            table.append(127)
        else:
            q4 = int(multiply_by_quantized_multiplier(x, mult, left_shift))
            out = _rdbpot_scalar(logistic_q4(q4), 31 - 8) - 128
            table.append(min(max(out, -128), 127))
    return table
