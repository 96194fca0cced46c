"""Load the starting model for a stage, attach adapters, and save the result."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from taigimed import chat
from taigimed.train.config import StageConfig, TrainConfig


class TrainSetupError(ValueError):
    """The config asks for something this machine cannot do; the message says what to change."""


def pick_device(train: TrainConfig) -> str:
    if train.device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if train.device == "cuda" and not torch.cuda.is_available():
        raise TrainSetupError(
            "train.device=cuda but no CUDA/ROCm device is visible; use --set train.device=cpu "
            "(or a CPU recipe such as --config default)"
        )
    return train.device


def check_device_features(train: TrainConfig, stage: StageConfig, device: str) -> None:
    """Fail before loading anything when the recipe needs a GPU feature on CPU."""
    if device == "cpu":
        if train.precision in ("fp16-autocast", "bf16"):
            raise TrainSetupError(
                f"train.precision={train.precision} needs a GPU; on CPU use bf16-autocast or fp32 "
                "(pure bf16 weights lose AdamW updates to rounding)"
            )
        if stage.method == "qlora":
            raise TrainSetupError("method=qlora needs CUDA and bitsandbytes; use lora on CPU")
    if stage.method == "qlora" and importlib.util.find_spec("bitsandbytes") is None:
        raise TrainSetupError("method=qlora needs bitsandbytes: pip install bitsandbytes")


def autocast_dtype(train: TrainConfig) -> torch.dtype | None:
    if train.precision == "auto":  # silently training in fp32 would hide a missed resolve
        raise ValueError("train.precision=auto must be resolved first (train.precision module)")
    return {"bf16-autocast": torch.bfloat16, "fp16-autocast": torch.float16}.get(train.precision)


def base_weight_dtype(train: TrainConfig, stage: StageConfig) -> torch.dtype:
    """The dtype the starting weights are loaded in.

    bf16 whenever the recipe computes in bf16 and nothing needs fp32 master copies of them:
    pure ``bf16``, QLoRA (the 4-bit base computes in bf16), and LoRA under ``bf16-autocast``,
    whose base weights are frozen (only the adapters, which PEFT keeps in fp32, are updated).
    A 7B base then takes ~14 GB instead of ~28 GB. Full fine-tuning under autocast keeps fp32
    master weights: AdamW updates to bf16 weights are lost to rounding.
    """
    if train.precision == "bf16" or stage.method == "qlora":
        return torch.bfloat16
    if train.precision == "bf16-autocast" and stage.method == "lora":
        return torch.bfloat16
    return torch.float32


def load_kwargs(train: TrainConfig, stage: StageConfig) -> dict:
    """``from_pretrained`` keyword arguments: the weight dtype, and the 4-bit NF4 quantisation
    (bitsandbytes) for QLoRA."""
    kwargs: dict = {"dtype": base_weight_dtype(train, stage)}
    if stage.method == "qlora":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        # bitsandbytes places the quantised weights itself; .to() is refused on 4-bit models
        kwargs["device_map"] = {"": torch.cuda.current_device() if torch.cuda.is_available() else 0}
    return kwargs


def load_model(path: str, train: TrainConfig, stage: StageConfig, device: str, trust: bool):
    """The model to train, in :func:`base_weight_dtype`, with adapters for lora/qlora."""
    from transformers import AutoModelForCausalLM

    kwargs = load_kwargs(train, stage)
    try:
        model = AutoModelForCausalLM.from_pretrained(path, trust_remote_code=trust, **kwargs)
    except OSError as exc:
        raise TrainSetupError(f"cannot load base model {path!r}: {exc}") from exc
    except ImportError as exc:  # transformers' own check that bitsandbytes/CUDA are usable
        raise TrainSetupError(f"method=qlora cannot load {path!r} here: {exc}") from exc
    if stage.method != "qlora":
        model.to(device)
    if train.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if stage.method in ("lora", "qlora"):
        model = attach_adapters(model, train, stage)
    model.config.use_cache = False
    return model


def attach_adapters(model, train: TrainConfig, stage: StageConfig):
    """The stage's LoRA adapters on ``model`` (after k-bit preparation for QLoRA)."""
    from peft import LoraConfig, get_peft_model

    if stage.method == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=train.gradient_checkpointing
        )
    lora = LoraConfig(
        r=stage.lora.r,
        lora_alpha=stage.lora.alpha,
        lora_dropout=stage.lora.dropout,
        target_modules=stage.lora.target_modules,
        task_type="CAUSAL_LM",
    )
    # autocast_adapter_dtype: the adapters (the only trained weights) are fp32 masters even
    # on a bf16 base.
    return get_peft_model(model, lora, autocast_adapter_dtype=True)


def save_outputs(
    model, tokenizer, run_dir: Path, method: str, dtype: str = "float32"
) -> tuple[Path, Path | None]:
    """Write ``adapter/`` (PEFT runs) and ``model/`` (merged, full weights in ``dtype`` — the
    recipe's ``model.dtype``, what evaluation and serving load — and our chat template)."""
    adapter_dir = None
    if method in ("lora", "qlora"):
        adapter_dir = run_dir / "adapter"
        model.save_pretrained(adapter_dir)
        if method == "qlora":
            # merging into 4-bit weights would round the adapter away: dequantise first
            model = model.dequantize() if hasattr(model, "dequantize") else model
        model = model.merge_and_unload()
    model = model.to(getattr(torch, dtype))
    model.config.use_cache = True
    model_dir = run_dir / "model"
    model.save_pretrained(model_dir, safe_serialization=True)
    tokenizer.chat_template = chat.CHAT_TEMPLATE
    tokenizer.save_pretrained(model_dir)
    return model_dir, adapter_dir


def trainable_state(model) -> dict[str, torch.Tensor]:
    """Only the parameters being trained: the adapter for LoRA, everything for full FT."""
    return {n: p.detach().cpu().clone() for n, p in model.named_parameters() if p.requires_grad}


def load_trainable_state(model, state: dict[str, torch.Tensor]) -> None:
    params = dict(model.named_parameters())
    missing = [n for n in state if n not in params]
    if missing:
        raise TrainSetupError(f"checkpoint does not match the model: unknown {missing[:3]}")
    with torch.no_grad():
        for name, value in state.items():
            params[name].copy_(value)
