#!/usr/bin/env bash
# Install the real services the integration tests talk to: PostgreSQL, Prometheus,
# Chromium with a CJK font and Latin fonts that draw Tâi-lô tone marks (DejaVu, Noto),
# and llama-cpp-python's OpenAI-compatible server.
# Needs root (apt-get). Safe to re-run: what is installed is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(postgresql prometheus chromium fonts-wqy-zenhei fonts-dejavu-core fonts-noto-core)
missing=()
for d in "${debs[@]}"; do dpkg -s "$d" >/dev/null 2>&1 || missing+=("$d"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-services: need root to apt-get install ${missing[*]}" >&2; exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# llama-cpp-python compiles from source (several minutes the first time); a portable
# build without llava is smaller, and pip's wheel cache makes the next install instant.
if ! .venv/bin/python -c "import llama_cpp.server" 2>/dev/null; then
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF" \
    .venv/bin/python -m pip install -q "llama-cpp-python[server]==0.3.36"
fi
