"""Organiser sign-in throttling, timing, and sessions that really end (issue 11)."""
from __future__ import annotations

import pytest

from expo_app.extensions import db
from expo_app.models import AdminUser
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, AuthActions


def _from(app, address):
    """A browser at another address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _login(client, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, **headers):
    return client.post("/admin/login", data={"email": email, "password": password}, headers=headers)


# --- throttling --------------------------------------------------------------------------------------

def test_an_account_is_locked_after_five_failures_even_for_the_right_password(app, client, demo):
    for _ in range(5):
        answer = _login(client, password="wrong password")
        assert answer.status_code == 200
        assert "do not match an organiser account" in answer.get_data(as_text=True)
    answer = _login(client)
    assert answer.status_code == 429
    assert "Too many failed sign-ins for this e-mail. Try again in 15 minutes" in answer.get_data(as_text=True)
    assert 0 < int(answer.headers["Retry-After"]) <= 900
    # Another account from the same address is not locked by it.
    with app.app_context():
        from expo_app.auth.operations import create_or_reset_admin

        create_or_reset_admin("second@example.org", "another long password")
        db.session.commit()
    assert _login(client, "second@example.org", "another long password").status_code == 302


def test_unknown_emails_are_locked_alike_so_the_lock_tells_nothing(client, demo):
    for _ in range(5):
        assert _login(client, "nobody@example.org", "guess").status_code == 200
    assert _login(client, "nobody@example.org", "guess").status_code == 429


def test_a_good_sign_in_clears_the_failures(client, demo):
    for _ in range(4):
        _login(client, password="wrong")
    assert _login(client).status_code == 302
    client.post("/logout")
    for _ in range(4):
        assert _login(client, password="wrong").status_code == 200
    assert _login(client).status_code == 302


def test_one_address_is_throttled_after_thirty_attempts(app, client, demo):
    app.config["LOGIN_FAILURES_PER_ACCOUNT"] = 1000
    for i in range(30):
        assert _login(client, f"user{i}@example.org", "guess").status_code == 200
    answer = _login(client, "user99@example.org", "guess")
    assert answer.status_code == 429 and "from this network" in answer.get_data(as_text=True)
    # Another address is not.
    other = _from(app, "10.1.2.3")
    assert _login(other).status_code == 302


def test_a_login_flood_is_answered_busy_without_hashing(app, client, demo, monkeypatch):
    """Past the site's budget of password checks a minute, sign-in answers 503 at once."""
    from expo_app.auth import operations

    app.config["LOGIN_CHECKS_PER_MINUTE"] = 3
    checks = []
    real = operations.check_password_hash
    monkeypatch.setattr(operations, "check_password_hash", lambda h, p: checks.append(1) or real(h, p))
    statuses = [_login(_from(app, f"10.0.0.{i}"),
                       f"x{i}@example.org", "guess").status_code for i in range(6)]
    assert statuses == [200, 200, 200, 503, 503, 503]
    assert len(checks) == 3  # the refused ones were never hashed
    answer = _login(client)
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) >= 1


def test_an_unknown_email_costs_a_password_check_too(app, client, demo, monkeypatch):
    """Timing must not tell which e-mails have accounts: an unknown one is checked against a dummy hash."""
    from expo_app.auth import operations

    hashes = []
    real = operations.check_password_hash
    monkeypatch.setattr(operations, "check_password_hash", lambda h, p: hashes.append(h.split("$")[0]) or real(h, p))
    _login(client, "nobody@example.org", "a guess")
    with app.app_context():
        method = db.session.execute(db.select(AdminUser.password_hash)).scalars().first().split("$")[0]
    assert hashes == [method]  # the same kind of hash as a real account's, so the same cost


def test_judges_are_never_throttled_by_address(app, demo):
    """Thirty judges behind the hall's one address sign in and load pages, after an organiser login flood."""
    app.config["LOGIN_ATTEMPTS_PER_CLIENT"] = 3
    flood = _from(app, "192.0.2.1")
    for _ in range(5):
        _login(flood, "who@example.org", "guess")
    for judge_id in demo["judges"] * 5:
        phone = _from(app, "192.0.2.1")
        assert AuthActions(app, phone).judge(judge_id).status_code == 302
        assert phone.get("/judge").status_code == 200


# --- sessions that end ----------------------------------------------------------------------------------

def _cookie(client):
    return client.get_cookie("session").value


def test_a_copied_admin_cookie_stops_working_at_sign_out(app, client, demo):
    assert _login(client).status_code == 302
    stolen = _cookie(client)
    assert client.get("/admin/events").status_code == 200
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    answer = thief.get("/admin/events")
    assert answer.status_code == 302 and "/admin/login" in answer.headers["Location"]


def test_a_copied_judge_cookie_stops_working_at_sign_out(app, client, auth, demo):
    auth.judge(demo["judges"][0])
    stolen = _cookie(client)
    assert client.get("/judge").status_code == 200
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/judge").status_code == 401
    # The judge's badge still works: signing in again makes a new session.
    assert auth.judge(demo["judges"][0]).status_code == 302
    assert client.get("/judge").status_code == 200
    assert thief.get("/judge").status_code == 401


def test_sign_out_everywhere_ends_every_session_of_that_organiser(app, demo):
    laptop, phone = app.test_client(), app.test_client()
    assert _login(laptop).status_code == 302 and _login(phone).status_code == 302
    copy = app.test_client()
    copy.set_cookie("session", _cookie(phone))
    answer = laptop.post("/admin/sign-out-everywhere")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/admin/login")
    for browser in (laptop, phone, copy):
        assert browser.get("/admin/events").status_code == 302
    assert _login(phone).status_code == 302 and phone.get("/admin/events").status_code == 200


def test_a_session_made_before_session_ids_counts_as_ended(app, client, demo):
    with app.app_context():
        admin = db.session.execute(db.select(AdminUser).where(AdminUser.email == ADMIN_EMAIL)).scalar_one()
        from expo_app.auth.session import _password_stamp

        stamp, admin_id = _password_stamp(admin), admin.id
    with client.session_transaction() as session:
        session.update({"admin_id": admin_id, "admin_stamp": stamp, "admin_sv": 0})
    assert client.get("/admin/events").status_code == 302


def test_revocation_is_seen_by_another_instance(app_config, demo, tmp_path):
    """Two app instances (two gunicorn workers, or two pods) on one database: a sign-out on one ends
    the session on the other. With REDIS_URL the same holds through Redis (test_shared_state)."""
    from expo_app import create_app

    other = create_app(dict(app_config))
    first = create_app(dict(app_config))
    browser = first.test_client()
    assert _login(browser).status_code == 302
    stolen = _cookie(browser)
    copy = other.test_client()
    copy.set_cookie("session", stolen)
    assert copy.get("/admin/events").status_code == 200
    browser.post("/logout")
    assert copy.get("/admin/events").status_code == 302
    for instance in (first, other):
        with instance.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("proxies, expected", [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_proxy_fix_is_configurable(app_config, proxies, expected):
    from flask import request

    from expo_app import create_app

    app = create_app({**app_config, "TRUSTED_PROXIES": proxies})

    @app.route("/whoami")
    def whoami():
        return f"{request.remote_addr} {request.scheme}"

    answer = app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.9",
                                                       "X-Forwarded-Proto": "https"})
    assert answer.get_data(as_text=True) == f"{expected} {'https' if proxies else 'http'}"


def test_an_ended_session_is_emptied_so_it_cannot_outlive_its_revocation(app, client, demo):
    """Flask resends a permanent session with a fresh date on every request: an ended one must come
    back empty, or a thief replaying it would keep a cookie newer than the revocation record."""
    assert _login(client).status_code == 302
    stolen = _cookie(client)
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    thief.get("/admin/events")
    refreshed = thief.get_cookie("session")
    assert refreshed is None or refreshed.value != stolen
    with thief.session_transaction() as session:
        assert "admin_id" not in session and "sid" not in session


def test_a_new_sign_in_ends_the_cookie_it_replaces(app, client, auth, demo):
    """An organiser who scans a judge badge in the same browser gets a new session id: a copy of the
    cookie from before stops working, though the organiser stays signed in."""
    assert _login(client).status_code == 302
    before = _cookie(client)
    auth.judge(demo["judges"][0])
    assert client.get("/admin/events").status_code == 200 and client.get("/judge").status_code == 200
    copy = app.test_client()
    copy.set_cookie("session", before)
    assert copy.get("/admin/events").status_code == 302


def test_a_crash_on_a_badge_link_does_not_log_the_token(app, client, auth, demo, caplog, monkeypatch):
    from expo_app.auth import views

    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr(views, "resolve_judge_link", lambda token: 1 / 0)
    path = auth.judge_path(demo["judges"][0])
    with caplog.at_level("ERROR"):
        assert client.get(path).status_code == 500
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Exception on /j/[redacted] [GET]" in logged
    assert path.split("/j/")[1] not in logged
