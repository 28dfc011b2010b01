"""Calls into Renode's Robot Framework server (XML-RPC), the way `renode-test` suites do.

Checked against renode/renode src/Renode/RobotFrameworkEngine/:
- XmlRpcServer.cs: methods `get_keyword_names`, `run_keyword(name, arguments[])`, `stop_remote_server`.
  `run_keyword` returns a struct {status: PASS|FAIL, return?, error?, traceback?}; an unknown keyword or
  arguments that match no overload are XML-RPC faults (codes 1 and 2).
- KeywordManager.cs: a keyword's wire name is the C# method name ("ExecuteCommand"); Robot's Remote library
  maps "Execute Command" to it. Keyword.cs: arguments travel as strings; `name=value` strings are named
  arguments (regex ^[a-zA-Z0-9_]+=(.+), so a positional value must not look like that); named after positional.
- UartKeywords.cs: WaitFor*OnUart return {line, timestamp (virtual ms), groups}; a miss is a FAIL whose error
  starts "Terminal tester failed". WriteLineToUart appends '\r' (the firmware ends lines on '\n', so callers
  include it) and by default waits for an echo (the firmware does not echo: pass waitForEcho=false).
"""

from __future__ import annotations

import http.client
import re
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tinyml_disco.sim.backend import BackendUnavailable

_NAMED_ARG = re.compile(r"^[a-zA-Z0-9_]+=")
TESTER_MISS = "Terminal tester failed"


class KeywordFailed(RuntimeError):
    """A Renode keyword ran and reported FAIL; `error` is Renode's message."""

    def __init__(self, keyword: str, arguments: list[str], error: str) -> None:
        super().__init__(f"Renode keyword {keyword} {arguments!r} failed: {error.strip()}")
        self.keyword = keyword
        self.arguments = arguments  # not `args`: that is the exception's own message tuple
        self.error = error


@dataclass(frozen=True)
class UartLine:
    line: str
    timestamp_ms: float  # virtual time of the line's end


def wire_name(keyword: str) -> str:
    """'Wait For Line On Uart' -> 'WaitForLineOnUart' (Renode registers the C# method name)."""
    return "".join(word[:1].upper() + word[1:] for word in keyword.split())


def _format(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _TimeoutTransport(xmlrpc.client.Transport):
    def __init__(self, timeout_s: float) -> None:
        super().__init__()
        self._timeout_s = timeout_s

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        conn = super().make_connection(host)
        conn.timeout = self._timeout_s
        return conn


class RenodeRobotClient:
    """One Renode instance's Robot server at http://127.0.0.1:<port>/."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout_s: float = 120.0,
                 describe_failure: Callable[[], str] = lambda: "") -> None:
        self.url = f"http://{host}:{port}/"
        self.timeout_s = timeout_s
        self._describe_failure = describe_failure
        self._proxy = xmlrpc.client.ServerProxy(self.url, transport=_TimeoutTransport(timeout_s), allow_none=True)

    def keyword_names(self) -> list[str]:
        return list(self._proxy.get_keyword_names())

    def run(self, keyword: str, *args: object, **named: object) -> Any:
        argv = []
        for value in args:
            text = _format(value)
            if _NAMED_ARG.match(text):
                raise ValueError(f"{keyword}: positional argument {text!r} would be read by Renode as a named "
                                 f"argument (name=value); rephrase it")
            argv.append(text)
        argv += [f"{name}={_format(value)}" for name, value in named.items()]
        try:
            reply = self._proxy.run_keyword(wire_name(keyword), argv)
        except (OSError, http.client.HTTPException, xmlrpc.client.ProtocolError) as exc:
            # Renode crashed, hung past the timeout or closed the connection: say so, with its log.
            raise BackendUnavailable(f"Renode gave no answer to {keyword} {argv!r} within {self.timeout_s:.0f} s "
                                     f"({type(exc).__name__}: {exc}). {self._describe_failure()}") from exc
        if reply.get("status") != "PASS":
            raise KeywordFailed(keyword, argv, str(reply.get("error", "no error text")))
        return reply.get("return")

    def stop_server(self) -> None:
        self._proxy.stop_remote_server()

    # -- the keywords the backend uses -------------------------------------------------------------------
    def execute_command(self, command: str) -> str:
        return str(self.run("Execute Command", command) or "")

    def next_line(self, timeout_s: float, pause: bool = True) -> UartLine | None:
        """The next complete UART line (emulation paused right after it, unless `pause` is False), or None if
        none came in time."""
        try:
            result = self.run("Wait For Next Line On Uart", timeout=timeout_s, pauseEmulation=pause)
        except KeywordFailed as exc:
            if TESTER_MISS in exc.error:
                return None
            raise
        return UartLine(str(result["line"]), float(result["timestamp"]))
