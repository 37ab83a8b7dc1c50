"""The judge's phone for bench/load.py --phone (issue 18): what a browser running static/judge/sw.js
and phone.js sends, over HTTP, for the protocol the served app speaks.

What the served app's phone does is read from the app itself, never assumed from this checkout:

- its scripts (fetched once by the bench: /static/judge/phone.js, /static/judge/store.js, /sw.js)
  say whether there is a JSON outbox (GET /judge/csrf, then the sheet as JSON), a visit beacon
  (POST /judge/visiting/<code> after a fresh form), which page is loaded after a save (/t/<code> or
  /t/<code>?saved=1), a service worker with a precache, and whether precache GETs carry
  `X-Expo-Precache: 1`. An app without them (commit 2827b5c) is a plain HTML form: no offline mode.
- /judge/offline.json says which pages to keep. Protocol 1 (no "protocol" key): `urls`, every page
  at once. Protocol 2 (`"protocol": 2`): `now` (fetched at once) and `later` (trickled, below); if
  `now`/`later` are missing, every page of `urls` is `now`. In protocol 2 every precache GET carries
  `X-Expo-Precache: 1`, there is no visit beacon, and after a save the phone loads /t/<code>?saved=1,
  whatever the scripts look like.

The phone, step by step, as the scripts of 2634b89 do it:

- The browser fetches each /static/ file a page refers to once (its HTTP cache, then the worker's
  cache serve it afterwards), and /sw.js once, when a judge page first loads phone.js.
- Scanning a badge (a navigation to /j/...) empties the kept pages.
- A navigation to /judge or /t/<code> without a query that answers 200 for this judge (X-Expo-Judge)
  is kept (network first; the new copy replaces the old one).
- Every judge page loaded (/judge, /t/<code>, with or without a query) posts "judge" to the worker,
  which starts a precache pass unless one is running (sw.js precache()): GET /judge/offline.json
  (no-store, given up after 10 s; a worker with MANIFEST_MAX_AGE_MS reuses the manifest it fetched
  within that time, and the `later` pages it noted then), then the `now` pages, 3 at a time, each given up after 15 s and
  not retried within the pass; a page already kept is not asked for (sw.js revalidates a kept copy
  with If-None-Match only when forced, and nothing forces it). The pass notes the `later` pages
  afresh and reports to the open page.
- Protocol 2, the trickle (phone.js keepTheRest, sw.js precacheMore): the page that gets a report
  with `later` pages left and forms not kept starts a timer: after a wait drawn from
  `later_start_s` [min, max] (default [20, 120]), every max(1, `later_gap_s`) seconds (default 6) it
  asks the worker for one more page: the next noted `later` page not kept yet (one request), until
  every form is kept. The timer belongs to the page: loading another page ends it, and the new page
  starts its own, with a new wait. (So a judge who moves on within the wait never gets a `later`
  page; the bench's default pauses are 2.5-7.5 s: see --pause.)
- Ready offline: every `now` page kept (protocol 1: every page); every page kept: all of `urls`.
  Both are timed from the badge scan (the start of GET /j/<token>).
"""
from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

PRECACHE_PARALLEL = 3          # sw.js: Promise.all([worker(), worker(), worker()])
MANIFEST_TIMEOUT_S = 10.0      # sw.js: fetchWithin("/judge/offline.json", ..., 10000)
PRECACHE_TIMEOUT_S = 15.0      # sw.js: fetchWithin(url, ..., 15000)
MIN_GAP_S = 1.0                # phone.js keepTheRest: Math.max(1, d.later_gap_s || 6)

LABEL_MANIFEST = "GET /judge/offline.json"
LABEL_PRECACHE = "GET precache"
LABEL_STATIC = "GET /static (once)"
LABEL_SW = "GET /sw.js (once)"
LABEL_BEACON = "POST /judge/visiting"

ASSET = re.compile(r'<(?:link|script)\b[^>]*?\b(?:href|src)="(/static/[^"]+)"')


# ----------------------------------------------------------------------------------- the served app

@dataclass
class AppFeatures:
    """What the served app's phone scripts do (read from the scripts it serves)."""
    scripts: bool = False          # /static/judge/phone.js is served
    json_outbox: bool = False      # store.js: GET /judge/csrf, then POST the sheet as JSON
    beacon: bool = False           # phone.js: POST /judge/visiting/<code> after a fresh form
    saved_query: bool = False      # phone.js: after a save, /t/<code>?saved=1 (else /t/<code>)
    service_worker: bool = False   # /sw.js precaches what /judge/offline.json lists
    precache_header: bool = False  # sw.js: precache GETs carry X-Expo-Precache: 1
    manifest_max_age_s: float = 0.0  # sw.js MANIFEST_MAX_AGE_MS: a pass within it reuses the manifest it has

    def describe(self) -> str:
        if not self.scripts:
            return "no phone scripts (plain HTML forms, no outbox, no service worker: no offline mode)"
        parts = ["JSON outbox" if self.json_outbox else "no JSON outbox (plain forms)",
                 "visit beacon" if self.beacon else "no visit beacon",
                 "after a save /t/<code>" + ("?saved=1" if self.saved_query else ""),
                 ("service worker with precache" + (" (X-Expo-Precache: 1)" if self.precache_header else
                                                    " (no precache header)")) if self.service_worker
                 else "no service worker"]
        if self.service_worker and self.manifest_max_age_s:
            parts.append(f"manifest reused for {self.manifest_max_age_s:g} s")
        return ", ".join(parts)


def detect_features(phone_js: str | None, store_js: str | None, sw_js: str | None) -> AppFeatures:
    """The features from the scripts' text (None: not served)."""
    if not phone_js:
        return AppFeatures()
    return AppFeatures(
        scripts=True,
        json_outbox=bool(store_js) and "/judge/csrf" in store_js,
        beacon="/judge/visiting/" in phone_js,
        saved_query="?saved=1" in phone_js,
        service_worker=bool(sw_js) and "offline.json" in sw_js,
        precache_header=bool(sw_js) and "X-Expo-Precache" in sw_js,
        manifest_max_age_s=_manifest_max_age_s(sw_js or ""),
    )


def _manifest_max_age_s(sw_js: str) -> float:
    """sw.js's `var MANIFEST_MAX_AGE_MS = 5 * 60 * 1000;` in seconds (0: the manifest is asked for on every pass)."""
    found = re.search(r"MANIFEST_MAX_AGE_MS\s*=\s*([\d\s*]+);", sw_js)
    if not found:
        return 0.0
    product = 1
    for factor in found.group(1).split("*"):
        product *= int(factor)
    return product / 1000


@dataclass
class Manifest:
    protocol: int
    judge_id: str
    urls: list[str]                    # every page (home and every form)
    now: list[str]
    later: list[str]
    later_start_s: tuple[float, float] = (20.0, 120.0)
    later_gap_s: float = 6.0


def _seconds(value, default: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return default
    return x if math.isfinite(x) and x >= 0 else default


def parse_manifest(data: dict) -> Manifest:
    """/judge/offline.json as the phone reads it (sw.js precache() and report(), phone.js keepTheRest())."""
    try:
        protocol = int(data.get("protocol", 1))
    except (TypeError, ValueError):
        protocol = 1
    urls = [str(u) for u in data.get("urls") or []]
    if protocol < 2:
        return Manifest(protocol, str(data.get("judge_id")), urls, urls, [])
    now, later = data.get("now"), data.get("later")
    now = [str(u) for u in now] if now else urls   # sw.js: manifest.now || manifest.urls
    later = [str(u) for u in later or []]
    start = data.get("later_start_s") or [20, 120]
    if isinstance(start, (list, tuple)):
        lo, hi = _seconds(start[0], 20.0), _seconds(start[-1], 120.0)
    else:
        lo = hi = _seconds(start, 20.0)
    return Manifest(protocol, str(data.get("judge_id")), urls or list(dict.fromkeys(now + later)), now, later,
                    (lo, max(lo, hi)), _seconds(data.get("later_gap_s") or 6, 6.0))


def local_path(url: str) -> str:
    """A URL of the site as a path with its query ("http://host/t/AB?x=1" -> "/t/AB?x=1")."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def cache_key(path: str) -> str:
    """sw.js's cacheKey: the path without its query, a team code in capitals."""
    path = urlsplit(path).path
    return "/t/" + path[3:].upper() if path.startswith("/t/") else path


def is_judge_page(path: str) -> bool:
    p = urlsplit(path).path
    return p == "/judge" or bool(re.fullmatch(r"/t/[^/]+", p))


# ----------------------------------------------------------------------------------- readiness

@dataclass
class PhoneTimes:
    """One phone's sign-in, in seconds since the phase started."""
    judge_id: int
    scan_t: float                      # GET /j/<token> sent
    home_t: float | None = None        # the judge home has arrived (sign-in done)
    protocol: int | None = None
    now_pages: int = 0
    all_pages: int = 0
    ready_t: float | None = None       # every `now` page kept
    all_t: float | None = None         # every page kept


def censored_percentiles(values: list[float | None], wall: float) -> dict:
    """p50/p95/max of durations where None is "not by the end" (longer than any measured one):
    nearest rank, so that a percentile that falls on an unfinished phone reads as None."""
    n = len(values)
    done = sorted(v for v in values if v is not None)
    out = {"phones": n, "done": len(done), "not_done": n - len(done)}
    for name, p in (("p50", 50), ("p95", 95)):
        if not n:
            out[name] = None
            continue
        rank = max(1, math.ceil(n * p / 100))
        out[name] = done[rank - 1] if rank <= len(done) else None
    out["max"] = done[-1] if done and len(done) == n else None
    out["max_done"] = done[-1] if done else None
    out["censored_at"] = wall
    return out


def readiness(times: list[PhoneTimes], wall: float) -> dict:
    ready = [t.ready_t - t.scan_t if t.ready_t is not None else None for t in times]
    every = [t.all_t - t.scan_t if t.all_t is not None else None for t in times]
    protocols = sorted({t.protocol for t in times if t.protocol is not None})
    return {"protocols": protocols,
            "now_pages": max((t.now_pages for t in times), default=0),
            "all_pages": max((t.all_pages for t in times), default=0),
            "ready": censored_percentiles(ready, wall), "every_page": censored_percentiles(every, wall),
            "no_manifest": sum(1 for t in times if t.protocol is None)}


# ----------------------------------------------------------------------------------- the phone

class Phone:
    """One judge's browser and service worker: the pages kept, the precache, the trickle.

    `judge` is bench/load.py's Judge: its `request(phase, method, path, label, *, headers, ok, retry,
    timeout)` sends one request (recording it) and returns the response or None."""

    def __init__(self, judge, features: AppFeatures, rng):
        self.judge, self.features, self.rng = judge, features, rng
        self.kept: dict[str, str | None] = {}     # cache key -> the copy's ETag (None: none)
        self.manifest: Manifest | None = None
        self.later_paths: list[str] | None = None  # sw.js `later.paths`: noted by each pass, taken by the trickle
        self.manifest_at: float | None = None  # when the manifest was fetched (sw.js `later.fetchedAt`)
        self.assets: set[str] = set()             # /static/ files the browser has
        self.sw_installed = False
        self.pass_task: asyncio.Task | None = None
        self.page_gone: asyncio.Event | None = None  # set when the judge leaves the open page
        self.tasks: set[asyncio.Task] = set()
        self.times: PhoneTimes | None = None

    # What the served app's phone does after a save and on a fresh form.
    @property
    def protocol(self) -> int:
        return self.manifest.protocol if self.manifest else 1

    def sends_beacon(self) -> bool:
        return self.protocol < 2 and self.features.beacon

    def after_save_path(self, code: str) -> str:
        return f"/t/{code}?saved=1" if self.protocol >= 2 or self.features.saved_query else f"/t/{code}"

    def precache_headers(self) -> dict:
        return {"X-Expo-Precache": "1"} if self.protocol >= 2 or self.features.precache_header else {}

    # ------------------------------------------------------------------------------ events

    def scanned(self, phase) -> None:
        """A badge is scanned: the worker empties the kept pages; timing starts."""
        self.kept.clear()
        self.manifest, self.later_paths, self.manifest_at = None, None, None
        self.times = PhoneTimes(self.judge.id, phase.now())
        phase.phones[self.judge.id] = self.times

    async def loaded(self, phase, path: str, response) -> None:
        """A page the judge navigated to has arrived (response None: it failed)."""
        if self.page_gone is not None:
            self.page_gone.set()  # the page before it is unloaded: its trickle timer goes with it
            self.page_gone = None
        if response is None:
            return
        if self.times is not None and path == "/judge" and self.times.home_t is None:
            self.times.home_t = phase.now()
        html = response.text if "html" in response.headers.get("content-type", "") else ""
        new = [a for a in dict.fromkeys(ASSET.findall(html)) if a not in self.assets]
        if new:  # the browser fetches what the page refers to, in parallel, once
            self.assets.update(new)
            await asyncio.gather(*(self.judge.request(phase, "GET", a, LABEL_STATIC, retry=False) for a in new))
        if not (self.features.service_worker and is_judge_page(path) and "judge/phone.js" in html):
            return
        if not self.sw_installed:
            self.sw_installed = True
            await self.judge.request(phase, "GET", "/sw.js", LABEL_SW, retry=False)
        if response.status_code == 200 and "?" not in path and self._for_me(response):
            self._keep(phase, cache_key(path), response.headers.get("ETag"))
        # phone.js posts "judge": a pass unless one is running; its report reaches this page.
        if self.pass_task is None or self.pass_task.done():
            self.pass_task = self._spawn(self.precache_pass(phase))
        self.page_gone = asyncio.Event()
        self._spawn(self.page_life(phase, self.page_gone, self.pass_task))

    def _for_me(self, response) -> bool:
        return response.headers.get("X-Expo-Judge") == str(self.judge.id)

    def _keep(self, phase, key: str, etag: str | None) -> None:
        self.kept[key] = etag
        self._check_ready(phase)

    def _kept_forms(self) -> int:
        """sw.js report(): how many of the manifest's pages are kept, less the home."""
        return sum(1 for p in dict.fromkeys(self.manifest.urls) if cache_key(p) in self.kept) - 1

    def _check_ready(self, phase) -> None:
        t, m = self.times, self.manifest
        if t is None or m is None:
            return
        if t.ready_t is None and all(cache_key(p) in self.kept for p in m.now):
            t.ready_t = phase.now()
        if t.all_t is None and all(cache_key(p) in self.kept for p in m.urls):
            t.all_t = phase.now()

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def cancel(self) -> None:
        for task in list(self.tasks):
            task.cancel()

    # ------------------------------------------------------------------------------ the worker

    async def fetch_for_cache(self, phase, path: str, force: bool = False) -> bool:
        """sw.js keepPage(): one page for the offline copy; whether the phone has it afterwards."""
        key = cache_key(path)
        if key in self.kept and not force:
            return True
        headers = dict(self.precache_headers())
        if key in self.kept and self.kept[key]:
            headers["If-None-Match"] = self.kept[key]
        r = await self.judge.request(phase, "GET", path, LABEL_PRECACHE, headers=headers, ok=(200, 304),
                                     retry=False, timeout=PRECACHE_TIMEOUT_S)
        if r is None:
            return key in self.kept  # offline midway: what is kept stays kept
        if r.status_code == 304:
            return key in self.kept
        if r.status_code == 200 and self._for_me(r):
            self._keep(phase, key, r.headers.get("ETag"))
            return True
        return False

    async def precache_pass(self, phase) -> None:
        """sw.js precache(): the manifest (the one it has, if fetched within MANIFEST_MAX_AGE_MS: the
        `later` pages noted then keep their progress), then the `now` pages, 3 at a time."""
        max_age = self.features.manifest_max_age_s
        if self.manifest is not None and self.manifest_at is not None and phase.now() - self.manifest_at < max_age:
            manifest = self.manifest
        else:
            r = await self.judge.request(phase, "GET", "/judge/offline.json", LABEL_MANIFEST, retry=False,
                                         timeout=MANIFEST_TIMEOUT_S)
            if r is None:
                return
            try:
                manifest = parse_manifest(r.json())
            except ValueError:
                return
            if manifest.judge_id != str(self.judge.id):
                phase.note(f"judge {self.judge.id}: offline.json is for judge {manifest.judge_id}")
                return
            self.manifest, self.later_paths, self.manifest_at = manifest, list(manifest.later), phase.now()
        if self.times is not None:
            self.times.protocol = manifest.protocol
            self.times.now_pages = len({cache_key(p) for p in manifest.now})
            self.times.all_pages = len({cache_key(p) for p in manifest.urls})
        self._check_ready(phase)
        queue = list(manifest.now)

        async def worker():
            while queue and not phase.stop.is_set():
                await self.fetch_for_cache(phase, queue.pop(0))

        await asyncio.gather(*(worker() for _ in range(PRECACHE_PARALLEL)))

    async def precache_more(self, phase) -> None:
        """sw.js precacheMore(): the next noted `later` page not kept yet (one request at most)."""
        if self.later_paths is None:
            if self.pass_task is None or self.pass_task.done():
                self.pass_task = self._spawn(self.precache_pass(phase))
            await asyncio.shield(self.pass_task)
            if self.later_paths is None:
                return
        while self.later_paths:
            path = self.later_paths.pop(0)
            if cache_key(path) not in self.kept:
                await self.fetch_for_cache(phase, path)
                return

    async def _wait(self, phase, gone: asyncio.Event, seconds: float) -> bool:
        """Wait while the page is open; False when it is gone (or the phase has ended)."""
        waits = [asyncio.ensure_future(phase.stop.wait()), asyncio.ensure_future(gone.wait())]
        try:
            await asyncio.wait(waits, timeout=max(0.0, seconds), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
        return not phase.stop.is_set() and not gone.is_set()

    def _more_wanted(self) -> bool:
        """phone.js: a report with `later` pages left and forms not kept starts the trickle."""
        m = self.manifest
        return (m is not None and m.protocol >= 2 and bool(self.later_paths)
                and self._kept_forms() < len(m.urls) - 1)

    async def page_life(self, phase, gone: asyncio.Event, pass_task: asyncio.Task) -> None:
        """An open judge page: the worker's report arrives when the pass ends; then, in protocol 2,
        phone.js's trickle timer, for as long as the page stays open."""
        try:
            await asyncio.shield(pass_task)
        except Exception:  # noqa: BLE001 - the pass reported its own failures
            return
        if gone.is_set() or not self._more_wanted():
            return
        m = self.manifest
        if not await self._wait(phase, gone, self.rng.uniform(*m.later_start_s)):
            return
        while True:
            await self.precache_more(phase)
            m = self.manifest
            if self._kept_forms() >= len(m.urls) - 1:
                return  # trickle "done"
            if not await self._wait(phase, gone, max(MIN_GAP_S, m.later_gap_s)):
                return
