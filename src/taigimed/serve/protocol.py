"""API schemas, shaped like the OpenAI spec (chat completions, models, errors) plus feedback
and the WebSocket messages. Routes validate with these and nothing else."""

from __future__ import annotations

import re
import time
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

Role = Literal["system", "user", "assistant"]
INACCURACY_CATEGORIES = (
    "medically_wrong",
    "unsafe_advice",
    "outdated",
    "wrong_language",
    "not_understandable",
    "other",
)


# What torch.Generator.manual_seed accepts; outside it the engine would fail mid-batch.
SEED_MIN, SEED_MAX = -(2**63), 2**64 - 1


def _json_number(cls, value: Any) -> Any:
    """What JSON Schema calls a number or an integer (3.0 is an integer there), never a
    string or a boolean: pydantic would coerce "5", true and false."""
    if isinstance(value, str | bool):
        raise ValueError(f"must be a JSON number, not {type(value).__name__}")
    return value


# Engines sample in float32: a smaller top_p is 0 or denormal there and fails the engine, so
# it is refused at the door as the client's mistake (never counted as a model failure).
TOP_P_MIN = 1.1754943508222875e-38  # the smallest normal float32
TOP_P_RULE = f"Nucleus sampling mass, {TOP_P_MIN:.6g} (the smallest normal float32) to 1."


def _top_p(value: float | None) -> float | None:
    if value is not None and not value >= TOP_P_MIN:
        raise ValueError(
            f"top_p={value!r} is below {TOP_P_MIN:.6g}, the smallest normal float32 (engines "
            "sample in float32, where it is 0); use a value from that to 1"
        )
    return value


# The schema states the minimum; the validator names it in words.
TopP = Annotated[
    float | None,
    Field(le=1.0, description=TOP_P_RULE, json_schema_extra={"minimum": TOP_P_MIN}),
    AfterValidator(_top_p),
]


def plain_text(value: str) -> str:
    """Text the server can encode and store: no lone UTF-16 surrogates (JSON allows
    '\\ud800', UTF-8 does not) and no NUL characters (PostgreSQL text cannot hold them)."""
    for i, ch in enumerate(value):
        if "\ud800" <= ch <= "\udfff":
            raise ValueError(
                f"character {i} is a lone UTF-16 surrogate (U+{ord(ch):04X}); send valid Unicode"
            )
        if ch == "\x00":
            raise ValueError(f"character {i} is NUL (U+0000); remove it")
    return value


class _NoNulInSchema:
    """The schema states what ``plain_text`` enforces on every text field: no NUL."""

    def __get_pydantic_json_schema__(self, core_schema, handler):
        schema = handler(core_schema)
        schema["not"] = {"pattern": "\\x00"}
        return schema


Text = Annotated[str, AfterValidator(plain_text), _NoNulInSchema()]
# Some character that is white space in none of Python's, JavaScript's (the schema's
# patterns) and Rust's (pydantic's) regular expressions: they disagree on U+001C-U+001F,
# U+0085 and U+FEFF, so those count as blank everywhere, the server's checks included.
NON_BLANK = r"[^\s\x1c-\x1f\x85\ufeff]"


def is_blank(text: str | None) -> bool:
    return not (text and re.search(NON_BLANK, text))


class OpenAIModel(BaseModel):
    # Unknown OpenAI fields (logprobs, tools...) are ignored, as OpenAI-compatible servers do.
    # Numbers and flags are JSON ones: what the schema calls an integer, a number or a boolean
    # is one ("5", false or 5.5 for a count is a 400, never coerced; 3.0 is the integer 3).
    model_config = ConfigDict(extra="ignore")


class TextPart(OpenAIModel):
    """One part of a message's content given as a list (OpenAI's content parts)."""

    type: Literal["text"] = Field(description="Only text parts are supported.")
    text: Text


class ChatMessage(OpenAIModel):
    role: Role = Field(description="system, user or assistant.")
    content: Text | list[TextPart] = Field(
        description="The message text, or a list of text parts (joined in order)."
    )
    name: Text | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content)


class StreamOptions(OpenAIModel):
    include_usage: StrictBool = False


class ChatCompletionRequest(OpenAIModel):
    model: Text | None = Field(
        None, description="Model id from /v1/models; omitted: the served one."
    )
    messages: list[ChatMessage] = Field(
        min_length=1,
        description="The conversation so far. The last message must be a user message with "
        "some non-blank text (the turn to answer); JSON Schema cannot say 'the last', so the "
        "schema states only that some user message has text.",
        json_schema_extra={
            "contains": {
                "type": "object",
                "required": ["role", "content"],
                "properties": {
                    "role": {"const": "user"},
                    "content": {
                        "anyOf": [
                            {"type": "string", "pattern": NON_BLANK},
                            {
                                "type": "array",
                                "contains": {
                                    "type": "object",
                                    "required": ["text"],
                                    "properties": {
                                        "text": {"type": "string", "pattern": NON_BLANK}
                                    },
                                },
                            },
                        ]
                    },
                },
            }
        },
    )
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: TopP = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    stop: Text | list[Text] | None = None
    n: int = Field(1, ge=1, le=1, description="Only one choice per request is supported.")
    seed: int | None = Field(
        None, ge=SEED_MIN, le=SEED_MAX, description="Sampling seed, -2**63 to 2**64-1."
    )
    user: Text | None = Field(None, max_length=200)

    _numbers = field_validator(
        "temperature", "top_p", "max_tokens", "max_completion_tokens", "n", "seed", mode="before"
    )(_json_number)

    @field_validator("messages")
    @classmethod
    def _last_is_user(cls, messages: list[ChatMessage]) -> list[ChatMessage]:
        if messages[-1].role != "user":
            raise ValueError("the last message must have role 'user' (the turn to answer)")
        if is_blank(messages[-1].text):
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
    sources: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The vetted cards the answer comes from: card_id, title, publisher, "
        "source_title, year, url, reviewed, relevance (docs/knowledge.md).",
    )


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
        default_factory=dict, description="version, source (why this model), engine, device."
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
    comment: Text | None = Field(None, max_length=4000)


class FeedbackRequest(BaseModel):
    # The schema states the rule below: at least one of the three, not null.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": ["thumbs"], "properties": {"thumbs": {"type": "string"}}},
                {"required": ["rating"], "properties": {"rating": {"type": "integer"}}},
                {"required": ["inaccuracy"], "properties": {"inaccuracy": {"type": "object"}}},
            ]
        },
    )
    response_id: Text = Field(min_length=1, max_length=64, description="The answer's id.")
    thumbs: Literal["up", "down"] | None = None
    rating: int | None = Field(None, ge=1, le=5)
    _numbers = field_validator("rating", mode="before")(_json_number)
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
    content: Text = Field(min_length=1)
    max_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: TopP = None
    _numbers = field_validator("max_tokens", "temperature", "top_p", mode="before")(_json_number)
