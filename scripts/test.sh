#!/usr/bin/env bash
# Tests: set up the environment, validate the Dagster definitions and the import layers, run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export VIRTUAL_ENV="$PWD/.venv" PATH="$PWD/.venv/bin:$PATH"
export TRADER_HOME="${TRADER_HOME:-$(mktemp -d -t trader-test-XXXXXX)}"
echo "test: dg check defs"
dg check defs
echo "test: lint-imports (the import layers of pyproject.toml, docs/layers.md)"
lint-imports
echo "test: pytest"
exec python -m pytest "$@"
