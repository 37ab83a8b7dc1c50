"""shared state (rate limits, revoked sessions, caches) and sign-out everywhere

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('shared_state',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_shared_state'))
    )
    with op.batch_alter_table('shared_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shared_state_expires_at'), ['expires_at'], unique=False)

    with op.batch_alter_table('admin_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('admin_user', schema=None) as batch_op:
        batch_op.drop_column('session_version')

    with op.batch_alter_table('shared_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shared_state_expires_at'))

    op.drop_table('shared_state')
