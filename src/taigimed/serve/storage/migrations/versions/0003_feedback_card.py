"""The card an answer came from, on its feedback: "this is wrong" puts the card up for review.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("card_id", sa.String(64), nullable=True))
    op.create_index("ix_feedback_card_id", "feedback", ["card_id"])


def downgrade() -> None:
    op.drop_index("ix_feedback_card_id", "feedback")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("card_id")
