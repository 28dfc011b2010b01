"""Shared by MAX_POOL_2D and AVERAGE_POOL_2D: the tdnn_pool_params both kernels take."""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from typing import cast

from tinyml_disco.compiler.emit import c_struct
from tinyml_disco.compiler.graph import Graph, Operator, in_shape, out_shape
from tinyml_disco.compiler.ops.base import (
    EmitContext,
    Emitted,
    OpMemory,
    act_range,
    activation,
    check_int8,
    check_stride_dilation,
    fail_op,
    leading_pad,
    nhwc,
)


@dataclass(frozen=True)
class PoolParams:
    """tdnn_pool_params, field for field."""

    in_h: int
    in_w: int
    channels: int
    out_h: int
    out_w: int
    k_h: int
    k_w: int
    stride_h: int
    stride_w: int
    pad_top: int
    pad_left: int
    act_min: int
    act_max: int


def prepare(g: Graph, op: Operator) -> PoolParams:
    inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    check_int8(op, inp, "input")
    check_int8(op, out, "output")
    if float(inp.scale[0]) != float(out.scale[0]) or int(inp.zero_point[0]) != int(out.zero_point[0]):
        raise fail_op(op, "int8 pooling needs equal input and output quantization (as the converter makes them)")
    in_h, in_w, c = nhwc(op, in_shape(g, op), "input")
    out_h, out_w, _out_c = nhwc(op, out_shape(g, op), "output")
    k_h, k_w = int(cast(int, op.options["filter_h"])), int(cast(int, op.options["filter_w"]))
    sh, sw = check_stride_dilation(op)
    lo, hi = act_range(op, activation(op), out)
    return PoolParams(in_h, in_w, c, out_h, out_w, k_h, k_w, sh, sw, leading_pad(in_h, k_h, sh, out_h),
                      leading_pad(in_w, k_w, sw, out_w), lo, hi)


def memory(g: Graph, op: Operator) -> OpMemory:
    p = prepare(g, op)
    # In place is safe when nothing is padded before the window: writes trail the reads.
    return OpMemory(0, "exact" if p.pad_top == 0 and p.pad_left == 0 else None)


def emit_with(kernel: str, ctx: EmitContext, op: Operator) -> Emitted:
    params = prepare(ctx.g, op)
    name = f"op{op.index}"
    decl = c_struct("tdnn_pool_params", name, [(f.name, getattr(params, f.name)) for f in fields(params)])
    call = f"{kernel}(&{name}, {ctx.buf[op.inputs[0]]}, {ctx.buf[op.outputs[0]]});"
    return Emitted([decl], call, 4 * len(astuple(params)), 0, kernel)
