#!/usr/bin/env bash
# Release step: pin every image the manifests run to the digest the registry serves now, so
# the cluster runs exactly the bytes that were tested. Git keeps version tags (readable,
# buildable); the release job runs this on its checkout after pushing the images, then
# applies (or commits to the release branch) the pinned tree.
#   deploy/release/pin-digests.sh 0.1.0 [REGISTRY]   # needs crane (see mirror-images.sh) and kustomize
# Run after deploy/release/retarget.sh REGISTRY and mirror-images.sh REGISTRY.
set -euo pipefail
version=${1:?usage: pin-digests.sh VERSION [REGISTRY]}
registry=${2:-ghcr.io/taigimed}
root=$(cd "$(dirname "$0")/.." && pwd)
command -v crane >/dev/null || { echo "crane not found: see deploy/release/mirror-images.sh" >&2; exit 2; }

refs=()
for flavour in cpu cuda rocm server; do refs+=("$registry/taigimed-$flavour:$version"); done
while read -r upstream name; do
  case $upstream in ''|'#'*) continue ;; esac
  refs+=("$registry/mirror/$name")
done < "$root/release/mirrors.txt"

declare -A pinned
for ref in "${refs[@]}"; do
  digest=$(crane digest "$ref")
  pinned[$ref]="${ref%:*}@$digest"
  echo "$ref → ${pinned[$ref]}"
done

# Kubernetes: a kustomize images entry (name → digest) in every kustomization that renders pods.
for dir in overlays/staging overlays/production overlays/canary/app platform; do
  for ref in "${refs[@]}"; do
    (cd "$root/k8s/$dir" && kustomize edit set image "${ref%:*}=${pinned[$ref]}")
  done
done

# Argo: the image parameters' defaults.
for ref in "${refs[@]}"; do
  sed -i "s|$ref\b|${pinned[$ref]}|g" "$root"/argo/*.yaml
done
