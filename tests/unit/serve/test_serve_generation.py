"""The turn generator itself: a turn closed mid-answer stops the engine and stores what was sent."""

from __future__ import annotations

import time

from sqlalchemy import select

from taigimed.serve.engines.base import GenerationParams
from taigimed.serve.generation import Turn
from taigimed.serve.storage.models import Message


def test_closing_a_turn_mid_answer_stops_the_engine_and_stores_what_was_sent(make_client):
    client = make_client()
    st = client.app.state.taigimed
    turn = Turn(
        request_id="req-1",
        session_id="s-1",
        conversation_id="s-1",
        channel="ws",
        history=[],
        user_text="講一个足長的故事",
        params=GenerationParams(max_tokens=300),  # greedy: the same first token every time
    )

    async def first_piece_then_leave():
        events = st.runner.run(turn)  # as a route does: it prepares and opens the turn itself
        first = await anext(events)
        await events.aclose()  # what a route does when its client goes away
        return first

    first = client.portal.call(first_piece_then_leave)
    assert first.kind == "delta" and first.text
    deadline = time.monotonic() + 10
    while st.engine.queue_depth() != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert st.engine.queue_depth() == (0, 0)  # the engine dropped the row
    st.writer.flush()
    with st.sessions_factory() as s:
        answer = s.scalar(select(Message).where(Message.id == turn.response_id))
    assert (answer.partial, answer.content, answer.finish_reason) == (True, first.text, None)
    assert 'kind="disconnected"' in client.get("/metrics").text
