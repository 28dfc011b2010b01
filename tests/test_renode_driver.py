"""The Renode driver against a fake Robot server (tests/renode_fake.py), for what a real Renode cannot be made
to do on demand: keyword failures, unknown keywords, a board that stops answering, the process start and stop
path (a fake `renode` executable) and the skip path without Renode. What Renode itself does with the driver's
commands is tested on the real Renode (tests/test_renode_differential.py, the Robot suites with
BACKEND:renode, renode-test robot_tests/renode/).
"""

from __future__ import annotations

import stat
import sys
import xmlrpc.client
from pathlib import Path

import numpy as np
import pytest

from tests.renode_fake import FakeRenodeServer, window
from tinyml_disco.sim import protocol
from tinyml_disco.sim.backend import SENSOR, BackendUnavailable, BackendUnsupported
from tinyml_disco.sim.renode.backend import RenodeBackend, RenodeConnection, RenodeFiles, samples_text
from tinyml_disco.sim.renode.process import find_renode, renode_command
from tinyml_disco.sim.renode.robot_client import KeywordFailed, RenodeRobotClient, wire_name
from tinyml_disco.sim.session import DeviceSession, check_backend, open_backend

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


def test_samples_are_written_as_whole_micro_g() -> None:
    text = samples_text(np.array([[0.0000004, -1.2345675, 2.0], [-0.0000006, 0.5, -8.0]]))
    assert text == "0.000000 -1.234568 2.000000\n-0.000001 0.500000 -8.000000\n"


def test_sensorless_board_cannot_be_fed(server: FakeRenodeServer, tmp_path: Path) -> None:
    s = _session(server, tmp_path, sensor="none")
    s.start()
    assert SENSOR not in s.backend.capabilities
    with pytest.raises(BackendUnsupported, match="without a sensor"):
        s.backend.feed(window())


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
