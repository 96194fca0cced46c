"""Fixtures for the data pipeline: a Config whose sources are the hand-made files in
tests/assets/data (no network, no shared data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from taigimed.config import load_config
from taigimed.workdir import Workdir

DATA_ASSETS = Path(__file__).resolve().parents[2] / "assets" / "data"


def fixture_overrides(**extra) -> list[str]:
    values = {
        "data.medqa_dir": str(DATA_ASSETS / "medqa"),
        "data.textbooks_dir": str(DATA_ASSETS / "textbooks"),
        "data.sinica_file": str(DATA_ASSETS / "sinica_small.txt"),
        "data.parallel_file": str(DATA_ASSETS / "parallel.jsonl"),
        "data.workers": "1",
        "data.min_text_chars": "10",
        "data.dataset_caps": "{}",
        "data.max_rows_per_source": "null",
        **extra,
    }
    return [f"{k}={v}" for k, v in values.items()]


@pytest.fixture()
def asset_cfg(monkeypatch):
    monkeypatch.delenv("TAIGIMED_DATA_ROOT", raising=False)
    return load_config("tiny", fixture_overrides())


@pytest.fixture()
def wd(tmp_path, monkeypatch) -> Workdir:
    monkeypatch.delenv("TAIGIMED_DATA_ROOT", raising=False)
    return Workdir(tmp_path / "work")
