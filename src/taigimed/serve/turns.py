"""Opening a chat turn, and what its failures look like to a client: one owner for the HTTP
route (``routes/chat.py``) and the WebSocket (``routes/ws.py``).

Both channels build a :class:`Turn` here, prepare and open it here, and map every failure of
a turn to one :class:`APIError` (status, OpenAI type, code, message) with :func:`turn_error`,
so a generation timeout is ``generation_timeout`` on either (the WebSocket sends the error's
body in its error frame; the status is not on the wire there).
"""

from __future__ import annotations

import asyncio
import uuid

from taigimed.serve.context import PromptTooLong
from taigimed.serve.engines.base import EngineError, EngineRequestRejected, GenerationParams
from taigimed.serve.errors import APIError
from taigimed.serve.generation import GenerationTimeout, Prepared, StorageUnavailable, Turn
from taigimed.serve.logs import request_id_var
from taigimed.serve.storage.writer import SessionNotOwned

# What a turn that has started streaming may raise (answered by ``turn_error``).
STREAM_FAILURES = (EngineError, GenerationTimeout, StorageUnavailable)

# Where each channel names the session and the text, and how a client starts afresh.
_SESSION_PARAM = {"http": "X-Session-Id", "ws": "session_id"}
_SESSION_HINT = {
    "http": "omit X-Session-Id or use one your key created",
    "ws": "connect without session_id to start one",
}
_TEXT_PARAM = {"http": "messages", "ws": "content"}


def turn_error(exc: Exception, channel: str, session_id: str = "") -> APIError:
    """The client's error for a turn that failed with ``exc`` on ``channel`` (http, ws)."""
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, PromptTooLong):
        return APIError(400, str(exc), param=_TEXT_PARAM[channel], code="context_length_exceeded")
    if isinstance(exc, SessionNotOwned):
        return APIError(
            404,
            f"no session {session_id!r}; {_SESSION_HINT[channel]}",
            param=_SESSION_PARAM[channel],
            code="session_not_found",
        )
    if isinstance(exc, StorageUnavailable):
        return APIError(503, str(exc), "server_error", code="storage")
    if isinstance(exc, EngineRequestRejected):
        return APIError(400, f"the model engine refused the request: {exc}", code="invalid_value")
    if isinstance(exc, GenerationTimeout):
        return APIError(504, str(exc), "server_error", code="generation_timeout")
    if isinstance(exc, EngineError):
        return APIError(502, f"the model engine failed: {exc}", "server_error", code="engine_error")
    raise TypeError(f"not a turn failure: {exc!r}") from exc


def new_turn(
    channel: str,
    session_id: str,
    history: list[dict[str, str]],
    user_text: str,
    params: GenerationParams,
    api_key_id: int | None,
    **options,
) -> Turn:
    """A turn for this request (its request id from the log context); ``options`` are the
    channel's own (``store_history``, ``create_session``)."""
    return Turn(
        request_id=request_id_var.get() or uuid.uuid4().hex,
        session_id=session_id,
        conversation_id=session_id,
        channel=channel,
        history=history,
        user_text=user_text,
        params=params,
        api_key_id=api_key_id,
        **options,
    )


async def open_turn(runner, turn: Turn) -> Prepared:
    """Standardise and fit the turn, then store its question before anything is generated
    (``TurnRunner.prepare`` and ``open``); any refusal is raised as the client's APIError."""
    try:
        prepared = await asyncio.to_thread(runner.prepare, turn)
        await runner.open(turn, prepared)
    except (PromptTooLong, SessionNotOwned, StorageUnavailable) as exc:
        raise turn_error(exc, turn.channel, turn.session_id) from exc
    return prepared
