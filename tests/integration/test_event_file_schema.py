"""Event files are checked whole against expo_app.event_schema before anything is written: no NaN or
Infinity, no nesting that crashes the reader, no wrong types, each refusal naming its place."""
from __future__ import annotations

import copy
import json

import pytest

from expo_app import create_app
from expo_app.admin.operations import change_scoring_state
from expo_app.documents.batches import build_batch
from expo_app.event_schema import MAX_DEPTH, EventSchemaError, validate
from expo_app.extensions import db
from expo_app.judging.operations import SheetInput, submit_score
from expo_app.models import Event, Judge, Team
from expo_app.portability import OLDEST_SCHEMA, SCHEMA, EventFileError, export_event, read_event_file
from expo_app.results.operations import accept_suggestions, finalise_awards
from expo_app.results.queries import award_suggestions

IDENTITY = ("uid", "legacy_id", "feedback_version", "token_version")
# Fields each schema added (expo_app/portability.py in git history): a file of an older schema has none of them.
ADDED_IN = {
    7: {"event": ["tables_per_row", "planned_at", "plan_seed"], "teams": ["companies", "pos_x", "pos_y",
                                                                          "absent_cleared_at"],
        "judges": ["available"], "top": ["conflicts", "assignments"]},
    8: {"event": ["live_routing"]},
    10: {"top": ["admin_actions"]},
    11: {"teams": list(IDENTITY), "judges": list(IDENTITY), "certificates": list(IDENTITY),
         "event": ["conflicted_may_score"], "scores": ["set_aside_at", "set_aside_reason", "set_aside_by"]},
}


def _finished_event(event: Event) -> None:
    """Scores, a letter scale, final awards (so a ranking snapshot), certificates, a planned hall."""
    for j, judge in enumerate(event.judges[:4]):
        for t, team in enumerate(event.teams[:5]):
            submit_score(judge, team, SheetInput(values={c.id: 1 + (j + t) % 5 for c in event.criteria},
                                                 comment=f"c{j}{t}", private_note=f"p{j}{t}"), "test")
    event.grade_scale = [["Pass", 50.0], ["Fail", 0.0]]
    event.tables_per_row = 4
    event.teams[0].pos_x, event.teams[0].pos_y = 1.5, 2.0
    change_scoring_state(event, "closed")
    change_scoring_state(event, "locked")
    accept_suggestions(event, award_suggestions(event), "admin: test")
    db.session.flush()
    finalise_awards(event, "admin: test", award_suggestions(event))
    build_batch(event, "participation")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A finished event's file (schema SCHEMA), made once on SQLite; each test changes a copy."""
    from expo_app.demo import seed_demo_event

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path_factory.mktemp('schema') / 'e.sqlite'}",
                      "PUBLIC_BASE_URL": "https://expo.example.org"})
    with app.app_context():
        db.create_all()
        event = seed_demo_event("demo-admin@example.org", "demo-admin-password")
        _finished_event(event)
        db.session.commit()
        data = json.loads(json.dumps(export_event(event)))
        db.session.remove()
        db.engine.dispose()
    assert data["schema"] == SCHEMA and data["snapshot"] and data["certificates"] and data["event"]["grade_scale"]
    return data


@pytest.fixture
def doc(exported):
    return copy.deepcopy(exported)


def _as_schema(data: dict, schema: int) -> dict:
    """The file as `export_event` wrote it at an older schema: without the fields added since."""
    data = copy.deepcopy(data)
    data["schema"] = schema
    for version, added in ADDED_IN.items():
        if schema >= version:
            continue
        for field in added.get("event", []):
            data["event"].pop(field, None)
        for section in ("teams", "judges", "certificates", "scores"):
            for row in data[section]:
                for field in added.get(section, []):
                    row.pop(field, None)
        for field in added.get("top", []):
            data.pop(field, None)
    return data


def _problem(data_or_text) -> str:
    text = data_or_text if isinstance(data_or_text, str) else json.dumps(data_or_text)
    with pytest.raises(EventFileError) as refused:
        read_event_file(text)
    return str(refused.value)


# ------------------------------------------------------------------------------------ what is accepted

@pytest.mark.parametrize("schema", range(OLDEST_SCHEMA, SCHEMA + 1))
def test_every_schema_this_version_reads_passes_the_schema(exported, schema):
    data = _as_schema(exported, schema)
    assert read_event_file(json.dumps(data)) == data
    if schema < 7:
        assert "conflicts" not in data and "pos_x" not in data["teams"][0]
    if schema < 11:
        assert "uid" not in data["teams"][0]


def test_schema_11_identities_are_optional_fields_with_their_ranges(doc):
    doc["teams"][0].update(uid="a" * 32, legacy_id=None, feedback_version=3)
    doc["judges"][0].update(uid="b", legacy_id=17, token_version=1)
    doc["certificates"][0].update(uid="CERT234567", legacy_id=4)
    validate(doc)
    doc["teams"][0]["uid"] = "a" * 33
    doc["judges"][0]["token_version"] = 0
    doc["certificates"][0]["legacy_id"] = "4"
    doc["teams"][1]["feedback_version"] = True
    doc["judges"][1]["uid"] = ""
    with pytest.raises(EventSchemaError) as refused:
        validate(doc)
    assert refused.value.problems == [
        "teams[0].uid longer than 32 characters (it has 33)",
        "teams[1].feedback_version: expected a whole number, got true",
        "judges[0].token_version: expected a whole number of at least 1, got 0",
        "judges[1].uid: empty",
        "certificates[0].legacy_id: expected a whole number or null, got \"4\"",
    ]


# ------------------------------------------------------------------------------------ what is refused

NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"]


def _first_name(mapping: dict) -> str:
    return next(iter(mapping))


# Where a non-finite number goes: (the object, its field) in the file, and the place the message names.
PLACES = {
    "weight": (lambda d: (d["criteria"][1], "weight"), "criteria[1].weight: expected a number"),
    "pos_x": (lambda d: (d["teams"][0], "pos_x"), "teams[0].pos_x: expected a number or null"),
    "grade-minimum": (lambda d: (d["event"]["grade_scale"][0], 1), "event.grade_scale[0][1]: expected a number"),
    "snapshot-score": (lambda d: (d["snapshot"]["data"]["teams"][2], "score"),
                       "snapshot.data.teams[2].score: expected a number"),
    "criterion-mean": (lambda d: (d["snapshot"]["data"]["teams"][0]["criterion_means"],
                                  _first_name(d["snapshot"]["data"]["teams"][0]["criterion_means"])),
                       'snapshot.data.teams[0].criterion_means[{name}]: expected a number or null'),
    "judge-offset": (lambda d: (d["snapshot"]["data"]["judges"][0], "offset"),
                     "snapshot.data.judges[0].offset: expected a finite number"),
    "audit-value": (lambda d: (d["audit"][0]["new"]["values"], _first_name(d["audit"][0]["new"]["values"])),
                    'audit[0].new.values[{name}]: expected a finite number'),
}


@pytest.mark.parametrize("literal", NON_FINITE)
@pytest.mark.parametrize("place", PLACES)
def test_nan_and_infinity_are_refused_naming_where_they_are(doc, literal, place):
    locate, message = PLACES[place]
    target, field = locate(doc)
    target[field] = "@@MARK@@"
    text = json.dumps(doc).replace('"@@MARK@@"', literal)
    name = json.dumps(field) if isinstance(field, str) else ""  # a criterion's name (the demo's are short)
    assert _problem(text) == f"The file is incomplete or damaged: {message.format(name=name)}, got {literal}."


def test_no_nan_reaches_the_database_and_the_pages_answer(app, demo, client, auth, runner, tmp_path):
    """The attack: NaN weights and positions imported on PostgreSQL, then the dashboard, ranking, awards and
    grades answered 500. Now the file is refused whole and every table is as it was."""
    with app.app_context():
        data = export_event(db.session.get(Event, demo["event"]))
        counts = [db.session.execute(db.select(db.func.count(model.id))).scalar() for model in (Event, Team, Judge)]
    for row in data["teams"] + data["judges"] + data["certificates"]:
        row.pop("uid", None), row.pop("legacy_id", None)
    for number, team in enumerate(data["teams"]):
        team["code"] = f"NAN{number:05d}"
    data["criteria"][0]["weight"] = float("nan")
    data["teams"][0]["pos_x"] = float("inf")
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(data), encoding="utf-8")  # Python writes NaN and Infinity unless told not to
    result = runner.invoke(args=["import-event", str(path)])
    assert result.exit_code == 1
    assert result.output == (f"Error: Nothing was imported from {path}: The file is incomplete or damaged: "
                             "criteria[0].weight: expected a number, got NaN; "
                             "teams[0].pos_x: expected a number or null, got Infinity.\n")
    with app.app_context():
        assert [db.session.execute(db.select(db.func.count(model.id))).scalar()
                for model in (Event, Team, Judge)] == counts
        assert db.session.execute(db.select(db.func.count(Team.id)).where(Team.code.like("NAN%"))).scalar() == 0
    auth.admin()
    for page in ("dashboard", "dashboard.json", "ranking.csv", "awards"):
        assert client.get(f"/admin/events/{demo['event']}/{page}").status_code == 200, page


@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_a_file_nested_past_the_readers_stack_is_refused(doc, depth, runner, tmp_path):
    text = json.dumps(doc).replace('"note": ', '"note": ' + "[" * depth + "]" * depth + ', "was": ', 1)
    assert _problem(text) == ("The file is damaged: it is nested far too deeply (an event file needs fewer than "
                              f"{MAX_DEPTH} levels).")
    path = tmp_path / "deep.json"
    path.write_text("[" * depth + "]" * depth, encoding="utf-8")
    result = runner.invoke(args=["import-event", str(path)])
    assert result.exit_code == 1, result.output
    assert result.output == (f"Error: Nothing was imported from {path}: The file is damaged: it is nested far too "
                             f"deeply (an event file needs fewer than {MAX_DEPTH} levels).\n")


def _nest(levels: int):
    value = "x"
    for _ in range(levels):
        value = {"d": value}
    return value


def test_free_form_data_nests_at_most_max_depth(doc):
    """audit[0].new.extra is 4 levels below the top: 28 objects more reach level MAX_DEPTH (32), 29 pass it."""
    doc["audit"][0]["new"]["extra"] = _nest(MAX_DEPTH - 4)
    validate(doc)
    doc["audit"][0]["new"]["extra"] = _nest(MAX_DEPTH - 3)
    assert _problem(doc) == ("The file is incomplete or damaged: audit[0].new.extra.d.d.d.d.d.d …: nested more "
                             f"than {MAX_DEPTH} levels deep.")
    doc["audit"][0]["new"]["extra"] = _nest(5000)  # deeper than Python's stack, if anything walked it by recursion
    with pytest.raises(EventSchemaError) as refused:
        validate(doc)
    assert refused.value.problems == [f"audit[0].new.extra.d.d.d.d.d.d …: nested more than {MAX_DEPTH} levels deep"]


@pytest.mark.parametrize("change, problem", [
    (lambda d: d["event"].update(judges_per_team=True), "event.judges_per_team: expected a whole number, got true"),
    (lambda d: d["teams"][3].update(table_number=True), "teams[3].table_number: expected a whole number, got true"),
    (lambda d: d["teams"][3].update(table_number=4.0), "teams[3].table_number: expected a whole number, got 4.0"),
    (lambda d: d["teams"][3].update(table_number="4"), 'teams[3].table_number: expected a whole number, got "4"'),
    (lambda d: d["teams"][3].update(table_number=0), "teams[3].table_number: expected a whole number of at least 1, "
                                                     "got 0"),
    (lambda d: d["event"].update(feedback_named="yes"), 'event.feedback_named: expected true or false, got "yes"'),
    (lambda d: d["event"].update(held_on="2027-02-30"), 'event.held_on: expected a date (YYYY-MM-DD) or null, '
                                                        'got "2027-02-30"'),
    (lambda d: d["judges"][1].update(created_at="yesterday"), 'judges[1].created_at: expected a date and time '
                                                              '(ISO 8601, such as 2025-05-14T09:30:00), got "yesterday"'),
    (lambda d: d["judges"][1].update(created_at="2025-05-14T09:30:00+02:00"),
     'judges[1].created_at: expected a UTC time without an offset, got "2025-05-14T09:30:00+02:00"'),
    (lambda d: d["teams"][2]["members"][0].update(present=None), "teams[2].members[0].present: expected true or "
                                                                 "false, got null"),
    (lambda d: d["teams"][2]["members"][0].update(student_id="S" * 65), "teams[2].members[0].student_id longer "
                                                                        "than 64 characters (it has 65)"),
    (lambda d: d["teams"][2].update(members={}), "teams[2].members: expected a list, got an object"),
    (lambda d: d["teams"][2].pop("members"), "teams[2].members: missing"),
    (lambda d: d["criteria"][0].update(weight=0), "criteria[0].weight: expected a number above 0, got 0"),
    (lambda d: d["criteria"][0].update(scale_min=5, scale_max=5), "criteria[0]: scale_min (5) must be below "
                                                                  "scale_max (5)"),
    (lambda d: d["teams"][4].update(code=d["teams"][1]["code"]), "teams[4].code: the same team code as teams[1].code"),
    (lambda d: d["teams"][4].update(key="t1"), 'teams[4].key: the team key "t1" is also at teams[0].key'),
    (lambda d: d["scores"][0].update(judge="j99"), 'scores[0].judge: no judge in the file has the key "j99"'),
    (lambda d: d["scores"][0]["values"].update(c99=3), 'scores[0].values.c99: no criterion in the file has the key '
                                                       '"c99"'),
    (lambda d: d["snapshot"]["data"]["awards"][0].update(team_id=7), "snapshot.data.awards[0].team_id: expected "
                                                                     "the key of a team, got 7"),
    (lambda d: d["certificates"][0].update(kind="gold"), 'certificates[0].kind: expected one of award, '
                                                         'participation, got "gold"'),
    (lambda d: d["admin_actions"].append({"actor": "x", "area": "nowhere", "action": "a", "subject": "", "details":
                                          None, "at": "2025-01-01T00:00:00"}),
     'admin_actions[{n}].area: expected one of rubric, teams, judges, badges, scoring, awards, releases, '
     'certificates, assignments, settings, events, got "nowhere"'),
    (lambda d: d["audit"][0]["new"].update(values=[3, 4]), "audit[0].new.values: expected an object, got a list"),
    (lambda d: d["audit"][0].update(new=None), "audit[0].new: expected an object, got null"),
    (lambda d: d.update(sponsors=[]), "sponsors: not a field of an event file"),
    (lambda d: d["teams"][0].update(colour="red"), "teams[0].colour: not a field of an event file"),
    (lambda d: d.update(snapshot=[]), "snapshot: expected an object or null, got a list"),
], ids=lambda v: None if callable(v) else v.split(":")[0])
def test_a_file_of_the_wrong_shape_is_refused_naming_the_place(doc, change, problem):
    count = len(doc["admin_actions"])
    change(doc)
    assert _problem(doc) == f"The file is incomplete or damaged: {problem.format(n=count)}."


def test_several_problems_are_listed_up_to_five(doc):
    for team in doc["teams"][:7]:
        team["table_number"] = None
    assert _problem(doc) == (
        "The file is incomplete or damaged: teams[0].table_number: expected a whole number, got null; "
        "teams[1].table_number: expected a whole number, got null; teams[2].table_number: expected a whole number, "
        "got null; teams[3].table_number: expected a whole number, got null; teams[4].table_number: expected a "
        "whole number, got null; and 2 more problems.")


def test_wrong_types_are_refused_by_the_command_and_nothing_is_written(app, demo, runner, tmp_path):
    with app.app_context():
        data = export_event(db.session.get(Event, demo["event"]))
        before = db.session.execute(db.select(db.func.count(Event.id))).scalar()
    data["teams"][3]["table_number"] = True
    data["event"]["judges_per_team"] = True
    path = tmp_path / "types.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = runner.invoke(args=["import-event", str(path)])
    assert result.exit_code == 1
    assert result.output == (f"Error: Nothing was imported from {path}: The file is incomplete or damaged: "
                             "event.judges_per_team: expected a whole number, got true; "
                             "teams[3].table_number: expected a whole number, got true.\n")
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Event.id))).scalar() == before


def test_schema_limits_match_the_database_columns():
    """Every text field the schema limits is as long as its column allows, no longer and no shorter."""
    from expo_app import event_schema as s
    from expo_app import models as m

    pairs = [(s.EVENT, m.Event), (s.CRITERION, m.Criterion), (s.TEAM, m.Team), (s.MEMBER, m.TeamMember),
             (s.JUDGE, m.Judge), (s.SCORE, m.Score), (s.AUDIT, m.ScoreAudit), (s.AWARD, m.Award),
             (s.AWARD_CATEGORY, m.AwardCategory), (s.SNAPSHOT, m.RankingSnapshot), (s.CERTIFICATE, m.Certificate)]
    checked = 0
    for record, model in pairs:
        for name, spec in record.fields.items():
            spec = spec.spec if isinstance(spec, s.Optional) else spec
            spec = spec.inner if isinstance(spec, s.Nullable) else spec
            column = model.__table__.columns.get(name)
            if isinstance(spec, s.Text) and not isinstance(spec, (s.Key, s.Ref)) and column is not None \
                    and name != "uid":  # uid: 1 to 32 characters in files, whatever the column (see event_schema)
                assert spec.max_len == getattr(column.type, "length", None), f"{model.__name__}.{name}"
                checked += 1
    assert checked >= 35


def test_a_number_of_thousands_of_digits_is_refused_without_a_crash(doc):
    text = json.dumps(doc).replace('"judges_per_team": 3', '"judges_per_team": ' + "9" * 5000, 1)
    assert _problem(text) == ("The file is damaged: a number in it has thousands of digits, too large for any id, "
                              "count or table number.")
