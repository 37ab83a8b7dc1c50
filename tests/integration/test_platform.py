"""The production envelope: shared state (Redis or the database), probes, metrics, logs, the shared
ranking cache, and a clean 503 when the database is away (issue 11)."""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from contextlib import contextmanager

import pytest
from sqlalchemy.exc import OperationalError

from expo_app.extensions import db
from expo_app.platform.shared import DatabaseState, RedisState
from tests.conftest import AuthActions, full_sheet, team_code

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_state():
    state = RedisState(REDIS_URL, prefix=f"expo-test-{os.getpid()}-{time.time_ns()}:")
    try:
        state.ping()
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    yield state
    for key in state.redis.scan_iter(state.prefix + "*"):
        state.redis.delete(key)


@pytest.fixture(params=["database", "redis"])
def state(request, app):
    if request.param == "redis":
        yield request.getfixturevalue("redis_state")
    else:
        with app.app_context():
            yield DatabaseState(lambda: db.engine)


def test_counters_count_and_expire(state, app):
    with app.app_context():
        assert [state.hit("k", 60) for _ in range(3)] == [1, 2, 3]
        assert state.count("k") == 3 and 0 < state.ttl("k") <= 60
        assert state.count("other") == 0 and state.ttl("other") == 0
        assert state.hit("short", 1) == 1
        time.sleep(2.1)
        assert state.count("short") == 0
        assert state.hit("short", 1) == 1  # a new window


def test_values_and_locks(state, app):
    with app.app_context():
        assert state.get("v") is None
        state.set("v", b"\x00\x01binary", 60)
        assert state.get("v") == b"\x00\x01binary"
        state.set("v", b"again", 60)
        assert state.get("v") == b"again"
        assert state.add("lock", b"1", 60) is True
        assert state.add("lock", b"1", 60) is False
        state.delete("lock")
        assert state.add("lock", b"1", 1) is True
        time.sleep(1.1)
        assert state.add("lock", b"1", 60) is True  # an expired holder's lock is taken over
        state.delete("v")
        assert state.get("v") is None


def test_a_hit_can_be_taken_back_and_keys_deleted_by_prefix(state, app):
    """What the sign-in throttle needs: a refused attempt counts nowhere, a password reset clears an
    account's counters from every client (issue 16)."""
    with app.app_context():
        assert [state.hit("u", 60) for _ in range(3)] == [1, 2, 3]
        state.unhit("u")
        assert state.count("u") == 2 and 0 < state.ttl("u") <= 60
        state.unhit("u"), state.unhit("u"), state.unhit("u")
        assert state.count("u") == 0  # never below zero
        state.unhit("never-hit")
        assert state.count("never-hit") == 0 and state.ttl("never-hit") == 0  # not made by taking back
        assert state.hit("u", 60) == 1
        for key in ("login:pair:abc:1", "login:pair:abc:2", "login:pair:abd:1", "login:pair:ab%:1", "login:pair:a_c:1"):
            state.hit(key, 60)
        state.delete_prefix("login:pair:abc:")
        state.delete_prefix("login:pair:a_d")  # no wildcards: only keys that start with it as written
        state.delete_prefix("login:pair:ab%")
        state.delete_prefix("login:pair:a*")
        assert [state.count(key) for key in ("login:pair:abc:1", "login:pair:abc:2", "login:pair:abd:1",
                                             "login:pair:ab%:1", "login:pair:a_c:1")] == [0, 0, 1, 0, 1]


def test_two_instances_share_the_state_through_redis(app_config, demo, redis_state):
    """With REDIS_URL, a sign-out on one instance ends the session on the other."""
    from expo_app import create_app

    config = {**app_config, "REDIS_URL": REDIS_URL, "REDIS_PREFIX": redis_state.prefix}
    first, second = create_app(dict(config)), create_app(dict(config))
    assert first.extensions["expo_shared"].name == "redis"
    browser = first.test_client()
    assert AuthActions(first, browser).admin().status_code == 302
    copy = second.test_client()
    copy.set_cookie("session", browser.get_cookie("session").value)
    assert copy.get("/admin/events").status_code == 200
    browser.post("/logout")
    assert copy.get("/admin/events").status_code == 302
    assert any(key.startswith(redis_state.prefix.encode() + b"session:revoked:")
               for key in redis_state.redis.scan_iter(redis_state.prefix + "*"))
    for instance in (first, second):
        with instance.app_context():
            db.session.remove()
            db.engine.dispose()


# --- probes ----------------------------------------------------------------------------------------------

def test_healthz_answers_without_the_database(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.get_json() == {"status": "ok"}


def test_readyz_says_only_not_ready_and_logs_why(client, caplog):
    """The public answer tells nothing about versions or errors (issue 16): the reason is in the log."""
    with caplog.at_level(logging.WARNING, logger="expo_app.platform.views"):
        answer = client.get("/readyz")  # the tests' tables come from create_all: no migration recorded
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "not ready"}
    assert answer.headers["Cache-Control"] == "no-store"
    [record] = [r for r in caplog.records if r.name == "expo_app.platform.views"]
    assert record.getMessage().startswith("not ready: migrations at none, newest is ")
    assert record.getMessage().endswith(": run `expo init-db`")


def test_readyz_is_ready_on_a_migrated_database(tmp_path):
    from flask_migrate import upgrade

    from expo_app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'migrated.sqlite'}"})
    with app.app_context():
        upgrade()
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ready"}


def test_readyz_when_the_database_is_down(tmp_path, caplog):
    from expo_app import create_app

    url = "postgresql+psycopg://nobody:pw-in-url@127.0.0.1:1/none"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with caplog.at_level(logging.WARNING, logger="expo_app.platform.views"):
        answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json() == {"status": "not ready"}
    body = answer.get_data(as_text=True)
    assert "OperationalError" not in body and "127.0.0.1" not in body and "pw-in-url" not in body
    [record] = [r for r in caplog.records if r.name == "expo_app.platform.views"]
    assert record.getMessage().startswith("not ready: database unreachable: OperationalError: ")
    assert "pw-in-url" not in record.getMessage()


def test_a_lost_database_gives_503_with_retry_after(app, client, auth, demo, monkeypatch):
    auth.judge(demo["judges"][0])
    from expo_app.judging import views

    def gone(*args, **kwargs):
        raise OperationalError("INSERT ...", {}, Exception("terminating connection due to administrator command"))

    monkeypatch.setattr(views, "submit_sheet", gone)
    code = team_code(app, demo["teams"][0])
    answer = client.post(f"/t/{code}", data=full_sheet(app, demo["event"]), headers={"Accept": "application/json"})
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "2"
    assert answer.get_json()["status"] == "busy"  # the phone keeps the sheet and sends it again
    answer = client.post(f"/t/{code}", data=full_sheet(app, demo["event"]))
    assert answer.status_code == 503 and "nothing was saved" in answer.get_data(as_text=True)


def test_a_database_lost_in_an_after_request_hook_gives_503_too(app, client, monkeypatch):
    """Flask sends an error raised while finishing the response to the 500 handler, not to the
    OperationalError one: it must still say "busy, try again", not "something went wrong"."""
    from expo_app.judging import views

    def gone():
        raise OperationalError("SELECT ...", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(views, "current_judge", gone)  # called by the X-Expo-Judge hook on every page
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production (tests re-raise unhandled errors)
    answer = client.get("/admin/login")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "2"
    assert "nothing was saved" in answer.get_data(as_text=True)
    answer = client.get("/admin/login", headers={"Accept": "application/json"})
    assert answer.status_code == 503 and answer.get_json()["status"] == "busy"


# --- metrics and logs -----------------------------------------------------------------------------------

def _metric(text: str, name: str, **labels) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_scores_and_pending_documents(app, client, auth, demo):
    before = client.get("/metrics").get_data(as_text=True)
    auth.judge(demo["judges"][0])
    client.post(f"/t/{team_code(app, demo['teams'][0])}", data=full_sheet(app, demo["event"]))
    client.get("/healthz")
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    text = answer.get_data(as_text=True)
    assert _metric(text, "expo_scores_submitted_total", outcome="saved") \
        == _metric(before, "expo_scores_submitted_total", outcome="saved") + 1
    assert _metric(text, "expo_http_requests_total", endpoint="platform.healthz", status="200") \
        == _metric(before, "expo_http_requests_total", endpoint="platform.healthz", status="200") + 1
    assert _metric(text, "expo_http_request_duration_seconds_count", endpoint="judging.team", method="POST") >= 1
    assert "expo_documents_pending 0" in text
    assert "expo_pdf_render_seconds" in text


def test_metrics_can_require_a_token(app, client):
    app.config["METRICS_TOKEN"] = "s3cret-token"
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong-token"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "s3cret-token"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Basic s3cret-token"}).status_code == 403
    for header in ("Bearer s3cret-token", "bearer  s3cret-token "):
        answer = client.get("/metrics", headers={"Authorization": header})
        assert answer.status_code == 200 and "expo_http_requests_total" in answer.get_data(as_text=True)


def _series(text: str, name: str) -> set[tuple[str, ...]]:
    """The label sets of a metric's series, as sorted (label, value) pairs."""
    found = set()
    for line in text.splitlines():
        if line.startswith(name + "{"):
            labels = line[len(name) + 1:line.index("}")]
            found.add(tuple(sorted(pair for pair in labels.split(","))))
    return found


def test_metrics_labels_are_bounded_whatever_clients_send(app, client):
    """2,300 requests with random methods made 2,300 series (issue 16): unknown methods are "other",
    a request no route matched is endpoint "none", and every status is one of a fixed set."""
    from expo_app.platform.observability import METHODS, STATUSES

    before = client.get("/metrics").get_data(as_text=True)
    for i in range(60):
        client.open(f"/no-such-page/{i}", method=f"X{i}METHOD")
        client.open("/healthz", method=f"PROBE{i}")
        client.get(f"/random-{i}")
    after = client.get("/metrics").get_data(as_text=True)
    assert _metric(after, "expo_http_requests_total", method="other", endpoint="none", status="404") \
        == _metric(before, "expo_http_requests_total", method="other", endpoint="none", status="404") + 60
    assert _metric(after, "expo_http_requests_total", method="other", endpoint="none", status="405") \
        == _metric(before, "expo_http_requests_total", method="other", endpoint="none", status="405") + 60
    assert _metric(after, "expo_http_requests_total", method="GET", endpoint="none", status="404") \
        == _metric(before, "expo_http_requests_total", method="GET", endpoint="none", status="404") + 60
    new = _series(after, "expo_http_requests_total") - _series(before, "expo_http_requests_total")
    assert new <= {('endpoint="none"', 'method="other"', 'status="404"'),
                   ('endpoint="none"', 'method="other"', 'status="405"'),
                   ('endpoint="none"', 'method="GET"', 'status="404"'),
                   ('endpoint="platform.metrics"', 'method="GET"', 'status="200"')}
    # (The registry is the test process's: other tests' apps add their own routes' endpoints.)
    statuses = {str(code) for code in STATUSES} | {"1xx", "2xx", "3xx", "4xx", "5xx", "other"}
    for labels in _series(after, "expo_http_requests_total"):
        values = dict(pair.split("=", 1) for pair in labels)
        assert values["method"].strip('"') in METHODS | {"other"}
        assert values["status"].strip('"') in statuses
    assert "METHOD" not in after and "PROBE" not in after and "random-" not in after


def test_unusual_statuses_fall_into_their_class(app, client):
    from expo_app.platform.observability import status_label

    assert [status_label(code) for code in (200, 302, 429, 503, 299, 418, 599, 99, 600, 1000)] \
        == ["200", "302", "429", "503", "2xx", "4xx", "5xx", "other", "other", "other"]

    @app.route("/teapot")
    def teapot():
        return "short and stout", 418

    before = client.get("/metrics").get_data(as_text=True)
    client.get("/teapot")
    after = client.get("/metrics").get_data(as_text=True)
    assert _metric(after, "expo_http_requests_total", endpoint="teapot", status="4xx") \
        == _metric(before, "expo_http_requests_total", endpoint="teapot", status="4xx") + 1


class _Production:
    """The production configuration, on a throwaway SQLite file."""

    @staticmethod
    def app(tmp_path, **settings):
        from config import ProductionConfig
        from expo_app import create_app

        config = type("P", (ProductionConfig,), {"SECRET_KEY": "p" * 40, "LOG_FORMAT": "text",
                                                 "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite'}",
                                                 "PUBLIC_BASE_URL": "https://expo.example.org", **settings})
        app = create_app(config)
        with app.app_context():
            db.create_all()
        return app


def test_metrics_are_not_public_in_production_without_a_token(tmp_path):
    client = _Production.app(tmp_path, METRICS_TOKEN=None).test_client()
    answer = client.get("/metrics")
    assert answer.status_code == 404
    assert "expo_http_requests_total" not in answer.get_data(as_text=True)
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_metrics_in_production_with_a_token_or_declared_private(tmp_path):
    client = _Production.app(tmp_path, METRICS_TOKEN="prod-metrics-token").test_client()
    assert client.get("/metrics").status_code == 403
    answer = client.get("/metrics", headers={"Authorization": "Bearer prod-metrics-token"})
    assert answer.status_code == 200 and "expo_documents_pending" in answer.get_data(as_text=True)
    # METRICS_PUBLIC=1: the operator says the network keeps /metrics private (no ingress route).
    (tmp_path / "other").mkdir()
    client = _Production.app(tmp_path / "other", METRICS_TOKEN=None, METRICS_PUBLIC=True).test_client()
    assert client.get("/metrics").status_code == 200


def test_access_log_is_json_with_a_request_id_and_no_tokens(app, client, auth, demo, caplog):
    from expo_app.platform.observability import JsonFormatter, RequestIdFilter

    app.config["ACCESS_LOG"] = True
    path = auth.judge_path(demo["judges"][0])
    with caplog.at_level(logging.INFO, logger="expo.access"):
        answer = client.get(path, headers={"X-Request-ID": "hall-42.a"})
        client.get("/f/some-feedback-token")
        client.get("/v/ABCD-EFGH")
    assert answer.headers["X-Request-ID"] == "hall-42.a"
    records = [r for r in caplog.records if r.name == "expo.access"]
    lines = []
    for record in records:
        RequestIdFilter().filter(record)
        lines.append(json.loads(JsonFormatter().format(record)))
    assert [entry["path"] for entry in lines] == ["/j/[redacted]", "/f/[redacted]", "/v/[redacted]"]
    assert lines[0]["request_id"] == "hall-42.a" and lines[0]["status"] == 200
    token = path.split("/j/")[1]
    assert all(token not in json.dumps(entry) for entry in lines)
    assert len(lines[1]["request_id"]) == 32  # made up when none (or a malformed one) is given


JUDGE_TOKEN = "4-1-" + "Ab3_-xYz" * 4  # <id>-<version>-<32 URL-safe characters>
NEW_TOKEN = "k3mxq9rtw2hz8vna-12-" + "Qw9_-eR4" * 4  # <16 chars of [a-z2-9]>-<version>-<32>
CERT_CODE = "123-ABCDEFGHJKLMNPQR"  # <digits>-<16 chars>
NEW_CERT_CODE = "K7M3Q9R2TW-ABCDEFGHJKLMNPQR"  # <10 chars, a letter first>-<16 chars>


@pytest.mark.parametrize("path, logged", [
    (f"/j/{JUDGE_TOKEN}", "/j/[redacted]"),
    (f"/j//{JUDGE_TOKEN}", "/j//[redacted]"),
    (f"/J/{JUDGE_TOKEN}", "/J/[redacted]"),
    (f"/t/../j/{NEW_TOKEN}", "/t/../j/[redacted]"),
    (f"/j/./{NEW_TOKEN}/more", "/j/[redacted]"),
    (f"/v//{CERT_CODE}", "/v//[redacted]"),
    (f"/V/{NEW_CERT_CODE}", "/V/[redacted]"),
    (f"/f/{NEW_TOKEN}", "/f/[redacted]"),
    (f"/F/{JUDGE_TOKEN}/certificates/3.pdf", "/F/[redacted]"),
    (f"/x/y/f/{JUDGE_TOKEN}", "/x/y/f/[redacted]"),
    (f"/admin/{NEW_TOKEN}", "/admin/k3mxq9rtw2hz8vna-12-[redacted]"),  # by its shape alone
    (f"/somewhere-{JUDGE_TOKEN}.txt", "/somewhere-4-[redacted].txt"),
    ("/judge/visiting/AB12CD34", "/judge/visiting/AB12CD34"),  # no secret: as it is
    ("/admin/events/5/teams", "/admin/events/5/teams"),
])
def test_paths_are_redacted_by_segment_and_by_token_shape(path, logged):
    from expo_app.platform.observability import redact_path

    assert redact_path(path) == logged


@pytest.mark.parametrize("text, logged", [
    (f"next=%2Fj%2F{JUDGE_TOKEN}&tab=2", "next=%2Fj%2F[redacted]&tab=2"),
    (f"next=/V/{NEW_CERT_CODE}", "next=/V/[redacted]"),
    (f"back=%2F%66%2F{NEW_TOKEN}", "back=%2F%66%2F[redacted]"),
    (f"q={JUDGE_TOKEN.upper()}", f"q={JUDGE_TOKEN.upper()[:4]}[redacted]"),
    (f"Invalid request from ip=192.0.2.1: Invalid HTTP request line: 'GET /j/{NEW_TOKEN} HTTP/1.1 x'",
     "Invalid request from ip=192.0.2.1: Invalid HTTP request line: 'GET /j/[redacted] HTTP/1.1 x'"),
    (f"Error handling request GET /admin/login?next=/f/{NEW_TOKEN}",
     "Error handling request GET /admin/login?next=/f/[redacted]"),
    ("GET /admin/events?page=2 HTTP/1.1", "GET /admin/events?page=2 HTTP/1.1"),
])
def test_query_strings_and_log_messages_are_redacted(text, logged):
    from expo_app.platform.observability import redact_text

    assert redact_text(text) == logged


def test_token_variants_never_reach_the_access_log(app, client, demo, caplog):
    """`/j//<token>`, `/J/<token>`, `/t/../j/<token>`, `/v//<code>`, `/f/<token>` were logged as sent (issue 16)."""
    from expo_app.platform.observability import JsonFormatter, RequestIdFilter

    app.config["ACCESS_LOG"] = True
    sent = [f"/j//{JUDGE_TOKEN}", f"/J/{NEW_TOKEN}", f"/t/../j/{JUDGE_TOKEN}", f"/v//{CERT_CODE}",
            f"/f/{NEW_TOKEN}", f"/v/{NEW_CERT_CODE}"]
    with caplog.at_level(logging.INFO, logger="expo.access"):
        for path in sent:
            client.get(path)
        client.get(f"/admin/login?next=%2Fj%2F{JUDGE_TOKEN}")
    records = [r for r in caplog.records if r.name == "expo.access"]
    lines = []
    for record in records:
        RequestIdFilter().filter(record)
        lines.append(JsonFormatter().format(record))
    assert [json.loads(line)["path"] for line in lines] == [
        "/j//[redacted]", "/J/[redacted]", "/t/../j/[redacted]", "/v//[redacted]", "/f/[redacted]",
        "/v/[redacted]", "/admin/login"]
    for secret in (JUDGE_TOKEN, NEW_TOKEN, CERT_CODE, NEW_CERT_CODE, JUDGE_TOKEN[4:], NEW_TOKEN[-32:],
                   CERT_CODE[-16:]):
        assert not [line for line in lines if secret in line]


def test_the_json_log_redacts_whatever_logged_it(caplog):
    """gunicorn's own messages carry the raw request line; the JSON formatter redacts every field."""
    from expo_app.platform.observability import JsonFormatter

    record = logging.LogRecord("gunicorn.error", logging.WARNING, __file__, 1,
                               "Invalid request from ip=%s: %s", ("192.0.2.7", f"bad line 'GET /J/{JUDGE_TOKEN}'"),
                               None)
    record.uri = f"/login?next=%2Fv%2F{CERT_CODE}"
    try:
        raise ValueError(f"while reading /f/{NEW_TOKEN}")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "Invalid request from ip=192.0.2.7: bad line 'GET /J/[redacted]'"
    assert entry["uri"] == "/login?next=%2Fv%2F[redacted]"
    assert entry["exception"].endswith("ValueError: while reading /f/[redacted]")
    assert JUDGE_TOKEN not in json.dumps(entry) and NEW_TOKEN[-32:] not in json.dumps(entry)


def test_a_malformed_request_id_is_replaced(client):
    answer = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces <script>"})
    assert answer.headers["X-Request-ID"] != "bad id with spaces <script>"
    assert len(answer.headers["X-Request-ID"]) == 32


# --- the shared ranking cache -----------------------------------------------------------------------------

@contextmanager
def reading(app):
    """A GET request's context: no write lock held (on SQLite), so the cache is shared."""
    from expo_app.extensions import write_intent

    with app.test_request_context("/", method="GET"):
        token = write_intent.set(False)
        try:
            yield
        finally:
            write_intent.reset(token)


def test_shared_result_computes_once_per_version_and_serves_recent_ones(app):
    from expo_app.platform.cache import shared_result

    calls = []

    def compute(value):
        return lambda: calls.append(value) or {"value": value}

    with reading(app):
        assert shared_result("t", "v1", compute(1), max_age_s=60) == ({"value": 1}, "v1")
        assert shared_result("t", "v1", compute(99), max_age_s=60) == ({"value": 1}, "v1")
        # A newer version within max_age: the recent result, not a refit.
        assert shared_result("t", "v2", compute(2), max_age_s=60) == ({"value": 1}, "v1")
        # Without the allowance: refitted once (here in the request: SHARED_FITS is "inline" in tests).
        assert shared_result("t", "v2", compute(2), max_age_s=0) == ({"value": 2}, "v2")
        assert shared_result("t", "v2", compute(3), max_age_s=0) == ({"value": 2}, "v2")
    assert calls == [1, 2]


def test_a_refit_runs_in_the_background_while_the_last_result_is_served(app):
    """Production's way (SHARED_FITS = "thread"): no request waits for a fit once a first result
    exists, and with a fallback not even for the first."""
    from expo_app.platform.cache import shared_result

    app.config["SHARED_FITS"] = "thread"
    started, release = threading.Event(), threading.Event()

    def slow(value):
        def compute():
            started.set()
            release.wait(10)
            return value
        return compute

    with reading(app):
        assert shared_result("bg", "v1", slow("first"), fallback=lambda: "plain") == ("plain", None)
        assert started.wait(5)
        # While it computes, the fallback again, and no second fit starts.
        assert shared_result("bg", "v1", lambda: pytest.fail("a second fit"), fallback=lambda: "plain") \
            == ("plain", None)
        release.set()
        deadline = time.monotonic() + 10
        while shared_result("bg", "v1", lambda: "first", fallback=lambda: "plain")[0] != "first":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        started.clear(), release.clear()
        # A newer version: the last result at once, the refit behind it.
        assert shared_result("bg", "v2", slow("second"), fallback=lambda: "plain") == ("first", "v1")
        assert started.wait(5)
        release.set()
        deadline = time.monotonic() + 10
        while shared_result("bg", "v2", lambda: "second")[0] != "second":
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_a_cache_entry_we_did_not_sign_is_never_unpickled(app):
    from expo_app.platform.cache import shared_result
    from expo_app.platform.shared import shared

    with reading(app):
        shared_result("t", "v1", lambda: "good", max_age_s=0)
        shared().set("memo:t:v1", b"x" * 32 + b"cos\nsystem\n(S'echo owned'\ntR.", 60)
        assert shared_result("t", "v1", lambda: "recomputed", max_age_s=0) == ("recomputed", "v1")


def test_polling_organisers_share_one_refit(app, demo, monkeypatch):
    """Three organisers polling while sheets arrive: the ranking is refitted once per
    DASHBOARD_MAX_AGE_S, not once per organiser per poll (one fit shared by every worker)."""
    from expo_app.results import queries

    app.config["DASHBOARD_MAX_AGE_S"] = 60
    fits = []
    real = queries.analyse
    monkeypatch.setattr(queries, "analyse", lambda *a, **k: fits.append(k.get("method")) or real(*a, **k))
    organisers = [app.test_client() for _ in range(3)]
    for browser in organisers:
        AuthActions(app, browser).admin()
    judge = app.test_client()
    AuthActions(app, judge).judge(demo["judges"][0])
    url = f"/admin/events/{demo['event']}/dashboard.json"
    etags = []
    for team_id in demo["teams"][:3]:
        judge.post(f"/t/{team_code(app, team_id)}", data=full_sheet(app, demo["event"]))
        for browser in organisers:
            answer = browser.get(url)
            assert answer.status_code == 200
            etags.append(answer.headers["ETag"])
    assert fits == ["adjusted", "raw"]  # one fit (adjusted and raw ranks) for nine polls
    app.config["DASHBOARD_MAX_AGE_S"] = 0
    answer = organisers[0].get(url, headers={"If-None-Match": etags[-1]})
    assert answer.status_code == 200  # the newest sheets now refit, and the ETag says so
    assert answer.headers["ETag"] != etags[-1]
    assert fits == ["adjusted", "raw"] * 2
    assert organisers[1].get(url, headers={"If-None-Match": answer.headers["ETag"]}).status_code == 304
