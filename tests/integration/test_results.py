"""Live dashboard, ranking export and awards, through the test client."""
import pytest

from expo_app.extensions import db
from expo_app.judging.operations import SheetInput, submit_score
from expo_app.models import Award, AwardCategory, Event, Judge, RankingSnapshot, Team


@pytest.fixture
def scored(app, demo, auth):
    """Judges 0-3 score teams 0-3 with known values: team i gets 5-i from every judge, judge 3 is harsh."""
    with app.app_context():
        event = db.session.get(Event, demo["event"])
        for j_index in range(4):
            judge = db.session.get(Judge, demo["judges"][j_index])
            for t_index in range(4):
                team = db.session.get(Team, demo["teams"][t_index])
                value = max(1, 5 - t_index - (1 if j_index == 3 else 0))
                submit_score(judge, team, SheetInput(values={c.id: value for c in event.criteria}), "test")
        db.session.commit()
    auth.admin()
    return demo


def test_dashboard_shows_leaderboard_coverage_judges_and_alerts(app, client, scored):
    page = client.get(f"/admin/events/{scored['event']}/dashboard").get_data(as_text=True)
    assert "16 rated sheets · 12 teams · 6 judges" in page
    board = page.split('id="board-h"')[1].split("</table>")[0]
    order = [name for name in ("Drift Busters", "Pipeline Pilots", "Feature Forge", "Canary Crew") if name in board]
    assert order == ["Drift Busters", "Pipeline Pilots", "Feature Forge", "Canary Crew"]
    assert board.index("Drift Busters") < board.index("Pipeline Pilots") < board.index("Feature Forge")
    assert "8 teams have fewer than 3 scores" in page  # coverage alert: teams 5-12 have none
    assert "not signed in yet" in page  # two judges never came
    assert 'src="/static/dashboard.js"' in page


def test_dashboard_json_uses_an_etag(app, client, scored, auth):
    url = f"/admin/events/{scored['event']}/dashboard.json"
    first = client.get(url)
    assert first.status_code == 200 and first.json["html"].count("<table") == 3
    etag = first.headers["ETag"]
    assert etag == f'"{first.json["version"]}"'
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    with app.app_context():  # a new score changes the version
        event = db.session.get(Event, scored["event"])
        judge, team = db.session.get(Judge, scored["judges"][4]), db.session.get(Team, scored["teams"][5])
        submit_score(judge, team, SheetInput(values={c.id: 3 for c in event.criteria}), "test")
        db.session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_dashboard_versions_agree_across_app_instances(app, app_config, scored):
    """Several gunicorn workers must hand out the same ETag for the same data."""
    from expo_app import create_app
    from expo_app.results.queries import dashboard_version

    other = create_app(app_config)
    versions = []
    for instance in (app, other):
        with instance.app_context():
            versions.append(dashboard_version(db.session.get(Event, scored["event"])))
        with instance.app_context():
            db.engine.dispose()
    assert versions[0] == versions[1]


def test_ranking_csv(client, scored):
    lines = client.get(f"/admin/events/{scored['event']}/ranking.csv").get_data(as_text=True).splitlines()
    assert lines[0] == "rank,team,score,raw_mean,score_low,score_high,rank_low,rank_high,judges"
    assert [line.split(",")[1] for line in lines[1:]] == ["Drift Busters", "Pipeline Pilots", "Feature Forge",
                                                          "Canary Crew"]
    raw = client.get(f"/admin/events/{scored['event']}/ranking.csv?method=raw").get_data(as_text=True).splitlines()
    # team 0: three judges give 5 and the harsh judge 4 → raw mean (100+100+100+75)/4
    assert raw[1].startswith("1,Drift Busters,93.75,93.75,")


FINAL = {"understood": "y"}


def categories(app, event_id):
    with app.app_context():
        return {c.name: c.id for c in db.session.get(Event, event_id).award_categories}


def test_awards_suggest_override_and_finalise(app, client, scored):
    event_id = scored["event"]
    cats = categories(app, event_id)
    assert list(cats)[:3] == ["1st place", "2nd place", "3rd place"] and len(cats) == 7
    page = client.get(f"/admin/events/{event_id}/awards").get_data(as_text=True)
    row = page.split(f'id="award-{cats["1st place"]}"')[1].split("</tr>")[0]
    assert "<strong>Drift Busters</strong>" in row and "Rank 1 of 4 overall" in row
    # One row per award; the destructive buttons sit apart, under "Undo a decision or remove an award".
    assert page.count('<tr id="award-') == 7 and "Remove this award" not in row
    assert page.index("Undo a decision or remove an award") > page.index('<tr id="award-')

    # overriding the suggestion needs a reason
    second = cats["2nd place"]
    canary = scored["teams"][3]
    page = client.post(f"/admin/award-categories/{second}/decide", data={f"c{second}-team": canary},
                       follow_redirects=True).get_data(as_text=True)
    assert "Say why Canary Crew should win 2nd place instead of the suggestion." in page
    client.post(f"/admin/award-categories/{second}/decide",
                data={f"c{second}-team": canary, f"c{second}-reason": "Best live demo on the day"})
    with app.app_context():
        award = db.session.execute(db.select(Award).where(Award.category_id == second)).scalar_one()
        assert (award.team_id, award.followed_suggestion, award.reason) == (canary, False, "Best live demo on the day")

    # accept the rest, but finalising needs scoring locked
    page = client.post(f"/admin/events/{event_id}/awards/accept", follow_redirects=True).get_data(as_text=True)
    assert "Accepted 6 suggestions." in page
    page = client.post(f"/admin/events/{event_id}/awards/finalise", follow_redirects=True).get_data(as_text=True)
    assert "Tick the box to confirm that the awards become final." in page
    page = client.post(f"/admin/events/{event_id}/awards/finalise", data=FINAL,
                       follow_redirects=True).get_data(as_text=True)
    assert "Lock scoring before finalising the awards" in page
    for state in ("closed", "locked"):
        client.post(f"/admin/events/{event_id}/state", data={"state": state, "confirm_lock": "y"})
    page = client.post(f"/admin/events/{event_id}/awards/finalise", data=FINAL,
                       follow_redirects=True).get_data(as_text=True)
    assert "The awards are final" in page
    with app.app_context():
        snapshot = db.session.execute(db.select(RankingSnapshot)).scalar_one()
        assert [t["team"] for t in snapshot.data["teams"]] == ["Drift Busters", "Pipeline Pilots", "Feature Forge",
                                                               "Canary Crew"]
        assert snapshot.data["teams"][0]["team_id"] == scored["teams"][0]
        assert {a["category"]: a["team"] for a in snapshot.data["awards"]}["2nd place"] == "Canary Crew"
        assert db.session.get(Event, event_id).awards_finalised_at is not None
    # final means final
    page = client.post(f"/admin/award-categories/{second}/clear", follow_redirects=True).get_data(as_text=True)
    assert "The awards are final and can no longer change." in page


def test_finalise_needs_every_award_decided(app, client, scored):
    event_id = scored["event"]
    for state in ("closed", "locked"):
        client.post(f"/admin/events/{event_id}/state", data={"state": state, "confirm_lock": "y"})
    page = client.post(f"/admin/events/{event_id}/awards/finalise", data=FINAL,
                       follow_redirects=True).get_data(as_text=True)
    assert "Decide every award first (or remove it): 1st place, 2nd place" in page
    with app.app_context():
        assert db.session.query(RankingSnapshot).count() == 0


def test_add_and_remove_award_categories(app, client, scored):
    event_id = scored["event"]
    client.post(f"/admin/events/{event_id}/award-categories", data={"name": "4th place", "basis": "place", "place": "4"})
    page = client.post(f"/admin/events/{event_id}/award-categories", data={"name": "4th place", "basis": "place",
                                                                           "place": "4"},
                       follow_redirects=True).get_data(as_text=True)
    assert "There is already an award called 4th place." in page
    cats = categories(app, event_id)
    assert "4th place" in cats
    client.post(f"/admin/award-categories/{cats['4th place']}/delete")
    with app.app_context():
        assert db.session.get(AwardCategory, cats["4th place"]) is None


def test_judges_never_see_the_leaderboard(app, client, scored, auth):
    auth.logout()
    auth.judge(scored["judges"][0])
    for path in ("dashboard", "dashboard.json", "ranking.csv", "awards"):
        response = client.get(f"/admin/events/{scored['event']}/{path}")
        assert response.status_code == 302 and response.headers["Location"].startswith("/admin/login")


def test_accepted_suggestions_that_the_ranking_overturned_block_finalising(app, client, scored):
    event_id = scored["event"]
    client.post(f"/admin/events/{event_id}/awards/accept")
    with app.app_context():  # Canary Crew (last) gets a flood of top scores from the other judges
        event = db.session.get(Event, event_id)
        for judge_id in scored["judges"][4:]:
            judge, team = db.session.get(Judge, judge_id), db.session.get(Team, scored["teams"][3])
            submit_score(judge, team, SheetInput(values={c.id: 5 for c in event.criteria}), "test")
        for t_index in range(3):
            for judge_id in scored["judges"][4:]:
                judge, team = db.session.get(Judge, judge_id), db.session.get(Team, scored["teams"][t_index])
                submit_score(judge, team, SheetInput(values={c.id: 1 for c in event.criteria}), "test")
        db.session.commit()
    page = client.get(f"/admin/events/{event_id}/awards").get_data(as_text=True)
    assert "Accepted as suggested, but the ranking has changed since" in page
    for state in ("closed", "locked"):
        client.post(f"/admin/events/{event_id}/state", data={"state": state, "confirm_lock": "y"})
    page = client.post(f"/admin/events/{event_id}/awards/finalise", data=FINAL,
                       follow_redirects=True).get_data(as_text=True)
    assert ("The ranking has changed since these awards were accepted as suggested; decide them again: "
            "3rd place (now suggested: Canary Crew)") in page
    with app.app_context():
        assert db.session.query(RankingSnapshot).count() == 0
