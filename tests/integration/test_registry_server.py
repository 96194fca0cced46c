"""The registry against a real `mlflow server` process (proxied artifacts)."""

from __future__ import annotations

import json

import pytest

import support
from taigimed.config import load_config
from taigimed.registry import find_champion, promote, register_model, resolve_model
from taigimed.workdir import Workdir

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    with support.mlflow_server(tmp_path_factory.mktemp("mlflow-server")) as url:
        yield url


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
