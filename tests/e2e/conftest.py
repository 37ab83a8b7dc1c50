"""Browser tests of the judge's phone path: the real app behind a live server, driven by headless Chromium.

Self-contained: nothing here depends on fixtures from tests/conftest.py. One app and one server
serve the whole session (scores are wiped before every test); every test gets a fresh browser
context (its own cookies) at a phone's viewport. CSRF protection is ON, as in production.

Playwright drives Debian's /usr/bin/chromium (Playwright cannot download its own browser here).
Without it the tests are skipped, except under CI (env CI set), where they fail.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DEMO_ADMIN = ("admin@example.org", "a-long-password-123")
SHOTS = Path("/tmp/e2e-shots")


def _no_browser(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium():
    """Headless Debian Chromium, launched once for the session."""
    if not os.access(CHROMIUM, os.X_OK):
        _no_browser(f"browser tests need {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("browser tests need the playwright package (pip install -e '.[test]')")
    # Let routes see the service worker's own requests, so that "offline" cuts them too: a context's
    # set_offline does not reach service workers (microsoft/playwright#2311). Read by the driver at start.
    os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class LiveExpo:
    """The served app: its URL and the demo's ids, plus helpers that read the database directly."""

    app: object
    base_url: str
    event_id: int
    judge_ids: list[int]
    team_ids: list[int]

    def judge_link(self, index: int = 0) -> str:
        from expo_app.admin.exports import judge_sign_in_url
        from expo_app.extensions import db
        from expo_app.models import Judge

        with self.app.app_context():
            return judge_sign_in_url(db.session.get(Judge, self.judge_ids[index]))

    def team_link(self, index: int = 0) -> str:
        from expo_app.admin.exports import team_url
        from expo_app.extensions import db
        from expo_app.models import Team

        with self.app.app_context():
            return team_url(db.session.get(Team, self.team_ids[index]))

    def read(self, fn):
        """Run fn(db.session) in a short app context (so no lock outlives it); return plain data only."""
        from expo_app.extensions import db

        with self.app.app_context():
            try:
                return fn(db.session)
            finally:
                db.session.rollback()

    def wipe_activity(self) -> None:
        """Forget every score, audit entry and sign-in: each test starts from the freshly seeded demo."""
        from expo_app.extensions import db
        from expo_app.models import Judge, JudgeSignIn, Score, ScoreAudit, ScoreValue, TeamVisit

        with self.app.app_context():
            for model in (ScoreAudit, ScoreValue, Score, JudgeSignIn, TeamVisit):
                db.session.execute(db.delete(model))
            db.session.execute(db.update(Judge).values(last_seen_at=None))
            db.session.commit()


@pytest.fixture(scope="session")
def e2e_server(tmp_path_factory):
    """The app with the demo expo (open for scoring, no scores), served on 127.0.0.1 on a free port."""
    from werkzeug.serving import make_server

    from expo_app import create_app
    from expo_app.demo import seed_demo_event
    from expo_app.extensions import db

    tmp = tmp_path_factory.mktemp("e2e")
    with pytest.MonkeyPatch.context() as mp:
        # Set before create_app: the instance folder (secret key, default DB) must never be the repo's.
        mp.setenv("EXPO_INSTANCE_PATH", str(tmp / "instance"))
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'e2e.sqlite'}",
            "WTF_CSRF_ENABLED": True,
            "PUBLIC_BASE_URL": "http://127.0.0.1:1",  # replaced below once the port is known
        })
        with app.app_context():
            db.create_all()
            event = seed_demo_event(*DEMO_ADMIN, with_scores=False)
            db.session.commit()
            event_id = event.id
            judge_ids = [j.id for j in sorted(event.judges, key=lambda j: j.id)]
            team_ids = [t.id for t in sorted(event.teams, key=lambda t: t.table_number)]

        server = make_server("127.0.0.1", 0, app, threaded=True)
        base_url = f"http://127.0.0.1:{server.server_port}"
        app.config["PUBLIC_BASE_URL"] = base_url  # read when links are made, so printed links hit this server
        thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
        thread.start()
        try:
            yield LiveExpo(app, base_url, event_id, judge_ids, team_ids)
        finally:
            server.shutdown()
            thread.join(timeout=5)
            server.server_close()
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture
def expo(e2e_server):
    """The live expo with no scores and no sign-ins."""
    e2e_server.wipe_activity()
    return e2e_server


@pytest.fixture
def phone_context(chromium, expo):
    """A fresh browser context per test (no cookies carried over), sized and behaving like a phone."""
    context = chromium.new_context(**PHONE, base_url=expo.base_url)
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def phone(phone_context):
    """One tab on the phone."""
    return phone_context.new_page()


@pytest.fixture
def plain_phone(chromium, expo):
    """A phone whose browser runs no script: the plain form must work on its own."""
    context = chromium.new_context(**PHONE, base_url=expo.base_url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


class Network:
    """The phone's network, switched off and on for its pages and its service worker alike."""

    def __init__(self, context):
        self.context, self.offline = context, False

    @staticmethod
    def _cut(route):
        route.abort("internetdisconnected")

    def off(self):
        self.context.set_offline(True)
        self.context.route("**/*", self._cut)  # the service worker's requests too (see chromium())
        self.offline = True

    def dead(self):
        """Connected to a Wi-Fi that leads nowhere: requests fail, but the phone believes it is online
        (no "offline" or "online" events), as in a crowded hall."""
        self.context.route("**/*", self._cut)
        self.offline = "dead"

    def on(self):
        self.context.unroute("**/*", self._cut)
        if self.offline is True:
            self.context.set_offline(False)
        self.offline = False


@pytest.fixture
def network(phone_context):
    net = Network(phone_context)
    yield net
    if net.offline:
        net.on()


@pytest.fixture(scope="session")
def shots_dir():
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
