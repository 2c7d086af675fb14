"""Privacy: erasure jobs, so an erasure interrupted half-way can complete.

Why: erasure spans stores without a shared transaction; the job row is the
durable marker that a re-run (or the periodic task) finishes.

Revision ID: privacy_0001_erasure_jobs
Revises: 0001_vault
Create Date: 2026-12-03 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "privacy_0001_erasure_jobs"
down_revision: str | Sequence[str] | None = "0001_vault"
branch_labels: str | Sequence[str] | None = ("privacy",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erasure_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("email_index", sa.LargeBinary(length=32), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("removed", sa.JSON(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_jobs")),
        sa.UniqueConstraint("lead_id", name=op.f("uq_erasure_jobs_lead_id")),
    )
    with op.batch_alter_table("erasure_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_erasure_jobs_email_index"), ["email_index"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("erasure_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erasure_jobs_email_index"))

    op.drop_table("erasure_jobs")
