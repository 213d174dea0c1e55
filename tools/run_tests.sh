#!/usr/bin/env bash
# README command 2: set up .venv if needed, lint, then run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
.venv/bin/ruff check .
.venv/bin/python -m pytest -q "$@"
