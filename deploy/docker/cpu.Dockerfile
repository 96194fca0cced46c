# syntax=docker/dockerfile:1.7
# TaigiMed CPU image: every pipeline step (`taigimed data|train|eval|model|pipeline ...`) and the
# server with the built-in engine. Build from the repository root:
#   docker build -f deploy/docker/cpu.Dockerfile \
#     --build-arg VERSION=$(.venv/bin/taigimed version) --build-arg GIT_COMMIT=$(git rev-parse HEAD) \
#     -t ghcr.io/taigimed/taigimed-cpu:0.1.0 .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
# kubectl for the workflow steps that restart Deployments and check the version they serve
# (deploy/argo): built into this image, so no third-party kubectl image (bitnami's version
# tags were removed from Docker Hub) is needed. Checked against the release's own sha256.
ARG KUBECTL_VERSION=v1.32.4

FROM ${PYTHON_IMAGE} AS kubectl
ARG KUBECTL_VERSION
ARG TARGETARCH=amd64
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && curl -fsSLo /usr/local/bin/kubectl "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${TARGETARCH}/kubectl" \
 && echo "$(curl -fsSL "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${TARGETARCH}/kubectl.sha256")  /usr/local/bin/kubectl" | sha256sum --check \
 && chmod 0755 /usr/local/bin/kubectl

FROM ${PYTHON_IMAGE} AS builder
# Compilers only here: some wheels (datasketch deps, psycopg fallbacks) may need them.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential git \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY requirements/ requirements/
COPY scripts/ scripts/
COPY configs/ configs/
COPY src/ src/
# The CPU build of the pinned torch first: from PyPI the same version pulls several GB of CUDA.
# Then the README's own setup (scripts/setup.sh: .venv + constraints + editable install).
RUN python -m venv .venv \
 && .venv/bin/python -m pip install --no-cache-dir --upgrade pip wheel \
 && .venv/bin/python -m pip install --no-cache-dir -c requirements/constraints.txt \
      --index-url https://download.pytorch.org/whl/cpu torch \
 && PIP_NO_CACHE_DIR=1 bash scripts/setup.sh \
 && .venv/bin/python -m pip install --no-cache-dir -c requirements/constraints.txt -e ".[postgres]"

FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=0.0.0
ARG GIT_COMMIT=unknown
LABEL org.opencontainers.image.title="taigimed-cpu" \
      org.opencontainers.image.description="TaigiMed pipeline steps and server (CPU)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${GIT_COMMIT}" \
      org.opencontainers.image.source="https://github.com/taigimed/taigimed" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --gid 10001 taigimed \
 && useradd --uid 10001 --gid taigimed --home-dir /var/lib/taigimed --create-home taigimed
# The editable install needs the same paths as in the builder.
COPY --from=builder /app /app
COPY --from=kubectl /usr/local/bin/kubectl /usr/local/bin/kubectl
ENV PATH=/app/.venv/bin:$PATH \
    TAIGIMED_HOME=/var/lib/taigimed \
    OMP_WAIT_POLICY=PASSIVE \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /var/lib/taigimed
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["taigimed"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
