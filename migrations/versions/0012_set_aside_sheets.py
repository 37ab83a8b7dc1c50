"""set-aside sheets and known conflicts at scoring

A sheet from a known conflict of interest (or one the organiser sets aside) is kept but not counted:
score.set_aside_at / set_aside_reason / set_aside_by. event.conflicted_may_score says whether a judge
with a known conflict may still submit scores for that team (set aside) or only declare the conflict.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 19:20:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.add_column(sa.Column('set_aside_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('set_aside_reason', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('set_aside_by', sa.String(length=300), nullable=False, server_default=''))
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conflicted_may_score', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('conflicted_may_score')
    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.drop_column('set_aside_by')
        batch_op.drop_column('set_aside_reason')
        batch_op.drop_column('set_aside_at')
