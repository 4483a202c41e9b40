#!/usr/bin/env bash
# Create or refresh the project virtualenv (.venv) from the pinned lock file. Idempotent and quick
# when nothing changed. Needs python3.11+ and access to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
stamp=.venv/.trader-installed
want=$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing pinned dependencies (uv)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
  # Bytecode compiled at install: with PYTHONDONTWRITEBYTECODE set, every process would otherwise compile every
  # module it imports (docs/performance.md).
  .venv/bin/uv pip install --quiet --compile-bytecode --python .venv/bin/python -r requirements.lock
  .venv/bin/uv pip install --quiet --python .venv/bin/python --no-deps -e .
  echo "$want" > "$stamp"
fi
