"""ADD of two same-shape activations -> tdnn_add_s8 (firmware/nn/add_s8.c)."""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

import tflite

from tinyml_disco.compiler.emit import c_struct
from tinyml_disco.compiler.graph import Graph, Operator
from tinyml_disco.compiler.ops.base import (
    EmitContext,
    Emitted,
    OpMemory,
    OpSpec,
    act_range,
    activation,
    check_int8,
    fail_op,
    spatial_options,
)
from tinyml_disco.compiler.quant import quantize_multiplier


@dataclass(frozen=True)
class AddParams:
    """tdnn_add_params, field for field (TFLM: inputs shifted left by 20, rescaled, summed, rescaled)."""

    in1_offset: int
    in1_mult: int
    in1_shift: int
    in2_offset: int
    in2_mult: int
    in2_shift: int
    out_mult: int
    out_shift: int
    out_offset: int
    act_min: int
    act_max: int


def prepare(g: Graph, op: Operator) -> AddParams:
    a, b = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]]
    out = g.tensors[op.outputs[0]]
    for t, role in ((a, "input 1"), (b, "input 2"), (out, "output")):
        check_int8(op, t, role)
    if a.data is not None or b.data is not None:
        raise fail_op(op, "adding a constant tensor is not supported (both inputs must be activations)")
    if a.size != b.size or a.size != out.size:
        raise fail_op(op, f"broadcasting is not supported: shapes {a.shape} + {b.shape} -> {out.shape}")
    twice_max = 2 * max(float(a.scale[0]), float(b.scale[0]))
    m1, s1 = quantize_multiplier(float(a.scale[0]) / twice_max)
    m2, s2 = quantize_multiplier(float(b.scale[0]) / twice_max)
    mo, so = quantize_multiplier(twice_max / ((1 << 20) * float(out.scale[0])))
    lo, hi = act_range(op, activation(op), out)
    return AddParams(-int(a.zero_point[0]), m1, s1, -int(b.zero_point[0]), m2, s2, mo, so, int(out.zero_point[0]),
                     lo, hi)


def memory(_g: Graph, _op: Operator) -> OpMemory:
    return OpMemory(0, "exact")


def emit(ctx: EmitContext, op: Operator) -> Emitted:
    params = prepare(ctx.g, op)
    p = f"op{op.index}"
    decl = c_struct("tdnn_add_params", p, [(f.name, getattr(params, f.name)) for f in fields(params)])
    size = ctx.g.tensors[op.outputs[0]].size
    call = (f"tdnn_add_s8(&{p}, {ctx.buf[op.inputs[0]]}, {ctx.buf[op.inputs[1]]}, {size}, "
            f"{ctx.buf[op.outputs[0]]});")
    return Emitted([decl], call, 4 * len(astuple(params)), 0, "tdnn_add_s8")


SPEC = OpSpec("ADD", "add_s8.c", spatial_options(tflite.AddOptions), memory, emit, inputs=(2, 2))
