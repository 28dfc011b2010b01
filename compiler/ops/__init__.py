"""The op registry: one module per TFLite op, each defining an OpSpec. The supported-op list is derived from it.

Adding an op: write firmware/nn/<op>_s8.c, add compiler/ops/<op>.py with `SPEC = OpSpec(...)`, list the module
below, add a test (tests/test_kernels_ops.py builds a one-op model and checks it against TFLite Micro).
"""

from __future__ import annotations

from tinyml_disco.compiler.ops import (
    add,
    average_pool_2d,
    conv_2d,
    depthwise_conv_2d,
    fully_connected,
    logistic,
    max_pool_2d,
    mean,
    softmax,
    views,
)
from tinyml_disco.compiler.ops.base import OpSpec

_SPECS: tuple[OpSpec, ...] = (fully_connected.SPEC, softmax.SPEC, conv_2d.SPEC, depthwise_conv_2d.SPEC,
                              max_pool_2d.SPEC, average_pool_2d.SPEC, mean.SPEC, add.SPEC, logistic.SPEC,
                              *views.SPECS)
REGISTRY: dict[str, OpSpec] = {s.name: s for s in _SPECS}
SUPPORTED_OPS: tuple[str, ...] = tuple(REGISTRY)
VIEW_OPS: tuple[str, ...] = tuple(name for name, s in REGISTRY.items() if s.is_view)


def get(name: str) -> OpSpec | None:
    return REGISTRY.get(name)
