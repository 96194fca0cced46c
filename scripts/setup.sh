#!/usr/bin/env bash
# Set up TaigiMed in ./.venv on a fresh machine (Debian/Ubuntu, Python 3.11).
#
#   bash scripts/setup.sh            # the package and what the main job needs
#   bash scripts/setup.sh --dev      # plus test tools and the real services the tests talk to
#
# Idempotent: a second run only checks. pip's wheel cache makes re-runs fast.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
for arg in "$@"; do
  case "$arg" in
    --dev) dev=1 ;;
    *) echo "usage: bash scripts/setup.sh [--dev]" >&2; exit 2 ;;
  esac
done

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip wheel
fi
pip() { .venv/bin/python -m pip "$@"; }

constraints=()
[ -f requirements/constraints.txt ] && constraints=(-c requirements/constraints.txt)

if [ "$dev" = 1 ]; then
  pip install -q "${constraints[@]}" -e ".[dev]"
  bash scripts/install-services.sh
else
  pip install -q "${constraints[@]}" -e .
fi
echo "TaigiMed is set up in .venv ($(.venv/bin/taigimed version))."
