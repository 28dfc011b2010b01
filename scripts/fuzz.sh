#!/usr/bin/env bash
# The fuzz harness (tests/fuzz): .tflite reader/compiler/build, CSV and RESD readers, the UART protocol on the
# emulated firmware. Prints the counts table per target and writes build/fuzz/counts.json; rc 1 if any target
# had a traceback, hang, silently wrong result or partial artifact.
#   scripts/fuzz.sh                 the bounded run (as in CI: $TINYML_FUZZ_EXAMPLES or 300 per target)
#   scripts/fuzz.sh --long          20,000 examples per target (about half an hour on 2 cores)
#   scripts/fuzz.sh --examples N --seed S --targets csv resd ...   (python -m tests.fuzz --help)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3
args=()
for a in "$@"; do
  if [ "$a" = "--long" ]; then args+=(--examples 20000); else args+=("$a"); fi
done
exec env PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m tests.fuzz "${args[@]}"
