"""bench/load_phone.py (bench/load.py --phone): the phone does what the served sw.js and phone.js do,
for both protocols of /judge/offline.json, against a fake server (no HTTP, well under a second)."""
from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import load_phone as lp  # noqa: E402

JUDGE = 7
PAGE = '<link rel="stylesheet" href="/static/app.css"><script src="/static/judge/phone.js" defer></script>'


class Response:
    def __init__(self, status, body="", headers=None, data=None):
        self.status_code, self.text, self._data = status, body, data
        self.headers = {"content-type": "text/html; charset=utf-8", "X-Expo-Judge": str(JUDGE), **(headers or {})}

    def json(self):
        return self._data


class Phase:
    def __init__(self):
        self.start = time.monotonic()
        self.stop = asyncio.Event()
        self.phones = {}
        self.notes = []

    def now(self):
        return time.monotonic() - self.start

    def note(self, text):
        self.notes.append(text)


class FakeJudge:
    """The server side: offline.json is `manifest`; every page answers 200 for this judge."""

    def __init__(self, manifest):
        self.id, self.manifest, self.sent = JUDGE, manifest, []

    async def request(self, phase, method, path, label, *, headers=None, ok=(200,), retry=True, timeout=None):
        self.sent.append((method, path, label, dict(headers or {})))
        await asyncio.sleep(0)
        if path == "/judge/offline.json":
            return Response(200, data=self.manifest, headers={"content-type": "application/json"})
        return Response(200, PAGE if lp.is_judge_page(path) else "")


def precache_paths(judge):
    return [path for _m, path, label, _h in judge.sent if label == lp.LABEL_PRECACHE]


def phone_for(manifest, features=None):
    judge = FakeJudge(manifest)
    features = features or lp.AppFeatures(scripts=True, json_outbox=True, service_worker=True)
    return judge, lp.Phone(judge, features, random.Random(1))


async def settle(phone):
    while phone.tasks:
        await asyncio.gather(*list(phone.tasks), return_exceptions=True)


def test_features_are_read_from_the_served_scripts():
    old = lp.detect_features('fetch("/judge/visiting/" + code); location.replace(location.pathname);',
                             'fetchJson("/judge/csrf", ...)', 'fetchWithin("/judge/offline.json", ...)')
    assert (old.beacon, old.saved_query, old.service_worker, old.precache_header, old.json_outbox) == \
        (True, False, True, False, True)
    new = lp.detect_features('location.replace(location.pathname + "?saved=1");', "/judge/csrf",
                             'offline.json ... headers = { "X-Expo-Precache": "1" }')
    assert (new.beacon, new.saved_query, new.precache_header) == (False, True, True)
    assert lp.detect_features(None, None, None) == lp.AppFeatures()  # an app without scripts: plain forms


def test_the_manifest_of_each_protocol():
    one = lp.parse_manifest({"judge_id": 7, "urls": ["/judge", "/t/A", "/t/B"]})
    assert (one.protocol, one.now, one.later) == (1, ["/judge", "/t/A", "/t/B"], [])
    two = lp.parse_manifest({"judge_id": 7, "protocol": 2, "urls": ["/judge", "/t/A", "/t/B"],
                             "now": ["/judge", "/t/A"], "later": ["/t/B"], "later_start_s": [5, 9], "later_gap_s": 2})
    assert (two.now, two.later, two.later_start_s, two.later_gap_s) == (["/judge", "/t/A"], ["/t/B"], (5, 9), 2)
    bare = lp.parse_manifest({"judge_id": 7, "protocol": 2, "urls": ["/judge", "/t/A"]})
    assert (bare.now, bare.later, bare.later_start_s, bare.later_gap_s) == (["/judge", "/t/A"], [], (20, 120), 6)


def test_protocol_1_keeps_every_page_at_once_and_sends_the_beacon():
    manifest = {"judge_id": JUDGE, "urls": ["/judge", "/t/A", "/t/B", "/t/C"]}
    features = lp.AppFeatures(scripts=True, json_outbox=True, beacon=True, service_worker=True)
    judge, phone = phone_for(manifest, features)

    async def go():
        phase = Phase()
        phone.scanned(phase)
        await phone.loaded(phase, "/judge", Response(200, PAGE))
        await settle(phone)
        return phase

    phase = asyncio.run(go())
    labels = [label for _m, _p, label, _h in judge.sent]
    assert labels.count(lp.LABEL_STATIC) == 2 and labels.count(lp.LABEL_SW) == 1
    assert precache_paths(judge) == ["/t/A", "/t/B", "/t/C"]  # the home came with the navigation
    assert all("X-Expo-Precache" not in h for _m, _p, label, h in judge.sent if label == lp.LABEL_PRECACHE)
    times = phase.phones[JUDGE]
    assert times.protocol == 1 and times.ready_t is not None and times.all_t is not None
    assert phone.sends_beacon() and phone.after_save_path("A") == "/t/A"


def test_protocol_2_keeps_now_at_once_and_later_one_at_a_time_while_the_page_is_open(monkeypatch):
    monkeypatch.setattr(lp, "MIN_GAP_S", 0.01)
    manifest = {"judge_id": JUDGE, "protocol": 2, "urls": ["/judge", "/t/A", "/t/B", "/t/C"],
                "now": ["/judge", "/t/A"], "later": ["/t/B", "/t/C"], "later_start_s": [0, 0], "later_gap_s": 0.01}
    judge, phone = phone_for(manifest)

    async def go():
        phase = Phase()
        phone.scanned(phase)
        await phone.loaded(phase, "/judge", Response(200, PAGE))
        await settle(phone)
        return phase

    phase = asyncio.run(go())
    assert precache_paths(judge) == ["/t/A", "/t/B", "/t/C"]
    assert all(h.get("X-Expo-Precache") == "1" for _m, _p, label, h in judge.sent if label == lp.LABEL_PRECACHE)
    times = phase.phones[JUDGE]
    assert times.protocol == 2 and (times.now_pages, times.all_pages) == (2, 4)
    assert times.ready_t <= times.all_t
    assert not phone.sends_beacon() and phone.after_save_path("A") == "/t/A?saved=1"


def test_protocol_2_later_pages_wait_for_a_page_that_stays_open(monkeypatch):
    """phone.js's trickle timer belongs to the page: a judge who moves on within the wait gets none."""
    manifest = {"judge_id": JUDGE, "protocol": 2, "urls": ["/judge", "/t/A", "/t/B"], "now": ["/judge", "/t/A"],
                "later": ["/t/B"], "later_start_s": [0.2, 0.2], "later_gap_s": 0}

    async def go():
        judge, phone = phone_for(manifest)
        phase = Phase()
        phone.scanned(phase)
        for path in ("/judge", "/t/A", "/t/A?saved=1", "/judge"):  # a new page every 50 ms
            await phone.loaded(phase, path, Response(200, PAGE))
            await asyncio.sleep(0.05)
        phase.stop.set()
        await settle(phone)
        return judge, phase

    judge, phase = asyncio.run(go())
    assert precache_paths(judge) == ["/t/A"]
    offline = [p for _m, p, label, _h in judge.sent if label == lp.LABEL_MANIFEST]
    assert len(offline) >= 2  # each page asks the worker, which fetches the manifest unless a pass runs
    assert phase.phones[JUDGE].all_t is None


@pytest.mark.parametrize(("values", "p50", "p95", "worst"), [
    ([1.0, 2.0, 3.0, 4.0], 2.0, 4.0, 4.0),
    ([1.0, 2.0, None, None], 2.0, None, None),  # the p95 phone was not ready by the end
])
def test_readiness_percentiles_count_unfinished_phones(values, p50, p95, worst):
    out = lp.censored_percentiles(values, 60.0)
    assert (out["p50"], out["p95"], out["max"]) == (p50, p95, worst)
    assert out["not_done"] == values.count(None)


def test_the_manifest_is_reused_for_as_long_as_the_served_worker_keeps_it():
    """sw.js keeps /judge/offline.json for MANIFEST_MAX_AGE_MS: the judge's next pages ask for it no more."""
    sw_js = (Path(__file__).resolve().parents[2] / "static" / "judge" / "sw.js").read_text()
    assert lp.detect_features("x", "/judge/csrf", sw_js).manifest_max_age_s == 300
    assert lp.detect_features("x", "/judge/csrf", 'fetch("/judge/offline.json")').manifest_max_age_s == 0
    manifest = {"judge_id": JUDGE, "protocol": 2, "urls": ["/judge", "/t/A"], "now": ["/judge", "/t/A"], "later": []}

    def manifests_asked(max_age):
        features = lp.AppFeatures(scripts=True, json_outbox=True, service_worker=True, manifest_max_age_s=max_age)
        judge, phone = phone_for(manifest, features)

        async def go():
            phase = Phase()
            phone.scanned(phase)
            for path in ("/judge", "/t/A", "/judge"):
                await phone.loaded(phase, path, Response(200, PAGE))
                await settle(phone)

        asyncio.run(go())
        return [path for _m, path, _l, _h in judge.sent].count("/judge/offline.json")

    assert manifests_asked(300) == 1 and manifests_asked(0) == 3
