"""Probes and metrics for the orchestrator and Prometheus."""
from __future__ import annotations

import hmac
import logging

from flask import Response, abort, current_app, jsonify, request

from ..extensions import db
from . import bp
from .observability import metrics_text
from .shared import shared

log = logging.getLogger(__name__)


@bp.route("/healthz")
def healthz():
    """Liveness: the process answers. Nothing else is checked, so a database outage never restarts pods."""
    return jsonify(status="ok"), 200, {"Cache-Control": "no-store"}


def migration_head() -> str | None:
    cached = current_app.extensions.get("expo_migration_head")
    if cached is None:
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", current_app.extensions["migrate"].directory)
        cached = current_app.extensions["expo_migration_head"] = ScriptDirectory.from_config(config).get_current_head()
    return cached


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [""])[0][:200]


@bp.route("/readyz")
def readyz():
    """Readiness: the database answers and its schema is at the newest migration (and Redis, if used).

    The public answer is only ready or not ready: the reasons (exception names, migration versions)
    would tell a stranger what runs here, so they go to the log.
    """
    problems = []
    try:
        db.session.execute(db.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        db.session.rollback()
        problems.append(f"database unreachable: {exc.__class__.__name__}: {_first_line(exc)}")
    else:
        try:
            current = db.session.execute(db.text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:  # noqa: BLE001 - no version table: never migrated
            db.session.rollback()
            current = None
        head = migration_head()
        if current != head:
            problems.append(f"migrations at {current or 'none'}, newest is {head}: run `expo init-db`")
    state = shared()
    if state.name == "redis":
        try:
            state.ping()
        except Exception as exc:  # noqa: BLE001
            problems.append(f"redis unreachable: {exc.__class__.__name__}: {_first_line(exc)}")
    if problems:
        log.warning("not ready: %s", "; ".join(problems), extra={"problems": problems})
        return jsonify(status="not ready"), 503, {"Cache-Control": "no-store"}
    return jsonify(status="ready"), 200, {"Cache-Control": "no-store"}


def _bearer_token() -> str:
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


@bp.route("/metrics")
def metrics():
    """Prometheus text. With METRICS_TOKEN, only for its bearer (403 otherwise); without one, only if
    METRICS_PUBLIC (not in production by default: there it is a 404, as if it did not exist)."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        if not hmac.compare_digest(_bearer_token().encode(), token.encode()):
            abort(403)
    elif not current_app.config.get("METRICS_PUBLIC", False):
        abort(404)
    body, content_type = metrics_text()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})
