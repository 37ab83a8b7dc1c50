"""The grade export through the web and the CLI, members' presence and student ids."""
from __future__ import annotations

import csv
import io

import pytest

from expo_app.admin.operations import change_scoring_state, import_teams
from expo_app.admin.csv_import import parse_teams_csv
from expo_app.extensions import db
from expo_app.judging.operations import SheetInput, submit_score
from expo_app.models import Event, Judge, RankingSnapshot, Team, TeamMember
from expo_app.results.operations import accept_suggestions, finalise_awards
from expo_app.results.queries import award_suggestions
from expo_app.scoring.grades import expo_percent, letter_for
from tests.conftest import issue_and_get

HEADER = ["student", "email", "student_id", "team", "expo_score", "expo_percent", "letter", "rank", "awards",
          "present", "review"]


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def scored(app, demo, auth):
    """Judges 0-3 scored teams 0-3 (team i gets 5-i everywhere); teams 4-11 have no scores."""
    with app.app_context():
        event = db.session.get(Event, demo["event"])
        for j in range(4):
            judge = db.session.get(Judge, demo["judges"][j])
            for t in range(4):
                team = db.session.get(Team, demo["teams"][t])
                submit_score(judge, team, SheetInput(values={c.id: 5 - t for c in event.criteria}), "test")
        # Team 5 was marked absent by two judges.
        for j in range(2):
            submit_score(db.session.get(Judge, demo["judges"][j]), db.session.get(Team, demo["teams"][4]),
                         SheetInput(values={}, absent=True), "test")
        db.session.commit()
    auth.admin()
    return demo


@pytest.fixture
def finalised(app, scored):
    with app.app_context():
        event = db.session.get(Event, scored["event"])
        change_scoring_state(event, "closed")
        change_scoring_state(event, "locked")
        accept_suggestions(event, award_suggestions(event), "admin: test")
        db.session.flush()
        finalise_awards(event, "admin: test", award_suggestions(event))
        db.session.commit()
    return scored


def test_grades_wait_for_the_final_awards_unless_a_draft_is_asked_for(app, client, scored, runner):
    url = f"/admin/events/{scored['event']}/grades.csv"
    page = client.get(url, follow_redirects=True).get_data(as_text=True)
    assert "Grades come from the final awards." in page and "export a draft" in page
    result = runner.invoke(args=["export-grades"])
    assert result.exit_code == 1 and "--draft" in result.output
    draft = client.get(url + "?draft=1")
    assert 'filename="mlops-innovation-expo-demo-grades-csv-DRAFT.csv"' in draft.headers["Content-Disposition"]
    rows = _rows(draft.get_data(as_text=True))
    assert rows[0] == HEADER and all(row[10].startswith("DRAFT: the awards are not final") for row in rows[1:])
    assert runner.invoke(args=["export-grades", "--draft"]).stdout.splitlines()[0] == ",".join(HEADER)


def test_the_csv_has_a_row_per_member_with_the_snapshot_grade(app, client, finalised, runner):
    text = client.get(f"/admin/events/{finalised['event']}/grades.csv").get_data(as_text=True)
    assert text.replace("\r\n", "\n") == runner.invoke(args=["export-grades"]).stdout.replace("\r\n", "\n")
    rows = _rows(text)
    assert rows[0] == HEADER
    with app.app_context():
        event = db.session.get(Event, finalised["event"])
        members = [(m, t) for t in event.teams for m in t.members]
        snapshot = db.session.execute(db.select(RankingSnapshot)).scalar_one().data
        by_team = {t["team_id"]: t for t in snapshot["teams"]}
        awards = {}
        for award in snapshot["awards"]:
            awards.setdefault(award["team"], []).append(award["category"])
        assert len(rows) == 1 + len(members)
        for row, (member, team) in zip(rows[1:], members):
            assert row[:4] == [member.name, member.email, member.student_id, team.name]
            assert row[9] == "yes"
            if team.id in by_team:
                result = by_team[team.id]
                percent = expo_percent(result["score"])
                assert (float(row[4]), float(row[5]), row[6], int(row[7])) == (
                    round(result["score"], 2), percent, letter_for(percent), result["rank"])
                assert row[8] == "; ".join(awards.get(team.name, []))
                assert "of 3 judges" not in row[10]  # four judges each: the event wants 3
            elif team.id == finalised["teams"][4]:
                assert row[4:7] == ["", "", ""] and row[10] == "team has no result (marked absent by 2 judges): no Expo grade"
            else:
                assert row[4:7] == ["", "", ""] and row[10] == "team has no result (no scores): no Expo grade"


def test_a_member_marked_not_present_gets_no_grade_and_no_certificate(app, client, finalised):
    with app.app_context():
        member = db.session.get(Team, finalised["teams"][0]).members[0]
        member_id, name = member.id, member.name
    page = client.post(f"/admin/members/{member_id}/presence", follow_redirects=True).get_data(as_text=True)
    assert f"{name} is marked not present" in page and "not present</span>" in page
    row = next(r for r in _rows(client.get(f"/admin/events/{finalised['event']}/grades.csv").get_data(as_text=True))
               if r[0] == name)
    assert row[4:7] == ["", "", ""] and row[9] == "no" and row[10] == "not present at the expo: no Expo grade"
    from tests.pdfs import pdf_pages

    pages = pdf_pages(issue_and_get(client, f"/admin/events/{finalised['event']}/print/participation.pdf").data)
    assert len(pages) == 34 and not any(name in page for page in pages)
    client.post(f"/admin/members/{member_id}/presence")
    with app.app_context():
        assert db.session.get(TeamMember, member_id).present is True


def test_canvas_and_moodle_files(app, client, finalised):
    with app.app_context():
        member = db.session.get(Team, finalised["teams"][0]).members[0]
        member.student_id = "001234567"
        db.session.commit()
        first, last = member.name.rsplit(" ", 1)
        email = member.email
    url = f"/admin/events/{finalised['event']}/grades.csv"
    canvas = _rows(client.get(url + "?format=canvas&assignment=Expo 2026").get_data(as_text=True))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Expo 2026"]
    assert canvas[1] == ["Points Possible", "", "", "", "", "100"]
    assert canvas[2][:5] == [f"{last}, {first}", "", "001234567", email, ""] and float(canvas[2][5]) > 0
    moodle = _rows(client.get(url + "?format=moodle").get_data(as_text=True))
    assert moodle[0] == ["email", "MLOps Innovation Expo (demo)"] and moodle[1][0] == email  # the event's name
    with app.app_context():
        members = sum(len(t.members) for t in db.session.get(Event, finalised["event"]).teams)
    assert len(canvas) == 2 + members and len(moodle) == 1 + members
    empty = [row for row in moodle[1:] if row[1] == ""]
    assert len(empty) == members - sum(1 for row in moodle[1:] if row[1])  # no silent zeros


def test_every_export_neutralises_formulas(app, client, finalised, runner):
    with app.app_context():
        team = db.session.get(Team, finalised["teams"][0])
        team.members[0].name = "=HYPERLINK(\"http://evil\")"
        team.members[0].student_id = "+1234"
        team.name = "@SUM(A1)"
        db.session.commit()
    url = f"/admin/events/{finalised['event']}/grades.csv"
    for fmt in ("csv", "canvas", "moodle"):
        text = client.get(f"{url}?format={fmt}&assignment=-2%2B3").get_data(as_text=True)
        for row in _rows(text):
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")) and not cell.startswith("-2"), (fmt, cell)
    text = client.get(url).get_data(as_text=True)
    assert "'=HYPERLINK" in text and "'+1234" in text and "'@SUM(A1)" in text


def test_the_letter_scale_is_edited_per_event_and_refused_when_wrong(app, client, finalised):
    url = f"/admin/events/{finalised['event']}/settings"
    base = {"name": "MLOps Innovation Expo (demo)", "judges_per_team": 3, "paper_size": "A4"}
    page = client.get(url).get_data(as_text=True)
    assert "A 94\nA- 88\nB+ 82" in page
    page = client.post(url, data={**base, "grade_scale": "Pass 50\nFail 10"}).get_data(as_text=True)
    assert "The last letter (Fail) must start at 0" in page
    client.post(url, data={**base, "grade_scale": "Pass 0.5\nFail 0"})
    with app.app_context():
        assert db.session.get(Event, finalised["event"]).grade_scale == [["Pass", 0.5], ["Fail", 0.0]]
    rows = _rows(client.get(f"/admin/events/{finalised['event']}/grades.csv").get_data(as_text=True))
    assert {row[6] for row in rows[1:]} <= {"Pass", "Fail", ""} and "Pass" in {row[6] for row in rows[1:]}
    awards = client.get(f"/admin/events/{finalised['event']}/awards").get_data(as_text=True)
    assert "Pass ≥ 0.5, Fail ≥ 0" in awards


def test_import_reads_optional_student_id_and_present_columns(app, demo):
    data = ("team,project,table,member,email,student_id,present\n"
            "Drift Busters,Real-time data drift detection for a card-fraud model,1,New Person,new@x.edu,S-1,no\n"
            "Team X,Project X,40,Xi Chen,xi@x.edu,,\n")
    with app.app_context():
        event = db.session.get(Event, demo["event"])
        import_teams(event, parse_teams_csv(data))
        db.session.commit()
        new = db.session.execute(db.select(TeamMember).where(TeamMember.email == "new@x.edu")).scalar_one()
        xi = db.session.execute(db.select(TeamMember).where(TeamMember.email == "xi@x.edu")).scalar_one()
        assert (new.student_id, new.present, xi.student_id, xi.present) == ("S-1", False, "", True)
        # A later import without those columns leaves them as they are.
        import_teams(event, parse_teams_csv("team,table,member,email\nDrift Busters,1,New Person,new@x.edu\n"))
        db.session.commit()
        db.session.refresh(new)
        assert (new.student_id, new.present) == ("S-1", False)
    from expo_app.admin.csv_import import CsvImportError

    with pytest.raises(CsvImportError) as caught:
        parse_teams_csv("team,table,member,email,present\nA,1,Ann,ann@x.edu,maybe\nB,2,,,yes\n")
    assert caught.value.errors == ["Line 2: present 'maybe' is not yes or no.",
                                   "Line 3: student_id and present describe a member: give the member and e-mail too."]


def test_the_team_form_keeps_student_ids_after_the_email(app, client, demo, auth):
    auth.admin()
    team_id = demo["teams"][0]
    with app.app_context():
        team = db.session.get(Team, team_id)
        lines = [f"{m.name} <{m.email}>" for m in team.members]
        data = {"name": team.name, "project": team.project, "table_number": team.table_number}
    lines[0] += " 001234567"
    client.post(f"/admin/teams/{team_id}/edit", data={**data, "members": "\n".join(lines)})
    with app.app_context():
        assert db.session.get(Team, team_id).members[0].student_id == "001234567"
        assert db.session.get(Team, team_id).members[1].student_id == ""
    page = client.get(f"/admin/teams/{team_id}/edit").get_data(as_text=True)
    assert "&gt; 001234567" in page


def test_every_csv_export_in_the_app_neutralises_formulas(app, client, finalised, runner):
    """Scores, ranking, team and judge links, grades: text that a spreadsheet would run gets a quote;
    numbers stay numbers (a negative one is not mangled)."""
    hostile = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR"]
    with app.app_context():
        event = db.session.get(Event, finalised["event"])
        for team, text in zip(event.teams, hostile):
            team.name = text + f" team {team.table_number}"
        for judge, text in zip(event.judges, hostile):
            judge.name = text + f" judge {judge.id}"
        event.teams[0].members[0].name = "=HYPERLINK(\"http://x\")"
        db.session.commit()
    event_url = f"/admin/events/{finalised['event']}"
    exports = {
        "scores": client.get(f"{event_url}/scores.csv").get_data(as_text=True),
        "ranking": client.get(f"{event_url}/ranking.csv").get_data(as_text=True),
        "team links": client.get(f"{event_url}/team-links.csv").get_data(as_text=True),
        "judge links": client.get(f"{event_url}/judge-links.csv").get_data(as_text=True),
        "grades": client.get(f"{event_url}/grades.csv").get_data(as_text=True),
        "canvas": client.get(f"{event_url}/grades.csv?format=canvas").get_data(as_text=True),
        "moodle": client.get(f"{event_url}/grades.csv?format=moodle").get_data(as_text=True),
    }
    for name, text in exports.items():
        cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
        assert cells, name
        for cell in cells:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), (name, cell)
            if cell.startswith("-"):
                float(cell)  # only a number may start with a minus
    assert "'-2+3 team 3" in exports["team links"] and "'=HYPERLINK" in exports["grades"]
    from expo_app.scoring.csvio import to_csv

    assert to_csv(("n",), [(-3.5,), ("-3.5",)]) == "n\r\n-3.5\r\n'-3.5\r\n"


def test_export_grades_writes_to_out(app, finalised, runner, tmp_path):
    result = runner.invoke(args=["export-grades", "--format", "moodle", "--out", str(tmp_path / "g.csv")])
    assert result.exit_code == 0 and (tmp_path / "g.csv").read_text(encoding="utf-8").startswith("email,")


def test_file_names_carry_the_event_and_the_format(app, client, finalised, runner):
    url = f"/admin/events/{finalised['event']}/grades.csv"
    names = {fmt: client.get(url, query_string={"format": fmt}).headers["Content-Disposition"]
             for fmt in ("csv", "excel-csv", "canvas", "moodle")}
    assert names == {fmt: f'attachment; filename="mlops-innovation-expo-demo-grades-{fmt}.csv"'
                     for fmt in ("csv", "excel-csv", "canvas", "moodle")}
    with app.app_context():
        db.session.get(Event, finalised["event"]).name = "Expo d'hiver 2026: Zürich"
        db.session.commit()
    response = client.get(url, query_string={"format": "canvas"})
    assert response.headers["Content-Disposition"] == 'attachment; filename="expo-d-hiver-2026-zurich-grades-canvas.csv"'
    # The gradebook column is named after the event unless the organiser names it.
    assert _rows(response.get_data(as_text=True))[0][5] == "Expo d'hiver 2026: Zürich"
    assert _rows(client.get(url, query_string={"format": "moodle", "assignment": "  Expo  grade "})
                 .get_data(as_text=True))[0] == ["email", "Expo grade"]
    assert _rows(runner.invoke(args=["export-grades", "--format", "moodle"]).stdout)[0] == \
        ["email", "Expo d'hiver 2026: Zürich"]
    page = client.get(f"/admin/events/{finalised['event']}/awards").get_data(as_text=True)
    assert 'name="assignment" value="Expo d&#39;hiver 2026: Zürich"' in page
    assert '<option value="excel-csv">CSV for Excel' in page
    # The options are short enough to read in the closed box (the long CSV one was cut off at 1280 px);
    # the hint names the CSV's columns, from the list the export writes.
    assert '<option value="csv">CSV, one row per student</option>' in page
    assert ", ".join(f"<code>{column}</code>" for column in HEADER) + ";" in page


def test_the_csv_for_excel_is_the_csv_with_a_utf8_byte_order_mark(app, client, finalised, runner, tmp_path):
    with app.app_context():
        db.session.get(Team, finalised["teams"][0]).members[0].name = "Zoë Ångström-Núñez"
        db.session.commit()
    url = f"/admin/events/{finalised['event']}/grades.csv"
    plain = client.get(url).data
    excel = client.get(url, query_string={"format": "excel-csv"}).data
    assert excel[:3] == b"\xef\xbb\xbf" and plain[:3] == b"stu" and excel[3:] == plain
    assert "Zoë Ångström-Núñez".encode() in excel  # UTF-8 after the mark, which is how Excel knows
    out = tmp_path / "grades.csv"
    assert runner.invoke(args=["export-grades", "--format", "excel-csv", "--out", str(out)]).exit_code == 0
    assert out.read_bytes() == excel
    draft = runner.invoke(args=["export-grades", "--format", "excel-csv", "--draft"])
    assert draft.stdout.startswith("\ufeffstudent,email,")
