"""POST /v1/chat/completions: OpenAI-compatible, JSON or server-sent events."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import StreamingResponse

from taigimed.serve.errors import APIError
from taigimed.serve.generation import StreamEvent, Turn
from taigimed.serve.protocol import (
    ChatCompletionChoice,
    ChatCompletionChunk,
    ChatCompletionChunkChoice,
    ChatCompletionRequest,
    ChatCompletionResponse,
    DeltaMessage,
    ErrorResponse,
    ResponseMessage,
    TaigiMedInfo,
    UsageInfo,
)
from taigimed.serve.routes.deps import caller, check_messages, generation_params
from taigimed.serve.security import Caller
from taigimed.serve.state import AppState, app_state
from taigimed.serve.turns import STREAM_FAILURES, new_turn, open_turn, turn_error

router = APIRouter(tags=["openai"])
ERRORS = {code: {"model": ErrorResponse} for code in (400, 401, 404, 413, 429, 502, 503, 504)}
# The 200 is JSON, or server-sent events when "stream": true.
OK = {
    200: {
        "description": "The answer: a chat.completion, or with stream=true a text/event-stream "
        "of chat.completion.chunk objects ending with 'data: [DONE]'.",
        # One server-sent event: its data line is a JSON chunk, or "[DONE]" at the end.
        "content": {
            "text/event-stream": {
                "schema": {
                    "type": "object",
                    "properties": {"data": {"type": "string"}, "event": {"type": "string"}},
                    "required": ["data"],
                }
            }
        },
    }
}


def _info(ev: StreamEvent, session_id: str, partial: bool = False) -> TaigiMedInfo:
    return TaigiMedInfo(
        reply_kind=ev.reply_kind,
        session_id=session_id,
        triggers=ev.triggers,
        review_status=ev.review_status,
        meta=ev.meta,
        partial=partial,
        sources=ev.meta.get("sources", []),
    )


def _usage(ev: StreamEvent) -> UsageInfo:
    return UsageInfo(
        prompt_tokens=ev.prompt_tokens,
        completion_tokens=ev.completion_tokens,
        total_tokens=ev.prompt_tokens + ev.completion_tokens,
    )


@router.post(
    "/v1/chat/completions",
    response_model=ChatCompletionResponse,
    responses={**OK, **ERRORS},
)
async def chat_completions(
    body: ChatCompletionRequest,
    request: Request,
    who: Caller = Depends(caller),
    x_session_id: str | None = Header(None, max_length=64),
):
    """Answer the last user message. ``X-Session-Id`` groups requests into one stored
    conversation; without it each request is stored as its own conversation. A session
    id that another API key created is answered 404; so is, for an anonymous caller (keys
    off), one the server did not make (``taigimed.session_id`` of an earlier answer)."""
    st = app_state(request)
    info = st.engine.info
    if body.model not in (None, info.model_id, info.model_version):
        raise APIError(
            404,
            f"model {body.model!r} is not served here; GET /v1/models lists {info.model_id!r}",
            param="model",
            code="model_not_found",
        )
    messages = [{"role": m.role, "content": m.text} for m in body.messages]
    check_messages(request, messages)
    params = generation_params(
        request,
        body.max_completion_tokens or body.max_tokens,
        body.temperature,
        body.top_p,
        body.stop,
        body.seed,
    )
    # Our system prompt is always first; a client's system messages are not passed on,
    # so they cannot switch off the medical-safety instructions.
    history = [m for m in messages[:-1] if m["role"] != "system"]
    session_id = x_session_id or f"http-{uuid.uuid4().hex[:16]}"
    turn = new_turn(
        "http",
        session_id,
        history,
        messages[-1]["content"],
        params,
        who.key.id if who.key else None,
        store_history=x_session_id is None,
        # Anonymous callers continue server-made (random) ids only; keyed callers may name
        # their own, bound to their key.
        create_session=x_session_id is None or who.key is not None,
    )
    prepared = await open_turn(st.runner, turn)
    events = st.runner.run(turn, prepared)
    if body.stream:
        usage = bool(body.stream_options and body.stream_options.include_usage)
        return StreamingResponse(
            _sse(st, events, turn, usage),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    text, end = [], None
    try:
        async for ev in events:
            if ev.kind == "delta":
                text.append(ev.text)
            else:
                end = ev
    except STREAM_FAILURES as exc:
        raise turn_error(exc, "http") from exc
    return ChatCompletionResponse(
        id=turn.response_id,
        model=info.model_id,
        choices=[
            ChatCompletionChoice(
                message=ResponseMessage(content="".join(text)), finish_reason=end.finish_reason
            )
        ],
        usage=_usage(end),
        taigimed=_info(end, session_id),
    )


def _data(obj) -> str:
    payload = obj.model_dump(exclude_none=True) if hasattr(obj, "model_dump") else obj
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


async def _sse(
    st: AppState, events: AsyncIterator[StreamEvent], turn: Turn, include_usage: bool
) -> AsyncIterator[str]:
    model = st.engine.info.model_id

    def chunk(delta: DeltaMessage, finish: str | None = None, **extra) -> ChatCompletionChunk:
        choice = ChatCompletionChunkChoice(delta=delta, finish_reason=finish)
        return ChatCompletionChunk(id=turn.response_id, model=model, choices=[choice], **extra)

    try:
        yield _data(chunk(DeltaMessage(role="assistant", content="")))
        async for ev in events:
            if ev.kind == "delta":
                yield _data(chunk(DeltaMessage(content=ev.text)))
                continue
            yield _data(
                chunk(DeltaMessage(), ev.finish_reason, taigimed=_info(ev, turn.session_id))
            )
            if include_usage:
                yield _data(
                    ChatCompletionChunk(
                        id=turn.response_id, model=model, choices=[], usage=_usage(ev)
                    )
                )
        yield "data: [DONE]\n\n"
    except STREAM_FAILURES as exc:
        yield _data(turn_error(exc, "http").body())
    finally:
        await events.aclose()  # client gone: stops the engine and stores the partial answer
