"""benchmarks/bench_gpu_lora.py: the memory formula's parameter counts are the real model's,
and the script trains on CPU with --shape tiny (the same code path a GPU runs)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from taigimed.config import load_config

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "benchmarks" / "bench_gpu_lora.py"
_spec = importlib.util.spec_from_file_location("bench_gpu_lora", SCRIPT)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


@pytest.mark.parametrize("shape", ["7b", "tiny"])
def test_parameter_counts_are_the_models(shape):
    from transformers import LlamaForCausalLM

    from taigimed.train.model import attach_adapters

    recipe = load_config("gpu-7b")
    cfg = bench.model_config(shape, None)
    with torch.device("meta"):  # no memory: shapes only
        model = LlamaForCausalLM(cfg)
    n = bench.parameter_counts(cfg, recipe.train.stage2.lora.target_modules, 64)
    assert sum(p.numel() for p in model.parameters()) == n["linear"] + n["embeddings"] + n["norms"]
    if shape == "7b":
        assert sum(p.numel() for p in model.parameters()) == 6_738_415_616  # Llama-2-7B
    with torch.device("meta"):
        peft_model = attach_adapters(model, recipe.train, recipe.train.stage2)
    trained = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    assert trained == n["lora"]


def test_the_7b_estimate_and_table():
    recipe = load_config("gpu-7b")
    cfg = bench.model_config("7b", None)
    lora = bench.estimate_gb(cfg, recipe.train.stage2, recipe.train.loss_chunk_tokens, "lora")
    fp32 = bench.estimate_gb(cfg, recipe.train.stage2, recipe.train.loss_chunk_tokens, "lora-fp32")
    assert lora["base"] == pytest.approx(13.48, abs=0.01)  # 6.74e9 x 2 bytes
    assert fp32["base"] == pytest.approx(2 * lora["base"])
    table = bench.memory_table(cfg, recipe)
    assert "| LoRA, bf16 base (gpu-7b) |" in table and "MI100-32GB" in table


def test_runs_on_cpu_with_the_tiny_shape(tmp_path):
    out = tmp_path / "r.json"
    cmd = [sys.executable, str(SCRIPT), "--shape", "tiny", "--device", "cpu", "--steps", "1",
           "--seq-len", "64", "--out", str(out)]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["base_dtype"] == "bfloat16" and result["device"] == "cpu"
    assert result["tokens_per_s"] > 0 and result["peak_memory_gb"] > 0
