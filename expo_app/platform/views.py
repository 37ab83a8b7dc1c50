"""Probes and metrics for the orchestrator and Prometheus."""
from __future__ import annotations

import hmac

from flask import Response, abort, current_app, jsonify, request

from ..extensions import db
from . import bp
from .observability import metrics_text
from .shared import shared


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


@bp.route("/readyz")
def readyz():
    """Readiness: the database answers and its schema is at the newest migration (and Redis, if used)."""
    checks, ready = {}, True
    try:
        db.session.execute(db.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready, with the reason
        db.session.rollback()
        checks["database"] = f"unreachable: {exc.__class__.__name__}"
        ready = False
    else:
        try:
            current = db.session.execute(db.text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:  # noqa: BLE001 - no version table: never migrated
            db.session.rollback()
            current = None
        head = migration_head()
        if current != head:
            checks["migrations"] = f"at {current or 'none'}, newest is {head}: run `expo init-db`"
            ready = False
        else:
            checks["migrations"] = "ok"
    state = shared()
    if state.name == "redis":
        try:
            state.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"unreachable: {exc.__class__.__name__}"
            ready = False
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503, \
        {"Cache-Control": "no-store"}


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
