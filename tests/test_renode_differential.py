"""The embedded board against real Renode 1.15.3: the same ELF and the same input give the same UART lines,
LEDs and cycle counts. Each difference found between the two has a check here (see README, Renode):

- I2C: 1.15.3's STM32F4_I2C never ended a transaction, so sensor register writes landed on WHO_AM_I
  (TinymlSTM32F4_I2C.cs): the LIS2DW12 path must boot, classify and leave no "Unhandled write" in the log.
- SYSCFG missing in 1.15.3 ("non existing peripheral" at 0x40013808): TinymlSTM32F4_SYSCFG.cs.
- DWT: CYCCNT moved once per quantum (cycles=0): TinymlDWT.cs + MaximumBlockSize 1; cyccnt.S counts exactly.
- LIS2DW12 data-ready is a level on Renode: the firmware reads the FIFO; one RESD file gives identical PREDs.
- LIS2DW12 quantization: round toward zero from whole micro-g on both boards (identical PRED scores).
- Interrupts inside a timed inference land at different points: the firmware holds them off (identical cycles).

Needs Renode (RENODE=..., `renode` on PATH, or scripts/test.sh with TINYML_RENODE_PACKAGE); skips otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tinyml_disco.app import pipeline
from tinyml_disco.app.tflm_oracle import TflmOracle
from tinyml_disco.sim import protocol, resd
from tinyml_disco.sim.board import Board
from tinyml_disco.sim.session import BackendUnavailable, DeviceSession, EmbeddedBackend
from tinyml_disco.training.artifacts import ModelPaths

try:
    from tinyml_disco.sim.renode.process import find_renode

    find_renode()
    RENODE_REASON = ""
except BackendUnavailable as exc:
    RENODE_REASON = str(exc)

pytestmark = pytest.mark.skipif(bool(RENODE_REASON), reason=f"no Renode: {RENODE_REASON}")

FIXTURES = Path(__file__).parent / "fixtures" / "board"


@pytest.fixture(scope="module")
def renode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from tinyml_disco.sim.renode.backend import RenodeConnection

    conn = RenodeConnection(tmp_path_factory.mktemp("renode-log"))
    try:
        yield conn
    finally:
        conn.stop()


def _log_problems(log: Path) -> list[str]:
    assert log.exists() and log.stat().st_size > 0, f"Renode wrote no log to {log}: the check would see nothing"
    text = log.read_text(errors="replace")
    # The log holds Renode's warnings (1.15.3's NVIC always reports the firmware's DEMCR write), so a warning
    # about a missing peripheral or an unhandled register would be here too.
    assert "WARNING" in text and "nvic" in text, f"{log} holds no warnings at all: is it Renode's log?"
    bad = ("non existing peripheral", "lis2dw12: Unhandled", "lis3dsh: Unhandled", "i2c1_master", "syscfg")
    return [ln for ln in text.splitlines() if "WARNING" in ln and any(b in ln for b in bad)]


def _embedded_lines(elf: Path, sensor: str, samples_g: np.ndarray) -> tuple[list[str], dict[str, bool]]:
    board = Board(str(elf), sensor=sensor)
    board.run_until_idle()
    board.feed_samples(samples_g)
    board.run_until_idle()
    return board.read_lines(), dict(board.leds)


@pytest.mark.parametrize("sensor", ["lis2dw12", "lis3dsh"])
def test_windows_give_identical_pred_lines_and_leds(renode: object, trained_mlp: ModelPaths, mlp_elf: Path,
                                                    sensor: str, tmp_path: Path) -> None:
    w = pipeline.device_windows(trained_mlp, 2, pipeline.DEVICE_SEED)
    emb = DeviceSession(EmbeddedBackend(mlp_elf, sensor=sensor))
    emb.start()
    ren = DeviceSession(renode.board(mlp_elf, sensor=sensor))  # type: ignore[attr-defined]
    ren.start()
    classes = set()
    for win in w.g:
        (a,) = emb.classify(win[None])
        (b,) = ren.classify(win[None])
        assert (b.seq, b.cls, b.score, b.cycles) == (a.seq, a.cls, a.score, a.cycles), (a, b)
        assert ren.backend.leds() == emb.backend.leds()
        classes.add(a.cls)
    assert emb.boot == protocol.parse_boot(ren.lines[0])
    assert len(classes) >= 2, "the windows should not all give one class: the comparison would say little"


def test_one_resd_file_gives_the_same_transcript(renode: object, trained_mlp: ModelPaths, mlp_elf: Path,
                                                 tmp_path: Path) -> None:
    """The RESD file fed by Renode itself (MultiFrequency: it follows the ODR the firmware sets, through the
    sensor FIFO) and by the embedded board: BOOT and PRED lines equal, cycles included, and the LEDs."""
    w = pipeline.device_windows(trained_mlp, 1, pipeline.DEVICE_SEED)
    path = tmp_path / "windows.resd"
    resd.write_acceleration(path, w.g.reshape(-1, 3), 100.0)
    samples, rate = resd.read_acceleration(path)
    assert rate == 100.0
    lines, leds = _embedded_lines(mlp_elf, "lis2dw12", samples)
    want = [ln for ln in lines if ln.startswith(("BOOT ", "PRED "))]
    assert len(want) == 1 + len(w.g)

    backend = renode.board(mlp_elf, sensor="lis2dw12")  # type: ignore[attr-defined]
    backend.begin()
    backend.client.execute_command(
        f"sysbus.i2c1_master.lis2dw12 FeedAccelerationSamplesFromRESD @{path} 0 0 Specified 0 MultiFrequency")
    got: list[str] = []
    while len([ln for ln in got if ln.startswith("PRED ")]) < len(w.g):
        line = backend.client.next_line(10.0)
        assert line is not None, f"Renode stopped printing; so far {got}"
        got.append(line.line)
    assert [ln for ln in got if ln.startswith(("BOOT ", "PRED "))] == want
    assert backend.leds() == leds


def test_infer_gives_identical_output_and_cycles(renode: object, trained_mlp: ModelPaths, mlp_elf: Path) -> None:
    oracle = TflmOracle(trained_mlp.tflite.read_bytes())
    x = np.random.default_rng(5).integers(-128, 128, size=(30, int(np.prod(oracle.input_shape)))).astype(np.int8)
    ref = oracle.invoke(x)
    emb = DeviceSession(EmbeddedBackend(mlp_elf, sensor="lis2dw12"))
    emb.start()
    ren = DeviceSession(renode.board(mlp_elf, sensor="lis2dw12"))  # type: ignore[attr-defined]
    ren.start()
    for i in range(len(x)):
        a, b = emb.infer(x[i]), ren.infer(x[i])
        assert np.array_equal(np.frombuffer(b.output, np.int8), ref[i])
        assert (b.output, b.cycles) == (a.output, a.cycles)
        assert b.cycles > 0


def test_dwt_counts_instructions_exactly_on_renode(renode: object, tmp_path: Path) -> None:
    """tests/fixtures/board/cyccnt.S on Renode: the same exact differences as on the embedded board."""
    sys.path.insert(0, str(Path(__file__).parent))
    from test_board_firmware_build import build_firmware

    elf = build_firmware(tmp_path, "cyccnt", ["cyccnt.S"])
    backend = renode.board(elf, sensor="none")  # type: ignore[attr-defined]
    backend.begin()
    client = backend.client
    client.execute_command('emulation RunFor "0.001"')
    client.execute_command("sysbus.usart2 WriteChar 0x41")
    client.execute_command('emulation RunFor "0.001"')
    base = 0x2000_0000
    words = [int(client.execute_command(f"sysbus ReadDoubleWord {base + 4 * i:#x}").strip(), 16) for i in range(6)]
    assert words[0] == 0 and words[1] == 6 and words[2] == 9 and words[5] == 301
    assert words[3] == 4 * words[4] + 3 and words[4] > 0


def test_renode_log_shows_no_missing_peripheral_or_unhandled_sensor_write(trained_mlp: ModelPaths, mlp_elf: Path,
                                                                          tmp_path: Path) -> None:
    """Every board variant boots and classifies on a Renode of its own whose log goes to a file, read once Renode
    has stopped (it writes the file when it ends)."""
    from tinyml_disco.sim.renode.backend import RenodeConnection

    w = pipeline.device_windows(trained_mlp, 1, pipeline.DEVICE_SEED)
    log = tmp_path / "renode.log"
    conn = RenodeConnection(tmp_path)
    try:
        conn.process.client.execute_command(f"logFile @{log}")
        for sensor in ("lis2dw12", "lis3dsh", "none"):
            session = DeviceSession(conn.board(mlp_elf, sensor=sensor))
            assert session.start().sensor == {"lis2dw12": "LIS2DW12", "lis3dsh": "LIS3DSH", "none": "none"}[sensor]
            if sensor != "none":
                assert len(session.classify(w.g[:2])) == 2
            session.infer(np.zeros(6, np.int8))
    finally:
        conn.stop()
    assert _log_problems(log) == []


def test_a_renode_that_dies_mid_run_is_reported_with_its_log(mlp_elf: Path, tmp_path: Path) -> None:
    import os
    import signal

    from tinyml_disco.sim.renode.backend import RenodeConnection

    conn = RenodeConnection(tmp_path)
    try:
        session = DeviceSession(conn.board(mlp_elf, sensor="none"))
        session.start()
        os.kill(conn.process.proc.pid, signal.SIGKILL)
        with pytest.raises(BackendUnavailable, match=r"(?s)no answer to .*exited with code -9; last lines of its log"):
            session.infer(np.zeros(6, np.int8))
    finally:
        conn.stop()
    assert conn.process.proc.poll() is not None
