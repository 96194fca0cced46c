"""A real `taigimed serve` process on a free loopback port, talked to by the real openai client."""

from __future__ import annotations

import json
import signal
import sqlite3
import time

import httpx
import openai
import pytest
from websockets.sync.client import connect

pytestmark = pytest.mark.slow


def _client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key="unused", max_retries=0)


def _rows(server, sql: str, *args):
    with sqlite3.connect(server.workdir / "serve" / "taigimed.sqlite") as conn:
        return conn.execute(sql, args).fetchall()


def test_openai_client_round_trip(tiny_server):
    client = _client(tiny_server)
    models = client.models.list()
    model = models.data[0].id
    assert model == "tiny-random"
    question = "阮阿公血壓懸，食藥仔愛注意啥物？"
    resp = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": question}], max_tokens=8
    )
    assert resp.choices[0].message.content
    assert resp.usage.completion_tokens <= 8 + 64  # the disclaimer suffix is not counted as tokens
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": question}],
        max_tokens=8,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text and chunks[-1].usage.prompt_tokens > 0
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] in ("stop", "length")
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "hi"}], temperature=7
        )
    assert "temperature" in str(err.value)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    time.sleep(0.5)
    stored = _rows(tiny_server, "select content, engine from messages where id = ?", resp.id)
    assert stored and stored[0][1] == "builtin"


def test_websocket_history_over_a_real_socket(tiny_server):
    url = tiny_server.base_url.replace("http", "ws") + "/v1/chat/ws"
    usages = []
    with connect(url) as ws:
        sid = json.loads(ws.recv())["session_id"]
        for text in ("頭殼疼", "閣會眩"):
            ws.send(json.dumps({"content": text, "max_tokens": 4}))
            while (m := json.loads(ws.recv()))["type"] != "end":
                assert m["type"] in ("start", "token")
            usages.append(m["usage"]["prompt_tokens"])
    assert usages[1] > usages[0]
    with connect(f"{url}?session_id={sid}") as ws:
        assert json.loads(ws.recv())["history_turns"] == 2


def test_disconnect_mid_stream_is_stored_as_partial(tiny_server):
    body = {
        "messages": [{"role": "user", "content": "講一个足長的故事"}],
        "max_tokens": 400,  # the tiny recipe's context is 512
        "stream": True,
    }
    url = f"{tiny_server.base_url}/v1/chat/completions"
    with httpx.Client(timeout=30) as http, http.stream("POST", url, json=body) as r:
        assert r.status_code == 200, r.read()
        lines = r.iter_lines()
        first = json.loads(next(line for line in lines if line.startswith("data:"))[5:])
        next(lines)
    rid = first["id"]
    for _ in range(100):
        rows = _rows(tiny_server, "select partial, completion_tokens from messages where id=?", rid)
        if rows:
            break
        time.sleep(0.1)
    assert rows and rows[0][0] == 1  # partial
    metrics = httpx.get(f"{tiny_server.base_url}/metrics").text
    assert 'kind="disconnected"' in metrics
    running = [ln for ln in metrics.splitlines() if ln.startswith("taigimed:num_requests_running")]
    assert running and running[0].endswith(" 0.0")  # the engine dropped the row


def test_graceful_shutdown_finishes_the_stream(tiny_server):
    """Runs last in this module: SIGTERM mid-answer, the answer still arrives whole."""
    body = {
        "messages": [{"role": "user", "content": "hello"}],
        "max_tokens": 400,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    url = f"{tiny_server.base_url}/v1/chat/completions"
    with httpx.Client(timeout=60) as http, http.stream("POST", url, json=body) as r:
        lines = r.iter_lines()
        next(lines)
        tiny_server.proc.send_signal(signal.SIGTERM)
        rest = [line for line in lines if line]
    assert rest[-1] == "data: [DONE]"
    usage = json.loads(rest[-2][5:])["usage"]
    assert usage["completion_tokens"] > 1
    # uvicorn re-raises the signal after its graceful shutdown.
    assert tiny_server.proc.wait(30) in (0, -signal.SIGTERM)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{tiny_server.base_url}/healthz", timeout=2)
