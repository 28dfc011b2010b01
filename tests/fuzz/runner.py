"""One entry point per fuzz target for pytest and the command line: seed, example count, counts file."""

from __future__ import annotations

import os
import random
from pathlib import Path

from tests.fuzz import harness, targets, uart
from tests.fuzz.harness import REPO, TargetCounts, run_examples

SEED = 20261126
# Examples per target in the bounded (CI) run; TINYML_FUZZ_EXAMPLES overrides it (scripts/fuzz.sh --long: 20000).
DEFAULT_EXAMPLES = 300
COUNTS_JSON = REPO / "build" / "fuzz" / "counts.json"
TARGETS = ("tflite_bytes", "tflite_structure", "build", "csv", "recording", "resd", "uart", "uart_cnn")
# The UART targets' firmware: mlp (6-byte input: the 64-byte line limit) and cnn (384 bytes: a 776-byte limit).
UART_MODELS = {"uart": "mlp", "uart_cnn": "cnn"}


def default_examples() -> int:
    text = os.environ.get("TINYML_FUZZ_EXAMPLES", "").strip()
    return int(text) if text else DEFAULT_EXAMPLES


def bounded_run(target: str, work: Path) -> tuple[TargetCounts, str]:
    """One target as the test suite runs it: the fixed seed, default_examples(), merged into COUNTS_JSON.
    Returns the counts and a report: the table, then every failing example."""
    n = default_examples()
    result = run_target(target, random.Random(f"{SEED}:{target}"), n, work)
    harness.write_counts([result], COUNTS_JSON, SEED, n)
    report = "\n".join([harness.table([result]), *(f"{outcome}: {d}" for outcome, seen in result.examples.items()
                                                    for d in seen)])
    return result, report


def run_target(target: str, rng: random.Random, n: int, work: Path, elf: Path | None = None) -> TargetCounts:
    if target == "tflite_bytes":
        return run_examples(target, targets.tflite_bytes_examples(rng, n))
    if target == "tflite_structure":
        return run_examples(target, targets.tflite_structure_examples(rng, n))
    if target == "build":
        # Fewer: each example writes files and measures the TFLM arena. The worker process has its own 20 s limit
        # (+30 s for its imports on the first example); SIGALRM here only backs it up.
        return run_examples(target, targets.build_examples(rng, max(1, n // 3)), timeout_s=60.0)
    if target == "csv":
        return run_examples(target, targets.csv_examples(rng, n))
    if target == "recording":
        return run_examples(target, targets.recording_examples(rng, n))
    if target == "resd":
        return run_examples(target, targets.resd_examples(rng, n))
    if target in UART_MODELS:
        model = UART_MODELS[target]
        elf = elf or uart.build_fixture_elf(model, work)
        tflite = (targets.FIXTURES / model / "model.tflite").read_bytes()
        # Fewer for the cnn: its INFER lines are 776 bytes and each runs ~60,000 instructions.
        count = n if model == "mlp" else max(1, n // 6)
        return run_examples(target, uart.uart_examples(rng, count, elf, tflite, uart.input_size(tflite)))
    raise ValueError(f"unknown fuzz target {target!r}; choose one of {', '.join(TARGETS)}")
