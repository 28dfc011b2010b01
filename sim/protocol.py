"""The firmware's UART line protocol (README "UART protocol"): one record per line, key=value fields."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tinyml_disco.sim.sensors import BOOT_NAMES

BOOT_RE = re.compile(r"^BOOT fw=(?P<fw>\S+) model=(?P<model>\S+) sensor=(?P<sensor>" + "|".join(BOOT_NAMES) + ") "
                     r"bus=(?P<bus>spi1|i2c1|-) clock_hz=(?P<clock_hz>\d+)$")
PRED_RE = re.compile(r"^PRED seq=(?P<seq>\d+) class=(?P<cls>\d+) label=(?P<label>\S+) "
                     r"score=(?P<score>\d+) cycles=(?P<cycles>\d+)$")
OUT_RE = re.compile(r"^OUT (?P<hex>[0-9a-f]+) cycles=(?P<cycles>\d+)$")
# STREAM on|off (tinyml-disco record): the acknowledgement, then one line per raw sample, in the model's sensor
# units (lsb_ug micro-g per count); n counts every sample since STREAM on, dropped ones included.
STREAM_ON_RE = re.compile(r"^STREAM on lsb_ug=(?P<lsb_ug>\d+) odr_hz=(?P<odr_hz>\d+)$")
STREAM_OFF_RE = re.compile(r"^STREAM off samples=(?P<samples>\d+) dropped=(?P<dropped>\d+)$")
SAMPLE_RE = re.compile(r"^S (?P<n>\d+) (?P<x>-?\d+) (?P<y>-?\d+) (?P<z>-?\d+)$")
ERR_RE = re.compile(r"^ERR code=(?P<code>[a-z_]+)(?P<rest>( \S+=\S+)*)$")


# ERR codes that answer a command line (the others report sensor/board events at any time).
COMMAND_ERRORS = frozenset({"bad_command", "bad_length", "bad_hex", "line_too_long"})


class ProtocolError(ValueError):
    """A UART line did not match the documented format."""


@dataclass(frozen=True)
class Boot:
    fw: str
    model: str
    sensor: str
    bus: str
    clock_hz: int


@dataclass(frozen=True)
class Prediction:
    seq: int
    cls: int
    label: str
    score: int
    cycles: int


@dataclass(frozen=True)
class InferResult:
    output: bytes
    cycles: int


def _match(regex: re.Pattern[str], line: str, what: str) -> re.Match[str]:
    m = regex.match(line.strip())
    if m is None:
        raise ProtocolError(f"expected a {what} line matching {regex.pattern!r}, got {line!r}")
    return m


def parse_boot(line: str) -> Boot:
    m = _match(BOOT_RE, line, "BOOT")
    return Boot(m["fw"], m["model"], m["sensor"], m["bus"], int(m["clock_hz"]))


def parse_pred(line: str) -> Prediction:
    m = _match(PRED_RE, line, "PRED")
    return Prediction(int(m["seq"]), int(m["cls"]), m["label"], int(m["score"]), int(m["cycles"]))


def parse_out(line: str) -> InferResult:
    m = _match(OUT_RE, line, "OUT")
    return InferResult(bytes.fromhex(m["hex"]), int(m["cycles"]))


@dataclass(frozen=True)
class Sample:
    n: int
    xyz: tuple[int, int, int]


def parse_sample(line: str) -> Sample:
    m = _match(SAMPLE_RE, line, "S (sample)")
    return Sample(int(m["n"]), (int(m["x"]), int(m["y"]), int(m["z"])))


def parse_err(line: str) -> dict[str, str]:
    m = _match(ERR_RE, line, "ERR")
    fields = dict(kv.split("=", 1) for kv in m["rest"].split())
    fields["code"] = m["code"]
    return fields


def infer_command(tensor: bytes) -> str:
    """The RX command that runs one raw int8 input tensor on the device."""
    return f"INFER {tensor.hex()}\n"
