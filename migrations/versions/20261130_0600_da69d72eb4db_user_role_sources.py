"""Users: `pending` (signed in, no role granted) joins the roles in force; `role_source` records
what gave the role, `assigned_role` the role an admin set (app/auth/grants.py).

Existing users keep the role they have, recorded as set by an admin: what gave it before is
not known. Downgrading shuts pending users out (`viewer`, inactive) rather than letting them read.

Revision ID: da69d72eb4db
Revises: f1696370dee6
Create Date: 2026-11-30 06:00:56.838964+00:00
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision: str = "da69d72eb4db"
down_revision: str | None = "f1696370dee6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("viewer", "operator", "manager", "admin")
SOURCES = ("admins_list", "claim", "admin", "domain", "none")


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


api_keys = sa.table(
    "api_keys", sa.column("id", sa.Integer()), sa.column("created_by_id", sa.Integer())
)
users = sa.table(
    "users",
    sa.column("role", sa.String()),
    sa.column("role_source", sa.String()),
    sa.column("assigned_role", sa.String()),
    sa.column("active", sa.Boolean()),
)


@contextmanager
def creators_kept() -> Iterator[None]:
    """SQLite changes a check by rebuilding the table, and dropping the old `users` with foreign
    keys on sets every api_keys.created_by_id to NULL (ON DELETE SET NULL): put them back."""
    bind = op.get_bind()
    links = bind.execute(
        sa.select(api_keys.c.id, api_keys.c.created_by_id).where(
            api_keys.c.created_by_id.is_not(None)
        )
    ).all()
    yield
    for key_id, user_id in links:
        bind.execute(api_keys.update().where(api_keys.c.id == key_id).values(created_by_id=user_id))


def upgrade() -> None:
    # The role column's check is named after its enum: UserRole now; ck_users_role (the Role
    # enum's) moves to assigned_role. Checks go before the columns they cover exist or after
    # they are filled, so each name is used once at a time.
    with creators_kept(), op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.add_column(sa.Column("role_source", sa.String(length=19), nullable=True))
        batch_op.add_column(sa.Column("assigned_role", sa.String(length=16), nullable=True))
    op.execute(users.update().values(role_source="admin", assigned_role=users.c.role))
    with creators_kept(), op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("role_source", existing_type=sa.String(length=19), nullable=False)
        batch_op.create_check_constraint(
            op.f("ck_users_userrole"), _one_of("role", ("pending", *ROLES))
        )
        batch_op.create_check_constraint(
            op.f("ck_users_rolesource"), _one_of("role_source", SOURCES)
        )
        batch_op.create_check_constraint(op.f("ck_users_role"), _one_of("assigned_role", ROLES))


def downgrade() -> None:
    op.execute(users.update().where(users.c.role == "pending").values(role="viewer", active=False))
    with creators_kept(), op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_users_role"), type_="check")
        batch_op.drop_constraint(op.f("ck_users_rolesource"), type_="check")
        batch_op.drop_constraint(op.f("ck_users_userrole"), type_="check")
    with creators_kept(), op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("assigned_role")
        batch_op.drop_column("role_source")
        batch_op.create_check_constraint(op.f("ck_users_role"), _one_of("role", ROLES))
