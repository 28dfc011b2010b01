"""The real-board commands rehearsed against Renode 1.15.3 (README "Real board"): what a user does with a Discovery
on the desk, with the board replaced by Renode's STM32F4 Discovery and its USART2 on a pseudo-terminal.

- flash: Renode with an erased flash and its GDB server; `tinyml-disco flash --probe gdb` loads, verifies and starts
  the ELF; the BOOT line then comes on the UART.
- serial backend: `robot --variable BACKEND:serial --variable SERIAL_PORT:<pty> robot_tests/gestures.robot` (the
  INFER-based tests run, the sensor-fed ones skip by design), resync after garbage, reconnect after a reset.
- monitor and record against a board fed from a RESD file.

Skips with the reason when Renode is not installed (RENODE / `renode` on PATH, as every Renode test here).
"""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import default_sigint
from tinyml_disco.sim import protocol, resd, sensor_csv
from tinyml_disco.sim.backend import BackendUnavailable
from tinyml_disco.training.artifacts import ModelPaths

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "tinyml_disco.app.cli"]


@pytest.fixture(scope="module")
def renode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from tinyml_disco.sim.renode.live import LiveRenode
    from tinyml_disco.sim.renode.process import find_renode

    try:
        find_renode()
    except BackendUnavailable as exc:
        pytest.skip(f"Renode not available: {exc}")
    live = LiveRenode(tmp_path_factory.mktemp("renode"))
    yield live
    live.stop()


@pytest.fixture(scope="module")
def resd_file(trained_mlp: ModelPaths, mlp_elf: Path) -> Path:
    from tinyml_disco.app import pipeline

    pipeline.export_device_data(trained_mlp)
    path = trained_mlp.root / "data" / "device_windows.resd"
    assert path.is_file()
    return path


def _serial(port: str):  # noqa: ANN202
    from tinyml_disco.sim.serial_backend import SerialBackend

    return SerialBackend(port, line_timeout_s=10.0)


def _lines_until(link, pattern: str, timeout_s: float = 10.0) -> list[str]:  # noqa: ANN001
    import re

    rx = re.compile(pattern)
    got: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got += link.poll_lines()
        if any(rx.search(line) for line in got):
            return got
    raise AssertionError(f"no line matching {pattern!r} within {timeout_s} s; got {got!r}")


def test_flash_through_renode_gdb_server_boots_the_elf(renode, mlp_elf: Path) -> None:  # noqa: ANN001
    import shutil

    from tinyml_disco.sim.renode.process import free_port

    if shutil.which("gdb-multiarch") is None:
        pytest.skip("gdb-multiarch not installed (scripts/bootstrap.sh --board installs it; scripts/test.sh does "
                    "when Renode is available)")
    port = free_port()
    renode.empty_board(mlp_elf, port, sensor="none")
    assert renode.client.execute_command("sysbus ReadDoubleWord 0x08000004").strip() == "0x00000000"  # erased
    proc = subprocess.run([*CLI, "flash", "--elf", str(mlp_elf), "--probe", "gdb", "--gdb", f"127.0.0.1:{port}",
                           "--timeout", "120"], capture_output=True, text=True, cwd=ROOT, timeout=180, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "written, verified and started through gdb" in proc.stdout
    boot = renode.client.next_line(10.0)
    assert boot is not None, renode.process.log_tail()
    parsed = protocol.parse_boot(boot.line)
    assert parsed.model == "mlp" and parsed.sensor == "none" and parsed.clock_hz == 168_000_000
    second = renode.client.next_line(1.0)
    assert second is not None and second.line == "ERR code=no_sensor"
    # The reset vector now in flash is the ELF's.
    from elftools.elf.elffile import ELFFile

    with open(mlp_elf, "rb") as fh:
        entry = ELFFile(fh).header.e_entry
    assert int(renode.client.execute_command("sysbus ReadDoubleWord 0x08000004").strip(), 16) == entry


def test_robot_gesture_suite_over_the_renode_pty(renode, trained_mlp: ModelPaths, mlp_elf: Path,  # noqa: ANN001
                                                 tmp_path: Path) -> None:
    from robot.api import ExecutionResult

    port = renode.pty_board(mlp_elf, sensor="none")
    proc = subprocess.run([str(Path(sys.executable).with_name("robot")), "--outputdir", str(tmp_path),
                           "--variable", "BACKEND:serial", "--variable", f"SERIAL_PORT:{port}",
                           "--variable", f"BUILD_DIR:{trained_mlp.root.parent}", str(ROOT / "robot_tests" /
                                                                                    "gestures.robot")],
                          capture_output=True, text=True, cwd=ROOT, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    result = ExecutionResult(str(tmp_path / "output.xml"))
    stats = result.statistics.total
    # INFER bit-exact (40 tensors) and bad commands run over the pty; the 4 sensor-fed tests skip by design.
    assert (stats.passed, stats.failed, stats.skipped) == (2, 0, 4), proc.stdout[-3000:]


def test_serial_resyncs_after_garbage_and_reconnects_after_reset(renode, mlp_elf: Path) -> None:  # noqa: ANN001
    port = renode.pty_board(mlp_elf, sensor="none")
    link = _serial(port)
    link.begin()
    _lines_until(link, r"^BOOT ")
    # Line noise: binary bytes, a line that never ends, then one longer than any command.
    link.write(bytes(range(1, 256)).replace(b"\n", b"").replace(b"\r", b"") + b"\n")
    link.write(b"\xff\xfeINFE")
    link.write(b"X" * 700 + b"\n")
    link.write(b"INFO\n")
    got = _lines_until(link, r"^BOOT ")
    assert any(line.startswith("ERR code=line_too_long") for line in got), got
    assert protocol.BOOT_RE.match(next(line for line in got if line.startswith("BOOT "))), got
    link.close()
    # Reconnect: a new open of the same port finds the board serving.
    link = _serial(port)
    link.write(b"INFER 000000000000\n")
    out = protocol.parse_out(next(line for line in _lines_until(link, r"^OUT ") if line.startswith("OUT ")))
    # Reset (the board's reset button): it boots again on its own and the open port keeps working.
    renode.reset_machine()
    _lines_until(link, r"^BOOT ")
    link.write(b"INFER 000000000000\n")
    again = protocol.parse_out(next(line for line in _lines_until(link, r"^OUT ") if line.startswith("OUT ")))
    assert again.output == out.output
    link.close()


def test_monitor_tallies_predictions_from_a_resd_feed(renode, mlp_elf: Path, resd_file: Path) -> None:  # noqa: ANN001
    from tinyml_disco.app.monitor import monitor

    port = renode.pty_board(mlp_elf, sensor="lis2dw12", resd=resd_file)
    link = _serial(port)
    link.write(b"HELLO\n")  # an error line to highlight
    buf = io.StringIO()
    assert monitor(port, max_lines=12, duration_s=120, color=False, out=buf, backend=link) == 0
    text = buf.getvalue()
    preds = [line for line in text.splitlines() if line.startswith("PRED ")]
    assert len(preds) >= 9, text
    assert "!! ERR code=bad_command" in text, text
    summary = text.strip().splitlines()[-1]
    assert summary.startswith(f"[monitor] {len(preds)} PRED ("), summary
    assert "errors: bad_command x1" in summary, summary
    # Each PRED line shows the running tally after it.
    assert preds[-1].split("| ")[1].count("=") >= 1


def test_monitor_command_ends_cleanly_on_ctrl_c(renode, mlp_elf: Path, resd_file: Path) -> None:  # noqa: ANN001
    port = renode.pty_board(mlp_elf, sensor="lis2dw12", resd=resd_file)
    proc = subprocess.Popen([*CLI, "monitor", "--port", port, "--color", "never"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, preexec_fn=default_sigint)
    try:
        time.sleep(6.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out + err
    assert "Traceback" not in err, err
    assert "[monitor]" in out.strip().splitlines()[-1], out


def test_record_reproduces_the_resd_samples_exactly(renode, mlp_elf: Path, resd_file: Path,  # noqa: ANN001
                                                    tmp_path: Path) -> None:
    from tinyml_disco.sim.periph.lis2dw12 import firmware_counts_from_g

    samples_g, rate = resd.read_acceleration(resd_file)
    expected = firmware_counts_from_g(samples_g)
    want = 1500  # 15 s of the 25.6 s file at 100 Hz
    port = renode.pty_board(mlp_elf, sensor="lis2dw12", resd=resd_file)
    proc = subprocess.run([*CLI, "record", "--port", port, "--label", "shake", "--out", str(tmp_path),
                           "--samples", str(want), "--seconds", "300"], capture_output=True, text=True, cwd=ROOT,
                          timeout=400, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{want} samples at 100 Hz, no drops" in proc.stderr, proc.stderr
    (csv_path,) = tmp_path.glob("shake_*.csv")
    rec = sensor_csv.read_csv(csv_path)  # the reader `train --data` uses: no errors, no gaps
    assert rec.samples_g.shape == (want, 3) and set(rec.labels) == {"shake"}
    counts = np.rint(rec.samples_g / 240e-6).astype(np.int64)
    # The stream starts wherever the board was in the file when STREAM on arrived; from there on every sample
    # equals the RESD sample (as the firmware's counts), in order, none missing.
    starts = [k for k in range(len(expected) - want + 1) if np.array_equal(expected[k:k + want], counts)]
    assert len(starts) == 1, f"recorded samples are not one contiguous run of the RESD file (matches at {starts})"
    assert rate == 100.0
    assert np.allclose(np.diff(rec.timestamps_s), 0.01)  # n / odr_hz: consecutive sample numbers
