"""`taigimed serve --model staging` before the first training run: the staging overlay sets
serve.base_until_registered, so the server serves the base instead of crash-looping; the
registry's answer still wins once a version holds the alias."""

from __future__ import annotations

import pytest

from taigimed.registry import RegistryError, register_model
from taigimed.serve.model_source import build_engine

PASSED = {"passed": True, "reasons": ["all 1 checks passed"], "checks": []}


def _serving(cfg, uri, **serve):
    c = cfg.model_copy(deep=True)
    c.tracking.tracking_uri = uri
    c.serve.engine = "builtin"
    c.serve.device = "cpu"
    c.serve.model = "staging"
    for k, v in serve.items():
        setattr(c.serve, k, v)
    return c


def test_empty_registry_serves_the_base_then_the_staged_version(
    store, cfg, tiny_model_dir, report_file
):
    wd, uri = store
    engine = build_engine(_serving(cfg, uri, base_until_registered=True), wd)
    assert engine.info.model_version == "base:tiny-random"
    assert "no version holds 'staging' yet" in engine.info.source

    register_model(
        cfg, wd, tiny_model_dir, eval_report=report_file, decision=PASSED,
        lineage={"data_version": "v-test"}, tracking_uri=uri,
    )  # fmt: skip
    engine = build_engine(_serving(cfg, uri, base_until_registered=True), wd)
    assert engine.info.model_version == f"{cfg.tracking.registered_model}/v1"


def test_without_the_setting_an_unheld_alias_is_an_error(store, cfg):
    wd, uri = store
    with pytest.raises(RegistryError, match="alias 'staging'"):
        build_engine(_serving(cfg, uri), wd)


def test_an_unreachable_registry_is_never_mistaken_for_an_empty_one(cfg, workdir, monkeypatch):
    from taigimed.workdir import Workdir

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "3")
    with pytest.raises(RegistryError, match="did not answer"):
        build_engine(
            _serving(cfg, "http://127.0.0.1:9", base_until_registered=True),
            Workdir.resolve(workdir),
        )
