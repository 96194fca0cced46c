"""`taigimed deploy fetch-model`: the folder vLLM serves, resolved like `taigimed serve` does."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from taigimed.cli import app as cli_app
from taigimed.config import load_config
from taigimed.monitor.fetch import FetchError, fetch_model
from taigimed.workdir import Workdir


def test_fetch_copies_the_resolved_model_atomically(tiny_model_dir, tmp_path):
    out = tmp_path / "models" / "current"
    out.mkdir(parents=True)
    (out / "stale.bin").write_text("old model")
    path, _ = fetch_model(
        load_config("tiny"), Workdir.resolve(tmp_path / "w"), str(tiny_model_dir), out
    )
    assert path == out.resolve()
    assert (out / "config.json").exists() and not (out / "stale.bin").exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_unknown_alias_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(
        cli_app,
        [
            "deploy",
            "fetch-model",
            "--config",
            "tiny",
            "--workdir",
            str(tmp_path),
            "--model",
            str(tmp_path / "nope"),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 1
    assert "error:" in result.output
    assert not (tmp_path / "o").exists()


def test_fetch_error_is_raised_for_missing_models(tmp_path):
    with pytest.raises(FetchError, match="missing"):
        fetch_model(
            load_config("tiny"),
            Workdir.resolve(tmp_path),
            str(tmp_path / "missing"),
            tmp_path / "o",
        )
