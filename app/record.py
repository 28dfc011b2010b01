"""`tinyml-disco record --port P --label L --out DIR`: raw accelerometer samples from the board into the project's
CSV recording format (`timestamp_s,ax_g,ay_g,az_g,label`, read by `train --data`).

The firmware streams after `STREAM on` ("STREAM on lsb_ug=<n> odr_hz=<n>", then "S <n> <x> <y> <z>" per sample in
lsb_ug micro-g counts, n counting every sample since STREAM on) until `STREAM off` ("STREAM off samples=<n>
dropped=<n>"). A gap in n is a dropped sample: it is reported, and the timestamps keep the sensor's clock (n /
odr_hz), so the CSV reader sees the gap and cuts the recording there.

UART budget (115200 8N1 = 11,520 bytes/s): the longest sample line is "S 9999999 -32768 -32768 -32768\\n", 31
bytes, so the line rate is at most 371 samples/s; a 100 Hz stream uses 27 % of the link at worst (typical lines are
~20 bytes). The highest sensor ODR the link carries is therefore 200 Hz (LIS2DW12; the LIS3DSH's next step above
100 Hz is 400 Hz, which does not fit); the firmware streams at the model's rate (100 Hz).
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from tinyml_disco.compiler.fileio import atomic_write
from tinyml_disco.sim import protocol
from tinyml_disco.sim.serial_backend import SerialBackend

BAUD = 115200
BYTES_PER_S = BAUD // 10  # 8N1: 10 bits per byte
LONGEST_SAMPLE_LINE = len("S 9999999 -32768 -32768 -32768\n")
ODRS_HZ = (12.5, 25, 50, 100, 200, 400, 800, 1600)


def max_stream_odr_hz() -> float:
    """The highest sensor ODR whose worst-case sample lines fit in 115200 baud."""
    return max(odr for odr in ODRS_HZ if odr * LONGEST_SAMPLE_LINE <= BYTES_PER_S)


@dataclass
class Recording:
    lsb_ug: int = 0
    odr_hz: int = 0
    samples: list[protocol.Sample] = field(default_factory=list)
    gaps: list[tuple[int, int]] = field(default_factory=list)  # (last n seen, next n seen)
    board_samples: int | None = None  # from "STREAM off samples=<n>"
    board_dropped: int | None = None

    @property
    def dropped(self) -> int:
        return sum(b - a - 1 for a, b in self.gaps)

    def add(self, sample: protocol.Sample) -> None:
        if self.samples and sample.n != self.samples[-1].n + 1:
            self.gaps.append((self.samples[-1].n, sample.n))
        self.samples.append(sample)

    def csv_text(self, label: str) -> str:
        scale = self.lsb_ug * 1e-6
        rows = ["timestamp_s,ax_g,ay_g,az_g,label"]
        for s in self.samples:
            x, y, z = (v * scale for v in s.xyz)
            rows.append(f"{s.n / self.odr_hz:.6f},{x:.6f},{y:.6f},{z:.6f},{label}")
        return "\n".join(rows) + "\n"


class RecordError(RuntimeError):
    pass


def _wait_for(link: SerialBackend, regex: re.Pattern[str], timeout_s: float,
              rec: Recording | None = None) -> re.Match[str] | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in link.poll_lines():
            m = regex.match(line)
            if m:
                return m
            if rec is not None and protocol.SAMPLE_RE.match(line):
                rec.add(protocol.parse_sample(line))
    return None


def capture(link: SerialBackend, seconds: float | None = None, samples: int | None = None,
            log: TextIO | None = None) -> Recording:
    """STREAM on, collect sample lines until `samples` or `seconds` (or Ctrl-C), STREAM off."""
    log = log or sys.stderr
    rec = Recording()
    link.write(b"STREAM on\n")
    m = _wait_for(link, protocol.STREAM_ON_RE, 3.0)
    if m is None:
        raise RecordError("the board did not answer STREAM on within 3 s: is the firmware built from this "
                          "version (it needs the STREAM command), and is the adapter's TX on PA3?")
    rec.lsb_ug, rec.odr_hz = int(m["lsb_ug"]), int(m["odr_hz"])
    deadline = None if seconds is None else time.monotonic() + seconds
    try:
        while (deadline is None or time.monotonic() < deadline) and (samples is None or len(rec.samples) < samples):
            for line in link.poll_lines():
                if protocol.SAMPLE_RE.match(line) and (samples is None or len(rec.samples) < samples):
                    rec.add(protocol.parse_sample(line))
                elif line.startswith("ERR"):
                    print(f"[record] board: {line}", file=log)
    except KeyboardInterrupt:
        pass
    link.write(b"STREAM off\n")
    off = _wait_for(link, protocol.STREAM_OFF_RE, 3.0)
    if off is not None:
        rec.board_samples, rec.board_dropped = int(off["samples"]), int(off["dropped"])
    return rec


def record(port: str, label: str, out_dir: Path, seconds: float | None = None, samples: int | None = None,
           baud: int = BAUD, backend: SerialBackend | None = None, log: TextIO | None = None) -> Path:
    log = log or sys.stderr
    if not label or any(c in label for c in ",\n\r"):
        raise ValueError(f"--label must be a non-empty word without commas, got {label!r}")
    link = backend or SerialBackend(port, baudrate=baud)
    try:
        rec = capture(link, seconds=seconds, samples=samples, log=log)
    finally:
        link.close()
    if not rec.samples:
        raise RecordError("no samples arrived: is the accelerometer found (the BOOT line says sensor=...)?")
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    path = out_dir / f"{label}_{stamp}.csv"
    atomic_write(path, rec.csv_text(label))
    drops = f"{rec.dropped} dropped ({len(rec.gaps)} gaps)" if rec.gaps else "no drops"
    print(f"[record] {len(rec.samples)} samples at {rec.odr_hz} Hz, {drops}", file=log)
    return path
