"""The app in process: OpenAI shapes, errors, WebSocket history, hooks, feedback, keys, metrics."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from taigimed.serve.hooks import Hooks, ImmediateReply, Trigger
from taigimed.serve.storage.models import Feedback, Message, SafetyEvent


def _chat(client, content="頭殼疼欲按怎？", **kw):
    body = {"model": "tiny", "messages": [{"role": "user", "content": content}], "max_tokens": 6}
    body.update(kw)
    return client.post("/v1/chat/completions", json=body)


def _db(client):
    st = client.app.state.taigimed
    st.writer.flush()
    return st.sessions_factory()


def test_chat_completion_json_and_stored(make_client):
    client = make_client()
    r = _chat(client)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion" and body["model"] == "tiny"
    assert body["choices"][0]["finish_reason"] in ("stop", "length")
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    assert r.headers["x-request-id"]
    with _db(client) as s:
        msg = s.get(Message, body["id"])
        assert msg.content == body["choices"][0]["message"]["content"]
        assert (msg.engine, msg.model_version, msg.partial) == ("builtin", "test-v1", False)
        assert msg.completion_tokens == usage["completion_tokens"] and msg.ttft_s is not None
        assert msg.request_id == r.headers["x-request-id"]


def test_streaming_sse_with_usage(make_client):
    client = make_client()
    body = {
        "messages": [{"role": "user", "content": "hello"}],
        "max_tokens": 5,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    with client.stream("POST", "/v1/chat/completions", json=body) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [ln for ln in r.iter_lines() if ln]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(ln[5:]) for ln in lines[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    finals = [c for c in chunks if c["choices"] and c["choices"][0].get("finish_reason")]
    assert len(finals) == 1
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] <= 5


BAD = [
    ("{not json", 400, None),
    ({"messages": []}, 400, "messages"),
    ({"messages": [{"role": "doctor", "content": "hi"}]}, 400, "messages.0.role"),
    ({"messages": [{"role": "assistant", "content": "hi"}]}, 400, "messages"),
    ({"messages": [{"role": "user", "content": "  "}]}, 400, "messages"),
    ({"model": "gpt-9", "messages": [{"role": "user", "content": "hi"}]}, 404, "model"),
    ({"messages": [{"role": "user", "content": "hi"}], "temperature": 3}, 400, "temperature"),
    ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}, 400, "max_tokens"),
    ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5000}, 400, "max_tokens"),
    ({"messages": [{"role": "user", "content": "hi"}], "n": 2}, 400, "n"),
    ({"messages": [{"role": "user", "content": "字" * 3000}]}, 400, "messages"),  # > context
    ({"messages": [{"role": "user", "content": "x" * 9000}]}, 400, "messages.0.content"),
]


@pytest.mark.parametrize(("body", "status", "param"), BAD)
def test_bad_input_gets_a_4xx_in_the_openai_shape(make_client, body, status, param):
    client = make_client()
    raw = body if isinstance(body, str) else json.dumps(body)
    r = client.post(
        "/v1/chat/completions", content=raw, headers={"content-type": "application/json"}
    )
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"} and err["message"]
    assert err["param"] == param


def test_oversize_body_is_413(make_client):
    client = make_client(max_request_bytes=2048)
    r = _chat(client, content="x" * 3000)
    assert r.status_code == 413
    assert "max_request_bytes" in r.json()["error"]["message"]


def test_unknown_route_is_404_in_openai_shape(make_client):
    r = make_client().get("/v1/nothing")
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"


def test_models_says_which_and_why(make_client):
    data = make_client().get("/v1/models").json()["data"]
    assert [m["id"] for m in data] == ["tiny"]
    assert data[0]["taigimed"]["source"] == "the test's model directory"
    assert data[0]["taigimed"]["version"] == "test-v1"


def _ws_turn(ws, content, **kw):
    ws.send_json({"type": "message", "content": content, "max_tokens": 4, **kw})
    start = ws.receive_json()
    assert start["type"] == "start", start
    tokens = []
    while True:
        m = ws.receive_json()
        if m["type"] == "token":
            tokens.append(m["text"])
        else:
            assert m["type"] == "end", m
            return start["id"], "".join(tokens), m


def test_websocket_keeps_history_across_turns_and_reconnects(make_client):
    client = make_client()
    with client.websocket_connect("/v1/chat/ws") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "session" and hello["history_turns"] == 0
        sid = hello["session_id"]
        _, _, end1 = _ws_turn(ws, "頭殼疼")
        _, _, end2 = _ws_turn(ws, "閣有咳嗽")
        # The second prompt carries the first exchange.
        first_alone = end1["usage"]["prompt_tokens"]
        assert end2["usage"]["prompt_tokens"] > first_alone + 2
        ws.send_json({"content": ""})  # bad turn: error, connection stays
        assert ws.receive_json()["type"] == "error"
    with client.websocket_connect(f"/v1/chat/ws?session_id={sid}") as ws:
        assert ws.receive_json()["history_turns"] == 2
        _, _, end3 = _ws_turn(ws, "按怎？")
        assert end3["usage"]["prompt_tokens"] > end2["usage"]["prompt_tokens"]
    with _db(client) as s:
        roles = [
            m.role
            for m in s.scalars(
                select(Message).where(Message.conversation_id == sid).order_by(Message.seq)
            )
        ]
        assert roles == ["user", "assistant"] * 3


def test_websocket_history_is_fitted_to_the_context(make_client):
    client = make_client(engine_kw={"max_context": 160})
    with client.websocket_connect("/v1/chat/ws") as ws:
        ws.receive_json()
        usages = [_ws_turn(ws, "阮阿公血壓懸，食藥仔愛注意啥物？")[2] for _ in range(5)]
    # Oldest turns are dropped so the prompt stays within context minus max_tokens.
    assert all(u["usage"]["prompt_tokens"] <= 160 - 4 for u in usages)
    assert usages[-1]["meta"].get("history_dropped", 0) >= 1


class Triage:
    """A pre-model hook answering at once (as red-flag triage does)."""

    def __call__(self, ctx):
        if "胸口" in ctx.user_text:
            return ImmediateReply("敲 119！", "red_flag", [Trigger("t:chest", "chest_pain")])
        return None


class Upper:
    """Records every chunk it sees; uppercases; appends a disclaimer."""

    def __init__(self):
        self.chunks = []

    def amend_chunk(self, ctx, text):
        self.chunks.append(text)
        return text.upper()

    def finish(self, ctx, full_text):
        ctx.triggers.append(Trigger("t:disclaimer", "disclaimer", "post"))
        return "【DISCLAIMER】"


def _standardize(text):
    return text.strip().replace("台", "臺"), {"script": "test"}


def test_hooks_run_in_order_and_are_stored_and_counted(make_client):
    post = Upper()
    hooks = Hooks(standardizers=[_standardize], pre_model=[Triage()], post_model=[post])
    client = make_client(hooks=hooks)
    r = _chat(client, content="  胸口疼  ")
    body = r.json()
    assert body["choices"][0]["message"]["content"] == "敲 119！"
    assert body["taigimed"]["reply_kind"] == "red_flag"
    assert body["taigimed"]["meta"] == {"script": "test"}
    r2 = _chat(client, content="台灣")
    text = r2.json()["choices"][0]["message"]["content"]
    assert text.endswith("【DISCLAIMER】")
    assert text[: -len("【DISCLAIMER】")] == "".join(post.chunks).upper()
    with _db(client) as s:
        events = {(e.message_id, e.category) for e in s.scalars(select(SafetyEvent))}
        assert events == {(body["id"], "chest_pain"), (r2.json()["id"], "disclaimer")}
        user = s.scalar(select(Message).where(Message.id == f"{r2.json()['id']}-in0"))
        assert (user.content, user.raw_content) == ("臺灣", "台灣")
        assert s.get(Message, body["id"]).reply_kind == "red_flag"
    metrics = client.get("/metrics").text
    assert 'taigimed:safety_triggers_total{category="chest_pain"' in metrics


def test_review_mode_holds_the_answer(make_client):
    def hold(ctx):
        ctx.review_status = "pending"
        ctx.meta["hold_message"] = "等醫生看過"

    client = make_client(hooks=Hooks(pre_model=[hold]))
    body = _chat(client).json()
    assert body["choices"][0]["message"]["content"] == "等醫生看過"
    assert body["taigimed"]["reply_kind"] == "review_pending"
    with _db(client) as s:
        msg = s.get(Message, body["id"])
        assert msg.review_status == "pending" and msg.content != "等醫生看過"


def test_feedback_stored_and_counted(make_client):
    client = make_client()
    rid = _chat(client).json()["id"]
    r = client.post(
        "/v1/feedback",
        json={
            "response_id": rid,
            "thumbs": "down",
            "rating": 2,
            "inaccuracy": {"category": "unsafe_advice", "comment": "劑量"},
        },
    )
    assert r.status_code == 200 and r.json()["stored"] == ["thumbs_down", "rating", "inaccuracy"]
    with _db(client) as s:
        rows = {(f.kind, f.thumbs, f.rating, f.category) for f in s.scalars(select(Feedback))}
    assert rows == {
        ("thumbs", "down", None, None),
        ("rating", None, 2, None),
        ("inaccuracy", None, None, "unsafe_advice"),
    }
    assert (
        'taigimed:feedback_total{engine="builtin",kind="thumbs_down"' in client.get("/metrics").text
    )
    assert (
        client.post("/v1/feedback", json={"response_id": "chatcmpl-nope", "rating": 3}).status_code
        == 404
    )
    assert client.post("/v1/feedback", json={"response_id": rid}).status_code == 400
    assert client.post("/v1/feedback", json={"response_id": rid, "rating": 6}).status_code == 400


def test_api_keys_and_rate_limit(make_client, monkeypatch):
    monkeypatch.setenv("TAIGIMED_API_KEY_PEPPER", "test-pepper")
    client = make_client(require_api_key=True, rate_limit_per_minute=3)
    from taigimed.serve.keys import create_key

    st = client.app.state.taigimed
    with st.sessions_factory.begin() as s:
        key, _ = create_key(s, "test")
    assert _chat(client).status_code == 401
    auth = {"Authorization": "Bearer tm-wrong"}
    assert client.get("/v1/models", headers=auth).json()["error"]["code"] == "invalid_api_key"
    auth = {"Authorization": f"Bearer {key}"}
    assert [client.get("/v1/models", headers=auth).status_code for _ in range(4)] == [
        200,
        200,
        200,
        429,
    ]
    r = client.get("/v1/models", headers=auth)
    assert r.json()["error"]["type"] == "rate_limit_error" and int(r.headers["retry-after"]) >= 1
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/v1/chat/ws") as ws:
        ws.receive_json()  # refused without a key
    assert client.get("/healthz").status_code == 200  # probes need no key


def test_metrics_exposition_names(make_client):
    client = make_client()
    _chat(client)
    text = client.get("/metrics").text
    for name in (
        "taigimed:time_to_first_token_seconds_bucket",
        "taigimed:inter_token_latency_seconds_bucket",
        "taigimed:request_success_total",
        "taigimed:prompt_tokens_total",
        "taigimed:generation_tokens_total",
        "taigimed:num_requests_running",
        "taigimed:num_requests_waiting",
    ):
        labelled = [line for line in text.splitlines() if line.startswith(name + "{")]
        assert labelled, name
        assert all('engine="builtin"' in line for line in labelled), labelled
        assert all('model_version="test-v1"' in line for line in labelled), labelled


@pytest.mark.parametrize("privacy", [True, False])
def test_privacy_mode_keeps_prompts_out_of_info_logs(make_client, caplog, privacy):
    import logging

    client = make_client(privacy_mode=privacy)
    with caplog.at_level(logging.INFO, logger="taigimed"):
        _chat(client, content="我的秘密病情")
    logged = " ".join(str(v) for r in caplog.records for v in vars(r).values())
    assert "turn start" in logged
    assert ("我的秘密病情" in logged) is not privacy


def test_generation_timeout_is_a_504_and_stored_partial(make_client):
    client = make_client(generation_timeout_s=0.02)
    r = _chat(client, max_tokens=400)
    assert r.status_code == 504
    assert r.json()["error"]["code"] == "generation_timeout"
    with _db(client) as s:
        msg = s.scalar(select(Message).where(Message.role == "assistant"))
        assert msg.partial
    assert 'kind="timeout"' in client.get("/metrics").text


def test_generation_timeout_over_websocket_is_the_same_error_and_stored_partial(make_client):
    client = make_client(generation_timeout_s=0.02)
    with client.websocket_connect("/v1/chat/ws") as ws:
        sid = ws.receive_json()["session_id"]
        ws.send_json({"type": "message", "content": "頭殼疼", "max_tokens": 400})
        assert ws.receive_json()["type"] == "start"
        while (m := ws.receive_json())["type"] == "token":
            pass
    assert m["type"] == "error", m
    http = _chat(client, max_tokens=400).json()["error"]
    assert m["error"]["code"] == http["code"] == "generation_timeout"
    assert m["error"]["type"] == http["type"] == "server_error"
    with _db(client) as s:
        msg = s.scalar(
            select(Message).where(Message.conversation_id == sid, Message.role == "assistant")
        )
        assert msg.partial


def test_cors_allows_only_configured_origins(make_client):
    client = make_client(cors_origins=["https://clinic.example"])
    pre = {"Access-Control-Request-Method": "POST"}
    ok = client.options("/v1/chat/completions", headers={"Origin": "https://clinic.example", **pre})
    assert ok.headers.get("access-control-allow-origin") == "https://clinic.example"
    bad = client.options("/v1/chat/completions", headers={"Origin": "https://evil.example", **pre})
    assert "access-control-allow-origin" not in bad.headers
