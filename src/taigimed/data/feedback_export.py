"""Closing the loop: stored conversations, feedback and clinician reviews → a versioned,
scrubbed Hugging Face dataset that the next training run can include.

    taigimed data export-feedback --workdir /tmp/tm            # serving DB of that workdir
    taigimed data export-feedback --db-url postgresql+psycopg://...

Writes ``WORKDIR/feedback/<version>/`` with two datasets and a manifest, then points
``WORKDIR/feedback/current.json`` at it:

- ``datasets/feedback_chat``: training records (the schema of ``stage2_train``: id, source,
  kind='chat', messages, text, difficulty, phase) for answers a clinician approved or edited
  (the edited text is the target), or users rated well with no complaint;
- ``datasets/feedback_all``: every answer that got feedback or a review, with its labels,
  for analysis (negative examples included).

Personal data is scrubbed from every text (``taigimed.data.pii``) and counted by kind in
the manifest. The version is the export time plus a hash of the content; an export with the
same content as the newest one is not written twice.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from taigimed.artifacts import publish_dir, write_json_atomic
from taigimed.chat import SYSTEM_PROMPT, render
from taigimed.config import Config
from taigimed.workdir import Workdir

FEEDBACK_SOURCE = "feedback"
CHAT_DATASET = "feedback_chat"
ALL_DATASET = "feedback_all"


class FeedbackExportError(RuntimeError):
    """The export cannot run; the message says what to fix (database URL, missing tables)."""


def _features():
    from datasets import Features, Sequence, Value

    from taigimed.data.schema import RECORD_FEATURES

    message = {"role": Value("string"), "content": Value("string")}
    everything = Features(
        {
            "id": Value("string"),
            "conversation_id": Value("string"),
            "created_at": Value("string"),
            "model_version": Value("string"),
            "engine": Value("string"),
            "reply_kind": Value("string"),
            "partial": Value("bool"),
            "messages": [message],
            "answer": Value("string"),
            "edited_answer": Value("string"),
            "review_status": Value("string"),
            "thumbs_up": Value("int32"),
            "thumbs_down": Value("int32"),
            "mean_rating": Value("float32"),
            "inaccuracy_categories": Sequence(Value("string")),
            "label": Value("string"),
        }
    )
    return RECORD_FEATURES, everything  # training records concatenate with stage2_train


def redact_url(url: str) -> str:
    """The database URL without its password, for the manifest."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _label(row: dict[str, Any]) -> str:
    """positive / corrected / negative / neutral, from reviews first, then user feedback."""
    if row["review_status"] == "edited" and row["edited_answer"]:
        return "corrected"
    if row["review_status"] == "approved":
        return "positive"
    if row["review_status"] == "rejected":
        return "negative"
    if row["thumbs_down"] or row["inaccuracy_categories"]:
        return "negative"
    rating = row["mean_rating"]
    if rating is not None and rating < 3:
        return "negative"
    if row["partial"] or row["reply_kind"] not in (None, "model"):
        return "neutral"  # cut-off answers and canned safety replies are not training targets
    if row["thumbs_up"] or (rating is not None and rating >= 4):
        return "positive"
    return "neutral"


def _collect(url: str, scrub) -> list[dict[str, Any]]:
    from sqlalchemy import inspect, or_, select
    from sqlalchemy.orm import selectinload

    from taigimed.serve.storage.db import make_engine, session_factory
    from taigimed.serve.storage.models import Conversation, Feedback, Message

    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        if not {"messages", "feedback", "conversations"} <= tables:
            raise FeedbackExportError(
                f"{redact_url(url)} has no serving tables (found {sorted(tables) or 'none'}); "
                "point --db-url at the database 'taigimed serve' writes, "
                "or run 'taigimed db upgrade'"
            )
        with session_factory(engine)() as session:
            has_feedback = select(Feedback.message_id)
            answers = session.scalars(
                select(Message)
                .where(Message.role == "assistant")
                .where(or_(Message.id.in_(has_feedback), Message.review_status.is_not(None)))
                .options(
                    selectinload(Message.feedback),
                    selectinload(Message.conversation).selectinload(Conversation.messages),
                )
                .order_by(Message.created_at, Message.id)
            ).all()
            rows = []
            for answer in answers:
                context = [
                    {"role": m.role, "content": scrub(m.content) or ""}
                    for m in answer.conversation.messages
                    if m.seq < answer.seq and m.role in ("user", "assistant")
                ]
                ratings = [f.rating for f in answer.feedback if f.rating is not None]
                row = {
                    "id": answer.id,
                    "conversation_id": answer.conversation_id,
                    "created_at": answer.created_at.isoformat() if answer.created_at else "",
                    "model_version": answer.model_version or "",
                    "engine": answer.engine or "",
                    "reply_kind": answer.reply_kind,
                    "partial": bool(answer.partial),
                    "messages": context,
                    "answer": scrub(answer.content) or "",
                    "edited_answer": scrub(answer.edited_text) or "",
                    "review_status": answer.review_status or "",
                    "thumbs_up": sum(f.thumbs == "up" for f in answer.feedback),
                    "thumbs_down": sum(f.thumbs == "down" for f in answer.feedback),
                    "mean_rating": sum(ratings) / len(ratings) if ratings else None,
                    "inaccuracy_categories": sorted(
                        {
                            f.category or "unspecified"
                            for f in answer.feedback
                            if f.kind == "inaccuracy"
                        }
                    ),
                }
                for f in answer.feedback:  # free-text comments are scrubbed and counted too
                    scrub(f.comment)
                row["label"] = _label(row)
                row["reply_kind"] = row["reply_kind"] or ""
                rows.append(row)
            return rows
    finally:
        engine.dispose()


def _training_record(row: dict[str, Any], last_phase: int) -> dict[str, Any] | None:
    if row["label"] not in ("positive", "corrected") or not row["messages"]:
        return None
    if row["messages"][-1]["role"] != "user":
        return None
    target = row["edited_answer"] if row["label"] == "corrected" else row["answer"]
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, *row["messages"]]
    messages.append({"role": "assistant", "content": target})
    return {
        "id": f"feedback-{row['id']}",
        "source": FEEDBACK_SOURCE,
        "kind": "chat",
        "messages": messages,
        "text": render(messages),  # informational, as in stage2_train
        # Clinician-corrected answers teach the most; ordinary thumbs-up ones are easy.
        "difficulty": 0.8 if row["label"] == "corrected" else 0.5,
        "phase": last_phase,  # real user questions belong with the hardest curriculum phase
    }


def _content_hash(rows: list[dict[str, Any]]) -> str:
    payload = json.dumps(rows, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _newest(feedback_root: Path) -> dict[str, Any] | None:
    """The manifest of the version current.json names, if it is still there."""
    current = feedback_root / "current.json"
    if not current.exists():
        return None
    version = json.loads(current.read_text(encoding="utf-8"))["version"]
    manifest = feedback_root / version / "manifest.json"
    return json.loads(manifest.read_text(encoding="utf-8")) if manifest.exists() else None


def export_feedback(
    cfg: Config, workdir: Workdir, db_url: str | None = None, out: Path | None = None
) -> Path:
    """Export feedback-bearing answers from the serving database; returns the version folder.

    ``out`` replaces the default parent ``WORKDIR/feedback``.
    """
    from datasets import Dataset

    from taigimed.data.pii import Scrubber
    from taigimed.serve.storage.db import database_url

    if db_url is None:
        db_url = database_url(cfg.serve, workdir)
        if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).exists():
            raise FeedbackExportError(
                f"no serving database at {db_url.removeprefix('sqlite:///')}; run 'taigimed serve' "
                "with this --workdir first, or pass --db-url / TAIGIMED_DATABASE_URL"
            )
    scrub = Scrubber()
    rows = _collect(db_url, scrub)
    last_phase = cfg.data.curriculum_phases - 1
    chat_rows = [r for r in (_training_record(row, last_phase) for row in rows) if r is not None]
    digest = _content_hash(rows)

    root = Path(out) if out else workdir.feedback
    root.mkdir(parents=True, exist_ok=True)
    newest = _newest(root)
    if newest and newest.get("content_sha256") == digest and (root / newest["version"]).is_dir():
        return root / newest["version"]

    version = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{digest[:8]}"
    chat_features, all_features = _features()
    final = root / version
    with publish_dir(final) as tmp:
        Dataset.from_list(chat_rows, features=chat_features).save_to_disk(
            str(tmp / "datasets" / CHAT_DATASET)
        )
        Dataset.from_list(rows, features=all_features).save_to_disk(
            str(tmp / "datasets" / ALL_DATASET)
        )
        labels: dict[str, int] = {}
        for r in rows:
            labels[r["label"]] = labels.get(r["label"], 0) + 1
        manifest = {
            "version": version,
            "created_at": datetime.now(UTC).isoformat(),
            "source_database": redact_url(db_url),
            "content_sha256": digest,
            "datasets": {
                CHAT_DATASET: {"rows": len(chat_rows), "schema": "training record (stage2_train)"},
                ALL_DATASET: {"rows": len(rows), "schema": "answers with feedback labels"},
            },
            "labels": labels,
            "pii_scrubbed": {
                k: scrub.counts.get(k, 0)
                for k in ("national_id", "national_id_unverified", "phone", "email", "name")
            },
            "answers_from": min((r["created_at"] for r in rows), default=None),
            "answers_to": max((r["created_at"] for r in rows), default=None),
        }
        write_json_atomic(tmp / "manifest.json", manifest)
    write_json_atomic(root / "current.json", {"version": version, "path": str(final)})
    return final
