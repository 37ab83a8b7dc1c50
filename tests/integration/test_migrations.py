"""The Alembic migrations build exactly the schema the models describe, on both databases."""
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from expo_app import create_app
from expo_app.extensions import db


@pytest.fixture
def migrated_url(backend, tmp_path, request):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite'}"
        return
    url = request.getfixturevalue("pg_schema")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS migrations_check CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA migrations_check"))
    # Upgrade into a schema of its own so the shared test schema is left alone.
    yield url + ("&" if "?" in url else "?") + "options=-csearch_path%3Dmigrations_check"
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA migrations_check CASCADE"))
    engine.dispose()


def test_upgrade_matches_models(migrated_url):
    from flask_migrate import downgrade, upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": migrated_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        assert diff == []
        downgrade(revision="base")
        assert sa.inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        db.engine.dispose()


def test_downgrade_and_upgrade_keep_existing_rows(migrated_url):
    """Batch mode rebuilds tables on SQLite; that must never cascade into the rows of child tables."""
    from flask_migrate import downgrade, upgrade

    from expo_app.admin.operations import change_scoring_state, create_event, save_judge, save_team
    from expo_app.judging.operations import SheetInput, submit_score

    app = create_app({"SQLALCHEMY_DATABASE_URI": migrated_url})
    with app.app_context():
        upgrade()
        event = create_event("Kept")
        change_scoring_state(event, "open")
        team = save_team(event, None, name="T", project="", table_number=1, members=[("M", "m@x.org")])
        judge = save_judge(event, None, name="J", email="j@x.org", affiliation="")
        submit_score(judge, team, SheetInput(values={c.id: 3 for c in event.criteria}, comment="Good"), "test")
        db.session.commit()
        counts = "SELECT (SELECT count(*) FROM criterion), (SELECT count(*) FROM team), " \
                 "(SELECT count(*) FROM team_member), (SELECT count(*) FROM judge), " \
                 "(SELECT count(*) FROM score), (SELECT count(*) FROM score_value), (SELECT count(*) FROM score_audit)"
        before = db.session.execute(sa.text(counts)).one()
        db.session.remove()
        downgrade(revision="0001")
        upgrade()
        assert db.session.execute(sa.text(counts)).one() == before == (4, 1, 1, 1, 1, 4, 1)
        # Rows from before migration 0011 keep their row id as legacy_id (old paper names it) and get a uid.
        for table in ("judge", "team"):
            row_id, uid, legacy_id = db.session.execute(sa.text(f"SELECT id, uid, legacy_id FROM {table}")).one()
            assert legacy_id == row_id and len(uid) == 16 and uid[0].isalpha()
        from expo_app.auth.operations import resolve_judge_link
        from expo_app.auth.tokens import JUDGE_SIGN_IN, make_legacy_token

        judge_id = db.session.execute(sa.text("SELECT id FROM judge")).scalar()
        found, problem = resolve_judge_link(make_legacy_token(app.config["SECRET_KEY"], JUDGE_SIGN_IN, judge_id, 1))
        assert problem is None and found.id == judge_id
        db.session.remove()
        with db.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                sql = dict(conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all())
                assert all("AUTOINCREMENT" in sql[t] for t in ("judge", "team", "team_member", "certificate",
                                                               "award_category"))
        with db.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.session.remove()
        db.engine.dispose()
