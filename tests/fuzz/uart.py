"""Fuzz target: the UART line protocol of the real firmware on the embedded board.

Each example writes random lines (printable junk, binary bytes, over-long lines with and without their end,
partial or mis-sized INFER hex, blanks as separators, valid commands, several lines in one write or one line
split over two writes, every line end) and checks the replies against the documented protocol (README "UART
protocol"), line by line; then a valid INFER with a random tensor must still match tflite_micro byte for byte.
A missing, extra or different reply is `silent_wrong`; an exhausted instruction budget or time limit is `hang`."""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from tests.fuzz.harness import SilentWrong
from tests.fuzz.targets import FIXTURES, Example

ENDS = (b"\n", b"\r", b"\r\n", b"\n\r")
BLANKS = b" \t"


def build_fixture_elf(model: str, out_root: Path) -> Path:
    """firmware.elf for tests/fixtures/fuzz/<model> (compiled by our compiler, then arm-none-eabi-gcc)."""
    from tinyml_disco.app import pipeline
    from tinyml_disco.training.artifacts import ModelPaths

    paths = ModelPaths(out_root.resolve() / model)
    paths.root.mkdir(parents=True, exist_ok=True)
    for name in ("model.tflite", "model.json"):
        shutil.copy(FIXTURES / model / name, paths.root / name)
    pipeline.compile_c(paths, log=lambda _m: None)
    return pipeline.build_firmware(paths, log=lambda _m: None)


def input_size(tflite: bytes) -> int:
    """Bytes of the model's int8 input tensor (what INFER takes)."""
    from tinyml_disco.compiler import tflite_reader

    g = tflite_reader.parse(tflite)
    return int(np.prod(g.tensors[g.inputs[0]].shape))


class Reference:
    """What the firmware must answer to one complete line (README "UART protocol")."""

    def __init__(self, input_size: int, oracle: Callable[[bytes], bytes]) -> None:
        self.n = input_size
        infer_len = 6 + 2 * input_size
        self.line_max = infer_len + 2 if infer_len > 62 else 64
        self.oracle = oracle

    def reply(self, raw: bytes) -> str | None:
        """The reply line (OUT with the oracle's hex; BOOT/STREAM by prefix), or None for no reply."""
        if len(raw) > self.line_max:
            return "ERR code=line_too_long"
        line = raw.rstrip(BLANKS)
        if not line:
            return None
        if line == b"INFO":
            return "BOOT "
        if line == b"STREAM on":
            return "STREAM on "
        if line == b"STREAM off":
            return "STREAM off "
        if line.startswith(b"INFER") and (len(line) == 5 or line[5:6] in (b" ", b"\t")):
            digits = line[5:].lstrip(BLANKS)
            if len(digits) != 2 * self.n:
                return f"ERR code=bad_length expected={2 * self.n}"
            if not all(chr(c) in "0123456789abcdefABCDEF" for c in digits):
                return "ERR code=bad_hex"
            return f"OUT {self.oracle(bytes.fromhex(digits.decode('ascii'))).hex()} cycles="
        return "ERR code=bad_command"


def _random_line(rng: random.Random, ref: Reference) -> bytes:
    kind = rng.choice(("printable", "binary", "long", "infer_hex", "infer_blanks", "command", "blank", "near_limit"))
    n = ref.n
    if kind == "printable":
        return bytes(rng.randrange(32, 127) for _ in range(rng.randint(0, 80)))
    if kind == "binary":
        return bytes(c for c in (rng.randrange(256) for _ in range(rng.randint(1, 100))) if c not in (10, 13))
    if kind == "long":
        return bytes(rng.choice(b"INFER 0123456789abcdefXYZ\t\x00\xff") for _ in range(rng.randint(ref.line_max + 1,
                                                                                                   3 * ref.line_max)))
    if kind == "near_limit":
        return b"INFER " + b"0" * rng.randint(ref.line_max - 8, ref.line_max - 4)
    if kind == "infer_hex":
        digits = bytearray(rng.randbytes(n).hex().encode())
        how = rng.choice(("short", "long", "odd", "bad_char", "upper", "ok"))
        if how == "short":
            del digits[rng.randrange(len(digits)):]
        elif how == "long":
            digits += b"0" * rng.randint(1, 4)
        elif how == "odd":
            del digits[-1]
        elif how == "bad_char":
            digits[rng.randrange(len(digits))] = rng.choice(b"gGzZ- .:\x00\xff")
        elif how == "upper":
            digits = bytearray(digits.upper())
        return b"INFER " + bytes(digits)
    if kind == "infer_blanks":
        # Mostly within the line limit (the blanks must be accepted), sometimes past it.
        spare = ref.line_max - 5 - 2 * n if rng.random() < 0.8 else 8
        sep = bytes(rng.choice(BLANKS) for _ in range(rng.randint(1, max(1, min(4, spare)))))
        trail = bytes(rng.choice(BLANKS) for _ in range(rng.randint(0, max(0, min(3, spare - len(sep))))))
        lead = rng.choice((b"", b"", b" ")) if spare - len(sep) - len(trail) > 0 else b""
        return lead + b"INFER" + sep + rng.randbytes(n).hex().encode() + trail
    if kind == "command":
        return rng.choice((b"INFO", b"STREAM on", b"STREAM off", b"INFO ", b"info", b"INFER", b"INFERX 00",
                           b"STREAM", b"STREAM  on", b"INFO\t"))
    return bytes(rng.choice(BLANKS) for _ in range(rng.randint(0, 5)))


def _matches(got: list[str], expected: list[str]) -> bool:
    return len(got) == len(expected) and all(g.startswith(e) if e.endswith(("=", " ")) else g == e
                                             for g, e in zip(got, expected, strict=True))


def uart_examples(rng: random.Random, n: int, elf: Path, tflite: bytes, input_size: int,
                  session_examples: int = 400) -> Iterator[Example]:
    from tinyml_disco.app.tflm_oracle import TflmOracle
    from tinyml_disco.sim.session import DeviceSession, embedded_session

    tflm = TflmOracle(tflite)

    def oracle(tensor: bytes) -> bytes:
        return tflm.invoke(np.frombuffer(tensor, np.int8)[None])[0].astype(np.int8).tobytes()

    ref = Reference(input_size, oracle)
    state: dict[str, DeviceSession | None] = {"s": None}

    def session() -> DeviceSession:
        s = state["s"]
        if s is None:
            s = embedded_session(elf, sensor="none")
            s.start()
            s._pump()
            state["s"] = s
        return s

    def send(data: bytes) -> list[str]:
        s = session()
        s.backend.write(data)
        return [ln for ln in s._pump() if not ln.startswith("ERR code=no_sensor")]

    for i in range(n):
        if i % session_examples == 0:
            state["s"] = None    # a fresh board now and then: the instruction budget is per board
        shape = rng.choice(("one", "several", "split", "unterminated_long"))
        lines = [_random_line(rng, ref) for _ in range(1 if shape != "several" else rng.randint(2, 4))]
        ends = [rng.choice(ENDS) for _ in lines]
        tensor = rng.randbytes(input_size)

        def run(shape: str = shape, lines: list[bytes] = lines, ends: list[bytes] = ends,
                tensor: bytes = tensor) -> None:
            try:
                if shape == "unterminated_long":
                    junk = bytes(rng.choice(b"XY \t0a") for _ in range(ref.line_max + 1))
                    got = send(junk)
                    if got != ["ERR code=line_too_long"]:
                        raise SilentWrong(f"{ref.line_max + 1} bytes without a line end: {got!r}, "
                                          "expected one ERR code=line_too_long at once")
                    got = send(b"INFO" + b"Z" * rng.randint(0, 300))
                    got += send(rng.choice(ENDS))
                    if got:
                        raise SilentWrong(f"the rest of an over-long line was answered: {got!r}")
                else:
                    expected = [r for r in (ref.reply(line) for line in lines) if r is not None]
                    data = b"".join(line + end for line, end in zip(lines, ends, strict=True))
                    if shape == "split" and len(data) > 1:
                        cut = rng.randrange(1, len(data))
                        got = send(data[:cut]) + send(data[cut:])
                    else:
                        got = send(data)
                    if not _matches(got, expected):
                        raise SilentWrong(f"sent {data[:80]!r}{'...' if len(data) > 80 else ''}: got {got!r}, "
                                          f"expected {expected!r}")
                got = send(f"INFER {tensor.hex()}\n".encode())
                want = f"OUT {oracle(tensor).hex()} cycles="
                if len(got) != 1 or not got[0].startswith(want):
                    raise SilentWrong(f"the next valid INFER: got {got!r}, expected {want}<n>")
            except Exception:
                state["s"] = None   # a fresh board for the next example, whatever went wrong
                raise
        yield f"#{i} {shape} {[ln[:40] for ln in lines]!r}", run
