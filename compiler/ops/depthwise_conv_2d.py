"""DEPTHWISE_CONV_2D -> tdnn_depthwise_conv_s8 (firmware/nn/depthwise_conv_s8.c)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tflite

from tinyml_disco.compiler.emit import c_array, c_struct
from tinyml_disco.compiler.graph import Graph, Operator, in_shape, out_shape
from tinyml_disco.compiler.ops.base import (
    EmitContext,
    Emitted,
    OpMemory,
    OpSpec,
    act_range,
    activation,
    check_int8,
    check_stride_dilation,
    const_data,
    fail_op,
    leading_pad,
    nhwc,
    op_tensors,
    requant_params,
    spatial_options,
)


@dataclass(frozen=True)
class DwParams:
    weights: np.ndarray
    bias: np.ndarray
    mult: list[int]
    shift: list[int]
    fields: tuple[tuple[str, int], ...]  # the int32 fields of tdnn_dw_conv_params, in order
    out_c: int
    has_bias: bool


def prepare(g: Graph, op: Operator) -> DwParams:
    inp, w, b = op_tensors(g, op, 3)
    out = g.tensors[op.outputs[0]]
    assert inp is not None and w is not None
    check_int8(op, inp, "input")
    check_int8(op, out, "output")
    in_h, in_w, in_c = nhwc(op, in_shape(g, op), "input")
    out_h, out_w, out_c = nhwc(op, out_shape(g, op), "output")
    sh, sw = check_stride_dilation(op)
    if len(w.shape) != 4 or w.shape[0] != 1 or w.shape[3] != out_c or out_c % in_c:
        raise fail_op(op, f"filter shape {w.shape} does not fit input channels {in_c} / output channels {out_c}")
    k_h, k_w = w.shape[1], w.shape[2]
    wd = const_data(op, w, "int8", "filter")
    bias = const_data(op, b, "int32", "bias") if b is not None else np.zeros(out_c, np.int32)
    mults, shifts = requant_params(op, inp, w, out, out_c)
    lo, hi = act_range(op, activation(op), out)
    fields = (("in_h", in_h), ("in_w", in_w), ("in_c", in_c), ("out_h", out_h), ("out_w", out_w),
              ("depth_multiplier", out_c // in_c), ("k_h", k_h), ("k_w", k_w), ("stride_h", sh), ("stride_w", sw),
              ("pad_top", leading_pad(in_h, k_h, sh, out_h)), ("pad_left", leading_pad(in_w, k_w, sw, out_w)),
              ("input_offset", -int(inp.zero_point[0])), ("out_offset", int(out.zero_point[0])), ("act_min", lo),
              ("act_max", hi))
    return DwParams(wd, bias, mults, shifts, fields, out_c, b is not None)


def memory(g: Graph, op: Operator) -> OpMemory:
    w = g.tensors[op.inputs[1]]
    return OpMemory(0, None, g.tensors[op.outputs[0]].size * w.shape[1] * w.shape[2])


def emit(ctx: EmitContext, op: Operator) -> Emitted:
    d = prepare(ctx.g, op)
    p = f"op{op.index}"
    pointers = (("weights", f"{p}_weights"), ("bias", f"{p}_bias"), ("mult", f"{p}_mult"), ("shift", f"{p}_shift"))
    decls = [c_array("int8_t", f"{p}_weights", d.weights), c_array("int32_t", f"{p}_bias", d.bias),
             c_array("int32_t", f"{p}_mult", np.array(d.mult)), c_array("int32_t", f"{p}_shift", np.array(d.shift)),
             c_struct("tdnn_dw_conv_params", p, pointers + d.fields)]
    call = f"tdnn_depthwise_conv_s8(&{p}, {ctx.buf[op.inputs[0]]}, {ctx.buf[op.outputs[0]]});"
    n_fields = len(pointers) + len(d.fields)
    return Emitted(decls, call, d.weights.size + 12 * d.out_c + 4 * n_fields,
                   d.weights.size + (4 * d.out_c if d.has_bias else 0), "tdnn_depthwise_conv_s8")


SPEC = OpSpec("DEPTHWISE_CONV_2D", "depthwise_conv_s8.c", spatial_options(tflite.DepthwiseConv2DOptions), memory,
              emit, inputs=(2, 3))
