"""The upstream engine against a real OpenAI-compatible server (llama.cpp, embedded GGUF)."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from taigimed import chat
from taigimed.config import load_config
from taigimed.serve.app import create_app
from taigimed.serve.engines.base import EngineError, GenerationParams
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
