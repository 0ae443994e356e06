"""The programme's version: a token the stores' and the earning rules' triggers replace
with a random one on every change, read by each movement in its customer's lock
statement, so that each process serves stores and rules from memory and reloads them in
the same transaction when they changed (persistence/programme_cache.py).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED_TABLES = ("stores", "earning_rules")
POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION programme_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE programme_version SET token = md5(random()::text || clock_timestamp()::text);
    RETURN NULL;
END $$"""
SQLITE_NEW_VERSION = "UPDATE programme_version SET token = lower(hex(randomblob(16)))"


def upgrade() -> None:
    op.create_table(
        "programme_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token", sa.String(32), nullable=False),
    )
    op.execute("INSERT INTO programme_version (id, token) VALUES (1, 'initial')")
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _postgresql_triggers() -> None:
    op.execute(POSTGRESQL_FUNCTION)
    for table in WATCHED_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_change_programme AFTER INSERT OR UPDATE OR DELETE "
            f"OR TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION programme_changed()"
        )


def _sqlite_triggers() -> None:
    for table in WATCHED_TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_{event.lower()}_changes_programme AFTER {event} "
                f"ON {table} BEGIN {SQLITE_NEW_VERSION}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_change_programme ON {table}")
        op.execute("DROP FUNCTION IF EXISTS programme_changed()")
    else:
        for table in WATCHED_TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{event}_changes_programme")
    op.drop_table("programme_version")
