"""The fuzz harness's bookkeeping: run one example under a time limit, classify what happened, count per target.

Outcomes (the invariant is "clean error or correct result"):
- ok: the input was accepted and the result passed the target's checks (round trip where one exists, otherwise
  well-formedness: finite values, indices in range, the expected reply on the UART, bit-exact with TFLM);
- clean_error: one of our error types (or a plain ValueError/RuntimeError raised by our own code), one line;
- traceback: any other exception (struct.error, IndexError, UnicodeDecodeError, ...), or ours with an empty or
  multi-line message;
- hang: the example ran past its time limit (or the emulated firmware exhausted its instruction budget);
- silent_wrong: accepted, but the result fails the target's checks;
- partial_artifact: a clean error, but files were left behind (the build target: nothing may be written on error).
"""

from __future__ import annotations

import json
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

OUTCOMES = ("ok", "clean_error", "traceback", "hang", "silent_wrong", "partial_artifact")
OUR_PACKAGES = ("app", "compiler", "sim", "training")
REPO = Path(__file__).resolve().parents[2]


class FuzzHang(Exception):
    """An example ran past its time limit."""


class SilentWrong(Exception):
    """Accepted, but the result is wrong (raised by a target's check)."""


class PartialArtifact(Exception):
    """A clean error that left files behind."""


class Classified(Exception):
    """An outcome already classified elsewhere (in a forked child process)."""

    def __init__(self, outcome: str, message: str) -> None:
        super().__init__(message)
        self.outcome = outcome


def our_error_types() -> tuple[type[BaseException], ...]:
    from tinyml_disco.compiler.graph import UnsupportedModelError
    from tinyml_disco.compiler.tflite_reader import ModelFormatError
    from tinyml_disco.sim.errors import EmulationError
    from tinyml_disco.sim.protocol import ProtocolError
    from tinyml_disco.sim.resd import ResdFormatError
    from tinyml_disco.sim.sensor_csv import SensorCsvError

    return (ModelFormatError, UnsupportedModelError, SensorCsvError, ResdFormatError, ProtocolError, EmulationError)


def _raised_in_our_code(exc: BaseException) -> bool:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return False
    path = Path(frames[-1].filename).resolve()
    return any(path.is_relative_to(REPO / pkg) for pkg in OUR_PACKAGES)


def classify_exception(exc: BaseException) -> str:
    if isinstance(exc, Classified):
        return exc.outcome
    if isinstance(exc, FuzzHang):
        return "hang"
    if isinstance(exc, SilentWrong):
        return "silent_wrong"
    if isinstance(exc, PartialArtifact):
        return "partial_artifact"
    from tinyml_disco.sim.errors import InstructionBudgetExceeded

    if isinstance(exc, InstructionBudgetExceeded):
        return "hang"
    message = str(exc)
    one_line = bool(message.strip()) and "\n" not in message.strip()
    if isinstance(exc, our_error_types()) and one_line:
        return "clean_error"
    # A plain ValueError/RuntimeError/FileNotFoundError that our own code raised with a message, not one from a
    # library or from the interpreter (IndexError, KeyError, UnicodeDecodeError are never "clean").
    if type(exc) in (ValueError, RuntimeError, FileNotFoundError) and one_line and _raised_in_our_code(exc):
        return "clean_error"
    return "traceback"


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise FuzzHang in the main thread after `seconds` (SIGALRM; no limit off the main thread)."""
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def _alarm(_signum: int, _frame: object) -> None:
        raise FuzzHang(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class TargetCounts:
    target: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    examples: dict[str, list[str]] = field(default_factory=dict)   # outcome -> first few descriptions
    kinds: dict[str, int] = field(default_factory=dict)            # "outcome: exception type" -> count
    seconds: float = 0.0

    @property
    def tried(self) -> int:
        return sum(self.counts.values())

    @property
    def failures(self) -> int:
        return self.tried - self.counts["ok"] - self.counts["clean_error"]

    def add(self, outcome: str, description: str, kind: str = "") -> None:
        self.counts[outcome] += 1
        if outcome not in ("ok", "clean_error"):
            key = f"{outcome}: {kind}"
            self.kinds[key] = self.kinds.get(key, 0) + 1
            seen = self.examples.setdefault(outcome, [])
            if len(seen) < 5:
                seen.append(description)

    def to_json(self) -> dict[str, object]:
        return {"tried": self.tried, **self.counts, "seconds": round(self.seconds, 2), "kinds": self.kinds,
                "examples": self.examples}


def run_examples(target: str, examples: Iterator[tuple[str, Callable[[], None]]],
                 timeout_s: float = 10.0) -> TargetCounts:
    """Run each (description, thunk); the thunk returns normally when the result is correct."""
    result = TargetCounts(target)
    t0 = time.monotonic()
    for description, thunk in examples:
        try:
            with time_limit(timeout_s):
                thunk()
        except Exception as exc:  # noqa: BLE001 - classifying every exception is the point
            outcome = classify_exception(exc)
            first = str(exc).splitlines()[0] if str(exc) else ""
            prefix = "" if isinstance(exc, Classified) else f"{type(exc).__name__}: "
            kind = first.split(":", 1)[0] if isinstance(exc, Classified) else type(exc).__name__
            result.add(outcome, f"{description}: {prefix}{first}"[:300], kind)
        else:
            result.add("ok", description)
    result.seconds = time.monotonic() - t0
    return result


def table(results: list[TargetCounts]) -> str:
    head = ("target", "tried", "clean error", "correct", "traceback", "hang", "silent wrong", "partial artifact", "s")
    rows = [head] + [(r.target, str(r.tried), str(r.counts["clean_error"]), str(r.counts["ok"]),
                      str(r.counts["traceback"]), str(r.counts["hang"]), str(r.counts["silent_wrong"]),
                      str(r.counts["partial_artifact"]), f"{r.seconds:.1f}") for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]

    def line(row: tuple[str, ...]) -> str:
        cells = zip(row, widths, strict=True)
        return "  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(cells))

    return "\n".join(line(row) for row in rows)


def write_counts(results: list[TargetCounts], path: Path, seed: int, examples: int) -> None:
    """Merge into build/fuzz/counts.json (one entry per target, the latest run's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, object] = json.loads(path.read_text()) if path.exists() else {}
    targets = data.get("targets") if isinstance(data.get("targets"), dict) else {}
    assert isinstance(targets, dict)
    for r in results:
        targets[r.target] = {"seed": seed, "examples_per_target": examples, **r.to_json()}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"targets": targets}, indent=2) + "\n")
    tmp.replace(path)
