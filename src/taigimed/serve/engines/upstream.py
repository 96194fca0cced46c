"""The upstream engine: any OpenAI-compatible server (vLLM in production, llama.cpp here).

Streams ``/v1/chat/completions`` with httpx; the prompt is fitted and carries the
system prompt before it leaves, so the upstream only generates. Closing the
stream closes the HTTP response, which stops generation on servers that notice.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence

import httpx

from taigimed import chat
from taigimed.serve.engines.base import (
    Engine,
    EngineError,
    EngineInfo,
    GenerationParams,
    TokenEvent,
)


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

    def count_tokens(self, prompt_messages: Sequence[dict[str, str]]) -> int:
        text = chat.render(prompt_messages, add_generation_prompt=True)
        if self._tokenizer_dir:
            if self._tokenizer is None:
                from transformers import AutoTokenizer

                self._tokenizer = AutoTokenizer.from_pretrained(self._tokenizer_dir)
            return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])
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
            "messages": list(prompt_messages),
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
                    raise EngineError(f"upstream answered {resp.status_code}: {detail}")
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
