"""hardening: a claim token fencing every outbox mark, an index for the claim query; a channel
quiz's settings belong to its group, not to the admin who configured them; when an answer was rated

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_outbox_status_not_before", ["status", "not_before"], unique=False)
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.alter_column(
            "user_id", existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        )
    op.execute("UPDATE subscriptions SET user_id = NULL WHERE kind <> 'daily'")
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE answers SET rated_at = updated_at WHERE self_rating IS NOT NULL")  # the best estimate left


def downgrade() -> None:
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.drop_column("rated_at")
    op.execute("DELETE FROM subscriptions WHERE user_id IS NULL")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.alter_column(
            "user_id", existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_not_before")
        batch_op.drop_column("claim_token")
