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
# The `auto` engine serves the model's GGUF with llama.cpp on CPU (without it, serving falls
# back to transformers in process at a fraction of the speed). It compiles from source
# (several minutes the first time); a portable build without llava is smaller, and pip's
# wheel cache makes the next install instant.
if ! .venv/bin/python -c "import llama_cpp.server" 2>/dev/null; then
  echo "setup: building llama-cpp-python for the serving engine (several minutes, once)"
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF" \
    pip install -q "llama-cpp-python[server]==0.3.36"
fi
echo "TaigiMed is set up in .venv ($(.venv/bin/taigimed version))."
