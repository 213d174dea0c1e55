#!/usr/bin/env bash
# Create (or reuse) the virtual environment at .venv with the verified pins.
# Idempotent: reinstalls only when requirements*.txt, setup.py or this
# script changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
stamp_of() {
  cat requirements.txt requirements-dev.txt setup.py tools/setup_env.sh |
    sha256sum | cut -d' ' -f1
}
want=$(stamp_of)
if [ -x .venv/bin/python ] && [ "$(cat .venv/.mmfashion_attr-stamp 2>/dev/null)" = "$want" ]; then
  exit 0
fi
echo "== setting up .venv (about 3 minutes on a fresh machine)"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade 'pip<27' 2>&1 | grep -v 'is ignored' || true
# The pins of requirements.txt, torch among them, so that nothing pulls
# another build; setuptools<81 keeps pkg_resources for mmengine.
.venv/bin/python -m pip install -q -r requirements-dev.txt 2>&1 | grep -v 'is ignored' || true
.venv/bin/python -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | grep -v 'is ignored' || true
# The tools share helpers as the package `tools` (tools/common): make the
# repository root importable in .venv, wherever a tool is started from.
site=$(.venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "$PWD" > "$site/mmfashion_attr_repo.pth"
.venv/bin/python -c "import mmfashion_attr, tools.common" 2>/dev/null || {
  echo "setup failed: 'import mmfashion_attr, tools.common' does not work in .venv" >&2; exit 1; }
echo "$want" > .venv/.mmfashion_attr-stamp
