"""The console script: recipes, overrides and user errors without tracebacks."""

import yaml
from typer.testing import CliRunner

from taigimed.cli import app

runner = CliRunner()


def test_config_show_applies_overrides():
    result = runner.invoke(app, ["config", "show", "--config", "tiny", "--set", "seed=7"])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.output)["seed"] == 7


def test_config_error_exits_2_with_the_field_named(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("modle:\n  base: x\n")
    result = runner.invoke(app, ["config", "show", "--config", str(bad)])
    assert result.exit_code == 2
    assert "modle" in result.output
    assert "Traceback" not in result.output


def test_recipes_are_listed():
    result = runner.invoke(app, ["config", "recipes"])
    assert result.exit_code == 0
    assert {"default", "tiny", "gpu-7b"} <= set(result.output.split())


def test_base_models_and_registered_models_have_distinct_groups():
    names = {g.name for g in app.registered_groups}
    assert {"base-model", "model"} <= names and "models" not in names
    result = runner.invoke(app, ["base-model", "--help"])
    assert result.exit_code == 0 and "pull" in result.output
