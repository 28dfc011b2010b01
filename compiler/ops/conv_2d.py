"""CONV_2D -> tdnn_convolve_s8_<variant> (firmware/nn/convolve_s8.c), with an optional fused 1x2 max pool
and an optional fused global-average MEAN (see compiler/passes.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

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
    wrap_int32,
)

K1_MAX_GROUPS = 8  # TDNN_CONV_K1_MAX_GROUPS (tdnn.h): 4-tap groups the k1 row assembly unrolls
K1_PACK_MAX = 255  # TDNN_CONV_PACK_MAX (tdnn.h): positions per row the k1 MEAN + RELU packed sums hold
CTX_ELEMS = 40  # int16 elements of the row context in the scratch (firmware/nn/convolve/geometry.inc)
QUAD_MAX_CHUNKS = 8  # TDNN_CONV_QUAD_MAX_CHUNKS (tdnn.h): 8-tap chunks the quad variant's MAC unrolls


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
    def padded_w(self) -> int:
        """Columns of the padded input the conv positions (before the fused pool) read (geometry.inc padded_w)."""
        return (self.out_w * self.pool_w - 1) * self.stride_w + self.k_w

    @property
    def odd_step(self) -> int:
        """1 when the next position's run starts at an odd int16 index (not word aligned), else 0."""
        return (self.stride_w * self.in_c) % 2

    @property
    def quad_stream_words(self) -> int:
        """Words of one channel quad's weight stream (quad_asm.inc quad_stream_words(chunks))."""
        return 4 + 2 * self.run + 15

    @property
    def quad_geometry(self) -> bool:
        """The geometry allows the quad variant (firmware/nn/convolve/geometry.inc quad_geometry): one filter row
        whose run (taps rounded up to 4) is whole 8-tap chunks; an odd position step needs a spare zero tap."""
        taps = self.k_w * self.in_c
        return self.k_h == 1 and self.run % 8 == 0 and self.out_c % 4 == 0 and self.run // 8 <= QUAD_MAX_CHUNKS \
            and (not self.odd_step or taps % 4 != 0)

    @property
    def scratch_elems(self) -> int:
        """int16 elements (tdnn_convolve_s8_scratch_size): the padded input + 4 (rounded up to even: word
        alignment), then two channels' unpacked weights and the 80-byte row context, or the quad variant's weight
        stream(s: two for an odd position step) if larger and the geometry allows it."""
        head = 2 * self.k_h * self.run + CTX_ELEMS
        if self.quad_geometry:
            head = max(head, (self.odd_step + 1) * 2 * self.quad_stream_words)
        return self.flash_scratch_elems + head

    @property
    def flash_stream_geometry(self) -> bool:
        """The quad variant may read its weight streams from flash (tdnn_convolve_s8_quad_flash): one output row,
        so that the row end each stream holds is a constant."""
        return self.quad_geometry and self.out_h == 1

    @property
    def flash_scratch_elems(self) -> int:
        """int16 elements with flash streams (tdnn_convolve_s8_quad_flash_scratch_size): the padded input + 4
        (rounded up to even), the start of the other variants' weights / streams."""
        padded = ((self.out_h - 1) * self.stride_h + self.k_h) * self.padded_w * self.in_c + 4
        return (padded + 1) // 2 * 2

    @property
    def scratch_on_input(self) -> bool:
        """The scratch may start at the input's first byte when the input dies at this conv (pad_input copies
        backward: every padded value lands at or after its input byte while padded_w >= in_w)."""
        return self.padded_w >= self.in_w

    @property
    def macs(self) -> int:
        return self.out_h * self.out_w * self.pool_w * self.out_c * self.k_h * self.k_w * self.in_c


def conv_geometry(g: Graph, op: Operator) -> ConvGeometry:
    in_h, in_w, in_c = nhwc(op, in_shape(g, op), "input")
    out_h, out_w, out_c = nhwc(op, out_shape(g, op), "output")
    w = g.tensors[op.inputs[1]]
    if len(w.shape) != 4 or w.shape[0] != out_c or w.shape[3] != in_c:
        raise fail_op(op, f"filter shape {w.shape} does not match input channels {in_c} / output channels {out_c}")
    sh, sw = check_stride_dilation(op)
    k_h, k_w = w.shape[1], w.shape[2]
    pool_w = op.pool.pool_w if op.pool else 1
    conv_out_w = op.pool.conv_out_w if op.pool else out_w  # before a fused pool
    return ConvGeometry(in_h, in_w, in_c, out_h, out_w, out_c, k_h, k_w, sh, sw,
                        leading_pad(in_h, k_h, sh, out_h), leading_pad(in_w, k_w, sw, conv_out_w), pool_w)


def reorder_conv_weights(w: np.ndarray) -> np.ndarray:
    """[oc, kh, kw, ic] -> [oc][kh][run]: each filter row zero padded to a multiple of 4 taps, groups of 4
    stored as (0 2 1 3) for SXTB16 / SXTB16 ROR #8 (firmware/nn/convolve_s8.c)."""
    oc, kh = w.shape[0], w.shape[1]
    rows = w.reshape(oc, kh, -1)
    run = (rows.shape[2] + 3) & ~3
    padded = np.zeros((oc, kh, run), np.int8)
    padded[:, :, :rows.shape[2]] = rows
    return padded.reshape(oc, kh, run // 4, 4)[..., [0, 2, 1, 3]].reshape(-1)


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


def conv_variant(geo: ConvGeometry, fast: bool, lo: int, hi: int, mean: bool, zp_out: int | None = None) -> str:
    """The tdnn_convolve_s8_* function for this layer (firmware/nn/include/tdnn.h), chosen here so that only
    the variants a model uses are linked (the same choice tdnn_convolve_s8 makes at run time)."""
    if not fast or (geo.padded_w * geo.in_c) % 2:
        return "tdnn_convolve_s8_general"  # odd padded row lengths: no word-aligned rows for LDRD
    if geo.quad_geometry and (lo, hi) == (-128, 127) and zp_out == -128 and \
            (not mean or geo.out_h * geo.out_w <= K1_PACK_MAX):
        return "tdnn_convolve_s8_quad"  # four channels x one position per step (quad_asm.inc)
    parts = ["pool"] if geo.pool_w == 2 else []
    parts += ["full"] if (lo, hi) == (-128, 127) else ["clamp"]
    if geo.k_h != 1 or geo.run // 4 > K1_MAX_GROUPS:
        return "tdnn_convolve_s8_" + "_".join(parts)
    relu = zp_out is not None and lo >= zp_out  # rounding correction clamped away
    if mean and relu and geo.out_w > K1_PACK_MAX:
        return "tdnn_convolve_s8_general"  # the k1 variants' packed MEAN sums would not be exact
    parts += ["mean"] if mean else []
    parts += ["x1un" if geo.odd_step else "x1al"]  # second position word aligned
    parts += ["relu"] if relu else []
    return "tdnn_convolve_s8_k1_" + "_".join(parts)


@dataclass(frozen=True)
class ConvParams:
    """Everything tdnn_conv_params holds, plus the variant the call names."""

    geo: ConvGeometry
    weights: np.ndarray  # reordered, padded int8 filter
    raw_weight_count: int
    folded_bias: np.ndarray
    mult: list[int]
    shift: list[int]
    input_zp: int
    out_zp: int
    act_min: int
    act_max: int
    fast_requant: bool
    mean_mult: int
    mean_shift: int
    mean_out_zp: int
    mean_fused: bool
    has_bias: bool

    @property
    def variant(self) -> str:
        return conv_variant(self.geo, self.fast_requant, self.act_min, self.act_max, self.mean_fused, self.out_zp)


def prepare(g: Graph, op: Operator) -> ConvParams:
    inp, w, b = op_tensors(g, op, 3)
    out = g.tensors[op.mean.conv_output if op.mean else op.outputs[0]]
    assert inp is not None and w is not None
    check_int8(op, inp, "input")
    check_int8(op, out, "output")
    geo = conv_geometry(g, op)
    raw = const_data(op, w, "int8", "filter")
    wd = raw.astype(np.int64)
    bias = const_data(op, b, "int32", "bias").astype(np.int64) if b is not None else np.zeros(geo.out_c, np.int64)
    if bias.ndim != 1 or bias.size != geo.out_c:
        raise fail_op(op, f"bias has shape {list(bias.shape)}; it must be [{geo.out_c}] (one per output channel)")
    mults, shifts = requant_params(op, inp, w, out, geo.out_c)
    zp_in = int(inp.zero_point[0])
    zp_out = int(out.zero_point[0])
    folded = wrap_int32(bias - zp_in * wd.reshape(geo.out_c, -1).sum(axis=1))
    lo, hi = op.pool.act if op.pool else act_range(op, activation(op), out)
    if min(shifts) < -128 or max(shifts) > 127:
        raise fail_op(op, f"requantization shift {min(shifts)}..{max(shifts)} out of int8 range")
    m = op.mean
    return ConvParams(geo, reorder_conv_weights(raw), wd.size, folded, mults, shifts, zp_in, zp_out,
                      lo, hi, fast_requant_ok(bias, wd, shifts, zp_out), m.mult if m else 0, m.shift if m else 0,
                      m.out_zp if m else 0, m is not None, b is not None)


def memory(g: Graph, op: Operator, flash: bool = False) -> OpMemory:
    """flash: the layer's quad weight streams are const data (flash_streams_ok), no stream scratch."""
    geo = conv_geometry(g, op)
    # The kernel reads its input only while copying it to scratch: output may overlap the input, and the scratch
    # may start at the input (the copy runs backward, see geo.scratch_on_input).
    elems = geo.flash_scratch_elems if flash else geo.scratch_elems
    return OpMemory(2 * elems, "overlap", geo.macs, geo.scratch_on_input)


def flash_streams_refusal(g: Graph, op: Operator) -> str | None:
    """None when the layer's quad weight streams can be emitted as const data (flash); otherwise why not."""
    c = prepare(g, op)
    if c.variant != "tdnn_convolve_s8_quad":
        return (f"it runs {c.variant}, which has no weight streams (only tdnn_convolve_s8_quad has them: one "
                f"filter row of whole 8-tap chunks, output channels in fours, no clamping activation; "
                f"compiler/ops/conv_2d.py conv_variant)")
    if not c.geo.flash_stream_geometry:
        return (f"it has {c.geo.out_h} output rows; flash streams hold the row end as a constant, so they need one "
                f"output row")
    return None


def flash_streams_ok(g: Graph, op: Operator) -> bool:
    """The layer runs the quad variant with a geometry whose streams can be emitted as const data."""
    return flash_streams_refusal(g, op) is None


class QuadWeights(Protocol):
    """What the flash streams are made of (ConvParams has it; tests/test_conv_variants_device.py builds its own)."""

    @property
    def geo(self) -> ConvGeometry: ...
    @property
    def weights(self) -> np.ndarray: ...  # reorder_conv_weights
    @property
    def folded_bias(self) -> np.ndarray: ...
    @property
    def mult(self) -> list[int]: ...
    @property
    def shift(self) -> list[int]: ...


def quad_streams(c: QuadWeights, shift: int = 0) -> list[list[int]]:
    """The numeric words of each channel quad's weight stream (quad_asm.inc's layout, what quad_unpack writes;
    shift 1: quad_shift's odd stream, every channel's taps one later after a zero): 2 * bias of the four channels;
    per 8-tap chunk and channel four int16 pairs of doubled weights (tap t in the low half, t + 1 in the high
    half); per channel mult, round = 2^(r-1) - 128 * 2^r and r = -shift. The three row words (dx, row end, next
    stream) follow in quad_stream_c. Words as uint32."""
    geo = c.geo
    run = geo.run
    # undo the (0 2 1 3) flash order: the taps in input order per channel
    taps = c.weights.reshape(geo.out_c, run // 4, 4)[..., [0, 2, 1, 3]].reshape(geo.out_c, run).astype(np.int64)
    if shift:
        assert not taps[:, -1].any(), "the odd stream needs a spare zero tap"
        taps = np.concatenate([np.zeros((geo.out_c, 1), np.int64), taps[:, :-1]], axis=1)
    pairs = ((2 * taps[:, 0::2]) & 0xFFFF) | (((2 * taps[:, 1::2]) & 0xFFFF) << 16)  # [out_c][run / 2]
    streams = []
    for oc in range(0, geo.out_c, 4):
        words = [int(2 * c.folded_bias[oc + i]) & 0xFFFFFFFF for i in range(4)]
        for j in range(run // 8):
            for i in range(4):
                words += [int(w) for w in pairs[oc + i, 4 * j:4 * j + 4]]
        for i in range(4):
            r = -c.shift[oc + i]
            words += [c.mult[oc + i] & 0xFFFFFFFF, ((1 << (r - 1)) - (128 << r)) & 0xFFFFFFFF, r]
        streams.append(words)
    return streams


def quad_row_words(geo: ConvGeometry) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The row words of the even and the odd stream as conv_quad sets them for one output row: (dx, byte offset
    of the row end in the padded input, which stream of the quad comes next: 0 even, 1 odd)."""
    chunks = geo.run // 8
    s = geo.stride_w * geo.in_c
    cw = geo.out_w * geo.pool_w
    odd, pool = geo.odd_step, geo.pool_w == 2
    passes = 2 if odd and not pool else 1
    pstep = passes * s
    dx = 2 * (pstep - (pool and odd)) - 16 * chunks
    dx2 = 2 * (pstep + (pool and odd)) - 16 * chunks
    xend = 2 * ((cw + passes - 1) // passes) * pstep
    if not odd:
        return (dx, xend, 0), (dx, xend, 0)
    if pool:  # the odd stream requantizes every pooled position (the even one's row words are not read)
        return (dx2, xend, 0), (dx2, xend, 0)
    return (dx, xend, 0), (dx, 2 * (s - 1 + (cw // 2) * pstep), 1)


def quad_stream_c(c: QuadWeights, name: str, scratch: str) -> str:
    """The const array of a layer's flash streams (tdnn_convolve_s8_quad_flash), per quad the even stream and
    for an odd step the odd one: the numeric words (quad_streams), then dx, the row end in the padded input
    (the scratch) and the next position's stream, both link-time constants of the static arena and of the
    array itself (the arena is declared first). Only the M4 build has them (32-bit addresses; the portable path
    reads p->weights): elsewhere the name is a null pointer."""
    geo = c.geo
    odd = geo.odd_step
    words = geo.quad_stream_words
    per_quad = (odd + 1) * words
    kinds = [quad_streams(c)] + ([quad_streams(c, 1)] if odd else [])
    rows = []
    for q in range(geo.out_c // 4):
        for k, kind in enumerate(kinds):
            dx, xend, nxt = quad_row_words(geo)[k]
            body = ", ".join(f"{w}u" for w in kind[q])
            rows.append(f"    {body},\n    {dx & 0xFFFFFFFF}u, "
                        f"(uint32_t)(uintptr_t)((int8_t *)(void *){scratch} + {xend}), "
                        f"(uint32_t)(uintptr_t)&{name}[{q * per_quad + nxt * words}]")
    return (f"#if defined(__ARM_FEATURE_DSP)\nstatic const uint32_t {name}[{geo.out_c // 4 * per_quad}] = {{\n"
            + ",\n".join(rows) + f"\n}};\n#else\n#define {name} ((const uint32_t *)0)\n#endif\n")


def emit(ctx: EmitContext, op: Operator) -> Emitted:
    c = prepare(ctx.g, op)
    geo = c.geo
    p = f"op{op.index}"
    fields = [("weights", f"{p}_weights"), ("bias", f"{p}_bias"), ("mult", f"{p}_mult"), ("shift", f"{p}_shift"),
              ("mean_mult", c.mean_mult), ("in_h", geo.in_h), ("in_w", geo.in_w), ("in_c", geo.in_c),
              ("out_h", geo.out_h), ("out_w", geo.out_w), ("out_c", geo.out_c), ("k_h", geo.k_h), ("k_w", geo.k_w),
              ("stride_h", geo.stride_h), ("stride_w", geo.stride_w), ("pad_top", geo.pad_top),
              ("pad_left", geo.pad_left), ("pool_w", geo.pool_w), ("input_zp", c.input_zp),
              ("out_offset", c.out_zp), ("act_min", c.act_min), ("act_max", c.act_max),
              ("mean_shift", c.mean_shift), ("mean_out_zp", c.mean_out_zp), ("fast_requant", int(c.fast_requant)),
              ("mean_fused", int(c.mean_fused))]
    decls = [c_array("int8_t", f"{p}_weights", c.weights), c_array("int32_t", f"{p}_bias", c.folded_bias),
             c_array("int32_t", f"{p}_mult", np.array(c.mult)), c_array("int8_t", f"{p}_shift", np.array(c.shift)),
             c_struct("tdnn_conv_params", p, fields)]
    fn = c.variant
    streams = ""
    const_bytes = c.weights.size + 9 * geo.out_c + 56  # + the params struct (4 pointers, 1 int32, 19 int16, 2 bytes)
    if op.index in ctx.flash_streams:
        assert fn == "tdnn_convolve_s8_quad" and geo.flash_stream_geometry, "flash_streams_ok decides"
        fn, streams = "tdnn_convolve_s8_quad_flash", f"{p}_streams, "
        # The M4 build reads the streams alone: the int8 weights and the per-channel arrays only in the portable
        # build (host), which ignores the streams.
        nulls = "".join(f"#define {p}_{n} ((const {t} *)0)\n" for n, t in (
            ("weights", "int8_t"), ("bias", "int32_t"), ("mult", "int32_t"), ("shift", "int8_t")))
        decls = [quad_stream_c(c, f"{p}_streams", ctx.scratch[op.index]),
                 "#if !defined(__ARM_FEATURE_DSP)\n" + "".join(decls[:4]) + "#else\n" + nulls + "#endif\n", decls[4]]
        const_bytes += 4 * (geo.out_c // 4) * (geo.odd_step + 1) * geo.quad_stream_words \
            - c.weights.size - 9 * geo.out_c
    call = (f"{fn}(&{p}, {streams}{ctx.buf[op.inputs[0]]}, (int16_t *)(void *){ctx.scratch[op.index]}, "
            f"{ctx.buf[op.outputs[0]]});")
    weight_bytes = c.raw_weight_count + (4 * geo.out_c if c.has_bias else 0)
    return Emitted(decls, call, const_bytes, weight_bytes, fn)


SPEC = OpSpec("CONV_2D", "convolve_s8.c", spatial_options(tflite.Conv2DOptions), memory, emit, inputs=(2, 3))
