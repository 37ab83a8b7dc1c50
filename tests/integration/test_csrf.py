"""CSRF stays on outside the other tests' config: forms without a token change nothing."""
import re

import pytest

from expo_app.extensions import db
from expo_app.models import Score
from tests.conftest import full_sheet, team_code


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def token_from(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_forms_without_a_token_are_refused(app, client, demo, auth):
    response = client.post(auth.judge_path(demo["judges"][0]))
    assert response.status_code == 400 and "This form has expired" in response.get_data(as_text=True)
    assert client.post("/admin/login", data={"email": "x@y.org", "password": "p"}).status_code == 400


def test_judge_flow_with_tokens(app, client, demo, auth):
    path = auth.judge_path(demo["judges"][0])
    token = token_from(client.get(path).get_data(as_text=True))
    assert client.post(path, data={"csrf_token": token}).status_code == 302
    url = f"/t/{team_code(app, demo['teams'][0])}"
    assert client.post(url, data=full_sheet(app, demo["event"])).status_code == 400
    with app.app_context():
        assert db.session.query(Score).count() == 0
    token = token_from(client.get(url).get_data(as_text=True))
    assert client.post(url, data=full_sheet(app, demo["event"], csrf_token=token)).status_code == 302
    with app.app_context():
        assert db.session.query(Score).count() == 1


def test_a_scoring_form_whose_token_expired_comes_back_with_the_entries_and_not_saved(app, client, demo, auth):
    path = auth.judge_path(demo["judges"][0])
    client.post(path, data={"csrf_token": token_from(client.get(path).get_data(as_text=True))})
    url = f"/t/{team_code(app, demo['teams'][0])}"
    stale_token = token_from(client.get(url).get_data(as_text=True))
    # Signing in again (another tab) starts a new session: the open form's token no longer matches.
    client.post(path, data={"csrf_token": token_from(client.get(path).get_data(as_text=True))})
    data = full_sheet(app, demo["event"], 2, csrf_token=stale_token, comment="Great demo, keep this text")
    response = client.post(url, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Not saved: this page&#39;s security token had expired" in page
    assert "Great demo, keep this text" in page and page.count('value="2" checked') == 4
    with app.app_context():
        assert db.session.query(Score).count() == 0
    fresh = token_from(page)  # the page carries a fresh token: submitting again saves
    assert client.post(url, data={**data, "csrf_token": fresh}).status_code == 302
    with app.app_context():
        assert db.session.query(Score).count() == 1


def test_absent_and_conflict_together_are_refused(app, client, demo, auth):
    path = auth.judge_path(demo["judges"][0])
    client.post(path, data={"csrf_token": token_from(client.get(path).get_data(as_text=True))})
    url = f"/t/{team_code(app, demo['teams'][0])}"
    token = token_from(client.get(url).get_data(as_text=True))
    response = client.post(url, data=full_sheet(app, demo["event"], 3, csrf_token=token, absent="y", conflict="y"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "not both" in page
    with app.app_context():
        assert db.session.query(Score).count() == 0
