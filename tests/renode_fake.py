"""A stand-in for Renode's Robot server (XML-RPC on 127.0.0.1, in a thread) for driver tests.

It accepts only the keyword names and argument shapes Renode's sources define (src/Renode/RobotFrameworkEngine:
XmlRpcServer.cs, Keyword.cs, UartKeywords.cs, RenodeKeywords.cs), records every call, and plays a tiny firmware:
BOOT after LoadELF, OUT for INFER, BOOT for INFO, ERR for anything else, one PRED per fed RESD window.
It is a fake: passing against it says the driver speaks the protocol as written in Renode's sources, not that
a real Renode behaves this way.
"""

from __future__ import annotations

import re
import threading
import xmlrpc.server
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Keyword (wire name) -> parameter names, as declared in Renode's C# keyword providers.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "ResetEmulation": (),
    "StartEmulation": (),
    "ExecuteCommand": ("command", "machine"),
    "CreateTerminalTester": ("uart", "timeout", "machine", "endLineOption", "defaultPauseEmulation",
                             "defaultWaitForEcho", "defaultMatchNextLine", "binaryMode"),
    "WaitForLineOnUart": ("content", "timeout", "testerId", "treatAsRegex", "includeUnfinishedLine",
                          "pauseEmulation", "matchNextLine"),
    "WaitForNextLineOnUart": ("timeout", "testerId", "pauseEmulation"),
    "WriteLineToUart": ("content", "testerId", "waitForEcho", "pauseEmulation"),
    "TestIfUartIsIdle": ("timeout", "testerId", "pauseEmulation"),
}
_NAMED = re.compile(r"^([a-zA-Z0-9_]+)=(.+)", re.S)
MISS = "InvalidOperationException: Terminal tester failed!\n\nFull report:\n"


def parse_args(keyword: str, args: list[str]) -> dict[str, str]:
    """Keyword.cs TryParseArguments: positional first, then name=value; unknown names do not match."""
    params = KEYWORDS[keyword]
    out: dict[str, str] = {}
    named_seen = False
    for index, arg in enumerate(args):
        m = _NAMED.match(arg)
        if m and m.group(1) in params:
            named_seen = True
            out[m.group(1)] = m.group(2)
        elif m:
            raise xmlrpc.server.Fault(2, f"Arguments types do not match any available keyword \"{keyword}\"")
        else:
            if named_seen:
                raise xmlrpc.server.Fault(2, "Named arguments must appear after the positional arguments")
            if index >= len(params):
                raise xmlrpc.server.Fault(2, f"too many arguments for {keyword}")
            out[params[index]] = arg
    return out


@dataclass
class FakeRenode:
    boot_line: str = "BOOT fw=0.1.0 model=mlp sensor=LIS2DW12 bus=i2c1 clock_hz=168000000"
    calls: list[tuple[str, list[str]]] = field(default_factory=list)
    uart: list[tuple[str, float]] = field(default_factory=list)  # pending lines, virtual ms
    vtime_ms: float = 0.0
    fed: list[Path] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)
    silent: bool = False  # a firmware that never answers commands
    _preds: int = 0
    _tester: bool = False

    def _emit(self, line: str, after_ms: float = 0.5) -> None:
        self.vtime_ms += after_ms
        self.uart.append((line, self.vtime_ms))

    # -- XML-RPC methods ----------------------------------------------------------------------------------
    def get_keyword_names(self) -> list[str]:
        return sorted(KEYWORDS)

    def stop_remote_server(self) -> bool:
        self.stopped.set()
        return True

    def run_keyword(self, name: str, args: list[str]) -> dict[str, object]:
        if name not in KEYWORDS:
            raise xmlrpc.server.Fault(1, f"Keyword \"{name}\" not found")
        self.calls.append((name, list(args)))
        kw = parse_args(name, list(args))
        try:
            value = getattr(self, "_kw_" + name)(kw)
        except AssertionError as exc:
            return {"status": "FAIL", "error": str(exc), "traceback": ""}
        reply: dict[str, object] = {"status": "PASS"}
        if value is not None:
            reply["return"] = value
        return reply

    # -- keywords ------------------------------------------------------------------------------------------
    def _kw_ResetEmulation(self, kw: dict[str, str]) -> None:
        self.uart.clear()
        self.vtime_ms = 0.0
        self._tester = False

    def _kw_StartEmulation(self, kw: dict[str, str]) -> None:
        pass

    def _kw_ExecuteCommand(self, kw: dict[str, str]) -> str:
        cmd = kw["command"]
        if cmd.startswith("sysbus LoadELF @"):
            self._emit(self.boot_line, after_ms=2.0)
        elif "FeedAccelerationSamplesFrom" in cmd:
            path = Path(cmd.split("@", 1)[1])
            assert path.is_file(), f"Could not execute command '{cmd}': no such file"
            self.fed.append(path)
            self._emit(f"PRED seq={self._preds} class=0 label=idle score=250 cycles=1900", after_ms=1280.0)
            self._preds += 1
        elif cmd.endswith(" State"):
            return "True\n" if cmd.startswith("sysbus.gpioPortD.UserLED") else "False\n"
        elif cmd == "sysbus.cpu ExecutedInstructions":
            return "123456\n"
        return ""

    def _kw_CreateTerminalTester(self, kw: dict[str, str]) -> int:
        assert kw["uart"] == "sysbus.usart2", f"Peripheral not found or of wrong type: {kw['uart']}"
        self._tester = True
        return 1

    def _line_result(self) -> dict[str, object]:
        assert self._tester, "KeywordException: Terminal tester for given ID=1 was not found"
        if not self.uart:
            raise AssertionError(MISS)
        line, ts = self.uart.pop(0)
        return {"line": line, "timestamp": ts, "groups": []}

    def _kw_WaitForNextLineOnUart(self, kw: dict[str, str]) -> dict[str, object]:
        return self._line_result()

    def _kw_WaitForLineOnUart(self, kw: dict[str, str]) -> dict[str, object]:
        while True:
            result = self._line_result()
            if re.search(kw["content"], str(result["line"])):
                return result

    def _kw_TestIfUartIsIdle(self, kw: dict[str, str]) -> None:
        if self.uart:
            raise AssertionError(MISS)
        self.vtime_ms += float(kw["timeout"]) * 1000

    def _kw_WriteLineToUart(self, kw: dict[str, str]) -> dict[str, object]:
        content = kw.get("content", "")
        assert kw.get("waitForEcho") == "false", "Terminal tester failed! (waited for an echo the firmware never sends)"
        line = content.rstrip("\n")
        if self.silent:
            pass
        elif line == "INFO":
            self._emit(self.boot_line)
        elif line.startswith("INFER "):
            tensor = bytes.fromhex(line[6:])
            out = bytes((b + 1) & 0xFF for b in tensor[:4])
            self._emit(f"OUT {out.hex()} cycles=1922")
        else:
            self._emit("ERR code=bad_command")
        return {"line": "", "timestamp": 0.0, "groups": []}


class FakeRenodeServer:
    """FakeRenode served on 127.0.0.1:<free port> in a daemon thread."""

    def __init__(self, fake: FakeRenode | None = None, port: int = 0) -> None:
        self.fake = fake or FakeRenode()
        self.server = xmlrpc.server.SimpleXMLRPCServer(("127.0.0.1", port), logRequests=False, allow_none=True)
        self.server.register_instance(self.fake)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeRenodeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def window(seed: int = 0, n: int = 128) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.round(rng.normal([0.0, 0.0, 1.0], 0.05, size=(n, 3)), 6)
