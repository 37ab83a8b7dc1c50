"""Proof under load (issue 11): simulated judges' phones over real HTTP against gunicorn.

Every simulated judge is a phone: it opens its badge link (GET /j/<token>, then the "Start judging"
POST with the form's CSRF token, keeping the session cookie), the judge home (/judge), team forms
(/t/<code>, each followed by the POST /judge/visiting/<code> the phone's script sends), and submits
and edits score sheets as static/judge/phone.js and store.js do: mostly through the outbox's JSON
path (GET /judge/csrf, then POST /t/<code> with Accept: application/json, an Idempotency-Key,
`edited_at`, `judge_id` and the CSRF token, then the page is loaded again), sometimes as the plain
form (the form's own CSRF token, idempotency key and revision; 302 back to the team page). Every
edit changes the sheet's values, so that "the last acknowledged values" can be checked afterwards.
Three organisers poll the live dashboard (the page and dashboard.json with If-None-Match) every 2 s.

Set-ups (--setup): sqlite, postgres, two-instances (two gunicorns on two ports, one PostgreSQL,
REDIS_URL=redis://127.0.0.1:6379/15, every request to the next instance in turn), or all.
Phases (--phases, comma-separated): load, stress, faults (faults only on PostgreSQL set-ups).

- load:   J judges at once (each starts within the first 5 s), a uniform 2.5-7.5 s pause between
          actions (--pause), for --duration seconds. Goals: p95 < 150 ms per submission, < 300 ms for every
          judge page, < 500 ms for the organisers' dashboard, no errors, no lost/duplicated scores.
- stress: the same judges with no pauses, ramped through 1/8, 1/4, 1/2 and all of them; the
          highest submissions/s of a step without failures is the sustained rate. A 503 with
          Retry-After is load shedding: the judge waits and retries (same idempotency key).
- faults: a load run in which one gunicorn worker is SIGKILLed, and another in which every app
          connection to PostgreSQL is terminated. A request that fails because of the fault
          (within 20 s of it) is retried with the same idempotency key, as the phone's outbox does,
          and counted as "retried after fault". Afterwards the app must answer normally.

After each phase the database is read directly: for every (judge, team) with an acknowledged
submission, exactly one sheet with the last acknowledged values, comment and revision count.

What the phone's scripts send is read from the served app (its phone.js, store.js and sw.js): the
JSON outbox only where store.js has one (else every sheet is the plain form), the visit beacon only
where phone.js sends it, and after a save the page phone.js loads (/t/<code> or /t/<code>?saved=1).

--phone (issue 18): each judge is a whole phone (bench/load_phone.py): a sign-in burst (every badge
scanned within --burst seconds: GET /j/<token>, "Start judging", GET /judge), the static files once,
/sw.js, then the service worker's precache per /judge/offline.json (protocol 1: every page at once,
3 at a time; protocol 2: `now` at once, `later` one at a time while a page stays open) on every
judge page loaded, while the judge judges as above (bench/load_phone.py says how, step by step). Reported: the time from the scan until each phone is ready offline,
precache requests under their own labels (304s counted), submit p95 in the first 30 s and overall,
sign-in and home p95, connection errors on their own, the server's CPU seconds.

--app-dir DIR serves and seeds the app of another checkout (a baseline: `git worktree add
/tmp/baseline 2827b5c`) with this venv: gunicorn, the migrations and the seed run with cwd=DIR and
PYTHONPATH=DIR, and the report says which expo_app each process imported.

    .venv/bin/python bench/load.py --quick --setup sqlite
    .venv/bin/python bench/load.py --setup sqlite --phases load --phone --judges 40 --duration 120
    .venv/bin/python bench/load.py --setup sqlite --phases load --phone --app-dir /tmp/baseline
    .venv/bin/python bench/load.py --compare /tmp/base.json /tmp/head.json   # side by side
    .venv/bin/python bench/load.py                         # every set-up and phase, 60 s each
    .venv/bin/python bench/load.py --setup postgres --phases faults --json /tmp/faults.json
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(Path(__file__).resolve().parent))
import load_phone as lp  # noqa: E402  (bench/load_phone.py: the phone of --phone)
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432"
PG_DB = "expo_bench"
PG_SQLALCHEMY = f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DB}"
REDIS_URL = "redis://127.0.0.1:6379/15"

GOAL_SUBMIT_P95_MS = 150
GOAL_PAGE_P95_MS = 300
GOAL_ADMIN_P95_MS = 500
FAULT_WINDOW_S = 20.0      # failures this long after a fault count as caused by it
MAX_ATTEMPTS = 8           # a judge's phone keeps retrying; after this many the outcome is unknown
REQUEST_TIMEOUT_S = 30.0

# The endpoints in the report, and which goal each one falls under.
SUBMIT_LABELS = ("POST /t/<code> (json)", "POST /t/<code> (form)")
PAGE_LABELS = ("GET /j/<token>", "POST /j/<token>", "GET /judge", "GET /t/<code>", "GET /t/<code>?saved=1")
JUDGE_API_LABELS = ("GET /judge/csrf", lp.LABEL_BEACON)
PHONE_LABELS = (lp.LABEL_MANIFEST, lp.LABEL_PRECACHE, lp.LABEL_STATIC, lp.LABEL_SW)
GOAL_READY_P95_S = 10.0    # issue 18: 40 phones ready offline within 10 s p95
FIRST_S = 30.0             # "submit p95 in the first half minute" (the sign-in burst)
ADMIN_LABELS = ("GET dashboard", "GET dashboard.json")
HIDDEN = re.compile(r'name="(csrf_token|idempotency_key|revision)" type="hidden" value="([^"]*)"')

# Seeding runs inside the app (its own operations, an app context) in a subprocess with the
# server's environment: prints one JSON line with everything the load needs.
SEED_SCRIPT = r"""
import json, sys
from datetime import date
import expo_app
from expo_app import create_app
from expo_app.extensions import db

n_teams, n_judges, admin_email, admin_password, plan = sys.argv[1:6]
app = create_app()
with app.app_context():
    from expo_app.admin.operations import change_scoring_state, create_event, save_judge, save_team, set_current_event
    from expo_app.auth.operations import create_or_reset_admin, judge_token
    create_or_reset_admin(admin_email, admin_password)
    event = create_event("Bench Expo (load test)", held_on=date(2026, 12, 10), venue="Bench hall", judges_per_team=3)
    set_current_event(event)
    for i in range(1, int(n_teams) + 1):
        save_team(event, None, name=f"Team {i:03d}", project=f"Project {i}", table_number=i,
                  members=[(f"Student {i}a", f"s{i}a@students.example.edu"), (f"Student {i}b", f"s{i}b@students.example.edu")])
    for i in range(1, int(n_judges) + 1):
        save_judge(event, None, name=f"Judge {i:03d}", email=f"judge{i}@judges.example.com", affiliation="Bench")
    change_scoring_state(event, "open")
    db.session.commit()
    routes = {}
    try:  # an older app (before issue 12's plans) has none: judges walk in random order
        from expo_app.assignments.operations import make_plan
        from expo_app.models import Assignment
    except ImportError:
        plan = "none"
    if plan == "1":
        make_plan(event)
        db.session.commit()
        for a in db.session.execute(db.select(Assignment).where(Assignment.event_id == event.id)
                                    .order_by(Assignment.judge_id, Assignment.position)).scalars():
            routes.setdefault(a.judge_id, []).append(a.team_id)
    out = {
        "event_id": event.id,
        "teams": [{"id": t.id, "code": t.code} for t in event.teams],
        "judges": [{"id": j.id, "token": judge_token(j), "route": routes.get(j.id, [])} for j in event.judges],
        "criteria": [{"id": c.id, "min": c.scale_min, "max": c.scale_max} for c in event.criteria],
        "expo_app": expo_app.__file__, "plan": plan,
    }
    print("SEED " + json.dumps(out))
"""


# An app whose CLI has no `expo init-db`: its Alembic migrations, run inside the app.
MIGRATE_SCRIPT = r"""
import sys
from flask_migrate import upgrade
from expo_app import create_app
app = create_app()
with app.app_context():
    upgrade(directory=sys.argv[1])
"""


def detect_app(base: str) -> lp.AppFeatures:
    """What the served app's phone does, from the scripts it serves (none: plain HTML forms)."""
    import httpx

    texts = {}
    for name, path in (("phone", "/static/judge/phone.js"), ("store", "/static/judge/store.js"), ("sw", "/sw.js")):
        try:
            r = httpx.get(base + path, timeout=10, trust_env=False)
            texts[name] = r.text if r.status_code == 200 else None
        except httpx.HTTPError:
            texts[name] = None
    return lp.detect_features(texts["phone"], texts["store"], texts["sw"])


# ----------------------------------------------------------------------------------- measurements

@dataclass
class Sample:
    label: str
    t: float          # seconds since the phase started, when the request started
    ms: float
    status: int | None
    kind: str         # ok / error / fault (failed, retried after a fault) / shed (503 + Retry-After)
    error: str = ""   # a transport error's type (no HTTP answer: reset, refused, timeout)


@dataclass
class Submission:
    key: str
    values: dict       # criterion id -> value ({} when absent)
    comment: str
    absent: bool
    acked: bool | None = None  # True acknowledged, False refused, None unknown (gave up)


class Phase:
    """What one phase measures: samples, fault times, unexpected answers."""

    def __init__(self, name: str, retry_faults: bool = False):
        self.name = name
        self.start = time.monotonic()
        self.samples: list[Sample] = []
        self.faults: list[float] = []      # seconds since start
        self.fault_notes: list[str] = []
        self.unexpected: list[str] = []
        self.gave_up = 0
        self.stop = asyncio.Event()
        self.active_limit: int | None = None   # stress ramp: judges with index >= this wait
        self.steps: list[tuple[float, float, int]] = []  # (t0, t1, judges)
        self.retry_faults = retry_faults
        self.cpu0 = time.process_time()
        self.wall = 0.0
        self.cpu = 0.0
        self.phone_mode = False                  # --phone: navigations drive the phones' workers
        self.phones: dict[int, lp.PhoneTimes] = {}
        self.signin_ms: list[float] = []         # badge scan to the judge home, per sign-in

    def now(self) -> float:
        return time.monotonic() - self.start

    def caused_by_fault(self, t: float, ms: float = 0.0) -> bool:
        """Whether a request that started at `t` and failed after `ms` overlapped a fault's window."""
        end = t + ms / 1000
        return self.retry_faults and any(end >= f and t <= f + FAULT_WINDOW_S for f in self.faults)

    def note(self, text: str) -> None:
        if len(self.unexpected) < 200:
            self.unexpected.append(text)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# ----------------------------------------------------------------------------------- the phones

def phone_client(instances: int):
    """One phone's HTTP client: its own cookie jar and its own small connection pool (httpcore scans
    every connection of a pool on each request, so one pool shared by 200 phones costs the
    generator O(phones) CPU per request). Plain HTTP: no certificates loaded. An idle connection is
    dropped after 1.5 s, before gunicorn's keep-alive (2 s by default, 5 s in gunicorn.conf.py) closes
    it: otherwise a request sent just as the server closes the connection fails (ReadError), where a
    phone's browser would silently send it again."""
    import httpx

    transport = httpx.AsyncHTTPTransport(verify=False, retries=0, trust_env=False,
                                         limits=httpx.Limits(max_connections=2 * instances,
                                                             max_keepalive_connections=2 * instances,
                                                             keepalive_expiry=1.5))
    return httpx.AsyncClient(transport=transport, timeout=REQUEST_TIMEOUT_S, follow_redirects=False,
                             trust_env=False)


class Judge:
    """One judge's phone: its own cookie jar (session), sheets sent, and where it is in its walk.
    With --phone, `self.phone` is the browser and service worker around it (bench/load_phone.py)."""

    def __init__(self, bench: "Bench", index: int, info: dict):
        self.bench, self.index, self.id, self.token = bench, index, info["id"], info["token"]
        self.client = phone_client(len(bench.bases))
        self.rng = random.Random(bench.args.seed * 100003 + self.id)
        teams = [t["id"] for t in bench.seed["teams"]]
        route = [t for t in info.get("route", []) if t in bench.team_by_id]
        rest = [t for t in teams if t not in route]
        self.rng.shuffle(rest)
        self.todo = route + rest               # teams not scored yet, in walking order
        self.scored: list[int] = []
        self.signed_in = False
        self.turn = index                      # which instance the next request goes to
        self.edits = 0
        self.phone = lp.Phone(self, bench.features, random.Random(self.rng.random())) if bench.args.phone else None

    async def request(self, phase: Phase, method: str, path: str, label: str, *, data=None, headers=None,
                      ok=(200,), retry: bool = True, timeout: float | None = None):
        """One request, retried as the phone would; returns the response or None if it gave up.

        Transport errors and 500/502/503/504 are retried (same body: same idempotency key); a 503
        with Retry-After waits that long. Any other answer outside `ok` is an error, not retried.
        retry=False: one attempt (the service worker's fetches, which the next pass asks again).
        """
        import httpx

        bases = self.bench.bases
        attempt = 0
        self.uncertain = False  # whether an attempt may have reached the server without an answer
        while True:
            base = bases[self.turn % len(bases)]
            self.turn += 1
            t = phase.now()
            t0 = time.perf_counter()
            try:
                response = await self.client.request(method, base + path, data=data, headers=headers,
                                                     timeout=timeout or REQUEST_TIMEOUT_S)
                status, error = response.status_code, None
            except httpx.HTTPError as exc:
                response, status, error = None, None, f"{type(exc).__name__}: {exc}"
            ms = (time.perf_counter() - t0) * 1000
            if status in ok:
                phase.samples.append(Sample(label, t, ms, status, "ok"))
                return response
            if status == 503 and response.headers.get("Retry-After"):
                phase.samples.append(Sample(label, t, ms, status, "shed"))
                try:
                    wait = float(response.headers["Retry-After"])
                except ValueError:
                    wait = 1.0
                attempt += 1
                if attempt >= MAX_ATTEMPTS * 4 or not retry:
                    phase.gave_up += retry
                    return None
                await asyncio.sleep(min(max(wait, 0.1), 30))
                continue
            transient = status is None or status in (500, 502, 503, 504)
            self.uncertain = self.uncertain or transient
            kind = "fault" if transient and phase.caused_by_fault(t, ms) else "error"
            phase.samples.append(Sample(label, t, ms, status, kind, error.split(":", 1)[0] if error else ""))
            what = error or f"HTTP {status}"
            if status is not None and status >= 400:
                body = response.text[:300].replace("\n", " ")
                what += f": {body}"
            phase.note(f"{phase.now():6.1f}s judge {self.id} {label} {path}: {what}")
            attempt += 1
            if not retry or not transient or attempt >= MAX_ATTEMPTS:
                if transient and retry:
                    phase.gave_up += 1
                return None
            await asyncio.sleep(min(0.25 * 2 ** attempt, 5.0))

    async def navigate(self, phase: Phase, path: str, label: str, ok=(200,)):
        """A page the judge opens (the browser, then the phone's scripts and worker, if any)."""
        page = await self.request(phase, "GET", path, label, ok=ok)
        if self.phone is not None and phase.phone_mode:
            await self.phone.loaded(phase, path, page)
        return page

    async def sign_in(self, phase: Phase) -> bool:
        t0 = time.perf_counter()
        phoning = self.phone is not None and phase.phone_mode
        if phoning:
            self.phone.scanned(phase)
        page = await self.navigate(phase, f"/j/{self.token}", "GET /j/<token>")
        if page is None:
            return False
        fields = dict(HIDDEN.findall(page.text))
        done = await self.request(phase, "POST", f"/j/{self.token}", "POST /j/<token>",
                                  data={"csrf_token": fields.get("csrf_token", "")}, ok=(302,))
        if done is None or not done.headers.get("location", "").endswith("/judge"):
            phase.note(f"judge {self.id}: sign-in did not redirect to /judge")
            return False
        self.signed_in = True
        if phoning:  # the browser follows the redirect: the judge home
            if await self.home(phase) is None:
                return True
            phase.signin_ms.append((time.perf_counter() - t0) * 1000)
        return True

    async def home(self, phase: Phase):
        return await self.navigate(phase, "/judge", "GET /judge")

    def _beacon(self) -> bool:
        return self.phone.sends_beacon() if self.phone is not None else self.bench.features.beacon

    def _after_save(self, code: str) -> str:
        if self.phone is not None:
            return self.phone.after_save_path(code)
        return f"/t/{code}?saved=1" if self.bench.features.saved_query else f"/t/{code}"

    async def open_team(self, phase: Phase, code: str, path: str | None = None):
        """The team's form (or `path`: the page after a save), then the visit the phone's script
        reports on a fresh form, where the served app's script does."""
        path = path or f"/t/{code}"
        page = await self.navigate(phase, path, "GET /t/<code>?saved=1" if "?saved" in path else "GET /t/<code>")
        if page is None:
            return None
        fields = dict(HIDDEN.findall(page.text))
        if "csrf_token" not in fields:
            phase.note(f"judge {self.id}: {path} is not a scoring form (signed out?)")
            return None
        if "?" not in path and self._beacon():
            await self.request(phase, "POST", f"/judge/visiting/{code}", lp.LABEL_BEACON,
                               headers={"X-CSRFToken": fields["csrf_token"]}, ok=(204,))
        return fields

    def next_sheet(self, team_id: int, phase: Phase) -> Submission:
        """A new sheet for the team, different from the last one this judge sent for it."""
        ledger = self.bench.ledger[(self.id, team_id)]
        last = ledger[-1] if ledger else None
        criteria = self.bench.seed["criteria"]
        while True:
            absent = self.rng.random() < 0.03
            values = {} if absent else {c["id"]: self.rng.randint(c["min"], c["max"]) for c in criteria}
            if last is None or (values, absent) != (last.values, last.absent):
                break
        n = len(ledger) + 1
        comment = f"bench {phase.name} judge {self.id} team {team_id} edit {n} {secrets.token_hex(3)}"
        return Submission(key=secrets.token_urlsafe(18), values=values, comment=comment, absent=absent)

    async def submit(self, phase: Phase, team_id: int, form_fields: dict | None) -> bool:
        """Submit a new sheet for the team: through the outbox's JSON path, or as the plain form
        (always, where the served app has no JSON outbox)."""
        code = self.bench.team_by_id[team_id]
        json_path = self.bench.features.json_outbox
        if not json_path and form_fields is None:
            return False  # no form to post (its page failed): nothing sent
        sheet = self.next_sheet(team_id, phase)
        self.bench.ledger[(self.id, team_id)].append(sheet)
        body = {f"criterion_{cid}": str(v) for cid, v in sheet.values.items()}
        body.update(comment=sheet.comment, private_note="")
        if sheet.absent:
            body["absent"] = "y"
        plain = form_fields is not None and (not json_path or self.rng.random() < self.bench.args.form_share)
        if plain:
            body.update(csrf_token=form_fields["csrf_token"], submit="Submit score")
            for name in ("idempotency_key", "revision"):  # (an older app's form has neither)
                if name in form_fields:
                    body[name] = form_fields[name]
            sheet.key = form_fields.get("idempotency_key", sheet.key)
            r = await self.request(phase, "POST", f"/t/{code}", "POST /t/<code> (form)", data=body, ok=(302,))
            if r is None:
                sheet.acked = None if self.uncertain else False
                return False
            sheet.acked = True
            # The redirect: the page again, with "Saved: ..."
            await self.open_team(phase, code, lp.local_path(r.headers.get("location") or f"/t/{code}"))
            return True
        token = await self.request(phase, "GET", "/judge/csrf", "GET /judge/csrf")
        if token is None:
            sheet.acked = False  # nothing was sent
            return False
        answer = token.json()
        if answer.get("judge_id") != self.id:
            phase.note(f"judge {self.id}: /judge/csrf says judge {answer.get('judge_id')}")
        body.update(csrf_token=answer["csrf_token"], idempotency_key=sheet.key,
                    edited_at=str(int(time.time() * 1000)), judge_id=str(self.id))
        headers = {"Accept": "application/json", "Idempotency-Key": sheet.key, "X-CSRFToken": answer["csrf_token"]}
        r = await self.request(phase, "POST", f"/t/{code}", "POST /t/<code> (json)", data=body, headers=headers)
        if r is None:
            sheet.acked = None if self.uncertain else False
            return False
        result = r.json()
        sheet.acked = True
        if result.get("status") != "saved":
            phase.note(f"judge {self.id} team {code}: answered {result}")
        await self.open_team(phase, code, self._after_save(code))  # the phone loads the page again after a save
        return True

    async def run(self, phase: Phase, pause: tuple[float, float] | None):
        """Walk the hall until the phase ends: home, a team's form, submit, again."""
        async def wait(lo_hi=pause):
            if lo_hi is None:
                return not phase.stop.is_set()
            try:
                await asyncio.wait_for(phase.stop.wait(), self.rng.uniform(*lo_hi))
            except asyncio.TimeoutError:
                pass
            return not phase.stop.is_set()

        # Phones sign in within the first seconds (--phone: every badge within --burst seconds).
        start = (0.0, self.bench.args.burst) if phase.phone_mode else (0.0, 5.0)
        if pause is not None and not await wait(start):
            return
        home_shown = False
        while not phase.stop.is_set():
            if phase.active_limit is not None and self.index >= phase.active_limit:
                await asyncio.sleep(0.2)
                continue
            if not self.signed_in:
                if not await self.sign_in(phase):
                    await asyncio.sleep(1)
                    continue
                home_shown = phase.phone_mode  # the browser followed the redirect to the judge home
                if not await wait():
                    return
            if not home_shown:
                await self.home(phase)
                if not await wait():
                    return
            home_shown = False
            edit = self.scored and (not self.todo or self.rng.random() < self.bench.args.edit_share)
            team_id = self.rng.choice(self.scored) if edit else self.todo[0]
            fields = await self.open_team(phase, self.bench.team_by_id[team_id])
            if not await wait():
                return
            if await self.submit(phase, team_id, fields) and not edit:
                self.todo.remove(team_id)
                self.scored.append(team_id)
            if not await wait():
                return

    async def close(self):
        if self.phone is not None:
            self.phone.cancel()
        await self.client.aclose()


class Organiser:
    """An organiser's laptop with the live dashboard open: the page and its JSON, every 2 s."""

    def __init__(self, bench: "Bench", index: int):
        self.bench, self.index = bench, index
        self.client = phone_client(len(bench.bases))
        self.signed_in = False
        self.version = None
        self.turn = index

    async def get(self, phase: Phase, path: str, label: str, headers=None, ok=(200,)):
        base = self.bench.bases[self.turn % len(self.bench.bases)]
        self.turn += 1
        t, t0 = phase.now(), time.perf_counter()
        import httpx

        try:
            r = await self.client.request("GET", base + path, headers=headers)
            status = r.status_code
        except httpx.HTTPError as exc:
            r, status = None, None
            phase.note(f"organiser {self.index} {label}: {type(exc).__name__}: {exc}")
        ms = (time.perf_counter() - t0) * 1000
        if status in ok:
            kind = "ok"
        elif status == 503 and r.headers.get("Retry-After"):
            kind = "shed"  # the next poll comes anyway
        else:
            kind = "fault" if phase.caused_by_fault(t, ms) and status in (None, 500, 502, 503, 504) else "error"
        phase.samples.append(Sample(label, t, ms, status, kind))
        if kind not in ("ok", "shed") and status is not None:
            phase.note(f"organiser {self.index} {label}: HTTP {status}: {r.text[:200]!r}")
        return r if kind == "ok" else None

    async def sign_in(self) -> bool:
        base = self.bench.bases[0]
        page = await self.client.get(base + "/admin/login")
        fields = dict(HIDDEN.findall(page.text))
        r = await self.client.post(base + "/admin/login", data={
            "csrf_token": fields.get("csrf_token", ""), "next": "", "email": self.bench.admin_email,
            "password": self.bench.admin_password})
        self.signed_in = r.status_code == 302 and "/admin/login" not in r.headers.get("location", "")
        return self.signed_in

    async def run(self, phase: Phase):
        await asyncio.sleep(self.index * 0.7)
        if not self.signed_in:
            try:
                if not await self.sign_in():
                    phase.note(f"organiser {self.index}: could not sign in")
                    return
            except Exception as exc:  # noqa: BLE001 - reported, the judges go on
                phase.note(f"organiser {self.index}: sign-in failed: {exc!r}")
                return
        event_id = self.bench.seed["event_id"]
        tick = 0
        while not phase.stop.is_set():
            if tick % 2 == 0:
                await self.get(phase, f"/admin/events/{event_id}/dashboard", "GET dashboard")
            else:
                headers = {"Accept": "application/json"}
                if self.version:
                    headers["If-None-Match"] = f'"{self.version}"'
                r = await self.get(phase, f"/admin/events/{event_id}/dashboard.json", "GET dashboard.json",
                                   headers=headers, ok=(200, 304))
                if r is not None and r.status_code == 200:
                    self.version = r.json().get("version")
            tick += 1
            try:
                await asyncio.wait_for(phase.stop.wait(), 2.0)
            except asyncio.TimeoutError:
                pass

    async def close(self):
        await self.client.aclose()


# ----------------------------------------------------------------------------------- the servers

# gunicorn's config for the bench: the app's own gunicorn.conf.py, executed as it is, plus a
# post_worker_init hook (chained after the app's, if it has one) that writes which expo_app each
# worker imported, once it has loaded wsgi:app, to EXPO_BENCH_IMPORTS.
GUNICORN_WRAPPER = r"""
import os as _os, sys as _sys
_conf = _os.environ.get("EXPO_BENCH_APP_CONF", "")
if _conf:
    __file__ = _conf
    with open(_conf) as _f:
        exec(compile(_f.read(), _conf, "exec"))
_app_post_worker_init = globals().get("post_worker_init")


def post_worker_init(worker):
    if _app_post_worker_init is not None:
        _app_post_worker_init(worker)
    mod = _sys.modules.get("expo_app")
    with open(_os.environ["EXPO_BENCH_IMPORTS"], "a") as out:
        out.write(f"worker {_os.getpid()} {getattr(mod, '__file__', None)}\n")
"""


class Servers:
    """gunicorn process groups this bench started; all of them die with the bench."""

    def __init__(self, log_dir: Path, app_root: Path = ROOT):
        self.procs: list[tuple[subprocess.Popen, int, Path]] = []
        self.log_dir = log_dir
        self.app_root = app_root
        self.imports = log_dir / "expo_app-imported-by-workers.txt"

    def conf(self) -> str:
        """How gunicorn is configured: the app's gunicorn.conf.py, or (an app without one) -w 3 --threads 4."""
        return "gunicorn.conf.py" if (self.app_root / "gunicorn.conf.py").exists() else "-w 3 --threads 4"

    def start(self, env: dict, port: int, name: str, workers: int, threads: int, worker_class: str = "") -> str:
        if port_busy(port):
            raise SystemExit(f"Port {port} on 127.0.0.1 is busy (another server is listening there). "
                             f"Stop it or pick other ports with --port.")
        wrapper = self.log_dir / "bench-gunicorn-conf.py"
        wrapper.write_text(GUNICORN_WRAPPER)
        env = {**env, "PORT": str(port), "GUNICORN_BIND": f"127.0.0.1:{port}", "EXPO_BENCH_IMPORTS": str(self.imports)}
        if worker_class:
            env["GUNICORN_WORKER_CLASS"] = worker_class
        app_conf = self.app_root / "gunicorn.conf.py"
        if app_conf.exists():
            env["EXPO_BENCH_APP_CONF"] = str(app_conf)
            if workers:
                env["GUNICORN_WORKERS"] = str(workers)
            if threads:
                env["GUNICORN_THREADS"] = str(threads)
            cmd = [str(VENV_BIN / "gunicorn"), "-c", str(wrapper), "wsgi:app"]
        else:
            env["EXPO_BENCH_APP_CONF"] = ""
            cmd = [str(VENV_BIN / "gunicorn"), "-c", str(wrapper), "-w", str(workers or 3), "--threads",
                   str(threads or 4), "-b", f"127.0.0.1:{port}", "wsgi:app"] + (["-k", worker_class] if worker_class else [])
        log = self.log_dir / f"gunicorn-{name}-{port}.log"
        handle = open(log, "ab")
        proc = subprocess.Popen(cmd, cwd=self.app_root, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                start_new_session=True)
        handle.close()
        self.procs.append((proc, port, log))
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, proc, log)
        return base

    def master_pids(self) -> list[int]:
        return [p.pid for p, _port, _log in self.procs if p.poll() is None]

    def logs(self) -> list[Path]:
        return [log for _p, _port, log in self.procs]

    def stop(self):
        for proc, _port, _log in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 15
        for proc, _port, _log in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:  # the group too: workers left behind by a killed master
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.procs = []


def port_busy(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def wait_ready(base: str, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    """Poll /healthz (or / where there is none) until the server answers 200."""
    import httpx

    deadline = time.monotonic() + timeout
    path = "/healthz"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn on {base} exited with {proc.returncode} before it was ready:\n"
                             + tail(log, 40))
        try:
            r = httpx.get(base + path, timeout=2, trust_env=False)
            if r.status_code == 404 and path == "/healthz":
                path = "/"
                continue
            if r.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn on {base} did not answer {path} within {timeout:.0f} s:\n" + tail(log, 40))


def tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["ps", "--ppid", str(master), "-o", "pid="], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def read_log(log: Path, since: int) -> tuple[list[str], dict]:
    """What gunicorn's log gained after byte offset `since`: the distinct errors and tracebacks
    (plain text or the app's JSON lines), and the app's own access log durations by endpoint."""
    try:
        with open(log, "rb") as handle:
            handle.seek(since)
            text = handle.read().decode(errors="replace")
    except OSError:
        return [], {}
    found, block = [], []
    durations: dict[str, list[float]] = defaultdict(list)
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if isinstance(record, dict):
                if record.get("logger") == "expo.access" and "duration_ms" in record:
                    durations[f"{record.get('method')} {record.get('endpoint')}"].append(float(record["duration_ms"]))
                if str(record.get("level", "")).lower() in ("error", "critical"):
                    found.append("\n".join(x for x in (record.get("message", ""), record.get("exception", "")) if x))
                continue
        if line.startswith("Traceback") or (block and (line.startswith(" ") or not line.strip())):
            block.append(line)
            continue
        if block:
            block.append(line)  # the exception line
            found.append("\n".join(block))
            block = []
        elif "[ERROR]" in line or "[CRITICAL]" in line or "WORKER TIMEOUT" in line:
            found.append(line)
    if block:
        found.append("\n".join(block))

    def key(entry):
        return re.sub(r"\[\d+\]|\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d\S*|pid \d+", "", entry.strip().splitlines()[-1])[:200]

    counts: dict[str, int] = defaultdict(int)
    for entry in found:
        counts[key(entry)] += 1
    out, seen = [], set()
    for entry in found:
        k = key(entry)
        if k not in seen:
            seen.add(k)
            out.append(f"[{counts[k]}x] {entry}")
    return out, durations


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine so far (every core), from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(masters: list[int]) -> float:
    """CPU seconds used so far by gunicorn masters, their live workers and the workers they reaped."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for master in masters:
        for pid, with_children in [(master, True)] + [(w, False) for w in worker_pids(master)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            used = int(fields[11]) + int(fields[12])  # utime, stime
            if with_children:
                used += int(fields[13]) + int(fields[14])  # cutime, cstime: reaped workers
            total += used / tick
    return total


# ----------------------------------------------------------------------------------- databases

def run(cmd: list[str], env: dict | None = None, check: bool = True, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def reset_postgres() -> None:
    import psycopg

    try:
        with psycopg.connect(f"{PG_ADMIN_URL}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DB,)).fetchone()
        if not exists:
            run(["createdb", "-h", "127.0.0.1", "-U", "postgres", PG_DB])
        with psycopg.connect(f"{PG_ADMIN_URL}/{PG_DB}", autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
            conn.execute("CREATE SCHEMA public")
    except psycopg.OperationalError as exc:
        raise SystemExit(f"PostgreSQL at 127.0.0.1:5432 is unreachable: {exc}") from None


def flush_redis() -> str:
    try:
        import redis  # type: ignore

        redis.Redis.from_url(REDIS_URL).flushdb()
        return "flushed"
    except ImportError:
        pass
    except Exception as exc:  # noqa: BLE001
        return f"not flushed: {exc}"
    if shutil.which("redis-cli"):
        r = subprocess.run(["redis-cli", "-n", "15", "flushdb"], capture_output=True, text=True)
        return "flushed" if r.returncode == 0 else f"not flushed: {r.stderr.strip() or r.stdout.strip()}"
    return "not flushed: neither the redis package nor redis-cli is here"


def terminate_pg_connections() -> int:
    import psycopg

    with psycopg.connect(f"{PG_ADMIN_URL}/{PG_DB}", autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid()", (PG_DB,)).fetchall()
    return len(rows)


def verify(db_url: str, event_id: int, ledger: dict) -> dict:
    """Every acknowledged sheet exactly once, with the last acknowledged values, comment and revision."""
    import sqlalchemy as sa

    engine = sa.create_engine(db_url.replace("postgresql+psycopg://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            scores = conn.execute(sa.text(
                "SELECT s.id, s.judge_id, s.team_id, s.revision, s.comment, s.absent FROM score s "
                "JOIN judge j ON j.id = s.judge_id WHERE j.event_id = :e"), {"e": event_id}).all()
            values = conn.execute(sa.text(
                "SELECT v.score_id, v.criterion_id, v.value FROM score_value v JOIN score s ON s.id = v.score_id "
                "JOIN judge j ON j.id = s.judge_id WHERE j.event_id = :e"), {"e": event_id}).all()
            audits = conn.execute(sa.text(
                "SELECT score_id, action, count(*) FROM score_audit WHERE event_id = :e GROUP BY score_id, action"),
                {"e": event_id}).all()
            # An older app (before idempotency keys, e.g. 2827b5c) has no score_submission table.
            has_keys = sa.inspect(conn).has_table("score_submission")
            keys = conn.execute(sa.text(
                "SELECT k.judge_id, k.key, count(*) FROM score_submission k JOIN judge j ON j.id = k.judge_id "
                "WHERE j.event_id = :e GROUP BY k.judge_id, k.key"), {"e": event_id}).all() if has_keys else []
    finally:
        engine.dispose()
    rows = defaultdict(list)
    for row in scores:
        rows[(row.judge_id, row.team_id)].append(row)
    by_score = defaultdict(dict)
    dup_values = 0
    for score_id, criterion_id, value in values:
        if criterion_id in by_score[score_id]:
            dup_values += 1
        by_score[score_id][criterion_id] = value
    audit = defaultdict(lambda: defaultdict(int))
    for score_id, action, count in audits:
        audit[score_id][action] = count
    stored_keys = {(j, k): c for j, k, c in keys}

    out = {"pairs_acked": 0, "sheets_in_db": len(scores), "lost": 0, "duplicated": 0, "wrong_value": 0,
           "revision_mismatch": 0, "audit_mismatch": 0, "keys_missing": 0, "keys_duplicated": 0,
           "uncertain": 0, "unacked_present": 0, "keys_checked": has_keys, "examples": []}

    def example(text):
        if len(out["examples"]) < 10:
            out["examples"].append(text)

    out["duplicated"] += dup_values
    out["keys_duplicated"] = sum(1 for c in stored_keys.values() if c > 1)
    for (judge_id, team_id), sent in ledger.items():
        acked = [s for s in sent if s.acked]
        unknown = [s for s in sent if s.acked is None]
        found = rows.get((judge_id, team_id), [])
        if len(found) > 1:
            out["duplicated"] += 1
            example(f"judge {judge_id} team {team_id}: {len(found)} sheets")
        for s in acked if has_keys else []:
            if (judge_id, s.key[:64]) not in stored_keys:
                out["keys_missing"] += 1
                example(f"judge {judge_id} team {team_id}: acknowledged key {s.key} not stored")
        if not acked:
            if found:
                out["unacked_present"] += 1
            continue
        out["pairs_acked"] += 1
        last_ack = max(i for i, s in enumerate(sent) if s.acked)
        later_unknown = [s for s in sent[last_ack + 1:] if s.acked is None]
        if unknown:
            out["uncertain"] += 1
        if not found:
            out["lost"] += 1
            example(f"judge {judge_id} team {team_id}: acknowledged, no sheet in the database")
            continue
        row = found[0]
        stored = (by_score.get(row.id, {}), row.comment, bool(row.absent))
        allowed = [(s.values, s.comment, s.absent) for s in [sent[last_ack]] + later_unknown]
        if stored not in allowed:
            out["wrong_value"] += 1
            want = allowed[0]
            example(f"judge {judge_id} team {team_id}: stored {stored[0]} absent={stored[2]} "
                    f"comment={stored[1]!r}, last acknowledged {want[0]} absent={want[2]} comment={want[1]!r}")
        low, high = len(acked), len(acked) + len(unknown)
        if not (low <= row.revision <= high):
            out["revision_mismatch"] += 1
            example(f"judge {judge_id} team {team_id}: revision {row.revision}, {len(acked)} acknowledged edits"
                    + (f" (+{len(unknown)} unknown)" if unknown else ""))
        a = audit.get(row.id, {})
        if a.get("created", 0) != 1 or a.get("created", 0) + a.get("updated", 0) != row.revision:
            out["audit_mismatch"] += 1
            example(f"judge {judge_id} team {team_id}: audit {dict(a)} for revision {row.revision}")
    pairs_sent = set(ledger)
    strays = [k for k in rows if k not in pairs_sent]
    out["stray_sheets"] = len(strays)
    out["ok"] = all(out[k] == 0 for k in ("lost", "duplicated", "wrong_value", "revision_mismatch",
                                           "audit_mismatch", "keys_missing", "keys_duplicated", "stray_sheets"))
    return out


# ----------------------------------------------------------------------------------- one set-up

class Bench:
    def __init__(self, args, setup: str, tmp: Path, log_dir: Path):
        self.args, self.setup, self.tmp, self.log_dir = args, setup, tmp, log_dir
        self.app_root = Path(args.app_dir).resolve() if args.app_dir else ROOT
        self.servers = Servers(log_dir, self.app_root)
        self.features = lp.AppFeatures()
        self.app: dict = {}       # which app: its folder, commit, the expo_app each process imported
        self.bases: list[str] = []
        self.seed: dict = {}
        self.team_by_id: dict[int, str] = {}
        self.ledger: dict[tuple[int, int], list[Submission]] = defaultdict(list)
        self.admin_email = "bench-admin@example.org"
        self.admin_password = secrets.token_urlsafe(16)
        self.results: list[dict] = []
        self.env: dict = {}
        self.db_url = ""

    def prepare(self):
        args = self.args
        instance = self.tmp / f"instance-{self.setup}"
        instance.mkdir(parents=True)
        if self.setup == "sqlite":
            self.db_url = f"sqlite:///{instance / 'expo.sqlite'}"
        else:
            reset_postgres()
            self.db_url = PG_SQLALCHEMY
        ports = [args.port] if self.setup != "two-instances" else [args.port, args.port + 1]
        for port in ports:
            if port_busy(port):
                raise SystemExit(f"Port {port} on 127.0.0.1 is busy (another server is listening there). "
                                 "Stop it or pick other ports with --port.")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "FLASK_", "EXPO_"))}
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        env.update({"EXPO_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(36)[:48],
                    "DATABASE_URL": self.db_url, "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports[0]}",
                    "SESSION_COOKIE_SECURE": "0", "EXPO_INSTANCE_PATH": str(instance),
                    "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}"})
        # The app's own folder first on the path: its expo_app, config and wsgi, not the editable
        # install's (which is this checkout).
        env["PYTHONPATH"] = os.pathsep.join([str(self.app_root)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
        if self.setup == "two-instances":
            env["REDIS_URL"] = REDIS_URL
            print(f"  redis db 15: {flush_redis()}")
        self.env = env
        t0 = time.monotonic()
        root = self.app_root
        migrated = run([str(VENV_BIN / "expo"), "init-db"], env=env, check=False, cwd=root)
        if migrated.returncode != 0:  # an app without `expo init-db`: its Alembic migrations directly
            why = (migrated.stderr or migrated.stdout).strip()[-300:]
            print(f"  expo init-db failed ({migrated.returncode}): {why}"
                  "\n  running the app's migrations with flask_migrate.upgrade instead")
            run([str(VENV_BIN / "python"), "-c", MIGRATE_SCRIPT, str(root / "migrations")], env=env, cwd=root)
        seeded = run([str(VENV_BIN / "python"), "-c", SEED_SCRIPT, str(args.teams), str(args.judges),
                      self.admin_email, self.admin_password, "0" if args.no_plan else "1"], env=env, cwd=root)
        line = next((ln for ln in seeded.stdout.splitlines() if ln.startswith("SEED ")), None)
        if line is None:
            raise SystemExit(f"Seeding printed no SEED line:\n{seeded.stdout}\n{seeded.stderr}")
        self.seed = json.loads(line[5:])
        self.team_by_id = {t["id"]: t["code"] for t in self.seed["teams"]}
        plan = {"1": "with an assignment plan", "0": "no plan (--no-plan)"}.get(
            self.seed.get("plan"), "no plan: this app has no assignments")
        print(f"  seeded {len(self.seed['teams'])} teams, {len(self.seed['judges'])} judges, "
              f"{len(self.seed['criteria'])} criteria, {plan}, in {time.monotonic() - t0:.1f} s ({self.db_url})")
        offset = self.servers.imports.stat().st_size if self.servers.imports.exists() else 0
        for i, port in enumerate(ports):
            self.bases.append(self.servers.start(env, port, f"{self.setup}{i + 1}", args.workers, args.threads,
                                                 args.worker_class))
        workers = [len(worker_pids(m)) for m in self.servers.master_pids()]
        conf = self.servers.conf() if not (args.workers or args.threads or args.worker_class) else \
            (f"{self.servers.conf()}, workers {args.workers or 'default'}, threads {args.threads or 'default'}, "
             f"worker class {args.worker_class or 'default'}")
        print(f"  gunicorn ({conf}, cwd {root}) on {', '.join(self.bases)}: workers {workers}")
        self.describe_app(offset)
        self.features = detect_app(self.bases[0])
        print(f"  the served phone: {self.features.describe()}")

    def describe_app(self, imports_offset: int) -> None:
        """Which app this is (folder, commit) and which expo_app the seed and the workers imported."""
        root = self.app_root
        commit = run(["git", "-C", str(root), "log", "-1", "--format=%h %cd %s", "--date=short"],
                     check=False).stdout.strip()
        dirty = run(["git", "-C", str(root), "status", "--porcelain", "--", "expo_app", "static", "templates",
                     "migrations", "config.py", "wsgi.py", "gunicorn.conf.py"], check=False).stdout.splitlines()
        deadline = time.monotonic() + 10
        workers: list[str] = []
        while time.monotonic() < deadline:  # each worker writes its line once it has loaded the app
            try:
                with open(self.servers.imports, "rb") as handle:
                    handle.seek(imports_offset)
                    workers = handle.read().decode(errors="replace").splitlines()
            except OSError:
                workers = []
            if len(workers) >= sum(len(worker_pids(m)) for m in self.servers.master_pids()):
                break
            time.sleep(0.2)
        worker_files = sorted({w.split(" ", 2)[2] for w in workers if w.count(" ") >= 2})
        expected = str(root / "expo_app" / "__init__.py")
        self.app = {"dir": str(root), "commit": commit[:120], "uncommitted_app_files": len(dirty),
                    "seed_imported": self.seed.get("expo_app"), "workers_imported": worker_files,
                    "as_expected": self.seed.get("expo_app") == expected and worker_files == [expected]}
        print(f"  app: {root} at {commit[:100]}" + (f" + {len(dirty)} uncommitted app file(s)" if dirty else ""))
        print(f"  expo_app imported by the seed: {self.seed.get('expo_app')}; by the gunicorn workers: "
              f"{', '.join(worker_files) or 'unknown (no worker wrote its line)'}"
              + ("" if self.app["as_expected"] else f"  <-- NOT {expected}"))

    async def run_phase(self, name: str, judges, organisers, duration: float, pause, fault: str | None = None,
                        ramp: bool = False) -> Phase:
        phase = Phase(name, retry_faults=fault is not None)
        phase.phone_mode = bool(self.args.phone)
        offsets = [log.stat().st_size if log.exists() else 0 for log in self.servers.logs()]
        server_cpu0 = tree_cpu_seconds(self.servers.master_pids())
        machine_cpu0 = machine_cpu_seconds()
        tasks = [asyncio.create_task(j.run(phase, pause)) for j in judges]
        tasks += [asyncio.create_task(o.run(phase)) for o in organisers]
        if ramp:
            n = len(judges)
            levels = sorted({max(1, n // 8), max(1, n // 4), max(1, n // 2), n})
            step = duration / len(levels)
            for level in levels:
                phase.active_limit = level
                t0 = phase.now()
                await asyncio.sleep(step)
                phase.steps.append((t0, phase.now(), level))
            phase.active_limit = None
        elif fault:
            await asyncio.sleep(duration * 0.4)
            phase.faults.append(phase.now())
            phase.fault_notes.append(await asyncio.to_thread(self.inject, fault))
            await asyncio.sleep(duration * 0.6)
        else:
            await asyncio.sleep(duration)
        phase.stop.set()
        phase.wall = phase.now()  # the rates are over the time the load was on
        phase.cpu = time.process_time() - phase.cpu0
        phase.server_cpu = tree_cpu_seconds(self.servers.master_pids()) - server_cpu0
        phase.machine_cpu = machine_cpu_seconds() - machine_cpu0
        # In-flight requests finish (a retrying judge gets a little longer) before anything is read.
        done, pending = await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT_S + 30)
        for t in pending:
            t.cancel()
        # The phones' workers (a precache pass, a trickle) stop asking once the phase has ended.
        workers = [t for j in judges if j.phone is not None for t in j.phone.tasks]
        if workers:
            w_done, w_pending = await asyncio.wait(workers, timeout=lp.PRECACHE_TIMEOUT_S + 5)
            for t in w_pending:
                t.cancel()
            done |= {t for t in w_done if not t.cancelled()}
        for t in done:
            if t.exception() is not None:
                phase.note(f"a simulated phone crashed: {t.exception()!r}")
        phase.log_offsets = offsets
        return phase

    def inject(self, fault: str) -> str:
        if fault == "kill-worker":
            master = self.servers.master_pids()[0]
            workers = worker_pids(master)
            if not workers:
                return f"no worker of master {master} to kill"
            victim = random.Random(self.args.seed).choice(workers)
            os.kill(victim, signal.SIGKILL)
            return f"SIGKILL worker {victim} of master {master} (workers were {workers})"
        if fault == "pg-terminate":
            n = terminate_pg_connections()
            return f"pg_terminate_backend on {n} connections to {PG_DB}"
        raise ValueError(fault)

    async def after_fault_check(self, judges) -> dict:
        """Without a restart: every worker back, and the app answers judges normally."""
        await asyncio.sleep(2)
        phase = Phase("after-fault")
        masters = self.servers.master_pids()
        workers = [len(worker_pids(m)) for m in masters]
        sample = judges[:: max(1, len(judges) // 20)][:20]

        async def check(judge) -> bool:
            home = await judge.home(phase)
            team_id = judge.scored[0] if judge.scored else judge.todo[0]
            fields = await judge.open_team(phase, self.team_by_id[team_id])
            saved = await judge.submit(phase, team_id, fields)
            if saved and team_id not in judge.scored:
                judge.todo.remove(team_id)
                judge.scored.append(team_id)
            return bool(home is not None and fields is not None and saved)

        tasks = [asyncio.create_task(check(j)) for j in sample]
        done, pending = await asyncio.wait(tasks, timeout=2 * REQUEST_TIMEOUT_S + 30)
        for t in pending:
            t.cancel()
        ok = sum(1 for t in done if not t.cancelled() and t.exception() is None and t.result())
        failures = [s for s in phase.samples if s.kind != "ok"]
        return {"masters": len(masters), "workers": workers, "judges_checked": len(sample), "judges_ok": ok,
                "failed_requests": len(failures), "notes": phase.unexpected[:5],
                "ok": ok == len(sample) and not failures and len(masters) == len(self.servers.procs)}

    def headline(self, phase: Phase) -> dict:
        """The numbers issue 18 compares: per phase, for the side-by-side table (--compare)."""
        def p95(labels, first=False):
            ms = [s.ms for s in phase.samples if s.label in labels and (not first or s.t < FIRST_S)]
            return percentile(ms, 95)

        conn = [s for s in phase.samples if s.status is None]
        out = {"judges": self.args.judges, "teams": self.args.teams, "setup": self.setup,
               "submit_p95_first_30s": p95(SUBMIT_LABELS, first=True), "submit_p95": p95(SUBMIT_LABELS),
               "sign_in_p95": p95(("POST /j/<token>",)), "home_p95": p95(("GET /judge",)),
               "page_p95": p95(PAGE_LABELS),
               "scan_to_home_p95": percentile(phase.signin_ms, 95) if phase.signin_ms else None,
               "requests": len(phase.samples),
               "not_modified": sum(1 for s in phase.samples if s.status == 304),
               "errors": sum(1 for s in phase.samples if s.kind == "error"),
               "connection_errors": len(conn), "connection_errors_by_type": dict(_count(s.error for s in conn)),
               "server_cpu_s": round(getattr(phase, "server_cpu", 0.0), 1), "seconds": round(phase.wall, 1)}
        if phase.phone_mode and phase.phones:  # (phones that signed in during this phase)
            out["phones"] = lp.readiness(list(phase.phones.values()), phase.wall)
        return out

    def summarise(self, phase: Phase, verification: dict, extra: dict | None = None) -> dict:
        by_label = defaultdict(list)
        for s in phase.samples:
            by_label[s.label].append(s)
        endpoints = {}
        order = [*PAGE_LABELS, *SUBMIT_LABELS, *JUDGE_API_LABELS, *PHONE_LABELS, *ADMIN_LABELS]
        for label in sorted(by_label, key=lambda x: order.index(x) if x in order else 99):
            samples = by_label[label]
            ms = [s.ms for s in samples]  # failed attempts too: a timeout is a wait the judge had
            endpoints[label] = {
                "requests": len(samples), "rps": len(samples) / phase.wall if phase.wall else 0,
                "p50": percentile(ms, 50), "p95": percentile(ms, 95), "p99": percentile(ms, 99),
                "max": max(ms) if ms else float("nan"),
                "errors": sum(1 for s in samples if s.kind == "error"),
                "retried_after_fault": sum(1 for s in samples if s.kind == "fault"),
                "shed_503": sum(1 for s in samples if s.kind == "shed"),
                "statuses": dict(sorted(_count(s.status for s in samples if s.kind != "ok").items(), key=str)),
                "not_modified": sum(1 for s in samples if s.status == 304),
                "connection_errors": sum(1 for s in samples if s.status is None),
            }
        subs = [s for s in phase.samples if s.label in SUBMIT_LABELS and s.kind == "ok"]
        result = {"setup": self.setup, "phase": phase.name, "seconds": round(phase.wall, 1),
                  "generator_cpu_pct": round(100 * phase.cpu / phase.wall, 1) if phase.wall else None,
                  "server_cpu_pct": round(100 * getattr(phase, "server_cpu", 0) / phase.wall, 1) if phase.wall else None,
                  # Everything else on the machine meanwhile (other programs share the cores).
                  "other_cpu_pct": round(100 * max(0.0, getattr(phase, "machine_cpu", 0) - getattr(phase, "server_cpu", 0)
                                                   - phase.cpu) / phase.wall, 1) if phase.wall else None,
                  "submissions": len(subs), "submissions_per_s": len(subs) / phase.wall if phase.wall else 0,
                  "endpoints": endpoints, "gave_up": phase.gave_up, "unexpected": phase.unexpected[:30],
                  "faults": phase.fault_notes, "verification": verification,
                  "app": self.app, "served_phone": vars(self.features), "phone_mode": phase.phone_mode,
                  "headline": self.headline(phase)}
        if phase.steps:
            steps = []
            for t0, t1, level in phase.steps:
                warm = t0 + min(2.0, (t1 - t0) / 4)
                inside = [s for s in phase.samples if warm <= s.t < t1]
                ok_subs = [s for s in inside if s.label in SUBMIT_LABELS and s.kind == "ok"]
                sub_ms = [s.ms for s in inside if s.label in SUBMIT_LABELS and s.status is not None]
                page_ms = [s.ms for s in inside if s.label in PAGE_LABELS and s.status is not None]
                steps.append({"judges": level, "submissions_per_s": len(ok_subs) / (t1 - warm),
                              "requests_per_s": len(inside) / (t1 - warm),
                              "submit_p50": percentile(sub_ms, 50), "submit_p95": percentile(sub_ms, 95),
                              "page_p95": percentile(page_ms, 95),
                              "failures": sum(1 for s in inside if s.kind == "error"),
                              "shed_503": sum(1 for s in inside if s.kind == "shed")})
            result["steps"] = steps
            clean = [s for s in steps if s["failures"] == 0] or steps
            result["sustained"] = max(clean, key=lambda s: s["submissions_per_s"])
        logs, durations = [], defaultdict(list)
        for log, offset in zip(self.servers.logs(), getattr(phase, "log_offsets", [])):
            errors, times = read_log(log, offset)
            logs += errors
            for k, v in times.items():
                durations[k] += v
        result["server_errors"] = logs[:12]
        # Time inside the app (its own access log), without queueing in gunicorn or the network.
        result["server_side_ms"] = {k: {"requests": len(v), "p50": percentile(v, 50), "p95": percentile(v, 95),
                                        "p99": percentile(v, 99)} for k, v in sorted(durations.items())}
        if extra:
            result.update(extra)
        return result


def _count(items):
    counts = defaultdict(int)
    for item in items:
        counts[str(item)] += 1
    return counts


# ----------------------------------------------------------------------------------- reports

def fmt(x, digits=0):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{digits}f}"


def print_result(r: dict) -> None:
    print(f"\n=== {r['setup']} / {r['phase']}: {r['seconds']} s, {r['submissions']} submissions "
          f"({r['submissions_per_s']:.1f}/s); CPU: gunicorn {r['server_cpu_pct']}%, generator "
          f"{r['generator_cpu_pct']}%, other programs {r['other_cpu_pct']}% (100% = one core; "
          f"the machine has {os.cpu_count()})")
    for note in r.get("faults", []):
        print(f"  fault: {note}")
    print(f"  {'endpoint':<26}{'requests':>9}{'req/s':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}"
          f"{'errors':>8}{'conn.err':>9}{'fault-retried':>15}{'503s':>6}{'304s':>6}")
    for label, e in r["endpoints"].items():
        print(f"  {label:<26}{e['requests']:>9}{e['rps']:>8.1f}{fmt(e['p50']):>8}{fmt(e['p95']):>8}"
              f"{fmt(e['p99']):>8}{fmt(e['max']):>8}{e['errors']:>8}{e.get('connection_errors', 0):>9}"
              f"{e['retried_after_fault']:>15}{e['shed_503']:>6}{e.get('not_modified', 0):>6}"
              + (f"   {e['statuses']}" if e["statuses"] else ""))
    print_headline(r)
    if r.get("server_side_ms"):
        inside = ", ".join(f"{k.split(' ', 1)[0]} {k.split(' ', 1)[1].split('.')[-1]} {fmt(v['p50'])}/{fmt(v['p95'])}"
                           for k, v in r["server_side_ms"].items() if v["requests"] >= 5)
        print(f"  time inside the app (access log), p50/p95 ms: {inside}")
    for s in r.get("steps", []):
        print(f"  step {s['judges']:>4} judges: {s['submissions_per_s']:6.1f} submissions/s, "
              f"{s['requests_per_s']:6.1f} req/s, submit p50/p95 {fmt(s['submit_p50'])}/{fmt(s['submit_p95'])} ms, "
              f"page p95 {fmt(s['page_p95'])} ms, failures {s['failures']}, 503s {s['shed_503']}")
    if "sustained" in r:
        s = r["sustained"]
        print(f"  highest sustained: {s['submissions_per_s']:.1f} submissions/s with {s['judges']} judges "
              f"(submit p50 {fmt(s['submit_p50'])} ms, p95 {fmt(s['submit_p95'])} ms)")
    v = r["verification"]
    print(f"  database: {v['pairs_acked']} acknowledged (judge, team) pairs, {v['sheets_in_db']} sheets; "
          f"lost {v['lost']}, duplicated {v['duplicated']}, wrong value {v['wrong_value']}, "
          f"revision mismatch {v['revision_mismatch']}, audit mismatch {v['audit_mismatch']}, "
          + (f"keys missing {v['keys_missing']}, " if v.get("keys_checked", True) else
             "keys not checked (this app keeps no submission keys), ")
          + f"stray sheets {v['stray_sheets']}, uncertain (gave up) {v['uncertain']}"
          f" -> {'OK' if v['ok'] else 'PROBLEM'}")
    for e in v["examples"][:5]:
        print(f"    {e}")
    if r.get("after_fault"):
        a = r["after_fault"]
        print(f"  after the fault, no restart: workers {a['workers']}, {a['judges_ok']}/{a['judges_checked']} judges "
              f"home+form+submit ok, {a['failed_requests']} failed requests -> {'OK' if a['ok'] else 'PROBLEM'}")
    if (r.get("other_cpu_pct") or 0) > 20:
        print(f"  WARNING: other programs used {r['other_cpu_pct']}% of a core during this phase: the latencies "
              "above are not those of a quiet machine.")
    if r["gave_up"]:
        print(f"  requests given up after {MAX_ATTEMPTS} attempts: {r['gave_up']}")
    if r["unexpected"]:
        print(f"  first unexpected answers ({len(r['unexpected'])}):")
        for u in r["unexpected"][:8]:
            print(f"    {u[:240]}")
    if r["server_errors"]:
        print(f"  gunicorn log, errors and tracebacks ({len(r['server_errors'])} distinct):")
        for entry in r["server_errors"][:6]:
            lines = entry.splitlines()
            shown = lines if len(lines) <= 14 else lines[:3] + ["      ..."] + lines[-10:]
            print("    " + "\n    ".join(shown))


def fmt_s(x) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1f} s"


def fmt_ready(d: dict) -> str:
    """p50/p95/max of a readiness time, where a phone not ready by the end reads '>' the phase."""
    def one(x):
        return fmt_s(x) if x is not None else f">{d['censored_at']:.0f} s"
    return (f"p50 {one(d['p50'])}, p95 {one(d['p95'])}, max {one(d['max'])} "
            f"({d['done']} of {d['phones']} phones" + (f"; {d['not_done']} not by the end" if d["not_done"] else "")
            + ")")


def print_headline(r: dict) -> None:
    h = r.get("headline")
    if not h:
        return
    print(f"  served phone: {lp.AppFeatures(**r['served_phone']).describe()}"
          + ("" if r.get("phone_mode") else "  (without --phone: no sign-in burst, no service worker)"))
    if h["connection_errors"]:
        kinds = ", ".join(f"{k or '?'} {n}" for k, n in sorted(h["connection_errors_by_type"].items()))
        print(f"  >>> CONNECTION ERRORS: {h['connection_errors']} requests got no HTTP answer ({kinds}) <<<")
    else:
        print("  connection errors: 0")
    print(f"  submit p95 {fmt(h['submit_p95_first_30s'])} ms in the first {FIRST_S:.0f} s, {fmt(h['submit_p95'])} ms "
          f"overall; sign-in (POST /j/<token>) p95 {fmt(h['sign_in_p95'])} ms"
          + (f", scan to home page p95 {fmt(h['scan_to_home_p95'])} ms"
             if h.get("scan_to_home_p95") is not None else "")
          + f"; home p95 {fmt(h['home_p95'])} ms; errors {h['errors']}; {h['requests']} requests"
          + (f" ({h['not_modified']} answered 304)" if h["not_modified"] else "")
          + f"; server CPU {h['server_cpu_s']:.1f} s in {h['seconds']:.0f} s")
    ph = h.get("phones")
    if ph is None:
        return
    if not ph["protocols"]:
        print(f"  ready offline: never ({ph['no_manifest']} phones got no /judge/offline.json: "
              + ("this app has no offline mode" if not r["served_phone"]["service_worker"] else "it failed") + ")")
        return
    protocol = "/".join(str(p) for p in ph["protocols"])
    if ph["protocols"] == [1]:
        print(f"  ready offline (protocol 1: every page, {ph['now_pages']} pages), from the badge scan: "
              f"{fmt_ready(ph['ready'])}")
    else:
        print(f"  ready offline (protocol {protocol}: every `now` page, up to {ph['now_pages']}), from the badge scan: "
              f"{fmt_ready(ph['ready'])}")
        print(f"  every page kept ({ph['all_pages']} pages): {fmt_ready(ph['every_page'])}")
        if ph["every_page"]["not_done"]:
            print("    (protocol 2's phone asks for a `later` page only while one page stays open past a wait drawn "
                  "from later_start_s, then one every later_gap_s; loading another page starts the wait again. "
                  "These judges load a page every --pause seconds.)")


def goals(r: dict) -> list[tuple[str, bool, str]]:
    """(goal, passed, detail) for one phase's result."""
    out = []
    e = r["endpoints"]
    tag = f"{r['setup']}/{r['phase']}"

    def p95s(labels):
        return {label: e[label]["p95"] for label in labels if label in e}

    if r["phase"] in ("load", "faults-kill-worker", "faults-pg-terminate"):
        subs = p95s(SUBMIT_LABELS)
        worst = max(subs.values(), default=float("nan"))
        out.append((f"{tag}: submission p95 < {GOAL_SUBMIT_P95_MS} ms", worst < GOAL_SUBMIT_P95_MS,
                    ", ".join(f"{k} {fmt(v)} ms" for k, v in subs.items())))
        pages = p95s(PAGE_LABELS)
        worst = max(pages.values(), default=float("nan"))
        out.append((f"{tag}: every judge page p95 < {GOAL_PAGE_P95_MS} ms", worst < GOAL_PAGE_P95_MS,
                    ", ".join(f"{k} {fmt(v)}" for k, v in pages.items())))
        admin = p95s(ADMIN_LABELS)
        worst = max(admin.values(), default=float("nan"))
        out.append((f"{tag}: dashboard p95 < {GOAL_ADMIN_P95_MS} ms", worst < GOAL_ADMIN_P95_MS,
                    ", ".join(f"{k} {fmt(v)}" for k, v in admin.items())))
    ph = (r.get("headline") or {}).get("phones")
    if ph and ph["protocols"]:
        ready = ph["ready"]
        out.append((f"{tag}: every phone ready offline within {GOAL_READY_P95_S:.0f} s p95 (from the badge scan)",
                    ready["p95"] is not None and ready["p95"] < GOAL_READY_P95_S, fmt_ready(ready)))
    if r.get("headline") and not r["phase"].startswith("faults"):
        h = r["headline"]
        out.append((f"{tag}: zero connection errors", h["connection_errors"] == 0,
                    f"{h['connection_errors']} {h['connection_errors_by_type'] or ''}".strip()))
    errors = sum(x["errors"] for x in e.values())
    fault_retried = sum(x["retried_after_fault"] for x in e.values())
    out.append((f"{tag}: zero errors", errors == 0 and r["gave_up"] == 0,
                f"{errors} errors, {r['gave_up']} given up"
                + (f", {fault_retried} retried after the fault" if r["phase"].startswith("faults") else "")))
    v = r["verification"]
    out.append((f"{tag}: zero lost/duplicated/wrong scores", v["ok"],
                f"lost {v['lost']}, duplicated {v['duplicated']}, wrong {v['wrong_value']}, "
                f"revision {v['revision_mismatch']}, audit {v['audit_mismatch']}"))
    if r.get("after_fault"):
        out.append((f"{tag}: answers normally after the fault, without a restart", r["after_fault"]["ok"],
                    f"workers {r['after_fault']['workers']}, {r['after_fault']['judges_ok']}/"
                    f"{r['after_fault']['judges_checked']} judges ok"))
    if "sustained" in r:
        s = r["sustained"]
        out.append((f"{tag}: highest sustained rate (report)", True,
                    f"{s['submissions_per_s']:.1f} submissions/s at {s['judges']} judges, "
                    f"submit p95 {fmt(s['submit_p95'])} ms"))
    return out


# ----------------------------------------------------------------------------------- main

async def run_setup(bench: Bench, phases: list[str]) -> None:
    args = bench.args
    duration = args.duration
    judges = [Judge(bench, i, info) for i, info in enumerate(bench.seed["judges"][:args.judges])]
    organisers = [Organiser(bench, i) for i in range(args.organisers)]
    pause = args.pause
    try:
        for name in phases:
            if name == "faults" and bench.setup == "sqlite":
                print("\n(faults run on the PostgreSQL set-ups only)")
                continue
            runs = [("load", None, pause, False)] if name == "load" else \
                [("stress", None, None, True)] if name == "stress" else \
                [("faults-kill-worker", "kill-worker", pause, False), ("faults-pg-terminate", "pg-terminate", pause, False)]
            for label, fault, p, ramp in runs:
                print(f"\n--- {bench.setup}: {label} ({duration:.0f} s, {len(judges)} judges, "
                      f"{len(organisers)} organisers) ...", flush=True)
                phase = await bench.run_phase(label, judges, organisers, duration, p, fault=fault, ramp=ramp)
                extra = {}
                if fault:
                    extra["after_fault"] = await bench.after_fault_check(judges)
                verification = await asyncio.to_thread(verify, bench.db_url, bench.seed["event_id"], bench.ledger)
                result = bench.summarise(phase, verification, extra)
                bench.results.append(result)
                print_result(result)
    finally:
        for j in judges:
            await j.close()
        for o in organisers:
            await o.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setup", choices=["sqlite", "postgres", "two-instances", "all"], default="all")
    parser.add_argument("--phases", default="load,stress,faults", help="comma-separated: load, stress, faults")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20 s per phase")
    parser.add_argument("--duration", type=float, default=None, help="seconds per phase (default 60, --quick 20)")
    parser.add_argument("--judges", type=int, default=200)
    parser.add_argument("--teams", type=int, default=60)
    parser.add_argument("--organisers", type=int, default=3)
    parser.add_argument("--form-share", type=float, default=0.2, help="share of submissions sent as the plain form")
    parser.add_argument("--edit-share", type=float, default=0.3, help="share of visits that edit a scored sheet")
    parser.add_argument("--port", type=int, default=8471, help="gunicorn's port (two-instances: this and the next)")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default: gunicorn.conf.py's, or 3)")
    parser.add_argument("--threads", type=int, default=0, help="threads per worker (default: the conf's, or 4)")
    parser.add_argument("--worker-class", default="", help="gunicorn's worker class, e.g. sync (default: the conf's, gthread)")
    parser.add_argument("--no-plan", action="store_true", help="no assignment plan (judges walk in random order)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", metavar="FILE", help="write every number to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance folders")
    parser.add_argument("--phone", action="store_true",
                        help="whole phones: sign-in burst, static files, the service worker's precache (issue 18)")
    parser.add_argument("--burst", type=float, default=10.0,
                        help="--phone: every badge is scanned within this many seconds of the start (default 10)")
    parser.add_argument("--pause", default="2.5,7.5", metavar="MIN,MAX",
                        help="seconds between a judge's actions (default 2.5,7.5; a hall's judge stays minutes at "
                             "a table, and protocol 2's phones fetch `later` pages only while a page stays open)")
    parser.add_argument("--app-dir", metavar="DIR",
                        help="serve and seed the app of this checkout (a baseline worktree), with this venv")
    parser.add_argument("--compare", nargs="+", metavar="JSON",
                        help="print the headline numbers of these --json files side by side, and exit")
    args = parser.parse_args(argv)
    if args.compare:
        return compare(args.compare)
    try:
        lo, hi = (float(x) for x in args.pause.split(","))
        if not 0 <= lo <= hi:
            raise ValueError
    except ValueError:
        parser.error(f"--pause {args.pause}: two numbers MIN,MAX with 0 <= MIN <= MAX")
    args.pause = (lo, hi)
    if args.app_dir and not (Path(args.app_dir) / "expo_app" / "__init__.py").exists():
        parser.error(f"--app-dir {args.app_dir}: no expo_app/__init__.py there")
    if args.duration is None:
        args.duration = 20.0 if args.quick else 60.0
    if not (VENV_BIN / "gunicorn").exists():
        raise SystemExit(f"{VENV_BIN / 'gunicorn'} is missing: run `make install` first.")
    try:
        import httpx  # noqa: F401
    except ImportError:
        raise SystemExit("httpx is missing: .venv/bin/pip install httpx") from None
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(phases) - {"load", "stress", "faults"}
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    setups = ["sqlite", "postgres", "two-instances"] if args.setup == "all" else [args.setup]
    random.seed(args.seed)

    tmp = Path(tempfile.mkdtemp(prefix="expo-load-"))
    log_dir = Path(tempfile.gettempdir()) / f"expo-load-logs-{time.strftime('%Y%m%d-%H%M%S')}"
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"Expo Judge under load: {args.judges} judges, {args.teams} teams, {args.organisers} organisers, "
          f"{args.duration:.0f} s per phase; set-ups {', '.join(setups)}; phases {', '.join(phases)}; "
          + (f"phones (sign-in burst of {args.burst:.0f} s, service worker); " if args.phone else "")
          + f"app {Path(args.app_dir).resolve() if args.app_dir else ROOT}; gunicorn logs in {log_dir}")

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    old_term = signal.signal(signal.SIGTERM, on_signal)
    results: list[dict] = []
    bench = None
    interrupted = False
    try:
        for setup in setups:
            print(f"\n##### set-up: {setup}")
            bench = Bench(args, setup, tmp, log_dir)
            try:
                bench.prepare()
                asyncio.run(run_setup(bench, phases))
            finally:
                bench.servers.stop()
                results += bench.results
    except KeyboardInterrupt:
        interrupted = True
        print("\nInterrupted: servers stopped.", file=sys.stderr)
    finally:
        if bench is not None:
            bench.servers.stop()
        signal.signal(signal.SIGTERM, old_term)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    verdicts = [g for r in results for g in goals(r)]
    if verdicts:
        print("\n##### goals")
        for goal, passed, detail in verdicts:
            print(f"{'PASS' if passed else 'FAIL'}  {goal}  ({detail})")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "args": vars(args), "results": results,
            "goals": [{"goal": g, "pass": p, "detail": d} for g, p, d in verdicts]}, indent=1, default=str))
        print(f"\nWrote {args.json}")
    if interrupted:
        return 130
    return 0 if verdicts and all(p for _g, p, _d in verdicts) else 1


COMPARE_ROWS = (
    ("app", lambda r, h: (r.get("app") or {}).get("commit", "?")[:7]),
    ("set-up, judges", lambda r, h: f"{r['setup']}, {h['judges']}"),
    ("phones (--phone)", lambda r, h: "yes" if r.get("phone_mode") else "no"),
    ("ready offline p50 (s)", lambda r, h: _ready(h, "ready", "p50")),
    ("ready offline p95 (s)", lambda r, h: _ready(h, "ready", "p95")),
    ("ready offline max (s)", lambda r, h: _ready(h, "ready", "max")),
    ("every page kept p95 (s)", lambda r, h: _ready(h, "every_page", "p95")),
    ("submit p95, first 30 s (ms)", lambda r, h: fmt(h["submit_p95_first_30s"])),
    ("submit p95 (ms)", lambda r, h: fmt(h["submit_p95"])),
    ("sign-in POST p95 (ms)", lambda r, h: fmt(h["sign_in_p95"])),
    ("scan to home p95 (ms)", lambda r, h: fmt(h.get("scan_to_home_p95"))),
    ("home p95 (ms)", lambda r, h: fmt(h["home_p95"])),
    ("submissions", lambda r, h: str(r["submissions"])),
    ("requests (304s)", lambda r, h: f"{h['requests']} ({h['not_modified']})"),
    ("errors", lambda r, h: str(h["errors"])),
    ("CONNECTION ERRORS", lambda r, h: str(h["connection_errors"])),
    ("server CPU (s)", lambda r, h: f"{h['server_cpu_s']:.0f}"),
    ("other programs' CPU (%)", lambda r, h: fmt(r.get("other_cpu_pct"))),
    ("exactly once", lambda r, h: "OK" if r["verification"]["ok"] else "PROBLEM"),
)


def _ready(h: dict, which: str, name: str) -> str:
    ph = h.get("phones")
    if not ph:
        return "-"
    if not ph["protocols"]:
        return "never"
    d = ph[which]
    return fmt(d[name], 1) if d[name] is not None else f">{d['censored_at']:.0f}"


def compare(files: list[str]) -> int:
    """The headline numbers of several runs (their --json files), one column per run and phase."""
    columns = []
    for name in files:
        data = json.loads(Path(name).read_text())
        for r in data.get("results", []):
            if r.get("headline"):
                columns.append((f"{Path(name).stem} {r['phase']}", r))
    if not columns:
        print("No results with headline numbers in these files.")
        return 1
    width = max(14, *(len(c[0]) for c in columns)) + 2
    print(f"{'':<30}" + "".join(f"{c[0]:>{width}}" for c in columns))
    for title, value in COMPARE_ROWS:
        cells = []
        for _name, r in columns:
            try:
                cells.append(value(r, r["headline"]))
            except (KeyError, TypeError):
                cells.append("-")
        print(f"{title:<30}" + "".join(f"{c:>{width}}" for c in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
