"""The real firmware on the board with interrupts and virtual time: LIS2DW12 on I2C1, ODR pacing, CPU load,
latency, sensor timeout and recovery, clipping."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests import informative
from tinyml_disco.app import pipeline
from tinyml_disco.app.tflm_oracle import TflmOracle
from tinyml_disco.sim import protocol
from tinyml_disco.sim.board import Board
from tinyml_disco.sim.periph.lis2dw12 import firmware_counts, firmware_counts_from_g
from tinyml_disco.training.artifacts import ModelPaths

HZ = 168_000_000


def _preds(lines: list[str]) -> list[protocol.Prediction]:
    return [protocol.parse_pred(ln) for ln in lines if ln.startswith("PRED ")]


def test_lis2dw12_on_i2c1_matches_tflm_on_converted_data(trained_mlp: ModelPaths, mlp_elf: Path) -> None:
    w = pipeline.device_windows(trained_mlp, 2, seed=77)
    # What the firmware sees: 14-bit counts at +-8 g (976 ug each, rounded toward zero from whole micro-g as
    # Renode's LIS2DW12 does, saturating), rescaled to 0.24 mg units.
    ug = np.rint(w.g * 1e6).astype(np.int64)
    raw14 = np.clip(np.fix(ug / 976), -8192, 8191)
    converted = firmware_counts(raw14).reshape(w.g.shape)
    assert np.array_equal(converted, firmware_counts_from_g(w.g))
    ref = TflmOracle(trained_mlp.tflite.read_bytes()).invoke(pipeline.model_inputs(trained_mlp, converted))
    informative.assert_informative(ref, 7, 3, "lis2dw12 windows")  # 8 windows: the small MLP picks 3 classes
    board = Board(mlp_elf, sensor="lis2dw12")
    board.run_until_idle()
    boot = protocol.parse_boot(board.read_lines()[0])
    assert (boot.sensor, boot.bus) == ("LIS2DW12", "i2c1")
    got = []
    for win in w.g:
        board.feed_samples(win)
        board.run_until_idle()
        got += _preds(board.read_lines())
    assert [(p.cls, p.score) for p in got] == [(int(r.argmax()), int(r.max()) + 128) for r in ref]
    assert board.i2c1.protocol_errors == 0


def test_odr_pacing_cpu_load_and_latency(trained_mlp: ModelPaths, mlp_elf: Path) -> None:
    w = pipeline.device_windows(trained_mlp, 1, seed=3)
    board = Board(mlp_elf)
    board.run_until_idle()
    t0 = board.cycles
    board.feed_samples(w.g[0])
    board.run_until_idle()
    (pred,) = _preds(board.read_lines())
    times = np.array(board.sensor_sample_cycles)
    assert len(times) == 128 and np.all(np.diff(times) == HZ // 100)  # 100 Hz ODR in virtual time
    assert times[0] - t0 <= HZ // 100
    latency = board.uart_line_cycles[-1] - times[-1]
    assert pred.cycles < latency < 100_000  # features + inference + printing, well under one period
    load = board.instructions / board.cycles
    assert 0 < load < 0.01  # the core sleeps in WFI between samples


def test_sensor_timeout_and_recovery(trained_mlp: ModelPaths, mlp_elf: Path) -> None:
    w = pipeline.device_windows(trained_mlp, 1, seed=4)
    ref = TflmOracle(trained_mlp.tflite.read_bytes()).invoke(pipeline.model_inputs(trained_mlp, w.raw))
    board = Board(mlp_elf)
    board.run_until_idle()
    board.read_lines()
    board.feed_samples(w.g[0][:50])  # part of a window (3 FIFO batches of 16 and 2 more), then the data stops
    board.run_until_idle()
    board.run_for(0.15)  # the timeout is 5 + 16 sample periods (210 ms) after the last batch: not yet
    assert board.read_lines() == []
    board.run_for(0.1)
    errs = [protocol.parse_err(ln) for ln in board.read_lines()]
    assert [e["code"] for e in errs] == ["sensor_timeout"] and int(errs[0]["ms"]) == 210
    board.run_for(0.5)
    assert board.read_lines() == []  # reported once per outage
    board.feed_samples(w.g[0])  # data returns: the partial window was dropped, a whole one classifies
    board.run_until_idle()
    (pred,) = _preds(board.read_lines())
    assert (pred.cls, pred.score) == (int(ref[0].argmax()), int(ref[0].max()) + 128)


def test_out_of_range_samples_are_clipped_and_counted(mlp_elf: Path) -> None:
    for sensor in ("lis3dsh", "lis2dw12"):
        board = Board(mlp_elf, sensor=sensor)
        board.run_until_idle()
        g = np.zeros((128, 3))
        g[::2, 0] = 12.0  # beyond +-8 g
        board.feed_samples(g)
        board.run_until_idle()
        assert board.sensor_clipped == 64, sensor
        assert len(_preds(board.read_lines())) == 1


def test_lis2dw12_deterministic(trained_mlp: ModelPaths, mlp_elf: Path) -> None:
    w = pipeline.device_windows(trained_mlp, 1, seed=8)

    def run() -> tuple[list[str], int, int]:
        b = Board(mlp_elf, sensor="lis2dw12")
        b.run_until_idle()
        b.feed_samples(w.g[0])
        b.uart_write("INFER 000102030405\nINFO\n")
        b.run_until_idle()
        b.run_for(0.1)
        return b.uart_lines, b.instructions, b.cycles

    first = run()
    assert first == run()
    assert any(ln.startswith("OUT ") for ln in first[0]) and any(ln.startswith("PRED ") for ln in first[0])
