"""The compiler's graph: tensors and operators read from a .tflite, plus what the passes add (typed)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class UnsupportedModelError(ValueError):
    """The model uses something the compiler cannot generate code for."""


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: np.ndarray  # float32 per channel (len 1 for per-tensor, empty if not quantized)
    zero_point: np.ndarray
    quantized_dimension: int
    data: np.ndarray | None  # constant tensors only

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1


@dataclass(frozen=True)
class PoolFusion:
    """A 1x2 MAX_POOL_2D folded into the CONV_2D before it (passes.fuse_conv_pool)."""

    index: int  # the MAX_POOL_2D operator that was folded in
    conv_out_w: int  # conv output width before pooling
    act: tuple[int, int]  # intersection of the conv's and the pool's clamps
    pool_w: int = 2


@dataclass(frozen=True)
class MeanFusion:
    """A global-average MEAN folded into the CONV_2D before it (passes.fuse_conv_mean)."""

    index: int  # the MEAN operator that was folded in
    mult: int
    shift: int
    out_zp: int
    conv_output: int  # tensor index whose quantization the conv requantizes to


@dataclass
class Operator:
    index: int
    op: str  # BuiltinOperator name, e.g. FULLY_CONNECTED
    inputs: list[int]
    outputs: list[int]
    options: dict[str, object] = field(default_factory=dict)  # builtin options as read from the .tflite
    # Set by passes.fold_views: the shapes the op was converted with (a Conv1D's CONV_2D sees [1, 1, W, C]
    # although, after folding, its input tensor is the [1, W, C] one). None: use the tensors' shapes.
    in_shapes: tuple[tuple[int, ...], ...] | None = None
    out_shapes: tuple[tuple[int, ...], ...] | None = None
    pool: PoolFusion | None = None
    mean: MeanFusion | None = None


@dataclass
class Graph:
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: list[int]
    outputs: list[int]


def fail_op(op: Operator, why: str) -> UnsupportedModelError:
    return UnsupportedModelError(f"operator {op.index} ({op.op}): {why}")


def in_shape(g: Graph, op: Operator, i: int = 0) -> tuple[int, ...]:
    """Shape as the op sees its input (before views were folded away)."""
    return tuple(op.in_shapes[i]) if op.in_shapes else g.tensors[op.inputs[i]].shape


def out_shape(g: Graph, op: Operator) -> tuple[int, ...]:
    return tuple(op.out_shapes[0]) if op.out_shapes else g.tensors[op.outputs[0]].shape
