"""Self-service link tokens: single-use, expiring, stored hashed.

Why: visitors get a copy of their data or erase it through an emailed link.

Revision ID: 0004_selfservice
Revises: 0001_vault
Create Date: 2026-12-03 17:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_selfservice"
down_revision: str | Sequence[str] | None = "0001_vault"
branch_labels: str | Sequence[str] | None = ("selfservice",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "selfservice_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("privacy_request_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_selfservice_tokens_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selfservice_tokens")),
        sa.UniqueConstraint(
            "token_hash", name=op.f("uq_selfservice_tokens_token_hash")
        ),
    )
    with op.batch_alter_table("selfservice_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_selfservice_tokens_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_selfservice_tokens_lead_id"), ["lead_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("selfservice_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_selfservice_tokens_lead_id"))
        batch_op.drop_index(batch_op.f("ix_selfservice_tokens_expires_at"))

    op.drop_table("selfservice_tokens")
