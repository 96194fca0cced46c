#!/usr/bin/env bash
# Switch the GPU manifests (vLLM, the Argo GPU steps) to the vendor Terraform's gpu_vendor
# names: nvidia (the tree as committed) or amd (MI100, ROCm): resource and node keys
# amd.com/gpu, no nvidia RuntimeClass, vLLM's ROCm build, the taigimed-rocm training image.
#   deploy/release/gpu-vendor.sh "$(terraform -chdir=deploy/terraform output -raw gpu_vendor)"
# Run it on your checkout before applying; `git diff deploy/` shows what changed.
set -euo pipefail
vendor=${1:?usage: gpu-vendor.sh nvidia|amd}
root=$(cd "$(dirname "$0")/.." && pwd)
vllm_cuda=$(awk '$1 ~ /vllm-openai/ {print $2}' "$root/release/mirrors.txt")
vllm_rocm=$(awk '$1 ~ /rocm\/vllm/ {print $2}' "$root/release/mirrors.txt")
files=("$root/k8s/gpu/vllm.yaml" "$root"/argo/*.yaml)
case $vendor in
  nvidia)
    if grep -q 'amd.com/gpu' "${files[@]}"; then
      echo "the manifests are switched to amd: git checkout -- deploy/k8s deploy/argo" >&2
      exit 2
    fi
    echo "the manifests already target nvidia"
    ;;
  amd)
    for f in "${files[@]}"; do
      sed -i \
        -e 's|nvidia\.com/gpu|amd.com/gpu|g' \
        -e '/^ *runtimeClassName: nvidia$/d' \
        -e "s|podSpecPatch: &gpu-runtime '{\"runtimeClassName\": \"nvidia\"}'|podSpecPatch: \&gpu-runtime '{}'|" \
        -e "s|mirror/${vllm_cuda}|mirror/${vllm_rocm}|g" \
        -e 's|taigimed-cuda:|taigimed-rocm:|g' \
        "$f"
    done
    echo "switched ${files[*]} to amd"
    ;;
  *)
    echo "gpu_vendor must be nvidia or amd, got $vendor" >&2
    exit 2
    ;;
esac
