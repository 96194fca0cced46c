"""Every shipped recipe's train section validates; GPU-only features fail clearly on CPU."""

import pytest
import torch

from taigimed.config import ConfigError, list_recipes, load_config
from taigimed.train.model import TrainSetupError, check_device_features, pick_device


@pytest.mark.parametrize("recipe", list_recipes())
def test_recipes_load(recipe):
    cfg = load_config(recipe)
    assert cfg.train.stage1.max_steps >= 1


def test_gpu_recipe_is_complete_and_refuses_cpu():
    cfg = load_config("gpu-7b")
    assert cfg.train.device == "cuda"
    assert cfg.train.precision == "bf16-autocast" and cfg.train.gradient_checkpointing
    assert cfg.train.stage2.method in ("lora", "qlora")
    if not torch.cuda.is_available():
        with pytest.raises(TrainSetupError, match="no CUDA"):
            pick_device(cfg.train)
    with pytest.raises(TrainSetupError, match="qlora needs CUDA"):
        check_device_features(
            cfg.train, cfg.train.stage2.model_copy(update={"method": "qlora"}), "cpu"
        )
    bad = cfg.train.model_copy(update={"precision": "fp16-autocast"})
    with pytest.raises(TrainSetupError, match="needs a GPU"):
        check_device_features(bad, cfg.train.stage1, "cpu")


def test_micro_batch_must_divide_batch():
    with pytest.raises(ConfigError, match="micro_batch_rows"):
        load_config("tiny", ["train.stage1.micro_batch_rows=3"])


@pytest.mark.parametrize("name", ["ddp", "fsdp"])
def test_accelerate_configs_load(name):
    from accelerate.commands.config.config_args import load_config_from_file

    from taigimed.config import recipe_dir

    cfg = load_config_from_file(str(recipe_dir() / "accelerate" / f"{name}.yaml"))
    assert cfg.distributed_type.value == {"ddp": "MULTI_GPU", "fsdp": "FSDP"}[name]
    assert cfg.mixed_precision == "no"  # our own autocast keeps fp32 master weights
