"""Evaluation and gate settings (``eval:`` and ``gate:`` in ``configs/*.yaml``)."""

from typing import Literal

from pydantic import Field, model_validator

from taigimed.configbase import StrictModel


class EvalConfig(StrictModel):
    sample_per_set: int | None = Field(
        None,
        ge=1,
        description="Pipeline runs score a seeded, stratified sample of this many items per set "
        "(reported with its n); None scores all. `taigimed eval` scores full sets unless --sample.",
    )
    bootstrap_samples: int = Field(1000, ge=100, description="Resamples for 95% intervals.")
    seed: int | None = Field(
        None, description="Seed for sampling and bootstrap; None uses the recipe's top-level seed."
    )
    dtype: Literal["float32", "bfloat16", "float16"] | None = Field(
        None, description="Weight dtype for scoring; None uses model.dtype."
    )
    scorer: Literal["torch", "gguf"] = Field(
        "torch",
        description="torch: the safetensors model in transformers; gguf: the model exported to "
        "GGUF (eval.gguf_type) and run by llama.cpp, the file CPU serving uses.",
    )
    gguf_type: Literal["f32", "f16", "q8_0"] = Field(
        "f16",
        description="GGUF tensor type the gguf scorer exports and scores. f16 gives the "
        "safetensors model's greedy answers; q8_0 changed 15 of 50 on SmolLM2-135M "
        "(docs/benchmarks.md), so it is for speed studies, not gate decisions.",
    )
    batch_questions: int = Field(
        8, ge=1, description="MCQ questions scored per forward pass (prefixes batched by length)."
    )
    batch_sequences: int = Field(
        16, ge=1, description="Sentences per forward pass for bits per character and generation."
    )
    generative: bool = Field(
        True, description="Also generate a free answer per MCQ and parse its letter (gen_acc)."
    )
    mcq_max_new_tokens: int = Field(
        8, ge=1, description="Tokens generated per MCQ for generative accuracy."
    )
    open_max_new_tokens: int = Field(
        96, ge=1, description="Tokens generated per open Taigi medical question (chrF)."
    )
    translation_max_new_tokens: int = Field(
        96, ge=1, description="Tokens generated per translation pair (chrF)."
    )
    sets: list[Literal["medqa_tw", "taigi_medical", "taigi_general", "taigi_cloze"]] = Field(
        default_factory=lambda: ["medqa_tw", "taigi_medical", "taigi_general", "taigi_cloze"],
        description="Which built-in sets to score; --extra-mcq files are always added.",
    )
    options_only: bool = Field(
        True,
        description="Also score every MCQ item without its question: the model's options-only "
        "baseline (a second, cheaper pass: no generation).",
    )
    detectable_difference: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="Size each set's sample to detect a paired accuracy change this large "
        "(McNemar at gate.alpha, power eval.power, worst-case disagreement); overrides "
        "sample_per_set. None with sample_per_set None scores full sets.",
    )
    translation_per_direction: int | None = Field(
        None,
        ge=1,
        description="Translation pairs scored per direction in a sampled run (held-out parallel "
        "pairs first); None uses the run's sample size.",
    )
    power: float = Field(
        0.8, gt=0, lt=1, description="Power at which reports state minimal detectable differences."
    )
    taigi_medical_path: str | None = Field(
        None,
        description="Folder holding taigi_medical_mcq.jsonl and taigi_medical_open.jsonl; "
        "None uses the set shipped in the package.",
    )


class Adjustment(StrictModel):
    """One knob the pipeline turns before retraining after a failed gate."""

    field: str = Field(
        description="Dotted config field to change, e.g. train.stage2.learning_rate."
    )
    multiply: float | None = Field(
        None, gt=0, description="Multiply the field by this once per retry (compounding)."
    )
    add: float | None = Field(None, description="Add this to the field once per retry.")
    maximum: float | None = Field(
        None, description="Never raise the field above this (e.g. a replay fraction of 0.5)."
    )

    @model_validator(mode="after")
    def _one_operation(self) -> "Adjustment":
        if (self.multiply is None) == (self.add is None):
            raise ValueError(f"adjustment of {self.field}: give exactly one of multiply or add")
        return self


def _default_adjustments() -> list[Adjustment]:
    return [
        Adjustment(field="train.stage2.learning_rate", multiply=0.5),
        Adjustment(field="train.stage2.max_steps", multiply=1.5),
    ]


class GateConfig(StrictModel):
    max_attempts: int = Field(
        2, ge=1, description="Training attempts (first run plus retries) before giving up."
    )
    at_least: dict[str, float] = Field(
        default_factory=dict,
        description="Absolute floors: 'set.metric' -> lowest acceptable value (higher is better).",
    )
    at_most: dict[str, float] = Field(
        default_factory=dict,
        description="Absolute ceilings: 'set.metric' -> highest acceptable value (lower is "
        "better, e.g. taigi_general.bits_per_char).",
    )
    champion_alias: str = Field(
        "production", description="Registry alias of the champion the challenger must not trail."
    )
    no_regression_on: list[str] = Field(
        default_factory=list,
        description="'set.metric' names compared with the champion on the same items: McNemar "
        "for MCQ correctness (acc, acc_norm, gen_acc), paired bootstrap for per-item values.",
    )
    alpha: float = Field(
        0.05, gt=0, lt=1, description="A regression counts when it is significant at this level."
    )
    above_baseline: list[str] = Field(
        default_factory=list,
        description="'set.metric' MCQ scores that must beat the set's strongest baseline "
        "(chance, majority letter, always-longest/-shortest, options-only) by a one-sided "
        "test at alpha: a model that reads only length or letter habits fails.",
    )
    above_baseline_advisory: bool = Field(
        False,
        description="Record the above_baseline checks without letting them block: only for "
        "recipes whose model is known to be at chance (their checks are smoke tests).",
    )
    min_paired_items: int = Field(
        20, ge=1, description="Fewer items shared with the champion skips that comparison."
    )
    forgetting_before: str | None = Field(
        "medical_val_loss_before",
        description="Stage 2 run.json metric: Mandarin medical validation loss of the stage-1 "
        "model stage 2 started from; None disables the forgetting bound.",
    )
    forgetting_after: str = Field(
        "medical_val_loss_after",
        description="Stage 2 run.json metric: the same loss after stage 2.",
    )
    max_forgetting: float = Field(
        0.15,
        ge=0,
        description="Stage 2 may raise that loss by at most this fraction (0.15 = 15 %).",
    )
    min_stage2_gain: float | None = Field(
        0.02,
        description="Stage 2 must lower its own Taigi validation loss (run.json val_loss_before "
        "→ val_loss_after) by at least this fraction: the evidence of a real improvement on a "
        "base model too weak to move MedQA off chance. None disables.",
    )
    knowledge_min_recall_at_3: float | None = Field(
        None,
        ge=0,
        le=1,
        description="The knowledge version a model ships with must find a right card in its "
        "top 3 for at least this share of the held-out questions, in every script "
        "(evaluate/knowledge.py). None disables; the shipped recipes set it.",
    )
    adjustments: list[Adjustment] = Field(
        default_factory=_default_adjustments,
        description="Retry policy: applied once per retry, compounding (attempt 3 twice).",
    )
