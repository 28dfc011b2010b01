"""LOGISTIC -> tdnn_logistic_s8 (firmware/nn/logistic_s8.c): a 256-entry table of TFLM's fixed-point result."""

from __future__ import annotations

import numpy as np

from tinyml_disco.compiler.emit import c_array
from tinyml_disco.compiler.graph import Graph, Operator
from tinyml_disco.compiler.lut import logistic_table
from tinyml_disco.compiler.ops.base import EmitContext, Emitted, OpMemory, OpSpec, check_int8, fail_op, no_options


def prepare(g: Graph, op: Operator) -> list[int]:
    inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    check_int8(op, inp, "input")
    check_int8(op, out, "output")
    if float(out.scale[0]) != 1.0 / 256 or int(out.zero_point[0]) != -128:
        raise fail_op(op, "int8 logistic output must have scale 1/256 and zero point -128")
    return logistic_table(float(inp.scale[0]), int(inp.zero_point[0]))


def memory(_g: Graph, _op: Operator) -> OpMemory:
    return OpMemory(0, "exact")


def emit(ctx: EmitContext, op: Operator) -> Emitted:
    table = prepare(ctx.g, op)
    inp = ctx.g.tensors[op.inputs[0]]
    p = f"op{op.index}"
    call = f"tdnn_logistic_s8({ctx.buf[inp.index]}, {inp.size}, {p}_table, {ctx.buf[op.outputs[0]]});"
    return Emitted([c_array("int8_t", f"{p}_table", np.array(table))], call, 256, 0, "tdnn_logistic_s8")


SPEC = OpSpec("LOGISTIC", "logistic_s8.c", no_options, memory, emit)
