#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs RideDesk from pyproject.toml.
# Re-run safely: pip only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
  py=$(scripts/find_python.sh)
  echo "==> creating .venv with $py"
  rm -rf .venv
  "$py" -m venv .venv
fi
echo "==> installing RideDesk and Rasa 3.6.21 into .venv (first time: a few minutes)"
.venv/bin/python -m pip install --quiet --upgrade "pip<25" wheel
.venv/bin/python -m pip install --quiet -e ".[test]"
