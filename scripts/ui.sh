#!/usr/bin/env bash
# Start the Dagster UI on http://127.0.0.1:${PORT:-3000} with DAGSTER_HOME inside the data folder.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/trader ui --port "${PORT:-3000}"
