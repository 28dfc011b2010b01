"""The fuzz harness from the command line: `python -m tests.fuzz [--examples N] [--seed S] [--targets ...]`.

Prints the counts table per target and merges it into build/fuzz/counts.json. `scripts/fuzz.sh --long` runs
20,000 examples per target."""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

from tests.fuzz import harness, runner


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=runner.default_examples(),
                    help="examples per target (default: $TINYML_FUZZ_EXAMPLES or %(default)s)")
    ap.add_argument("--seed", type=int, default=runner.SEED)
    ap.add_argument("--targets", nargs="+", choices=runner.TARGETS, default=list(runner.TARGETS))
    ap.add_argument("--out", type=Path, default=runner.COUNTS_JSON, help="counts file (default: %(default)s)")
    args = ap.parse_args(argv)
    if args.examples < 1:
        ap.error(f"--examples must be at least 1, got {args.examples}")
    results = []
    with tempfile.TemporaryDirectory(prefix="tinyml-fuzz-elf-") as tmp:
        for target in args.targets:
            r = runner.run_target(target, random.Random(f"{args.seed}:{target}"), args.examples, Path(tmp))
            results.append(r)
            print(harness.table([r]).splitlines()[-1], flush=True)
    harness.write_counts(results, args.out, args.seed, args.examples)
    print()
    print(harness.table(results))
    for r in results:
        for kind, count in sorted(r.kinds.items()):
            print(f"  {r.target} {kind} x{count}")
        for outcome, seen in r.examples.items():
            for d in seen:
                print(f"  {r.target} {outcome}: {d}")
    print(f"(counts in {args.out})")
    return 1 if any(r.failures for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
