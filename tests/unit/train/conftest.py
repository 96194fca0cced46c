"""Fixtures for training tests: hand-made prepared data and one shared MLflow store."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "train_prepared_data", Path(__file__).with_name("prepared_data.py")
)
prepared_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(prepared_data)


@pytest.fixture(scope="session")
def prepared_dir(tmp_path_factory) -> Path:
    return prepared_data.make_prepared(tmp_path_factory.mktemp("data") / "v-test")


@pytest.fixture(scope="session")
def mlflow_uri(tmp_path_factory) -> str:
    """One real SQLite MLflow store for the session: creating one runs ~60 Alembic
    migrations (20-30 s on this disk), which every test would otherwise pay."""
    import mlflow

    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mlflow.MlflowClient(uri).search_experiments()  # creates the tables
    return uri
