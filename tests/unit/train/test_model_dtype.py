"""The starting weights' dtype, QLoRA's loading path, and the dtype merged models are saved in."""

from __future__ import annotations

import json

import pytest
import torch

from taigimed.config import load_config
from taigimed.train.model import (
    TrainSetupError,
    base_weight_dtype,
    check_device_features,
    load_kwargs,
    load_model,
    save_outputs,
)


def _cfg(*sets: str):
    return load_config("tiny", list(sets))


@pytest.mark.parametrize(
    ("precision", "method", "expected"),
    [
        ("bf16-autocast", "lora", torch.bfloat16),  # gpu-7b: frozen base in bf16
        ("bf16", "lora", torch.bfloat16),
        ("bf16", "full", torch.bfloat16),
        ("bf16-autocast", "qlora", torch.bfloat16),
        ("bf16-autocast", "full", torch.float32),  # AdamW needs fp32 masters
        ("fp32", "lora", torch.float32),
        ("fp16-autocast", "lora", torch.float32),
    ],
)
def test_base_dtype_follows_the_compute_dtype(precision, method, expected):
    cfg = _cfg(f"train.precision={precision}", f"train.stage2.method={method}")
    assert base_weight_dtype(cfg.train, cfg.train.stage2) == expected


def test_gpu_recipe_loads_its_7b_base_in_bf16():
    cfg = load_config("gpu-7b")
    for stage in (cfg.train.stage1, cfg.train.stage2):
        assert load_kwargs(cfg.train, stage)["dtype"] == torch.bfloat16


def test_lora_on_bf16_autocast_has_a_bf16_base_and_fp32_adapters(tiny_model_dir):
    cfg = _cfg("train.precision=bf16-autocast", "train.stage2.method=lora")
    model = load_model(str(tiny_model_dir), cfg.train, cfg.train.stage2, "cpu", False)
    frozen = {p.dtype for p in model.parameters() if not p.requires_grad}
    trained = {p.dtype for p in model.parameters() if p.requires_grad}
    assert frozen == {torch.bfloat16}
    assert trained == {torch.float32}


def test_full_fine_tuning_keeps_fp32_masters(tiny_model_dir):
    cfg = _cfg("train.precision=bf16-autocast", "train.stage1.method=full")
    model = load_model(str(tiny_model_dir), cfg.train, cfg.train.stage1, "cpu", False)
    assert {p.dtype for p in model.parameters()} == {torch.float32}


def test_qlora_loads_nf4_through_bitsandbytes():
    cfg = _cfg("train.stage2.method=qlora")
    kwargs = load_kwargs(cfg.train, cfg.train.stage2)
    q = kwargs["quantization_config"]
    assert q.load_in_4bit and q.bnb_4bit_quant_type == "nf4"
    assert q.bnb_4bit_compute_dtype == torch.bfloat16 and kwargs["dtype"] == torch.bfloat16


def test_qlora_on_cpu_says_what_to_use_instead():
    cfg = _cfg("train.stage2.method=qlora")
    with pytest.raises(TrainSetupError, match="method=qlora needs CUDA and bitsandbytes; use lora"):
        check_device_features(cfg.train, cfg.train.stage2, "cpu")


def test_qlora_without_bitsandbytes_names_the_package():
    import importlib.util

    if importlib.util.find_spec("bitsandbytes") is not None:
        pytest.skip("bitsandbytes is installed here")
    cfg = _cfg("train.stage2.method=qlora")
    with pytest.raises(TrainSetupError, match="pip install bitsandbytes"):
        check_device_features(cfg.train, cfg.train.stage2, "cuda")


def test_qlora_loading_path_fails_clearly_without_cuda(tiny_model_dir):
    """The real from_pretrained path: transformers' own bitsandbytes/CUDA check refuses, and
    the error says it is the qlora method that cannot load here."""
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    cfg = _cfg("train.stage2.method=qlora")
    with pytest.raises(TrainSetupError, match="method=qlora cannot load"):
        load_model(str(tiny_model_dir), cfg.train, cfg.train.stage2, "cpu", False)


@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
def test_merged_model_is_saved_in_the_recipes_dtype(tiny_model_dir, tmp_path, dtype):
    from safetensors import safe_open
    from transformers import AutoTokenizer

    cfg = _cfg("train.precision=bf16-autocast", "train.stage2.method=lora")
    model = load_model(str(tiny_model_dir), cfg.train, cfg.train.stage2, "cpu", False)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model_dir, adapter_dir = save_outputs(model, tok, tmp_path, "lora", dtype)
    assert (adapter_dir / "adapter_config.json").exists()
    with safe_open(model_dir / "model.safetensors", "pt") as f:
        dtypes = {f.get_tensor(k).dtype for k in f.keys()}  # noqa: SIM118
    assert dtypes == {getattr(torch, dtype)}
    saved = json.loads((model_dir / "config.json").read_text())
    assert saved.get("dtype", saved.get("torch_dtype")) == dtype
