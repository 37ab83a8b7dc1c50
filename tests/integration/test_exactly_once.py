"""Exactly-once scoring (server side of the phone's outbox): idempotency keys, stale edits, fresh CSRF."""
from __future__ import annotations

import time

import pytest

from expo_app.extensions import db
from expo_app.models import Score, ScoreAudit, ScoreSubmission
from tests.conftest import full_sheet, team_code

JSON = {"Accept": "application/json"}


@pytest.fixture
def judge_a(app, client, demo, auth):
    auth.judge(demo["judges"][0])
    return demo


def _post(client, app, demo, value, key=None, edited_at=None, **extra):
    data = full_sheet(app, demo["event"], value, **extra)
    if edited_at is not None:
        data["edited_at"] = str(edited_at)
    headers = {**JSON, **({"Idempotency-Key": key} if key else {})}
    return client.post(f"/t/{team_code(app, demo['teams'][0])}", data=data, headers=headers)


def _sheet(app):
    with app.app_context():
        (score,) = db.session.execute(db.select(Score)).scalars().all()
        audits = db.session.execute(db.select(ScoreAudit.action).order_by(ScoreAudit.id)).scalars().all()
        return {v.value for v in score.values}, score.revision, audits


def test_a_replayed_key_returns_the_first_answer_and_counts_once(app, client, judge_a):
    first = _post(client, app, judge_a, 4, key="phone-key-0001")
    assert first.status_code == 200 and first.json["status"] == "saved" and first.json["replayed"] is False
    again = _post(client, app, judge_a, 4, key="phone-key-0001")
    assert again.status_code == 200 and again.json == {**first.json, "replayed": True}
    assert _sheet(app) == ({4}, 1, ["created"])
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(ScoreSubmission.id))).scalar() == 1


def test_the_same_key_with_another_sheet_is_refused_and_changes_nothing(app, client, judge_a):
    _post(client, app, judge_a, 4, key="phone-key-0002")
    refused = _post(client, app, judge_a, 2, key="phone-key-0002")
    assert refused.status_code == 422 and refused.json["status"] == "refused"
    assert "already used for a different score sheet" in refused.json["reason"]
    assert _sheet(app) == ({4}, 1, ["created"])


def test_an_older_edit_arriving_late_never_overwrites_a_newer_one(app, client, judge_a):
    base = int(time.time() * 1000) - 60_000  # edits made on the phone in the last minute
    newer = _post(client, app, judge_a, 5, key="edit-two-0003", edited_at=base + 2000)
    assert newer.json["status"] == "saved"
    older = _post(client, app, judge_a, 2, key="edit-one-0003", edited_at=base + 1000, comment="old")
    assert older.status_code == 200 and older.json["status"] == "stale"
    assert "a newer edit of this sheet is already saved" in older.json["message"]
    values, revision, audits = _sheet(app)
    assert (values, revision, audits) == ({5}, 1, ["created", "stale"])
    with app.app_context():
        stale = db.session.execute(db.select(ScoreAudit).where(ScoreAudit.action == "stale")).scalar_one()
        assert set(stale.new["values"].values()) == {2} and stale.new["comment"] == "old"  # kept, not applied
    latest = _post(client, app, judge_a, 3, key="edit-three-003", edited_at=base + 3000)
    assert latest.json["status"] == "saved" and _sheet(app)[0] == {3}


def test_the_plain_form_carries_a_key_so_a_double_submit_counts_once(app, client, judge_a):
    page = client.get(f"/t/{team_code(app, judge_a['teams'][0])}")
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    key = html.split('name="idempotency_key" type="hidden" value="')[1].split('"')[0]
    assert len(key) >= 16
    data = full_sheet(app, judge_a["event"], 4, idempotency_key=key)
    url = f"/t/{team_code(app, judge_a['teams'][0])}"
    assert "Saved: your score" in client.post(url, data=data, follow_redirects=True).get_data(as_text=True)
    assert "Already saved, nothing changed" in client.post(url, data=data, follow_redirects=True).get_data(as_text=True)
    assert _sheet(app) == ({4}, 1, ["created"])
    other = client.get(url).get_data(as_text=True).split('name="idempotency_key" type="hidden" value="')[1].split('"')[0]
    assert other != key  # a new page, a new key


def test_keys_belong_to_their_judge(app, client, demo, auth):
    auth.judge(demo["judges"][0])
    _post(client, app, demo, 4, key="shared-key-0004")
    auth.judge(demo["judges"][1])
    second = _post(client, app, demo, 2, key="shared-key-0004")
    assert second.status_code == 200 and second.json["status"] == "saved"
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Score.id))).scalar() == 2


def test_a_fresh_csrf_token_for_the_outbox_and_a_reason_when_the_session_ended(app, client, judge_a):
    token = client.get("/judge/csrf")
    assert token.status_code == 200 and len(token.json["csrf_token"]) > 20
    assert token.headers["Cache-Control"] == "no-store"
    with app.app_context():
        from expo_app.models import Judge, utcnow

        db.session.get(Judge, judge_a["judges"][0]).revoked_at = utcnow()
        db.session.commit()
    ended = client.get("/judge/csrf")
    assert ended.status_code == 401 and ended.json["status"] == "not_saved"
    posted = _post(client, app, judge_a, 4, key="after-the-end-05")
    assert posted.status_code == 401 and posted.json == {"status": "not_saved", "reason": ended.json["reason"]}
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Score.id))).scalar() == 0


def test_the_saved_state_tells_revisions_apart(app, client, judge_a):
    import re

    url = f"/t/{team_code(app, judge_a['teams'][0])}"
    client.post(url, data=full_sheet(app, judge_a["event"], 4))
    client.post(url, data=full_sheet(app, judge_a["event"], 3))
    page = client.get(url).get_data(as_text=True)
    assert re.search(r"<strong>Saved</strong> \w{3} \d{2}, \d{2}:\d{2}:\d{2} \(revision 2\)", page)


def test_a_form_from_another_tab_does_not_silently_overwrite_a_newer_save(app, client, judge_a):
    url = f"/t/{team_code(app, judge_a['teams'][0])}"

    def loaded_form():
        html = client.get(url).get_data(as_text=True)
        return {name: html.split(f'name="{name}" type="hidden" value="')[1].split('"')[0]
                for name in ("idempotency_key", "revision")}

    tab_one, tab_two = loaded_form(), loaded_form()
    assert tab_one["revision"] == tab_two["revision"] == "0"
    client.post(url, data=full_sheet(app, judge_a["event"], 5, comment="from tab one", **tab_one))
    older = client.post(url, data=full_sheet(app, judge_a["event"], 2, comment="from tab two", **tab_two))
    page = older.get_data(as_text=True)
    assert older.status_code == 409 and "changed in another tab or on another phone" in page
    assert "The saved version (revision 1," in page and "Comment: from tab one" in page
    assert "from tab two" in page and 'name="revision" type="hidden" value="1"' in page  # my entries, kept
    assert _sheet(app)[:2] == ({5}, 1)
    # Submitting again from that page is the judge's choice: it replaces the saved version.
    choice = {name: page.split(f'name="{name}" type="hidden" value="')[1].split('"')[0]
              for name in ("idempotency_key", "revision")}
    client.post(url, data=full_sheet(app, judge_a["event"], 2, comment="from tab two", **choice))
    assert _sheet(app)[:2] == ({2}, 2)
    # The same entries as the saved sheet are no conflict: just "nothing changed".
    stale_but_same = {**loaded_form(), "revision": "0"}
    same = client.post(url, data=full_sheet(app, judge_a["event"], 2, comment="from tab two", **stale_but_same),
                       follow_redirects=True)
    assert "Already saved, nothing changed" in same.get_data(as_text=True)
