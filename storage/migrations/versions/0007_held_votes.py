"""votes that arrive before their poll is recorded are held, not dropped

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "held_votes",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("poll_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("external_user_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("option", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "poll_id", "event_id", name=op.f("pk_held_votes")),
    )


def downgrade() -> None:
    op.drop_table("held_votes")
