"""Static memory planner: offsets in one arena for buffers with known lifetimes.

Every activation tensor and every kernel scratch buffer is a `Buffer` living from the op that
writes it to the last op that reads it. Two buffers may share bytes when their lifetimes do not
overlap, or when the op between them allows it (`may_overlap`: e.g. a convolution copies its input
to scratch before writing its output). Buffers that an element-wise op updates in place are merged
by the caller before planning. Placement is first fit by offset for one order of the buffers; the
planner tries several orders (all of them for small graphs) and keeps the smallest arena.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

EXHAUSTIVE_MAX = 7  # 7! = 5040 orders, a few ms


@dataclass(frozen=True)
class Buffer:
    key: Hashable
    size: int  # bytes, rounded up to 4 by the planner
    first: int  # op position that writes it
    last: int  # op position that reads it last


def _aligned(n: int) -> int:
    return (n + 3) & ~3


def _conflicts(bufs: Sequence[Buffer], may_overlap: set[frozenset]) -> list[set[int]]:
    out: list[set[int]] = [set() for _ in bufs]
    for i, a in enumerate(bufs):
        for j in range(i + 1, len(bufs)):
            b = bufs[j]
            if a.last < b.first or b.last < a.first:
                continue
            if frozenset((a.key, b.key)) in may_overlap:
                continue
            out[i].add(j)
            out[j].add(i)
    return out


def _place(order: Sequence[int], sizes: list[int], conflicts: list[set[int]],
           followers: dict[int, list[int]] | None = None) -> tuple[dict[int, int], int]:
    """First fit by offset in this order; a buffer's followers (pinned to its offset) are placed with it, at the
    lowest offset where every one of them fits."""
    offsets: dict[int, int] = {}
    for i in order:
        group = [i, *(followers or {}).get(i, ())]
        busy = [(offsets[j], offsets[j] + sizes[j], m) for m in group for j in conflicts[m] if j in offsets]
        offset = next(o for o in sorted({0, *(hi for _, hi, _ in busy)})  # the lowest offset where all fit
                      if not any(o < hi and lo < o + sizes[m] for lo, hi, m in busy))
        for m in group:
            offsets[m] = offset
    return offsets, max((offsets[i] + sizes[i] for i in offsets), default=0)


def plan(buffers: Sequence[Buffer], may_overlap: set[frozenset] | None = None,
         pins: dict[Hashable, Hashable] | None = None) -> tuple[dict[Hashable, int], int]:
    """Offsets by buffer key and the arena size in bytes (smallest over the orders tried). pins: follower key ->
    leader key, a buffer that must start where another does (a conv scratch on its dying input; the pair must be
    in may_overlap)."""
    bufs = list(buffers)
    sizes = [_aligned(b.size) for b in bufs]
    conflicts = _conflicts(bufs, may_overlap or set())
    index = {b.key: i for i, b in enumerate(bufs)}
    followers: dict[int, list[int]] = {}
    for f, lead in (pins or {}).items():
        followers.setdefault(index[lead], []).append(index[f])
    pinned = {f for fs in followers.values() for f in fs}
    idx = [i for i in range(len(bufs)) if i not in pinned]
    orders: list[Sequence[int]] = [
        sorted(idx, key=lambda i: -sizes[i]),
        sorted(idx, key=lambda i: (bufs[i].first, -sizes[i])),
        sorted(idx, key=lambda i: -(bufs[i].last - bufs[i].first + 1) * sizes[i]),
        sorted(idx, key=lambda i: (-len(conflicts[i]), -sizes[i])),
        sorted(idx, key=lambda i: -sum(sizes[j] for j in conflicts[i]) - sizes[i]),
    ]
    if len(idx) <= EXHAUSTIVE_MAX:
        orders = list(itertools.permutations(idx))
    best: tuple[dict[int, int], int] | None = None
    for order in orders:
        result = _place(order, sizes, conflicts, followers)
        if best is None or result[1] < best[1]:
            best = result
    offsets, total = best if best is not None else ({}, 0)
    return {bufs[i].key: o for i, o in offsets.items()}, total


def greedy_first_fit(buffers: Sequence[Buffer]) -> int:
    """Arena size of plain first fit in size order with no overlap allowances: the baseline we report."""
    bufs = list(buffers)
    sizes = [_aligned(b.size) for b in bufs]
    return _place(sorted(range(len(bufs)), key=lambda i: -sizes[i]), sizes, _conflicts(bufs, set()))[1]


def overlapping_pairs(buffers: Sequence[Buffer], offsets: dict[Hashable, int],
                      may_overlap: set[frozenset] | None = None) -> list[tuple[Hashable, Hashable]]:
    """Pairs of buffers that are alive at the same op and share bytes without an allowance (tflite-micro's
    DoAnyBuffersOverlap, naming the culprits). Empty for every plan `plan` returns."""
    allowed = may_overlap or set()
    bad = []
    for i, a in enumerate(buffers):
        for b in buffers[i + 1:]:
            alive_together = not (a.last < b.first or b.last < a.first)
            lo_a, lo_b = offsets[a.key], offsets[b.key]
            share_bytes = lo_a < lo_b + _aligned(b.size) and lo_b < lo_a + _aligned(a.size)
            if alive_together and share_bytes and frozenset((a.key, b.key)) not in allowed:
                bad.append((a.key, b.key))
    return bad


def format_plan(buffers: Sequence[Buffer], offsets: dict[Hashable, int], arena: int,
                label: Callable[[Hashable], str] = str) -> str:
    """One line per buffer, by offset: key, bytes, [first op, last op], and a bar of its place in the arena."""
    width = 40
    rows = [f"arena {arena} bytes"]
    for b in sorted(buffers, key=lambda b: (offsets[b.key], b.first)):
        lo = offsets[b.key]
        start = lo * width // max(arena, 1)
        stop = max(start + 1, (lo + _aligned(b.size)) * width // max(arena, 1))
        bar = "." * start + "#" * (stop - start) + "." * (width - stop)
        rows.append(f"  {label(b.key):<18} {lo:>6} +{b.size:<6} ops {b.first:>2}..{b.last:<2} |{bar}|")
    return "\n".join(rows)
