"""Training settings for both stages (``train:`` in ``configs/*.yaml``)."""

from typing import Literal

from pydantic import Field, model_validator

from taigimed.configbase import StrictModel

# The prepared datasets each stage reads: (train, validation, *also scored). Stage 2 also
# scores the medical validation set before and after, for the gate's forgetting check.
# Training and the pipeline's cache keys both read this.
STAGE_DATASETS: dict[int, tuple[str, ...]] = {
    1: ("stage1_train", "stage1_validation"),
    2: ("stage2_train", "stage2_validation", "stage1_validation"),
}


class LoraConfig(StrictModel):
    r: int = Field(16, ge=1, description="LoRA rank.")
    alpha: int = Field(32, ge=1, description="LoRA scaling numerator (scale = alpha / r).")
    dropout: float = Field(0.05, ge=0, lt=1, description="Dropout on the LoRA input.")
    target_modules: list[str] = Field(
        default_factory=lambda: [
            "q_proj",
            "k_proj",
            "v_proj",
            "o_proj",
            "gate_proj",
            "up_proj",
            "down_proj",
        ],
        description="Module names that get adapters (Llama naming).",
    )


class StageConfig(StrictModel):
    method: Literal["full", "lora", "qlora"] = Field(
        "lora", description="Full fine-tuning, LoRA, or QLoRA (4-bit base; CUDA + bitsandbytes)."
    )
    lora: LoraConfig = Field(
        default_factory=LoraConfig, description="Adapter shape for lora/qlora."
    )
    learning_rate: float = Field(2e-4, gt=0, description="Peak learning rate.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    warmup_steps: int = Field(2, ge=0, description="Linear warm-up steps before cosine decay.")
    max_grad_norm: float = Field(1.0, gt=0, description="Gradient clipping norm.")
    max_steps: int = Field(
        50, ge=1, description="Optimizer steps in this stage (the token budget)."
    )
    seq_len: int = Field(512, ge=16, description="Tokens per packed row.")
    batch_rows: int = Field(8, ge=1, description="Packed rows per optimizer step.")
    micro_batch_rows: int = Field(
        0, ge=0, description="Rows per forward pass (gradient accumulation); 0 = batch_rows."
    )
    shuffle: bool = Field(
        True,
        description="Shuffle examples before packing; False keeps the data's curriculum order.",
    )
    eval_max_examples: int = Field(
        200, ge=1, description="Validation examples scored before and after (CPU budget)."
    )
    checkpoint_every: int = Field(
        10, ge=1, description="Save a resumable checkpoint every N steps."
    )
    keep_checkpoints: int = Field(2, ge=1, description="How many recent checkpoints to keep.")

    @property
    def rows_per_forward(self) -> int:
        return self.micro_batch_rows or self.batch_rows

    @model_validator(mode="after")
    def _micro_divides(self):
        if self.batch_rows % self.rows_per_forward:
            raise ValueError(
                f"micro_batch_rows={self.micro_batch_rows} must divide batch_rows={self.batch_rows}"
            )
        return self


class TrainConfig(StrictModel):
    stage1: StageConfig = Field(default_factory=StageConfig, description="Medical stage.")
    stage2: StageConfig = Field(default_factory=StageConfig, description="Taigi stage (PEFT).")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where to train.")
    precision: Literal["auto", "fp32", "bf16-autocast", "fp16-autocast", "bf16"] = Field(
        "auto",
        description="auto (bf16 autocast where the CPU/GPU has native bf16, else fp32; decided "
        "at run time and recorded in run.json); fp32; autocast to bf16/fp16 with fp32 master "
        "weights; or pure bf16 weights (GPU only: on CPU AdamW updates are lost to bf16 "
        "rounding).",
    )
    gradient_checkpointing: bool = Field(
        False, description="Recompute activations in backward: less memory, ~30 % more time."
    )
    loss_chunk_tokens: int = Field(
        1024, ge=16, description="Labelled tokens per lm_head chunk; bounds the logits memory."
    )
    log_every: int = Field(
        1, ge=1, description="Log loss, lr and tokens/s to MLflow every N steps."
    )
    num_processes: int = Field(
        1,
        ge=1,
        description="Training processes per stage, one per GPU: above 1 `pipeline run` starts "
        "each stage with `accelerate launch --num_processes N` (DDP, or FSDP with "
        "accelerate_config). `taigimed train` itself is launched by the caller.",
    )
    accelerate_config: str | None = Field(
        None,
        description="`accelerate launch --config_file` for num_processes > 1: a path, or one "
        "relative to the shipped recipes (accelerate/ddp.yaml, accelerate/fsdp.yaml); None: "
        "accelerate's defaults (DDP).",
    )
    log_model_artifact: Literal["final", "every", "none"] = Field(
        "final",
        description="Copy the merged model into the MLflow run's artifacts ('model/'): 'final' "
        "only for stage 2, whose model is the one registered (the registry version points at "
        "that copy); 'every' for both stages (a 7B model is ~14 GB a copy); 'none' (the "
        "registration then logs its own copy). Adapters are always logged.",
    )
