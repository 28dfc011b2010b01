"""FULLY_CONNECTED -> tdnn_fully_connected_s8 (firmware/nn/fully_connected_s8.c), batch 1."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import tflite

from compiler.emit import c_array
from compiler.graph import Graph, Operator, Tensor
from compiler.ops.base import (
    EmitContext,
    Emitted,
    OpMemory,
    OpSpec,
    act_range,
    activation,
    activation_name,
    check_int8,
    const_data,
    fail_op,
    op_tensors,
    requant_params,
    wrap_int32,
)


def parse_options(table: Any) -> dict[str, object]:
    o = tflite.FullyConnectedOptions()
    o.Init(table.Bytes, table.Pos)
    return {"activation": activation_name(o.FusedActivationFunction()), "keep_num_dims": bool(o.KeepNumDims()),
            "weights_format": int(o.WeightsFormat())}


@dataclass(frozen=True)
class FcParams:
    inp: Tensor
    out: Tensor
    weights: np.ndarray  # [out, in] int8
    folded_bias: np.ndarray  # int32: bias + input_offset * sum(w)
    mult: list[int]
    shift: list[int]
    in_features: int
    out_features: int
    act_min: int
    act_max: int
    has_bias: bool


def prepare(g: Graph, op: Operator) -> FcParams:
    inp, w, b = op_tensors(g, op, 3)
    out = g.tensors[op.outputs[0]]
    assert inp is not None and w is not None
    check_int8(op, inp, "input")
    check_int8(op, out, "output")
    w_data = const_data(op, w, "int8", "weights")
    if len(w.shape) != 2:
        raise fail_op(op, f"weights must be 2-D [out, in], got shape {w.shape}")
    if int(op.options.get("weights_format", 0)) != 0:
        raise fail_op(op, "shuffled weights format is not supported")
    out_f, in_f = w.shape
    if inp.size != in_f:
        raise fail_op(op, f"batch size {inp.size // max(in_f, 1)} is not supported (batch 1 only)")
    mults, shifts = requant_params(op, inp, w, out, out_f)
    bias = np.zeros(out_f, np.int64)
    if b is not None:
        bias = const_data(op, b, "int32", "bias").astype(np.int64)
    input_offset = -int(inp.zero_point[0])
    # Fold the input zero point: sum((x + off) * w) + b == sum(x * w) + (b + off * sum(w)); int32 wrap as TFLM's.
    folded = wrap_int32(bias + input_offset * w_data.astype(np.int64).sum(axis=1))
    lo, hi = act_range(op, activation(op), out)
    return FcParams(inp, out, w_data, folded, mults, shifts, in_f, out_f, lo, hi, b is not None)


def memory(g: Graph, op: Operator) -> OpMemory:
    return OpMemory(0, None, g.tensors[op.inputs[1]].size)


def emit(ctx: EmitContext, op: Operator) -> Emitted:
    f = prepare(ctx.g, op)
    p = f"op{op.index}"
    decls = [c_array("int8_t", f"{p}_weights", f.weights), c_array("int32_t", f"{p}_bias", f.folded_bias),
             c_array("int32_t", f"{p}_mult", np.array(f.mult)), c_array("int32_t", f"{p}_shift", np.array(f.shift))]
    call = (f"tdnn_fully_connected_s8({ctx.buf[f.inp.index]}, {p}_weights, {p}_bias, {p}_mult, {p}_shift, "
            f"{f.in_features}, {f.out_features}, {int(f.out.zero_point[0])}, {f.act_min}, {f.act_max}, "
            f"{ctx.buf[f.out.index]});")
    const_bytes = f.weights.size + 4 * f.out_features * 3
    weight_bytes = f.weights.size + (4 * f.out_features if f.has_bias else 0)
    return Emitted(decls, call, const_bytes, weight_bytes, "tdnn_fully_connected_s8")


SPEC = OpSpec("FULLY_CONNECTED", "fully_connected_s8.c", parse_options, memory, emit, inputs=(2, 3))
