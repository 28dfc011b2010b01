"""Renode figures for `tinyml-disco bench`: the same windows through the same ELF on Renode 1.15.3, timed, and
compared line by line with the embedded board's PRED lines (class, score and cycles)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from sim import protocol
from sim.backend import BackendUnavailable
from sim.session import DeviceSession


def measure(elf: Path, windows_g: np.ndarray, embedded: list[protocol.Prediction], sensor: str = "lis3dsh",
            log_dir: Path | None = None) -> dict[str, object]:
    """{"windows_per_s", "wall_s", "boot_s", "pred_equal_embedded", ...}, or {"skipped": reason} without Renode."""
    from sim.renode.backend import RenodeConnection
    from sim.renode.process import find_renode

    try:
        renode = find_renode()
    except BackendUnavailable as exc:
        return {"skipped": str(exc)}
    t0 = time.perf_counter()
    connection = RenodeConnection(log_dir)
    try:
        session = DeviceSession(connection.board(elf, sensor=sensor))
        session.start()
        boot_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        preds = [session.classify(np.asarray(win)[None])[0] for win in windows_g]
        wall = time.perf_counter() - t1
    finally:
        connection.stop()
    same = [(a.cls, a.score, a.cycles) == (b.cls, b.score, b.cycles) for a, b in zip(embedded, preds, strict=True)]
    return {
        "renode": renode,
        "sensor": sensor,
        "windows": len(preds),
        "boot_s": boot_s,
        "wall_s": wall,
        "windows_per_s": len(preds) / wall if wall > 0 else None,
        "pred_equal_embedded": float(np.mean(same)) if same else None,
        "source": "app/renode_bench.py: Renode started headless with its Robot server, one window fed and its "
                  "PRED awaited at a time (sim/renode/platform.py EMULATION_SETTINGS: advance immediately, "
                  "0.1 s quantum)",
    }
