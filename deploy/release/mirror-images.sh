#!/usr/bin/env bash
# Copy every third-party image in deploy/release/mirrors.txt into REGISTRY/mirror/ (all
# architectures, digests unchanged), so the cluster pulls only from the project's registry.
#   deploy/release/mirror-images.sh ghcr.io/your-org     # needs crane (go-containerregistry)
# Install crane: https://github.com/google/go-containerregistry/releases (one static binary),
# then `crane auth login ghcr.io -u USER --password-stdin` once.
set -euo pipefail
registry=${1:?usage: mirror-images.sh REGISTRY}
here=$(cd "$(dirname "$0")" && pwd)
command -v crane >/dev/null || { echo "crane not found: see the header of $0" >&2; exit 2; }
while read -r upstream name; do
  case $upstream in ''|'#'*) continue ;; esac
  echo "$upstream → $registry/mirror/$name"
  crane copy "$upstream" "$registry/mirror/$name"
done < "$here/mirrors.txt"
