"""`tinyml-disco flash` without a board: the exact commands, the probe tools' real "no probe" output mapped to one
line, timeouts instead of hangs, and no traceback from the CLI. (The GDB path against Renode's GDB server, where the
ELF really is written, is tests/test_board_rehearsal.py.) Also the record/monitor helpers that need no board."""

from __future__ import annotations

import io
import shutil
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from tinyml_disco.app import cli
from tinyml_disco.app.flash import FlashCommand, FlashError, diagnose, flash_command, gdb_commands, run_flash
from tinyml_disco.app.monitor import Tally, monitor
from tinyml_disco.app.record import Recording, max_stream_odr_hz
from tinyml_disco.sim import protocol

ELF = Path("/x/build/mlp/firmware/firmware.elf")

# The tools' own output with no probe attached, captured on this machine (Debian 12: openocd 0.12.0, stlink-tools
# 1.7.0, pyocd 0.46.0).
OPENOCD_NO_PROBE = """Open On-Chip Debugger 0.12.0
Info : The selected transport took over low-level target control. The results might differ compared to plain JTAG/SWD
srst_only separate srst_nogate srst_open_drain connect_deassert_srst

Info : clock speed 2000 kHz
Error: open failed
in procedure 'program'
** OpenOCD init failed **
shutdown command invoked
"""
STFLASH_NO_PROBE = "st-flash 1.7.0\n2026-11-26T03:27:46 WARN usb.c: Couldn't find any ST-Link devices\n"
PYOCD_NO_PROBE = "0000564 E No target device available [load_cmd]\nNo connected debug probes\n"


def test_commands_are_exact() -> None:
    assert flash_command("openocd", ELF).argv == (
        "openocd", "-f", "board/stm32f4discovery.cfg", "-c", f"program {ELF} verify reset exit")
    assert flash_command("stlink", ELF).argv == (
        "st-flash", "--reset", "write", "/x/build/mlp/firmware/firmware.bin", "0x08000000")
    assert flash_command("pyocd", ELF).argv == ("pyocd", "flash", "--no-wait", "--target", "stm32f407vg", str(ELF))
    gdb = flash_command("gdb", ELF, gdb="renode-host:3333").argv
    assert gdb[:3] == ("gdb-multiarch", "-nx", "-batch") and gdb[-1] == str(ELF)
    assert [gdb[i + 1] for i in range(3, len(gdb) - 1, 2)] == gdb_commands("renode-host:3333")
    assert "target remote renode-host:3333" in gdb_commands("renode-host:3333")
    with pytest.raises(ValueError, match="HOST:PORT"):
        gdb_commands("renode-host")
    with pytest.raises(ValueError, match="--probe"):
        flash_command("jlink", ELF)


@pytest.mark.parametrize("probe", ["openocd", "stlink", "pyocd", "gdb"])
def test_dry_run_prints_the_command(probe: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["flash", "--elf", str(ELF), "--probe", probe, "--dry-run"]) == 0
    out = capsys.readouterr().out.strip()
    assert out == flash_command(probe, ELF, gdb="localhost:3333").shell()


@pytest.mark.parametrize(("probe", "tool", "output"), [
    ("openocd", "openocd", OPENOCD_NO_PROBE), ("stlink", "st-flash", STFLASH_NO_PROBE),
    ("pyocd", "pyocd", PYOCD_NO_PROBE)])
def test_no_probe_output_becomes_one_line(probe: str, tool: str, output: str) -> None:
    msg = diagnose(probe, tool, output, 1)
    assert "\n" not in msg
    assert msg.startswith(f"flash --probe {probe}: no debug probe found ({tool} said: ")
    assert "fix: plug the Discovery's USB mini-B" in msg and "--probe" in msg


def test_usb_permission_points_at_udev() -> None:
    msg = diagnose("openocd", "openocd", "Error: libusb_open() failed with LIBUSB_ERROR_ACCESS\nError: open failed", 1)
    assert "no permission" in msg and "udev" in msg


@pytest.mark.parametrize(("probe", "tool"), [("openocd", "openocd"), ("stlink", "st-flash"), ("pyocd", "pyocd")])
def test_real_tool_without_a_board(probe: str, tool: str, tmp_path: Path) -> None:
    if shutil.which(tool) is None and shutil.which(tool, path=str(Path(sys.executable).parent)) is None:
        pytest.skip(f"{tool} not installed (scripts/bootstrap.sh --board installs it)")
    elf = tmp_path / "firmware.elf"
    elf.write_bytes(b"\x7fELF")
    elf.with_suffix(".bin").write_bytes(b"\0" * 16)
    with pytest.raises(FlashError) as err:
        run_flash(flash_command(probe, elf), timeout_s=60)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"flash --probe {probe}: no debug probe found"), msg


def test_missing_tool_says_how_to_install() -> None:
    with pytest.raises(FlashError, match=r"no-such-flasher is not installed; fix: scripts/bootstrap.sh --board"):
        run_flash(FlashCommand("openocd", ("no-such-flasher", "x")))


def _gdb_or_skip() -> None:
    if shutil.which("gdb-multiarch") is None:
        pytest.skip("gdb-multiarch not installed (scripts/bootstrap.sh --board installs it)")


def test_gdb_with_nothing_listening(tmp_path: Path) -> None:
    _gdb_or_skip()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    elf = tmp_path / "f.elf"
    elf.write_bytes(b"")
    with pytest.raises(FlashError, match="no GDB server answers at that address"):
        run_flash(flash_command("gdb", elf, gdb=f"127.0.0.1:{port}"), timeout_s=30)


def test_gdb_server_that_never_answers_times_out(tmp_path: Path) -> None:
    _gdb_or_skip()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    conns: list[socket.socket] = []
    threading.Thread(target=lambda: conns.append(server.accept()[0]), daemon=True).start()
    elf = tmp_path / "f.elf"
    elf.write_bytes(b"")
    t0 = time.monotonic()
    try:
        with pytest.raises(FlashError) as err:
            run_flash(flash_command("gdb", elf, gdb=f"127.0.0.1:{server.getsockname()[1]}"), timeout_s=5)
    finally:
        server.close()
        for c in conns:
            c.close()
    assert time.monotonic() - t0 < 30
    assert "\n" not in str(err.value) and str(err.value).startswith("flash --probe gdb: ")


def test_cli_reports_one_line_and_no_traceback(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    elf = tmp_path / "firmware.elf"
    elf.write_bytes(b"")
    rc = cli.main(["flash", "--elf", str(elf), "--probe", "stlink"])  # no firmware.bin next to it
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert "firmware.bin" in err
    rc = cli.main(["flash", "--elf", str(tmp_path / "missing.elf"), "--probe", "gdb"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "does not exist" in err


def test_stream_lines_parse_and_odr_limit() -> None:
    assert protocol.parse_sample("S 12 -3 4 4167") == protocol.Sample(12, (-3, 4, 4167))
    assert protocol.STREAM_ON_RE.match("STREAM on lsb_ug=240 odr_hz=100")
    assert protocol.STREAM_OFF_RE.match("STREAM off samples=10 dropped=0")
    assert max_stream_odr_hz() == 200  # 31-byte worst-case lines, 11,520 bytes/s


def test_recording_reports_gaps_and_writes_the_csv_format(tmp_path: Path) -> None:
    from tinyml_disco.sim import sensor_csv

    rec = Recording(lsb_ug=240, odr_hz=100)
    for n in (0, 1, 2, 5, 6):
        rec.add(protocol.Sample(n, (n, -n, 4167)))
    assert rec.gaps == [(2, 5)] and rec.dropped == 2
    path = tmp_path / "r.csv"
    path.write_text(rec.csv_text("idle"))
    read = sensor_csv.read_csv(path)
    # The timestamps keep the sensor's clock, so the gap is visible (train --data cuts the recording there).
    assert list(read.timestamps_s) == pytest.approx([0.0, 0.01, 0.02, 0.05, 0.06])
    assert read.labels == ["idle"] * 5
    assert abs(read.samples_g[0, 2] - 4167 * 240e-6) < 1e-9


class _Lines:
    def __init__(self, batches: list[list[str]]) -> None:
        self.batches = batches
        self.closed = False

    def poll_lines(self) -> list[str]:
        if not self.batches:
            raise KeyboardInterrupt
        return self.batches.pop(0)

    def close(self) -> None:
        self.closed = True


def test_monitor_tally_highlight_and_ctrl_c() -> None:
    link = _Lines([["BOOT fw=0.1.0 model=mlp sensor=LIS2DW12 bus=i2c1 clock_hz=168000000"],
                   ["PRED seq=0 class=1 label=shake score=250 cycles=1965", "ERR code=sensor_timeout ms=60"],
                   ["PRED seq=1 class=1 label=shake score=240 cycles=1965",
                    "PRED seq=3 class=0 label=idle score=200 cycles=1965"]])
    out = io.StringIO()
    assert monitor("/dev/fake", out=out, color=True, backend=link) == 0  # type: ignore[arg-type]
    text = out.getvalue()
    assert link.closed
    assert "\033[1;31mERR code=sensor_timeout ms=60\033[0m" in text
    assert "| idle=1 shake=2" in text
    assert text.strip().splitlines()[-1] == ("[monitor] 3 PRED (idle=1 shake=2), errors: sensor_timeout x1, "
                                             "boots: 1, 1 gaps in PRED seq")
    tally = Tally()
    assert tally.add("garbage") == "other"


class _Unplugged(_Lines):
    def poll_lines(self) -> list[str]:
        if self.batches == ["unplug"]:
            self.batches = []
            from tinyml_disco.sim.backend import BackendUnavailable

            raise BackendUnavailable("serial port /dev/fake failed while reading: device disconnected")
        return super().poll_lines()


def test_monitor_waits_for_an_unplugged_adapter() -> None:
    first = _Unplugged([["PRED seq=0 class=0 label=idle score=200 cycles=1"]])
    first.batches.append("unplug")  # type: ignore[arg-type]
    opens = iter([None, _Lines([["PRED seq=1 class=0 label=idle score=200 cycles=1"]])])

    def open_link():  # noqa: ANN202
        link = next(opens)
        if link is None:
            from tinyml_disco.sim.backend import BackendUnavailable

            raise BackendUnavailable("serial port /dev/fake does not exist")
        return link

    out = io.StringIO()
    assert monitor("/dev/fake", out=out, color=False, backend=first, open_link=open_link) == 0  # type: ignore[arg-type]
    text = out.getvalue()
    assert "[monitor] lost /dev/fake" in text and "[monitor] /dev/fake is back" in text
    assert text.strip().splitlines()[-1].startswith("[monitor] 2 PRED (idle=2)")
