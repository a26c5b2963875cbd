"""API keys record the key that created them (`created_by_key_id`), beside the user
(`created_by_id`): a key never acts above its creator's current role, and revoking a key
revokes the keys it created. Keys made by keys before this were recorded with no creator and
stay uncapped, like the CLI's.

Revision ID: ad0e9965aaa9
Revises: da69d72eb4db
Create Date: 2026-11-30 06:09:16.199449+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ad0e9965aaa9"
down_revision: str | None = "da69d72eb4db"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "created_by_key_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.create_index(
            batch_op.f("ix_api_keys_created_by_key_id"), ["created_by_key_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_api_keys_created_by_key_id_api_keys"),
            "api_keys",
            ["created_by_key_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_api_keys_created_by_key_id_api_keys"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_api_keys_created_by_key_id"))
        batch_op.drop_column("created_by_key_id")
