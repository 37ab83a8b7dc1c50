"""mail outbox: e-mails to judges and team members, queued, sent or failed

mail_outbox: one row per e-mail (judge invitation, team feedback notice, certificate notice) with its
delivery state, attempts, last error and the worker's lease. It names the person, the kind and the
badge or feedback-link version, never a link: links are built when the message is sent. On SQLite
the table is AUTOINCREMENT (a message id names its Message-ID and its .eml file, never reused).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'mail_outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('judge_id', sa.Integer(), nullable=True),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('to_name', sa.String(length=120), nullable=False),
        sa.Column('to_address', sa.String(length=254), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=500), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('claim', sa.String(length=32), nullable=False),
        sa.Column('claimed_at', sa.DateTime(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('includes_certificates', sa.Boolean(), nullable=False),
        sa.Column('requested_by', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('judge_invitation', 'team_feedback', 'team_certificates')",
                           name=op.f('ck_mail_outbox_kind')),
        sa.CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name=op.f('ck_mail_outbox_status')),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_mail_outbox_event_id_event'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['judge_id'], ['judge.id'], name=op.f('fk_mail_outbox_judge_id_judge'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_mail_outbox_team_id_team'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['member_id'], ['team_member.id'], name=op.f('fk_mail_outbox_member_id_team_member'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox')),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_outbox_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_outbox_judge_id'), ['judge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_outbox_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_outbox_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_mail_outbox_status_next', ['status', 'next_attempt_at'], unique=False)


def downgrade():
    op.drop_table('mail_outbox')
