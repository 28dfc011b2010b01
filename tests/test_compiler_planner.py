"""Static memory planner: lifetimes, in-place merges, overlap allowances, better than first fit."""

from __future__ import annotations

from compiler import planner
from compiler.planner import Buffer


def test_disjoint_lifetimes_share_bytes() -> None:
    offsets, total = planner.plan([Buffer("a", 100, 0, 1), Buffer("b", 100, 2, 3)])
    assert total == 100 and offsets["a"] == offsets["b"] == 0


def test_overlap_allowance_lets_output_reuse_input() -> None:
    bufs = [Buffer("in", 64, 0, 1), Buffer("out", 64, 1, 2), Buffer("scratch", 32, 1, 1)]
    assert planner.plan(bufs)[1] == 160
    offsets, total = planner.plan(bufs, {frozenset(("in", "out"))})
    assert total == 96
    assert not (offsets["scratch"] < offsets["in"] + 64 and offsets["in"] < offsets["scratch"] + 32)


def test_search_beats_greedy_first_fit() -> None:
    # Size-ordered first fit puts the big short-lived buffer at 0 and the long-lived ones above it;
    # another order packs the long-lived ones together and fits the big one beside them later.
    bufs = [Buffer("big", 96, 2, 2), Buffer("x", 64, 0, 1), Buffer("y", 40, 1, 3), Buffer("z", 56, 3, 4)]
    best = planner.plan(bufs)[1]
    assert best <= planner.greedy_first_fit(bufs)
    offsets, _ = planner.plan(bufs)
    for a in bufs:
        for b in bufs:
            live = not (a.last < b.first or b.last < a.first)
            if a is not b and live:
                assert offsets[a.key] + a.size <= offsets[b.key] or offsets[b.key] + b.size <= offsets[a.key]
