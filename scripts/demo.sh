#!/usr/bin/env bash
# The main job end to end: bootstrap, train, compile, build firmware, run it on the emulated board,
# print accuracy, cycles, flash and RAM, and write build/mlp/bench.json. Idempotent.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/tinyml-disco" demo "$@"
