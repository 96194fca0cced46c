# syntax=docker/dockerfile:1.7
# TaigiMed slim server image: `taigimed serve` only, for the upstream engine in front of vLLM
# (or the built-in engine on small CPU models). No compilers, tests, benchmarks or caches.
#   docker build -f deploy/docker/server.Dockerfile \
#     --build-arg VERSION=$(.venv/bin/taigimed version) --build-arg GIT_COMMIT=$(git rev-parse HEAD) \
#     -t ghcr.io/taigimed/taigimed-server:0.1.0 .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
WORKDIR /app
COPY pyproject.toml README.md ./
COPY requirements/ requirements/
COPY scripts/ scripts/
COPY configs/ configs/
COPY src/ src/
RUN python -m venv .venv \
 && .venv/bin/python -m pip install --no-cache-dir --upgrade pip wheel \
 && .venv/bin/python -m pip install --no-cache-dir -c requirements/constraints.txt \
      --index-url https://download.pytorch.org/whl/cpu torch \
 && PIP_NO_CACHE_DIR=1 bash scripts/setup.sh \
 && .venv/bin/python -m pip install --no-cache-dir -c requirements/constraints.txt -e ".[postgres]" \
 && find /app/.venv -name '__pycache__' -type d -prune -exec rm -rf {} + \
 && rm -rf /app/.venv/lib/python3.11/site-packages/torch/test /app/.venv/lib/python3.11/site-packages/torch/include

FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=0.0.0
ARG GIT_COMMIT=unknown
LABEL org.opencontainers.image.title="taigimed-server" \
      org.opencontainers.image.description="TaigiMed OpenAI-compatible and WebSocket chat server" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${GIT_COMMIT}" \
      org.opencontainers.image.source="https://github.com/taigimed/taigimed" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --gid 10001 taigimed \
 && useradd --uid 10001 --gid taigimed --home-dir /var/lib/taigimed --create-home taigimed
COPY --from=builder /app /app
ENV PATH=/app/.venv/bin:$PATH \
    TAIGIMED_HOME=/var/lib/taigimed \
    OMP_WAIT_POLICY=PASSIVE \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
WORKDIR /var/lib/taigimed
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["taigimed"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
