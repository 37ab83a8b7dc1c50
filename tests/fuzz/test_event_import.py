"""`expo import-event FILE`: a damaged, hostile or foreign event file is refused whole, with a message."""
from __future__ import annotations

import copy
import json
import math

import pytest
from hypothesis import given, strategies as st

from expo_app.extensions import db
from expo_app.models import Event

from . import checks
from .conftest import budget
from .strategies import PAYLOADS, hostile_text

BAD_VALUES = st.one_of(
    hostile_text().filter(lambda t: len(t) < 2000), st.sampled_from(PAYLOADS),
    st.sampled_from([None, True, 0, -1, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 63 - 1, 2 ** 63, 2 ** 64,
                     -(2 ** 63) - 1, 10 ** 400, 1.5, math.inf, -math.inf, math.nan, [], {}, [[]], {"x": 1},
                     {"x\x00": 1}, "", "a\x00b", "2027-02-30", "9999-12-31T23:59:59", "not a date", "t1", "j999",
                     "c0"]),
    st.integers(min_value=-(2 ** 80), max_value=2 ** 80))


def _paths(value, prefix=()):
    """Every (path to a value) in the document, to replace or delete."""
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, prefix + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value[:3]):
            yield from _paths(inner, prefix + (index,))


def _set(doc, path, value, delete=False):
    target = doc
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value


@pytest.fixture
def event_file(world):
    """The seeded event as its JSON file, with new team codes so that it can go into the same database."""
    from expo_app.portability import export_event

    with world.app.app_context():
        data = export_event(db.session.get(Event, world.ids["event"]))
    for number, team in enumerate(data["teams"]):
        team["code"] = f"ZZ{number:06d}"
    for row in data["teams"] + data["judges"] + data["certificates"]:  # printed identities (schema 11) clash too
        row.pop("uid", None)
        row.pop("legacy_id", None)
    data["event"]["name"] = "Imported " + data["event"]["name"]
    return data


def _import(world, runner, tmp_path, content: bytes):
    path = tmp_path / "event.json"
    path.write_bytes(content)
    before = world.rows()
    result = runner.invoke(args=["import-event", str(path)])
    after = world.rows()
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"import-event crashed: {type(result.exception).__name__}: {str(result.exception)[:300]}")
    if result.exit_code == 0:
        checks.columns_fit(world.app)
        with world.app.app_context():
            event_id = db.session.execute(db.select(Event.id).order_by(Event.id.desc())).scalars().first()
        for page in (f"/admin/events/{event_id}", f"/admin/events/{event_id}/teams", f"/admin/events/{event_id}/judges",
                     f"/admin/events/{event_id}/rubric", f"/admin/events/{event_id}/scores"):
            response = world.client.get(page)
            checks.no_server_error(response)
            checks.inert_html(response.get_data(as_text=True))
        for export in (f"/admin/events/{event_id}/team-links.csv", f"/admin/events/{event_id}/scores.csv"):
            response = world.client.get(export)
            checks.no_server_error(response)
            checks.formula_safe_csv(response.get_data(as_text=True))
    else:
        assert "Nothing was imported" in result.output or "Error" in result.output, result.output
        assert "Traceback" not in result.output, result.output
        checks.unchanged(before, after)
    world.reset(after)
    return result


def test_the_untouched_file_imports(world, runner, tmp_path, event_file):
    result = _import(world, runner, tmp_path, json.dumps(event_file).encode())
    assert result.exit_code == 0, result.output


@budget(ci=20)
@given(data=st.data())
def test_damaged_event_file(world, runner, tmp_path, event_file, data):
    doc = copy.deepcopy(event_file)
    paths = [p for p in _paths(doc) if p]
    for _ in range(data.draw(st.integers(min_value=1, max_value=3), label="mutations")):
        path = data.draw(st.sampled_from(paths), label="path")
        try:
            _set(doc, path, data.draw(BAD_VALUES, label="value"), delete=data.draw(st.booleans(), label="delete"))
        except (KeyError, IndexError, TypeError):
            pass  # a path inside something an earlier mutation replaced
    content = json.dumps(doc, allow_nan=True).encode()
    how = data.draw(st.sampled_from(["as is", "as is", "truncated", "bom", "latin-1", "bad byte"]), label="bytes")
    if how == "truncated":
        content = content[:data.draw(st.integers(min_value=0, max_value=len(content)))]
    elif how == "latin-1":
        content = json.dumps(doc, ensure_ascii=False).encode("utf-8", "replace").replace(b"\xc3", b"\xe9")
    elif how == "bad byte":
        content = content[:10] + b"\xff\xfe" + content[10:]
    elif how == "bom":
        content = b"\xef\xbb\xbf" + content
    result = _import(world, runner, tmp_path, content)
    if how in ("latin-1", "bad byte"):
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            assert result.exit_code == 1 and "The file is not UTF-8 text" in result.output, result.output


@budget(ci=5)
@given(names=st.lists(st.sampled_from(PAYLOADS), min_size=4, max_size=4))
def test_imported_payloads_are_inert(world, runner, tmp_path, event_file, names):
    doc = copy.deepcopy(event_file)
    doc["teams"][0]["name"], doc["teams"][0]["project"] = names[0][:120], names[1]
    doc["judges"][0]["name"], doc["criteria"][0]["name"] = names[2][:120], names[3][:120]
    doc["teams"][0]["members"][0]["name"] = names[1][:120]
    result = _import(world, runner, tmp_path, json.dumps(doc).encode())
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02", b"[]", b'{"format": "expo-judge-event"}',
                                     b'{"format": "expo-judge-event", "schema": 99}',
                                     b'{"format": "expo-judge-event", "schema": "8"}',
                                     b"{" * 100000 + b"}" * 100000, b"[" * 100000 + b"]" * 100000,
                                     b'{"format": "expo-judge-event", "schema": NaN}'], ids=range(9))
@pytest.mark.any_database  # refused as it is read, before any database work
def test_not_an_event_file(world, runner, tmp_path, content):
    result = _import(world, runner, tmp_path, content)
    assert result.exit_code != 0


@pytest.mark.parametrize("content", [b"\xff\xfe{}", '{"format": "expo-judge-event", "é": 1}'.encode("latin-1")],
                         ids=["utf16-bom", "latin-1"])
def test_event_file_not_utf8(world, runner, tmp_path, content):
    result = _import(world, runner, tmp_path, content)
    assert result.exit_code == 1, result.output
    assert "Nothing was imported from" in result.output and "The file is not UTF-8 text" in result.output, \
        result.output


@pytest.mark.parametrize("number", [2 ** 31, 2 ** 63, 2 ** 64, -(2 ** 31) - 1, 10 ** 400])
def test_event_file_integers_past_32_bits(world, runner, tmp_path, event_file, number):
    for section, index, key in [("event", None, "judges_per_team"), ("teams", 0, "table_number"),
                                ("event", None, "plan_seed")]:
        doc = copy.deepcopy(event_file)
        target = doc[section] if index is None else doc[section][index]
        target[key] = number
        result = _import(world, runner, tmp_path, json.dumps(doc).encode())
        assert result.exit_code == 1, result.output
        assert "Nothing was imported" in result.output and "The file is damaged: the number" in result.output \
            and "is too large" in result.output, result.output


@pytest.mark.parametrize("where", ["event name", "team name", "key"])
def test_event_file_nul_character(world, runner, tmp_path, event_file, where):
    doc = copy.deepcopy(event_file)
    if where == "event name":
        doc["event"]["name"] += "\x00"
    elif where == "team name":
        doc["teams"][0]["name"] = "Nul\x00Team"
    else:
        doc["event"]["x\x00"] = 1
    result = _import(world, runner, tmp_path, json.dumps(doc).encode())
    assert result.exit_code == 1, result.output
    assert "Nothing was imported" in result.output and "The file is damaged" in result.output \
        and "NUL character" in result.output, result.output
