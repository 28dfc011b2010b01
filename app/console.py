"""What the CLI prints and how it ends: quiet/verbose, results on stdout (JSON or tables), exit codes.

Quiet by default: TensorFlow, Keras and absl chatter is off (training/tf_quiet.py); `-v/--verbose` brings it
all back. Progress bars and step lines go to stderr when a command prints JSON, so stdout holds nothing else.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TextIO

from tinyml_disco.sim.errors import ElfFormatError, EmulationError
from tinyml_disco.sim.protocol import ProtocolError
from tinyml_disco.training import tf_quiet

OK = 0
FAILED = 1  # the thing tested failed: PRED != TFLM, not bit-exact, the firmware faulted, hung or replied wrongly
USAGE = 2  # usage, input or setup error: bad option or value, missing or malformed file, missing tool or package
INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)

EXIT_CODES = (f"exit codes: {OK} ok; {FAILED} the thing tested failed (PRED lines != TFLM, not bit-exact, the "
              f"firmware faulted, hung or replied wrongly on the board); {USAGE} usage, input or setup error (bad "
              f"option or value, missing or malformed file, missing tool or package, a build that failed); "
              f"{INTERRUPTED} interrupted (Ctrl-C)")


class CheckFailed(Exception):
    """A measured result failed its check (exit code 1); the message says which and by how much."""


def configure(verbose: bool) -> None:
    """Before anything imports TensorFlow: quiet (default) or verbose (-v) for the whole process."""
    os.environ[tf_quiet.VERBOSE_ENV] = "1" if verbose else "0"
    tf_quiet.quiet_env()


def detail(msg: str) -> None:
    """A step line that only -v shows (the demo's per-step lines; its bars and tables say enough)."""
    if tf_quiet.verbose():
        print(msg)


@contextlib.contextmanager
def results(as_json: bool) -> Iterator[TextIO]:
    """Yields the stream for the command's result. With --json, everything else printed meanwhile (step lines)
    goes to stderr, so stdout carries the JSON document alone."""
    real = sys.stdout
    if not as_json:
        yield real
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield real


def exit_code(exc: BaseException, command: str, interrupted_where: str = "") -> int | None:
    """One line on stderr for an expected failure and its exit code; None for a bug (the caller re-raises).
    interrupted_where: said after "interrupted" (e.g. "; nothing partial was left in build/mlp")."""
    prefix = f"tinyml-disco {command}"
    if isinstance(exc, KeyboardInterrupt):
        print(f"{prefix}: interrupted{interrupted_where}", file=sys.stderr)
        return INTERRUPTED
    # The firmware said the wrong thing, faulted or hung (a file that is no ARM ELF is an input error).
    if isinstance(exc, (ProtocolError, EmulationError)) and not isinstance(exc, ElfFormatError):
        print(f"{prefix}: failed: {exc}", file=sys.stderr)
        return FAILED
    if isinstance(exc, CheckFailed):
        print(f"{prefix}: check failed: {exc}", file=sys.stderr)
        return FAILED
    if isinstance(exc, ImportError):
        print(f"{prefix}: error: missing Python package {exc.name!r}; run scripts/bootstrap.sh (it installs the "
              "pinned packages from pyproject.toml)", file=sys.stderr)
        return USAGE
    if isinstance(exc, (FileNotFoundError, ValueError, RuntimeError, OSError)):
        print(f"{prefix}: error: {exc}", file=sys.stderr)
        return USAGE
    return None


def bench_checks(results_: list[dict]) -> list[str]:
    """What bench/demo hold as failures: the firmware's PRED lines or INFER outputs differ from TFLM's, or the
    host-compiled C kernels are not bit-exact with TFLM."""
    bad = []
    for r in results_:
        for key, what in (("device_pred_matches_tflm", "PRED lines equal to TFLM"),
                          ("bitexact_rate_device", "INFER outputs bit-exact on the board"),
                          ("bitexact_rate", "host C kernels bit-exact")):
            if r.get(key, 1.0) < 1.0:
                bad.append(f"{r['model']}: {what} {r[key] * 100:.2f}%, expected 100%")
    return bad
