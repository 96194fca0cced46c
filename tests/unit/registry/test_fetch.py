"""`taigimed deploy fetch-model`: the folder vLLM serves, resolved like `taigimed serve` does."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from taigimed.cli import app as cli_app
from taigimed.config import load_config
from taigimed.registry.fetch import FetchError, fetch_model
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


def _fetch_cli(tmp_path, model: str):
    args = ["deploy", "fetch-model", "--config", "tiny", "--workdir", str(tmp_path / "w")]
    return CliRunner().invoke(cli_app, [*args, "--model", model, "--out", str(tmp_path / "o")])


def test_unknown_alias_is_a_clear_error(tmp_path):
    result = _fetch_cli(tmp_path, "canary")
    assert result.exit_code == 1
    assert "no version of 'taigimed' holds the alias 'canary'" in result.output
    assert not (tmp_path / "o").exists()


def test_a_folder_that_is_not_a_model_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    result = _fetch_cli(tmp_path, str(tmp_path / "empty"))
    assert result.exit_code == 1
    assert "is a folder without config.json, not a model" in result.output
    assert not (tmp_path / "o").exists()
    with pytest.raises(FetchError, match=r"without config\.json"):
        fetch_model(load_config("tiny"), Workdir.resolve(tmp_path / "w"), str(tmp_path / "empty"),
                    tmp_path / "o")  # fmt: skip
