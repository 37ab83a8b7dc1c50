"""Expo Judge: scoring a project expo from judges' phones to a fair ranking."""
from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, render_template, request

from .extensions import configure_sqlite, csrf, db, migrate, write_intent

PROJECT_ROOT = Path(__file__).resolve().parent.parent
READ_ONLY_METHODS = {"GET", "HEAD", "OPTIONS"}


def create_app(config=None) -> Flask:
    """Build the application. `config` is a config class or mapping; default: EXPO_ENV's class."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("EXPO_INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    if config is None:
        from config import config_from_env

        config = config_from_env()
    if isinstance(config, dict):
        from config import TestConfig

        app.config.from_object(TestConfig)
        app.config.update(config)
    else:
        app.config.from_object(config)
    _settle_secrets_and_database(app)

    from . import platform
    from .platform.guards import install_converters

    install_converters(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])

    from . import admin, assignments, auth, documents, judging, public, results
    from .documents.views import bp as documents_bp
    from .mail.views import bp as mail_bp

    app.register_blueprint(auth.bp)
    app.register_blueprint(judging.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(results.bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(assignments.bp)
    app.register_blueprint(mail_bp)
    platform.init_app(app)
    _register_request_hooks(app)
    _register_template_filters(app)
    documents.init_app(app)
    _register_error_pages(app)

    from .cli import register_commands

    register_commands(app)
    from .auth.operations import prepare_dummy_hash

    prepare_dummy_hash(app)  # before the first request: the first unknown e-mail must not cost two hashes
    return app


def _settle_secrets_and_database(app: Flask) -> None:
    """Production fails loudly without its secrets; development keeps its own in the instance folder."""
    if app.config.get("ENV_NAME") == "production":
        missing = [name for key, name in (("SECRET_KEY", "SECRET_KEY"), ("SQLALCHEMY_DATABASE_URI", "DATABASE_URL"))
                   if not app.config.get(key)]
        if missing:
            raise RuntimeError("Production needs " + " and ".join(missing) + " in the environment.")
        if len(app.config["SECRET_KEY"]) < 32:
            raise RuntimeError("SECRET_KEY must be at least 32 characters in production.")
        # Unset, the address saved on the Site settings page is used (the admin pages say so).
        host = urlsplit(app.config["PUBLIC_BASE_URL"] or "").hostname or ""
        if host in ("localhost", "::1") or host.startswith("127."):
            # Not fatal (a smoke test may run on one machine), but printed QR codes would be dead.
            app.logger.warning("PUBLIC_BASE_URL is %s: printed QR codes and judge links will not work "
                               "from judges' phones. Set it to the address they reach.", app.config["PUBLIC_BASE_URL"])
    else:
        Path(app.instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)
        if not app.config.get("SECRET_KEY"):
            # Kept on disk so judges' printed sign-in links survive a restart of the dev server.
            key_file = Path(app.instance_path) / "secret_key"
            if not key_file.exists():
                key_file.write_text(secrets.token_urlsafe(48))
                key_file.chmod(0o600)
            app.config["SECRET_KEY"] = key_file.read_text().strip()
        if not app.config.get("SQLALCHEMY_DATABASE_URI"):
            app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(app.instance_path) / "expo.sqlite")
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    _private_sqlite_file(uri)
    for prefix in ("postgresql://", "postgres://"):
        if uri.startswith(prefix):
            # psycopg 3 is the driver we ship; a plain postgresql:// URL would look for psycopg2.
            app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri[len(prefix):]


def _private_sqlite_file(uri: str) -> None:
    """An SQLite file holds password hashes and private notes: create it readable by us only.

    SQLite gives its -wal and -shm files the database file's permissions.
    """
    from sqlalchemy.engine import make_url

    url = make_url(uri)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:") or url.database.startswith("file:"):
        return
    path = Path(url.database)
    if not path.exists() and path.parent.is_dir():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    elif path.exists() and path.stat().st_mode & 0o077 and os.access(path, os.W_OK):
        path.chmod(0o600)


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _declare_write_intent():
        request._write_token = write_intent.set(request.method not in READ_ONLY_METHODS)

    @app.teardown_request
    def _forget_write_intent(_exc):
        token = getattr(request, "_write_token", None)
        if token is not None:
            write_intent.reset(token)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        )
        if app.config.get("HSTS_SECONDS"):  # production; browsers heed it on HTTPS responses only
            response.headers.setdefault("Strict-Transport-Security", f"max-age={app.config['HSTS_SECONDS']}")
        return response


def _page_flashes():
    """The messages for this page, unless the page is a copy nobody is looking at: the phone's service
    worker keeping a form for offline use (X-Expo-Precache) or a browser's prefetch. Such a copy would
    take the message meant for the page the person opens next ("You are signed out.", "Saved") and
    keep it in the offline copy, to be shown again later out of place."""
    from flask import get_flashed_messages

    from .platform.guards import is_a_kept_copy

    return [] if is_a_kept_copy() else get_flashed_messages(with_categories=True)


def _register_template_filters(app: Flask) -> None:
    from datetime import timezone
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(app.config["DISPLAY_TIMEZONE"])

    @app.template_filter("when")
    def when(value):
        """A stored UTC time as the hall reads it: 'Dec 10, 14:02'."""
        if value is None:
            return ""
        local = value.replace(tzinfo=timezone.utc).astimezone(zone)
        return local.strftime("%b %d, %H:%M")

    app.jinja_env.globals["rendered_ms"] = lambda: int(time.time() * 1000)
    app.jinja_env.globals["page_flashes"] = _page_flashes

    @app.template_filter("when_exact")
    def when_exact(value):
        """To the second, so that two saves within a minute look different: 'Dec 10, 14:02:37'."""
        if value is None:
            return ""
        return value.replace(tzinfo=timezone.utc).astimezone(zone).strftime("%b %d, %H:%M:%S")


def _register_error_pages(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    def page(status: int, title: str, message: str):
        return render_template("errors/error.html", status=status, title=title, message=message), status

    @app.errorhandler(400)
    def _bad_request(e):
        return page(400, "Something in that request was wrong", getattr(e, "description", ""))

    @app.errorhandler(CSRFError)
    def _csrf(e):
        if request.endpoint == "judging.team" and request.method == "POST":
            # A judge's sheet: keep every entry on the page and say plainly it was not saved.
            from .judging.views import expired_sheet

            return expired_sheet(request.view_args.get("code", ""))
        return page(400, "This form has expired",
                    "The page was open too long or your session changed. Go back, reload the page and send it again.")

    @app.errorhandler(401)
    def _unauthorised(e):
        return page(401, "Please sign in as a judge",
                    "Scan the QR code on your judge badge with this phone's camera, then try again.")

    @app.errorhandler(403)
    def _forbidden(e):
        return page(403, "Not allowed", "You are signed in, but this page is not yours to see.")

    @app.errorhandler(404)
    def _not_found(e):
        return page(404, "Page not found", "Check the address, or scan the code again.")

    @app.errorhandler(405)
    def _method(e):
        return page(405, "Not allowed here", "That action cannot be done at this address.")

    @app.errorhandler(413)
    def _too_large(e):
        return page(413, "File too large", "Upload a file smaller than 2 MB.")

    @app.errorhandler(500)
    def _server_error(e):
        from .platform.guards import busy_answer

        answer = busy_answer(getattr(e, "original_exception", None))
        if answer is not None:
            return answer
        db.session.rollback()
        return page(500, "Something went wrong on our side", "Nothing was saved. Please try again in a moment.")
