"""Model compiler: int8 .tflite -> C source calling the firmware/nn kernels.

Everything an interpreter would do at run time happens here instead: requantization multipliers
and shifts are precomputed, the input zero point is folded into the bias, activation buffers get
fixed offsets in one static arena, and the op sequence becomes straight-line calls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from training import features, planner
from training.emit_ops import (
    EMITTERS,
    SUPPORTED_ACTIVATIONS,
    EmitContext,
    Emitted,
    OpMemory,
    UnsupportedModelError,
    act_range,
    c_array,
    check_int8,
    fail_op,
    fuse_conv_mean,
    fuse_conv_pool,
    op_memory,
    wrap_int32,
)
from training.quant import quantize_multiplier, softmax_exp_table
from training.tflite_model import Graph, Operator

__all__ = ["SUPPORTED_ACTIVATIONS", "UnsupportedModelError", "ModelMeta", "CompiledModel", "compile_model",
           "fold_views", "check_supported", "plan_arena", "softmax_params", "write"]

SUPPORTED_OPS = ("FULLY_CONNECTED", "SOFTMAX", "CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D",
                 "MEAN", "ADD", "LOGISTIC", "RESHAPE", "EXPAND_DIMS", "SQUEEZE")
VIEW_OPS = ("RESHAPE", "EXPAND_DIMS", "SQUEEZE")  # same bytes, new shape: no code, no memory
# Softmax: ship the exp table (up to 1 KB of flash) only where the per-element fixed-point exp would be a
# noticeable share of the inference; otherwise evaluate it at run time, as TFLM does.
SOFTMAX_TABLE_MAX_SHARE = 0.05
EXP_COST_INSTRUCTIONS = 120  # measured order of magnitude of one fixed-point exp on the M4

@dataclass(frozen=True)
class ModelMeta:
    """What the firmware needs besides the graph (from model.json)."""

    name: str
    labels: tuple[str, ...]
    window: int
    hop: int
    sample_rate_hz: int
    sensor_full_scale_g: int
    sensor_lsb_ug: int
    feature_pipeline: str | None = "mean_std"  # None: network only (host tests); firmware needs a pipeline


@dataclass
class CompiledModel:
    model_c: str
    model_h: str
    arena_bytes: int  # planned: intermediate activations + kernel scratch (model input/output are the caller's)
    weight_bytes: int  # int8 weights + int32 biases, as stored in the .tflite
    const_bytes: int  # everything the generated C puts in flash
    ops: list[str] = field(default_factory=list)
    arena_first_fit_bytes: int = 0  # plain first fit, no in-place / overlap: what the planner improves on
    io_bytes: int = 0  # model input + output tensors (caller's buffers; TFLM keeps them in its arena)
    macs: int = 0



def _emit_fully_connected(ctx: EmitContext, op: Operator) -> Emitted:
    g, buf = ctx.g, ctx.buf
    inp, w, b = (g.tensors[i] if i >= 0 else None for i in (op.inputs + [-1])[:3])
    out = g.tensors[op.outputs[0]]
    assert inp is not None and w is not None
    check_int8(op, inp, "input")
    check_int8(op, out, "output")
    if w.dtype != "int8" or w.data is None:
        raise fail_op(op, f"weights tensor {w.index} must be constant int8, is {w.dtype}")
    if len(w.shape) != 2:
        raise fail_op(op, f"weights must be 2-D [out, in], got shape {w.shape}")
    if int(op.options.get("weights_format", 0)) != 0:
        raise fail_op(op, "shuffled weights format is not supported")
    out_f, in_f = w.shape
    if inp.size != in_f:
        raise fail_op(op, f"batch size {inp.size // max(in_f, 1)} is not supported (batch 1 only)")
    if np.any(w.zero_point != 0):
        raise fail_op(op, "weights must be symmetric (zero point 0)")
    bias = np.zeros(out_f, np.int64)
    if b is not None:
        if b.dtype != "int32" or b.data is None:
            raise fail_op(op, f"bias tensor {b.index} must be constant int32, is {b.dtype}")
        bias = b.data.astype(np.int64)
    in_scale = float(inp.scale[0])
    out_scale = float(out.scale[0])
    w_scales = w.scale.astype(np.float64) if w.scale.size == out_f else np.repeat(float(w.scale[0]), out_f)
    mults, shifts = zip(*(quantize_multiplier(in_scale * float(ws) / out_scale) for ws in w_scales), strict=True)
    input_offset = -int(inp.zero_point[0])
    # Fold the input zero point: sum((x + off) * w) + b == sum(x * w) + (b + off * sum(w)).
    folded = wrap_int32(bias + input_offset * w.data.astype(np.int64).sum(axis=1))  # int32 wrap, as TFLM's
    act_min, act_max = act_range(op, str(op.options.get("activation", "NONE")), out)
    p = f"op{op.index}"
    decls = [
        c_array("int8_t", f"{p}_weights", w.data),
        c_array("int32_t", f"{p}_bias", folded),
        c_array("int32_t", f"{p}_mult", np.array(mults)),
        c_array("int32_t", f"{p}_shift", np.array(shifts)),
    ]
    call = (f"tdnn_fully_connected_s8({buf[inp.index]}, {p}_weights, {p}_bias, {p}_mult, {p}_shift, "
            f"{in_f}, {out_f}, {int(out.zero_point[0])}, {act_min}, {act_max}, {buf[out.index]});")
    const_bytes = w.data.size + 4 * out_f * 3
    weight_bytes = w.data.size + (4 * out_f if b is not None else 0)
    return Emitted(decls, call, const_bytes, weight_bytes)


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """TFLite PreprocessSoftmaxScaling + CalculateInputRadius for 5 integer bits (Q5.26 differences)."""
    int_bits = 5
    real = min(float(beta) * float(input_scale) * (1 << (31 - int_bits)), (1 << 31) - 1.0)
    mult, left_shift = quantize_multiplier(real)
    if left_shift < 0:
        raise ValueError(f"softmax input scale {input_scale} too small for the fixed-point exp")
    radius = math.floor(1.0 * ((1 << int_bits) - 1) * (1 << (31 - int_bits)) / (1 << left_shift))
    return mult, left_shift, -radius


def _emit_softmax(ctx: EmitContext, op: Operator) -> Emitted:
    g, buf = ctx.g, ctx.buf
    inp = g.tensors[op.inputs[0]]
    out = g.tensors[op.outputs[0]]
    check_int8(op, inp, "input")
    check_int8(op, out, "output")
    if float(out.scale[0]) != 1.0 / 256 or int(out.zero_point[0]) != -128:
        raise fail_op(op, "int8 softmax output must have scale 1/256 and zero point -128")
    mult, shift, diff_min = softmax_params(float(op.options.get("beta", 1.0)), float(inp.scale[0]))
    depth = inp.shape[-1]
    rows = inp.size // depth
    p = f"op{op.index}"
    exp_work = EXP_COST_INSTRUCTIONS * 2 * inp.size
    if exp_work <= SOFTMAX_TABLE_MAX_SHARE * ctx.total_macs:
        # A big model: the exp is a small share of the time, save the table's flash.
        call = f"tdnn_softmax_s8_exp({buf[inp.index]}, {rows}, {depth}, {mult}, {shift}, {diff_min}, {buf[out.index]});"
        return Emitted([], call, 0, 0)
    # TFLM evaluates the fixed-point exp per element; the input difference takes at most 256 values,
    # so evaluate it here once per value (bit-identical) and ship the table.
    table = softmax_exp_table(mult, shift, max(diff_min, -255))
    decls = [c_array("int32_t", f"{p}_exp_table", np.array(table), per_line=8)]
    call = (f"tdnn_softmax_s8({buf[inp.index]}, {rows}, {depth}, {p}_exp_table, {-(len(table) - 1)}, "
            f"{buf[out.index]});")
    return Emitted(decls, call, 4 * len(table), 0)


_EMITTERS = {"FULLY_CONNECTED": _emit_fully_connected, "SOFTMAX": _emit_softmax, **EMITTERS}
EDGE_OPS = ("QUANTIZE", "DEQUANTIZE")


def fold_views(g: Graph) -> Graph:
    """Drop RESHAPE/EXPAND_DIMS/SQUEEZE: later ops read the view's input bytes directly.

    A view that produces the model output instead makes its producer write to the output. Operator
    indices are kept, so later errors still point at the right place in the .tflite. Each op keeps the
    shapes it was converted with in options["in_shapes"] / ["out_shapes"] (a Conv1D's CONV_2D sees
    [1, 1, W, C] although its input tensor, after folding, is the [1, W, C] one).
    """
    rename: dict[int, int] = {}
    ops = []
    for op in g.operators:
        opts = {**op.options, "in_shapes": [g.tensors[t].shape if t >= 0 else () for t in op.inputs],
                "out_shapes": [g.tensors[t].shape for t in op.outputs]}
        op = Operator(op.index, op.op, [rename.get(t, t) for t in op.inputs], list(op.outputs), opts)
        if op.op not in VIEW_OPS:
            ops.append(op)
            continue
        src, dst = op.inputs[0], op.outputs[0]
        a, b = g.tensors[src], g.tensors[dst]
        if a.dtype != b.dtype or not np.array_equal(a.scale, b.scale) or not np.array_equal(a.zero_point, b.zero_point):
            raise fail_op(op, "input and output quantization differ; a view must keep scale and zero point")
        if dst in g.outputs:
            if src in g.inputs:
                raise fail_op(op, "the model only reshapes its input; nothing to compile")
            # Producer of src writes straight into the model output.
            ops = [Operator(o.index, o.op, [dst if t == src else t for t in o.inputs],
                            [dst if t == src else t for t in o.outputs], o.options) for o in ops]
            rename = {k: (dst if v == src else v) for k, v in rename.items()}
            rename[src] = dst
        else:
            rename[dst] = src
    return Graph(g.tensors, ops, g.inputs, g.outputs)


def check_supported(g: Graph) -> None:
    edge = [op for op in g.operators if op.op in EDGE_OPS]
    if edge:
        listed = "; ".join(f"operator {op.index} is {op.op}" for op in edge)
        raise UnsupportedModelError(
            f"{listed}: the firmware takes and returns int8 tensors, so the model must not convert at its edges. "
            "Convert with converter.inference_input_type = tf.int8 and inference_output_type = tf.int8 "
            f"(training/train.py convert_int8 does). Supported ops: {', '.join(SUPPORTED_OPS)}")
    bad = [op for op in g.operators if op.op not in _EMITTERS and op.op not in VIEW_OPS]
    if bad:
        listed = "; ".join(f"operator {op.index} is {op.op}" for op in bad)
        raise UnsupportedModelError(f"unsupported op(s): {listed}. Supported ops: {', '.join(SUPPORTED_OPS)}")
    if len(g.inputs) != 1 or len(g.outputs) != 1:
        raise UnsupportedModelError(f"model must have 1 input and 1 output, has {len(g.inputs)} and {len(g.outputs)}")
    for role, idx in (("model input", g.inputs[0]), ("model output", g.outputs[0])):
        t = g.tensors[idx]
        if t.dtype != "int8":
            raise UnsupportedModelError(f"{role} tensor {idx} '{t.name}' is {t.dtype}; the firmware needs int8 "
                                        "input and output (converter.inference_input_type = tf.int8)")


def _lifetimes(g: Graph) -> tuple[dict[int, int], dict[int, int]]:
    """Op position of each activation tensor's producer and of its last reader."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for pos, op in enumerate(g.operators):
        for t in op.outputs:
            first.setdefault(t, pos)
            last[t] = pos
        for t in op.inputs:
            if t >= 0 and g.tensors[t].data is None:
                last[t] = pos
    return first, last


def plan_arena(g: Graph) -> tuple[dict[int, int], int]:
    """Offsets for intermediate tensors from their lifetimes alone (no scratch, no in-place)."""
    first, last = _lifetimes(g)
    model_io = set(g.inputs) | set(g.outputs)
    bufs = [planner.Buffer(t, g.tensors[t].size, first[t], last[t]) for t in first if t not in model_io]
    offsets, total = planner.plan(bufs)
    return {int(k): o for k, o in offsets.items()}, total  # type: ignore[call-overload]


@dataclass
class _MemoryPlan:
    buf: dict[int, str]
    scratch: dict[int, str]
    arena: int
    first_fit: int


def _plan_memory(g: Graph, mem: dict[int, OpMemory]) -> _MemoryPlan:
    """Arena offsets for activations and scratch, with in-place merges and overlap allowances."""
    first, last = _lifetimes(g)
    model_io = set(g.inputs) | set(g.outputs)
    internal = [t for t in first if t not in model_io]
    root = {t: t for t in internal}

    def find(t: int) -> int:
        while root[t] != t:
            t = root[t]
        return t

    may_overlap: set[frozenset] = set()
    for pos, op in enumerate(g.operators):
        kind = mem[op.index].alias
        out = op.outputs[0]
        if kind is None or out in model_io:
            continue
        dying = [t for t in op.inputs if t in root and last[t] == pos]
        if kind == "exact" and dying:
            root[find(out)] = find(dying[0])  # the output takes the input's bytes
        elif kind == "overlap" and dying:
            may_overlap.add(frozenset((dying[0], out)))
    groups: dict[int, list[int]] = {}
    for t in internal:
        groups.setdefault(find(t), []).append(t)
    bufs = [planner.Buffer(r, max(g.tensors[t].size for t in ts), min(first[t] for t in ts), max(last[t] for t in ts))
            for r, ts in groups.items()]
    may_overlap = {frozenset(find(t) for t in pair) for pair in may_overlap}
    for pos, op in enumerate(g.operators):
        if mem[op.index].scratch_bytes:
            bufs.append(planner.Buffer(("scratch", op.index), mem[op.index].scratch_bytes, pos, pos))
    offsets, arena = planner.plan(bufs, may_overlap)
    plain = [planner.Buffer(t, g.tensors[t].size, first[t], last[t]) for t in internal] + \
        [b for b in bufs if isinstance(b.key, tuple)]
    buf = {t: f"(arena + {offsets[find(t)]})" for t in internal}
    buf[g.inputs[0]] = "input"
    buf[g.outputs[0]] = "output"
    scratch = {op.index: f"(arena + {offsets[('scratch', op.index)]})" for op in g.operators
               if mem[op.index].scratch_bytes}
    return _MemoryPlan(buf, scratch, arena, planner.greedy_first_fit(plain))


def compile_model(g: Graph, meta: ModelMeta) -> CompiledModel:
    check_supported(g)
    g = fuse_conv_mean(fuse_conv_pool(fold_views(g)))
    in_t = g.tensors[g.inputs[0]]
    out_t = g.tensors[g.outputs[0]]
    if out_t.size != len(meta.labels):
        raise UnsupportedModelError(f"model has {out_t.size} outputs but model.json lists {len(meta.labels)} labels")
    mem = {op.index: op_memory(g, op) for op in g.operators}
    mp = _plan_memory(g, mem)
    arena = mp.arena
    ctx = EmitContext(g, mp.buf, mp.scratch, sum(m.macs for m in mem.values()))
    decls: list[str] = []
    calls: list[str] = []
    const_bytes = 0
    weight_bytes = 0
    for op in g.operators:
        e = _EMITTERS[op.op](ctx, op)
        decls += e.decls
        calls.append(f"    /* op {op.index}: {op.op} */\n    {e.call}")
        const_bytes += e.const_bytes
        weight_bytes += e.weight_bytes
    feature_defines = ""
    if meta.feature_pipeline is not None:
        pipe = features.get(meta.feature_pipeline)
        if in_t.size != int(np.prod(pipe.input_shape(meta.window))):
            raise UnsupportedModelError(f"model input has {in_t.size} values but feature pipeline {pipe.id!r} "
                                        f"makes {int(np.prod(pipe.input_shape(meta.window)))}")
        fq = pipe.feature_quant(meta.sensor_lsb_ug * 1e-6, meta.window, float(in_t.scale[0]),
                                int(in_t.zero_point[0]))
        feature_defines = f"""
/* Feature pipeline "{pipe.id}" (firmware/src/features_{pipe.id}.c): integer statistic of raw counts
 * -> int8 model input in one requantization. */
#define {features.c_define(pipe.id)} 1
#define MODEL_FEATURE_MULT {fq.multiplier}
#define MODEL_FEATURE_SHIFT {fq.shift}
#define MODEL_INPUT_ZERO_POINT {fq.zero_point}
"""
    labels = ", ".join(f'"{lab}"' for lab in meta.labels)
    guard = "TINYML_MODEL_H"
    model_h = f"""/* Generated by tinyml-disco from {meta.name}/model.tflite. Do not edit. */
#ifndef {guard}
#define {guard}

#include <stdint.h>

#define MODEL_NAME "{meta.name}"
#define MODEL_INPUT_SIZE {in_t.size}
#define MODEL_OUTPUT_SIZE {out_t.size}
#define MODEL_NUM_CLASSES {len(meta.labels)}
#define MODEL_WINDOW {meta.window}
#define MODEL_HOP {meta.hop}
#define MODEL_SAMPLE_RATE_HZ {meta.sample_rate_hz}
#define MODEL_SENSOR_FS_G {meta.sensor_full_scale_g}
#define MODEL_SENSOR_LSB_UG {meta.sensor_lsb_ug}
#define MODEL_ARENA_BYTES {arena}
{feature_defines}
extern const char *const model_labels[MODEL_NUM_CLASSES];

/* Runs the network on one int8 input tensor, writes the int8 output tensor. */
void model_invoke(const int8_t *input, int8_t *output);

#endif /* {guard} */
"""
    arena_decl = f"static int8_t arena[{max(arena, 4)}] __attribute__((aligned(4)));\n" if arena else ""
    model_c = (f"/* Generated by tinyml-disco from {meta.name}/model.tflite. Do not edit. */\n"
               '#include "model.h"\n#include "tdnn.h"\n\n'
               f"const char *const model_labels[MODEL_NUM_CLASSES] = {{{labels}}};\n\n"
               + "\n".join(decls) + "\n" + arena_decl +
               "\nvoid model_invoke(const int8_t *input, int8_t *output)\n{\n"
               + "\n".join(calls) + "\n}\n")
    return CompiledModel(model_c, model_h, arena, weight_bytes, const_bytes, [op.op for op in g.operators],
                         arena_first_fit_bytes=mp.first_fit, io_bytes=in_t.size + out_t.size, macs=ctx.total_macs)


def write(compiled: CompiledModel, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "model.c").write_text(compiled.model_c)
    (out_dir / "model.h").write_text(compiled.model_h)
