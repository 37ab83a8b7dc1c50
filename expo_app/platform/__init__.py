"""The production envelope: shared state across instances, request guards, health, metrics, logs.

`init_app(app)` wires it all; `bp` serves /healthz, /readyz and /metrics.
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("platform", __name__)


def init_app(app) -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    from . import guards, observability, shared, views  # noqa: F401 - views registers the routes

    shared.init_app(app)
    observability.init_app(app)
    guards.init_app(app)
    proxies = int(app.config.get("TRUSTED_PROXIES", 0) or 0)
    if proxies:
        # Behind a TLS-terminating proxy (ingress, load balancer): believe its X-Forwarded-For/-Proto/
        # -Host for this many hops, so remote_addr, https and url_for are the client's. Never more
        # hops than there really are, or clients could forge their address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)
    app.register_blueprint(bp)
