#!/usr/bin/env bash
# Release step: pin every image the manifests run to the digest the registry serves now, so
# the cluster runs exactly the bytes that were tested. Git keeps version tags (readable,
# buildable); the release job runs this on its checkout after pushing the images, then
# applies (or commits to the release branch) the pinned tree.
#   deploy/release/pin-digests.sh 0.1.0        # needs crane (go-containerregistry) and kustomize
set -euo pipefail
version=${1:?usage: pin-digests.sh VERSION}
root=$(cd "$(dirname "$0")/.." && pwd)

project=(ghcr.io/taigimed/taigimed-cpu ghcr.io/taigimed/taigimed-cuda ghcr.io/taigimed/taigimed-server)
third_party=(
  docker.io/vllm/vllm-openai:v0.11.0
  docker.io/library/postgres:16.6-bookworm
  quay.io/prometheus/prometheus:v2.53.3
  docker.io/grafana/grafana:11.3.1
  docker.io/bitnami/kubectl:1.32.4
)
refs=()
for image in "${project[@]}"; do refs+=("$image:$version"); done
refs+=("${third_party[@]}")

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

# Argo: the image parameters' defaults and the kubectl steps.
for ref in "${refs[@]}"; do
  sed -i "s|$ref\b|${pinned[$ref]}|g" "$root"/argo/*.yaml
done
