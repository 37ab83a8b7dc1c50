"""The whole expo day as one piece, in real browsers, on PostgreSQL and then SQLite (issue 17).

An organiser on a laptop creates a new event next to the demo, sets it up, imports teams and judges
from CSV files, plans who visits whom and prints badges and placards. Four judges sign in on phones
from the links printed on their badges and score by following "Next"; one marks a team absent, one
declares a conflict, one meets a known conflict (their company works with the team) and cannot score
it. The organiser watches the dashboard, locks scoring, finalises the awards, issues and prints the
certificates (a phone verifies one), releases the feedback with one comment redacted (the team's
phone reads the redacted text), exports the grades three ways, and moves the event to a database of
the other kind, where the paper printed before the move still names the same people.

Each step asserts on what the person sees and on the data, and leaves a full-page screenshot in
/tmp/e2e-shots/day-<database>/. CSRF protection is on, as in production. The live server is this
module's own (not conftest's demo server), with the demo seeded beside the new event.
"""
from __future__ import annotations

import csv
import io
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Expect

from expo_app.results.grades import CSV_COLUMNS
from expo_app.scoring.grades import letter_for
from tests.conftest import PG_URL, REQUIRE_PG
from tests.e2e.conftest import DEMO_ADMIN, PHONE, SHOTS
from tests.e2e.phone_helpers import choose, rubric
from tests.e2e.test_accessibility import _serious as serious_violations
from tests.pdfs import pdf_pages

pytestmark = pytest.mark.browser

# This module's own expect(): every assertion waits for what the person sees, up to 15 s on a busy
# machine (rendering PDFs beside four phones), and returns as soon as it shows. Other modules keep 5 s.
expect = Expect()
expect.set_options(timeout=15_000)

LAPTOP = {"viewport": {"width": 1280, "height": 900}}
EVENT = "Spring Capstone Expo 2027"
SLUG = "spring-capstone-expo-2027"
SCHEMA = "whole_day"  # the PostgreSQL schema of the live server; the move goes to SCHEMA + "_moved"

# Six teams of two; Canary Crew works with Globex, and Alan Turing is with Globex.
TEAMS_CSV = """team,project,table,member,email,student_id,companies
Feature Forge,A feature store for rural clinics,1,Ines Duarte,ines@students.example.edu,S-101,
Feature Forge,A feature store for rural clinics,1,Omar Haddad,omar@students.example.edu,S-102,
Canary Crew,Canary releases for a fraud model,2,Mei Lin,mei@students.example.edu,S-103,Globex; Initech
Canary Crew,Canary releases for a fraud model,2,Tariq Aziz,tariq@students.example.edu,S-104,Globex; Initech
Pipeline Pilots,Reproducible training on Kubeflow,3,Sofia Rossi,sofia@students.example.edu,S-105,
Pipeline Pilots,Reproducible training on Kubeflow,3,Jonas Berg,jonas@students.example.edu,S-106,
Model Menders,Drift alerts that page a human,4,Aiko Tanaka,aiko@students.example.edu,S-107,
Model Menders,Drift alerts that page a human,4,Liam Byrne,liam@students.example.edu,S-108,
Latency Llamas,Sub-50 ms serving on Cloud Run,5,Zara Khan,zara@students.example.edu,S-109,
Latency Llamas,Sub-50 ms serving on Cloud Run,5,Hugo Petit,hugo@students.example.edu,S-110,
Shadow Deployers,Shadow traffic for a recommender,6,Nia Okafor,nia@students.example.edu,S-111,
Shadow Deployers,Shadow traffic for a recommender,6,Pedro Alves,pedro@students.example.edu,S-112,
"""
JUDGES_CSV = """name,email,affiliation
Grace Hopper,grace@acme.example,Acme Cloud
Alan Turing,alan@globex.example,Globex
Barbara Liskov,barbara@uni.example,State University
Ken Thompson,ken@bell.example,Bell Labs
"""
TEAM_NAMES = ["Feature Forge", "Canary Crew", "Pipeline Pilots", "Model Menders", "Latency Llamas", "Shadow Deployers"]
JUDGES = ["Grace Hopper", "Alan Turing", "Barbara Liskov", "Ken Thompson"]
STUDENTS = 12
# What the judges pick: each team has a level it deserves, each judge is a little harsh or lenient, and
# no team is even across the four criteria (1-5 scale), so the ranking has something to find.
QUALITY = {"Feature Forge": 4, "Canary Crew": 3, "Pipeline Pilots": 5, "Model Menders": 2, "Latency Llamas": 4,
           "Shadow Deployers": 3}
LENIENCY = {"Grace Hopper": 0, "Alan Turing": -1, "Barbara Liskov": 1, "Ken Thompson": 0}
UNEVEN = (0, -1, 0, 1)


def picks_of(judge: str, team: str) -> list[int]:
    shift = TEAM_NAMES.index(team)
    return [min(5, max(1, QUALITY[team] + LENIENCY[judge] + UNEVEN[(c + shift) % 4])) for c in range(4)]


RUDE = "Great demo. Tell Omar his slides were unreadable."  # Ken's, for Feature Forge: redacted later
REDACTED = "Great demo. The slides were hard to read."


def comment_of(judge: str, team: str) -> str:
    if (judge, team) == ("Ken Thompson", "Feature Forge"):
        return RUDE
    return f"{team}: solid work, {judge.split()[0]} says."


# ------------------------------------------------------------------------------------- the server


@dataclass
class Day:
    """One database's expo day: the served app, where it writes, and what the steps learnt so far."""

    app: object
    base_url: str
    database: str  # "sqlite" or "postgresql"
    tmp: Path
    shots: Path
    event_id: int = 0
    badges: dict = field(default_factory=dict)  # judge name -> sign-in URL read off the badge PDF
    timings: list = field(default_factory=list)

    def read(self, fn):
        """Run fn(db.session) in a short app context; return plain data only."""
        from expo_app.extensions import db

        with self.app.app_context():
            try:
                return fn(db.session)
            finally:
                db.session.rollback()

    def shot(self, page, name: str) -> None:
        page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)


def _require_postgres(reason: str):
    if REQUIRE_PG:
        pytest.fail(f"{reason} (EXPO_REQUIRE_POSTGRES=1, so the PostgreSQL day must run)", pytrace=False)
    pytest.skip(reason)


def _schema_url(schema: str) -> str:
    return PG_URL + ("&" if "?" in PG_URL else "?") + f"options=-csearch_path%3D{schema}"


def _fresh_schema(schema: str) -> str:
    """An empty PostgreSQL schema of our own in TEST_DATABASE_URL's database, and a URL that uses it."""
    engine = sa.create_engine(PG_URL)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()
    return _schema_url(schema)


def _drop_schema(schema: str) -> None:
    engine = sa.create_engine(PG_URL)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


def _postgres_reachable() -> str | None:
    """None when TEST_DATABASE_URL answers, else why not."""
    if not PG_URL:
        return "the PostgreSQL day needs TEST_DATABASE_URL (CI sets it)"
    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect():
            return None
    except sa.exc.OperationalError as exc:
        return f"PostgreSQL at TEST_DATABASE_URL is unreachable: {exc}"
    finally:
        engine.dispose()


@contextmanager
def serving(app, name: str):
    """Serve the app on 127.0.0.1 on a free port, in a thread, for as long as the block runs; its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


# The day runs once, on PostgreSQL when the run has it (as CI does: production's database, where a hall
# of phones scores at once), and moves to SQLite (`make run`'s database), whose pages then serve the
# paper printed before the move. Without PostgreSQL it runs on SQLite and moves to a second SQLite file.
# Every step's operations are also tested on both databases in tests/integration.
DAY_DATABASE = "postgresql" if PG_URL or REQUIRE_PG else "sqlite"


@pytest.fixture(scope="module", params=[DAY_DATABASE])
def day(request, tmp_path_factory):
    """The app on one database (CSRF on), the demo seeded beside it, served on a free port."""
    from expo_app import create_app
    from expo_app.demo import seed_demo_event
    from expo_app.extensions import db

    database = request.param
    if database == "postgresql":
        problem = _postgres_reachable()
        if problem:
            _require_postgres(problem)
    tmp = tmp_path_factory.mktemp(f"day-{database}")
    url = f"sqlite:///{tmp / 'expo.sqlite'}" if database == "sqlite" else _fresh_schema(SCHEMA)
    shots = SHOTS / f"day-{database}"
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EXPO_INSTANCE_PATH", str(tmp / "instance"))
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": True,
                          "PUBLIC_BASE_URL": "http://127.0.0.1:1"})  # the real port is known below
    with app.app_context():
        db.create_all()
        seed_demo_event(*DEMO_ADMIN, with_scores=False)
        db.session.commit()
    try:
        with serving(app, f"day-{database}") as base_url:
            app.config["PUBLIC_BASE_URL"] = base_url  # printed links and QR codes reach this server
            yield Day(app, base_url, database, tmp, shots)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if database == "postgresql":
            _drop_schema(SCHEMA)


@pytest.fixture
def laptop(chromium, day):
    context = chromium.new_context(**LAPTOP, base_url=day.base_url, accept_downloads=True)
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def phones(chromium, day):
    """phones(name): a new phone (its own browser context) for one person, closed at the end."""
    contexts = []

    def new_phone(_who: str):
        context = chromium.new_context(**PHONE, base_url=day.base_url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield new_phone
    for context in contexts:
        context.close()


# ------------------------------------------------------------------------------------- helpers


def download(page, click) -> tuple[str, bytes]:
    """Click something that downloads a file; the file's suggested name and its bytes."""
    with page.expect_download() as info:
        click()
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


def flash(page):
    return page.locator(".flash")


def csv_rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


# ------------------------------------------------------------------------------------- the steps


def step_1_create_and_set_up(day, page):
    page.goto("/admin/login")
    page.get_by_label("E-mail").fill(DEMO_ADMIN[0])
    page.get_by_label("Password").fill(DEMO_ADMIN[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".event-head h1")).to_have_text("MLOps Innovation Expo (demo)")  # the current event

    page.get_by_role("navigation", name="Organiser").get_by_role("link", name="Events").click()
    expect(page.get_by_role("heading", name="Events", level=1)).to_be_visible()
    page.get_by_label("Event name").fill(EVENT)
    page.get_by_role("button", name="Create event").click()
    expect(flash(page)).to_have_text(f"{EVENT} created with the syllabus rubric. Edit it under Rubric.")
    expect(page.locator(".event-head h1")).to_have_text(EVENT)
    day.event_id = int(re.search(r"/admin/events/(\d+)$", page.url).group(1))

    page.get_by_role("link", name="Edit event").click()
    page.get_by_label("Date").fill("2027-05-14")
    page.get_by_label("Venue").fill("Engineering Hall, Level 2")
    page.get_by_label("Judges wanted per team").fill("2")
    page.get_by_label("Certificates signed by").fill("Dr. Ada Lovelace")
    page.get_by_label("Signer's title").fill("Course instructor, MLOps")
    page.get_by_role("button", name="Save event").click()
    expect(page.locator(".card", has_text="At a glance")).to_contain_text(
        "2027-05-14 · Engineering Hall, Level 2 · 2 judges wanted per team")
    expect(page.locator(".event-head .eyebrow")).to_have_text("Event · scoring draft")
    day.shot(page, "01-event-set-up")

    def facts(s):
        from expo_app.models import Event

        e = s.get(Event, day.event_id)
        return (str(e.held_on), e.venue, e.judges_per_team, e.instructor_name, e.instructor_title, e.scoring_state,
                e.is_current, len(e.criteria), len(e.award_categories))

    assert day.read(facts) == ("2027-05-14", "Engineering Hall, Level 2", 2, "Dr. Ada Lovelace",
                               "Course instructor, MLOps", "draft", False, 4, 7)


def step_2_import(day, page):
    page.get_by_role("navigation", name="Event").get_by_role("link", name="Teams").click()
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "teams.csv", "mimeType": "text/csv", "buffer": TEAMS_CSV.encode()}])
    page.get_by_role("button", name="Import teams").click()
    expect(flash(page)).to_have_text("Imported teams: 6 added, 0 updated.")
    expect(page.get_by_role("heading", name="Teams (6)")).to_be_visible()
    canary = page.locator("tr", has_text="Canary Crew")
    expect(canary).to_contain_text("Works with Globex; Initech")
    expect(canary).to_contain_text("Mei Lin, Tariq Aziz")
    day.shot(page, "02-teams-imported")

    page.get_by_role("navigation", name="Event").get_by_role("link", name="Judges").click()
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "judges.csv", "mimeType": "text/csv", "buffer": JUDGES_CSV.encode()}])
    page.get_by_role("button", name="Import judges").click()
    expect(flash(page)).to_have_text("Imported judges: 4 added, 0 updated.")
    expect(page.get_by_role("heading", name="Judges (4)")).to_be_visible()
    expect(page.locator("tr", has_text="Alan Turing")).to_contain_text("Globex")
    day.shot(page, "03-judges-imported")

    def facts(s):
        from expo_app.models import Event

        e = s.get(Event, day.event_id)
        teams = [(t.table_number, t.name, t.companies, [(m.name, m.student_id) for m in t.members]) for t in e.teams]
        return teams, sorted((j.name, j.email, j.affiliation) for j in e.judges)

    teams, judges = day.read(facts)
    assert [t[1] for t in teams] == TEAM_NAMES and [t[0] for t in teams] == [1, 2, 3, 4, 5, 6]
    assert teams[1][2] == "Globex; Initech" and teams[1][3] == [("Mei Lin", "S-103"), ("Tariq Aziz", "S-104")]
    assert sum(len(t[3]) for t in teams) == STUDENTS
    assert judges[0] == ("Alan Turing", "alan@globex.example", "Globex") and len(judges) == 4


def step_3_plan(day, page):
    page.get_by_role("navigation", name="Event").get_by_role("link", name="Assignments").click()
    expect(page.get_by_text("No plan yet")).to_be_visible()
    conflicts = page.locator("section", has=page.get_by_role("heading", name="Conflicts of interest"))
    expect(conflicts).to_contain_text("Alan Turing (Globex) — table 2, Canary Crew")
    # Barbara supervised Latency Llamas' thesis: the organisers mark the pair.
    conflicts.get_by_label("Judge").select_option(label="Barbara Liskov")
    conflicts.get_by_label("Team").select_option(label="Table 5: Latency Llamas")
    conflicts.get_by_role("button", name="Mark as a conflict").click()
    expect(conflicts).to_contain_text("Barbara Liskov — table 5, Latency Llamas")

    page.get_by_label("Judges per team (k)").fill("2")
    page.get_by_role("button", name="Make the plan").click()
    figures = page.locator("section", has=page.get_by_role("heading", name="The plan in force"))

    def figure(term):
        return figures.locator("dl.figures > div").filter(has=page.locator("dt", has_text=term)).locator("dd")

    expect(figure("Judges per team")).to_have_text("2 (wanted 2)")
    expect(figure("Teams per judge")).to_have_text("3")
    expect(figure("Connectivity")).not_to_contain_text("separate parts")
    day.shot(page, "04-assignment-plan")

    def plan(s):
        from expo_app.models import Assignment, Judge, Team

        rows = s.execute(sa.select(Judge.name, Team.name).select_from(Assignment)
                         .join(Judge, Assignment.judge_id == Judge.id).join(Team, Assignment.team_id == Team.id)
                         .where(Judge.event_id == day.event_id).order_by(Judge.name, Assignment.position)).all()
        lists = {}
        for judge, team in rows:
            lists.setdefault(judge, []).append(team)
        return lists

    lists = day.read(plan)
    assert sorted(lists) == sorted(JUDGES) and all(len(teams) == 3 for teams in lists.values())
    assert "Canary Crew" not in lists["Alan Turing"] and "Latency Llamas" not in lists["Barbara Liskov"]
    for team in TEAM_NAMES:
        assert sum(team in teams for teams in lists.values()) == 2
    return lists


def step_4_print(day, page):
    page.get_by_role("navigation", name="Event").get_by_role("link", name="Printing").click()
    expect(page.get_by_role("heading", name="Printing", level=2)).to_be_visible()
    badges, placards = page.locator("section#badges"), page.locator("section#placards")
    expect(badges).to_contain_text("4 badges, 1 page.")
    expect(placards).to_contain_text("6 placards, 6 pages.")
    day.shot(page, "05-printing")

    name, pdf = download(page, lambda: badges.get_by_role("link", name="Download PDF").click())
    assert name == f"{SLUG}-badges.pdf"
    (sheet,) = pdf_pages(pdf)  # four 90 x 80 mm badges on one sheet
    # Under each QR code, the sign-in URL to type by hand (http:// kept: a browser would add https://).
    typed = re.findall(r"EXPO 2027 (.+?) Scan to start judging .*? NO SCAN\? TYPE (\S+/j/) (\S+)", sheet)
    assert [who for who, _a, _t in typed] == ["Alan Turing Globex", "Barbara Liskov State University",
                                             "Grace Hopper Acme Cloud", "Ken Thompson Bell Labs"]
    for who, address, token in typed:
        judge = next(j for j in JUDGES if who.startswith(j))
        day.badges[judge] = address + token
        assert address == day.base_url + "/j/"

    def printed_links(s):
        from expo_app.links import judge_sign_in_url
        from expo_app.models import Event

        event = s.get(Event, day.event_id)
        return {j.name: judge_sign_in_url(j) for j in event.judges}, [t.code for t in event.teams]

    badge_links, team_codes = day.read(printed_links)
    assert badge_links == day.badges

    name, pdf = download(page, lambda: placards.get_by_role("link", name="Download PDF").click())
    assert name == f"{SLUG}-placards.pdf"
    pages = pdf_pages(pdf)  # one per team, in table order, with its scoring URL
    assert len(pages) == 6
    for table, (team, code, text) in enumerate(zip(TEAM_NAMES, team_codes, pages), start=1):
        assert f"T A B L E {table} {team}" in text and text.endswith(f"{day.base_url.removeprefix('http://')}/t/{code}")


def total_text(picks) -> str:
    """The sheet's total out of 100 as the phone prints it (every criterion weighs 1 on a 1-5 scale)."""
    return "%.1f / 100" % (sum((v - 1) / 4 * 100 for v in picks) / len(picks))


def sign_in_from_badge(day, phone, judge):
    phone.goto(day.badges[judge])
    expect(phone.get_by_role("heading", level=1)).to_have_text(f"Welcome, {judge}")
    phone.get_by_role("button", name="Start judging").tap()
    expect(phone).to_have_url(day.base_url + "/judge")
    expect(phone.get_by_role("heading", level=1)).to_have_text(f"Hello, {judge}")
    expect(phone.locator(".status-line").first).to_have_text("0 of 6 teams scored · scoring is open")
    expect(phone.locator(".status-line").nth(1)).to_have_text("Your list: 3 teams, 0 scored.")


def score_by_next(day, phone, judge, planned, criteria, shots=False):
    """Follow "Next" through the judge's list: the home page's link first, then the one offered after
    each save. Grace finds her first team's table empty; everyone else scores and comments."""
    for n, team in enumerate(planned):
        where = phone.locator(".next-card" if n else ".card", has_text="Next:").first
        expect(where.locator(".next")).to_contain_text(f", {team}")
        where.locator(".next a").tap()
        expect(phone.get_by_role("heading", level=1)).to_have_text(team)
        expect(phone.locator(".saved-state")).to_have_text("Not scored yet.")
        picks = picks_of(judge, team)
        if judge == "Grace Hopper" and n == 0:
            phone.get_by_label("Team absent: nobody was at the table").tap()
            expect(phone.locator("#picked")).to_have_text("No levels needed: team absent")
        else:
            for (_cid, name, levels), value in zip(criteria, picks):
                choose(phone, name, value, levels[value])
            expect(phone.locator("#picked")).to_have_text("4 of 4 criteria picked")
            phone.get_by_label("Comment for the team (optional)").fill(comment_of(judge, team))
        if shots and n == 1:
            day.shot(phone, "07-judge-scoring")
        phone.get_by_role("button", name="Submit score").tap()
        expect(phone).to_have_url(re.compile(r"/t/[0-9A-Z]{8}\?saved=1$"))
        expect(phone.locator("#phone-notice")).to_have_text(f"Saved: your score for {team}")
        if judge == "Grace Hopper" and n == 0:
            expect(phone.locator(".saved-state")).to_contain_text("· marked absent.")
        else:
            expect(phone.locator(".saved-state")).to_contain_text(f"· {total_text(picks)}.")
        expect(phone.locator(".next-card")).to_contain_text(f"Your list: 3 teams, {n + 1} scored.")


def step_5_score(day, laptop, phones, lists):
    laptop.get_by_role("navigation", name="Event").get_by_role("link", name="Overview").click()
    laptop.get_by_role("button", name="Open scoring").click()
    expect(laptop.locator(".card", has_text="Scoring is")).to_contain_text(
        "Scoring is open. Judges can submit and revise scores.")
    criteria = rubric(day)

    judge_phones = {}
    for judge in JUDGES:
        phone = judge_phones[judge] = phones(judge)
        sign_in_from_badge(day, phone, judge)
        if judge == "Grace Hopper":
            day.shot(phone, "06-judge-home")
        score_by_next(day, phone, judge, lists[judge], criteria, shots=judge == "Ken Thompson")

    # Barbara: the organisers marked her conflict with Latency Llamas. She opens it from her list anyway.
    phone = judge_phones["Barbara Liskov"]
    phone.get_by_role("link", name="All my teams").tap()
    row = phone.locator(".team-list li", has_text="Latency Llamas")
    expect(row.locator(".badge")).to_have_text("Conflict: do not score")
    row.get_by_role("link").tap()
    notice = phone.locator(".conflict-notice")
    expect(notice).to_contain_text("The organisers marked this team as a conflict of interest for you.")
    day.shot(phone, "08-judge-marked-conflict")
    notice.get_by_role("button", name="Declare conflict").tap()
    expect(phone.locator(".saved-state")).to_contain_text("· conflict of interest declared.")
    expect(phone.locator(".conflict-notice")).to_have_count(0)

    # Alan is with Globex, which works with Canary Crew: told so, and given no score sheet.
    phone = judge_phones["Alan Turing"]
    phone.get_by_role("link", name="All my teams").tap()
    row = phone.locator(".team-list li", has_text="Canary Crew")
    expect(row.locator(".badge")).to_have_text("Conflict: do not score")
    row.get_by_role("link").tap()
    expect(phone.locator(".conflict-notice")).to_contain_text("This team works with Globex, and you are with Globex.")
    expect(phone.get_by_role("button", name="Submit score")).to_have_count(0)
    expect(phone.locator("input[type=radio]")).to_have_count(0)
    day.shot(phone, "09-judge-company-conflict")
    # Even a sheet forged past the page is refused, with the reason, and nothing is kept.
    refused = phone.evaluate("""async () => {
        const form = new FormData();
        form.append('csrf_token', document.querySelector('input[name=csrf_token]').value);
        document.querySelectorAll('meta[name=expo-judge]').forEach(m => form.append('judge_id', m.content));
        %s
        const r = await fetch(location.pathname, {method: 'POST', body: form, headers: {Accept: 'application/json'}});
        return [r.status, await r.json()];
    }""" % "".join(f"form.append('criterion_{cid}', '5');" for cid, _n, _l in criteria))
    assert refused[0] == 409 and refused[1]["status"] == "not_saved", refused
    assert "Globex" in refused[1]["reason"]

    # The data: every planned visit gave one sheet, as entered on the phones, and nothing else.
    def sheets(s):
        from expo_app.models import Judge, Score, Team

        rows = s.execute(sa.select(Judge.name, Team.name, Score).join(Judge, Score.judge_id == Judge.id)
                         .join(Team, Score.team_id == Team.id).where(Team.event_id == day.event_id)).all()
        names = [name for _cid, name, _levels in criteria]
        return {(judge, team): ("absent" if score.absent else "conflict" if score.conflict
                                else [score.values_by_name()[n] for n in names], score.comment, score.revision)
                for judge, team, score in rows}

    expected = {(judge, team): (picks_of(judge, team), comment_of(judge, team), 1)
                for judge, teams in lists.items() for team in teams}
    expected[("Grace Hopper", lists["Grace Hopper"][0])] = ("absent", "", 1)
    expected[("Barbara Liskov", "Latency Llamas")] = ("conflict", "", 1)
    assert day.read(sheets) == expected  # and none from Alan for Canary Crew
    return judge_phones


def step_6_results(day, laptop, phones, lists, judge_phones):
    page = laptop
    absent_team = lists["Grace Hopper"][0]  # she found its table empty; its other judge scored it
    nav = page.get_by_role("navigation", name="Event")
    nav.get_by_role("link", name="Dashboard").click()
    live = page.locator("#live")
    # 4 judges x 3 planned teams, less the one marked absent; the declared conflict is no rated sheet.
    expect(live).to_contain_text("11 rated sheets · 6 teams · 4 judges · scoring open")
    alerts = page.locator("section", has=page.get_by_role("heading", name=re.compile(r"^Alerts")))
    expect(alerts.locator(".alert-coverage")).to_have_text(
        f"coverage: 1 team has fewer than 2 scores: {absent_team} (1).")
    judges = page.locator("section", has=page.get_by_role("heading", name="Judges", exact=True))
    expect(judges.locator("tr", has_text="Barbara Liskov").locator("td").nth(1)).to_have_text("0 / 1")
    expect(judges.locator("tr", has_text="Grace Hopper").locator("td").nth(1)).to_have_text("1 / 0")
    expect(page.locator(".leaderboard tbody tr")).to_have_count(6)
    day.shot(page, "10-dashboard")

    nav.get_by_role("link", name="Overview").click()
    expect(page.locator(".stats")).to_contain_text("13 score sheets")  # 11 rated, 1 absent, 1 conflict
    lock = page.locator("form#lock")
    lock.get_by_role("button", name="Lock scoring").click()  # without the tick: nothing changes
    expect(page.locator(".flash-error")).to_have_text("Tick the box to lock: locked scores can never change again.")
    expect(page.locator(".event-head .eyebrow")).to_have_text("Event · scoring open")
    lock.get_by_label("I understand: locked scores are final, and judges' badges stop signing in").check()
    lock.get_by_role("button", name="Lock scoring").click()
    expect(flash(page)).to_have_text("Scoring is now locked.")
    expect(page.locator(".event-head .eyebrow")).to_have_text("Event · scoring locked")
    # A judge's phone, still open, is told so.
    phone = judge_phones["Ken Thompson"]
    phone.reload()
    expect(phone.get_by_text("Judging has ended")).to_be_visible()

    nav.get_by_role("link", name="Awards").click()
    page.get_by_role("button", name="Accept all open suggestions").click()
    expect(flash(page)).to_have_text("Accepted 7 suggestions.")
    decided = page.locator(".awards-table tbody th .pill-ok")
    expect(decided).to_have_count(7)
    winners = dict(zip(page.locator(".awards-table tbody th").evaluate_all(
        "ths => ths.map(th => th.firstChild.textContent.trim())"), decided.all_inner_texts()))
    page.get_by_label("I understand: the awards and the ranking become final and cannot change").check()
    page.get_by_role("button", name="Finalise awards").click()
    expect(page.locator(".notice").first).to_contain_text("Final since")
    for category, team in winners.items():
        expect(page.locator(".award-final h3", has_text=f"{category}: {team}")).to_have_count(1)
    day.shot(page, "11-awards-final")

    def frozen(s):
        from expo_app.models import Event, RankingSnapshot

        snapshot = RankingSnapshot.final_for(s.get(Event, day.event_id))
        return ({a["category"]: a["team"] for a in snapshot.data["awards"]},
                [(t["team"], t["rank"]) for t in snapshot.data["teams"]],
                next(t["score"] for t in snapshot.data["teams"] if t["team"] == "Feature Forge"))

    awards, ranking, feature_forge_score = day.read(frozen)
    assert awards == winners and len(ranking) == 6

    # Certificates: issuing is a POST (the buttons); printing only reads.
    nav.get_by_role("link", name="Printing").click()
    expect(page.locator("#check-signer")).to_contain_text("Dr. Ada Lovelace")
    certificates = page.locator("section#certificates")
    # Finalising issued the award certificates and rendered them once: ready to download.
    expect(certificates).to_contain_text("14 certificates, 14 pages.")  # 7 awards, two members each
    name, pdf = download(page, lambda: certificates.get_by_role("link", name="Download PDF").click())
    assert name == f"{SLUG}-certificates.pdf"
    pages = pdf_pages(pdf)
    assert len(pages) == 14
    first = pages[0]
    assert "Certificate of Award" in first and f"of team {winners['1st place']} received 1st place" in first
    assert "Dr. Ada Lovelace Course instructor, MLOps" in first and "14 May 2027 · Engineering Hall, Level 2" in first
    award_code = re.search(r"Verify this certificate at 127\.0\.0\.1:\d+/v/(.+)$", first).group(1).replace(" ", "")
    assert re.fullmatch(r"[0-9A-Z]{10}-[0-9A-Z]{16}", award_code), first
    award_recipient = re.search(r"2027 14 May 2027 · Engineering Hall, Level 2 (.+?) of team", first).group(1)

    # Participation certificates: printing only reads, so the PDF's own address issues nothing and says
    # why; the button that issues them then downloads them.
    participation = page.locator("section#participation")
    expect(participation).to_contain_text("12 of 12 not issued yet")
    page.goto(f"/admin/events/{day.event_id}/print/participation.pdf")
    expect(page.locator(".flash-error")).to_contain_text("12 of these certificates are not issued yet")

    def participation_issued(s):
        from expo_app.models import Certificate

        return s.execute(sa.select(sa.func.count(Certificate.id)).where(
            Certificate.event_id == day.event_id, Certificate.kind == "participation")).scalar()

    assert day.read(participation_issued) == 0
    name, pdf = download(page, lambda: participation.get_by_role("button", name="Issue and download PDF").click())
    assert name == f"{SLUG}-participation.pdf"
    pages = pdf_pages(pdf)
    assert len(pages) == STUDENTS and all("Certificate of Participation" in p for p in pages)
    assert day.read(participation_issued) == STUDENTS
    page.goto(f"/admin/events/{day.event_id}/print")
    expect(participation).not_to_contain_text("not issued yet")
    day.shot(page, "12-printing-certificates")
    participation.get_by_role("link", name="Preview").click()
    expect(page.get_by_text("Preview of 4 of 12 certificates on A4 paper")).to_be_visible()
    recipient = page.locator(".cert-recipient").first.inner_text()
    verify_url = page.locator(".cert-url").first.inner_text().replace("\n", "").replace(" ", "")
    assert recipient == "Ines Duarte" and re.fullmatch(r"127\.0\.0\.1:\d+/v/[0-9A-Z]{10}-[0-9A-Z]{16}", verify_url)
    day.shot(page, "13-participation-preview")
    page.get_by_role("link", name="← Back to printing").click()

    # Anyone's phone checks a certificate from its QR code: valid, and whose it is.
    phone = phones("a visitor")
    phone.goto(f"http://{verify_url}")
    expect(phone.get_by_text("Valid certificate")).to_be_visible()
    expect(phone.locator(".facts")).to_contain_text(recipient)
    expect(phone.locator(".facts")).to_contain_text("Participation")
    day.shot(phone, "14-phone-verifies-certificate")
    phone.goto(f"/v/{award_code}")
    expect(phone.get_by_text("Valid certificate")).to_be_visible()
    expect(phone.locator(".facts")).to_contain_text(award_recipient)
    expect(phone.locator(".facts")).to_contain_text("1st place")
    return {"code": verify_url.rsplit("/", 1)[1], "recipient": recipient, "award_code": award_code,
            "award_recipient": award_recipient, "ranking": ranking, "feature_forge_score": feature_forge_score,
            "feature_forge_awards": [category for category, team in winners.items() if team == "Feature Forge"]}


def step_7_feedback(day, laptop, phones, printed):
    page = laptop
    page.get_by_role("navigation", name="Event").get_by_role("link", name="Feedback").click()
    expect(page.locator(".pill-warn", has_text="Not released")).to_be_visible()
    page.get_by_label(re.compile("I have read the comments")).check()
    page.get_by_role("button", name="Release feedback to the teams").click()
    expect(flash(page)).to_have_text("Feedback released: every team's link now shows its scores, comments and awards.")
    expect(page.locator(".pill-ok", has_text="Released")).to_be_visible()

    # Ken named a student in his comment: the organiser cuts the name and keeps the rest.
    sheet = page.locator(".moderated", has_text=RUDE)
    summary = sheet.locator("summary", has_text="Redact instead")
    # It reads as a control: the disclosure triangle, the link colour, a 44 px target.
    assert summary.evaluate("s => [getComputedStyle(s).display, getComputedStyle(s).color]") == [
        "list-item", "rgb(29, 78, 216)"]
    assert summary.bounding_box()["height"] >= 44
    summary.click()
    sheet.get_by_label("What the team reads instead").fill(REDACTED)
    sheet.get_by_label("Why redact it (kept in the audit log, with the original)").fill("Names a student")
    sheet.get_by_role("button", name="Redact").click()
    expect(flash(page)).to_have_text("Comment redacted: the team reads the new text; the original is in the audit log.")
    redacted = page.locator(".moderated", has_text=REDACTED)
    expect(redacted.locator("footer")).to_have_text("— Ken Thompson")
    expect(redacted).to_contain_text("Redacted Names a student. The team reads the text above; what the judge wrote "
                                     "is in the audit log.")
    expect(page.locator(".moderated .pill-warn", has_text="Redacted")).to_have_count(1)
    expect(page.locator("body")).not_to_contain_text(RUDE)
    day.shot(page, "15-feedback-released-and-redacted")
    assert serious_violations(page) == [], "feedback moderation page with a redacted comment"

    name, data = download(page, lambda: page.get_by_role("link", name="CSV", exact=True).click())
    assert name == "team-links.csv"
    links = {row["team"]: row for row in csv_rows(data)}
    assert sorted(links) == sorted(TEAM_NAMES)

    def facts(s):
        from expo_app.models import Event, RankingSnapshot, Score, ScoreAudit, Team

        event = s.get(Event, day.event_id)
        team = s.execute(sa.select(Team).where(Team.event_id == day.event_id, Team.name == "Feature Forge")
                         ).scalar_one()
        score = s.execute(sa.select(Score).where(Score.team_id == team.id, Score.comment == REDACTED)).scalar_one()
        audit = s.execute(sa.select(ScoreAudit).where(ScoreAudit.score_id == score.id)
                          .order_by(ScoreAudit.id.desc())).scalars().first()
        row = next(t for t in RankingSnapshot.final_for(event).data["teams"] if t["team"] == "Feature Forge")
        return event.feedback_released_at is not None, audit.old, audit.new, row["score"]

    released, old, new, frozen_score = day.read(facts)
    assert released and RUDE in str(old) and REDACTED in str(new) and RUDE not in str(new)

    # The team's phone opens its private link (from the slip or the e-mail): its feedback, redacted.
    phone = phones("Feature Forge")
    phone.goto(links["Feature Forge"]["feedback_url"])
    expect(phone.get_by_role("heading", level=1)).to_have_text("Feature Forge")
    expect(phone.locator(".big-score")).to_have_text(f"{frozen_score:.1f} out of 100")
    comments = phone.locator("section", has=phone.get_by_role("heading", name="What the judges wrote"))
    expect(comments.locator("blockquote", has_text=REDACTED)).to_have_count(1)
    expect(comments.locator("blockquote")).to_have_count(2)  # Ken's and Barbara's; anonymous by default
    expect(comments.locator("footer")).to_have_count(0)
    expect(phone.locator("body")).not_to_contain_text(RUDE)
    expect(phone.locator("body")).not_to_contain_text("Omar his")
    awards = phone.locator("section", has=phone.get_by_role("heading", name="Awards and certificates"))
    won = printed["feature_forge_awards"]
    assert won, "the data above gives Feature Forge an award"
    expect(awards).to_contain_text(f"Your team won: {', '.join(won)}. Congratulations!")
    # A certificate per award and one for taking part, for each of its two members.
    expect(awards.get_by_role("link", name="Certificate (PDF)")).to_have_count(2 * (len(won) + 1))
    day.shot(phone, "16-team-reads-feedback")
    assert serious_violations(phone) == [], "a team's released feedback"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    return links["Feature Forge"]["feedback_url"]


def step_8_grades(day, laptop, printed):
    page = laptop
    page.get_by_role("navigation", name="Event").get_by_role("link", name="Awards").click()
    grades = page.locator("section#grades")
    expect(grades.locator("#grades-assignment-hint")).to_contain_text(", ".join(CSV_COLUMNS))
    files = {}
    for fmt in ("csv", "canvas", "moodle"):
        grades.get_by_label("Format").select_option(fmt)
        name, data = download(page, lambda: grades.get_by_role("button", name="Download grades").click())
        files[fmt] = (name, csv_rows(data))
    day.shot(page, "17-grades")
    assert serious_violations(page) == [], "final awards and the grades form"
    assert [files[f][0] for f in ("csv", "canvas", "moodle")] == [
        f"{SLUG}-grades-csv.csv", f"{SLUG}-grades-canvas.csv", f"{SLUG}-grades-moodle.csv"]

    rows = files["csv"][1]
    assert len(rows) == STUDENTS and all("DRAFT" not in str(r.values()) for r in rows)
    omar = next(r for r in rows if r["student"] == "Omar Haddad")
    rank = dict(printed["ranking"])["Feature Forge"]
    assert (omar["email"], omar["student_id"], omar["team"], omar["rank"], omar["awards"], omar["present"]) == (
        "omar@students.example.edu", "S-102", "Feature Forge", str(rank), "; ".join(printed["feature_forge_awards"]),
        "yes")
    assert float(omar["expo_score"]) == round(printed["feature_forge_score"], 2)
    assert omar["letter"] == letter_for(float(omar["expo_percent"]))  # the syllabus scale

    canvas = files["canvas"][1]
    assert list(canvas[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", EVENT]
    assert canvas[0]["Student"] == "Points Possible" and canvas[0][EVENT] == "100"
    omar_canvas = next(r for r in canvas if r["SIS User ID"] == "S-102")
    assert omar_canvas["Student"] == "Haddad, Omar" and omar_canvas["SIS Login ID"] == "omar@students.example.edu"
    assert omar_canvas[EVENT] == omar["expo_percent"]

    moodle = files["moodle"][1]
    assert list(moodle[0]) == ["email", EVENT] and len(moodle) == STUDENTS
    assert {r["email"]: r[EVENT] for r in moodle}["omar@students.example.edu"] == omar["expo_percent"]


def _move_target(day):
    """An empty database of the other kind for the move (PostgreSQL for SQLite and back), and its clean-up.
    Without PostgreSQL, the SQLite day moves to a second SQLite file."""
    if day.database == "postgresql":
        return f"sqlite:///{day.tmp / 'moved.sqlite'}", lambda: None, "sqlite"
    if _postgres_reachable() is None:
        return _fresh_schema(SCHEMA + "_moved"), lambda: _drop_schema(SCHEMA + "_moved"), "postgresql"
    if REQUIRE_PG:
        pytest.fail("EXPO_REQUIRE_POSTGRES=1 but PostgreSQL is not there for the move", pytrace=False)
    return f"sqlite:///{day.tmp / 'moved.sqlite'}", lambda: None, "sqlite"


def step_9_move(day, phones, printed, feedback_url):
    from expo_app import create_app
    from expo_app.auth.tokens import read_judge_token
    from expo_app.documents.certificates import find_certificate
    from expo_app.extensions import db
    from expo_app.models import Judge, find_by_identity
    from expo_app.public.operations import resolve_feedback_link

    path = day.tmp / "spring-expo.json"
    result = day.app.test_cli_runner().invoke(args=["export-event", "--event", EVENT, str(path)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {EVENT} to {path}." in result.output
    text = path.read_text(encoding="utf-8")
    assert "MLOps Innovation Expo (demo)" not in text  # one event, not the demo beside it
    badge_token = day.badges["Grace Hopper"].rsplit("/", 1)[1]
    slip_token = feedback_url.rsplit("/", 1)[1]
    assert badge_token not in text and slip_token not in text and printed["code"] not in text  # no secret goes out

    url, clean_up, kind = _move_target(day)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EXPO_INSTANCE_PATH", str(day.tmp / "moved-instance"))
        # The same SECRET_KEY: the paper was signed with it.
        target = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": day.app.config["SECRET_KEY"],
                             "PUBLIC_BASE_URL": "https://expo.example.org"})
    try:
        result = target.test_cli_runner().invoke(args=["import-event", str(path)])
        assert result.exit_code == 0, result.output
        assert "The database had no tables: created them" in result.output
        assert f"Imported {EVENT} (id 1): 6 teams, 4 judges." in result.output
        assert "Printed badges, feedback slips and certificates keep working for the same people" in result.output
        key = target.config["SECRET_KEY"]
        with target.app_context():
            assert db.engine.dialect.name == kind
            for name, link in day.badges.items():  # every badge printed in step 4 names its own judge
                judge = find_by_identity(Judge, read_judge_token(key, link.rsplit("/", 1)[1]).owner)
                assert (judge.name, judge.event.name) == (name, EVENT)
            team, problem = resolve_feedback_link(slip_token)
            assert problem is None and (team.name, team.event.name) == ("Feature Forge", EVENT)
            certificate = find_certificate(printed["code"])
            assert (certificate.recipient, certificate.kind, certificate.team_name) == (
                printed["recipient"], "participation", "Feature Forge")
            again = day.tmp / "again.json"
            result = target.test_cli_runner().invoke(args=["export-event", "--event", EVENT, str(again)])
            assert result.exit_code == 0 and again.read_text(encoding="utf-8") == text  # nothing lost on the way
            db.session.rollback()
        # Scoring is locked, so the old badge says judging has ended (for this event), as it did before.
        page = target.test_client().get(f"/j/{badge_token}").get_data(as_text=True)
        assert "Judging has ended" in page and EVENT in page
        # The moved server, on a phone: the team's old slip and the certificates printed before the move.
        with serving(target, f"moved-{kind}") as moved:
            phone = phones("after the move")
            phone.goto(f"{moved}/f/{slip_token}")
            expect(phone.get_by_role("heading", level=1)).to_have_text("Feature Forge")
            expect(phone.locator("blockquote", has_text=REDACTED)).to_have_count(1)
            expect(phone.locator("body")).not_to_contain_text(RUDE)
            for code, recipient, what in ((printed["award_code"], printed["award_recipient"], "1st place"),
                                          (printed["code"], printed["recipient"], "Participation")):
                phone.goto(f"{moved}/v/{code}")
                expect(phone.get_by_text("Valid certificate")).to_be_visible()
                expect(phone.locator(".facts")).to_contain_text(recipient)
                expect(phone.locator(".facts")).to_contain_text(what)
            day.shot(phone, f"18-moved-to-{kind}-certificate-verifies")
    finally:
        with target.app_context():
            db.session.remove()
            db.engine.dispose()
        clean_up()


def test_the_whole_expo_day(day, laptop, phones):
    """Set up, import, plan, print, score, watch, lock, award, certify, release, grade, move: one day."""
    started = time.monotonic()

    def timed(label, fn, *args):
        begun = time.monotonic()
        result = fn(*args)
        day.timings.append((label, time.monotonic() - begun))
        return result

    timed("1 create and set up the event", step_1_create_and_set_up, day, laptop)
    timed("2 import teams and judges", step_2_import, day, laptop)
    lists = timed("3 plan the visits", step_3_plan, day, laptop)
    timed("4 print badges and placards", step_4_print, day, laptop)
    judge_phones = timed("5 judges score on phones", step_5_score, day, laptop, phones, lists)
    printed = timed("6 dashboard, lock, awards, certificates", step_6_results, day, laptop, phones, lists,
                    judge_phones)
    feedback_url = timed("7 feedback released, redacted, read", step_7_feedback, day, laptop, phones, printed)
    timed("8 grades in three formats", step_8_grades, day, laptop, printed)
    timed("9 move to another database", step_9_move, day, phones, printed, feedback_url)
    report = [f"{label}: {seconds:.1f} s" for label, seconds in day.timings]
    report.append(f"whole day on {day.database}: {time.monotonic() - started:.1f} s")
    (day.shots / "timings.txt").write_text("\n".join(report) + "\n")
    print("\n".join(report))
