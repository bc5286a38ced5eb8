#!/usr/bin/env bash
# Create .venv with Python >= 3.12 and install clustersim with its test extras.
# Idempotent: reinstalls only when pyproject.toml changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; }

find_python() {
  local c
  for c in python3.12 python3.13 python3; do
    if command -v "$c" >/dev/null 2>&1 && ok "$c"; then command -v "$c"; return 0; fi
  done
  # pyenv installs that are not on PATH (a pyenv shim answers "command not found")
  for c in "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3 /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do
    if [ -x "$c" ] && ok "$c"; then echo "$c"; return 0; fi
  done
  return 1
}

if [ ! -x .venv/bin/python ] || ! ok .venv/bin/python; then
  py=$(find_python) || {
    echo "bootstrap: clustersim needs Python >= 3.12 (Mesa 3.5 does); none was found." >&2
    echo "bootstrap: install one (e.g. 'pyenv install 3.12') and run this again." >&2
    exit 1
  }
  echo "bootstrap: creating .venv with $py"
  rm -rf .venv
  "$py" -m venv .venv
fi

stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "bootstrap: installing clustersim and its test extras into .venv (first time: a few minutes)"
  .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -m pip install --quiet -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import clustersim, mesa, hydra" || { echo "bootstrap: install failed" >&2; exit 1; }
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# Compile clustersim's sources to bytecode, as pip does for the packages it installs: an
# editable install leaves that to Python, which writes no bytecode where
# PYTHONDONTWRITEBYTECODE is set (containers, CI images), and every process then compiles
# the ~70 modules a run imports again (~0.2 s of each run). Up-to-date files are skipped.
.venv/bin/python -m compileall -q src >/dev/null
