"""Every shipped recipe loads, and bad configs fail at start-up naming the field."""

import hashlib
import json
from pathlib import Path

import pytest
import typer

from taigimed.config import Config, ConfigError, list_recipes, load_config, resolve_recipe


@pytest.mark.parametrize("name", list_recipes())
def test_every_shipped_recipe_loads(name):
    cfg = load_config(name)
    assert isinstance(cfg, Config)
    assert cfg.name == name
    first_line = resolve_recipe(name).read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("#"), "each recipe starts with a comment showing how to run it"


def test_expected_recipes_are_shipped():
    assert {"default", "tiny", "gpu-7b"} <= set(list_recipes())


def test_unknown_field_is_named(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  stage1:\n    learnig_rate: 0.1\n")
    with pytest.raises(ConfigError, match=r"train\.stage1\.learnig_rate"):
        load_config(bad)


def test_bad_value_is_named(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("serve:\n  port: 99999\n")
    with pytest.raises(ConfigError, match=r"serve\.port"):
        load_config(bad)


def test_override_sets_a_nested_field():
    cfg = load_config("tiny", ["train.stage1.max_steps=7", "model.dtype=bfloat16"])
    assert cfg.train.stage1.max_steps == 7
    assert cfg.model.dtype == "bfloat16"


def test_override_without_equals_is_rejected():
    with pytest.raises(ConfigError, match=r"section\.field=value"):
        load_config("tiny", ["train.stage1.max_steps"])


def test_unknown_recipe_lists_the_shipped_ones():
    with pytest.raises(ConfigError, match="tiny"):
        load_config("no-such-recipe")


def test_fingerprint_depends_only_on_named_sections():
    a = load_config("tiny")
    b = load_config("tiny", ["serve.port=9001"])
    assert a.fingerprint("data") == b.fingerprint("data")
    assert a.fingerprint() != b.fingerprint()


def test_fingerprint_values_stay_those_of_recorded_runs():
    """Training runs resume only with the same fingerprint: its value must not drift."""
    cfg = load_config("tiny")
    dumped = cfg.model_dump(mode="json")
    old = hashlib.sha256(json.dumps({"data": dumped["data"]}, sort_keys=True).encode())
    assert cfg.fingerprint("data") == old.hexdigest()


def test_override_through_a_field_that_is_not_a_section_is_named():
    with pytest.raises(ConfigError, match=r"'seed' is not a section"):
        load_config("tiny", ["seed.value=3"])


def test_part_reads_dotted_paths_and_drops_inside_them():
    cfg = load_config("tiny")
    part = cfg.part("train.stage1", "seed", drop=("train.stage1.learning_rate",))
    assert part["seed"] == cfg.seed
    assert "learning_rate" not in part["train.stage1"]
    assert part["train.stage1"]["max_steps"] == cfg.train.stage1.max_steps
    with pytest.raises(ConfigError, match="not a section"):
        cfg.part("seed.value")


def test_serve_options_go_through_the_override_path():
    from taigimed.cli_options import load
    from taigimed.serve.cli import serve_overrides

    sets = serve_overrides(["serve.port=9001"], {"model": "3", "port": 8123, "host": None})
    cfg = load("tiny", sets)
    assert cfg.serve.model == "3" and cfg.serve.port == 8123  # the option wins over --set
    assert cfg.serve.host == load_config("tiny").serve.host
    with pytest.raises(typer.Exit):  # validated like any recipe: exit 2 with the field
        load("tiny", serve_overrides(None, {"port": 99999}))
