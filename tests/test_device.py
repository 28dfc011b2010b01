"""The real firmware.elf on the embedded board: protocol, bit-exactness on the M4 DSP path, determinism."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests import informative
from tinyml_disco.app import pipeline
from tinyml_disco.app.tflm_oracle import TflmOracle
from tinyml_disco.compiler import tflite_reader as tflite_model
from tinyml_disco.sim import protocol
from tinyml_disco.sim.board import Board
from tinyml_disco.sim.periph import rcc
from tinyml_disco.sim.session import embedded_session
from tinyml_disco.training.artifacts import ModelPaths


def test_boot_line(mlp_elf: Path) -> None:
    boot = embedded_session(mlp_elf).start()
    assert (boot.model, boot.sensor, boot.bus, boot.clock_hz) == ("mlp", "LIS3DSH", "spi1", 168_000_000)


@pytest.mark.parametrize("fault", ["pll_switch", "hse"])
def test_clock_fallback_with_hsi_never_ready(trained_mlp: ModelPaths, mlp_elf: Path, fault: str) -> None:
    """Clock bring-up fault injection: the switch to the PLL never reports done (CFGR.SWS) or the HSE never comes
    ready, and the HSI's ready flag never comes either. The fallback (system_stm32f4.c to_hsi) still undoes what
    to_pll did (the HSIRDY wait times out and goes on: CFGR = 0, PLL and HSE off), the BOOT line says 16 MHz, the
    fallback is reported and the firmware keeps serving."""
    s = embedded_session(mlp_elf, sensor="none")
    r = s.backend.board.rcc
    r.hold_low(rcc.CR, 1 << 1)  # HSIRDY
    r.hold_low(*((rcc.CFGR, 0b11 << 2) if fault == "pll_switch" else (rcc.CR, 1 << 17)))  # SWS / HSERDY
    boot = s.start()
    assert boot.clock_hz == 16_000_000
    assert {"code": "clock_fallback", "src": "hsi"} in s.errors
    assert r.stored(rcc.CFGR) == 0  # SW = HSI, AHB/APB1/APB2 /1 (to_pll had set /1, /4, /2 and SW = PLL)
    assert r.stored(rcc.CR) & ((1 << 24) | (1 << 16)) == 0  # PLLON, HSEON off
    x = np.array([1, 2, 3, -4, -5, 127], np.int8)
    ref = TflmOracle(trained_mlp.tflite.read_bytes()).invoke(x[None])[0]
    assert np.array_equal(np.frombuffer(s.infer(x).output, np.int8), ref)


# INFER bit-exactness, PRED lines against TFLM with the LEDs, and pinned cycles: for every built-in model in
# tests/test_builtin_models_device.py.


def test_vector_gap_off_same_behaviour(trained_mlp: ModelPaths, mlp_elf: Path, tmp_path: Path) -> None:
    """firmware/Makefile VECTOR_GAP=0: the clock tables and the LIS3DSH configuration as ordinary .rodata, the vector
    words of IRQs 7..37 zero, USART2's vector still at word 54; 124 B more flash, and the same UART bytes and
    instruction count on both sensor paths as the default build (the tables are the same data elsewhere)."""
    from elftools.elf.elffile import ELFFile

    from tinyml_disco.app.resources import firmware_dir
    from tinyml_disco.sim.footprint import measure_footprint

    out = tmp_path / "fw"
    subprocess.run(["make", "-s", "-C", str(firmware_dir()), f"MODEL_DIR={trained_mlp.root}", f"BUILD_DIR={out}",
                    "VECTOR_GAP=0"], check=True, capture_output=True)
    elf = out / "firmware.elf"
    assert measure_footprint(elf).flash_bytes == measure_footprint(mlp_elf).flash_bytes + 124
    with open(elf, "rb") as f:
        e = ELFFile(f)
        words = np.frombuffer(e.get_section_by_name(".isr_vector").data(), "<u4")
        symtab = e.get_section_by_name(".symtab")
        usart2 = symtab.get_symbol_by_name("USART2_IRQHandler")[0]["st_value"]
        assert symtab.get_symbol_by_name("to_pll")[0]["st_value"] >= 0x08000000 + 4 * len(words)
    assert len(words) == 16 + 39 and not words[16 + 7:16 + 38].any() and words[16 + 38] == usart2 | 1
    w = pipeline.device_windows(trained_mlp, 2, seed=5)

    def run(path: Path, sensor: str) -> tuple[list[str], int]:
        s = embedded_session(path, sensor=sensor)
        s.start()
        s.classify(w.g)
        s.infer(np.arange(6, dtype=np.int8))
        return s.lines, s.backend.instructions

    for sensor in ("lis3dsh", "lis2dw12"):
        assert run(elf, sensor) == run(mlp_elf, sensor)


def test_same_inputs_same_output_and_instruction_count(trained_mlp: ModelPaths, mlp_elf: Path) -> None:
    w = pipeline.device_windows(trained_mlp, 2, seed=5)

    def run() -> tuple[list[str], int]:
        s = embedded_session(mlp_elf)
        s.start()
        s.classify(w.g)
        s.infer(np.arange(6, dtype=np.int8))
        return s.lines, s.backend.instructions

    assert run() == run()


def test_no_sensor_reports_and_keeps_serving(trained_mlp: ModelPaths, mlp_elf: Path) -> None:
    s = embedded_session(mlp_elf, sensor="none")
    boot = s.start()
    assert (boot.sensor, boot.bus) == ("none", "-")
    assert any(e["code"] == "no_sensor" for e in s.errors)
    x = np.array([1, 2, 3, -4, -5, 127], np.int8)
    ref = TflmOracle(trained_mlp.tflite.read_bytes()).invoke(x[None])[0]
    assert np.array_equal(np.frombuffer(s.infer(x).output, np.int8), ref)


def test_bad_commands_answer_with_err(mlp_elf: Path) -> None:
    s = embedded_session(mlp_elf)
    s.start()
    for cmd, code in (("HELLO", "bad_command"), ("INFER 01", "bad_length"), ("INFER zz0102030405", "bad_hex"),
                      ("X" * 300, "line_too_long")):
        s.backend.write((cmd + "\n").encode())
        new = s._pump()
        assert new and protocol.parse_err(new[0])["code"] == code, (cmd, new)
    assert s.infer(np.zeros(6, np.int8)).cycles > 0  # still serving


@pytest.mark.parametrize(("exc", "line"), [
    (14, r"ERR code=unexpected_irq exc=14"),  # PendSV: nobody claims it
    (2, r"ERR code=nmi pc=0x080[0-9a-f]{5}"),  # a fault: its name and the stacked PC, in flash
])
def test_unclaimed_exceptions_report(mlp_elf: Path, exc: int, line: str) -> None:
    """Faults and unclaimed interrupts share one handler (startup_stm32f407.c), which tells them apart by IPSR."""
    board = Board(mlp_elf, sensor="none")
    board.wait_for_line(r"ERR code=no_sensor")
    board.nvic.pend(exc)
    assert re.fullmatch(line, board.wait_for_line(r"ERR code=(unexpected_irq|nmi)\b.*")), board.uart_lines[-3:]


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc missing")
def test_odd_sized_random_model_bit_exact_on_dsp_path(tmp_path: Path) -> None:
    """Odd row counts and in_features not a multiple of 4 exercise every branch of the SMLAD kernel:
    raw window (384) -> Dense(7) -> Dense(3). The last layer is linear: with softmax, 384 random weights per
    row saturate it (7 distinct reference rows out of 100)."""
    from tests.test_kernels_device import boot_model, compile_raw_window
    from tests.test_kernels_tflm import _random_mlp_tflite

    tfl = _random_mlp_tflite(seed=77, n_in=(128, 3), hidden=7, n_out=3, act="relu", head="linear")
    s = boot_model(compile_raw_window(tfl, tmp_path / "odd"))
    g = tflite_model.parse(tfl)
    x = informative.spread(int(g.tensors[g.inputs[0]].zero_point[0]), 100, 384, seed=8)
    ref = TflmOracle(tfl).invoke(x)
    informative.assert_informative(ref, 60, 3, "odd-sized model on the device")
    got = np.stack([np.frombuffer(s.infer(row).output, np.int8) for row in x])
    assert np.array_equal(got, ref)


def test_stack_high_water_fits_the_reserve(trained_mlp: ModelPaths, mlp_elf: Path) -> None:
    from tinyml_disco.sim import footprint

    s = embedded_session(mlp_elf)
    s.start()
    s.classify(pipeline.device_windows(trained_mlp, 1).g)
    used = footprint.stack_high_water(mlp_elf, s.backend.board.read_memory)
    reserve = footprint.measure_footprint(mlp_elf).stack_bytes
    assert used is not None and 32 < used < reserve
