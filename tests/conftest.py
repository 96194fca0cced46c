"""Shared fixtures: a tiny random Llama, a throwaway work directory, the real data root."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import shared_data_root


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = shared_data_root()
    if root is None:
        pytest.skip(
            "real data not found: set TAIGIMED_DATA_ROOT to a folder laid out like shared/data"
        )
    return root


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random Llama with tokenizer and chat template, built once per session."""
    from taigimed.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-random")


@pytest.fixture()
def workdir(tmp_path, monkeypatch) -> Path:
    """An empty work directory that TAIGIMED_HOME points at for this test."""
    wd = tmp_path / "work"
    monkeypatch.setenv("TAIGIMED_HOME", str(wd))
    return wd
