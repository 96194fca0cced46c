# syntax=docker/dockerfile:1.7
# TaigiMed ROCm training image: `taigimed train`, `taigimed eval` and `taigimed pipeline run
# --config gpu-7b` on AMD GPUs (Chameleon's gpu_mi100). Build from the repository root:
#   docker build -f deploy/docker/rocm.Dockerfile \
#     --build-arg VERSION=$(.venv/bin/taigimed version) --build-arg GIT_COMMIT=$(git rev-parse HEAD) \
#     -t ghcr.io/taigimed/taigimed-rocm:0.1.0 .
# PyTorch's ROCm wheels carry the ROCm user-space libraries they need, so the base is plain
# Ubuntu; the node needs only the amdgpu kernel driver (the ROCm node image) and the AMD device
# plugin (Terraform gpu_vendor = "amd"). TORCH_INDEX must be the ROCm build PyTorch publishes
# for the pinned torch (requirements/constraints.txt; https://pytorch.org/get-started/locally/).
ARG BASE_IMAGE=ubuntu:24.04
ARG TORCH_INDEX=https://download.pytorch.org/whl/rocm6.4

FROM ${BASE_IMAGE} AS builder
ARG TORCH_INDEX
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python3-dev build-essential git \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY requirements/ requirements/
COPY scripts/ scripts/
COPY configs/ configs/
COPY src/ src/
# The ROCm build of the pinned torch first (torch==X matches X+rocmY), then the README's setup.
RUN python3 -m venv .venv \
 && .venv/bin/python -m pip install --no-cache-dir --upgrade pip wheel \
 && .venv/bin/python -m pip install --no-cache-dir -c requirements/constraints.txt \
      --index-url "${TORCH_INDEX}" torch \
 && PYTHON=python3 PIP_NO_CACHE_DIR=1 bash scripts/setup.sh \
 && .venv/bin/python -m pip install --no-cache-dir -c requirements/constraints.txt -e ".[postgres,qlora]"

FROM ${BASE_IMAGE} AS runtime
ARG VERSION=0.0.0
ARG GIT_COMMIT=unknown
LABEL org.opencontainers.image.title="taigimed-rocm" \
      org.opencontainers.image.description="TaigiMed training and evaluation on AMD GPUs (ROCm)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${GIT_COMMIT}" \
      org.opencontainers.image.source="https://github.com/taigimed/taigimed" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 taigimed \
 && useradd --uid 10001 --gid taigimed --home-dir /var/lib/taigimed --create-home taigimed
COPY --from=builder /app /app
ENV PATH=/app/.venv/bin:$PATH \
    TAIGIMED_HOME=/var/lib/taigimed \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /var/lib/taigimed
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=300s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["taigimed"]
CMD ["pipeline", "run", "--config", "gpu-7b"]
