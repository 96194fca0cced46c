"""Training settings for both stages. Owned by the training code (issue 3)."""

from typing import Literal

from pydantic import Field

from taigimed.configbase import StrictModel


class StageConfig(StrictModel):
    method: Literal["full", "lora"] = Field("lora", description="Full fine-tuning or LoRA.")
    learning_rate: float = Field(2e-4, gt=0, description="Peak learning rate.")
    max_steps: int = Field(50, ge=1, description="Optimizer steps in this stage.")
    seq_len: int = Field(512, ge=16, description="Tokens per packed row.")
    batch_rows: int = Field(8, ge=1, description="Packed rows per optimizer step.")


class TrainConfig(StrictModel):
    stage1: StageConfig = Field(default_factory=StageConfig, description="Medical stage.")
    stage2: StageConfig = Field(default_factory=StageConfig, description="Taigi stage (PEFT).")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where to train.")
