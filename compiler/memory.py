"""The static memory plan of a compiled model: activations and kernel scratch in one arena.

Lifetimes come from op order; what each op allows (its output in place of, or overlapping, a dying input;
its scratch) comes from its OpSpec's `memory`. The plan is checked for forbidden overlaps before use.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable
from dataclasses import dataclass
from typing import cast

from tinyml_disco.compiler import planner
from tinyml_disco.compiler.graph import Graph
from tinyml_disco.compiler.ops.base import OpMemory


def lifetimes(g: Graph) -> tuple[dict[int, int], dict[int, int]]:
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
    first, last = lifetimes(g)
    model_io = set(g.inputs) | set(g.outputs)
    bufs = [planner.Buffer(t, g.tensors[t].size, first[t], last[t]) for t in first if t not in model_io]
    offsets, total = planner.plan(bufs)
    return {int(cast(int, k)): o for k, o in offsets.items()}, total


@dataclass
class MemoryPlan:
    buf: dict[int, str]  # tensor index -> C expression of its bytes
    scratch: dict[int, str]  # op index -> C expression of its scratch
    scratch_offsets: dict[int, int]  # op index -> arena offset of its scratch
    arena: int
    first_fit: int  # plain first fit, no in-place / overlap: what the planner improves on
    text: str  # printable plan (planner.format_plan)


def plan_memory(g: Graph, mem: dict[int, OpMemory]) -> MemoryPlan:
    """Arena offsets for activations and scratch, with in-place merges and overlap allowances."""
    first, last = lifetimes(g)
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
    pins: dict[Hashable, Hashable] = {}  # a scratch may start at its dying input (the kernel copies it backward)
    for pos, op in enumerate(g.operators):
        if mem[op.index].scratch_bytes:
            key = ("scratch", op.index)
            bufs.append(planner.Buffer(key, mem[op.index].scratch_bytes, pos, pos))
            t = op.inputs[0]
            if mem[op.index].scratch_on_input and t in root and max(last[x] for x in groups[find(t)]) == pos:
                pins[key] = find(t)
    # A pin is not always a gain (the conv's output must then avoid the whole scratch): every subset of the pins
    # (all or none beyond 6 of them), the smallest arena.
    keys = list(pins)
    subsets = itertools.product((False, True), repeat=len(keys)) if len(keys) <= 6 else \
        [(False,) * len(keys), (True,) * len(keys)]
    best: tuple[dict[Hashable, int], int, set[frozenset]] | None = None
    for chosen in subsets:
        use = {k: pins[k] for k, on in zip(keys, chosen, strict=True) if on}
        allowed = may_overlap | {frozenset((k, v)) for k, v in use.items()}
        offsets, arena = planner.plan(bufs, allowed, use)
        if best is None or arena < best[1]:
            best = offsets, arena, allowed
    assert best is not None
    offsets, arena, may_overlap = best
    clashes = planner.overlapping_pairs(bufs, offsets, may_overlap)
    if clashes:  # a planner bug would corrupt activations silently on the device: stop here instead
        raise AssertionError(f"memory plan overlaps live buffers: {clashes}")
    plain = [planner.Buffer(t, g.tensors[t].size, first[t], last[t]) for t in internal] + \
        [b for b in bufs if isinstance(b.key, tuple)]
    buf = {t: f"(arena + {offsets[find(t)]})" for t in internal}
    buf[g.inputs[0]] = "input"
    buf[g.outputs[0]] = "output"
    scratch_offsets = {op.index: offsets[("scratch", op.index)] for op in g.operators if mem[op.index].scratch_bytes}
    scratch = {i: f"(arena + {o})" for i, o in scratch_offsets.items()}
    return MemoryPlan(buf, scratch, scratch_offsets, arena, planner.greedy_first_fit(plain),
                      planner.format_plan(bufs, offsets, arena, _label))


def _label(key: object) -> str:
    return f"scratch of op {key[1]}" if isinstance(key, tuple) else f"tensor {key}"
