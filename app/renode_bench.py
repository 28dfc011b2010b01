"""Renode figures for `tinyml-disco bench`: the same windows through the same ELF on Renode 1.15.3, timed, and
compared line by line with the embedded board's PRED lines (class, score and cycles)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tinyml_disco.sim import protocol
from tinyml_disco.sim.backend import BackendUnavailable
from tinyml_disco.sim.session import PRED_LINE, DeviceSession

PACED_WINDOWS = 20  # windows also measured one at a time


def measure(elf: Path, windows_g: np.ndarray, embedded: list[protocol.Prediction], sensor: str = "lis3dsh",
            log_dir: Path | None = None) -> dict[str, object]:
    """{"windows_per_s", "wall_s", "boot_s", "pred_equal_embedded", ...}, or {"skipped": reason} without Renode."""
    from tinyml_disco.sim.renode import platform
    from tinyml_disco.sim.renode.backend import RenodeConnection
    from tinyml_disco.sim.renode.process import find_renode

    try:
        renode = find_renode()
    except BackendUnavailable as exc:
        return {"skipped": str(exc)}
    t0 = time.perf_counter()
    connection = RenodeConnection(log_dir)
    try:
        backend = connection.board(elf, sensor=sensor, emulation_settings=platform.BENCH_EMULATION_SETTINGS)
        session = DeviceSession(backend)
        session.start()
        boot_s = time.perf_counter() - t0
        # Streamed: every window in one feed, the PRED lines read while the emulation runs on.
        t1 = time.perf_counter()
        backend.feed(np.concatenate([np.asarray(win) for win in windows_g]))
        lines = backend.stream_lines(PRED_LINE, len(windows_g))
        wall = time.perf_counter() - t1
        preds = [protocol.parse_pred(ln) for ln in lines if PRED_LINE.search(ln)]
        # One at a time, as the suites drive it: feed a window, wait for its PRED with the emulation paused.
        n_paced = min(len(windows_g), PACED_WINDOWS)
        session.backend.run_until_idle()  # what followed the stream (the sensor timeout)
        t2 = time.perf_counter()
        paced = [session.classify(np.asarray(win)[None])[0] for win in windows_g[:n_paced]]
        wall_paced = time.perf_counter() - t2
    finally:
        connection.stop()
    same = [(a.cls, a.score, a.cycles) == (b.cls, b.score, b.cycles) for a, b in zip(embedded, preds, strict=False)]
    same_paced = [(a.cls, a.score, a.cycles) == (b.cls, b.score, b.cycles)
                  for a, b in zip(embedded, paced, strict=False)]
    return {
        "renode": renode,
        "sensor": sensor,
        "windows": len(preds),
        "boot_s": boot_s,
        "wall_s": wall,
        "windows_per_s": len(preds) / wall if wall > 0 else None,
        "pred_equal_embedded": float(np.mean(same)) if len(preds) == len(embedded) else 0.0,
        "windows_paced": len(paced),
        "windows_per_s_paced": len(paced) / wall_paced if wall_paced > 0 else None,
        "pred_equal_embedded_paced": float(np.mean(same_paced)) if same_paced else None,
        "source": "app/renode_bench.py: Renode started headless with its Robot server (sim/renode/platform.py "
                  "BENCH_EMULATION_SETTINGS: advance immediately, 0.1 s quantum); windows_per_s: all windows fed at "
                  "once, PRED lines read while the emulation runs on; windows_per_s_paced: one window fed and "
                  "its PRED awaited with the emulation paused at a time, as the Robot suites do",
    }
