"""the organisers' actions in the audit log

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 12:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('admin_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('area', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("area IN ('rubric', 'teams', 'judges', 'badges', 'scoring', 'awards', 'releases', "
                       "'certificates', 'assignments', 'settings', 'events')", name=op.f('ck_admin_action_area')),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_admin_action_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_action'))
    )
    with op.batch_alter_table('admin_action', schema=None) as batch_op:
        batch_op.create_index('ix_admin_action_event_at', ['event_id', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('admin_action', schema=None) as batch_op:
        batch_op.drop_index('ix_admin_action_event_at')

    op.drop_table('admin_action')
