"""Compute-bound run of the exact counter: the project's int8 fully connected kernel in a loop.

Both counters must give the same instruction count and UART output. Speed is not asserted (no wall-clock checks in
tests: the machine is shared); `pytest -s tests/test_counter_speed.py` prints the measured MIPS of both.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tinyml_disco.sim.board import Board

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "board"
NN = ROOT / "firmware" / "nn"
ROUNDS = 400

# 128 -> 64 fully connected layer (the M4 SMLAD path), ROUNDS times, then a checksum on USART2.
COMPUTE_C = r"""
#include "hw.h"
#include "tdnn.h"
#define IN 128
#define OUT 64
static int8_t w[OUT * IN], x[IN], y[OUT];
static int32_t bias[OUT], mult[OUT], shift[OUT];

int main(void)
{
    uart_init();
    uint32_t s = 12345u;
    for (int i = 0; i < OUT * IN; i++) {
        s = s * 1103515245u + 12345u;
        w[i] = (int8_t)(s >> 24);
    }
    for (int o = 0; o < OUT; o++) {
        bias[o] = (int32_t)(o * 97) - 3000;
        mult[o] = 1 << 30;
        shift[o] = -8;
    }
    uint32_t sum = 0;
    for (int r = 0; r < ROUNDS; r++) {
        x[r % IN] = (int8_t)(x[r % IN] + r);
        tdnn_fully_connected_s8(x, w, bias, mult, shift, IN, OUT, -5, -128, 127, y);
        for (int o = 0; o < OUT; o++) {
            sum = sum * 31u + (uint8_t)y[o];
        }
    }
    uart_puts("SUM ");
    uart_puthex(sum, 8);
    uart_putc('\n');
    for (;;) {
        (void)uart_getc();
    }
}
"""


@pytest.fixture(scope="module")
def compute_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        pytest.skip("arm-none-eabi-gcc missing: run scripts/bootstrap.sh")
    out = tmp_path_factory.mktemp("compute_fw")
    src = out / "compute.c"
    src.write_text(COMPUTE_C)
    elf = out / "compute.elf"
    cmd = [
        gcc, "-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=softfp", "-O2",
        "-fno-tree-loop-distribute-patterns", "-nostdlib", "-nostartfiles", "-Wl,--gc-sections",
        "-Wall", "-Werror", f"-DROUNDS={ROUNDS}", f"-T{FIXTURES / 'link.ld'}", f"-I{FIXTURES}",
        f"-I{NN / 'include'}", str(FIXTURES / "startup.c"), str(NN / "fully_connected_s8.c"), str(src),
        "-o", str(elf),
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return elf


def _run(elf: Path, backend: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], int, float, str]:
    monkeypatch.setenv("TINYML_COUNTER", backend)
    board = Board(elf, sensor="none", instruction_budget=100_000_000)
    t0 = time.perf_counter()
    board.run_until_idle()
    wall = time.perf_counter() - t0
    return board.uart_lines, board.instructions, wall, type(board._counter).__name__


def test_compute_bound_counts_match(compute_elf: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines_n, count_n, wall_n, cls_n = _run(compute_elf, "native", monkeypatch)
    lines_p, count_p, wall_p, cls_p = _run(compute_elf, "python", monkeypatch)
    assert (cls_n, cls_p) == ("NativeCounter", "PythonCounter")
    # The checksum of 400 layers' outputs depends only on the kernel's arithmetic (not on gcc's code): pinned.
    assert lines_n == ["SUM 7e716d17"]
    assert (lines_n, count_n) == (lines_p, count_p)
    assert count_n > ROUNDS * 2000  # the kernel really ran: ~5k instructions per 128x64 layer
    mips_n, mips_p = count_n / wall_n / 1e6, count_p / wall_p / 1e6
    print(f"\ncompute-bound ({count_n} instructions): native {mips_n:.0f} MIPS, python {mips_p:.1f} MIPS")
