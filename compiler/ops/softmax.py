"""SOFTMAX -> tdnn_softmax_s8 (exp table in flash) or tdnn_softmax_s8_exp (fixed-point exp per element)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import tflite

from tinyml_disco.compiler.emit import c_array
from tinyml_disco.compiler.graph import Graph, Operator
from tinyml_disco.compiler.ops.base import EmitContext, Emitted, OpMemory, OpSpec, check_int8, fail_op
from tinyml_disco.compiler.quant import quantize_multiplier, softmax_exp_table

# Ship the exp table (up to 1 KB of flash) only where the per-element fixed-point exp would be a noticeable
# share of the inference; otherwise evaluate it at run time, as TFLM does.
SOFTMAX_TABLE_MAX_SHARE = 0.05
EXP_COST_INSTRUCTIONS = 120  # measured order of magnitude of one fixed-point exp on the M4


def parse_options(table: Any) -> dict[str, object]:
    o = tflite.SoftmaxOptions()
    o.Init(table.Bytes, table.Pos)
    return {"beta": float(np.float32(o.Beta()))}


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """TFLite PreprocessSoftmaxScaling + CalculateInputRadius for 5 integer bits (Q5.26 differences)."""
    int_bits = 5
    real = min(float(beta) * float(input_scale) * (1 << (31 - int_bits)), (1 << 31) - 1.0)
    mult, left_shift = quantize_multiplier(real)
    if left_shift < 0:
        raise ValueError(f"softmax input scale {input_scale} too small for the fixed-point exp")
    radius = math.floor(1.0 * ((1 << int_bits) - 1) * (1 << (31 - int_bits)) / (1 << left_shift))
    return mult, left_shift, -radius


@dataclass(frozen=True)
class SoftmaxParams:
    mult: int
    shift: int
    diff_min: int
    rows: int
    depth: int
    size: int


def prepare(g: Graph, op: Operator) -> SoftmaxParams:
    inp = g.tensors[op.inputs[0]]
    out = g.tensors[op.outputs[0]]
    check_int8(op, inp, "input")
    check_int8(op, out, "output")
    if float(out.scale[0]) != 1.0 / 256 or int(out.zero_point[0]) != -128:
        raise fail_op(op, "int8 softmax output must have scale 1/256 and zero point -128")
    beta = float(op.options.get("beta", 1.0))
    if not (math.isfinite(beta) and beta > 0):
        raise fail_op(op, f"beta {beta} is not a positive finite number")
    try:
        mult, shift, diff_min = softmax_params(beta, float(inp.scale[0]))
    except ValueError as exc:
        raise fail_op(op, str(exc)) from exc
    depth = inp.shape[-1]
    return SoftmaxParams(mult, shift, diff_min, inp.size // depth, depth, inp.size)


def memory(_g: Graph, _op: Operator) -> OpMemory:
    return OpMemory(0, "exact")


# softmax_s8.c adds each exp to the Q12.19 sum as (e + 2^11) >> 12 and scales it to the output with a shift of at
# least 23 after a multiply by a Q0.31 scale (the sum is >= 1.0): an exp below 2^11 adds nothing to the sum and
# gives the output -128, exactly as a difference below diff_min does.
EXP_TABLE_NEGLIGIBLE = 1 << 11


def trim_exp_table(table: list[int]) -> list[int]:
    """The table without its tail of exps too small to change any output (the table falls with the difference):
    the kernel treats those differences as below diff_min, with bit-identical results and less flash."""
    n = len(table)
    while n > 1 and table[n - 1] < EXP_TABLE_NEGLIGIBLE:
        n -= 1
    return table[:n]


def emit(ctx: EmitContext, op: Operator) -> Emitted:
    s = prepare(ctx.g, op)
    src, dst = ctx.buf[op.inputs[0]], ctx.buf[op.outputs[0]]
    if EXP_COST_INSTRUCTIONS * 2 * s.size <= SOFTMAX_TABLE_MAX_SHARE * ctx.total_macs:
        # A big model: the exp is a small share of the time, save the table's flash.
        call = f"tdnn_softmax_s8_exp({src}, {s.rows}, {s.depth}, {s.mult}, {s.shift}, {s.diff_min}, {dst});"
        return Emitted([], call, 0, 0, "tdnn_softmax_s8_exp")
    # TFLM evaluates the fixed-point exp per element; the input difference takes at most 256 values,
    # so evaluate it here once per value (bit-identical) and ship the table.
    table = trim_exp_table(softmax_exp_table(s.mult, s.shift, max(s.diff_min, -255)))
    p = f"op{op.index}"
    decls = [c_array("int32_t", f"{p}_exp_table", np.array(table), per_line=8)]
    call = f"tdnn_softmax_s8({src}, {s.rows}, {s.depth}, {p}_exp_table, {-(len(table) - 1)}, {dst});"
    return Emitted(decls, call, 4 * len(table), 0, "tdnn_softmax_s8")


SPEC = OpSpec("SOFTMAX", "softmax_s8.c", parse_options, memory, emit)
