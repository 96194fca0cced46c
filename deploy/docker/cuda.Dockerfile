# syntax=docker/dockerfile:1.7
# TaigiMed CUDA training image: `taigimed train --stage 1|2`, `taigimed eval` and
# `taigimed pipeline run --config gpu-7b` on NVIDIA GPUs. Build from the repository root:
#   docker build -f deploy/docker/cuda.Dockerfile \
#     --build-arg VERSION=$(.venv/bin/taigimed version) --build-arg GIT_COMMIT=$(git rev-parse HEAD) \
#     -t ghcr.io/taigimed/taigimed-cuda:0.1.0 .
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

FROM ${CUDA_IMAGE} AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python3-dev build-essential git \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY requirements/ requirements/
COPY scripts/ scripts/
COPY configs/ configs/
COPY src/ src/
# The constraints file is generated on a CPU machine (torch==X+cpu); here the same torch
# version comes from PyPI, whose Linux wheel is the CUDA build.
RUN sed -i -E 's/^(torch==[0-9.]+)\+cpu$/\1/' requirements/constraints.txt \
 && PYTHON=python3 PIP_NO_CACHE_DIR=1 bash scripts/setup.sh \
 && .venv/bin/python -m pip install --no-cache-dir -c requirements/constraints.txt -e ".[postgres,qlora]"

FROM ${CUDA_IMAGE} AS runtime
ARG VERSION=0.0.0
ARG GIT_COMMIT=unknown
LABEL org.opencontainers.image.title="taigimed-cuda" \
      org.opencontainers.image.description="TaigiMed training and evaluation on NVIDIA GPUs" \
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
