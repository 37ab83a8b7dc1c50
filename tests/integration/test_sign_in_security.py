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

def _counts(app, email=ADMIN_EMAIL, address="127.0.0.1") -> dict:
    """The throttle's counters for this e-mail and address, as every instance sees them."""
    from expo_app.auth import throttle
    from expo_app.platform.shared import hashed, shared

    account, client = throttle._account(email), hashed(throttle.client_address(address))
    with app.app_context():
        state = shared()
        return {"pair": state.count(throttle._account_client_key(account, client)),
                "account": state.count(throttle._account_key(account)),
                "client": state.count(throttle._client_key(client)), "checks": state.count(throttle.CHECKS_KEY)}


def test_an_account_is_locked_for_that_address_after_five_failures_even_for_the_right_password(app, client, demo):
    for _ in range(5):
        answer = _login(client, password="wrong password")
        assert answer.status_code == 200
        assert "do not match an organiser account" in answer.get_data(as_text=True)
    answer = _login(client)
    assert answer.status_code == 429
    assert ("Too many failed sign-ins for this e-mail from this network. Try again in 15 minutes, or ask another "
            "organiser to reset the password (expo create-admin).") in answer.get_data(as_text=True)
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


def test_one_address_cannot_lock_the_owner_out(app, demo):
    """Six wrong passwords from one address locked the account for everyone for 15 minutes, and the
    requests refused after that still counted against it (issue 16)."""
    attacker = _from(app, "198.51.100.7")
    statuses = [_login(attacker, password=f"guess {i}").status_code for i in range(40)]
    assert statuses == [200] * 5 + [429] * 35
    # Only the five that reached the password check count, anywhere.
    assert _counts(app, address="198.51.100.7") == {"pair": 5, "account": 5, "client": 5, "checks": 5}
    owner = _from(app, "203.0.113.5")
    assert _login(owner).status_code == 302
    assert owner.get("/admin/events").status_code == 200
    assert _counts(app, address="203.0.113.5") == {"pair": 0, "account": 5, "client": 1, "checks": 6}


def test_attempts_refused_by_the_client_limit_count_against_no_account(app, demo):
    app.config["LOGIN_ATTEMPTS_PER_CLIENT"] = 3
    flood = _from(app, "198.51.100.8")
    for i in range(3):
        assert _login(flood, f"user{i}@example.org", "guess").status_code == 200
    for _ in range(10):
        answer = _login(flood, password="guess")
        assert answer.status_code == 429 and "from this network" in answer.get_data(as_text=True)
    assert _counts(app, address="198.51.100.8") == {"pair": 0, "account": 0, "client": 3, "checks": 3}
    # The account was never tried: its five failures per address are all there from elsewhere.
    app.config["LOGIN_ATTEMPTS_PER_CLIENT"] = 30
    other = _from(app, "198.51.100.9")
    assert [_login(other, password="wrong").status_code for _ in range(6)] == [200] * 5 + [429]


def test_guessing_spread_over_many_addresses_is_stopped_per_account(app, runner, demo):
    """The loose limit across every address (100 failures an hour by default; 12 here)."""
    app.config["LOGIN_FAILURES_PER_ACCOUNT"] = 12
    statuses = [_login(_from(app, f"10.9.{i}.1"), password="guess").status_code for i in range(12)]
    assert statuses == [200] * 12
    answer = _login(_from(app, "10.9.99.1"))  # even the right password, from a new address
    assert answer.status_code == 429
    assert ("Too many failed sign-ins for this e-mail. Try again in 60 minutes, or ask another organiser "
            "to reset the password (expo create-admin).") in answer.get_data(as_text=True)
    assert 900 < int(answer.headers["Retry-After"]) <= 3600
    assert _counts(app, address="10.9.99.1") == {"pair": 0, "account": 12, "client": 0, "checks": 12}
    # Other accounts are not affected.
    with app.app_context():
        from expo_app.auth.operations import create_or_reset_admin

        create_or_reset_admin("second@example.org", "another long password")
        db.session.commit()
    assert _login(_from(app, "10.9.99.1"), "second@example.org", "another long password").status_code == 302


def test_a_password_reset_clears_the_accounts_counters(app, runner, demo):
    """The lockout message recommends `expo create-admin`: it must end the lockout, from every address."""
    app.config["LOGIN_FAILURES_PER_ACCOUNT"] = 8
    first, second = _from(app, "192.0.2.10"), _from(app, "192.0.2.20")
    assert [_login(first, password="guess").status_code for _ in range(6)] == [200] * 5 + [429]
    assert [_login(second, password="guess").status_code for _ in range(4)] == [200] * 3 + [429]  # 8 in all
    assert _login(_from(app, "192.0.2.30")).status_code == 429
    # Another account's counters stay.
    assert [_login(first, "other@example.org", "guess").status_code for _ in range(2)] == [200, 200]
    result = runner.invoke(args=["create-admin", ADMIN_EMAIL.upper(), "--password", "a new long password"])
    assert result.exit_code == 0, result.output
    for address in ("192.0.2.10", "192.0.2.20"):
        assert _counts(app, address=address)["pair"] == 0
    assert _counts(app)["account"] == 0
    assert _counts(app, "other@example.org", "192.0.2.10")["pair"] == 2
    assert _counts(app, "other@example.org")["account"] == 2
    assert _login(first, password="a new long password").status_code == 302
    assert _login(second, password="a new long password").status_code == 302


def test_a_success_takes_back_only_its_own_attempt(app, demo):
    for address, failures in (("192.0.2.41", 3), ("192.0.2.42", 2)):
        browser = _from(app, address)
        for _ in range(failures):
            _login(browser, password="guess")
    owner = _from(app, "192.0.2.41")
    assert _login(owner).status_code == 302
    # This address's failures are forgotten; the account's count from every address is not reset by
    # the owner's success (an attacker elsewhere does not get a fresh allowance).
    assert _counts(app, address="192.0.2.41") == {"pair": 0, "account": 5, "client": 4, "checks": 6}
    assert _counts(app, address="192.0.2.42")["pair"] == 2


def test_an_attempt_never_checked_counts_nowhere(app, client, demo, monkeypatch):
    """The process's one password check was busy: 503, and the attempt is taken back."""
    from expo_app.auth import throttle

    def busy(*args, **kwargs):
        raise throttle.HashingBusy

    monkeypatch.setattr(throttle, "one_check_at_a_time", busy)
    for _ in range(8):
        answer = _login(client, password="guess")
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert _counts(app) == {"pair": 0, "account": 0, "client": 0, "checks": 0}


@pytest.mark.parametrize("address, client", [
    ("192.0.2.1", "192.0.2.1"),
    ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
    ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.9", "192.0.2.9"),
    ("not an address", "not an address"),
    (None, "unknown"),
])
def test_an_ipv6_client_is_its_64(address, client):
    from expo_app.auth.throttle import client_address

    assert client_address(address) == client


def test_hopping_addresses_within_one_ipv6_64_is_one_client(app, demo):
    statuses = [_login(_from(app, f"2001:db8:5:6::{i + 1:x}"), password="guess").status_code for i in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    assert _login(_from(app, "2001:db8:5:7::1")).status_code == 302  # the next /64 is another client


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


def test_the_dummy_hash_is_made_at_start_up(app, client, demo, monkeypatch):
    """Made lazily, the first unknown e-mail a worker saw cost two hashes: a timing signal (issue 16)."""
    from expo_app.auth import operations

    method = app.config["PASSWORD_HASH_METHOD"]
    assert app.extensions["expo_dummy_hash"][method].startswith(method.split(":")[0] + ":")
    made, checks = [], []
    monkeypatch.setattr(operations, "generate_password_hash", lambda *a, **k: made.append(a) or "x")
    real = operations.check_password_hash
    monkeypatch.setattr(operations, "check_password_hash", lambda h, p: checks.append(h) or real(h, p))
    for i in range(3):
        assert _login(client, f"nobody{i}@example.org", "a guess").status_code == 200
    assert made == []
    assert checks == [app.extensions["expo_dummy_hash"][method]] * 3


def test_production_makes_a_scrypt_dummy_hash_at_start_up(app_config):
    from expo_app import create_app

    app = create_app({**app_config, "PASSWORD_HASH_METHOD": "scrypt"})
    assert app.extensions["expo_dummy_hash"]["scrypt"].startswith("scrypt:")
    with app.app_context():
        db.engine.dispose()


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
