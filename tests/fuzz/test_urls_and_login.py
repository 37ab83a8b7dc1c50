"""Tokens and ids in URLs (/j/, /t/, /f/, /v/, /admin/.../<id>/...), the login form, oversized posts."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given, strategies as st

from . import checks
from .conftest import budget
from .strategies import HUGE_IDS, NUL, hostile_text, token_text, url_id

PUBLIC = ["/j/{t}", "/t/{t}", "/f/{t}", "/v/{t}", "/f/{t}/certificates/1.pdf", "/judge/visiting/{t}"]
# Every admin URL with an id (GET pages and POST actions), {i} the id under test.
ADMIN_GET = ["/admin/events/{i}", "/admin/events/{i}/settings", "/admin/events/{i}/rubric", "/admin/events/{i}/teams",
             "/admin/events/{i}/judges", "/admin/events/{i}/scores", "/admin/events/{i}/scores.csv",
             "/admin/events/{i}/audit", "/admin/events/{i}/team-links.csv", "/admin/events/{i}/judge-links.csv",
             "/admin/events/{i}/dashboard", "/admin/events/{i}/dashboard.json", "/admin/events/{i}/ranking.csv",
             "/admin/events/{i}/awards", "/admin/events/{i}/grades.csv", "/admin/events/{i}/feedback",
             "/admin/events/{i}/assignments", "/admin/events/{i}/assignments.csv", "/admin/events/{i}/print",
             "/admin/events/{i}/print/badges", "/admin/events/{i}/certificates", "/admin/criteria/{i}/edit",
             "/admin/teams/{i}/edit", "/admin/teams/{i}/qr.svg", "/admin/judges/{i}/edit", "/admin/judges/{i}/qr.svg",
             "/admin/judges/{i}/badge.pdf", "/admin/certificates/{i}.pdf"]
ADMIN_POST = ["/admin/events/{i}/make-current", "/admin/events/{i}/state", "/admin/criteria/{i}/delete",
              "/admin/teams/{i}/delete", "/admin/judges/{i}/delete", "/admin/judges/{i}/reissue",
              "/admin/members/{i}/presence", "/admin/award-categories/{i}/decide", "/admin/award-categories/{i}/clear",
              "/admin/scores/{i}/hide-comment", "/admin/certificates/{i}/revoke", "/admin/conflicts/{i}/delete",
              "/admin/judges/{i}/availability", "/admin/teams/{i}/bring-back", "/admin/events/{i}/teams/import",
              "/admin/events/{i}/feedback/release"]


def _names_nothing(raw: str) -> bool:
    """Ids no row can have: past the database's 32-bit integers, or 0 (a 404, never a database error)."""
    return raw.isdigit() and (int(raw) >= 2 ** 31 or int(raw) == 0)


@budget(ci=20)
@given(path=st.sampled_from(PUBLIC), token=token_text, signed_in=st.booleans())
def test_public_tokens(world, path, token, signed_in):
    client = world.judge_client(0) if signed_in else world.app.test_client()
    url = path.format(t=quote(token, safe=""))
    before = world.rows()
    response = client.post(url) if "visiting" in path else client.get(url)
    checks.no_server_error(response)
    checks.inert_html(response.get_data(as_text=True), [token])
    if checks.carries_nul(token):
        checks.refused_for_nul(response)
    assert response.status_code in (200, 204, 400, 401, 403, 404, 405, 410), checks.describe(response)
    if response.status_code == 400:
        assert checks.carries_nul(token), checks.describe(response)
    if response.status_code >= 400:
        checks.unchanged(before, world.rows(), response)


@budget(ci=25)
@given(template=st.sampled_from(ADMIN_GET + ADMIN_POST), raw=url_id)
def test_admin_ids(world, template, raw):
    url = template.format(i=quote(raw, safe=""))
    before = world.rows()
    response = world.client.post(url) if template in ADMIN_POST else world.client.get(url)
    checks.no_server_error(response)
    after = world.rows()
    if _names_nothing(raw):
        assert response.status_code == 404, checks.describe(response)
    if response.status_code == 404:
        checks.refused_clearly(response)
        checks.unchanged(before, after, response)
    world.reset(after)


def test_admin_ids_past_the_database_integers_are_404(world):
    before = world.rows()
    failures = []
    for template in ADMIN_GET + ADMIN_POST:
        for raw in ["0", "2147483648", *HUGE_IDS]:
            url = template.format(i=raw)
            response = world.client.post(url) if template in ADMIN_POST else world.client.get(url)
            if response.status_code != 404 or not checks.has_error_message(response):
                failures.append(f"{url}: {response.status_code}")
    assert not failures, failures[:20]
    checks.unchanged(before, world.rows())


def test_public_certificate_id_past_the_database_integers_is_404(world):
    """/f/<token>/certificates/<id>.pdf once feedback is released and awards are final (a public URL)."""
    from expo_app.admin.operations import change_scoring_state
    from expo_app.extensions import db
    from expo_app.models import Event
    from expo_app.results.feedback import release_feedback
    from expo_app.results.operations import accept_suggestions, finalise_awards
    from expo_app.results.queries import award_suggestions

    with world.app.app_context():
        event = db.session.get(Event, world.ids["event"])
        change_scoring_state(event, "closed")
        change_scoring_state(event, "locked")
        accept_suggestions(event, award_suggestions(event), "admin: test")
        db.session.flush()
        finalise_awards(event, "admin: test", award_suggestions(event))
        release_feedback(event)
        db.session.commit()
    anonymous = world.app.test_client()
    assert anonymous.get(f"/f/{world.ids['team_tokens'][0]}").status_code == 200
    for raw in ["0", *HUGE_IDS]:
        response = anonymous.get(f"/f/{world.ids['team_tokens'][0]}/certificates/{raw}.pdf")
        assert response.status_code == 404, checks.describe(response)


def test_nul_in_url_paths_is_400(world):
    judge = world.judge_client(0)
    failures = []
    for client, url in [(world.app.test_client(), "/t/AB%00CD"), (judge, "/t/AB%00CD"), (judge, "/judge/visiting/A%00"),
                        (world.app.test_client(), "/j/1-1-%00"), (world.app.test_client(), "/f/1-1-%00"),
                        (world.app.test_client(), "/v/1-%00"), (world.client, "/admin/events?x=%00"),
                        (world.app.test_client(), "/admin/login?next=/%00")]:
        method = client.post if "visiting" in url else client.get
        before = world.rows()
        response = method(url)
        if response.status_code != 400 or checks.NUL_TEXT not in response.get_data(as_text=True):
            failures.append(f"{url}: " + checks.describe(response)[:200])
        checks.unchanged(before, world.rows(), response)
    assert not failures, failures


# ---------------------------------------------------------------------------------------- login

@budget(ci=20)
@given(email=hostile_text(), password=hostile_text(), nxt=st.one_of(hostile_text(), st.sampled_from([
    "/admin/events", "//evil.example", "https://evil.example/", "/\t/evil.example", "javascript:alert(1)",
    "/admin/events\r\nSet-Cookie: x=1", "\\\\evil.example"])))
def test_login_form(world, email, password, nxt):
    client = world.app.test_client()
    before = world.rows()
    response = client.post("/admin/login", data={"email": email, "password": password, "next": nxt})
    checks.no_server_error(response)
    if checks.carries_nul(email, password, nxt):
        checks.refused_for_nul(response)
    # 429/503 with Retry-After: the sign-in throttle (failures per account, per address, site-wide).
    assert response.status_code in (200, 400, 422) or checks.throttled(response), checks.describe(response)
    checks.refused_clearly(response)
    checks.inert_html(response.get_data(as_text=True), [email, nxt])
    checks.unchanged(before, world.rows(), response)  # the throttle's counters (shared_state) are volatile
    page = client.get(f"/admin/login?next={quote(nxt, safe='')}")
    checks.no_server_error(page)
    if checks.carries_nul(nxt):
        checks.refused_for_nul(page)
    checks.inert_html(page.get_data(as_text=True), [nxt])
    world.reset()  # the throttle's counters too, so that every example reaches the password check


@budget(ci=10)
@given(nxt=st.one_of(hostile_text(), st.sampled_from(["//evil.example", "https://evil.example/", "/\t/evil.example",
                                                      "/\\evil.example", "javascript:alert(1)"])))
def test_login_next_stays_on_site(world, nxt):
    from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

    client = world.app.test_client()
    response = client.post("/admin/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "next": nxt})
    checks.no_server_error(response)
    if checks.carries_nul(nxt):
        checks.refused_for_nul(response)
        return
    if checks.throttled(response):  # the site-wide limit on password checks (a long fuzz run)
        world.reset()
        return
    assert response.status_code == 302, checks.describe(response)
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location, location
    world.reset()


# ------------------------------------------------------------------------------- oversized posts

@pytest.mark.parametrize("url", ["/admin/events", "/admin/events/{e}/teams", "/admin/login", "/t/{code}"])
def test_form_post_over_max_content_length_is_413(world, url):
    client = world.judge_client(0) if url.startswith("/t/") else world.client
    url = url.format(e=world.ids["event"], code=world.ids["codes"][6])
    before = world.rows()
    response = client.post(url, data={"name": "x" * (2 * 1024 * 1024 + 10), "comment": "y"})
    assert response.status_code == 413, checks.describe(response)
    checks.refused_clearly(response)
    checks.unchanged(before, world.rows(), response)


@budget(ci=8)
@given(body=st.binary(max_size=300))
def test_raw_non_utf8_form_bodies(world, body):
    """Bytes that are no valid UTF-8 (percent-escaped or raw) in an urlencoded body."""
    before = world.rows()
    for client, url in [(world.client, f"/admin/events/{world.ids['event']}/teams"),
                        (world.judge_client(0), f"/t/{world.ids['codes'][6]}")]:
        encoded = b"name=" + quote(body).encode() + b"&table_number=5&comment=" + body.replace(b"&", b"")
        response = client.post(url, data=encoded, content_type="application/x-www-form-urlencoded")
        checks.no_server_error(response)
        checks.inert_html(response.get_data(as_text=True))
    world.reset()
    del before


def test_nul_constant():
    assert NUL == "\x00"
