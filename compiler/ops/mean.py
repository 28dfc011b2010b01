"""MEAN over all spatial axes (global average pooling) -> tdnn_mean_s8 (firmware/nn/mean_s8.c)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tflite

from tinyml_disco.compiler.graph import Graph, Operator, in_shape
from tinyml_disco.compiler.ops.base import EmitContext, Emitted, OpMemory, OpSpec, check_int8, fail_op, spatial_options
from tinyml_disco.compiler.quant import quantize_multiplier


def mean_params(in_scale: float, out_scale: float, count: int) -> tuple[int, int]:
    """TFLM QuantizedMeanOrSum: QuantizeMultiplier(in/out scale), then the 1/count factor folded in."""
    mult, shift = quantize_multiplier(float(in_scale) / float(out_scale))
    n_shift = min(count.bit_length() - 1, 32, 31 + shift)
    return (mult << n_shift) // count, shift - n_shift


@dataclass(frozen=True)
class MeanSpec:
    count: int
    channels: int
    in_zp: int
    mult: int  # 0: equal input and output quantization (truncating division of the sum)
    shift: int
    out_zp: int


def prepare(g: Graph, op: Operator) -> MeanSpec:
    inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    check_int8(op, inp, "input")
    check_int8(op, out, "output")
    shape = in_shape(g, op)
    axes_t = g.tensors[op.inputs[1]]
    if axes_t.data is None:
        raise fail_op(op, "the axis tensor must be constant")
    axes = sorted({int(a) % len(shape) for a in np.asarray(axes_t.data).ravel()})
    if len(shape) < 3 or shape[0] != 1 or axes != list(range(1, len(shape) - 1)):
        raise fail_op(op, f"only the mean over all spatial axes of a batch-1 [1, ..., C] tensor is supported "
                          f"(global average pooling); got shape {shape}, axes {axes}")
    if len(shape) == 4 and op.options.get("keep_dims"):
        raise fail_op(op, "4-D MEAN over axes 1,2 with keep_dims=True (TFLM's special-case kernel) is not "
                          "supported; use keepdims=False in GlobalAveragePooling2D")
    count = int(np.prod(shape[1:-1]))
    same = float(inp.scale[0]) == float(out.scale[0]) and int(inp.zero_point[0]) == int(out.zero_point[0])
    mult, shift = (0, 0) if same else mean_params(float(inp.scale[0]), float(out.scale[0]), count)
    return MeanSpec(count, shape[-1], int(inp.zero_point[0]), mult, shift, int(out.zero_point[0]))


def memory(_g: Graph, _op: Operator) -> OpMemory:
    return OpMemory(0, "exact")


def emit(ctx: EmitContext, op: Operator) -> Emitted:
    m = prepare(ctx.g, op)
    call = (f"tdnn_mean_s8({ctx.buf[op.inputs[0]]}, {m.count}, {m.channels}, {m.in_zp}, {m.mult}, {m.shift}, "
            f"{m.out_zp}, {ctx.buf[op.outputs[0]]});")
    return Emitted([], call, 0, 0, "tdnn_mean_s8")


SPEC = OpSpec("MEAN", "mean_s8.c", spatial_options(tflite.ReducerOptions), memory, emit, inputs=(2, 2))
