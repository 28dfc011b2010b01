"""C emitters for the spatial and element-wise ops (conv, depthwise, pooling, mean, add, logistic).

Each emitter checks the op against what the firmware/nn kernel implements, precomputes everything
TFLM's Prepare() would (multipliers, shifts, padding, folded biases, reordered weights, tables) and
returns the C declarations plus the one kernel call. `op_memory` tells the planner what each op
needs besides its tensors (scratch) and whether its output may share its input's bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from training.lut import logistic_table
from training.quant import quantize_multiplier
from training.tflite_model import Graph, Operator, Tensor


class UnsupportedModelError(ValueError):
    """The model uses something the compiler cannot generate code for."""


SUPPORTED_ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


@dataclass
class Emitted:
    decls: list[str]
    call: str
    const_bytes: int
    weight_bytes: int


@dataclass(frozen=True)
class OpMemory:
    scratch_bytes: int = 0
    alias: str | None = None  # "exact": output may take the input's bytes; "overlap": any overlap is safe
    macs: int = 0


@dataclass
class EmitContext:
    g: Graph
    buf: dict[int, str]
    scratch: dict[int, str] = field(default_factory=dict)  # op index -> C expression of its scratch
    total_macs: int = 0


def fail_op(op: Operator, why: str) -> UnsupportedModelError:
    return UnsupportedModelError(f"operator {op.index} ({op.op}): {why}")


def check_int8(op: Operator, t: Tensor, role: str) -> None:
    if t.dtype != "int8":
        raise fail_op(op, f"{role} tensor {t.index} '{t.name}' is {t.dtype}, expected int8; convert with "
                          "full-integer quantization (representative dataset, int8 input/output)")
    if t.scale.size != 1:
        raise fail_op(op, f"{role} tensor {t.index} '{t.name}' needs one scale, has {t.scale.size}")


def act_range(op: Operator, activation: str, out: Tensor) -> tuple[int, int]:
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
    raise fail_op(op, f"fused activation {activation} not supported; supported: {', '.join(SUPPORTED_ACTIVATIONS)}")


def c_array(ctype: str, name: str, values: np.ndarray, per_line: int = 16) -> str:
    vals = [str(int(v)) for v in np.asarray(values).ravel()]
    lines = [", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line)]
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}[{len(vals)}] = {{\n    {body}\n}};\n"


def wrap_int32(x: np.ndarray) -> np.ndarray:
    return ((np.asarray(x, np.int64) + 2**31) % 2**32) - 2**31


# --- shapes --------------------------------------------------------------------------------------------

def in_shape(g: Graph, op: Operator, i: int = 0) -> tuple[int, ...]:
    """Shape as the op sees its input (before views were folded away)."""
    shapes = op.options.get("in_shapes")
    return tuple(shapes[i]) if shapes else g.tensors[op.inputs[i]].shape  # type: ignore[index]


def out_shape(g: Graph, op: Operator) -> tuple[int, ...]:
    shapes = op.options.get("out_shapes")
    return tuple(shapes[0]) if shapes else g.tensors[op.outputs[0]].shape  # type: ignore[index]


def _nhwc(op: Operator, shape: tuple[int, ...], role: str) -> tuple[int, int, int]:
    if len(shape) != 4 or shape[0] != 1:
        raise fail_op(op, f"{role} must be 4-D NHWC with batch 1, got shape {shape}")
    return shape[1], shape[2], shape[3]


def _pad(in_size: int, k: int, stride: int, out_size: int) -> int:
    """TFLM ComputePaddingWithOffset: the leading pad (the odd extra goes to the end)."""
    return max((out_size - 1) * stride + k - in_size, 0) // 2


def _const(op: Operator, t: Tensor | None, dtype: str, role: str) -> np.ndarray:
    if t is None or t.data is None or t.dtype != dtype:
        raise fail_op(op, f"{role} must be a constant {dtype} tensor")
    return t.data


def _tensors(g: Graph, op: Operator) -> list[Tensor | None]:
    return [g.tensors[i] if i >= 0 else None for i in op.inputs]


def _requant_params(op: Operator, inp: Tensor, w: Tensor, out: Tensor, channels: int) -> tuple[list[int], list[int]]:
    if np.any(w.zero_point != 0):
        raise fail_op(op, "weights must be symmetric (zero point 0)")
    w_scales = w.scale.astype(np.float64) if w.scale.size == channels else np.repeat(float(w.scale[0]), channels)
    pairs = [quantize_multiplier(float(inp.scale[0]) * float(ws) / float(out.scale[0])) for ws in w_scales]
    return [m for m, _ in pairs], [s for _, s in pairs]


def _check_stride_dilation(op: Operator) -> tuple[int, int]:
    if int(op.options.get("dilation_h", 1)) != 1 or int(op.options.get("dilation_w", 1)) != 1:
        raise fail_op(op, "dilation other than 1 is not supported")
    return int(op.options.get("stride_h", 1)), int(op.options.get("stride_w", 1))


# --- CONV_2D -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConvGeometry:
    in_h: int
    in_w: int
    in_c: int
    out_h: int
    out_w: int
    out_c: int
    k_h: int
    k_w: int
    stride_h: int
    stride_w: int
    pad_top: int
    pad_left: int
    pool_w: int = 1  # 2: a following 1x2 max pool is fused in; out_w is the pooled width

    @property
    def run(self) -> int:
        return (self.k_w * self.in_c + 3) & ~3

    @property
    def scratch_elems(self) -> int:
        """int16 elements: two channels' unpacked weights, the 80-byte row context, then the padded input
        (tdnn_convolve_s8_scratch_size)."""
        return 2 * self.k_h * self.run + 40 + ((self.out_h - 1) * self.stride_h + self.k_h) * \
            ((self.out_w * self.pool_w - 1) * self.stride_w + self.k_w) * self.in_c + 4

    @property
    def macs(self) -> int:
        return self.out_h * self.out_w * self.pool_w * self.out_c * self.k_h * self.k_w * self.in_c


def conv_geometry(g: Graph, op: Operator) -> ConvGeometry:
    in_h, in_w, in_c = _nhwc(op, in_shape(g, op), "input")
    out_h, out_w, out_c = _nhwc(op, out_shape(g, op), "output")
    w = g.tensors[op.inputs[1]]
    if len(w.shape) != 4 or w.shape[0] != out_c or w.shape[3] != in_c:
        raise fail_op(op, f"filter shape {w.shape} does not match input channels {in_c} / output channels {out_c}")
    sh, sw = _check_stride_dilation(op)
    k_h, k_w = w.shape[1], w.shape[2]
    pool_w = int(op.options.get("pool_w", 1))
    conv_out_w = int(op.options.get("conv_out_w", out_w))  # before a fused pool
    return ConvGeometry(in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, sh, sw,
                        _pad(in_h, k_h, sh, out_h), _pad(in_w, k_w, sw, conv_out_w), pool_w)


def reorder_conv_weights(w: np.ndarray) -> np.ndarray:
    """[oc, kh, kw, ic] -> [oc][kh][run]: each filter row zero padded to a multiple of 4 taps, groups of 4
    stored as (0 2 1 3) for SXTB16 / SXTB16 ROR #8 (firmware/nn/convolve_s8.c)."""
    oc, kh = w.shape[0], w.shape[1]
    rows = w.reshape(oc, kh, -1)
    run = (rows.shape[2] + 3) & ~3
    padded = np.zeros((oc, kh, run), np.int8)
    padded[:, :, :rows.shape[2]] = rows
    return padded.reshape(oc, kh, run // 4, 4)[..., [0, 2, 1, 3]].reshape(-1)


def _readers(g: Graph) -> dict[int, list[Operator]]:
    """Tensor index -> the operators that read it (the fusion passes look one consumer ahead)."""
    readers: dict[int, list[Operator]] = {}
    for op in g.operators:
        for t in op.inputs:
            readers.setdefault(t, []).append(op)
    return readers


def fuse_conv_pool(g: Graph) -> Graph:
    """CONV_2D -> MAX_POOL_2D (1x2, stride 1x2, VALID) becomes one conv call with pool_w = 2.

    Requantization and clamping are monotonic, so max(requant(a), requant(b)) == requant(max(a, b)):
    half the requantizations, no pool pass, no full-size conv output buffer. Skipped when a left
    shift could wrap (shift > 0) or the two clamps do not intersect.
    """
    readers = _readers(g)
    drop: set[int] = set()
    ops: list[Operator] = []
    for op in g.operators:
        if op.index in drop:
            continue
        nxt = readers.get(op.outputs[0], [])
        pool = nxt[0] if len(nxt) == 1 else None
        if op.op == "CONV_2D" and pool is not None and pool.op == "MAX_POOL_2D" and op.outputs[0] not in g.outputs \
                and _fusable(g, op, pool):
            conv_shape = out_shape(g, op)
            lo, hi = act_range(op, str(op.options.get("activation", "NONE")), g.tensors[op.outputs[0]])
            plo, phi = act_range(pool, str(pool.options.get("activation", "NONE")), g.tensors[pool.outputs[0]])
            opts = {**op.options, "pool_w": 2, "conv_out_w": conv_shape[2], "out_shapes": pool.options["out_shapes"],
                    "fused_act": (max(lo, plo), min(hi, phi)), "fused_op": pool.index}
            ops.append(Operator(op.index, op.op, op.inputs, pool.outputs, opts))
            drop.add(pool.index)
        else:
            ops.append(op)
    return Graph(g.tensors, ops, g.inputs, g.outputs)


def _fusable(g: Graph, conv: Operator, pool: Operator) -> bool:
    o = pool.options
    if (o.get("filter_h"), o.get("filter_w"), o.get("stride_h"), o.get("stride_w")) != (1, 2, 1, 2):
        return False
    if o.get("padding") != "VALID" or len(out_shape(g, conv)) != 4:
        return False
    c_out, p_out = g.tensors[conv.outputs[0]], g.tensors[pool.outputs[0]]
    if c_out.dtype != "int8" or float(c_out.scale[0]) != float(p_out.scale[0]) or \
            int(c_out.zero_point[0]) != int(p_out.zero_point[0]):
        return False
    inp, w = g.tensors[conv.inputs[0]], g.tensors[conv.inputs[1]]
    if inp.scale.size != 1 or w.data is None:
        return False
    _, shifts = _requant_params(conv, inp, w, c_out, w.shape[0])
    lo, hi = act_range(conv, str(conv.options.get("activation", "NONE")), c_out)
    plo, phi = act_range(pool, str(pool.options.get("activation", "NONE")), p_out)
    return max(shifts) <= 0 and max(lo, plo) <= min(hi, phi)


def fast_requant_ok(bias: np.ndarray, w: np.ndarray, shifts: list[int], out_zp: int) -> bool:
    """Whether convolve_s8.c's SMMULR requantization is exact for this layer (see the kernel's proof):
    every shift is a right shift, the doubled accumulator cannot overflow and neither can the rounding add.

    bias: raw int32 bias per channel; w: [out_c, ...] int8 filter. TFLM's accumulator is
    bias + sum (x - zp) * w with |x - zp| <= 255 (padded taps add nothing)."""
    if max(shifts) >= 0:
        return False
    acc_bound = np.abs(bias.astype(np.int64)) + 255 * np.abs(w.astype(np.int64)).reshape(len(bias), -1).sum(axis=1)
    for bound, s in zip(acc_bound.tolist(), shifts, strict=True):
        r = -s
        if bound >= 2**30 or r > 30 or bound + 2 ** (r - 1) + abs(out_zp) * 2**r + 2 >= 2**31:
            return False
    return True


K1_MAX_GROUPS = 16  # TDNN_CONV_K1_MAX_GROUPS (tdnn.h): 4-tap groups the k1 row assembly unrolls


def conv_variant(geo: ConvGeometry, fast: bool, lo: int, hi: int, mean: bool, zp_out: int | None = None) -> str:
    """The tdnn_convolve_s8_* function for this layer (firmware/nn/include/tdnn.h), chosen here so that only
    the variants a model uses are linked (the same choice tdnn_convolve_s8 makes at run time)."""
    if not fast or (((geo.out_w * geo.pool_w - 1) * geo.stride_w + geo.k_w) * geo.in_c) % 2:
        return "tdnn_convolve_s8_general"  # odd padded row lengths: no word-aligned rows for LDRD
    parts = ["pool"] if geo.pool_w == 2 else []
    parts += ["full"] if (lo, hi) == (-128, 127) else ["clamp"]
    if geo.k_h != 1 or geo.run // 4 > K1_MAX_GROUPS:
        return "tdnn_convolve_s8_" + "_".join(parts)
    parts += ["mean"] if mean else []
    parts += ["x1al" if (geo.stride_w * geo.in_c) % 2 == 0 else "x1un"]  # second position word aligned
    parts += ["relu"] if zp_out is not None and lo >= zp_out else []  # rounding correction clamped away
    return "tdnn_convolve_s8_k1_" + "_".join(parts)


def emit_conv(ctx: EmitContext, op: Operator) -> Emitted:
    g = ctx.g
    inp, w, b = (_tensors(g, op) + [None])[:3]
    out = g.tensors[op.options.get("conv_output", op.outputs[0])]
    assert inp is not None and w is not None
    check_int8(op, inp, "input")
    check_int8(op, out, "output")
    geo = conv_geometry(g, op)
    wd = _const(op, w, "int8", "filter").astype(np.int64)
    bias = _const(op, b, "int32", "bias").astype(np.int64) if b is not None else np.zeros(geo.out_c, np.int64)
    mults, shifts = _requant_params(op, inp, w, out, geo.out_c)
    zp_in = int(inp.zero_point[0])
    zp_out = int(out.zero_point[0])
    folded = wrap_int32(bias - zp_in * wd.reshape(geo.out_c, -1).sum(axis=1))
    lo, hi = op.options.get("fused_act") or act_range(op, str(op.options.get("activation", "NONE")), out)
    if min(shifts) < -128 or max(shifts) > 127:
        raise fail_op(op, f"requantization shift {min(shifts)}..{max(shifts)} out of int8 range")
    weights = reorder_conv_weights(w.data)  # type: ignore[arg-type]
    fast = fast_requant_ok(bias, wd, shifts, zp_out)
    mean = op.options.get("mean")  # (mult, shift, out_zp) of a fused MEAN
    mean_mult, mean_shift, mean_zp = mean if mean else (0, 0, 0)
    p = f"op{op.index}"
    fields = [f"{p}_weights", f"{p}_bias", f"{p}_mult", f"{p}_shift", mean_mult, geo.in_h, geo.in_w, geo.in_c,
              geo.out_h, geo.out_w, geo.out_c, geo.k_h, geo.k_w, geo.stride_h, geo.stride_w, geo.pad_top,
              geo.pad_left, geo.pool_w, zp_in, zp_out, lo, hi, mean_shift, mean_zp, int(fast), int(mean is not None)]
    decls = [c_array("int8_t", f"{p}_weights", weights), c_array("int32_t", f"{p}_bias", folded),
             c_array("int32_t", f"{p}_mult", np.array(mults)), c_array("int8_t", f"{p}_shift", np.array(shifts)),
             f"static const tdnn_conv_params {p} = {{{', '.join(map(str, fields))}}};\n"]
    fn = conv_variant(geo, fast, lo, hi, mean is not None, zp_out)
    call = (f"{fn}(&{p}, {ctx.buf[inp.index]}, (int16_t *)(void *){ctx.scratch[op.index]}, "
            f"{ctx.buf[op.outputs[0]]});")
    const_bytes = weights.size + 9 * geo.out_c + 56  # + the params struct (4 pointers, 1 int32, 19 int16, 2 bytes)
    weight_bytes = wd.size + (4 * geo.out_c if b is not None else 0)
    return Emitted(decls, call, const_bytes, weight_bytes)


def fuse_conv_mean(g: Graph) -> Graph:
    """CONV_2D -> MEAN over all its positions (global average pooling) becomes one conv call.

    The MEAN only needs each channel's sum of the conv's int8 outputs, and a sum of integers does not
    depend on the order it is taken in: the conv kernel adds each requantized, clamped int8 output to
    its channel's sum instead of storing it, then applies tdnn_mean_s8's arithmetic. Bit-exact by
    construction, and the conv's full output buffer is never needed.
    """
    readers = _readers(g)
    drop: set[int] = set()
    ops: list[Operator] = []
    for op in g.operators:
        if op.index in drop:
            continue
        nxt = readers.get(op.outputs[0], [])
        mean = nxt[0] if len(nxt) == 1 else None
        spec = mean_spec(g, mean) if op.op == "CONV_2D" and mean is not None and mean.op == "MEAN" and \
            op.outputs[0] not in g.outputs else None
        shape = out_shape(g, op)
        if spec is not None and len(shape) == 4 and spec.count == shape[1] * shape[2] and spec.channels == shape[3] \
                and spec.in_zp == int(g.tensors[op.outputs[0]].zero_point[0]):
            opts = {**op.options, "mean": (spec.mult, spec.shift, spec.out_zp), "conv_output": op.outputs[0]}
            ops.append(Operator(op.index, op.op, op.inputs, mean.outputs, opts))  # type: ignore[union-attr]
            drop.add(mean.index)  # type: ignore[union-attr]
        else:
            ops.append(op)
    return Graph(g.tensors, ops, g.inputs, g.outputs)


# --- DEPTHWISE_CONV_2D ---------------------------------------------------------------------------------

def emit_depthwise(ctx: EmitContext, op: Operator) -> Emitted:
    g = ctx.g
    inp, w, b = (_tensors(g, op) + [None])[:3]
    out = g.tensors[op.outputs[0]]
    assert inp is not None and w is not None
    check_int8(op, inp, "input")
    check_int8(op, out, "output")
    in_h, in_w, in_c = _nhwc(op, in_shape(g, op), "input")
    out_h, out_w, out_c = _nhwc(op, out_shape(g, op), "output")
    sh, sw = _check_stride_dilation(op)
    if len(w.shape) != 4 or w.shape[0] != 1 or w.shape[3] != out_c or out_c % in_c:
        raise fail_op(op, f"filter shape {w.shape} does not fit input channels {in_c} / output channels {out_c}")
    k_h, k_w = w.shape[1], w.shape[2]
    wd = _const(op, w, "int8", "filter")
    bias = _const(op, b, "int32", "bias") if b is not None else np.zeros(out_c, np.int32)
    mults, shifts = _requant_params(op, inp, w, out, out_c)
    lo, hi = act_range(op, str(op.options.get("activation", "NONE")), out)
    p = f"op{op.index}"
    fields = [f"{p}_weights", f"{p}_bias", f"{p}_mult", f"{p}_shift", in_h, in_w, in_c, out_h, out_w,
              out_c // in_c, k_h, k_w, sh, sw, _pad(in_h, k_h, sh, out_h), _pad(in_w, k_w, sw, out_w),
              -int(inp.zero_point[0]), int(out.zero_point[0]), lo, hi]
    decls = [c_array("int8_t", f"{p}_weights", wd), c_array("int32_t", f"{p}_bias", bias),
             c_array("int32_t", f"{p}_mult", np.array(mults)), c_array("int32_t", f"{p}_shift", np.array(shifts)),
             f"static const tdnn_dw_conv_params {p} = {{{', '.join(map(str, fields))}}};\n"]
    call = f"tdnn_depthwise_conv_s8(&{p}, {ctx.buf[inp.index]}, {ctx.buf[out.index]});"
    return Emitted(decls, call, wd.size + 12 * out_c + 4 * len(fields), wd.size + (4 * out_c if b is not None else 0))


# --- MAX_POOL_2D / AVERAGE_POOL_2D ---------------------------------------------------------------------

def pool_fields(g: Graph, op: Operator) -> list[int]:
    inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    check_int8(op, inp, "input")
    check_int8(op, out, "output")
    if float(inp.scale[0]) != float(out.scale[0]) or int(inp.zero_point[0]) != int(out.zero_point[0]):
        raise fail_op(op, "int8 pooling needs equal input and output quantization (as the converter makes them)")
    in_h, in_w, c = _nhwc(op, in_shape(g, op), "input")
    out_h, out_w, out_c = _nhwc(op, out_shape(g, op), "output")
    k_h, k_w = int(op.options["filter_h"]), int(op.options["filter_w"])
    sh, sw = _check_stride_dilation(op)
    lo, hi = act_range(op, str(op.options.get("activation", "NONE")), out)
    return [in_h, in_w, c, out_h, out_w, k_h, k_w, sh, sw, _pad(in_h, k_h, sh, out_h), _pad(in_w, k_w, sw, out_w),
            lo, hi]


def emit_pool(ctx: EmitContext, op: Operator) -> Emitted:
    fields = pool_fields(ctx.g, op)
    p = f"op{op.index}"
    fn = "tdnn_max_pool_s8" if op.op == "MAX_POOL_2D" else "tdnn_avg_pool_s8"
    decl = f"static const tdnn_pool_params {p} = {{{', '.join(map(str, fields))}}};\n"
    call = f"{fn}(&{p}, {ctx.buf[op.inputs[0]]}, {ctx.buf[op.outputs[0]]});"
    return Emitted([decl], call, 4 * len(fields), 0)


# --- MEAN ----------------------------------------------------------------------------------------------

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


def mean_spec(g: Graph, op: Operator) -> MeanSpec:
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


def emit_mean(ctx: EmitContext, op: Operator) -> Emitted:
    m = mean_spec(ctx.g, op)
    call = (f"tdnn_mean_s8({ctx.buf[op.inputs[0]]}, {m.count}, {m.channels}, {m.in_zp}, {m.mult}, {m.shift}, "
            f"{m.out_zp}, {ctx.buf[op.outputs[0]]});")
    return Emitted([], call, 0, 0)


# --- ADD -----------------------------------------------------------------------------------------------

def emit_add(ctx: EmitContext, op: Operator) -> Emitted:
    g = ctx.g
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
    lo, hi = act_range(op, str(op.options.get("activation", "NONE")), out)
    fields = [-int(a.zero_point[0]), m1, s1, -int(b.zero_point[0]), m2, s2, mo, so, int(out.zero_point[0]), lo, hi]
    p = f"op{op.index}"
    decl = f"static const tdnn_add_params {p} = {{{', '.join(map(str, fields))}}};\n"
    call = f"tdnn_add_s8(&{p}, {ctx.buf[a.index]}, {ctx.buf[b.index]}, {out.size}, {ctx.buf[out.index]});"
    return Emitted([decl], call, 4 * len(fields), 0)


# --- LOGISTIC ------------------------------------------------------------------------------------------

def emit_logistic(ctx: EmitContext, op: Operator) -> Emitted:
    g = ctx.g
    inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    check_int8(op, inp, "input")
    check_int8(op, out, "output")
    if float(out.scale[0]) != 1.0 / 256 or int(out.zero_point[0]) != -128:
        raise fail_op(op, "int8 logistic output must have scale 1/256 and zero point -128")
    table = logistic_table(float(inp.scale[0]), int(inp.zero_point[0]))
    p = f"op{op.index}"
    call = f"tdnn_logistic_s8({ctx.buf[inp.index]}, {inp.size}, {p}_table, {ctx.buf[out.index]});"
    return Emitted([c_array("int8_t", f"{p}_table", np.array(table))], call, 256, 0)


def op_memory(g: Graph, op: Operator) -> OpMemory:
    """Scratch, aliasing and MAC count of one op (for the planner and the softmax table decision)."""
    if op.op == "CONV_2D":
        geo = conv_geometry(g, op)
        # The kernel reads its input only while copying it to scratch: output may overlap the input.
        return OpMemory(2 * geo.scratch_elems, "overlap", geo.macs)
    if op.op == "DEPTHWISE_CONV_2D":
        w = g.tensors[op.inputs[1]]
        return OpMemory(0, None, g.tensors[op.outputs[0]].size * w.shape[1] * w.shape[2])
    if op.op == "FULLY_CONNECTED":
        return OpMemory(0, None, g.tensors[op.inputs[1]].size)
    if op.op in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
        fields = pool_fields(g, op)
        # In place is safe when nothing is padded before the window: writes trail the reads.
        return OpMemory(0, "exact" if fields[9] == 0 and fields[10] == 0 else None)
    if op.op in ("MEAN", "ADD", "LOGISTIC", "SOFTMAX"):
        return OpMemory(0, "exact")
    return OpMemory()


EMITTERS = {"CONV_2D": emit_conv, "DEPTHWISE_CONV_2D": emit_depthwise, "MAX_POOL_2D": emit_pool,
            "AVERAGE_POOL_2D": emit_pool, "MEAN": emit_mean, "ADD": emit_add, "LOGISTIC": emit_logistic}
