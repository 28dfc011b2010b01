"""RESHAPE, EXPAND_DIMS, SQUEEZE: the same bytes with a new shape. No code, no memory (passes.fold_views)."""

from __future__ import annotations

from tinyml_disco.compiler.graph import Graph, Operator
from tinyml_disco.compiler.ops.base import OpMemory, OpSpec, no_options


def memory(_g: Graph, _op: Operator) -> OpMemory:
    return OpMemory()


SPECS = tuple(OpSpec(name, "", no_options, memory, None, inputs=(1, 2)) for name in ("RESHAPE", "EXPAND_DIMS",
                                                                                    "SQUEEZE"))
