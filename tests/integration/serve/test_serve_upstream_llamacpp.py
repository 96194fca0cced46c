"""The upstream engine against a real OpenAI-compatible server (llama.cpp, embedded GGUF)."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from taigimed import chat
from taigimed.config import load_config
from taigimed.serve.app import create_app
from taigimed.serve.engines.base import EngineError, EngineRequestRejected, GenerationParams
from taigimed.serve.engines.upstream import UpstreamEngine
from taigimed.serve.hooks import Hooks
from taigimed.serve.storage.models import Message

pytestmark = pytest.mark.integration

MSGS = [
    {"role": "system", "content": chat.SYSTEM_PROMPT},
    {"role": "user", "content": "What should I do for a mild headache?"},
]


def test_upstream_engine_streams_from_llama_cpp(llama_server):
    async def go():
        engine = UpstreamEngine(llama_server, max_context=2048)
        await engine.warmup()
        assert engine.info.model_id == "smollm2-135m"  # discovered from /v1/models
        assert await engine.health()
        pieces, last = [], None
        async for ev in engine.generate_stream(MSGS, GenerationParams(max_tokens=12)):
            pieces.append(ev.text)
            last = ev
        await engine.close()
        return "".join(pieces), last

    text, last = asyncio.run(go())
    assert text.strip()
    assert last.finish_reason in ("stop", "length")
    assert 0 < last.completion_tokens <= 12 and last.prompt_tokens > 10


def test_gateway_in_front_of_llama_cpp(llama_server, tmp_path):
    cfg = load_config("default")
    engine = UpstreamEngine(llama_server, max_context=2048, source="test upstream")
    app = create_app(cfg, tmp_path / "work", engine=engine, hooks=Hooks())
    with TestClient(app) as client:
        for _ in range(300):
            if client.get("/readyz").status_code == 200:
                break
            asyncio.run(asyncio.sleep(0.1))
        body = {
            "messages": [{"role": "user", "content": "Name one fruit."}],
            "max_tokens": 8,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        with client.stream("POST", "/v1/chat/completions", json=body) as r:
            lines = [ln for ln in r.iter_lines() if ln]
        assert lines[-1] == "data: [DONE]"
        models = client.get("/v1/models").json()["data"][0]
        assert models["taigimed"]["engine"] == "upstream"
        st = client.app.state.taigimed
        st.writer.flush()
        with st.sessions_factory() as s:
            msg = s.scalar(select(Message).where(Message.role == "assistant"))
            assert msg.engine == "upstream" and msg.model_version == "smollm2-135m"
            assert msg.content and msg.completion_tokens


def test_unreachable_upstream_is_reported():
    async def go():
        engine = UpstreamEngine("http://127.0.0.1:9", connect_timeout_s=1)
        with pytest.raises(EngineError, match="unreachable"):
            await engine.warmup()
        assert not await engine.health()
        await engine.close()

    asyncio.run(go())


def test_values_the_server_refuses_are_the_clients_mistake(llama_server):
    """The engine's server refusing the request's own values (a 4xx, or llama-cpp-python's
    500 naming a validation error) is EngineRequestRejected: the gateway answers it 400 and
    counts it as an invalid request, never as an engine failure (the alert and the canary
    verdict count those against the model). The gateway's own checks are stricter than
    llama.cpp's, so no API request reaches this path here; vLLM's can (its context length)."""

    async def refused():
        engine = UpstreamEngine(llama_server, max_context=2048)
        with pytest.raises(EngineRequestRejected, match="top_p") as refusal:
            async for _ in engine.generate_stream(MSGS, GenerationParams(top_p=1.5)):
                pass
        assert "File " not in str(refusal.value)  # the server's traceback stays there
        await engine.close()

    asyncio.run(refused())
