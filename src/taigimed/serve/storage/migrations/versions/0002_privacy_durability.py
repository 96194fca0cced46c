"""Key roles, the review audit trail, and the server instance of in-progress answers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="client"))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("instance", sa.String(128), nullable=True))
    op.create_table(
        "review_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("response_id", sa.String(64), nullable=True),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("credential", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_review_audit_response_id", "review_audit", ["response_id"])
    op.create_index("ix_messages_finish_reason", "messages", ["finish_reason"])


def downgrade() -> None:
    op.drop_index("ix_messages_finish_reason", "messages")
    op.drop_table("review_audit")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("instance")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("role")
