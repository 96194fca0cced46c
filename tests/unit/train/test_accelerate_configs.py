"""The shipped `accelerate launch` configs load in accelerate and name real launch options."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from taigimed.config import load_config

ACCELERATE = Path(__file__).resolve().parents[3] / "configs" / "accelerate"


def check_accelerate_config(path: Path):
    """Load ``path`` as ``accelerate launch --config_file`` would; check its FSDP keys and
    the launch command in its header comment. Returns the loaded config."""
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.commands.launch import launch_command_parser

    loaded = load_config_from_file(str(path))  # unknown top-level keys raise ValueError
    options = {o for a in launch_command_parser()._actions for o in a.option_strings}
    unknown = [k for k in (loaded.fsdp_config or {}) if f"--{k}" not in options]
    if unknown:
        raise ValueError(f"{path.name}: fsdp_config keys accelerate launch lacks: {unknown}")
    header = " ".join(
        line.lstrip("# ").rstrip("\\").strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    )
    command = shlex.split(header[header.index("accelerate launch") :])
    if command[command.index("--config_file") + 1] != f"configs/accelerate/{path.name}":
        raise ValueError(f"{path.name}: its launch command names another config file")
    sets = [command[i + 1] for i, word in enumerate(command) if word == "--set"]
    load_config(command[command.index("--config") + 1], sets)  # the recipe and overrides load
    return loaded


@pytest.mark.parametrize("path", sorted(ACCELERATE.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_accelerate_configs_load(path):
    loaded = check_accelerate_config(path)
    assert loaded.num_machines == 1 and loaded.num_processes >= 2
    assert str(loaded.mixed_precision) == "no"  # taigimed autocasts itself


def test_both_configs_are_shipped():
    assert {p.name for p in ACCELERATE.glob("*.yaml")} == {"ddp.yaml", "fsdp.yaml"}


@pytest.mark.parametrize(
    ("find", "replace", "error"),
    [
        ("num_processes:", "num_procesess:", "unknown keys"),
        ("fsdp_reshard_after_forward", "fsdp_reshard_afterwards", "fsdp_reshard_afterwards"),
        ("--config gpu-7b", "--config gpu-70b", "gpu-70b"),
    ],
)
def test_a_broken_config_is_refused(tmp_path, find, replace, error):
    text = (ACCELERATE / "fsdp.yaml").read_text(encoding="utf-8")
    assert find in text
    broken = tmp_path / "fsdp.yaml"
    broken.write_text(text.replace(find, replace), encoding="utf-8")
    with pytest.raises(Exception, match=error):
        check_accelerate_config(broken)
