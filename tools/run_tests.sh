#!/usr/bin/env bash
# The test command: set up .venv if needed, lint (ruff check), check the
# formatting (ruff format --check), then run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest -q "$@"
