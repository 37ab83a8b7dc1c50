import io

import pytest

from expo_app.extensions import db
from expo_app.models import AdminUser, Criterion, Event, Judge, Team, TeamMember
from tests.conftest import ADMIN_EMAIL, full_sheet, team_code


@pytest.fixture
def admin(demo, auth):
    auth.admin()
    return demo


def flashes(client, url):
    return client.get(url).get_data(as_text=True)


def test_login_with_wrong_password_gives_one_generic_message(client, demo):
    for email, password in [(ADMIN_EMAIL, "wrong password"), ("nobody@example.org", "whatever123")]:
        page = client.post("/admin/login", data={"email": email, "password": password}).get_data(as_text=True)
        assert "That e-mail and password do not match an organiser account." in page
    assert client.get("/admin/events").status_code == 302


@pytest.mark.parametrize("next_url, landing", [
    ("/admin/events", "/admin/events"),
    ("https://evil.example.com/", "/admin/"),
    ("//evil.example.com/", "/admin/"),
])
def test_login_follows_only_local_next(client, demo, next_url, landing):
    from tests.conftest import ADMIN_PASSWORD

    response = client.post("/admin/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "next": next_url})
    assert response.headers["Location"] == landing


def test_admin_index_goes_to_current_event(client, admin):
    assert client.get("/admin/").headers["Location"] == f"/admin/events/{admin['event']}"
    page = client.get(f"/admin/events/{admin['event']}").get_data(as_text=True)
    assert "<strong>12</strong> teams" in page and "<strong>6</strong> judges" in page


def test_create_event_gets_syllabus_rubric_and_can_become_current(app, client, admin):
    response = client.post("/admin/events", data={"name": "Spring 2027 Expo", "held_on": "2027-04-20",
                                                   "venue": "Hall B", "judges_per_team": "4"})
    with app.app_context():
        event = db.session.execute(db.select(Event).where(Event.name == "Spring 2027 Expo")).scalar_one()
        assert response.headers["Location"] == f"/admin/events/{event.id}"
        assert [c.name for c in event.criteria] == [
            "Technical completeness and correctness", "System scalability, observability and reproducibility",
            "Team collaboration and presentation clarity", "Innovation and relevance of the ML solution"]
        assert (event.scoring_state, event.is_current, event.judges_per_team) == ("draft", False, 4)
        new_id = event.id
    client.post(f"/admin/events/{new_id}/make-current")
    with app.app_context():
        assert [e.id for e in db.session.query(Event).filter_by(is_current=True)] == [new_id]


@pytest.mark.parametrize("path, state, allowed", [
    ("open", "closed", True), ("open", "draft", False), ("open", "locked", True),
])
def test_scoring_state_transitions(app, client, admin, path, state, allowed):
    page = client.post(f"/admin/events/{admin['event']}/state", data={"state": state, "confirm_lock": "y"},
                       follow_redirects=True)
    with app.app_context():
        assert db.session.get(Event, admin["event"]).scoring_state == (state if allowed else path)
    text = page.get_data(as_text=True)
    assert (f"Scoring is now {state}." in text) if allowed else (f"Scoring cannot go from open to {state}." in text)


def test_lock_is_final(app, client, admin):
    for state in ("closed", "locked", "open"):
        client.post(f"/admin/events/{admin['event']}/state", data={"state": state, "confirm_lock": "y"})
    with app.app_context():
        assert db.session.get(Event, admin["event"]).scoring_state == "locked"


def test_edit_criterion_weight_scale_and_descriptors(app, client, admin):
    cid = admin["criteria"][0]
    form = {"name": "Technical depth", "description": "How deep", "weight": "2.5", "scale_min": "0",
            "scale_max": "10", "descriptors": "0-3: weak\n4-7: fair\n8-10: strong"}
    assert client.post(f"/admin/criteria/{cid}/edit", data=form).status_code == 302
    with app.app_context():
        c = db.session.get(Criterion, cid)
        assert (c.name, c.weight, c.scale_min, c.scale_max, c.bands) == (
            "Technical depth", 2.5, 0, 10, [(0, 3, "weak"), (4, 7, "fair"), (8, 10, "strong")])
    page = client.get(f"/admin/criteria/{cid}/edit").get_data(as_text=True)
    assert "0-3: weak\n4-7: fair\n8-10: strong" in page


def test_bad_descriptors_are_refused_and_nothing_changes(app, client, admin):
    cid = admin["criteria"][0]
    form = {"name": "X", "weight": "1", "scale_min": "1", "scale_max": "5", "descriptors": "9: too high"}
    page = client.post(f"/admin/criteria/{cid}/edit", data=form).get_data(as_text=True)
    assert "Level descriptors: Line 1: 9 is outside the scale 1–5." in page
    with app.app_context():
        assert db.session.get(Criterion, cid).name == "Technical completeness and correctness"


def test_rubric_scale_is_frozen_once_scores_exist(app, client, auth, admin):
    auth.judge(admin["judges"][0])
    client.post(f"/t/{team_code(app, admin['teams'][0])}", data=full_sheet(app, admin["event"]))
    auth.admin()
    cid = admin["criteria"][0]
    page = client.post(f"/admin/criteria/{cid}/edit", data={
        "name": "T", "weight": "1", "scale_min": "1", "scale_max": "10", "descriptors": ""}).get_data(as_text=True)
    assert "Scores already exist, so this criterion&#39;s scale cannot change." in page
    page = client.post(f"/admin/events/{admin['event']}/rubric", data={
        "name": "New", "weight": "1", "scale_min": "1", "scale_max": "5"}).get_data(as_text=True)
    assert "Scores already exist, so the rubric cannot gain a criterion" in page
    page = client.post(f"/admin/criteria/{cid}/delete", follow_redirects=True).get_data(as_text=True)
    assert "has 1 scores and cannot be removed." in page
    with app.app_context():
        assert len(db.session.get(Event, admin["event"]).criteria) == 4


def test_add_edit_and_remove_team(app, client, admin):
    page = client.post(f"/admin/events/{admin['event']}/teams", data={
        "name": "New Team", "project": "P", "table_number": "40",
        "members": "Ada Lovelace <ADA@x.org>\nAlan Turing, alan@x.org"}, follow_redirects=True).get_data(as_text=True)
    assert "New Team added at table 40." in page
    with app.app_context():
        team = db.session.execute(db.select(Team).where(Team.name == "New Team")).scalar_one()
        assert [(m.name, m.email) for m in team.members] == [("Ada Lovelace", "ada@x.org"), ("Alan Turing", "alan@x.org")]
        team_id, code = team.id, team.code
    page = client.post(f"/admin/teams/{team_id}/edit", data={
        "name": "New Team", "project": "P2", "table_number": "1", "members": ""}).get_data(as_text=True)
    assert "Table 1 is already Drift Busters&#39;s." in page
    client.post(f"/admin/teams/{team_id}/edit", data={"name": "Renamed", "project": "P2", "table_number": "41",
                                                      "members": "Ada Lovelace <ada@x.org>"})
    with app.app_context():
        team = db.session.get(Team, team_id)
        assert (team.name, team.table_number, team.code, len(team.members)) == ("Renamed", 41, code, 1)
    client.post(f"/admin/teams/{team_id}/delete", data={"remove-understood": "y"})
    with app.app_context():
        assert db.session.get(Team, team_id) is None and db.session.query(TeamMember).filter_by(team_id=team_id).count() == 0


def test_team_with_scores_cannot_be_removed(app, client, auth, admin):
    auth.judge(admin["judges"][0])
    client.post(f"/t/{team_code(app, admin['teams'][0])}", data=full_sheet(app, admin["event"]))
    auth.admin()
    page = client.post(f"/admin/teams/{admin['teams'][0]}/delete", data={"remove-understood": "y"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Drift Busters has 1 score sheets, so it cannot be removed." in page
    with app.app_context():
        assert db.session.get(Team, admin["teams"][0]) is not None


def upload(client, url, text):
    return client.post(url, data={"file": (io.BytesIO(text.encode()), "file.csv")},
                       content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)


def test_import_teams_adds_and_updates(app, client, admin):
    csv_text = ("team,project,table,member,email\n"
                "Drift Busters,New title,1,Zed Zee,zed@x.org\n"
                "Brand New,Fresh,30,Amy Adams,amy@x.org\n"
                "Brand New,Fresh,30,Bo Bo,bo@x.org\n")
    page = upload(client, f"/admin/events/{admin['event']}/teams/import", csv_text)
    assert "Imported teams: 1 added, 1 updated." in page
    with app.app_context():
        drift = db.session.get(Team, admin["teams"][0])
        assert drift.project == "New title" and "zed@x.org" in [m.email for m in drift.members]
        new = db.session.execute(db.select(Team).where(Team.name == "Brand New")).scalar_one()
        assert (new.table_number, [m.email for m in new.members]) == (30, ["amy@x.org", "bo@x.org"])
    page = upload(client, f"/admin/events/{admin['event']}/teams/import", csv_text)
    assert "Imported teams: 0 added, 2 updated." in page  # idempotent
    with app.app_context():
        assert db.session.query(Team).count() == 13


def test_import_teams_can_swap_tables(app, client, admin):
    upload(client, f"/admin/events/{admin['event']}/teams/import",
           "team,project,table,member,email\nDrift Busters,p,2,,\nPipeline Pilots,p,1,,\n")
    with app.app_context():
        assert [db.session.get(Team, i).table_number for i in admin["teams"][:2]] == [2, 1]


def test_bad_import_changes_nothing_and_names_lines(app, client, admin):
    csv_text = ("team,project,table,member,email\n"
                "Good Team,ok,50,A A,a@x.org\n"
                "Bad Team,ok,x,B B,b@x.org\n"
                "Clash,ok,3,C C,c@x.org\n")
    page = upload(client, f"/admin/events/{admin['event']}/teams/import", csv_text)
    assert "Nothing was imported" in page
    assert "Line 3: table &#39;x&#39; is not a whole number from 1 to 100000." in page
    page = upload(client, f"/admin/events/{admin['event']}/teams/import",
                  "team,project,table,member,email\nGood Team,ok,50,,\nClash,ok,3,,\n")
    assert "Line 3: table 3 already belongs to Feature Forge." in page
    with app.app_context():
        assert db.session.query(Team).count() == 12
        assert db.session.execute(db.select(Team).where(Team.name == "Good Team")).scalar_one_or_none() is None


def test_a_semicolon_file_with_companies_is_imported_as_the_team_form_would_store_it(app, client, admin, runner,
                                                                                     tmp_path):
    url = f"/admin/events/{admin['event']}/teams/import"
    text = ("team;project;table;member;email;companies\r\n"
            "Drift Busters;Drift, in real time;1;Zed Zee;zed@x.org;Google Cloud | Stripe\r\n"
            "Brand New;Fresh;30;Amy Adams;amy@x.org;\"Acme; Initech\"\r\n"
            "Brand New;Fresh;30;Bo Bo;bo@x.org;\r\n")
    assert "Imported teams: 1 added, 1 updated." in upload(client, url, text)
    with app.app_context():
        drift = db.session.get(Team, admin["teams"][0])
        new = db.session.execute(db.select(Team).where(Team.name == "Brand New")).scalar_one()
        assert (drift.project, drift.companies) == ("Drift, in real time", "Google Cloud; Stripe")
        assert (new.table_number, new.companies, [m.email for m in new.members]) == (
            30, "Acme; Initech", ["amy@x.org", "bo@x.org"])
        new_id = new.id
    # The edit form shows them as it would have saved them.
    assert 'value="Acme; Initech"' in client.get(f"/admin/teams/{new_id}/edit").get_data(as_text=True)
    # A file without the column (or with empty cells) leaves a team's companies as they are.
    upload(client, url, "team,project,table\nBrand New,Fresh,30\n")
    # A bad row anywhere: nothing changes, and the row is named.
    page = upload(client, url, "team;table;companies\nBrand New;30;Umbrella\nOther;x;\n")
    assert "Nothing was imported" in page and "Line 3: table &#39;x&#39; is not a whole number" in page
    with app.app_context():
        assert db.session.execute(db.select(Team.companies).where(Team.name == "Brand New")).scalar_one() == \
            "Acme; Initech"
    # The same from the command line.
    path = tmp_path / "teams.csv"
    path.write_text("team\ttable\tcompanies\nBrand New\t30\tUmbrella|Acme\n", encoding="utf-8")
    result = runner.invoke(args=["import-teams", str(path)])
    assert result.exit_code == 0 and "0 added, 1 updated" in result.output
    path.write_text("Team name;Table\nX;1\n", encoding="utf-8")
    result = runner.invoke(args=["import-teams", str(path)])
    assert result.exit_code == 1 and "Save the file as CSV (UTF-8) with commas" in result.output
    assert "missing" not in result.output
    with app.app_context():
        assert db.session.execute(db.select(Team.companies).where(Team.name == "Brand New")).scalar_one() == \
            "Umbrella; Acme"


def test_the_teams_template_lists_the_optional_columns_and_reads_back(client, admin):
    text = client.get("/admin/teams-template.csv").get_data(as_text=True)
    assert text.splitlines()[0] == "team,project,table,member,email,student_id,present,companies"
    assert text.splitlines()[1].endswith(",yes,Stripe; Google Cloud")


def _listed(page: str, prefix: str) -> list[str]:
    """The names linked in a list page's table (team or judge edit links), in order."""
    import re

    return re.findall(rf'<a href="/admin/{prefix}/\d+/edit">([^<]+)</a>', page)


def test_the_teams_list_is_searched_by_name_project_table_member_and_company(app, client, admin):
    url = f"/admin/events/{admin['event']}/teams"
    with app.app_context():
        team = db.session.get(Team, admin["teams"][2])
        team.companies = "Stripe; Google Cloud"
        member = db.session.get(Team, admin["teams"][5]).members[0]
        db.session.commit()
        member_email, member_team = member.email, member.team.name
    page = client.get(url).get_data(as_text=True)
    assert len(_listed(page, "teams")) == 12 and 'role="status"' not in page
    assert 'type="search" id="q" name="q" value=""' in page
    for query, names in [("drift", ["Drift Busters"]), ("  VERTEX  ai ", ["Pipeline Pilots"]),
                         ("7", ["Airflow Architects"]), ("google cloud", ["Feature Forge"]),
                         (member_email.upper(), [member_team])]:
        page = client.get(url, query_string={"q": query}).get_data(as_text=True)
        assert _listed(page, "teams") == names, query
        shown = " ".join(query.split())
        assert f"<strong>{len(names)} of 12</strong> teams match “{shown}”." in page
        assert f'value="{shown}"' in page  # the query stays in the box (and in the URL: a GET form)
        assert f'<a href="{url}">Show all</a>' in page
    page = client.get(url, query_string={"q": "zebra"}).get_data(as_text=True)
    assert _listed(page, "teams") == [] and "<strong>0 of 12</strong> teams match “zebra”." in page
    assert f'No team matches “zebra”. Check the spelling, search for part of a name, or\n    <a href="{url}">show all 12 teams</a>.' in page
    # What made a team match is on the page: its companies are listed under its name.
    page = client.get(url, query_string={"q": "stripe"}).get_data(as_text=True)
    assert "Feature Forge</a><br><span class=\"small\">Works with Stripe; Google Cloud</span>" in page


def test_the_judges_list_is_searched_by_name_email_and_affiliation(client, admin):
    url = f"/admin/events/{admin['event']}/judges"
    assert len(_listed(client.get(url).get_data(as_text=True), "judges")) == 6
    for query, names in [("google", ["Grace Hopper", "Katherine Johnson"]), ("ALAN.KAY@", ["Alan Kay"]),
                         ("faculty", ["Edsger Dijkstra", "Frances Allen"])]:
        page = client.get(url, query_string={"q": query}).get_data(as_text=True)
        assert _listed(page, "judges") == names, query
        assert f"<strong>{len(names)} of 6</strong> judges match “{query}”." in page
    page = client.get(url, query_string={"q": "<script>"}).get_data(as_text=True)
    assert "<strong>0 of 6</strong> judges match “&lt;script&gt;”." in page and "No judge matches" in page


def test_import_judges(app, client, admin):
    page = upload(client, f"/admin/events/{admin['event']}/judges/import",
                  "name,email,affiliation\nNew Judge,NEW@x.org,Acme\nGrace Hopper,grace.hopper@judges.example.com,Navy\n")
    assert "Imported judges: 1 added, 1 updated." in page
    with app.app_context():
        assert db.session.execute(db.select(Judge).where(Judge.email == "new@x.org")).scalar_one().affiliation == "Acme"
        assert db.session.query(Judge).count() == 7
    page = upload(client, f"/admin/events/{admin['event']}/judges/import", "name,email\nX,bad\n")
    assert "Line 2: &#39;bad&#39; is not an e-mail address." in page


def test_upload_without_file_says_so(client, admin):
    page = client.post(f"/admin/events/{admin['event']}/teams/import", data={}, follow_redirects=True)
    assert "Choose a CSV file." in page.get_data(as_text=True)


def test_judge_management(app, client, admin):
    client.post(f"/admin/events/{admin['event']}/judges", data={"name": "Nia", "email": "nia@x.org"})
    page = client.post(f"/admin/events/{admin['event']}/judges",
                       data={"name": "Nia 2", "email": "NIA@x.org"}).get_data(as_text=True)
    assert "Nia already uses nia@x.org." in page
    with app.app_context():
        nia = db.session.execute(db.select(Judge).where(Judge.email == "nia@x.org")).scalar_one()
        nia_id, nia_uid = nia.id, nia.uid  # the badge names the judge's uid, never the row id
    page = client.get(f"/admin/judges/{nia_id}/edit").get_data(as_text=True)
    assert f"https://expo.example.org/j/{nia_uid}-1-" in page
    client.post(f"/admin/judges/{nia_id}/reissue", data={"reissue-understood": "y"})
    assert f"https://expo.example.org/j/{nia_uid}-2-" in client.get(f"/admin/judges/{nia_id}/edit").get_data(as_text=True)
    client.post(f"/admin/judges/{nia_id}/withdraw", data={"withdraw-understood": "y"})
    assert client.get(f"/admin/judges/{nia_id}/qr.svg").status_code == 404
    client.post(f"/admin/judges/{nia_id}/delete", data={"remove-understood": "y"})
    with app.app_context():
        assert db.session.get(Judge, nia_id) is None


def test_qr_codes_are_svg_of_the_printed_url(app, client, admin):
    response = client.get(f"/admin/teams/{admin['teams'][0]}/qr.svg")
    assert response.mimetype == "image/svg+xml" and response.data.startswith(b"<?xml")
    assert b"<path" in response.data
    assert client.get(f"/admin/judges/{admin['judges'][0]}/qr.svg").mimetype == "image/svg+xml"


def test_score_tables_and_audit_log(app, client, auth, admin):
    url = f"/t/{team_code(app, admin['teams'][0])}"
    auth.judge(admin["judges"][0])
    client.post(url, data=full_sheet(app, admin["event"], 5, comment="Nice <b>work</b>", private_note="sure"))
    client.post(url, data=full_sheet(app, admin["event"], 3, comment="Nice <b>work</b>"))
    auth.admin()
    page = client.get(f"/admin/events/{admin['event']}/scores").get_data(as_text=True)
    assert "Table 1 · Drift Busters" in page and "mean total of counted sheets 50.0" in page and "(rev. 2)" in page
    assert "Nice &lt;b&gt;work&lt;/b&gt;" in page
    by_judge = client.get(f"/admin/events/{admin['event']}/scores?by=judge").get_data(as_text=True)
    with app.app_context():
        name = db.session.get(Judge, admin["judges"][0]).name
    assert f"<h3>{name} (" in by_judge
    audit = client.get(f"/admin/events/{admin['event']}/audit").get_data(as_text=True)
    assert audit.count("<td>updated</td>") == 1 and audit.count("<td>created</td>") == 1
    assert f"judge {admin['judges'][0]}: {name}" in audit
    assert "Technical completeness and correctness: 5" in audit and "Technical completeness and correctness: 3" in audit


def test_csv_downloads(app, client, auth, admin):
    auth.judge(admin["judges"][0])
    client.post(f"/t/{team_code(app, admin['teams'][0])}", data=full_sheet(app, admin["event"], 4))
    auth.admin()
    scores = client.get(f"/admin/events/{admin['event']}/scores.csv")
    assert scores.mimetype == "text/csv"
    lines = scores.get_data(as_text=True).splitlines()
    assert lines[0] == "judge,team,criterion,score,absent,updated_at" and len(lines) == 5
    assert lines[1].startswith("Alan Kay,Drift Busters,Technical completeness and correctness,4,false,")
    links = client.get(f"/admin/events/{admin['event']}/team-links.csv").get_data(as_text=True).splitlines()
    assert links[0] == "team,table,qr_url,feedback_url"
    assert links[1].startswith(f"Drift Busters,1,https://expo.example.org{'/t/' + team_code(app, admin['teams'][0])},"
                               "https://expo.example.org/f/")
    judges = client.get(f"/admin/events/{admin['event']}/judge-links.csv").get_data(as_text=True).splitlines()
    assert judges[0] == "judge,email,url" and len(judges) == 7
    template = client.get("/admin/teams-template.csv").get_data(as_text=True)
    assert template.startswith("team,project,table,member,email")


def test_csv_cells_cannot_inject_formulas(app, client, admin):
    with app.app_context():
        db.session.get(Team, admin["teams"][0]).name = "=HYPERLINK(\"http://x\")"
        db.session.commit()
    text = client.get(f"/admin/events/{admin['event']}/team-links.csv").get_data(as_text=True)
    assert "\n\"'=HYPERLINK(\"\"http://x\"\")\",1," in text


def test_admin_passwords_are_hashed(app, admin):
    with app.app_context():
        admin_user = db.session.execute(db.select(AdminUser).where(AdminUser.email == ADMIN_EMAIL)).scalar_one()
        assert "correct horse" not in admin_user.password_hash


@pytest.mark.parametrize("next_url", ["/%09/evil.example.com", "/\t/evil.example.com", "/\n/x", "/\\evil.example.com",
                                      "javascript:alert(1)", "http:/evil"])
@pytest.mark.any_database
def test_login_refuses_next_urls_that_browsers_turn_into_other_hosts(client, demo, next_url):
    from urllib.parse import unquote

    from tests.conftest import ADMIN_PASSWORD

    response = client.post("/admin/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD,
                                                 "next": unquote(next_url)})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"


def test_judge_qr_is_never_cached_and_its_url_carries_the_badge_version(app, client, admin):
    judge_id = admin["judges"][0]
    response = client.get(f"/admin/judges/{judge_id}/qr.svg")
    assert response.headers["Cache-Control"] == "no-store"
    assert f"/admin/judges/{judge_id}/qr.svg?v=1" in client.get(f"/admin/judges/{judge_id}/edit").get_data(as_text=True)
    client.post(f"/admin/judges/{judge_id}/reissue", data={"reissue-understood": "y"})
    assert f"/admin/judges/{judge_id}/qr.svg?v=2" in client.get(f"/admin/judges/{judge_id}/edit").get_data(as_text=True)


def test_team_holding_an_award_cannot_be_removed(app, client, admin):
    from expo_app.models import Award, AwardCategory

    with app.app_context():
        category = db.session.execute(db.select(AwardCategory).where(AwardCategory.place == 1)).scalar_one()
        db.session.add(Award(category=category, team_id=admin["teams"][5], reason="by hand", followed_suggestion=False))
        db.session.commit()
    page = client.post(f"/admin/teams/{admin['teams'][5]}/delete", data={"remove-understood": "y"},
                       follow_redirects=True).get_data(as_text=True)
    assert "holds 1 award: undo the decision first." in page
    with app.app_context():
        assert db.session.get(Team, admin["teams"][5]) is not None


def test_audit_page_number_is_clamped(client, admin):
    assert client.get(f"/admin/events/{admin['event']}/audit?page=100000000000000000").status_code == 200


def test_member_lines_that_do_not_fit_are_refused(app, client, admin):
    page = client.post(f"/admin/events/{admin['event']}/teams", data={
        "name": "Long", "project": "", "table_number": "60", "members": "M" * 121 + " <m@x.org>"}).get_data(as_text=True)
    assert "Member line 1: names have at most 120 characters, e-mails at most 254, student ids at most 64." in page
    with app.app_context():
        assert db.session.execute(db.select(Team).where(Team.name == "Long")).scalar_one_or_none() is None


def test_locked_scoring_freezes_the_rubric(app, client, admin):
    for state in ("closed", "locked"):
        client.post(f"/admin/events/{admin['event']}/state", data={"state": state, "confirm_lock": "y"})
    cid = admin["criteria"][0]
    page = client.post(f"/admin/criteria/{cid}/edit", data={"name": "X", "weight": "9", "scale_min": "1",
                                                             "scale_max": "5"}).get_data(as_text=True)
    assert "Scoring is locked, so the rubric can no longer change." in page
    with app.app_context():
        assert db.session.get(Criterion, cid).weight == 1.0


def test_password_reset_signs_out_other_browsers(app, client, admin):
    from expo_app.auth.operations import create_or_reset_admin

    assert client.get("/admin/events").status_code == 200
    with app.app_context():
        create_or_reset_admin(ADMIN_EMAIL, "a brand new password")
        db.session.commit()
    assert client.get("/admin/events").status_code == 302


def test_locking_needs_a_ticked_confirmation(app, client, admin):
    client.post(f"/admin/events/{admin['event']}/state", data={"state": "closed"})
    page = client.post(f"/admin/events/{admin['event']}/state", data={"state": "locked"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Tick the box to lock: locked scores can never change again." in page
    with app.app_context():
        assert db.session.get(Event, admin["event"]).scoring_state == "closed"
