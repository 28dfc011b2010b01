"""Static memory planner: lifetimes, in-place merges, overlap allowances, better than first fit."""

from __future__ import annotations

from tinyml_disco.compiler import planner
from tinyml_disco.compiler.planner import Buffer


def test_disjoint_lifetimes_share_bytes() -> None:
    offsets, total = planner.plan([Buffer("a", 100, 0, 1), Buffer("b", 100, 2, 3)])
    assert total == 100 and offsets["a"] == offsets["b"] == 0


def test_overlap_allowance_lets_output_reuse_input() -> None:
    bufs = [Buffer("in", 64, 0, 1), Buffer("out", 64, 1, 2), Buffer("scratch", 32, 1, 1)]
    assert planner.plan(bufs)[1] == 160
    offsets, total = planner.plan(bufs, {frozenset(("in", "out"))})
    assert total == 96
    assert not (offsets["scratch"] < offsets["in"] + 64 and offsets["in"] < offsets["scratch"] + 32)


def test_pinned_scratch_starts_at_its_dying_input() -> None:
    # A conv (op 1) whose 64-byte input dies there and whose 160-byte scratch may start at that input (the kernel
    # copies it backward): the scratch takes the input's offset, the 32-byte output goes beside it, and an
    # unrelated buffer live at op 1 (keep) stays clear of the whole scratch.
    bufs = [Buffer("in", 64, 0, 1), Buffer("keep", 16, 0, 2), Buffer("scratch", 160, 1, 1), Buffer("out", 32, 1, 2)]
    assert planner.plan(bufs, {frozenset(("in", "out"))})[1] == 16 + 64 + 160  # not pinned: scratch beside in
    overlap = {frozenset(("in", "out")), frozenset(("scratch", "in"))}
    offsets, total = planner.plan(bufs, overlap, {"scratch": "in"})
    assert offsets["scratch"] == offsets["in"] and total == 16 + 160 + 32
    assert planner.overlapping_pairs(bufs, offsets, overlap) == []


def test_search_beats_greedy_first_fit() -> None:
    # Size-ordered first fit puts c (96) at 0, b (80) above it, d (64) at 0, and then a (56) fits nowhere below
    # b's end: 176 + 56 = 232. The search packs a and d together (0..56, 56..120) beside c and b: 176, which is
    # optimal since b and c are both live at op 4 (80 + 96).
    bufs = [Buffer("a", 56, 0, 2), Buffer("b", 80, 2, 4), Buffer("c", 96, 4, 4), Buffer("d", 64, 0, 0)]
    assert planner.greedy_first_fit(bufs) == 232
    offsets, best = planner.plan(bufs)
    assert best == 176
    for a in bufs:
        assert offsets[a.key] % 4 == 0 and offsets[a.key] + a.size <= best
        for b in bufs:
            live = not (a.last < b.first or b.last < a.first)
            if a is not b and live:
                assert offsets[a.key] + a.size <= offsets[b.key] or offsets[b.key] + b.size <= offsets[a.key]
