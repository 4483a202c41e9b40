#!/usr/bin/env bash
# Main job: set up the environment, then materialize the whole graph for the `demo` run on the
# synthetic market (2 symbols x 60 days, signal 2, the demo price plan of configs/demo.json) and print
# where the artifacts and reports are.
# Extra arguments go to `trader run demo` (e.g. --signal 0 for a no-signal run under another id).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/trader run "${RUN_ID:-demo}" --config configs/demo.json "$@"
