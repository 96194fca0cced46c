"""Initial tables: conversations, messages (with review state), safety events, feedback, API keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(128), nullable=False, unique=True),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True),
        _ts("created_at"),
        _ts("revoked_at", nullable=True),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("api_key_id", sa.Integer(), sa.ForeignKey("api_keys.id"), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "conversation_id", sa.String(64), sa.ForeignKey("conversations.id"), nullable=False
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("raw_content", sa.Text(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=True),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("finish_reason", sa.String(32), nullable=True),
        sa.Column("reply_kind", sa.String(32), nullable=True),
        sa.Column("model_version", sa.String(200), nullable=True),
        sa.Column("engine", sa.String(32), nullable=True),
        sa.Column("ttft_s", sa.Float(), nullable=True),
        sa.Column("latency_s", sa.Float(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        _ts("created_at"),
        sa.Column("review_status", sa.String(16), nullable=True),
        sa.Column("reviewer", sa.String(200), nullable=True),
        _ts("reviewed_at", nullable=True),
        sa.Column("edited_text", sa.Text(), nullable=True),
    )
    op.create_index("ix_messages_conversation_id", "messages", ["conversation_id"])
    op.create_index("ix_messages_request_id", "messages", ["request_id"])
    op.create_index("ix_messages_review_status", "messages", ["review_status"])
    op.create_table(
        "safety_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(64), sa.ForeignKey("messages.id"), nullable=True),
        sa.Column("conversation_id", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        _ts("created_at"),
    )
    op.create_index("ix_safety_events_message_id", "safety_events", ["message_id"])
    op.create_index("ix_safety_events_conversation_id", "safety_events", ["conversation_id"])
    op.create_index("ix_safety_events_category", "safety_events", ["category"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(64), sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("thumbs", sa.String(8), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(64), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("api_key_id", sa.Integer(), sa.ForeignKey("api_keys.id"), nullable=True),
        _ts("created_at"),
    )
    op.create_index("ix_feedback_message_id", "feedback", ["message_id"])


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("safety_events")
    op.drop_table("messages")
    op.drop_table("conversations")
    op.drop_table("api_keys")
