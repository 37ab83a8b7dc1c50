"""site settings: settings of the whole site, kept in the database

site_setting (key, value, updated_at): the organiser sets the site's public address (the start of every
printed link and QR code) on the Site settings page; the web and the CLI read the same row. The
environment variable PUBLIC_BASE_URL, when set, still wins.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 20:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'site_setting',
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('value', sa.String(length=2000), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_site_setting')),
    )


def downgrade():
    op.drop_table('site_setting')
