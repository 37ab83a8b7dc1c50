"""The organisers' actions in the audit log (issue 11): recorded with the change, nothing for a refused one,
shown beside the score sheets with a filter, and escaped."""
from __future__ import annotations

import html
import io
import re

import pytest

from expo_app.extensions import db
from expo_app.judging.operations import SheetInput, submit_score
from expo_app.models import (AdminAction, AwardCategory, Certificate, Criterion, Event, Judge, JudgeConflict, Score,
                             ScoreAudit, Team, TeamMember)
from tests.conftest import ADMIN_EMAIL, full_sheet, team_code

ACTOR = f"admin: {ADMIN_EMAIL}"
DEMO = "MLOps Innovation Expo (demo)"


@pytest.fixture
def admin(demo, auth):
    auth.admin()
    return demo


def last_id(app) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.max(AdminAction.id))).scalar() or 0


def actions_since(app, mark: int) -> list[tuple]:
    """(event id, area, action, subject, details, actor) of every AdminAction after `mark`, oldest first."""
    with app.app_context():
        return [(a.event_id, a.area, a.action, a.subject, a.details, a.actor) for a in db.session.execute(
            db.select(AdminAction).where(AdminAction.id > mark).order_by(AdminAction.id)).scalars()]


def one_action(app, mark: int, do) -> tuple:
    """Do something and return the one AdminAction it recorded (without the event id)."""
    do()
    rows = actions_since(app, mark)
    assert len(rows) == 1, rows
    return rows[0][1:]


def names(app, model, ids):
    with app.app_context():
        return [db.session.get(model, i).name for i in ids]


def upload(client, url, text, field="file"):
    return client.post(url, data={field: (io.BytesIO(text.encode()), "file.csv")}, content_type="multipart/form-data")


def score_some(app, demo, judges=2, teams=3):
    with app.app_context():
        event = db.session.get(Event, demo["event"])
        for j in range(judges):
            for t in range(teams):
                submit_score(db.session.get(Judge, demo["judges"][j]), db.session.get(Team, demo["teams"][t]),
                             SheetInput(values={c.id: 5 - t for c in event.criteria}, comment=f"Note {j}{t}"), "test")
        db.session.commit()


def page_rows(page: str) -> list[dict]:
    """The audit page's table rows as {kind, when, who, area, subject, action, details}."""
    rows = []
    for kind, body in re.findall(r'<tr class="audit-(sheet|action)">(.*?)</tr>', page, re.S):
        cells = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split())
                 for c in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]
        rows.append({"kind": kind, "when": cells[0], "who": cells[1], "area": cells[2], "subject": cells[3],
                     "action": cells[4], "details": " ".join(cells[5:])})
    return rows


# --- what is recorded -----------------------------------------------------------------------------

def test_the_demo_seed_is_recorded_as_the_command_line(app, demo):
    rows = actions_since(app, 0)
    assert rows[0] == (demo["event"], "events", "event created", DEMO,
                       {"held on": "2026-12-10", "venue": "Curry Student Center Ballroom", "judges per team": 3,
                        "syllabus rubric": True}, "cli")
    assert [r[2] for r in rows].count("team added") == 12 and [r[2] for r in rows].count("judge added") == 6
    assert rows[-1] == (demo["event"], "scoring", "scoring opened", DEMO, {"from": "draft", "to": "open"}, "cli")


def test_events_and_settings(app, client, admin):
    mark = last_id(app)
    client.post("/admin/events", data={"name": "Spring Expo", "held_on": "2027-04-01", "venue": "Hall B",
                                       "judges_per_team": "3"})
    with app.app_context():
        spring = db.session.execute(db.select(Event).where(Event.name == "Spring Expo")).scalar_one().id
    assert actions_since(app, mark) == [(spring, "events", "event created", "Spring Expo",
                                         {"held on": "2027-04-01", "venue": "Hall B", "judges per team": 3,
                                          "syllabus rubric": True}, ACTOR)]
    mark = last_id(app)
    client.post(f"/admin/events/{spring}/make-current")
    assert actions_since(app, mark) == [(spring, "events", "event made current", "Spring Expo", None, ACTOR)]

    mark = last_id(app)
    client.post(f"/admin/events/{admin['event']}/settings", data={
        "name": DEMO, "held_on": "2026-12-10", "venue": "Hall C", "judges_per_team": "3", "paper_size": "Letter",
        "instructor_name": "Prof. Jordan Rivera", "instructor_title": "Instructor, Graduate MLOps course",
        "grade_scale": "Pass 50\nFail 0"})
    assert actions_since(app, mark) == [(admin["event"], "settings", "event settings edited", DEMO, {
        "venue": {"before": "Curry Student Center Ballroom", "after": "Hall C"},
        "paper": {"before": "A4", "after": "Letter"},
        "letter scale": {"before": "the syllabus scale", "after": "Pass 50, Fail 0"}}, ACTOR)]
    mark = last_id(app)  # saved again unchanged: nothing changed, nothing recorded
    client.post(f"/admin/events/{admin['event']}/settings", data={
        "name": DEMO, "held_on": "2026-12-10", "venue": "Hall C", "judges_per_team": "3", "paper_size": "Letter",
        "instructor_name": "Prof. Jordan Rivera", "instructor_title": "Instructor, Graduate MLOps course",
        "grade_scale": "Pass 50\nFail 0"})
    assert actions_since(app, mark) == []


def test_scoring_state(app, client, admin):
    event = admin["event"]
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/events/{event}/state", data={"state": "closed"})) \
        == ("scoring", "scoring closed", DEMO, {"from": "open", "to": "closed"}, ACTOR)
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/events/{event}/state", data={"state": "open"})) \
        == ("scoring", "scoring reopened", DEMO, {"from": "closed", "to": "open"}, ACTOR)


def test_rubric(app, client, admin):
    form = {"name": "Ethics", "description": "Fair use of data", "weight": "2", "scale_min": "1", "scale_max": "4",
            "descriptors": "1: none\n4: exemplary"}
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/events/{admin['event']}/rubric", data=form)) \
        == ("rubric", "criterion added", "Ethics", {"weight": 2.0, "scale": "1-4"}, ACTOR)
    with app.app_context():
        cid = db.session.execute(db.select(Criterion).where(Criterion.name == "Ethics")).scalar_one().id
    edited = {**form, "weight": "3", "descriptors": "1: none\n3-4: good"}
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/criteria/{cid}/edit", data=edited)) == (
        "rubric", "criterion edited", "Ethics",
        {"weight": {"before": 2.0, "after": 3.0},
         "descriptors": {"before": "1: none\n4: exemplary", "after": "1: none\n3-4: good"}}, ACTOR)
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/criteria/{cid}/delete")) \
        == ("rubric", "criterion deleted", "Ethics", {"weight": 3.0, "scale": "1-4"}, ACTOR)


def test_teams(app, client, admin):
    event = admin["event"]
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/events/{event}/teams", data={
        "name": "New Team", "project": "P", "table_number": "40",
        "members": "Ada Lovelace <ada@x.org>\nAlan Turing, alan@x.org"})) \
        == ("teams", "team added", "New Team", {"table": 40, "project": "P", "members": 2}, ACTOR)
    with app.app_context():
        team_id = db.session.execute(db.select(Team).where(Team.name == "New Team")).scalar_one().id
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/teams/{team_id}/edit", data={
        "name": "Renamed", "project": "P", "table_number": "41", "members": "Ada Lovelace <ada@x.org> S-1"})) == (
        "teams", "team edited", "Renamed",
        {"name": {"before": "New Team", "after": "Renamed"}, "table": {"before": 40, "after": 41},
         "members added": ["Ada Lovelace <ada@x.org> S-1"],
         "members removed": ["Ada Lovelace <ada@x.org>", "Alan Turing <alan@x.org>"]}, ACTOR)
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/teams/{team_id}/delete",
                                                             data={"remove-understood": "y"})) \
        == ("teams", "team deleted", "Renamed", {"table": 41, "project": "P", "members": 1}, ACTOR)

    csv_text = ("team,project,table,member,email\nDrift Busters,New title,1,Zed Zee,zed@x.org\n"
                "Brand New,Fresh,30,Amy Adams,amy@x.org\nBrand New,Fresh,30,Bo Bo,bo@x.org\n")
    assert one_action(app, last_id(app), lambda: upload(client, f"/admin/events/{event}/teams/import", csv_text)) \
        == ("teams", "teams imported", "CSV file", {"added": 1, "updated": 1, "members": 3}, ACTOR)

    drift = admin["teams"][0]
    with app.app_context():
        member = db.session.get(Team, drift).members[0]
        member_id, member_name = member.id, member.name
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/members/{member_id}/presence",
                                                             data={"present": "0"})) \
        == ("teams", "member marked not present", f"Drift Busters: {member_name}", None, ACTOR)
    mark = last_id(app)  # the same wish twice (a double submit) changes nothing the second time
    client.post(f"/admin/members/{member_id}/presence", data={"present": "0"})
    assert actions_since(app, mark) == []
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/teams/{drift}/feedback-link/reissue",
                                                             data={"reissue-understood": "y"})) \
        == ("teams", "feedback link reissued", "Drift Busters", None, ACTOR)
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/teams/{drift}/feedback-link/withdraw",
                                                             data={"off": "1"})) \
        == ("teams", "feedback link withdrawn", "Drift Busters", None, ACTOR)


def test_judges_and_badges(app, client, admin):
    event = admin["event"]
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/events/{event}/judges", data={
        "name": "Nia Long", "email": "NIA@x.org", "affiliation": "Acme"})) \
        == ("judges", "judge added", "Nia Long", {"email": "nia@x.org", "affiliation": "Acme"}, ACTOR)
    with app.app_context():
        nia = db.session.execute(db.select(Judge).where(Judge.email == "nia@x.org")).scalar_one().id
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/judges/{nia}/edit", data={
        "name": "Nia Long", "email": "nia@x.org", "affiliation": "Globex"})) \
        == ("judges", "judge edited", "Nia Long", {"affiliation": {"before": "Acme", "after": "Globex"}}, ACTOR)
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/judges/{nia}/reissue",
                                                             data={"reissue-understood": "y"})) \
        == ("badges", "badge reissued", "Nia Long", None, ACTOR)
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/judges/{nia}/withdraw",
                                                             data={"withdraw-understood": "y"})) \
        == ("badges", "badge withdrawn", "Nia Long", None, ACTOR)
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/judges/{nia}/withdraw")) \
        == ("badges", "badge restored", "Nia Long", None, ACTOR)
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/judges/{nia}/availability")) \
        == ("judges", "judge marked away", "Nia Long", None, ACTOR)
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/judges/{nia}/delete",
                                                             data={"remove-understood": "y"})) \
        == ("judges", "judge deleted", "Nia Long", {"email": "nia@x.org"}, ACTOR)
    text = "name,email,affiliation\nNew Judge,new@x.org,Acme\nGrace Hopper,grace.hopper@judges.example.com,Navy\n"
    assert one_action(app, last_id(app), lambda: upload(client, f"/admin/events/{event}/judges/import", text)) \
        == ("judges", "judges imported", "CSV file", {"added": 1, "updated": 1}, ACTOR)


def test_awards(app, client, admin):
    score_some(app, admin, judges=3, teams=4)
    event = admin["event"]
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/events/{event}/award-categories",
                                                             data={"name": "4th place", "basis": "place", "place": "4"})) \
        == ("awards", "award category added", "4th place", {"place": 4}, ACTOR)
    with app.app_context():
        cats = {c.name: c.id for c in db.session.execute(
            db.select(AwardCategory).where(AwardCategory.event_id == event)).scalars()}
    second, canary = cats["2nd place"], admin["teams"][3]
    assert one_action(app, last_id(app), lambda: client.post(
        f"/admin/award-categories/{second}/decide",
        data={f"c{second}-team": canary, f"c{second}-reason": "Best live demo"})) \
        == ("awards", "award decided", "2nd place",
            {"team": "Canary Crew", "followed suggestion": False, "reason": "Best live demo"}, ACTOR)
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/award-categories/{second}/clear")) \
        == ("awards", "award cleared", "2nd place", {"was": "Canary Crew"}, ACTOR)
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/award-categories/{cats['4th place']}/delete")) \
        == ("awards", "award category removed", "4th place", {"place": 4}, ACTOR)
    area, action, subject, details, actor = one_action(app, last_id(app),
                                                       lambda: client.post(f"/admin/events/{event}/awards/accept"))
    assert (area, action, subject, actor) == ("awards", "suggestions accepted", DEMO, ACTOR)
    assert details["decided"] == 7 and details["awards"]["1st place"] == "Drift Busters"
    assert details["awards"]["2nd place"] == "Pipeline Pilots"


def test_feedback_release_and_comments(app, client, admin):
    score_some(app, admin, judges=1, teams=1)
    event = admin["event"]
    client.post(f"/admin/events/{event}/state", data={"state": "closed"})
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/events/{event}/feedback/release",
                                                             data={"understood": "y"})) \
        == ("releases", "feedback released", DEMO, {"judges named": False}, ACTOR)
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/events/{event}/feedback/withdraw")) \
        == ("releases", "feedback withdrawn", DEMO, None, ACTOR)
    with app.app_context():
        score = db.session.execute(db.select(Score)).scalar_one()
        score_id, judge = score.id, score.judge.name
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/scores/{score_id}/hide-comment",
                                                             data={"reason": "Personal remark"})) \
        == ("releases", "comment hidden", f"{judge}'s comment to Drift Busters", {"reason": "Personal remark"}, ACTOR)
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/scores/{score_id}/restore-comment")) \
        == ("releases", "comment restored", f"{judge}'s comment to Drift Busters",
            {"hidden because": "Personal remark"}, ACTOR)


def test_certificates(app, client, admin):
    from expo_app.documents.batches import build_batch

    with app.app_context():
        build_batch(db.session.get(Event, admin["event"]), "participation")  # issues them
        db.session.commit()
        first = db.session.execute(db.select(Certificate).order_by(Certificate.id)).scalars().first()
        certificate_id, subject = first.id, f"{first.recipient} ({first.team_name}), participation"
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/certificates/{certificate_id}/revoke",
                                                             data={"reason": "Wrong team"})) \
        == ("certificates", "certificate revoked", subject, {"reason": "Wrong team", "issue": 1}, ACTOR)
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/certificates/{certificate_id}/replace")) \
        == ("certificates", "certificate replaced", subject, {"issue": {"before": 1, "after": 2}}, ACTOR)


def test_assignments(app, client, admin):
    event = admin["event"]
    area, action, subject, details, actor = one_action(app, last_id(app), lambda: client.post(
        f"/admin/events/{event}/assignments/plan", data={"mode": "new", "per_team": "2", "seed": "5"}))
    with app.app_context():
        from expo_app.models import Assignment

        visits = db.session.execute(db.select(db.func.count(Assignment.id))).scalar()
    assert (area, action, subject, details, actor) == (
        "assignments", "plan made", DEMO, {"judges per team": 2, "seed": 5, "visits": visits}, ACTOR)
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/events/{event}/routing", data={"live": "y"})) \
        == ("assignments", "live routing switched on", DEMO, None, ACTOR)
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/events/{event}/layout",
                                                             data={"tables_per_row": "4"})) \
        == ("assignments", "layout changed", DEMO, {"tables per row": {"before": None, "after": 4}}, ACTOR)
    judge_name, = names(app, Judge, admin["judges"][:1])
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/events/{event}/conflicts", data={
        "judge_id": admin["judges"][0], "team_id": admin["teams"][0]})) \
        == ("assignments", "conflict marked", f"{judge_name} and Drift Busters", None, ACTOR)
    with app.app_context():
        conflict = db.session.execute(db.select(JudgeConflict)).scalar_one().id
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/conflicts/{conflict}/delete")) \
        == ("assignments", "conflict removed", f"{judge_name} and Drift Busters", None, ACTOR)
    assert one_action(app, last_id(app), lambda: client.post(f"/admin/teams/{admin['teams'][1]}/bring-back")) \
        == ("assignments", "team brought back", "Pipeline Pilots", {"absent marks cleared": 0}, ACTOR)
    with app.app_context():
        email = db.session.get(Judge, admin["judges"][1]).email
    assert one_action(app, last_id(app), lambda: upload(client, f"/admin/events/{event}/assignments/import",
                                                        f"judge,team,order\n{email},2,1\n{email},3,2\n")) \
        == ("assignments", "plan imported", "CSV file", {"visits": 2, "judges": 1}, ACTOR)
    assert one_action(app, last_id(app), lambda: upload(client, f"/admin/events/{event}/layout/import",
                                                        "table,x,y\n1,0,0\n2,3.5,0\n", field="layout-file")) \
        == ("assignments", "table positions imported", "CSV file", {"tables": 2}, ACTOR)


def test_the_command_line_is_recorded_as_cli(app, demo, runner, tmp_path):
    path = tmp_path / "judges.csv"
    path.write_text("name,email,affiliation\nCli Judge,cli@x.org,\n", encoding="utf-8")
    mark = last_id(app)
    assert runner.invoke(args=["import-judges", str(path)]).exit_code == 0
    assert actions_since(app, mark) == [(demo["event"], "judges", "judges imported", "CSV file",
                                         {"added": 1, "updated": 0}, "cli")]


def test_awards_finalised_from_the_operations(app, demo):
    from expo_app.admin.operations import change_scoring_state
    from expo_app.results.operations import accept_suggestions, finalise_awards
    from expo_app.results.queries import award_suggestions

    score_some(app, demo, judges=3, teams=4)
    with app.app_context():
        event = db.session.get(Event, demo["event"])
        change_scoring_state(event, "closed")
        change_scoring_state(event, "locked")
        accept_suggestions(event, award_suggestions(event), "cli")
        db.session.flush()
        mark = db.session.execute(db.select(db.func.max(AdminAction.id))).scalar()
        finalise_awards(event, "cli", award_suggestions(event))
        db.session.commit()
    (_, area, action, subject, details, actor), = actions_since(app, mark)
    assert (area, action, subject, actor) == ("awards", "awards finalised", DEMO, "cli")
    assert len(details["awards"]) == 7 and details["awards"]["1st place"] == "Drift Busters"


def test_details_are_short_and_json_safe(app, client, admin):
    long_project = "x" * 300
    client.post(f"/admin/events/{admin['event']}/teams", data={"name": "Long", "project": long_project,
                                                               "table_number": "50"})
    long_description = "d" * 1500
    mark = last_id(app)
    client.post(f"/admin/events/{admin['event']}/rubric", data={
        "name": "Depth", "description": long_description, "weight": "1", "scale_min": "1", "scale_max": "5"})
    with app.app_context():
        cid = db.session.execute(db.select(Criterion).where(Criterion.name == "Depth")).scalar_one().id
    client.post(f"/admin/criteria/{cid}/edit", data={"name": "Depth", "description": "short", "weight": "1",
                                                      "scale_min": "1", "scale_max": "5"})
    (*_, details, _actor) = actions_since(app, mark)[-1]
    before = details["description"]["before"]
    assert len(before) == 500 and before.endswith("…") and details["description"]["after"] == "short"


# --- refused operations record nothing -------------------------------------------------------------

def test_a_refused_operation_records_nothing(app, client, auth, admin):
    auth.judge(admin["judges"][0])
    client.post(f"/t/{team_code(app, admin['teams'][0])}", data=full_sheet(app, admin["event"]))
    auth.admin()
    event, cid = admin["event"], admin["criteria"][0]
    with app.app_context():
        score_id = db.session.execute(db.select(Score.id)).scalar_one()
    mark = last_id(app)
    client.post(f"/admin/teams/{admin['teams'][0]}/delete", data={"remove-understood": "y"})  # has a score sheet
    client.post(f"/admin/judges/{admin['judges'][0]}/delete", data={"remove-understood": "y"})  # has submitted one
    client.post(f"/admin/criteria/{cid}/delete")  # has scores
    client.post(f"/admin/criteria/{cid}/edit", data={"name": "X", "weight": "1", "scale_min": "0", "scale_max": "9"})
    client.post(f"/admin/events/{event}/teams", data={"name": "Pipeline Pilots", "table_number": "77"})  # name taken
    client.post(f"/admin/events/{event}/feedback/release", data={"understood": "y"})  # scoring still open
    client.post(f"/admin/events/{event}/award-categories", data={"name": "1st place", "basis": "place", "place": "1"})
    client.post(f"/admin/scores/{score_id}/hide-comment", data={"reason": ""})
    upload(client, f"/admin/events/{event}/teams/import", "team,project,table,member,email\nGood,ok,50,,\nClash,ok,3,,\n")
    upload(client, f"/admin/events/{event}/assignments/import", "judge,team,order\nnobody@x.org,1,1\n")
    assert actions_since(app, mark) == []
    with app.app_context():
        assert db.session.get(Team, admin["teams"][0]) is not None
        assert db.session.execute(db.select(Team).where(Team.name == "Good")).scalar_one_or_none() is None


# --- the audit page --------------------------------------------------------------------------------

def audit(client, event_id, **query):
    response = client.get(f"/admin/events/{event_id}/audit", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_page_shows_sheets_and_actions_newest_first_with_a_filter(app, client, auth, admin):
    event = admin["event"]
    client.post(f"/admin/events/{event}/teams", data={"name": "Alpha", "table_number": "60"})
    auth.judge(admin["judges"][0])
    client.post(f"/t/{team_code(app, admin['teams'][0])}", data=full_sheet(app, event, 4))
    auth.admin()
    client.post(f"/admin/judges/{admin['judges'][1]}/reissue", data={"reissue-understood": "y"})
    judge0, judge1 = names(app, Judge, admin["judges"][:2])

    everything = page_rows(audit(client, event))
    assert [(r["kind"], r["action"]) for r in everything[:3]] == [
        ("action", "badge reissued"), ("sheet", "created"), ("action", "team added")]
    assert everything[0]["who"] == ACTOR and everything[0]["subject"] == judge1 and everything[0]["area"] == "Badges"
    assert everything[1]["who"] == f"judge {admin['judges'][0]}: {judge0}" and everything[1]["subject"] == "Drift Busters"
    assert everything[2]["details"] == "table: 60 project: (empty) members: 0"
    assert len(everything) == 3 + 20  # and the 20 entries of the demo's seeding (by "cli"), oldest last
    assert everything[-1]["action"] == "event created" and everything[-1]["who"] == "cli"

    sheets = page_rows(audit(client, event, kind="sheets"))
    assert [(r["kind"], r["action"], r["subject"]) for r in sheets] == [("sheet", "created", "Drift Busters")]
    teams = page_rows(audit(client, event, kind="teams"))
    assert {(r["kind"], r["area"]) for r in teams} == {("action", "Teams")} and len(teams) == 13
    assert teams[0]["subject"] == "Alpha"
    mine = page_rows(audit(client, event, kind="actions", actor=ADMIN_EMAIL.upper()))  # any case
    assert [(r["action"], r["who"]) for r in mine] == [("badge reissued", ACTOR), ("team added", ACTOR)]
    by_judge = page_rows(audit(client, event, actor=judge0.split()[0].lower()))
    assert [(r["kind"], r["who"]) for r in by_judge] == [("sheet", f"judge {admin['judges'][0]}: {judge0}")]
    page = audit(client, event, kind="rubric", actor="nobody")
    assert page_rows(page) == [] and "Nothing in the audit log matches this filter." in page
    # The form shows the filter in force, and an unknown kind is everything.
    page = audit(client, event, kind="badges", actor="organiser")
    assert '<option value="badges" selected>' in page and 'name="actor" value="organiser"' in page
    assert len(page_rows(audit(client, event, kind="bogus"))) == len(everything)
    # Another event's entries never show.
    client.post("/admin/events", data={"name": "Other", "judges_per_team": "3"})
    assert len(page_rows(audit(client, event))) == len(everything)


def test_a_hidden_comment_is_listed_once_among_everything(app, client, auth, admin):
    event = admin["event"]
    auth.judge(admin["judges"][0])
    client.post(f"/t/{team_code(app, admin['teams'][0])}", data=full_sheet(app, event, 4))
    auth.admin()
    with app.app_context():
        score_id = db.session.execute(db.select(Score)).scalar_one().id
    client.post(f"/admin/scores/{score_id}/hide-comment", data={"reason": "Personal remark"})
    client.post(f"/admin/scores/{score_id}/restore-comment")
    everything = page_rows(audit(client, event))
    assert [(r["kind"], r["action"]) for r in everything[:3]] == [
        ("action", "comment restored"), ("action", "comment hidden"), ("sheet", "created")]
    # The sheet's own history keeps both, with before and after.
    sheets = page_rows(audit(client, event, kind="sheets"))
    assert [r["action"] for r in sheets] == ["comment restored", "comment hidden", "created"]


def test_the_filter_carries_over_to_newer_and_older(app, client, admin, monkeypatch):
    monkeypatch.setattr("expo_app.admin.views.AUDIT_PAGE", 5)
    event = admin["event"]
    first = audit(client, event, kind="teams", actor="CLI")
    rows = page_rows(first)
    assert len(rows) == 5 and {r["action"] for r in rows} == {"team added"}
    older = html.unescape(re.search(r'<a href="([^"]+)">Older', first).group(1))
    assert "kind=teams" in older and "actor=CLI" in older and "page=2" in older and "Newer" not in first
    second_page = client.get(older).get_data(as_text=True)
    assert [r["subject"] for r in page_rows(second_page)] == names(app, Team, admin["teams"][6:1:-1])
    newer = html.unescape(re.search(r'<a href="([^"]+)">&larr; Newer', second_page).group(1))
    assert "kind=teams" in newer and "actor=CLI" in newer
    assert page_rows(client.get(newer).get_data(as_text=True)) == rows
    # Page one is the newest: the teams were added in table order, so the last ones come first.
    assert [r["subject"] for r in rows] == names(app, Team, admin["teams"][11:6:-1])


def test_html_in_names_and_the_filter_is_escaped(app, client, admin):
    name = '<img src=x onerror="alert(1)">'
    client.post(f"/admin/events/{admin['event']}/teams", data={
        "name": name, "project": "<b>bold</b>", "table_number": "70", "members": "<i>Eve</i> <eve@x.org>"})
    with app.app_context():
        team_id = db.session.execute(db.select(Team).where(Team.table_number == 70)).scalar_one().id
    client.post(f"/admin/teams/{team_id}/edit", data={"name": name, "project": "<script>x()</script>",
                                                      "table_number": "70", "members": ""})
    page = audit(client, admin["event"], actor='"><script>alert(2)</script>')
    assert "<img src=x" not in page and "<script>" not in page and "<b>bold" not in page
    page = audit(client, admin["event"])
    assert "<img src=x" not in page and "<script>x()" not in page and "<b>bold" not in page and "<i>Eve" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page and "&lt;i&gt;Eve&lt;/i&gt;" in page
    rows = page_rows(page)
    assert rows[0]["subject"] == name and rows[0]["action"] == "team edited"


def test_the_event_file_carries_the_organisers_actions(app, client, admin):
    from expo_app.portability import export_event

    client.post(f"/admin/judges/{admin['judges'][0]}/reissue", data={"reissue-understood": "y"})
    with app.app_context():
        data = export_event(db.session.get(Event, admin["event"]))
        judge = db.session.get(Judge, admin["judges"][0]).name
        count = db.session.execute(db.select(db.func.count(AdminAction.id))
                                   .where(AdminAction.event_id == admin["event"])).scalar()
    assert len(data["admin_actions"]) == count
    last = data["admin_actions"][-1]
    assert {k: v for k, v in last.items() if k != "at"} == {
        "actor": ACTOR, "area": "badges", "action": "badge reissued", "subject": judge, "details": None}
    assert data["admin_actions"][0]["action"] == "event created"


def test_score_audit_entries_still_show_before_and_after(app, client, auth, admin):
    url = f"/t/{team_code(app, admin['teams'][0])}"
    auth.judge(admin["judges"][0])
    client.post(url, data=full_sheet(app, admin["event"], 5))
    client.post(url, data=full_sheet(app, admin["event"], 3))
    auth.admin()
    rows = page_rows(audit(client, admin["event"], kind="sheets"))
    assert [r["action"] for r in rows] == ["updated", "created"]
    assert "Technical completeness and correctness: 5" in rows[0]["details"]
    assert "Technical completeness and correctness: 3" in rows[0]["details"]
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(ScoreAudit.id))).scalar() == 2
        assert db.session.execute(db.select(db.func.count(TeamMember.id))).scalar() > 0
