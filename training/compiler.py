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

from training import features
from training.quant import quantize_multiplier, softmax_exp_table
from training.tflite_model import Graph, Operator, Tensor

SUPPORTED_OPS = ("FULLY_CONNECTED", "SOFTMAX", "RESHAPE", "EXPAND_DIMS", "SQUEEZE")
VIEW_OPS = ("RESHAPE", "EXPAND_DIMS", "SQUEEZE")  # same bytes, new shape: no code, no memory
SUPPORTED_ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


class UnsupportedModelError(ValueError):
    """The model uses something the compiler cannot generate code for."""


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
    arena_bytes: int
    weight_bytes: int  # int8 weights + int32 biases, as stored in the .tflite
    const_bytes: int  # everything the generated C puts in flash
    ops: list[str] = field(default_factory=list)


def _fail_op(op: Operator, why: str) -> UnsupportedModelError:
    return UnsupportedModelError(f"operator {op.index} ({op.op}): {why}")


def _check_int8(op: Operator, t: Tensor, role: str) -> None:
    if t.dtype != "int8":
        raise _fail_op(op, f"{role} tensor {t.index} '{t.name}' is {t.dtype}, expected int8; convert with "
                           "full-integer quantization (representative dataset, int8 input/output)")
    if t.scale.size != 1:
        raise _fail_op(op, f"{role} tensor {t.index} '{t.name}' needs one scale, has {t.scale.size}")


def _act_range(op: Operator, activation: str, out: Tensor) -> tuple[int, int]:
    """TFLM CalculateActivationRangeQuantized (float32 division, round half away from zero)."""
    scale = np.float32(out.scale[0])
    zp = int(out.zero_point[0])

    def q(v: float) -> int:
        x = float(np.float32(v) / scale)
        return zp + int(math.copysign(math.floor(abs(x) + 0.5), x))

    if activation == "NONE":
        return -128, 127
    if activation == "RELU":
        return max(-128, q(0.0)), 127
    if activation == "RELU6":
        return max(-128, q(0.0)), min(127, q(6.0))
    if activation == "RELU_N1_TO_1":
        return max(-128, q(-1.0)), min(127, q(1.0))
    raise _fail_op(op, f"fused activation {activation} not supported; supported: {', '.join(SUPPORTED_ACTIVATIONS)}")


def _c_array(ctype: str, name: str, values: np.ndarray, per_line: int = 16) -> str:
    vals = [str(int(v)) for v in np.asarray(values).ravel()]
    lines = [", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line)]
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}[{len(vals)}] = {{\n    {body}\n}};\n"


@dataclass
class _Emitted:
    decls: list[str]
    call: str
    const_bytes: int
    weight_bytes: int


def _emit_fully_connected(g: Graph, op: Operator, buf: dict[int, str]) -> _Emitted:
    inp, w, b = (g.tensors[i] if i >= 0 else None for i in (op.inputs + [-1])[:3])
    out = g.tensors[op.outputs[0]]
    assert inp is not None and w is not None
    _check_int8(op, inp, "input")
    _check_int8(op, out, "output")
    if w.dtype != "int8" or w.data is None:
        raise _fail_op(op, f"weights tensor {w.index} must be constant int8, is {w.dtype}")
    if len(w.shape) != 2:
        raise _fail_op(op, f"weights must be 2-D [out, in], got shape {w.shape}")
    if int(op.options.get("weights_format", 0)) != 0:
        raise _fail_op(op, "shuffled weights format is not supported")
    out_f, in_f = w.shape
    if inp.size != in_f:
        raise _fail_op(op, f"batch size {inp.size // max(in_f, 1)} is not supported (batch 1 only)")
    if np.any(w.zero_point != 0):
        raise _fail_op(op, "weights must be symmetric (zero point 0)")
    bias = np.zeros(out_f, np.int64)
    if b is not None:
        if b.dtype != "int32" or b.data is None:
            raise _fail_op(op, f"bias tensor {b.index} must be constant int32, is {b.dtype}")
        bias = b.data.astype(np.int64)
    in_scale = float(inp.scale[0])
    out_scale = float(out.scale[0])
    w_scales = w.scale.astype(np.float64) if w.scale.size == out_f else np.repeat(float(w.scale[0]), out_f)
    mults, shifts = zip(*(quantize_multiplier(in_scale * float(ws) / out_scale) for ws in w_scales), strict=True)
    input_offset = -int(inp.zero_point[0])
    # Fold the input zero point: sum((x + off) * w) + b == sum(x * w) + (b + off * sum(w)).
    folded = bias + input_offset * w.data.astype(np.int64).sum(axis=1)
    folded = ((folded + 2**31) % 2**32) - 2**31  # int32 wrap, as TFLM's accumulator does
    act_min, act_max = _act_range(op, str(op.options.get("activation", "NONE")), out)
    p = f"op{op.index}"
    decls = [
        _c_array("int8_t", f"{p}_weights", w.data),
        _c_array("int32_t", f"{p}_bias", folded),
        _c_array("int32_t", f"{p}_mult", np.array(mults)),
        _c_array("int32_t", f"{p}_shift", np.array(shifts)),
    ]
    call = (f"tdnn_fully_connected_s8({buf[inp.index]}, {p}_weights, {p}_bias, {p}_mult, {p}_shift, "
            f"{in_f}, {out_f}, {int(out.zero_point[0])}, {act_min}, {act_max}, {buf[out.index]});")
    const_bytes = w.data.size + 4 * out_f * 3
    weight_bytes = w.data.size + (4 * out_f if b is not None else 0)
    return _Emitted(decls, call, const_bytes, weight_bytes)


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """TFLite PreprocessSoftmaxScaling + CalculateInputRadius for 5 integer bits (Q5.26 differences)."""
    int_bits = 5
    real = min(float(beta) * float(input_scale) * (1 << (31 - int_bits)), (1 << 31) - 1.0)
    mult, left_shift = quantize_multiplier(real)
    if left_shift < 0:
        raise ValueError(f"softmax input scale {input_scale} too small for the fixed-point exp")
    radius = math.floor(1.0 * ((1 << int_bits) - 1) * (1 << (31 - int_bits)) / (1 << left_shift))
    return mult, left_shift, -radius


def _emit_softmax(g: Graph, op: Operator, buf: dict[int, str]) -> _Emitted:
    inp = g.tensors[op.inputs[0]]
    out = g.tensors[op.outputs[0]]
    _check_int8(op, inp, "input")
    _check_int8(op, out, "output")
    if float(out.scale[0]) != 1.0 / 256 or int(out.zero_point[0]) != -128:
        raise _fail_op(op, "int8 softmax output must have scale 1/256 and zero point -128")
    mult, shift, diff_min = softmax_params(float(op.options.get("beta", 1.0)), float(inp.scale[0]))
    # TFLM evaluates the fixed-point exp per element; the input difference takes at most 256 values,
    # so evaluate it here once per value (bit-identical) and ship the table.
    table = softmax_exp_table(mult, shift, max(diff_min, -255))
    depth = inp.shape[-1]
    rows = inp.size // depth
    p = f"op{op.index}"
    decls = [_c_array("int32_t", f"{p}_exp_table", np.array(table), per_line=8)]
    call = (f"tdnn_softmax_s8({buf[inp.index]}, {rows}, {depth}, {p}_exp_table, {-(len(table) - 1)}, "
            f"{buf[out.index]});")
    return _Emitted(decls, call, 4 * len(table), 0)


_EMITTERS = {"FULLY_CONNECTED": _emit_fully_connected, "SOFTMAX": _emit_softmax}


def fold_views(g: Graph) -> Graph:
    """Drop RESHAPE/EXPAND_DIMS/SQUEEZE: later ops read the view's input bytes directly.

    A view that produces the model output instead makes its producer write to the output. Operator
    indices are kept, so later errors still point at the right place in the .tflite.
    """
    rename: dict[int, int] = {}
    ops = []
    for op in g.operators:
        op = Operator(op.index, op.op, [rename.get(t, t) for t in op.inputs], list(op.outputs), op.options)
        if op.op not in VIEW_OPS:
            ops.append(op)
            continue
        src, dst = op.inputs[0], op.outputs[0]
        a, b = g.tensors[src], g.tensors[dst]
        if a.dtype != b.dtype or not np.array_equal(a.scale, b.scale) or not np.array_equal(a.zero_point, b.zero_point):
            raise _fail_op(op, "input and output quantization differ; a view must keep scale and zero point")
        if dst in g.outputs:
            if src in g.inputs:
                raise _fail_op(op, "the model only reshapes its input; nothing to compile")
            # Producer of src writes straight into the model output.
            ops = [Operator(o.index, o.op, [dst if t == src else t for t in o.inputs],
                            [dst if t == src else t for t in o.outputs], o.options) for o in ops]
            rename = {k: (dst if v == src else v) for k, v in rename.items()}
            rename[src] = dst
        else:
            rename[dst] = src
    return Graph(g.tensors, ops, g.inputs, g.outputs)


def check_supported(g: Graph) -> None:
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


def plan_arena(g: Graph) -> tuple[dict[int, int], int]:
    """Offsets for intermediate tensors: first fit over live ranges (op index of first def / last use)."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    model_io = set(g.inputs) | set(g.outputs)
    for op in g.operators:
        for t in op.outputs:
            first.setdefault(t, op.index)
            last[t] = op.index
        for t in op.inputs:
            if t >= 0 and g.tensors[t].data is None:
                last[t] = op.index
    placed: list[tuple[int, int, int, int]] = []  # offset, size, first, last
    offsets: dict[int, int] = {}
    for t in sorted((t for t in first if t not in model_io), key=lambda t: -g.tensors[t].size):
        size = (g.tensors[t].size + 3) & ~3
        lo, hi = first[t], last[t]
        offset = 0
        for o, s, f, la in sorted(placed):
            overlaps_in_time = not (la < lo or hi < f)
            if overlaps_in_time and offset < o + s and o < offset + size:
                offset = o + s
        placed.append((offset, size, lo, hi))
        offsets[t] = offset
    total = max((o + s for o, s, _, _ in placed), default=0)
    return offsets, total


def compile_model(g: Graph, meta: ModelMeta) -> CompiledModel:
    check_supported(g)
    g = fold_views(g)
    in_t = g.tensors[g.inputs[0]]
    out_t = g.tensors[g.outputs[0]]
    if out_t.size != len(meta.labels):
        raise UnsupportedModelError(f"model has {out_t.size} outputs but model.json lists {len(meta.labels)} labels")
    offsets, arena = plan_arena(g)
    buf = {t: f"(arena + {o})" for t, o in offsets.items()}
    buf[g.inputs[0]] = "input"
    buf[g.outputs[0]] = "output"
    decls: list[str] = []
    calls: list[str] = []
    const_bytes = 0
    weight_bytes = 0
    for op in g.operators:
        e = _EMITTERS[op.op](g, op, buf)
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
    return CompiledModel(model_c, model_h, arena, weight_bytes, const_bytes, [op.op for op in g.operators])


def write(compiled: CompiledModel, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "model.c").write_text(compiled.model_c)
    (out_dir / "model.h").write_text(compiled.model_h)
