"""Request ids, JSON logs with tokens redacted, and Prometheus metrics that add up across workers.

Metrics use prometheus_client's multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set (gunicorn.conf.py
sets it before any worker starts): each worker writes its own files, /metrics sums them, and a
dead worker's files are marked by the `child_exit` hook.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import g, has_request_context, request

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # each process writes its files there from its first metric on
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import Counter, Histogram  # noqa: E402 - after the folder exists

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
REQUESTS = Counter("expo_http_requests_total", "HTTP requests answered", ["method", "endpoint", "status"])
LATENCY = Histogram("expo_http_request_duration_seconds", "Time to answer a request", ["method", "endpoint"],
                    buckets=LATENCY_BUCKETS)
SCORES = Counter("expo_scores_submitted_total", "Score sheets submitted, by what the server did with them",
                 ["outcome"])
PDF_RENDER = Histogram("expo_pdf_render_seconds", "Time to lay out one PDF (or one chunk of a batch)", ["kind"],
                       buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80, 160))
LOGIN_REFUSED = Counter("expo_login_refused_total", "Organiser sign-ins refused before the password was checked",
                        ["reason"])
SHED = Counter("expo_requests_shed_total", "Requests answered 503 with Retry-After (database busy or away)")

# Where secrets travel: judge badges (/j/), team feedback links (/f/) and certificate verification
# codes (/v/), in any case, after doubled slashes or `..`, percent-encoded in a raw URI or a query
# string (`?next=%2Fj%2F…`). Everything after such a segment is redacted: `/j/[redacted]`.
_SEP = r"(?:/|\\|%2f|%5c)"
_LETTER = r"(?:[jfv]|%(?:4a|6a|46|66|56|76))"  # j, f, v, or one of them percent-encoded
_SECRET_SEGMENT = rf"(?:^|{_SEP}){_LETTER}{_SEP}+"
SECRET_PATH = re.compile(rf"({_SECRET_SEGMENT}).+", re.IGNORECASE | re.DOTALL)  # a path: to its end
SECRET_IN_TEXT = re.compile(rf"({_SECRET_SEGMENT})[^\s?#&\"'<>]+", re.IGNORECASE)  # a URI, a query, a message
# A token by its shape wherever it appears: `<owner>-<version>-<MAC>`, the MAC 20+ URL-safe characters.
SECRET_SHAPE = re.compile(r"(-\d+-)[A-Za-z0-9_-]{20,}")
REDACTED = "[redacted]"
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
QUIET_ENDPOINTS = {"platform.healthz", "platform.readyz", "platform.metrics", "static"}


def redact_path(path: str) -> str:
    """`/j/4-1-abc…`, `/J//…`, `/t/../f/…` -> `/j/[redacted]` etc.; a token's shape anywhere, too."""
    path = SECRET_PATH.sub(lambda m: m.group(1) + REDACTED, path, count=1)
    return SECRET_SHAPE.sub(lambda m: m.group(1) + REDACTED, path)


def redact_text(text: str) -> str:
    """Any text that may hold a URI (a query string, gunicorn's request line, a log message)."""
    text = SECRET_IN_TEXT.sub(lambda m: m.group(1) + REDACTED, text)
    return SECRET_SHAPE.sub(lambda m: m.group(1) + REDACTED, text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and any `extra` fields."""

    RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        # Redacted here too, whoever logged it: gunicorn's own lines carry the raw request line or
        # URI (e.g. "Invalid request from ip=…: Invalid HTTP request line: 'GET /j/<token> …'").
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact_text(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in self.RESERVED and not key.startswith("_"):
                entry[key] = redact_text(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


def configure_logging(app) -> None:
    """JSON lines on stderr (LOG_FORMAT=json, the production default), or plain text."""
    root = logging.getLogger()
    if app.config.get("LOG_FORMAT", "text") == "json":
        if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(JsonFormatter())
            handler.addFilter(RequestIdFilter())
            for old in list(root.handlers):
                root.removeHandler(old)
            root.addHandler(handler)
        # Flask's own handler would print every message a second time, as text.
        from flask.logging import default_handler

        app.logger.removeHandler(default_handler)
        root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    # WeasyPrint narrates every step of every render at INFO.
    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


access_log = logging.getLogger("expo.access")

# Every label takes a value from a fixed set, whatever a client sends: one series per random HTTP
# method or status would grow /metrics (and Prometheus) without bound.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
STATUSES = frozenset({200, 201, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 406, 409,
                      410, 413, 414, 415, 422, 429, 431, 500, 501, 502, 503, 504})
UNMATCHED = "none"  # the endpoint of a request that matched no route (a 404, a 405)


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


def status_label(status: int) -> str:
    """The code itself for the ones the app answers; else its class ("4xx"), or "other"."""
    if status in STATUSES:
        return str(status)
    return f"{status // 100}xx" if 100 <= status <= 599 else "other"


def endpoint_label_of(req) -> str:
    """A route's endpoint (the app's own, a fixed set), or UNMATCHED."""
    return req.url_rule.endpoint if req.url_rule is not None else UNMATCHED


def init_app(app) -> None:
    configure_logging(app)

    def log_exception(exc_info):
        """Flask's, with the path's token redacted: a 500 on /j/<token> must not log the badge."""
        app.logger.error("Exception on %s [%s]", redact_path(request.path), request.method, exc_info=exc_info)

    app.log_exception = log_exception

    @app.before_request
    def _start():
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        started = g.pop("request_started", None)
        endpoint = request.endpoint or "none"
        if started is not None:
            elapsed = time.perf_counter() - started
            method, endpoint_label = method_label(request.method), endpoint_label_of(request)
            REQUESTS.labels(method, endpoint_label, status_label(response.status_code)).inc()
            LATENCY.labels(method, endpoint_label).observe(elapsed)
            if response.status_code == 503 and "Retry-After" in response.headers:
                SHED.inc()
            if endpoint not in QUIET_ENDPOINTS and app.config.get("ACCESS_LOG", True):
                access_log.info("%s %s %s", request.method, redact_path(request.path), response.status_code, extra={
                    "method": request.method, "path": redact_path(request.path), "endpoint": endpoint,
                    "status": response.status_code, "duration_ms": round(elapsed * 1000, 1),
                    "remote_addr": request.remote_addr, "request_id": g.get("request_id")})
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
        return response


def metrics_text() -> tuple[bytes, str]:
    """The exposition text: summed over workers in multiprocess mode, this process's otherwise."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client import multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    text = generate_latest(registry)
    return text + _database_gauges(), CONTENT_TYPE_LATEST


def _database_gauges() -> bytes:
    """Figures read from the database at scrape time, the same whichever worker answers."""
    from ..extensions import db
    from ..models import RenderedDocument

    pending = db.session.execute(db.select(db.func.count(RenderedDocument.id))
                                 .where(RenderedDocument.state.in_(("queued", "rendering")))).scalar()
    return ("# HELP expo_documents_pending Printed-matter batches waiting or rendering\n"
            "# TYPE expo_documents_pending gauge\n"
            f"expo_documents_pending {int(pending or 0)}\n").encode()
