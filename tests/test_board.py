"""The Unicorn board model running tiny firmwares built from tests/fixtures/board at test time."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from tinyml_disco.sim.board import Board
from tinyml_disco.sim.errors import ElfFormatError, FirmwareFault, InstructionBudgetExceeded, LineNotSeen

try:
    from tests.test_board_firmware_build import build_firmware
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from test_board_firmware_build import build_firmware  # type: ignore[no-redef]


@pytest.fixture(scope="module")
def fw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("board_fw")


@pytest.fixture(scope="module")
def demo_elf(fw_dir: Path) -> Path:
    return build_firmware(fw_dir, "demo", ["startup.c", "demo.c"])


@pytest.fixture(scope="module")
def cyccnt_elf(fw_dir: Path) -> Path:
    return build_firmware(fw_dir, "cyccnt", ["cyccnt.S"])


def fault_elf(fw_dir: Path, kind: int) -> Path:
    return build_firmware(fw_dir, f"fault{kind}", ["startup.c", "faults.c"], (f"FAULT={kind}",))


# -- instruction counting / DWT ----------------------------------------------------------------------------
def test_cyccnt_differences_are_exact_across_blocks_and_stops(cyccnt_elf: Path) -> None:
    board = Board(cyccnt_elf, sensor="none")
    board.run_until_idle()  # stops (emu_stop) while the firmware spins between two CYCCNT reads
    assert board.symbol_at(board.pc).startswith("wait_rx")
    spun_before = board.instructions
    board.run_until_idle()  # nothing queued: still idle, and the count stays exact across the stop
    board.uart_write(b"x")
    with pytest.raises(FirmwareFault, match=r"invalid instruction at pc=0x[0-9a-f]{8} \(in the_end\+0x8\)"):
        board.run_until_idle()
    results = struct.unpack("<7I", board.read_memory(board.symbol_address("results"), 28))
    assert results[0] == 0  # read right after enabling CYCCNT
    assert results[1] == 6  # ldr + 5 nops, same block
    assert results[2] == 9  # across a b.w, with 32-bit instructions and an IT block
    assert results[4] >= 2 and results[3] == 4 * results[4] + 3  # the RX poll loop, stopped in between
    assert results[5] == 301  # 300 nops
    # 6 instructions before counting starts; the faulting udf does not retire.
    assert board.instructions == 6 + results[6] + 4
    assert board.instructions > spun_before


def test_run_stops_at_or_before_the_requested_count(cyccnt_elf: Path) -> None:
    """run(n) stops at the last block boundary at or before n more instructions: exact counts on cyccnt.S, whose
    first translated block has 23 instructions and whose RX poll loop (wait_rx) is a block of 4."""
    board = Board(cyccnt_elf, sensor="none")
    steps = []
    for n in (5, 20, 24, 25, 3, 4):
        board.run(n)
        steps.append((n, board.instructions, board.symbol_at(board.pc)))
    assert steps == [
        (5, 0, "Reset_Handler"),  # the 23-instruction first block does not fit: nothing retires
        (20, 0, "Reset_Handler"),  # 20 < 23 still
        (24, 23, "Reset_Handler+0x34"),  # the first block, stopped before the next one (limit 24)
        (25, 48, "wait_rx"),  # limit 48: the blocks up to the loop, then whole 4-instruction loop blocks
        (3, 48, "wait_rx"),  # a loop block does not fit into 3
        (4, 52, "wait_rx"),  # it fits into 4
    ]


# -- faults ------------------------------------------------------------------------------------------------
def test_unmapped_write_names_the_function(fw_dir: Path) -> None:
    board = Board(fault_elf(fw_dir, 1), sensor="none")
    with pytest.raises(
        FirmwareFault,
        match=r"write to unmapped address 0x30000000 at pc=0x0800[0-9a-f]{4} "
        r"\(in touch_unmapped\+0x[0-9a-f]+\); lr=.*\(in main\+",
    ):
        board.run_until_idle()
    assert board.read_lines() == ["START"]


def test_undefined_instruction_names_the_function(fw_dir: Path) -> None:
    board = Board(fault_elf(fw_dir, 2), sensor="none")
    with pytest.raises(
        FirmwareFault, match=r"invalid instruction at pc=0x[0-9a-f]{8} \(in do_undefined\+0x2\)"
    ):
        board.run_until_idle()


def test_endless_loop_exceeds_the_budget(fw_dir: Path) -> None:
    board = Board(fault_elf(fw_dir, 3), sensor="none", instruction_budget=100_000)
    with pytest.raises(InstructionBudgetExceeded, match=r"budget of 100000 .*\(in spin_forever"):
        board.run_until_idle()
    assert board.instructions <= 100_000


def test_endless_loop_exceeds_a_call_limit(fw_dir: Path) -> None:
    board = Board(fault_elf(fw_dir, 3), sensor="none")
    with pytest.raises(InstructionBudgetExceeded, match=r"did not become idle within 5000 .*spin_forever"):
        board.run_until_idle(max_instructions=5000)


def test_fpu_use_without_cpacr_faults(fw_dir: Path) -> None:
    board = Board(fault_elf(fw_dir, 4), sensor="none")
    with pytest.raises(FirmwareFault, match=r"CPACR .* \(in use_fpu\)"):
        board.run_until_idle()


def test_not_an_arm_elf(tmp_path: Path) -> None:
    bogus = tmp_path / "x.elf"
    bogus.write_bytes(b"not an elf at all")
    with pytest.raises(ElfFormatError, match="not an ELF"):
        Board(bogus)


# -- UART --------------------------------------------------------------------------------------------------
def test_uart_echo(demo_elf: Path) -> None:
    board = Board(demo_elf, sensor="none")
    board.run_until_idle()
    assert board.read_lines() == ["BOOT who=ff"]  # nothing on SPI1: MISO reads 0xFF
    board.uart_write(b"ECHO hello world\n")
    board.run_until_idle()
    assert board.read_lines() == ["ECHO hello world"]
    assert board.read_lines() == []


def test_wait_for_line(demo_elf: Path) -> None:
    board = Board(demo_elf, sensor="none")
    assert board.wait_for_line(r"^BOOT who=(\w+)") == "BOOT who=ff"
    board.uart_write("ECHO one\nECHO two\n")
    assert board.wait_for_line("two") == "ECHO two"
    assert board.read_lines() == []  # lines up to the match are consumed


def test_wait_for_line_reports_last_lines(demo_elf: Path) -> None:
    board = Board(demo_elf, sensor="none")
    with pytest.raises(LineNotSeen, match=r"(?s)no UART line matching 'PRED'.*BOOT who=ff") as info:
        board.wait_for_line("PRED", max_instructions=200_000)
    assert info.value.last_lines == ["BOOT who=ff"]


# -- SPI / LIS3DSH / LEDs ----------------------------------------------------------------------------------
def test_spi_who_am_i(demo_elf: Path) -> None:
    board = Board(demo_elf)
    board.run_until_idle()
    assert board.read_lines() == ["BOOT who=3f"]


def _xyz(line: str) -> tuple[int, ...]:
    parts = line.split()
    assert parts[0] == "XYZ"
    return tuple(int.from_bytes(bytes.fromhex(p), "big", signed=True) for p in parts[1:])


def test_samples_are_converted_with_the_current_full_scale(demo_elf: Path) -> None:
    board = Board(demo_elf)
    board.run_until_idle()
    board.read_lines()
    board.feed_samples(np.array([[0.0, 0.5, -1.0], [2.5, 0.0, 0.0]]))
    board.run_until_idle()
    lines = board.read_lines()
    assert [_xyz(x) for x in lines] == [(0, 8333, -16667), (32767, 0, 0)]  # +-2 g: 0.06 mg/LSB, clipped
    assert board.sensor_clipped == 1
    assert board.sensor_queued == 0
    board.uart_write(b"FS 4\n")  # +-16 g: 0.73 mg/LSB
    board.run_until_idle()
    assert board.read_lines() == ["OK"]
    board.feed_samples(np.array([[2.5, -1.0, 1.0]]))
    board.run_until_idle()
    assert [_xyz(x) for x in board.read_lines()] == [(3425, -1370, 1370)]
    assert board.sensor_clipped == 1


def test_leds(demo_elf: Path) -> None:
    board = Board(demo_elf, sensor="none")
    board.run_until_idle()
    assert board.predicted_led_class is None
    board.uart_write(b"LED 2\n")
    board.run_until_idle()
    assert board.leds == {"green": False, "orange": False, "red": True, "blue": False}
    assert board.predicted_led_class == 2
    board.uart_write(b"LED 3\n")
    board.run_until_idle()
    assert board.predicted_led_class == 3


def test_feeding_a_board_without_sensor_is_an_error(demo_elf: Path) -> None:
    board = Board(demo_elf, sensor="none")
    with pytest.raises(ValueError, match="no sensor"):
        board.feed_samples(np.zeros((1, 3)))


def test_deterministic(demo_elf: Path) -> None:
    def session() -> tuple[list[str], list[int]]:
        board = Board(demo_elf)
        counts = [board.run_until_idle()]
        board.feed_samples(np.linspace(-3, 3, 30).reshape(10, 3))
        board.uart_write(b"ECHO x\nLED 1\n")
        counts.append(board.run_until_idle())
        counts.append(board.instructions)
        return board.uart_lines, counts

    first, second = session(), session()
    assert first == second
    assert len(first[0]) == 1 + 10 + 2
