"""The upstream engine: any OpenAI-compatible server (vLLM in production, llama.cpp here).

Streams ``/v1/chat/completions`` with httpx; the prompt is fitted and carries the
system prompt before it leaves, so the upstream only generates. Closing the
stream closes the HTTP response, which stops generation on servers that notice.

User text stays plain text: the server renders the messages with its chat template and
tokenises the result with special tokens parsed (llama-cpp-python does, and so do HF
tokenizers behind vLLM), so a typed ``<|im_start|>`` would become the control token. Before
anything leaves, every occurrence of a special token's text in a message is broken by a
zero-width space after its first character (``neutralise``): the model reads the characters,
never the token. The stored and displayed text is the user's own.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator, Iterable, Sequence

import httpx

from taigimed import chat
from taigimed.serve.engines.base import (
    Engine,
    EngineError,
    EngineInfo,
    EngineRequestRejected,
    GenerationParams,
    TokenEvent,
)

BREAK = "\u200b"  # ZERO WIDTH SPACE: no tokenizer's special token contains it
DEFAULT_SPECIALS = (chat.IM_START, chat.IM_END, "<|endoftext|>")


def _reason(detail: str) -> str:
    """The upstream error's message without the server's traceback (it names its files)."""
    with contextlib.suppress(ValueError, KeyError, TypeError):
        detail = json.loads(detail)["error"]["message"]
    return str(detail).split("\n\n")[0].split("  File ")[0].strip()[:300]


def special_pattern(specials: Iterable[str]) -> re.Pattern | None:
    """Matches (zero-width) wherever one of ``specials`` begins, overlaps included."""
    texts = sorted({t for t in specials if len(t) > 1 and BREAK not in t}, key=len, reverse=True)
    if not texts:
        return None
    return re.compile("(?=(?:" + "|".join(map(re.escape, texts)) + "))")


def neutralise(text: str, pattern: re.Pattern | None) -> str:
    """``text`` with a zero-width space after the first character of every occurrence of a
    special token's text, so no tokenizer can read one there. Every occurrence (overlapping
    ones too) is broken, and the space cannot make a new one, so one pass is enough."""
    if pattern is None:
        return text
    starts = {m.start() for m in pattern.finditer(text)}
    if not starts:
        return text
    return "".join(ch + BREAK if i in starts else ch for i, ch in enumerate(text))


class UpstreamEngine(Engine):
    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        api_key: str | None = None,
        max_context: int = 2048,
        model_version: str | None = None,
        source: str = "upstream server",
        tokenizer_dir: str | None = None,
        connect_timeout_s: float = 10.0,
    ):
        self.base_url = base_url.rstrip("/").removesuffix("/v1")
        self.model = model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(None, connect=connect_timeout_s),
        )
        self._tokenizer_dir = tokenizer_dir
        self._tokenizer = None
        self._specials: re.Pattern | None = None
        self._ready = False
        self._running = 0
        self.info = EngineInfo(
            name="upstream",
            model_id=model or "upstream",
            model_version=model_version or model or "upstream",
            source=source,
            max_context=max_context,
            detail={"upstream_url": self.base_url},
        )

    def _hf_tokenizer(self):
        if self._tokenizer is None and self._tokenizer_dir:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(self._tokenizer_dir)
        return self._tokenizer

    def outgoing(self, prompt_messages: Sequence[dict[str, str]]) -> list[dict[str, str]]:
        """The messages as sent to the server: special tokens' text neutralised."""
        if self._specials is None:
            specials = set(DEFAULT_SPECIALS)
            if (tok := self._hf_tokenizer()) is not None:
                specials.update(tok.all_special_tokens)
                specials.update(t.content for t in tok.added_tokens_decoder.values() if t.special)
            self._specials = special_pattern(specials)
        return [{**m, "content": neutralise(m["content"], self._specials)} for m in prompt_messages]

    def count_tokens(self, prompt_messages: Sequence[dict[str, str]]) -> int:
        text = chat.render(self.outgoing(prompt_messages), add_generation_prompt=True)
        if (tok := self._hf_tokenizer()) is not None:
            return len(tok(text, add_special_tokens=False)["input_ids"])
        # Without the tokenizer: UTF-8 bytes / 3 over-counts English and about matches CJK
        # for BPE vocabularies, so fitting errs on the safe side.
        return len(text.encode()) // 3 + 1

    async def _discover_model(self) -> str:
        resp = await self._client.get("/v1/models")
        resp.raise_for_status()
        data = resp.json().get("data") or []
        if not data:
            raise EngineError(f"{self.base_url}/v1/models lists no model")
        return data[0]["id"]

    async def warmup(self) -> None:
        try:
            if self.model is None:
                self.model = await self._discover_model()
                self.info.model_id = self.model
                if self.info.model_version == "upstream":
                    self.info.model_version = self.model
            msgs = [{"role": "user", "content": "hi"}]
            async for _ in self.generate_stream(msgs, GenerationParams(max_tokens=1)):
                pass
        except httpx.HTTPError as exc:
            raise EngineError(f"upstream {self.base_url} unreachable: {exc}") from exc
        self._ready = True

    async def health(self) -> bool:
        try:
            resp = await self._client.get("/v1/models", timeout=5)
            return self._ready and resp.status_code == 200
        except httpx.HTTPError:
            return False

    def queue_depth(self) -> tuple[int, int]:
        return (self._running, 0)

    async def generate_stream(
        self, prompt_messages: Sequence[dict[str, str]], params: GenerationParams
    ) -> AsyncIterator[TokenEvent]:
        body = {
            "model": self.model or "default",
            "messages": self.outgoing(prompt_messages),
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        # The server ends at its own eos; the turn marker as a stop string makes it end where
        # evaluation and the builtin engine do even when the GGUF's eos is another token.
        body["stop"] = [*chat.STOP_STRINGS, *params.stop]
        if params.seed is not None:
            body["seed"] = params.seed
        finish, usage, pieces = None, {}, 0
        self._running += 1
        try:
            async with self._client.stream("POST", "/v1/chat/completions", json=body) as resp:
                if resp.status_code != 200:
                    detail = (await resp.aread()).decode(errors="replace")[:500]
                    # A 4xx refuses the request's own values (they passed our checks, so the
                    # server's rules are stricter): the client's mistake, not the model's.
                    # llama-cpp-python answers its own validation errors with a 500 naming
                    # pydantic's "validation error".
                    refused = resp.status_code in (400, 422) or "validation error" in detail
                    failure = EngineRequestRejected if refused else EngineError
                    raise failure(f"upstream answered {resp.status_code}: {_reason(detail)}")
                async for line in resp.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    chunk = json.loads(data)
                    if chunk.get("error"):
                        raise EngineError(f"upstream error: {chunk['error']}")
                    usage = chunk.get("usage") or usage
                    for choice in chunk.get("choices") or []:
                        text = (choice.get("delta") or {}).get("content") or ""
                        finish = choice.get("finish_reason") or finish
                        if text:
                            pieces += 1
                            yield TokenEvent(text)
        except httpx.HTTPError as exc:
            raise EngineError(f"upstream {self.base_url} failed: {exc}") from exc
        finally:
            self._running -= 1
        # Servers without stream_options (llama-cpp-python) send no usage: streamed pieces
        # are one token each there, and the prompt is counted here.
        yield TokenEvent(
            "",
            finish_reason=finish or "stop",
            prompt_tokens=usage.get("prompt_tokens") or self.count_tokens(prompt_messages),
            completion_tokens=usage.get("completion_tokens") or pieces,
        )

    async def close(self) -> None:
        await self._client.aclose()
