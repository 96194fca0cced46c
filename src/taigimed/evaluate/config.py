"""Evaluation and gate settings. Owned by evaluation (issue 4)."""

from typing import Literal

from pydantic import Field

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
    sets: list[Literal["medqa_tw", "taigi_medical", "taigi_general"]] = Field(
        default_factory=lambda: ["medqa_tw", "taigi_medical", "taigi_general"],
        description="Which built-in sets to score; --extra-mcq files are always added.",
    )
    taigi_medical_path: str | None = Field(
        None,
        description="Folder holding taigi_medical_mcq.jsonl and taigi_medical_open.jsonl; "
        "None uses the set shipped in the package.",
    )


class GateConfig(StrictModel):
    max_attempts: int = Field(2, ge=1, description="Training attempts before the pipeline gives up.")
