"""One real MLflow SQLite store per module (creating its schema takes seconds); each test
registers under its own model name so tests stay independent."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from taigimed.config import load_config
from taigimed.workdir import Workdir


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> tuple[Workdir, str]:
    wd = Workdir.resolve(tmp_path_factory.mktemp("registry-work"))
    return wd, f"sqlite:///{wd.root / 'mlflow.db'}"


@pytest.fixture()
def cfg(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    c = load_config("tiny")
    c.tracking.registered_model = f"tm-{uuid.uuid4().hex[:8]}"
    return c


@pytest.fixture()
def report_file(tmp_path) -> Path:
    path = tmp_path / "report.json"
    report = {
        "schema": 1,
        "sets": {"medqa_tw": {"metrics": {"acc": {"value": 0.3, "n": 10}}, "items": []}},
    }
    path.write_text(json.dumps(report))
    return path
