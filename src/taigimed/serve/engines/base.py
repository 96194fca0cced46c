"""The engine interface between the API and a model: generate-stream, warmup, health."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

# Below this a temperature only turns logits into inf/nan: every engine decodes greedily.
GREEDY_BELOW = 1e-5


@dataclass
class GenerationParams:
    max_tokens: int = 256
    temperature: float = 0.0  # 0: greedy
    top_p: float = 1.0
    stop: list[str] = field(default_factory=list)
    seed: int | None = None


@dataclass
class TokenEvent:
    """A piece of generated text; the last event of a stream has ``finish_reason`` set."""

    text: str
    finish_reason: str | None = None  # "stop" or "length" on the last event
    prompt_tokens: int | None = None  # on the last event
    completion_tokens: int | None = None  # on the last event


@dataclass
class EngineInfo:
    name: str  # "builtin" or "upstream"
    model_id: str  # what /v1/models calls it
    model_version: str  # registry version, run name or folder: stored with every answer
    source: str  # why this model: "production alias", "embedded base model", ...
    max_context: int
    detail: dict = field(default_factory=dict)


class EngineError(RuntimeError):
    """The model could not produce an answer (upstream down, out of memory...)."""


class EngineRequestRejected(EngineError):
    """The engine refused the request's own values (its 4xx): the client's mistake, answered
    400 and never counted as a model failure."""


class Engine(abc.ABC):
    info: EngineInfo

    @abc.abstractmethod
    async def warmup(self) -> None:
        """Load the model and run one short generation, so the first user is not the slow one."""

    @abc.abstractmethod
    async def health(self) -> bool:
        """True when the engine can answer now."""

    @abc.abstractmethod
    def generate_stream(
        self, prompt_messages: Sequence[dict[str, str]], params: GenerationParams
    ) -> AsyncIterator[TokenEvent]:
        """Stream the answer to ``prompt_messages`` (system prompt included).

        Closing the iterator early (client gone) must stop the generation.
        """

    @abc.abstractmethod
    def count_tokens(self, prompt_messages: Sequence[dict[str, str]]) -> int:
        """Prompt tokens of ``prompt_messages`` rendered with the chat template."""

    def count_text_tokens(self, text: str) -> int:
        """Tokens of plain answer text (what ``usage.completion_tokens`` reports as sent).

        The default takes the difference of two templated counts, so any engine that can
        count a prompt can count text; engines with a tokenizer at hand count directly."""
        empty = self.count_tokens([{"role": "assistant", "content": ""}])
        return max(0, self.count_tokens([{"role": "assistant", "content": text}]) - empty)

    def queue_depth(self) -> tuple[int, int]:
        """(running, waiting) requests, for the metrics."""
        return (0, 0)

    async def close(self) -> None:  # noqa: B027 - most engines hold nothing to release
        """Release the model or connections."""
