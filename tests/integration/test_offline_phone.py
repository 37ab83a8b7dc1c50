"""The server side of the phone working offline: the service worker at the site root, the list of
pages it keeps, whose pages they are, and the JSON answers the outbox acts on."""
from __future__ import annotations

import json
import re

import pytest

from expo_app.extensions import db
from expo_app.models import Event, Judge, Score, Team
from tests.conftest import full_sheet, team_code

JSON = {"Accept": "application/json"}


@pytest.fixture
def judge_a(app, client, demo, auth):
    auth.judge(demo["judges"][0])
    return demo


def _team_url(app, demo, index=0):
    return f"/t/{team_code(app, demo['teams'][index])}"


def test_the_service_worker_is_served_from_the_root_with_its_release_and_shell(app, client, demo):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"  # a new release is picked up at once
    body = response.get_data(as_text=True)
    release = re.search(r'var VERSION = "([0-9a-f]{16})";', body).group(1)
    shell = json.loads(re.search(r"var SHELL_FILES = (\[.*?\]);", body).group(1))
    assert shell == ["/static/app.css", "/static/favicon.svg", "/static/judge/phone.js", "/static/judge/store.js"]
    assert "__VERSION__" not in body and "__SHELL_FILES__" not in body
    for path in shell:  # every file the worker caches at install exists
        assert client.get(path).status_code == 200
    assert client.get("/sw.js").get_data(as_text=True) == body  # the same release, the same worker


def test_a_changed_phone_file_is_a_new_release(app, client, demo):
    from expo_app.judging.views import _release

    first = _release(app)
    app.extensions.pop("expo_release")
    assert _release(app) == first  # deterministic
    app.extensions["expo_release"] = "0123456789abcdef"  # what a changed file would give
    assert 'var VERSION = "0123456789abcdef";' in client.get("/sw.js").get_data(as_text=True)


def test_the_offline_list_is_the_judge_home_and_every_team_of_the_event(app, client, judge_a):
    answer = client.get("/judge/offline.json")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    with app.app_context():
        codes = [t.code for t in db.session.execute(db.select(Team).where(Team.event_id == judge_a["event"])
                                                    .order_by(Team.table_number)).scalars()]
    assert answer.json["judge_id"] == judge_a["judges"][0]
    assert answer.json["urls"] == ["/judge"] + [f"/t/{c}" for c in codes]
    assert len(codes) == 12
    # A small event: every form at once (protocol 2 says so, with nothing for later).
    assert answer.json["protocol"] == 2 and answer.json["now"] == answer.json["urls"] and answer.json["later"] == []
    assert answer.json["later_start_s"] == [20, 120] and answer.json["later_gap_s"] == 6


def test_a_large_event_keeps_the_judges_route_first_and_the_rest_later(app, client, judge_a, auth):
    """'Everyone, scan your badge now': each phone asks at once for its own route only."""
    from expo_app.models import Assignment

    app.config["OFFLINE_NOW_ALL_TEAMS"] = 5  # the demo's 12 teams count as a large event
    with app.app_context():
        teams = db.session.execute(db.select(Team).where(Team.event_id == judge_a["event"])
                                   .order_by(Team.table_number)).scalars().all()
        codes = [t.code for t in teams]
    answer = client.get("/judge/offline.json").json  # no plan: the first 8 tables now
    assert answer["now"] == ["/judge"] + [f"/t/{c}" for c in codes[:8]]
    assert answer["later"] == [f"/t/{c}" for c in codes[8:]]
    with app.app_context():  # a plan: the judge's own list, in its order
        for position, team in enumerate((teams[10], teams[3], teams[7]), start=1):
            db.session.add(Assignment(event_id=judge_a["event"], judge_id=judge_a["judges"][0], team_id=team.id,
                                      position=position))
        db.session.commit()
    answer = client.get("/judge/offline.json").json
    assert answer["now"] == ["/judge", f"/t/{codes[10]}", f"/t/{codes[3]}", f"/t/{codes[7]}"]
    assert answer["later"] == [f"/t/{c}" for i, c in enumerate(codes) if i not in (3, 7, 10)]
    assert sorted(answer["now"] + answer["later"]) == sorted(answer["urls"])


def test_a_kept_copy_is_revalidated_with_its_etag_and_is_no_visit(app, client, judge_a):
    from expo_app.models import TeamVisit

    url = _team_url(app, judge_a, 2)
    precache = {"X-Expo-Precache": "1"}
    first = client.get(url, headers=precache)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and re.fullmatch(r'"[0-9a-f]{32}"', etag)
    again = client.get(url, headers={**precache, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    client.post(url, data=full_sheet(app, judge_a["event"], 3))  # the judge's sheet changes: a new copy
    changed = client.get(url, headers={**precache, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag and "Saved" in changed.get_data(as_text=True)
    with app.app_context():  # the copies were no visits; the judge's save was after none
        assert db.session.execute(db.select(db.func.count(TeamVisit.id))).scalar() == 0


def test_nobody_signed_in_gets_no_offline_list_and_no_token(client, demo):
    for url in ("/judge/offline.json", "/judge/csrf"):
        answer = client.get(url)
        assert answer.status_code == 401 and answer.json["status"] == "not_saved"
        assert "session has ended" in answer.json["reason"]


def test_the_fresh_token_says_whose_session_it_is(app, client, judge_a, auth):
    assert client.get("/judge/csrf").json["judge_id"] == judge_a["judges"][0]
    auth.judge(judge_a["judges"][1])  # another judge on the same phone
    assert client.get("/judge/csrf").json["judge_id"] == judge_a["judges"][1]


def test_every_judge_page_says_whose_it_is(app, client, demo, auth):
    assert client.get("/").headers["X-Expo-Judge"] == ""
    assert client.get(_team_url(app, demo)).headers["X-Expo-Judge"] == ""
    auth.judge(demo["judges"][2])
    me = str(demo["judges"][2])
    for url in ("/", "/judge", _team_url(app, demo), "/judge/csrf", "/judge/offline.json"):
        response = client.get(url)
        assert response.headers["X-Expo-Judge"] == me, url
        assert "Cookie" in response.headers["Vary"]
    auth.logout()
    assert client.get("/").headers["X-Expo-Judge"] == ""


def test_judge_pages_carry_the_judge_and_the_phone_scripts(app, client, judge_a):
    for url in ("/judge", _team_url(app, judge_a)):
        html = client.get(url).get_data(as_text=True)
        assert f'<meta name="expo-judge" content="{judge_a["judges"][0]}">' in html
        assert re.search(r'<meta name="expo-rendered" content="\d{13}">', html)
        assert '<script src="/static/judge/store.js" defer></script>' in html
        assert '<script src="/static/judge/phone.js" defer></script>' in html


def _state(html):
    match = re.search(r'<p class="sync-state sync-(\w+)" id="sync-state" data-kind="\w+" role="status"[^>]*>([^<]*)</p>',
                      html)
    return match.group(1), match.group(2).strip()


def test_the_state_words_without_script(app, client, judge_a):
    url = _team_url(app, judge_a)
    assert _state(client.get("/judge").get_data(as_text=True)) == ("none", "Nothing submitted yet.")
    assert _state(client.get(url).get_data(as_text=True)) == ("none", "Not scored yet")
    client.post(url, data=full_sheet(app, judge_a["event"], 4))
    kind, words = _state(client.get(url).get_data(as_text=True))
    assert kind == "saved" and re.fullmatch(r"Saved [A-Z][a-z]{2} \d\d, \d\d:\d\d:\d\d", words)
    assert _state(client.get("/judge").get_data(as_text=True)) == (
        "saved", "Saved: every score you submitted is on the server.")
    client.post(url, data=full_sheet(app, judge_a["event"], 3))
    assert re.fullmatch(r"Saved .* \(revision 2\)", _state(client.get(url).get_data(as_text=True))[1])
    refused = client.post(url, data={"comment": "nothing picked"})
    assert refused.status_code == 422
    assert _state(refused.get_data(as_text=True)) == (
        "error", "Not saved: Your score was not saved. Fix the highlighted parts and submit again.")


def test_a_saved_answer_gives_the_phone_the_same_words_as_the_page(app, client, judge_a):
    url = _team_url(app, judge_a)
    answer = client.post(url, data=full_sheet(app, judge_a["event"], 4, edited_at="1800000000000"),
                         headers={**JSON, "Idempotency-Key": "phone-key-offline-1"})
    assert answer.status_code == 200 and answer.json["status"] == "saved" and answer.json["revision"] == 1
    assert answer.json["saved_text"] == _state(client.get(url).get_data(as_text=True))[1]
    second = client.post(url, data=full_sheet(app, judge_a["event"], 2, edited_at="1800000001000"),
                         headers={**JSON, "Idempotency-Key": "phone-key-offline-2"})
    assert second.json["revision"] == 2 and second.json["saved_text"].endswith("(revision 2)")


def test_a_sheet_the_server_refuses_comes_back_as_json_with_the_reasons(app, client, judge_a):
    url = _team_url(app, judge_a)
    with app.app_context():
        first = db.session.get(Event, judge_a["event"]).criteria[0]
        name, low, high = first.name, first.scale_min, first.scale_max
    data = full_sheet(app, judge_a["event"], 4)
    data.pop(f"criterion_{first.id}")
    answer = client.post(url, data=data, headers=JSON)
    assert answer.status_code == 422
    assert answer.json == {"status": "refused", "reason": f"Choose a score for {name} ({low}–{high})."}
    both = client.post(url, data={"absent": "y", "conflict": "y"}, headers=JSON)
    assert both.status_code == 422 and both.json["reason"].startswith('Tick one of "Team absent"')
    long_comment = client.post(url, data=full_sheet(app, judge_a["event"], 4, comment="x" * 4001), headers=JSON)
    assert long_comment.status_code == 422 and long_comment.json["reason"].startswith("Comment for the team")
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Score.id))).scalar() == 0


def test_a_closed_event_keeps_the_sheet_on_the_phone_with_the_reason(app, client, judge_a):
    with app.app_context():
        db.session.get(Event, judge_a["event"]).scoring_state = "closed"
        db.session.commit()
    answer = client.post(_team_url(app, judge_a), data=full_sheet(app, judge_a["event"], 4),
                         headers={**JSON, "Idempotency-Key": "closed-key-0001"})
    assert answer.status_code == 409
    assert answer.json == {"status": "not_saved",
                           "reason": "Scoring is closed right now. Your score was not saved: ask the organisers' desk."}


def test_a_withdrawn_badge_answers_not_saved_to_the_outbox(app, client, judge_a):
    with app.app_context():
        judge = db.session.get(Judge, judge_a["judges"][0])
        judge.token_version += 1  # badge reissued: this phone's session ended
        db.session.commit()
    answer = client.post(_team_url(app, judge_a), data=full_sheet(app, judge_a["event"], 4), headers=JSON)
    assert answer.status_code == 401 and answer.json["status"] == "not_saved"
    assert client.get("/judge/csrf").status_code == 401


def test_the_scoring_page_with_everything_it_loads_stays_under_40_kb_gzipped():
    """The page budget of issue 9 (bench/page_weight.py prints the table): a size, not a timing."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "bench" / "page_weight.py"
    spec = importlib.util.spec_from_file_location("page_weight", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows, foreign = bench.scoring_page_weight()
    files = [what for what, _raw, _gz in rows]
    assert files == ["scoring page HTML", "/static/app.css", "/static/judge/store.js", "/static/judge/phone.js",
                     "/static/favicon.svg"]
    assert foreign == []  # nothing from another host
    assert sum(gz for _w, _r, gz in rows) < 40 * 1024


def test_a_sheet_queued_by_another_judge_is_never_saved_under_this_one(app, client, judge_a):
    answer = client.post(_team_url(app, judge_a), data=full_sheet(app, judge_a["event"], 4,
                                                                  judge_id=str(judge_a["judges"][1])),
                         headers={**JSON, "Idempotency-Key": "someone-else-01"})
    assert answer.status_code == 403 and answer.json["status"] == "not_saved"
    assert "another judge" in answer.json["reason"]
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Score.id))).scalar() == 0
    mine = client.post(_team_url(app, judge_a), data=full_sheet(app, judge_a["event"], 4,
                                                                judge_id=str(judge_a["judges"][0])),
                       headers={**JSON, "Idempotency-Key": "me-myself-0001"})
    assert mine.status_code == 200 and mine.json["status"] == "saved"


def test_a_plain_form_save_is_not_overwritten_by_an_older_queued_phone_edit(app, client, judge_a):
    import time

    url = _team_url(app, judge_a)
    queued_at = int(time.time() * 1000) - 60_000  # edited on the phone a minute ago, sent only now
    client.post(url, data=full_sheet(app, judge_a["event"], 5))  # the plain form, saved just now
    late = client.post(url, data=full_sheet(app, judge_a["event"], 2, edited_at=str(queued_at)),
                       headers={**JSON, "Idempotency-Key": "late-phone-edit"})
    assert late.json["status"] == "stale"
    with app.app_context():
        (score,) = db.session.execute(db.select(Score)).scalars().all()
        assert {v.value for v in score.values} == {5}


@pytest.mark.parametrize("copy_headers", [{"X-Expo-Precache": "1"}, {"Sec-Purpose": "prefetch"}])
def test_a_copy_kept_for_later_takes_no_message_meant_for_the_next_page(app, client, judge_a, copy_headers):
    """The service worker keeps forms while the judge signs out in another tab: its copy must neither
    show nor use up the "You are signed out." meant for the page the judge lands on."""
    url = _team_url(app, judge_a, 2)
    client.post("/logout")  # the flash waits in the session for the next page
    copy = client.get(url, headers=copy_headers).get_data(as_text=True)
    assert "You are signed out." not in copy
    landing = client.get("/").get_data(as_text=True)
    assert landing.count("You are signed out.") == 1
    assert "You are signed out." not in client.get("/").get_data(as_text=True)  # shown once
