"""import_job.content: the uploads of finished imports are deleted (contract v2 §0: deleted once processed)

Revision ID: 0005_import_uploads_deleted
Revises: 0004_event_sequence
Create Date: 2026-11-30 16:00
"""
from alembic import op

revision = "0005_import_uploads_deleted"
down_revision = "0004_event_sequence"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE import_job SET content = ''::bytea WHERE state IN ('done', 'failed') AND length(content) > 0")


def downgrade() -> None:
    pass  # deleted uploads cannot come back
