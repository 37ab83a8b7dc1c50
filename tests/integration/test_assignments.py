"""The assignment plan through the admin pages, the CLI and the judge's home; on both databases."""
from __future__ import annotations

import re

import pytest

from expo_app.extensions import db
from expo_app.judging.operations import SheetInput, submit_score
from expo_app.models import Assignment, Event, Judge, JudgeConflict, Score, Team

from tests.conftest import full_sheet, team_code


def _plan(client, event_id, mode="new", k=3, seed=1, follow=True):
    return client.post(f"/admin/events/{event_id}/assignments/plan", data={"mode": mode, "per_team": str(k),
                                                                           "seed": str(seed)},
                       follow_redirects=follow)


def _lists(app, event_id):
    with app.app_context():
        rows = db.session.execute(db.select(Assignment.judge_id, Assignment.team_id, Assignment.position)
                                  .where(Assignment.event_id == event_id)
                                  .order_by(Assignment.judge_id, Assignment.position)).all()
    lists = {}
    for judge_id, team_id, position in rows:
        lists.setdefault(judge_id, []).append(team_id)
        assert position == len(lists[judge_id])
    return lists


def _score(app, judge_id, team_id, absent=False):
    with app.app_context():
        judge, team = db.session.get(Judge, judge_id), db.session.get(Team, team_id)
        values = {} if absent else {c.id: 3 for c in team.event.criteria}
        submit_score(judge, team, SheetInput(values=values, absent=absent), "test")
        db.session.commit()


@pytest.fixture
def admin(client, auth, demo):
    auth.admin()
    return demo


def test_the_organiser_makes_a_plan_and_sees_its_figures(app, client, admin):
    page = _plan(client, admin["event"], k=3, seed=7)
    html = page.get_data(as_text=True)
    assert "Plan made: 12 teams, 3–3 judges each, loads 6–6, connectivity" in html
    lists = _lists(app, admin["event"])
    assert sorted(len(ts) for ts in lists.values()) == [6] * 6
    per_team = {}
    for judge_id, teams in lists.items():
        for team_id in teams:
            per_team.setdefault(team_id, []).append(judge_id)
    assert sorted(per_team) == sorted(admin["teams"]) and {len(js) for js in per_team.values()} == {3}
    page = client.get(f"/admin/events/{admin['event']}/assignments").get_data(as_text=True)
    assert "The plan in force" in page and "with seed 7" in page
    assert re.search(r"<dt>Judges per team</dt><dd>3 <span", page)
    assert _plan(client, admin["event"], k=3, seed=7) and _lists(app, admin["event"]) == lists  # deterministic


def test_the_plan_exports_as_csv_and_a_hand_made_plan_imports(app, client, admin):
    _plan(client, admin["event"], k=2, seed=3)
    text = client.get(f"/admin/events/{admin['event']}/assignments.csv").get_data(as_text=True)
    lines = text.strip().splitlines()
    assert lines[0] == "judge,team,order" and len(lines) == 1 + 24
    with app.app_context():
        judges = db.session.execute(db.select(Judge).where(Judge.event_id == admin["event"]).order_by(Judge.id)).scalars().all()
        emails = [j.email for j in judges]
    by_hand = "judge,team,order\r\n" + "".join(f"{emails[i % 6]},{i + 1},{i // 6 + 1}\r\n" for i in range(12))
    answer = client.post(f"/admin/events/{admin['event']}/assignments/import",
                         data={"file": (__import__("io").BytesIO(by_hand.encode()), "plan.csv")},
                         content_type="multipart/form-data", follow_redirects=True)
    assert "Plan imported: 12 visits." in answer.get_data(as_text=True)
    lists = _lists(app, admin["event"])
    assert [len(ts) for ts in lists.values()] == [2] * 6
    with app.app_context():
        assert db.session.get(Event, admin["event"]).plan_seed is None  # made by hand


def test_a_bad_plan_file_names_every_line_and_changes_nothing(app, client, admin):
    _plan(client, admin["event"], k=2, seed=3)
    before = _lists(app, admin["event"])
    with app.app_context():
        judge = db.session.execute(db.select(Judge).where(Judge.event_id == admin["event"]).order_by(Judge.id)).scalars().first()
        email, name = judge.email, judge.name
        team = db.session.get(Team, admin["teams"][0])
        team.companies = judge.affiliation or "Acme"
        judge.affiliation = team.companies
        team_name, table = team.name, team.table_number
        db.session.commit()
    bad = ("judge,team,order\n"
           f"{email},{table},1\n"          # a conflict: the team works with the judge's company
           "nobody@example.org,2,1\n"      # no such judge
           f"{email},99,2\n"               # no such table
           f"{name},3,x\n")                # a bad order
    answer = client.post(f"/admin/events/{admin['event']}/assignments/import",
                         data={"file": (__import__("io").BytesIO(bad.encode()), "plan.csv")},
                         content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert f"Line 2: {name} has a conflict of interest with {team_name}." in answer
    assert "Line 3: no judge of this event has the e-mail or name &#39;nobody@example.org&#39;." in answer
    assert "Line 4: no team of this event has the table number or name &#39;99&#39;." in answer
    assert "Line 5: order &#39;x&#39; is not a whole number of 1 or more." in answer
    assert "Nothing was imported" in answer
    assert _lists(app, admin["event"]) == before


def test_replanning_keeps_scored_visits_and_moves_an_away_judges_rest(app, client, admin):
    _plan(client, admin["event"], k=3, seed=5)
    lists = _lists(app, admin["event"])
    leaving = sorted(lists)[0]
    scored = lists[leaving][:2]
    for team_id in scored:
        _score(app, leaving, team_id)
    other = sorted(lists)[1]
    _score(app, other, lists[other][0])
    client.post(f"/admin/judges/{leaving}/availability")
    with app.app_context():
        assert db.session.get(Judge, leaving).available is False
    page = _plan(client, admin["event"], mode="replan", k=3, seed=5).get_data(as_text=True)
    assert "visits changed" in page
    after = _lists(app, admin["event"])
    assert sorted(after[leaving]) == sorted(scored)  # only what the judge scored stays with them
    assert lists[other][0] in after[other]
    per_team = {}
    for judge_id, teams in after.items():
        for team_id in teams:
            per_team.setdefault(team_id, set()).add(judge_id)
    assert all(len(js) >= 3 for js in per_team.values())
    available_loads = [len(ts) for j, ts in after.items() if j != leaving]
    assert max(available_loads) - min(available_loads) <= 1


def test_a_marked_conflict_is_respected_and_can_be_removed(app, client, admin):
    _plan(client, admin["event"], k=3, seed=2)
    lists = _lists(app, admin["event"])
    judge_id = sorted(lists)[0]
    team_id = lists[judge_id][0]
    answer = client.post(f"/admin/events/{admin['event']}/conflicts", data={"judge_id": judge_id, "team_id": team_id},
                         follow_redirects=True).get_data(as_text=True)
    assert "Re-plan to fill the visit." in answer
    assert team_id not in _lists(app, admin["event"])[judge_id]  # taken off their list at once
    _plan(client, admin["event"], mode="replan", k=3, seed=2)
    after = _lists(app, admin["event"])
    assert team_id not in after[judge_id] and sum(team_id in ts for ts in after.values()) == 3
    again = client.post(f"/admin/events/{admin['event']}/conflicts", data={"judge_id": judge_id, "team_id": team_id},
                        follow_redirects=True).get_data(as_text=True)
    assert "already marked as conflicted" in again
    with app.app_context():
        conflict_id = db.session.execute(db.select(JudgeConflict.id)).scalar_one()
    client.post(f"/admin/conflicts/{conflict_id}/delete")
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(JudgeConflict.id))).scalar() == 0


def test_the_judge_home_follows_the_plan(app, client, admin, auth):
    _plan(client, admin["event"], k=3, seed=4)
    lists = _lists(app, admin["event"])
    judge_id = sorted(lists)[2]
    mine = lists[judge_id]
    with app.app_context():
        tables = {t.id: (t.table_number, t.name) for t in db.session.execute(db.select(Team)).scalars()}
    auth.judge(judge_id)
    home = client.get("/judge").get_data(as_text=True)
    first = tables[mine[0]]
    assert f"table {first[0]}, {first[1]}</a>" in home
    assert "Then: " + ", ".join(f"table {tables[t][0]}" for t in mine[1:]) + "." in home
    for team_id in mine[:1]:
        _score(app, judge_id, team_id)
    home = client.get("/judge").get_data(as_text=True)
    assert f"table {tables[mine[1]][0]}, {tables[mine[1]][1]}</a>" in home
    for team_id in mine[1:]:
        _score(app, judge_id, team_id)
    home = client.get("/judge").get_data(as_text=True)
    assert "You have visited every team on your list. Thank you! These teams need judges most:" in home


def test_a_team_two_judges_mark_absent_drops_out_until_brought_back(app, client, admin, auth):
    _plan(client, admin["event"], k=3, seed=4)
    lists = _lists(app, admin["event"])
    team_id = admin["teams"][5]
    holders = [j for j, ts in lists.items() if team_id in ts]
    _score(app, holders[0], team_id, absent=True)
    third = holders[2]
    auth.judge(third)
    code = team_code(app, team_id)
    with app.app_context():
        table = db.session.get(Team, team_id).table_number

    def suggested():
        home = client.get("/judge").get_data(as_text=True)
        return f'href="/t/{code}">table {table},' in home or f"table {table}" in home.split("Then:")[-1].split("</p>")[0]

    assert suggested()  # one absent mark is not enough
    _score(app, holders[1], team_id, absent=True)
    assert not suggested()
    auth.admin()
    page = client.get(f"/admin/events/{admin['event']}/assignments").get_data(as_text=True)
    assert "<strong>Absent</strong> (no new visits)" in page
    client.post(f"/admin/teams/{team_id}/bring-back")
    auth.judge(third)
    assert suggested()


def test_the_cli_plans_exports_and_imports(app, demo, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["assign", "--per-team", "3", "--seed", "9"])
    assert result.exit_code == 0, result.output
    assert "Planned MLOps Innovation Expo (demo): 12 teams, 6 judges, k = 3." in result.output
    assert "judges per team 3-3, teams per judge 6-6, connectivity" in result.output
    out = tmp_path / "plan.csv"
    assert runner.invoke(args=["export-assignments", "-o", str(out)]).exit_code == 0
    text = out.read_text()
    assert text.splitlines()[0] == "judge,team,order" and len(text.splitlines()) == 37
    imported = runner.invoke(args=["import-assignments", str(out)])
    assert imported.exit_code == 0 and "36 visits" in imported.output
    out.write_text("judge,team,order\nnobody@example.org,1,1\n")
    refused = runner.invoke(args=["import-assignments", str(out)])
    assert refused.exit_code == 1
    assert "Line 2: no judge of this event has the e-mail or name 'nobody@example.org'." in refused.output


def test_too_many_conflicts_are_explained(app, client, admin):
    with app.app_context():
        team = db.session.get(Team, admin["teams"][0])
        team.companies = "Acme Analytics"
        for judge in db.session.execute(db.select(Judge).where(Judge.event_id == admin["event"])).scalars().all()[:4]:
            judge.affiliation = "Acme Analytics, Inc."
        db.session.commit()
        name = team.name
    page = _plan(client, admin["event"], k=3, seed=1).get_data(as_text=True)
    assert "1 team gets fewer than 3 judges: see below why." in page
    assert (f"{name}: 2 judges, because 4 of the 6 available judges have a conflict with this team, "
            "which leaves 2.") in page


def test_the_plan_travels_with_the_event_file(app, client, admin):
    from expo_app.portability import dumps, export_event, import_event

    _plan(client, admin["event"], k=3, seed=6)
    with app.app_context():
        event = db.session.get(Event, admin["event"])
        judge, team = event.judges[0], event.teams[1]
        db.session.add(JudgeConflict(event_id=event.id, judge=judge, team=team))
        team.companies = "Acme; Beta"
        db.session.commit()
        data = export_event(event)
        assert data["schema"] == 11 and len(data["assignments"]) == 36 and len(data["conflicts"]) == 1
        db.session.execute(db.delete(Score))
        for row in [*event.teams, *event.judges]:  # free the QR codes and uids, as a fresh database would have them
            if isinstance(row, Team):
                row.code += "Z"
            row.uid = row.uid[:-1] + ("2" if row.uid[-1] != "2" else "3")
        db.session.commit()
        copy = import_event(data)
        db.session.commit()
        assert dumps({**export_event(copy), "event": None}) == dumps({**data, "event": None})


def test_the_dashboard_coverage_panel_shows_the_plan(app, client, admin):
    page = client.get(f"/admin/events/{admin['event']}/dashboard").get_data(as_text=True)
    assert "No assignment plan: judges go to the first table they have not scored" in page
    _plan(client, admin["event"], k=3, seed=2)
    page = client.get(f"/admin/events/{admin['event']}/dashboard").get_data(as_text=True)
    assert re.search(r"Assignment plan: 3\s+judges per team, 6\s+teams per judge,\s+connectivity \d\.\d\d", page)
    assert '<th scope="col">Planned</th>' in page


def _visit(app, judge_id, team_id):
    from expo_app.assignments.operations import record_visit

    with app.app_context():
        record_visit(db.session.get(Judge, judge_id), db.session.get(Team, team_id))
        db.session.commit()


def _visits(app):
    from expo_app.models import TeamVisit

    with app.app_context():
        return [(v.judge_id, v.team_id) for v in db.session.execute(db.select(TeamVisit).order_by(TeamVisit.id)).scalars()]


def test_a_visit_is_counted_once_when_the_form_comes_from_the_server_and_a_save_ends_it(app, client, admin, auth):
    auth.judge(admin["judges"][0])
    me, team_id = admin["judges"][0], admin["teams"][3]
    url = f"/t/{team_code(app, team_id)}"
    # The phone keeping a copy for offline use, or a browser's prefetch, is no visit.
    assert client.get(url, headers={"X-Expo-Precache": "1"}).status_code == 200
    assert client.get(url, headers={"Sec-Purpose": "prefetch"}).status_code == 200
    assert _visits(app) == []
    assert client.get(url).status_code == 200  # the judge opens the form
    assert client.get(url).status_code == 200  # and again (a reload): still one visit, refreshed
    assert _visits(app) == [(me, team_id)]
    # The old phone script's beacon counts nothing more (it used to fire again after every save).
    assert client.post(f"/judge/visiting/{team_code(app, team_id)}").status_code == 204
    assert _visits(app) == [(me, team_id)]
    # A save ends the visit: the page after it (?saved=1) is no new visit, and the table is not crowded.
    response = client.post(url, data=full_sheet(app, admin["event"], 4))
    assert response.status_code == 302 and response.headers["Location"] == url + "?saved=1"
    page = client.get(url + "?saved=1").get_data(as_text=True)
    assert "Saved: your score for" in page and "Next: <a" in page
    with app.app_context():
        from expo_app.assignments.operations import crowding

        other = db.session.get(Judge, admin["judges"][1])
        assert crowding(other.event, other) == {}
def test_a_crowded_table_is_passed_over_for_now(app, client, admin, auth):
    _plan(client, admin["event"], k=3, seed=4)
    lists = _lists(app, admin["event"])
    me = sorted(lists)[0]
    first, second = lists[me][0], lists[me][1]
    others = [j for j in lists if j != me][:2]
    with app.app_context():
        tables = {t.id: t.table_number for t in db.session.execute(db.select(Team)).scalars()}
    auth.judge(me)
    assert f">table {tables[first]}," in client.get("/judge").get_data(as_text=True)
    _visit(app, others[0], first)
    assert f">table {tables[first]}," in client.get("/judge").get_data(as_text=True)  # one other judge is fine
    _visit(app, others[1], first)
    home = client.get("/judge").get_data(as_text=True)
    assert f">table {tables[second]}," in home  # two others are there now: the next free team
    assert f"Other judges are at table {tables[first]} now: come back to it later." in home
    _score(app, others[0], first)
    _score(app, others[1], first)  # they scored and left: the table is free again
    assert f">table {tables[first]}," in client.get("/judge").get_data(as_text=True)


def test_after_the_list_the_judge_is_sent_where_a_score_helps_most(app, client, admin, auth):
    _plan(client, admin["event"], k=2, seed=4)
    lists = _lists(app, admin["event"])
    for judge_id, teams in lists.items():  # everybody finishes their list
        for team_id in teams:
            _score(app, judge_id, team_id)
    me = sorted(lists)[0]
    from expo_app.assignments.operations import judge_route, team_value_map

    from datetime import timedelta

    from expo_app.models import utcnow

    with app.app_context():
        last = db.session.execute(db.select(Score).where(Score.judge_id == me, Score.team_id == lists[me][-1])).scalar_one()
        last.updated_at = utcnow() + timedelta(minutes=1)  # where the judge stands now
        db.session.commit()
        judge = db.session.get(Judge, me)
        values = team_value_map(judge.event)
        route = judge_route(judge)
        tables = {t.id: t.table_number for t in judge.event.teams}
        here = tables[lists[me][-1]]
        candidates = sorted((t for t in admin["teams"] if t not in lists[me]), key=lambda t: tables[t])
        # The most valuable per walk (a walk of 10 tables halves a team's appeal), ties to the lower table.
        best = max(candidates, key=lambda t: (values[t] / (1 + abs(tables[t] - here) / 10), -tables[t]))
        assert route.extra and route.next_team.id == best
        assert [t.id for t in route.remaining[1:]] == sorted(
            (t for t in candidates if t != best), key=lambda t: -values[t])[:4]


def test_live_routing_is_a_setting(app, client, admin):
    client.post(f"/admin/events/{admin['event']}/routing", data={"live": "y"})
    with app.app_context():
        assert db.session.get(Event, admin["event"]).live_routing is True
    client.post(f"/admin/events/{admin['event']}/routing", data={})
    with app.app_context():
        assert db.session.get(Event, admin["event"]).live_routing is False


def test_extra_visits_never_go_to_a_conflicted_absent_or_scored_team(app, client, admin):
    _plan(client, admin["event"], k=2, seed=4)
    lists = _lists(app, admin["event"])
    me = sorted(lists)[0]
    for team_id in lists[me]:
        _score(app, me, team_id)
    others = [t for t in admin["teams"] if t not in lists[me]]
    conflicted_team, absent_team = others[0], others[1]
    holders = [j for j in lists if j != me][:2]
    for judge_id in holders:
        _score(app, judge_id, absent_team, absent=True)
    from expo_app.assignments.operations import judge_route

    with app.app_context():
        db.session.add(JudgeConflict(event_id=admin["event"], judge_id=me, team_id=conflicted_team))
        db.session.commit()
        route = judge_route(db.session.get(Judge, me))
        suggested = [t.id for t in route.remaining]
    assert route.extra and suggested
    assert conflicted_team not in suggested and absent_team not in suggested
    assert not set(suggested) & set(lists[me])
