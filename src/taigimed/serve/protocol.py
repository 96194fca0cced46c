"""API schemas, shaped like the OpenAI spec (chat completions, models, errors) plus feedback
and the WebSocket messages. Routes validate with these and nothing else."""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Role = Literal["system", "user", "assistant"]
INACCURACY_CATEGORIES = (
    "medically_wrong",
    "unsafe_advice",
    "outdated",
    "wrong_language",
    "not_understandable",
    "other",
)


class OpenAIModel(BaseModel):
    # Unknown OpenAI fields (logprobs, tools...) are ignored, as OpenAI-compatible servers do.
    model_config = ConfigDict(extra="ignore")


class ChatMessage(OpenAIModel):
    role: Role = Field(description="system, user or assistant.")
    content: str = Field(description="The message text.")
    name: str | None = None


class StreamOptions(OpenAIModel):
    include_usage: bool = False


class ChatCompletionRequest(OpenAIModel):
    model: str | None = Field(
        None, description="Model id from /v1/models; omitted: the served one."
    )
    messages: list[ChatMessage] = Field(min_length=1, description="The conversation so far.")
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    stop: str | list[str] | None = None
    n: int = Field(1, ge=1, le=1, description="Only one choice per request is supported.")
    seed: int | None = None
    user: str | None = Field(None, max_length=200)

    @field_validator("messages")
    @classmethod
    def _last_is_user(cls, messages: list[ChatMessage]) -> list[ChatMessage]:
        if messages[-1].role != "user":
            raise ValueError("the last message must have role 'user' (the turn to answer)")
        if not messages[-1].content.strip():
            raise ValueError("the last user message is empty")
        return messages

    @field_validator("stop")
    @classmethod
    def _stops(cls, stop: str | list[str] | None) -> str | list[str] | None:
        items = [stop] if isinstance(stop, str) else (stop or [])
        if len(items) > 4 or any(not s for s in items):
            raise ValueError("stop takes up to 4 non-empty strings")
        return stop


class UsageInfo(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class TaigiMedInfo(BaseModel):
    """TaigiMed's additions to a response; OpenAI clients ignore them."""

    reply_kind: str = Field(description="'model', or what answered at once (e.g. 'red_flag').")
    session_id: str
    triggers: list[dict[str, Any]] = Field(default_factory=list)
    review_status: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    partial: bool = False


class ResponseMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatCompletionChoice(BaseModel):
    index: int = 0
    message: ResponseMessage
    finish_reason: str | None


class ChatCompletionResponse(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(default_factory=lambda: int(time.time()))
    model: str
    choices: list[ChatCompletionChoice]
    usage: UsageInfo
    taigimed: TaigiMedInfo | None = None


class DeltaMessage(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChatCompletionChunkChoice(BaseModel):
    index: int = 0
    delta: DeltaMessage
    finish_reason: str | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int = Field(default_factory=lambda: int(time.time()))
    model: str
    choices: list[ChatCompletionChunkChoice]
    usage: UsageInfo | None = None
    taigimed: TaigiMedInfo | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = Field(default_factory=lambda: int(time.time()))
    owned_by: str = "taigimed"
    taigimed: dict[str, Any] = Field(
        default_factory=dict, description="version, source (why this model), engine, path."
    )


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class ErrorInfo(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorInfo


class InaccuracyReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: Literal[INACCURACY_CATEGORIES] = Field(description="What was wrong.")  # type: ignore[valid-type]
    comment: str | None = Field(None, max_length=4000)


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    response_id: str = Field(min_length=1, max_length=64, description="The answer's id.")
    thumbs: Literal["up", "down"] | None = None
    rating: int | None = Field(None, ge=1, le=5)
    inaccuracy: InaccuracyReport | None = None

    @model_validator(mode="after")
    def _something(self) -> FeedbackRequest:
        if self.thumbs is None and self.rating is None and self.inaccuracy is None:
            raise ValueError("give at least one of thumbs, rating or inaccuracy")
        return self


class FeedbackResponse(BaseModel):
    response_id: str
    stored: list[str] = Field(description="The feedback kinds stored.")


class WsUserMessage(BaseModel):
    """A client → server WebSocket message: one user turn."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["message"] = "message"
    content: str = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
