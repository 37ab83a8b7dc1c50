"""printed identities: random uids on judges, teams and certificates; ids never reused

Printed badges, feedback slips and certificate codes named row ids, which SQLite reuses after a
delete and another database numbers differently. From here they name a random uid stored on the row
(kept by export and import). Rows that exist now keep their id as `legacy_id`, so paper printed
before this migration keeps working for the same person and no other. On SQLite the tables whose
ids paper, snapshots or certificates point at become AUTOINCREMENT: an id is never given twice.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 19:30:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

UID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # as expo_app.models (copied: a migration must not change with the app)
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
IDENTIFIED = {"judge": (UID_ALPHABET, 16), "team": (UID_ALPHABET, 16), "certificate": (CODE_ALPHABET, 10)}
NO_REUSE = ("judge", "team", "team_member", "certificate", "award_category")


def _uid(alphabet: str, length: int) -> str:
    letters = [ch for ch in alphabet if ch.isalpha()]
    return secrets.choice(letters) + "".join(secrets.choice(alphabet) for _ in range(length - 1))


def upgrade():
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    for table, (alphabet, length) in IDENTIFIED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('uid', sa.String(length=16), nullable=True))
            batch_op.add_column(sa.Column('legacy_id', sa.Integer(), nullable=True))
        rows = sa.table(table, sa.column('id', sa.Integer), sa.column('uid', sa.String),
                        sa.column('legacy_id', sa.Integer))
        ids = [row.id for row in bind.execute(sa.select(rows.c.id))]
        seen = set()
        for row_id in ids:
            uid = _uid(alphabet, length)
            while uid in seen:
                uid = _uid(alphabet, length)
            seen.add(uid)
            bind.execute(rows.update().where(rows.c.id == row_id).values(uid=uid, legacy_id=row_id))
        kwargs = {"recreate": "always", "table_kwargs": {"sqlite_autoincrement": True}} if sqlite else {}
        with op.batch_alter_table(table, schema=None, **kwargs) as batch_op:
            batch_op.alter_column('uid', existing_type=sa.String(length=16), nullable=False)
            batch_op.create_unique_constraint(batch_op.f(f'uq_{table}_uid'), ['uid'])
            batch_op.create_unique_constraint(batch_op.f(f'uq_{table}_legacy_id'), ['legacy_id'])
    if sqlite:
        for table in NO_REUSE:
            if table in IDENTIFIED:
                continue
            with op.batch_alter_table(table, schema=None, recreate="always",
                                      table_kwargs={"sqlite_autoincrement": True}):
                pass


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in IDENTIFIED:
        kwargs = {"recreate": "always", "table_kwargs": {"sqlite_autoincrement": False}} if sqlite else {}
        with op.batch_alter_table(table, schema=None, **kwargs) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'uq_{table}_legacy_id'), type_='unique')
            batch_op.drop_constraint(batch_op.f(f'uq_{table}_uid'), type_='unique')
            batch_op.drop_column('legacy_id')
            batch_op.drop_column('uid')
    if sqlite:
        for table in NO_REUSE:
            if table in IDENTIFIED:
                continue
            with op.batch_alter_table(table, schema=None, recreate="always",
                                      table_kwargs={"sqlite_autoincrement": False}):
                pass
