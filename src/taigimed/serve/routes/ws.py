"""WebSocket /v1/chat/ws: a dialogue streamed token by token, history kept server-side.

Connect with ``?session_id=...`` to continue a dialogue (``?api_key=...`` when keys are
required: browsers cannot set headers on WebSockets). The history is read from the
database, so any replica continues it; a session id created by another caller (another
key) gets an error with code ``session_not_found`` and the close code 4404; so does, for an
anonymous caller (keys off), an id the server did not make. A session id that cannot be an
id (over 64 characters, NUL) closes with 1008. Messages are text frames of at most
``serve.ws_max_frame_bytes`` (bigger: 1009, before they are read); a binary frame closes the
socket with 1003 (unsupported data). Every frame, valid or not, counts against the rate
limit. At most ``serve.ws_per_address`` sockets per client address and ``serve.ws_per_key``
per API key are open at once (more: 1013).

    server → {"type": "session", "session_id", "model", "history_turns"}
    client → {"type": "message", "content": "...", "max_tokens"?, "temperature"?, "top_p"?}
    server → {"type": "start", "id"}  {"type": "token", "id", "text"}...
             {"type": "end", "id", "finish_reason", "reply_kind", "usage", "triggers", "meta",
              "review_status"}
    server → {"type": "error", "error": {"message", "type", "param", "code"}}  (turn skipped)

An error's body and code are the HTTP route's for the same failure (``serve/turns.py``):
``context_length_exceeded``, ``session_not_found``, ``storage``, ``invalid_value``,
``generation_timeout``, ``engine_error``.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from taigimed.serve.errors import APIError
from taigimed.serve.logs import request_id_var
from taigimed.serve.protocol import WsUserMessage
from taigimed.serve.routes.deps import check_messages, generation_params
from taigimed.serve.security import bearer
from taigimed.serve.storage.models import storable_id
from taigimed.serve.storage.sessions import load_history
from taigimed.serve.storage.writer import SessionNotOwned, conversation_for
from taigimed.serve.turns import STREAM_FAILURES, new_turn, open_turn, turn_error

router = APIRouter()


def _error(exc: APIError) -> dict:
    return {"type": "error", **exc.body()}


@router.websocket("/v1/chat/ws")
async def chat_ws(websocket: WebSocket) -> None:
    st = websocket.app.state.taigimed
    address = websocket.client.host if websocket.client else "unknown"
    token = websocket.query_params.get("api_key") or bearer(websocket.headers.get("authorization"))
    try:
        who = await st.auth.check(token, address)
    except APIError as exc:
        await websocket.close(code=1008, reason=exc.message[:120])
        return
    await websocket.accept()
    s = st.cfg.serve
    if st.ws_open >= s.max_sessions:
        await websocket.close(code=1013, reason="too many open sessions; try again later")
        return
    # Idle sockets cost memory and a task each: one address or key holds only a few.
    buckets = {f"addr:{address}": s.ws_per_address}
    if who.key is not None:
        buckets[f"key:{who.key.id}"] = s.ws_per_key
    for bucket, cap in buckets.items():
        if st.ws_per_client.get(bucket, 0) >= cap:
            what = "address" if bucket.startswith("addr:") else "API key"
            await websocket.close(
                code=1013, reason=f"at most {cap} open WebSockets per {what}; close one"
            )
            return
    for bucket in buckets:
        st.ws_per_client[bucket] = st.ws_per_client.get(bucket, 0) + 1
    st.ws_open += 1
    st.metrics.ws_open.inc()
    try:
        await _session(websocket, st, who)
    finally:
        st.ws_open -= 1
        st.metrics.ws_open.dec()
        for bucket in buckets:
            left = st.ws_per_client.get(bucket, 1) - 1
            if left:
                st.ws_per_client[bucket] = left
            else:
                st.ws_per_client.pop(bucket, None)


async def _session(websocket: WebSocket, st, who) -> None:
    asked = websocket.query_params.get("session_id") or ""
    if asked and not storable_id(asked):
        await websocket.send_json(
            _error(
                APIError(
                    400,
                    "session_id must be at most 64 characters without NUL; connect without "
                    "session_id to start a session",
                    param="session_id",
                    code="invalid_value",
                )
            )
        )
        await websocket.close(code=1008, reason="invalid session_id")
        return
    session_id = asked or f"ws-{uuid.uuid4().hex[:16]}"
    key_id = who.key.id if who.key else None
    history: list[dict[str, str]] = []
    try:
        if asked:
            found = await st.writer.run(lambda s: load_history(s, asked, key_id))
            if found is None and key_id is None:
                # Anonymous ids are made by the server (random, 64 bits) and are the only
                # secret: a chosen one could be shared, guessed, or someone else's later.
                raise SessionNotOwned(asked)
            history = found or []
        elif key_id is None:
            # Stored now, so the id can be continued even before the first message.
            await st.writer.run(lambda s: conversation_for(s, session_id, "ws", None))
    except SessionNotOwned as exc:
        await websocket.send_json(_error(turn_error(exc, "ws", asked)))
        await websocket.close(code=4404, reason="session not found")
        return
    except Exception:
        await websocket.send_json(
            _error(APIError(503, "the session could not be read; try again", "server_error"))
        )
        await websocket.close(code=1011)
        return
    await websocket.send_json(
        {
            "type": "session",
            "session_id": session_id,
            "model": st.engine.info.model_id,
            "history_turns": sum(m["role"] == "user" for m in history),
        }
    )
    try:
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                return
            raw = frame.get("text")
            if raw is None:
                await websocket.close(code=1003, reason="send JSON text frames, not binary")
                return
            request_id_var.set(uuid.uuid4().hex)
            try:
                st.limiter.check(who)  # before parsing: invalid frames count too
                msg = WsUserMessage.model_validate_json(raw)
                check_messages(websocket, [{"role": "user", "content": msg.content}])
                params = generation_params(websocket, msg.max_tokens, msg.temperature, msg.top_p)
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(p) for p in err["loc"])
                await websocket.send_json(
                    _error(
                        APIError(
                            400, f"{where + ': ' if where else ''}{err['msg']}", param=where or None
                        )
                    )
                )
                continue
            except APIError as exc:
                await websocket.send_json(_error(exc))
                continue
            if not await _turn(websocket, st, who, session_id, history, msg.content, params):
                await websocket.close(code=4404, reason="session not found")
                return
    except WebSocketDisconnect:
        return


async def _turn(websocket, st, who, session_id, history, content, params) -> bool:
    """One turn; False when the session turned out to be someone else's."""
    turn = new_turn(
        "ws", session_id, list(history), content, params, who.key.id if who.key else None
    )
    try:
        prepared = await open_turn(st.runner, turn)
    except APIError as exc:
        await websocket.send_json(_error(exc))
        return exc.code != "session_not_found"
    ctx = prepared.ctx
    await websocket.send_json({"type": "start", "id": turn.response_id})
    shown = []
    events = st.runner.run(turn, prepared)
    try:
        async for ev in events:
            if ev.kind == "delta":
                shown.append(ev.text)
                await websocket.send_json({"type": "token", "id": ev.response_id, "text": ev.text})
                continue
            await websocket.send_json(
                {
                    "type": "end",
                    "id": ev.response_id,
                    "finish_reason": ev.finish_reason,
                    "reply_kind": ev.reply_kind,
                    "usage": {
                        "prompt_tokens": ev.prompt_tokens,
                        "completion_tokens": ev.completion_tokens,
                    },
                    "triggers": ev.triggers,
                    "meta": ev.meta,
                    "sources": ev.meta.get("sources", []),
                    "review_status": ev.review_status,
                }
            )
    except STREAM_FAILURES as exc:
        await websocket.send_json(_error(turn_error(exc, "ws")))
    finally:
        await events.aclose()  # disconnect mid-answer: stop and store the partial answer
    # The standardised user text and what the user saw become the history.
    history.append({"role": "user", "content": ctx.user_text})
    history.append({"role": "assistant", "content": "".join(shown)})
    return True
