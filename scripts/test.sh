#!/usr/bin/env bash
# Tests: set up the environment, validate the Dagster definitions, run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export VIRTUAL_ENV="$PWD/.venv" PATH="$PWD/.venv/bin:$PATH"
export TRADER_HOME="${TRADER_HOME:-$(mktemp -d -t trader-test-XXXXXX)}"
echo "test: dg check defs"
dg check defs
echo "test: pytest"
exec python -m pytest "$@"
