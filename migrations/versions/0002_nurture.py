"""Nurture tables: enrollments in sequences and one send record per step.

Why: email follow-ups keep their schedule in the database (no long broker
ETAs) and write a unique send record before any SMTP traffic.

Revision ID: 0002_nurture
Revises: 0001_vault
Create Date: 2026-12-03 16:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_nurture"
down_revision: str | Sequence[str] | None = "0001_vault"
branch_labels: str | Sequence[str] | None = ("nurture",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nurture_enrollments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("next_step", sa.Integer(), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_at_enrollment", sa.String(length=20), nullable=False),
        sa.Column("stop_reason", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_nurture_enrollments_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nurture_enrollments")),
        sa.UniqueConstraint(
            "lead_id", "sequence", name=op.f("uq_nurture_enrollments_lead_id")
        ),
    )
    with op.batch_alter_table("nurture_enrollments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_nurture_enrollments_lead_id"), ["lead_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_nurture_enrollments_next_due_at"),
            ["next_due_at"],
            unique=False,
        )

    op.create_table(
        "nurture_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_code", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["nurture_enrollments.id"],
            name=op.f("fk_nurture_sends_enrollment_id_nurture_enrollments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_nurture_sends_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nurture_sends")),
        sa.UniqueConstraint(
            "enrollment_id", "step", name=op.f("uq_nurture_sends_enrollment_id")
        ),
        sa.UniqueConstraint("message_id", name=op.f("uq_nurture_sends_message_id")),
    )
    with op.batch_alter_table("nurture_sends", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_nurture_sends_due_at"), ["due_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_nurture_sends_lead_id"), ["lead_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("nurture_sends", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nurture_sends_lead_id"))
        batch_op.drop_index(batch_op.f("ix_nurture_sends_due_at"))

    op.drop_table("nurture_sends")
    with op.batch_alter_table("nurture_enrollments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nurture_enrollments_next_due_at"))
        batch_op.drop_index(batch_op.f("ix_nurture_enrollments_lead_id"))

    op.drop_table("nurture_enrollments")
