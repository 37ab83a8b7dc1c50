"""A judge's score sheet, as the plain form and as the phone's script (JSON) sends it."""
from __future__ import annotations

import re

import pytest
from hypothesis import example, given, strategies as st

from expo_app.extensions import db
from expo_app.models import Score

from . import checks
from .conftest import budget
from .strategies import MISSING, NUL, hostile_text, inert_text, maybe_missing, number_text

KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
EDITED_RE = re.compile(r"^\d{10,15}$")
# Phone edit times a real phone sends (ms since 1970) and ones it never would.
edited_at = st.one_of(st.integers(min_value=10 ** 12, max_value=2 * 10 ** 12).map(str),
                      st.sampled_from(["", "0", "-1", "abc", "1e12", "1" * 16, "١٢٣٤٥٦٧٨٩٠١٢"]),
                      st.integers(min_value=10 ** 9, max_value=253_402_300_799_999).map(str))
keys = st.one_of(st.text(st.sampled_from("AZaz09_-"), min_size=8, max_size=64),
                 st.sampled_from(["", "short", "x" * 65, "bad key!", "<script>alert(1)</script>", "ключ-ключ-ключ"]))
flag = st.sampled_from([MISSING, MISSING, "y", "on", "1", "0", "false", "", "<script>"])


def _truthy(value) -> bool:
    return value is not MISSING and value not in ("false", "")


@st.composite
def sheets(draw, criterion_ids):
    values = {f"criterion_{cid}": draw(maybe_missing(st.one_of(st.integers(min_value=0, max_value=6).map(str),
                                                               number_text)))
              for cid in criterion_ids}
    extra = {
        "comment": draw(maybe_missing(hostile_text())),
        "private_note": draw(maybe_missing(hostile_text())),
        "absent": draw(flag), "conflict": draw(flag),
        "idempotency_key": draw(maybe_missing(keys)),
        "edited_at": draw(maybe_missing(edited_at)),
        "revision": draw(maybe_missing(st.sampled_from(["0", "1", "5", "-1", "x", "9" * 10, "999999999"]))),
        "judge_id": draw(st.sampled_from([MISSING, MISSING, "SELF", "0", "-1", "99999999999999999999", "x"])),
    }
    data = {**values, **extra}
    return {k: v for k, v in data.items() if v is not MISSING}


def _must_refuse(data: dict, criterion_ids) -> bool:
    """Input that the rules say is bad, whatever else is sent."""
    if _truthy(data.get("absent", MISSING)) and _truthy(data.get("conflict", MISSING)):
        return True
    if any(len(data.get(f, "")) > 4000 for f in ("comment", "private_note")):
        return True
    if data.get("idempotency_key") and not KEY_RE.match(data["idempotency_key"]):
        return True
    if data.get("edited_at") and not EDITED_RE.match(data["edited_at"]):
        return True
    if not (_truthy(data.get("absent", MISSING)) or _truthy(data.get("conflict", MISSING))):
        for cid in criterion_ids:
            raw = data.get(f"criterion_{cid}", "").strip()
            if not raw:
                return True
            try:
                number = float(raw)
            except ValueError:
                return True
            if not (number.is_integer() and 1 <= number <= 5):
                return True
    return False


def _submit(world, judge, data: dict, as_json: bool, key_header: str | None = None):
    code = world.ids["codes"][6]  # a team nobody scored in the seed
    sent = dict(data)
    if sent.get("judge_id") == "SELF":
        sent["judge_id"] = str(world.ids["judges"][0])
    headers = {}
    if as_json:
        headers["Accept"] = "application/json"
    if key_header is not None:
        headers["Idempotency-Key"] = key_header
    return judge.post(f"/t/{code}", data=sent, headers=headers), sent


def _check_outcome(world, response, sent, before, as_json, key_header=None):
    checks.no_server_error(response)
    after = world.rows()
    criterion_ids = world.ids["criteria"]
    if checks.carries_nul(sent, key_header or ""):  # refused before anything else is looked at
        checks.refused_for_nul(response, as_json=as_json)
        checks.unchanged(before, after, response)
        world.reset(after)
        return
    other_judge = sent.get("judge_id") not in (None, str(world.ids["judges"][0]))
    if as_json or other_judge:  # a sheet marked with another judge is answered in JSON (the phone's outbox)
        body = response.get_json()
        assert body is not None, checks.describe(response)
        accepted = response.status_code == 200 and body.get("status") in ("saved", "unchanged", "stale")
        if not accepted:
            assert response.status_code in (403, 409, 422), checks.describe(response)
            assert body.get("status") in ("refused", "not_saved") and body.get("reason"), checks.describe(response)
    else:
        accepted = response.status_code == 302
        if not accepted:
            checks.refused_clearly(response)
            checks.inert_html(response.get_data(as_text=True), [sent.get("comment"), sent.get("private_note")])
    if other_judge:
        assert not accepted and response.status_code == 403, checks.describe(response)
    if _must_refuse(sent, criterion_ids):
        assert not accepted, "bad sheet accepted: " + checks.describe(response)
    if key_header and len(key_header) > 64:  # stored keys hold 64 characters: a longer one is refused
        assert not accepted, "sheet with a key longer than 64 characters accepted: " + checks.describe(response)
    if not accepted:
        checks.unchanged(before, after, response)
    else:
        checks.columns_fit(world.app)
        with world.app.app_context():
            team_id = world.ids["teams"][6]
            score = db.session.execute(db.select(Score).where(Score.team_id == team_id,
                                                              Score.judge_id == world.ids["judges"][0])).scalar_one()
            assert score.comment == (sent.get("comment") or "").strip()
            assert score.absent == _truthy(sent.get("absent", MISSING))
        _pages_are_inert(world, [sent.get("comment"), sent.get("private_note")])
    world.reset(after)


def _pages_are_inert(world, texts):
    code, event = world.ids["codes"][6], world.ids["event"]
    judge = world.judge_client(0)
    for path in (f"/t/{code}", "/judge"):
        response = judge.get(path)
        checks.no_server_error(response)
        checks.inert_html(response.get_data(as_text=True), texts)
    for path in (f"/admin/events/{event}/scores", f"/admin/events/{event}/feedback", f"/admin/events/{event}/audit",
                 f"/admin/events/{event}/dashboard"):
        response = world.client.get(path)
        checks.no_server_error(response)
        checks.inert_html(response.get_data(as_text=True), texts)


@budget(ci=15)
@given(data=st.data())
def test_score_form_post(world, data):
    sheet = data.draw(sheets(world.ids["criteria"]))
    judge = world.judge_client(0)
    before = world.rows()
    response, sent = _submit(world, judge, sheet, as_json=False)
    _check_outcome(world, response, sent, before, as_json=False)


HEADER_KEYS = st.one_of(st.none(), st.text(st.sampled_from("AZaz09_-"), min_size=8, max_size=64),
                        st.sampled_from(["", "x", "k" * 64, "k" * 65, "k" * 300, "<script>alert(1)</script>"]))


@budget(ci=15)
@given(data=st.data(), header_key=HEADER_KEYS)
def test_score_json_path(world, data, header_key):
    sheet = data.draw(sheets(world.ids["criteria"]))
    judge = world.judge_client(0)
    before = world.rows()
    response, sent = _submit(world, judge, sheet, as_json=True, key_header=header_key)
    _check_outcome(world, response, sent, before, as_json=True, key_header=header_key)


@budget(ci=8)
@given(data=st.data(), header_key=HEADER_KEYS)
def test_score_form_post_with_key_header(world, data, header_key):
    sheet = data.draw(sheets(world.ids["criteria"]))
    judge = world.judge_client(0)
    before = world.rows()
    response, sent = _submit(world, judge, sheet, as_json=False, key_header=header_key)
    _check_outcome(world, response, sent, before, as_json=False, key_header=header_key)


@budget(ci=4)
@given(comment=inert_text(4000), note=inert_text(4000), absent=st.booleans())
def test_accepted_comments_are_shown_inert(world, comment, note, absent):
    judge = world.judge_client(0)
    sheet = {f"criterion_{c}": "3" for c in world.ids["criteria"]}
    sheet.update(comment=comment, private_note=note)
    if absent:
        sheet["absent"] = "y"
    before = world.rows()
    response, sent = _submit(world, judge, sheet, as_json=False)
    assert response.status_code == 302, checks.describe(response)
    _check_outcome(world, response, sent, before, as_json=False)


def test_replaying_a_key_with_another_sheet_is_refused(world):
    judge = world.judge_client(0)
    base = {f"criterion_{c}": "3" for c in world.ids["criteria"]}
    first, _ = _submit(world, judge, {**base, "comment": "first"}, as_json=True, key_header="k" * 20)
    assert first.get_json()["status"] == "saved"
    before = world.rows()
    again, _ = _submit(world, judge, {**base, "comment": "<script>alert(1)</script>"}, as_json=True,
                       key_header="k" * 20)
    assert again.status_code == 422 and again.get_json()["status"] == "refused"
    checks.unchanged(before, world.rows(), again)


def _utcnow():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).replace(tzinfo=None)


@pytest.mark.parametrize("where", ["header", "form"])
@pytest.mark.parametrize("as_json", [True, False], ids=["json", "form-post"])
def test_long_idempotency_key_is_refused(world, where, as_json):
    """A key longer than the 64 characters stored: refused, nothing saved (so never replayed wrongly)."""
    judge = world.judge_client(0)
    base = {f"criterion_{c}": "3" for c in world.ids["criteria"]}
    long_key = "k" * 100
    sheet = {**base, "comment": "first"}
    if where == "form":
        sheet["idempotency_key"] = long_key
    before = world.rows()
    response, _ = _submit(world, judge, sheet, as_json=as_json, key_header=long_key if where == "header" else None)
    checks.no_server_error(response)
    if as_json:
        body = response.get_json(silent=True) or {}
        assert response.status_code == 422 and body.get("status") == "refused" and body.get("reason"), \
            checks.describe(response)
    elif where == "header":
        assert response.status_code == 400, checks.describe(response)
        checks.refused_clearly(response)
    else:  # the form's own field: the sheet comes back with the error on it
        assert response.status_code in (400, 422), checks.describe(response)
        checks.refused_clearly(response)
    checks.unchanged(before, world.rows(), response)


def test_long_idempotency_key_reused_with_another_sheet_is_refused(world):
    judge = world.judge_client(0)
    base = {f"criterion_{c}": "3" for c in world.ids["criteria"]}
    long_key = "k" * 100
    before = world.rows()
    for comment in ("first", "a different sheet"):
        again, _ = _submit(world, judge, {**base, "comment": comment}, as_json=True, key_header=long_key)
        assert again.status_code == 422 and again.get_json()["status"] == "refused", checks.describe(again)
        checks.unchanged(before, world.rows(), again)


@pytest.mark.parametrize("edited_at", [
    "999999999999999", "253402300800000",  # past the year 9999 (allowed by the form's ^\\d{10,15}$)
    pytest.param("4102444800000", id="year-2100"),
    pytest.param(str(10 ** 13), id="year-2286")])
def test_edited_at_far_in_the_future_is_clamped_to_now(world, edited_at):
    """Beyond year 9999, or a phone clock years ahead: saved, as of now."""
    judge = world.judge_client(0)
    sheet = {f"criterion_{c}": "3" for c in world.ids["criteria"]}
    for as_json in (False, True):
        start = _utcnow()
        response, sent = _submit(world, judge, {**sheet, "comment": f"json={as_json}", "edited_at": edited_at},
                                 as_json=as_json)
        checks.no_server_error(response)
        if as_json:
            assert response.status_code == 200 and response.get_json()["status"] == "saved", checks.describe(response)
        else:
            assert response.status_code == 302, checks.describe(response)
        with world.app.app_context():
            score = db.session.execute(db.select(Score).where(Score.team_id == world.ids["teams"][6],
                                                              Score.judge_id == world.ids["judges"][0])).scalar_one()
            assert score.comment == f"json={as_json}"
            assert start.replace(microsecond=0) <= score.client_edited_at.replace(microsecond=0) <= _utcnow(), (
                score.client_edited_at)
    world.reset()


def test_nul_in_sheet_is_refused_with_400(world):
    judge = world.judge_client(0)
    failures = []
    for field in ("comment", "private_note", "idempotency_key", "criterion", "judge_id"):
        for as_json in (False, True):
            sheet = {f"criterion_{c}": "3" for c in world.ids["criteria"]}
            if field == "criterion":
                sheet[f"criterion_{world.ids['criteria'][0]}"] = "3" + NUL
            elif field == "judge_id":
                sheet["judge_id"] = str(world.ids["judges"][0]) + NUL
            else:
                sheet[field] = "ok" * 5 + NUL + "tail"
            before = world.rows()
            response, _ = _submit(world, judge, sheet, as_json=as_json)
            # The phone's script gets its refusal as JSON ("refused", 422, kept for the judge to correct).
            try:
                checks.refused_for_nul(response, as_json=as_json)
            except AssertionError:
                failures.append(f"{field} {'json' if as_json else 'form'}: " + checks.describe(response)[:160])
            checks.unchanged(before, world.rows(), response)
            world.reset()
    assert not failures, failures
