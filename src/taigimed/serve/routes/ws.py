"""WebSocket /v1/chat/ws: a dialogue streamed token by token, history kept server-side.

Connect with ``?session_id=...`` to continue a dialogue (``?api_key=...`` when keys are
required: browsers cannot set headers on WebSockets). Messages:

    server → {"type": "session", "session_id", "model", "history_turns"}
    client → {"type": "message", "content": "...", "max_tokens"?, "temperature"?, "top_p"?}
    server → {"type": "start", "id"}  {"type": "token", "id", "text"}...
             {"type": "end", "id", "finish_reason", "reply_kind", "usage", "triggers", "meta",
              "review_status"}
    server → {"type": "error", "error": {"message", "type", "param", "code"}}  (turn skipped)
"""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from taigimed.serve.context import PromptTooLong
from taigimed.serve.engines.base import EngineError
from taigimed.serve.errors import APIError
from taigimed.serve.generation import GenerationTimeout, Turn
from taigimed.serve.logs import request_id_var
from taigimed.serve.protocol import WsUserMessage
from taigimed.serve.routes.deps import check_messages, generation_params
from taigimed.serve.security import bearer

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
    session_id = websocket.query_params.get("session_id") or f"ws-{uuid.uuid4().hex[:16]}"
    session_id = session_id[:64]
    history = st.sessions.get(session_id)
    await websocket.send_json(
        {
            "type": "session",
            "session_id": session_id,
            "model": st.engine.info.model_id,
            "history_turns": len(history) // 2,
        }
    )
    try:
        while True:
            raw = await websocket.receive_text()
            request_id_var.set(uuid.uuid4().hex)
            try:
                msg = WsUserMessage.model_validate_json(raw)
                st.limiter.check(who)
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
            await _turn(websocket, st, who, session_id, history, msg.content, params)
    except WebSocketDisconnect:
        return


async def _turn(websocket, st, who, session_id, history, content, params) -> None:
    turn = Turn(
        request_id=request_id_var.get() or uuid.uuid4().hex,
        session_id=session_id,
        conversation_id=session_id,
        channel="ws",
        history=list(history),
        user_text=content,
        params=params,
        api_key_id=who.key.id if who.key else None,
    )
    try:
        prepared = await asyncio.to_thread(st.runner.prepare, turn)
    except PromptTooLong as exc:
        await websocket.send_json(_error(APIError(400, str(exc), code="context_length_exceeded")))
        return
    ctx = prepared[0]
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
                    "review_status": ev.review_status,
                }
            )
    except (EngineError, GenerationTimeout) as exc:
        await websocket.send_json(
            _error(APIError(502, str(exc), "server_error", code="engine_error"))
        )
    finally:
        await events.aclose()  # disconnect mid-answer: stop and store the partial answer
    # The standardised user text and what the user saw become the history.
    history.append({"role": "user", "content": ctx.user_text})
    history.append({"role": "assistant", "content": "".join(shown)})
