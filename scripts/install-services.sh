#!/usr/bin/env bash
# Install the real services the integration tests talk to: PostgreSQL, Prometheus,
# Chromium with a CJK font and Latin fonts that draw Tâi-lô tone marks (DejaVu, Noto).
# (llama-cpp-python, which serving needs too, is installed by scripts/setup.sh.)
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
