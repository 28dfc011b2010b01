"""`tinyml-disco monitor --port P`: a live view of a board's UART (a real board through a USB-serial adapter on
PA2/PA3, or Renode's pseudo-terminal): every line as it comes, PRED lines with class, score and a running tally,
ERR lines highlighted. Ctrl-C ends it with the summary (exit code 0)."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from tinyml_disco.sim import protocol
from tinyml_disco.sim.backend import BackendUnavailable
from tinyml_disco.sim.serial_backend import SerialBackend

RED = "\033[1;31m"
GREEN = "\033[32m"
RESET = "\033[0m"


@dataclass
class Tally:
    preds: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    boots: int = 0
    other: int = 0
    last_seq: int | None = None
    seq_gaps: int = 0

    def add(self, line: str) -> str:
        """Count one line; returns how to show it: 'pred', 'err', 'boot' or 'other'."""
        if protocol.PRED_RE.match(line):
            pred = protocol.parse_pred(line)
            if self.last_seq is not None and pred.seq != self.last_seq + 1 and pred.seq != 0:
                self.seq_gaps += 1
            self.last_seq = pred.seq
            self.preds[pred.label] += 1
            return "pred"
        if line.startswith("ERR"):
            m = protocol.ERR_RE.match(line)
            self.errors[m["code"] if m else "malformed"] += 1
            return "err"
        if protocol.BOOT_RE.match(line):
            self.boots += 1
            self.last_seq = None
            return "boot"
        self.other += 1
        return "other"

    def tally_text(self) -> str:
        return " ".join(f"{label}={n}" for label, n in sorted(self.preds.items()))

    def summary(self) -> str:
        total = sum(self.preds.values())
        errs = ", ".join(f"{code} x{n}" for code, n in sorted(self.errors.items())) or "none"
        gaps = f", {self.seq_gaps} gaps in PRED seq" if self.seq_gaps else ""
        return f"[monitor] {total} PRED ({self.tally_text() or '-'}), errors: {errs}, boots: {self.boots}{gaps}"


def render(line: str, kind: str, tally: Tally, color: bool) -> str:
    if kind == "pred":
        text = f"{line}    | {tally.tally_text()}"
        return f"{GREEN}{text}{RESET}" if color else text
    if kind == "err":
        return f"{RED}{line}{RESET}" if color else f"!! {line}"
    return line


def _reopen(open_link: Callable[[], SerialBackend], port: str, err: Exception, deadline: float | None,
            out: TextIO) -> SerialBackend | None:
    """The adapter went away (unplugged, board power-cycled with a USB-powered adapter): wait for it to return."""
    print(f"[monitor] lost {port} ({err}); waiting for it to come back (Ctrl-C to stop)", file=out, flush=True)
    while deadline is None or time.monotonic() < deadline:
        try:
            link = open_link()
        except BackendUnavailable:
            time.sleep(0.5)
            continue
        print(f"[monitor] {port} is back", file=out, flush=True)
        return link
    return None


def monitor(port: str, baud: int = 115200, duration_s: float | None = None, max_lines: int | None = None,
            color: bool | None = None, out: TextIO | None = None, backend: SerialBackend | None = None,
            open_link: Callable[[], SerialBackend] | None = None) -> int:
    out = out or sys.stdout
    color = out.isatty() if color is None else color
    open_link = open_link or (lambda: SerialBackend(port, baudrate=baud))
    link: SerialBackend | None = backend or open_link()
    tally = Tally()
    seen = 0
    deadline = None if duration_s is None else time.monotonic() + duration_s
    print(f"[monitor] {port} at {baud} 8N1; Ctrl-C to stop", file=out, flush=True)
    try:
        while (deadline is None or time.monotonic() < deadline) and (max_lines is None or seen < max_lines):
            try:
                lines = link.poll_lines()
            except BackendUnavailable as err:
                link.close()
                link = _reopen(open_link, port, err, deadline, out)
                if link is None:
                    break
                continue
            for line in lines:
                if not line:
                    continue
                seen += 1
                print(render(line, tally.add(line), tally, color), file=out, flush=True)
                if max_lines is not None and seen >= max_lines:
                    break
    except KeyboardInterrupt:
        print("", file=out)
    finally:
        if link is not None:
            link.close()
    print(tally.summary(), file=out, flush=True)
    return 0
