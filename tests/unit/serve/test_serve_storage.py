"""Storage against SQLite and a real PostgreSQL: migrations, turns, feedback, review state, keys."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from taigimed.serve.hooks import Trigger
from taigimed.serve.keys import create_key, hash_key, list_keys, revoke_key, verify_key
from taigimed.serve.protocol import FeedbackRequest
from taigimed.serve.storage import db
from taigimed.serve.storage.feedback import UnknownResponse, store_feedback
from taigimed.serve.storage.models import (
    Base,
    Conversation,
    Feedback,
    Message,
    SafetyEvent,
    utcnow,
)
from taigimed.serve.storage.writer import StorageWriter, StoredMessage, TurnRecord


def _record(conv: str, rid: str, **kw) -> TurnRecord:
    base = dict(
        conversation_id=conv,
        channel="ws",
        request_id="req-1",
        response_id=rid,
        new_messages=[StoredMessage("user", "頭殼疼", "頭殼疼 ", {"script": "taigi_han"})],
        answer="愛歇睏。",
        partial=False,
        finish_reason="stop",
        reply_kind="model",
        model_version="test-v1",
        engine="builtin",
        ttft_s=0.05,
        latency_s=0.5,
        prompt_tokens=40,
        completion_tokens=5,
    )
    base.update(kw)
    return TurnRecord(**base)


def test_migrations_match_models(db_url):
    assert db.upgrade(db_url) == "0003"
    assert db.upgrade(db_url) == "0003"  # idempotent
    engine = db.make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    # Type-affinity noise aside, a table or column missing from the migration shows here.
    assert [d for d in diff if d[0] in ("add_table", "add_column", "remove_table")] == []


def test_turns_feedback_review_and_safety_events(db_url):
    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    writer = StorageWriter(db.session_factory(engine))
    try:
        writer.record_turn(_record("s1", "chatcmpl-a"))
        writer.record_turn(
            _record(
                "s1",
                "chatcmpl-b",
                partial=True,
                finish_reason=None,
                answer="愛",
                review_status="pending",
                triggers=[Trigger("r1:chest_pain", "chest_pain", "pre", "clause")],
            )
        )
        body = FeedbackRequest(
            response_id="chatcmpl-a", thumbs="down", inaccuracy={"category": "outdated"}
        )
        assert writer.submit(lambda s: store_feedback(s, body, None)).result(10) == [
            "thumbs_down",
            "inaccuracy",
        ]
        with pytest.raises(UnknownResponse):
            missing = FeedbackRequest(response_id="chatcmpl-a-in0", rating=3)  # a user row
            writer.submit(lambda s: store_feedback(s, missing, None)).result(10)
        writer.flush()
        with db.session_factory(engine)() as s:
            conv = s.get(Conversation, "s1")
            rows = [(m.seq, m.role, m.partial, m.review_status) for m in conv.messages]
            assert rows == [
                (0, "user", False, None),
                (1, "assistant", False, None),
                (2, "user", False, None),
                (3, "assistant", True, "pending"),
            ]
            user = conv.messages[0]
            assert (user.content, user.raw_content, user.meta) == (
                "頭殼疼",
                "頭殼疼 ",
                {"script": "taigi_han"},
            )
            event = s.scalar(select(SafetyEvent))
            assert (event.message_id, event.category) == ("chatcmpl-b", "chest_pain")
            kinds = sorted(f.kind for f in s.scalars(select(Feedback)))
            assert kinds == ["inaccuracy", "thumbs"]
            # The review columns the clinician queue writes.
            msg = s.get(Message, "chatcmpl-b")
            msg.review_status, msg.reviewer, msg.reviewed_at = "edited", "dr-lin", utcnow()
            msg.edited_text = "愛歇睏，加啉水。"
            s.commit()
            assert s.get(Message, "chatcmpl-b").reviewed_at is not None
    finally:
        writer.close()
        engine.dispose()


def test_api_keys_are_hashed_and_revocable(db_url, monkeypatch):
    monkeypatch.setenv("TAIGIMED_API_KEY_PEPPER", "pepper-1")
    db.upgrade(db_url)
    engine = db.make_engine(db_url)
    sessions = db.session_factory(engine)
    with sessions.begin() as s:
        key, info = create_key(s, "clinic", rate_limit_per_minute=5)
    with sessions.begin() as s:
        stored = [k.prefix for k in list_keys(s)]
        assert stored == [key[:10]]
        assert verify_key(s, key, b"pepper-1").id == info.id
        assert verify_key(s, key, b"other-pepper") is None  # the pepper matters
        assert key not in {
            row[0] for row in s.execute(select(Base.metadata.tables["api_keys"].c.key_hash))
        }
        assert hash_key(key, b"pepper-1") in {
            row[0] for row in s.execute(select(Base.metadata.tables["api_keys"].c.key_hash))
        }
        revoke_key(s, info.id)
    with sessions() as s:
        assert verify_key(s, key, b"pepper-1") is None
    engine.dispose()


def test_database_url_defaults_to_sqlite_under_workdir(tmp_path, monkeypatch):
    from taigimed.serve.config import ServeConfig
    from taigimed.workdir import Workdir

    monkeypatch.delenv(db.ENV_DATABASE_URL, raising=False)
    wd = Workdir(tmp_path)
    assert db.database_url(ServeConfig(), wd) == f"sqlite:///{tmp_path}/serve/taigimed.sqlite"
    monkeypatch.setenv(db.ENV_DATABASE_URL, "postgresql://u@h/db")
    assert db.database_url(ServeConfig(), wd) == "postgresql+psycopg://u@h/db"
