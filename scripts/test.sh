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
# One worker per core (pytest-xdist); tests sharing a run or a file's fixtures stay on one worker (docs/testing.md).
# Later options win: `scripts/test.sh -n 0 tests/core/test_x.py` runs without workers.
echo "test: pytest"
exec python -m pytest -n "${TRADER_TEST_WORKERS:-auto}" --dist loadgroup --no-loadscope-reorder "$@"
