"""The promotion's restart template decides "the new pods serve the alias's version" by
grepping their logs: its pattern must match what `deploy fetch-model` (vLLM's init
container) prints and what `taigimed serve` logs for that version, and nothing older."""

from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path

import yaml

from taigimed.registry import register_model
from taigimed.registry.fetch import fetch_model
from taigimed.serve.model_source import build_engine

REPO = Path(__file__).resolve().parents[3]
PASSED = {"passed": True, "reasons": ["all 1 checks passed"], "checks": []}


def _pattern() -> str:
    doc = yaml.safe_load((REPO / "deploy/argo/promotion-workflowtemplate.yaml").read_text())
    restart = next(t for t in doc["spec"]["templates"] if t["name"] == "restart")
    return re.search(r'grep -Eq "([^"]+)"', restart["script"]["source"]).group(1)


def _served(text: str, model: str, version: int) -> bool:
    pattern = _pattern().replace("${model}", model).replace("${version}", str(version))
    return subprocess.run(["grep", "-Eq", pattern], input=text, text=True).returncode == 0


def test_the_pattern_matches_what_pods_print(
    store, cfg, tiny_model_dir, report_file, tmp_path, caplog
):
    wd, uri = store
    name = cfg.tracking.registered_model
    for _ in range(2):  # versions 1 and 2; production-like alias on the newest
        register_model(
            cfg, wd, tiny_model_dir, eval_report=report_file, decision=PASSED,
            lineage={"data_version": "v-test"}, tracking_uri=uri,
        )  # fmt: skip
    c = cfg.model_copy(deep=True)
    c.tracking.tracking_uri = uri
    _, label = fetch_model(c, wd, "staging", tmp_path / "models" / "current")
    fetch_line = f"{label} → {tmp_path / 'models' / 'current'}"  # what the CLI echoes
    assert _served(fetch_line, name, 2)
    assert not _served(fetch_line, name, 1)
    assert not _served(fetch_line, name, 20)  # v2 must not pass for v20 or the reverse

    c.serve.engine, c.serve.device, c.serve.model = "builtin", "cpu", "staging"
    with caplog.at_level(logging.INFO, logger="taigimed.serve"):
        build_engine(c, wd)
    log = "\n".join(r.getMessage() for r in caplog.records)
    assert _served(log, name, 2)
    assert not _served(log, name, 1)
