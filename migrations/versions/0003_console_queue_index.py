"""Index for the sales queue: leads by tier, score and age.

Why: the queue lists each tier's leads best score first; with this index
the database walks them in order instead of sorting the whole table.

Revision ID: console_0002_queue_index
Revises: 0003_console
Create Date: 2026-12-03 17:25:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "console_0002_queue_index"
down_revision: str | Sequence[str] | None = "0003_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_leads_queue",
            ["tier", sa.text("score DESC"), "created_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index("ix_leads_queue")
