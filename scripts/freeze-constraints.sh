#!/usr/bin/env bash
# Regenerate requirements/constraints.txt from .venv after changing dependencies.
# torch keeps no local label (+cpu), so the same file works where the CUDA build is wanted.
set -euo pipefail
cd "$(dirname "$0")/.."
{
  echo "# Exact versions that CI and the container images install (pip -c)."
  echo "# Regenerate with: bash scripts/freeze-constraints.sh"
  .venv/bin/python -m pip freeze --exclude-editable | grep -v '^-e' | sed 's/^torch==\([0-9.]*\)+.*/torch==\1/'
} > requirements/constraints.txt.tmp
mv requirements/constraints.txt.tmp requirements/constraints.txt
