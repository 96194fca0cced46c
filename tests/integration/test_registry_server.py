"""The registry against a real `mlflow server` process (proxied artifacts)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from taigimed.config import load_config
from taigimed.registry import find_champion, promote, register_model, resolve_model
from taigimed.workdir import Workdir

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    log = (root / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "mlflow", "server",
            "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination", str(root / "artifacts"),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        # No background job runner: it forks seven consumers we do not need.
        env={
            **os.environ,
            "OMP_WAIT_POLICY": "PASSIVE",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        },
        start_new_session=True,  # so teardown can stop the server's whole process group
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"mlflow server exited: {(root / 'server.log').read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        _stop(proc)
        pytest.fail("mlflow server did not answer /health within 120 s")
    yield url
    _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def test_register_promote_resolve_through_a_server(
    mlflow_server, tiny_model_dir, tmp_path, monkeypatch
):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    cfg = load_config("tiny")
    wd = Workdir.resolve(tmp_path / "work")
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"schema": 1, "sets": {}}))
    decision = {"passed": True, "reasons": ["all 0 checks passed"], "checks": []}
    rv = register_model(
        cfg, wd, tiny_model_dir, eval_report=report, decision=decision,
        lineage={"data_version": "v1"}, tracking_uri=mlflow_server,
    )  # fmt: skip
    assert rv.source.startswith("mlflow-artifacts:")  # stored by the server, not on our disk
    promote(cfg, wd, "production", tracking_uri=mlflow_server)
    resolved = resolve_model(wd, cfg, None, tracking_uri=mlflow_server)
    assert (resolved.version, resolved.alias) == (rv.version, "production")
    assert (resolved.path / "model.safetensors").read_bytes() == (
        tiny_model_dir / "model.safetensors"
    ).read_bytes()
    champion = find_champion(cfg, wd, tracking_uri=mlflow_server)
    assert champion.version == rv.version and champion.report == {"schema": 1, "sets": {}}
    assert not (wd.mlflow / "mlflow.db").exists()  # the server URI was used throughout
