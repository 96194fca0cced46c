"""Evaluation and gate settings. Owned by evaluation (issue 4)."""

from pydantic import Field

from taigimed.configbase import StrictModel


class EvalConfig(StrictModel):
    sample_per_set: int | None = Field(
        None, ge=1, description="Score a seeded, stratified sample of each set; None scores all."
    )
    bootstrap_samples: int = Field(1000, ge=100, description="Resamples for 95% intervals.")


class GateConfig(StrictModel):
    max_attempts: int = Field(2, ge=1, description="Training attempts before the pipeline gives up.")
