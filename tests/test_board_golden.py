"""Golden regression for the embedded board: a fixed firmware and a fixed scenario must give exactly the
UART lines, line times, instruction counts and virtual cycles recorded before the board was optimised.

The firmware is a pinned, debug-stripped build of the project firmware with a small MLP
(tests/fixtures/board_golden/mlp_firmware.elf), so edits to firmware/ or the compiler version do not move
the numbers; only a change in the board's behaviour does. The scenario covers boot, windows through the
sensor at its ODR (EXTI0 data-ready ISR, WFI with time skipping, SysTick), INFER commands on the USART2 RX
interrupt (also mid-window), a malformed command, clipped samples, a sensor timeout and its recovery,
`run` with an instruction limit, `wait_for_line`, and the LIS2DW12-on-I2C1 and no-sensor paths.

Regenerate (only when a behaviour change is intended, and say so):
    .venv/bin/python -m tests.test_board_golden --update
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from tinyml_disco.sim.board import Board
from tinyml_disco.sim.errors import LineNotSeen
from tinyml_disco.sim.protocol import infer_command

HERE = Path(__file__).parent / "fixtures" / "board_golden"
ELF = HERE / "mlp_firmware.elf"
GOLDEN = HERE / "golden.json"
WINDOW = 128
INPUT_SIZE = 6  # the pinned model's input tensor (mean_std features)


def _window(seed: int, scale_g: float = 1.0) -> np.ndarray:
    """A deterministic (WINDOW, 3) window in g from integer arithmetic (no libm, no RNG version drift)."""
    s = seed & 0xFFFF_FFFF
    out = np.empty((WINDOW, 3), dtype=np.float64)
    for i in range(WINDOW):
        for axis in range(3):
            s = (s * 1103515245 + 12345) & 0xFFFF_FFFF
            out[i, axis] = ((s >> 16) % 4001 - 2000) / 2000.0 * scale_g + (1.0 if axis == 2 else 0.0)
    return out


def _tensor(seed: int) -> bytes:
    return bytes(((seed * 37 + 11 * i) & 0xFF) for i in range(INPUT_SIZE))


class _Recorder:
    def __init__(self, board: Board) -> None:
        self.board = board
        self.steps: list[dict[str, object]] = []
        self._seen = 0

    def step(self, name: str) -> None:
        b = self.board
        lines = b.uart_lines[self._seen :]
        times = b.uart_line_cycles[self._seen :]
        self._seen = len(b.uart_lines)
        self.steps.append({
            "step": name,
            "instructions": b.instructions,
            "cycles": b.cycles,
            "slept": b.slept_cycles,
            "pc": b.pc,
            "lines": lines,
            "line_cycles": times,
        })

    def result(self) -> dict[str, object]:
        samples = self.board.sensor_sample_cycles
        digest = hashlib.sha256(json.dumps(samples).encode()).hexdigest()
        return {"steps": self.steps, "samples": len(samples), "sample_cycles_sha256": digest,
                "overruns": self.board.sensor_overruns, "clipped": self.board.sensor_clipped}


def scenario_lis3dsh() -> dict[str, object]:
    b = Board(ELF, sensor="lis3dsh")
    r = _Recorder(b)
    b.run_until_idle()
    r.step("boot")
    for k in range(3):
        b.feed_samples(_window(100 + k, scale_g=0.5 + k))
        b.run_until_idle()
        r.step(f"window{k}")
    b.feed_samples(_window(7, scale_g=12.0))  # beyond +-8 g: clipped
    b.run_until_idle()
    r.step("clipped_window")
    for k in range(2):
        b.uart_write(infer_command(_tensor(k)))
        b.run_until_idle()
        r.step(f"infer{k}")
    b.uart_write("INFER 00zz\nNOPE\n")
    b.run_until_idle()
    r.step("bad_commands")
    b.run_for(0.3)
    r.step("timeout")
    b.feed_samples(_window(200))
    b.run_until_idle()
    r.step("recovered")
    half = _window(300)
    b.feed_samples(half[: WINDOW // 2])
    b.run_for(0.2)
    b.uart_write(infer_command(_tensor(9)))
    b.feed_samples(half[WINDOW // 2 :])
    b.run_until_idle()
    r.step("infer_mid_window")
    b.feed_samples(_window(400))
    b.run(20_000)
    r.step("run_limit")
    b.read_lines()
    b.wait_for_line(r"^PRED ")
    r.step("wait_for_line")
    b.run_until_idle()
    r.step("drain")
    with pytest.raises(LineNotSeen):
        b.wait_for_line(r"^NEVER", max_seconds=0.12)
    r.step("line_not_seen")
    return r.result()


def scenario_lis2dw12() -> dict[str, object]:
    b = Board(ELF, sensor="lis2dw12")
    r = _Recorder(b)
    b.run_until_idle()
    r.step("boot")
    for k in range(2):
        b.feed_samples(_window(500 + k, scale_g=0.7 + k))
        b.run_until_idle()
        r.step(f"window{k}")
    b.uart_write(infer_command(_tensor(3)))
    b.run_until_idle()
    r.step("infer")
    b.run_for(0.3)
    r.step("timeout")
    b.feed_samples(_window(600))
    b.run_until_idle()
    r.step("recovered")
    return r.result()


def scenario_none() -> dict[str, object]:
    b = Board(ELF, sensor="none")
    r = _Recorder(b)
    b.run_until_idle()
    r.step("boot")
    b.uart_write(infer_command(_tensor(5)))
    b.run_until_idle()
    r.step("infer")
    b.run_for(0.05)
    r.step("sleep")
    return r.result()


SCENARIOS = {"lis3dsh": scenario_lis3dsh, "lis2dw12": scenario_lis2dw12, "none": scenario_none}


def record() -> dict[str, object]:
    return {name: run() for name, run in SCENARIOS.items()}


@pytest.fixture(scope="module")
def golden() -> dict[str, object]:
    return json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_board_matches_golden(name: str, golden: dict[str, object]) -> None:
    got = SCENARIOS[name]()
    want = golden[name]
    assert isinstance(want, dict)
    for got_step, want_step in zip(got["steps"], want["steps"], strict=True):  # type: ignore[call-overload]
        assert got_step == want_step, f"{name}: step {want_step['step']} differs"
    assert got == want


def test_golden_scenario_exercises_the_paths(golden: dict[str, object]) -> None:
    """The recorded scenario really contains what it claims to cover (guards a bad regeneration)."""
    lines = {name: [ln for s in golden[name]["steps"] for ln in s["lines"]] for name in SCENARIOS}  # type: ignore[index]
    assert sum(ln.startswith("PRED ") for ln in lines["lis3dsh"]) == 7
    assert any("code=sensor_timeout" in ln for ln in lines["lis3dsh"])
    assert sum(ln.startswith("OUT ") for ln in lines["lis3dsh"]) == 3
    assert any(ln.startswith("ERR ") and "timeout" not in ln for ln in lines["lis3dsh"])
    assert golden["lis3dsh"]["clipped"] > 0  # type: ignore[index]
    assert any("sensor=LIS2DW12" in ln for ln in lines["lis2dw12"])
    assert sum(ln.startswith("PRED ") for ln in lines["lis2dw12"]) == 3
    assert any("code=sensor_timeout" in ln for ln in lines["lis2dw12"])
    assert any("no_sensor" in ln for ln in lines["none"])
    assert all(s["slept"] > 0 for s in golden["lis3dsh"]["steps"][1:])  # type: ignore[index]


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python -m tests.test_board_golden --update  (rewrites the golden file)")
    GOLDEN.write_text(json.dumps(record(), indent=1) + "\n")
    print(f"wrote {GOLDEN}")
