"""What every op module shares: the OpSpec contract, the emit context and the int8 checks TFLM's Prepare() does.

An op module defines one `SPEC = OpSpec(...)`: how to read its builtin options from the .tflite, what it
needs from the planner (scratch, in-place), and how it emits its C (constants + one kernel call). Prepared
parameters are a dataclass per op, computed once from the graph and used by both `memory` and `emit`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tflite

from tinyml_disco.compiler.graph import Graph, Operator, Tensor, UnsupportedModelError, fail_op
from tinyml_disco.compiler.quant import quantize_multiplier

__all__ = ["OpSpec", "OpMemory", "Emitted", "EmitContext", "UnsupportedModelError", "fail_op", "check_int8",
           "act_range", "activation", "activation_name", "wrap_int32", "nhwc", "leading_pad", "const_data",
           "op_tensors", "requant_params", "check_stride_dilation", "SUPPORTED_ACTIVATIONS", "no_options"]

SUPPORTED_ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")
_ACT_NAMES = {v: k for k, v in vars(tflite.ActivationFunctionType).items() if not k.startswith("_")}


@dataclass(frozen=True)
class OpMemory:
    scratch_bytes: int = 0
    alias: str | None = None  # "exact": output may take the input's bytes; "overlap": any overlap is safe
    macs: int = 0
    scratch_on_input: bool = False  # the scratch may start at the first input's first byte if that input dies here


@dataclass
class Emitted:
    decls: list[str]
    call: str
    const_bytes: int
    weight_bytes: int
    kernel: str = ""  # the C function the call enters (for the manifest)


@dataclass
class EmitContext:
    g: Graph
    buf: dict[int, str]  # tensor index -> C expression of its buffer
    scratch: dict[int, str] = field(default_factory=dict)  # op index -> C expression of its scratch
    total_macs: int = 0
    flash_streams: frozenset[int] = frozenset()  # conv ops whose quad weight streams are const data (conv_2d.py)


OptionsParser = Callable[[Any], dict[str, object]]  # a flatbuffers options table -> plain options


@dataclass(frozen=True)
class OpSpec:
    """One TFLite builtin op the compiler supports. `emit` None: a view (same bytes, new shape), folded away."""

    name: str
    kernel_file: str  # firmware/nn/<file> that implements it ("" for views)
    parse_options: OptionsParser
    memory: Callable[[Graph, Operator], OpMemory]
    emit: Callable[[EmitContext, Operator], Emitted] | None
    inputs: tuple[int, int] = (1, 1)  # (required, at most) input tensors; the optional ones may be -1 (absent)

    @property
    def is_view(self) -> bool:
        return self.emit is None


def no_options(_table: Any) -> dict[str, object]:
    return {}


def activation_name(code: int) -> str:
    return _ACT_NAMES.get(code, str(code))


def activation(op: Operator) -> str:
    return str(op.options.get("activation", "NONE"))


def check_int8(op: Operator, t: Tensor, role: str) -> None:
    if t.dtype != "int8":
        raise fail_op(op, f"{role} tensor {t.index} '{t.name}' is {t.dtype}, expected int8; convert with "
                          "full-integer quantization (representative dataset, int8 input/output)")
    if t.scale.size != 1 or t.zero_point.size != 1:
        raise fail_op(op, f"{role} tensor {t.index} '{t.name}' needs one scale and one zero point, has "
                      f"{t.scale.size} and {t.zero_point.size}")


def act_range(op: Operator, act: str, out: Tensor) -> tuple[int, int]:
    """TFLM CalculateActivationRangeQuantized (float32 division, round half away from zero)."""
    scale = np.float32(out.scale[0])
    zp = int(out.zero_point[0])

    def q(v: float) -> int:
        x = float(np.float32(v) / scale)
        return zp + int(math.copysign(math.floor(abs(x) + 0.5), x))

    if act == "NONE":
        return -128, 127
    if act == "RELU":
        return max(-128, q(0.0)), 127
    if act == "RELU6":
        return max(-128, q(0.0)), min(127, q(6.0))
    if act == "RELU_N1_TO_1":
        return max(-128, q(-1.0)), min(127, q(1.0))
    raise fail_op(op, f"fused activation {act} not supported; supported: {', '.join(SUPPORTED_ACTIVATIONS)}")


def wrap_int32(x: np.ndarray) -> np.ndarray:
    return ((np.asarray(x, np.int64) + 2**31) % 2**32) - 2**31


def nhwc(op: Operator, shape: tuple[int, ...], role: str) -> tuple[int, int, int]:
    if len(shape) != 4 or shape[0] != 1:
        raise fail_op(op, f"{role} must be 4-D NHWC with batch 1, got shape {shape}")
    return shape[1], shape[2], shape[3]


def leading_pad(in_size: int, k: int, stride: int, out_size: int) -> int:
    """TFLM ComputePaddingWithOffset: the leading pad (the odd extra goes to the end)."""
    return max((out_size - 1) * stride + k - in_size, 0) // 2


def const_data(op: Operator, t: Tensor | None, dtype: str, role: str) -> np.ndarray:
    """The constant data of an op's weights/bias; the error says which of "absent", "wrong type", "no data" it is."""
    if t is None:
        raise fail_op(op, f"{role} is missing: it must be a constant {dtype} tensor")
    if t.dtype != dtype:
        raise fail_op(op, f"{role} tensor {t.index} '{t.name}' is {t.dtype}; it must be {dtype}")
    if t.data is None:
        raise fail_op(op, f"{role} tensor {t.index} '{t.name}' ({t.dtype}) has no constant data (its buffer in "
                      "the .tflite is empty); it must hold the trained values")
    return t.data


def op_tensors(g: Graph, op: Operator, n: int) -> list[Tensor | None]:
    """The op's first n inputs (None where optional and absent)."""
    return ([g.tensors[i] if i >= 0 else None for i in op.inputs] + [None] * n)[:n]


def requant_params(op: Operator, inp: Tensor, w: Tensor, out: Tensor, channels: int) -> tuple[list[int], list[int]]:
    """Per-channel (multiplier, shift) of in_scale * w_scale / out_scale (as TFLM's
    PopulateConvolutionQuantizationParams)."""
    if np.any(w.zero_point != 0):
        raise fail_op(op, "weights must be symmetric (zero point 0)")
    if w.scale.size not in (1, channels) or inp.scale.size != 1 or out.scale.size != 1:
        raise fail_op(op, f"weights tensor {w.index} has {w.scale.size} scales (needs 1 or one per output channel, "
                      f"{channels}); input and output need one each")
    w_scales = w.scale.astype(np.float64) if w.scale.size == channels else np.repeat(float(w.scale[0]), channels)
    pairs = [quantize_multiplier(float(inp.scale[0]) * float(ws) / float(out.scale[0])) for ws in w_scales]
    return [m for m, _ in pairs], [s for _, s in pairs]


def check_stride_dilation(op: Operator) -> tuple[int, int]:
    if int(op.options.get("dilation_h", 1)) != 1 or int(op.options.get("dilation_w", 1)) != 1:
        raise fail_op(op, "dilation other than 1 is not supported")
    return int(op.options.get("stride_h", 1)), int(op.options.get("stride_w", 1))


def read_spatial_options(table: Any, cls: type) -> dict[str, object]:
    """Options of the convolution, pooling, add and reduce ops (padding SAME/VALID, strides, ...)."""
    o = cls()
    o.Init(table.Bytes, table.Pos)
    out: dict[str, object] = {}
    if hasattr(o, "FusedActivationFunction"):
        out["activation"] = activation_name(o.FusedActivationFunction())
    if hasattr(o, "Padding"):
        out["padding"] = "SAME" if o.Padding() == tflite.Padding.SAME else "VALID"
        out["stride_h"], out["stride_w"] = int(o.StrideH()), int(o.StrideW())
    for key, getter in (("dilation_h", "DilationHFactor"), ("dilation_w", "DilationWFactor"),
                        ("depth_multiplier", "DepthMultiplier"), ("filter_h", "FilterHeight"),
                        ("filter_w", "FilterWidth")):
        if hasattr(o, getter):
            out[key] = int(getattr(o, getter)())
    if hasattr(o, "KeepDims"):
        out["keep_dims"] = bool(o.KeepDims())
    return out


def spatial_options(cls: type) -> OptionsParser:
    return lambda table: read_spatial_options(table, cls)
