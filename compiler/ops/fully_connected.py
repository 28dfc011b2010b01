"""FULLY_CONNECTED -> the packed small-layer FC instantiated in model.c (tdnn_fc_packed.h) where exact, else
tdnn_fully_connected_s8 (firmware/nn/fully_connected_s8.c); batch 1."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import tflite

from tinyml_disco.compiler.emit import c_array
from tinyml_disco.compiler.graph import Graph, Operator, Tensor
from tinyml_disco.compiler.ops.base import (
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


# The packed layout takes about 2x the weights' flash; use it where the layer is a noticeable share of the
# inference (the mlp's layers), not for a big model's small head (the cnn's 16 -> 4: 0.1% of its MACs).
PACKED_MIN_MAC_SHARE = 0.05
PACKED_MAX_IN = 32  # TDNN_FC_PACKED_MAX_IN (firmware/nn/include/tdnn.h): the kernel unpacks the input on the stack
PACKED_ACC_BOUND = 1 << 30  # |acc * 2| below it: SMMULR's operand (the doubled accumulator) cannot overflow
PACKED_MAX_RIGHT_SHIFT = 22  # out_offset * 2^r (|out_offset| <= 128) plus a value below 2^30 stays in int32


def pair_order(in_features: int) -> list[int]:
    """Input index of each int16 lane in the packed kernel's order (-1: a zero lane), as it unpacks the input:
    per group of four i, i+2, i+1, i+3 (SXTB16 of a word and of the word rotated by 8), then the tail in order."""
    order: list[int] = []
    i = 0
    while i + 4 <= in_features:
        order += [i, i + 2, i + 1, i + 3]
        i += 4
    order += list(range(i, in_features))
    if len(order) % 2:
        order.append(-1)
    return order


def pack_int8_pairs(lanes: np.ndarray) -> np.ndarray:
    """int8 weight lanes [out][2 * pairs] (pair j = lanes 2j, 2j+1) as int32 words [out][ceil(pairs / 2)]: two
    pairs (a0, a1), (b0, b1) per word as bytes (a0, b0, a1, b1), which SXTB16 and SXTB16 ROR #8 take apart;
    a last lone pair gets zero bytes 1 and 3 (tdnn.h)."""
    out, n = lanes.shape
    padded = np.zeros((out, -(-n // 4) * 4), np.int64)
    padded[:, :n] = lanes
    quads = padded.reshape(out, -1, 4) & 0xFF  # per word: a0 a1 b0 b1
    words = quads[..., 0] | (quads[..., 2] << 8) | (quads[..., 1] << 16) | (quads[..., 3] << 24)
    return wrap_int32(words)


def packed_layout(f: FcParams) -> tuple[np.ndarray, list[tuple[int, int, int]]] | None:
    """(weights as int32 words of four int8 lanes [out][words], per-channel (bias, mult, right shift)) for
    tdnn_fc_packed_body (tdnn_fc_packed.h), or None where its arithmetic shortcuts would not be exact."""
    if f.in_features > PACKED_MAX_IN:
        return None
    w = f.weights.astype(np.int64)
    bound = np.abs(f.folded_bias.astype(np.int64)) + 128 * np.abs(w).sum(axis=1)
    order = pair_order(f.in_features)
    lanes = np.zeros((f.out_features, len(order)), np.int64)
    channels = []
    for o in range(f.out_features):
        mult, shift = int(f.mult[o]), int(f.shift[o])
        right = max(-shift, 0)  # >= 1 below, so no left shift: the kernel doubles the accumulator
        if mult == 0 or not 1 <= right <= PACKED_MAX_RIGHT_SHIFT or int(bound[o]) * 2 >= PACKED_ACC_BOUND:
            return None
        lanes[o] = [w[o, i] if i >= 0 else 0 for i in order]
        channels.append((int(f.folded_bias[o]), mult, right))
    return pack_int8_pairs(lanes), channels


def emit(ctx: EmitContext, op: Operator) -> Emitted:
    f = prepare(ctx.g, op)
    p = f"op{op.index}"
    packed = packed_layout(f) if f.weights.size >= PACKED_MIN_MAC_SHARE * ctx.total_macs else None
    if packed is not None:
        words, channels = packed
        rows = ",\n    ".join(f"{{.bias = {b}, .mult = {m}}}" for b, m, _ in channels)
        fn = f"tdnn_fc_packed_{p}"
        decls = [c_array("int32_t", f"{p}_weights", words, per_line=8),
                 f"static const tdnn_fc_channel_t {p}_channels[{f.out_features}] = {{\n    {rows}\n}};\n",
                 c_array("uint8_t", f"{p}_shifts", np.array([s for _, _, s in channels]), per_line=16),
                 # The kernel body instantiated with this layer's shape as constants (tdnn_fc_packed.h); noinline
                 # and noclone keep it one call of model_invoke under its own name (the profile attributes
                 # instructions per call and names the layer by the symbol).
                 f"#include \"tdnn_fc_packed.h\"\n\n"
                 f"static __attribute__((noinline, noclone)) void {fn}(const int8_t *input, int8_t *output)\n{{\n"
                 f"    tdnn_fc_packed_body(input, {p}_weights, {p}_channels, {p}_shifts, {f.in_features}, "
                 f"{f.out_features}, {int(f.out.zero_point[0])}, {f.act_min}, {f.act_max}, output);\n}}\n"]
        call = f"{fn}({ctx.buf[f.inp.index]}, {ctx.buf[f.out.index]});"
        const_bytes = 4 * words.size + 9 * f.out_features
        weight_bytes = f.weights.size + (4 * f.out_features if f.has_bias else 0)
        return Emitted(decls, call, const_bytes, weight_bytes, fn)
    decls = [c_array("int8_t", f"{p}_weights", f.weights), c_array("int32_t", f"{p}_bias", f.folded_bias),
             c_array("int32_t", f"{p}_mult", np.array(f.mult)), c_array("int32_t", f"{p}_shift", np.array(f.shift))]
    call = (f"tdnn_fully_connected_s8({ctx.buf[f.inp.index]}, {p}_weights, {p}_bias, {p}_mult, {p}_shift, "
            f"{f.in_features}, {f.out_features}, {int(f.out.zero_point[0])}, {f.act_min}, {f.act_max}, "
            f"{ctx.buf[f.out.index]});")
    const_bytes = f.weights.size + 4 * f.out_features * 3
    weight_bytes = f.weights.size + (4 * f.out_features if f.has_bias else 0)
    return Emitted(decls, call, const_bytes, weight_bytes, "tdnn_fully_connected_s8")


SPEC = OpSpec("FULLY_CONNECTED", "fully_connected_s8.c", parse_options, memory, emit, inputs=(2, 3))
