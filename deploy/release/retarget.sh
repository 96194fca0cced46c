#!/usr/bin/env bash
# Point every image reference at your registry instead of ghcr.io/taigimed (where you cannot
# push): the kustomizations, the Argo templates' image parameters and Terraform's
# image_registry. Run once on your checkout after pushing the images and the mirrors.
#   deploy/release/retarget.sh ghcr.io/your-org
set -euo pipefail
registry=${1:?usage: retarget.sh REGISTRY}
root=$(cd "$(dirname "$0")/.." && pwd)
mapfile -t files < <(grep -rl 'ghcr.io/taigimed/' "$root/k8s" "$root/argo")
for f in "${files[@]}"; do
  sed -i "s|ghcr.io/taigimed/|${registry}/|g" "$f"
  echo "retargeted $f"
done
tfvars="$root/terraform/terraform.tfvars"
if [ -f "$tfvars" ] && ! grep -q '^image_registry' "$tfvars"; then
  echo "image_registry = \"$registry\"" >> "$tfvars"
  echo "set image_registry in $tfvars"
fi
