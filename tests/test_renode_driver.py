"""The Renode driver against a fake Robot server (tests/renode_fake.py): the exact keyword sequence it sends,
how it parses replies, the process start path (a fake `renode` executable), and the skip path without Renode.

No real Renode runs here; see README "Renode and the other backends" for what that leaves unverified.
"""

from __future__ import annotations

import stat
import sys
import xmlrpc.client
from pathlib import Path

import numpy as np
import pytest

from sim import protocol, resd
from sim.backend import SENSOR, BackendUnavailable, BackendUnsupported
from sim.renode import platform
from sim.renode.backend import FEED_LEAD_NS, RenodeBackend, RenodeConnection, RenodeFiles, boot_keywords
from sim.renode.process import find_renode, renode_command
from sim.renode.robot_client import KeywordFailed, RenodeRobotClient, wire_name
from sim.session import DeviceSession, check_backend, open_backend
from tests.renode_fake import FakeRenodeServer, window

ELF = Path("/tmp/fw.elf")


@pytest.fixture()
def server():
    with FakeRenodeServer() as srv:
        yield srv


def _session(srv: FakeRenodeServer, tmp_path: Path, sensor: str = "lis2dw12") -> DeviceSession:
    backend = RenodeBackend(RenodeRobotClient(srv.port), RenodeFiles(elf=ELF), sensor=sensor, workdir=tmp_path)
    return DeviceSession(backend)


def test_wire_names_are_the_csharp_method_names() -> None:
    assert wire_name("Execute Command") == "ExecuteCommand"
    assert wire_name("Wait For Next Line On Uart") == "WaitForNextLineOnUart"
    assert wire_name("Test If Uart Is Idle") == "TestIfUartIsIdle"


def test_boot_sends_the_golden_sequence_and_parses_boot(server: FakeRenodeServer, tmp_path: Path) -> None:
    boot = _session(server, tmp_path).start()
    assert boot == protocol.parse_boot(server.fake.boot_line)
    sent = server.fake.calls
    expected = [(wire_name(kw.name), [*kw.args, *(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                                                 for k, v in kw.named)])
                for kw in boot_keywords(RenodeFiles(elf=ELF), "lis2dw12")]
    assert sent[: len(expected)] == expected
    # then: wait for the BOOT line with the emulation pausing on it, and check the UART went quiet
    assert sent[len(expected)] == ("WaitForNextLineOnUart", ["timeout=10.0", "pauseEmulation=true"])
    assert ("TestIfUartIsIdle", ["0.05", "pauseEmulation=true"]) in sent[len(expected):]


def test_infer_round_trip(server: FakeRenodeServer, tmp_path: Path) -> None:
    s = _session(server, tmp_path)
    s.start()
    result = s.infer(np.array([1, 2, 3, 4, 5, 6], np.int8))
    assert result.output == bytes([2, 3, 4, 5]) and result.cycles == 1922
    writes = [args for name, args in server.fake.calls if name == "WriteLineToUart"]
    assert writes == [["INFER 010203040506\n", "waitForEcho=false"]]


def test_bad_command_reply_is_collected(server: FakeRenodeServer, tmp_path: Path) -> None:
    s = _session(server, tmp_path)
    s.start()
    s.backend.write(b"HELLO\n")
    assert s._pump() == ["ERR code=bad_command"]


def test_feed_writes_a_resd_window_at_the_paused_virtual_time(server: FakeRenodeServer, tmp_path: Path) -> None:
    s = _session(server, tmp_path)
    s.start()
    paused_ns = int(server.fake.vtime_ms * 1e6)  # after BOOT and the idle check
    win = window(seed=5)
    preds = s.classify(win[None])
    assert [p.seq for p in preds] == [0]
    (fed,) = server.fake.fed
    feed_calls = [args for name, args in server.fake.calls if name == "ExecuteCommand" and "Feed" in args[0]]
    assert feed_calls == [[f"{platform.LIS2DW12} FeedAccelerationSamplesFromRESD @{fed}"]]
    (block,) = resd.read_blocks(fed)
    assert block.start_time_ns == paused_ns - FEED_LEAD_NS
    assert block.period_ns == 10_000_000
    np.testing.assert_array_equal(block.samples_ug, np.rint(win * 1e6).astype(np.int32))


def test_lis3dsh_feed_uses_the_csharp_model_and_csv(server: FakeRenodeServer, tmp_path: Path) -> None:
    s = _session(server, tmp_path, sensor="lis3dsh")
    s.start()
    s.classify(window(seed=1)[None])
    (fed,) = server.fake.fed
    assert fed.suffix == ".csv" and fed.read_text().startswith("timestamp_s,ax_g,ay_g,az_g")
    cmds = [args[0] for name, args in server.fake.calls if name == "ExecuteCommand"]
    assert cmds[1] == f"include @{platform.LIS3DSH_MODEL_FILE}"
    assert f"{platform.LIS3DSH} FeedAccelerationSamplesFromCsv @{fed}" in cmds


def test_sensorless_board_cannot_be_fed(server: FakeRenodeServer, tmp_path: Path) -> None:
    s = _session(server, tmp_path, sensor="none")
    s.start()
    assert SENSOR not in s.backend.capabilities
    with pytest.raises(BackendUnsupported, match="without a sensor"):
        s.backend.feed(window())


def test_leds_and_instructions_are_parsed(server: FakeRenodeServer, tmp_path: Path) -> None:
    s = _session(server, tmp_path)
    s.start()
    assert s.backend.leds() == {"green": True, "orange": False, "red": False, "blue": False}
    assert s.backend.instructions == 123456


def test_keyword_failure_and_unknown_keyword(server: FakeRenodeServer) -> None:
    client = RenodeRobotClient(server.port)
    with pytest.raises(KeywordFailed, match="Peripheral not found"):
        client.run("Create Terminal Tester", "sysbus.uart9")
    with pytest.raises(xmlrpc.client.Fault, match="not found"):
        client.run("Launch Rockets")
    with pytest.raises(ValueError, match="named argument"):
        client.run("Execute Command", "x=1")


def test_missing_line_returns_what_came(server: FakeRenodeServer, tmp_path: Path) -> None:
    s = _session(server, tmp_path)
    s.start()
    server.fake.silent = True
    with pytest.raises(protocol.ProtocolError, match=r"expected one OUT line for INFER, got \[\]"):
        s.infer(np.zeros(6, np.int8))
    # one wait of line_timeout_s virtual seconds, then the session reports what came (nothing)
    assert server.fake.calls[-2:] == [("WriteLineToUart", ["INFER 000000000000\n", "waitForEcho=false"]),
                                      ("WaitForNextLineOnUart", ["timeout=10.0", "pauseEmulation=true"])]


def test_renode_absent_is_unavailable_with_install_hint(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable, match=r"`renode` was not found.*install Renode 1\.15\.3"):
        find_renode({"PATH": str(tmp_path)})
    with pytest.raises(BackendUnavailable, match="RENODE=/nope is not an executable"):
        find_renode({"RENODE": "/nope", "PATH": ""})


def test_check_backend_without_renode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("RENODE", raising=False)
    with pytest.raises(BackendUnavailable, match="renode"):
        check_backend("renode")


FAKE_RENODE = """#!{python}
# A stand-in `renode`: records its argv, then serves the fake Robot server on --robot-server-port.
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from tests.renode_fake import FakeRenodeServer
Path({argv_file!r}).write_text("\\n".join(sys.argv[1:]))
port = int(sys.argv[sys.argv.index("--robot-server-port") + 1])
srv = FakeRenodeServer(port=port)
srv.thread.start()
srv.fake.stopped.wait(60)
srv.server.shutdown()
"""


def test_process_starts_renode_like_renode_test_and_stops_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    argv_file = tmp_path / "argv.txt"
    exe = tmp_path / "renode"
    root = str(Path(__file__).resolve().parent.parent)
    exe.write_text(FAKE_RENODE.format(python=sys.executable, root=root, argv_file=str(argv_file)))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    elf = tmp_path / "fw.elf"
    elf.write_bytes(b"\x7fELF")
    monkeypatch.setenv("RENODE", str(exe))
    connection = RenodeConnection(log_dir=tmp_path)
    try:
        backend = open_backend("renode", elf, sensor="lis2dw12", renode=connection)
        assert DeviceSession(backend).start().sensor == "LIS2DW12"
        assert argv_file.read_text().split("\n") == renode_command(str(exe), connection.process.port)[1:]
    finally:
        connection.stop()
    assert connection.process.proc.returncode == 0  # ended through stop_remote_server, not killed
