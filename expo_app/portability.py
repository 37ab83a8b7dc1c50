"""One event as a versioned JSON file, and back: `expo export-event` / `expo import-event`.

The file holds the whole event: settings, rubric, teams and members, judges, score sheets with their
audit log, the organisers' actions (the rest of the audit log), awards, the finalised snapshot and the issued certificates. Database ids are not in it:
every row gets a key from its place in a fixed order (teams by table, judges by e-mail, ...), so
exporting from SQLite, importing into PostgreSQL and exporting again gives the same file. Secrets are
not in it either. What printed paper names is: the team QR codes, and the uids (with badge and slip
versions) that judge badges, team feedback links and certificate codes are HMACs of, so with the
same SECRET_KEY every badge, slip and certificate printed before a move works for the same person
after it (a uid alone is no link: the MAC needs the secret). Rows made before uids existed also
carry the row id their old paper names (legacy_id). Importing a file whose uids, legacy ids or
team codes are already in the database (the same file twice, say) is refused with nothing written.
Left out on purpose: the log of judges' sign-ins (phones and addresses, not results), the phones'
submission keys (they only guard against replays during the event) and kept PDFs (made again). An import checks the file first and runs in one transaction: it all goes
in, or nothing does, with a message that says why.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from .actions import OperationError
from .extensions import db
from .models import (ADMIN_ACTION_AREAS, AdminAction, Assignment, Award, AwardCategory, Certificate, Criterion,
                     CriterionLevel, Event, Judge, JudgeConflict, RankingSnapshot, Score, ScoreAudit, ScoreValue, Team,
                     TeamMember)

FORMAT = "expo-judge-event"
# The file's shape. 10: the organisers' actions (migration 0010; files of schema 8 import with none). 11: uids,
# legacy ids and badge/slip versions (migration 0011), so printed paper survives a move, and set-aside sheets
# and whether known-conflict judges may score (0012); older files import with new uids and every sheet counted.
SCHEMA = 11
OLDEST_SCHEMA = 6  # schema 6 files (before the assignment plan) still import: the plan is empty


_UID = re.compile(r"[a-z][a-z2-9]{15}")  # expo_app.models.new_uid
_CERTIFICATE_UID = re.compile(r"[A-Z][2-9A-HJ-NP-Z]{9}")  # expo_app.models.new_certificate_uid


class EventFileError(OperationError):
    """The file cannot be imported; the message says why."""


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _read_dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _keys(rows, prefix: str) -> dict[int, str]:
    return {row.id: f"{prefix}{index}" for index, row in enumerate(rows, start=1)}


def export_event(event: Event) -> dict[str, Any]:
    """The event as plain data (json.dumps it); no database ids and no secrets."""
    criteria = sorted(event.criteria, key=lambda c: (c.position, c.name))
    teams = sorted(event.teams, key=lambda t: t.table_number)
    judges = sorted(event.judges, key=lambda j: (j.email, j.name))
    criterion_key, team_key, judge_key = _keys(criteria, "c"), _keys(teams, "t"), _keys(judges, "j")
    members = [m for t in teams for m in t.members]  # in the order entered (certificates and grades use it)
    member_key = _keys(members, "m")
    scores = sorted(db.session.execute(db.select(Score).join(Team).where(Team.event_id == event.id)).scalars(),
                    key=lambda s: (team_key[s.team_id], judge_key[s.judge_id]))
    score_key = _keys(scores, "s")
    categories = sorted(event.award_categories, key=lambda c: (c.position, c.name))
    category_key = _keys(categories, "a")
    audit = db.session.execute(db.select(ScoreAudit).where(ScoreAudit.event_id == event.id)
                               .order_by(ScoreAudit.changed_at, ScoreAudit.id)).scalars().all()
    actions = db.session.execute(db.select(AdminAction).where(AdminAction.event_id == event.id)
                                 .order_by(AdminAction.at, AdminAction.id)).scalars().all()
    snapshot = db.session.execute(db.select(RankingSnapshot).where(RankingSnapshot.event_id == event.id)).scalar()
    certificates = db.session.execute(db.select(Certificate).where(Certificate.event_id == event.id)).scalars().all()
    conflicts = db.session.execute(db.select(JudgeConflict).where(JudgeConflict.event_id == event.id)).scalars().all()
    assignments = db.session.execute(db.select(Assignment).where(Assignment.event_id == event.id)).scalars().all()
    certificates.sort(key=lambda c: (c.kind, _map_subject(c.subject, category_key), member_key.get(c.member_id, ""),
                                     c.issue, c.recipient, c.issued_at))
    return {
        "format": FORMAT, "schema": SCHEMA,
        "note": "Judge sign-in links, team feedback links and certificate codes are not in this file. "
                "Imported with the same SECRET_KEY, those already printed keep working for the same people.",
        "event": {
            "name": event.name, "held_on": event.held_on.isoformat() if event.held_on else None, "venue": event.venue,
            "scoring_state": event.scoring_state, "judges_per_team": event.judges_per_team,
            "paper_size": event.paper_size, "instructor_name": event.instructor_name,
            "instructor_title": event.instructor_title, "grade_scale": event.grade_scale,
            "feedback_released_at": _dt(event.feedback_released_at), "feedback_named": event.feedback_named,
            "awards_finalised_at": _dt(event.awards_finalised_at), "created_at": _dt(event.created_at),
            "tables_per_row": event.tables_per_row, "planned_at": _dt(event.planned_at), "plan_seed": event.plan_seed,
            "live_routing": event.live_routing, "conflicted_may_score": event.conflicted_may_score,
        },
        "criteria": [{"key": criterion_key[c.id], "name": c.name, "description": c.description, "weight": c.weight,
                      "scale_min": c.scale_min, "scale_max": c.scale_max, "position": c.position,
                      "levels": [{"low": lv.low, "high": lv.high, "text": lv.text} for lv in c.levels]}
                     for c in criteria],
        "teams": [{"key": team_key[t.id], "name": t.name, "project": t.project, "table_number": t.table_number,
                   "code": t.code, "uid": t.uid, "legacy_id": t.legacy_id, "feedback_version": t.feedback_version,
                   "feedback_revoked_at": _dt(t.feedback_revoked_at),
                   "created_at": _dt(t.created_at), "companies": t.companies, "pos_x": t.pos_x, "pos_y": t.pos_y,
                   "absent_cleared_at": _dt(t.absent_cleared_at),
                   "members": [{"key": member_key[m.id], "name": m.name, "email": m.email, "student_id": m.student_id,
                                "present": m.present} for m in t.members]}
                  for t in teams],
        "judges": [{"key": judge_key[j.id], "name": j.name, "email": j.email, "affiliation": j.affiliation,
                    "uid": j.uid, "legacy_id": j.legacy_id, "token_version": j.token_version,
                    "revoked_at": _dt(j.revoked_at), "last_seen_at": _dt(j.last_seen_at),
                    "created_at": _dt(j.created_at), "available": j.available} for j in judges],
        "conflicts": sorted([judge_key[c.judge_id], team_key[c.team_id]] for c in conflicts),
        "assignments": sorted([judge_key[a.judge_id], team_key[a.team_id], a.position] for a in assignments),
        "scores": [{"key": score_key[s.id], "judge": judge_key[s.judge_id], "team": team_key[s.team_id],
                    "values": {criterion_key[v.criterion_id]: v.value
                               for v in sorted(s.values, key=lambda v: criterion_key[v.criterion_id])},
                    "comment": s.comment, "private_note": s.private_note, "absent": s.absent, "conflict": s.conflict,
                    "revision": s.revision, "client_edited_at": _dt(s.client_edited_at),
                    "comment_hidden_at": _dt(s.comment_hidden_at),
                    "comment_hidden_reason": s.comment_hidden_reason, "set_aside_at": _dt(s.set_aside_at),
                    "set_aside_reason": s.set_aside_reason, "set_aside_by": s.set_aside_by, "created_at": _dt(s.created_at),
                    "updated_at": _dt(s.updated_at)} for s in scores],
        "audit": [{"score": score_key[a.score_id], "actor": a.actor, "action": a.action, "changed_at": _dt(a.changed_at),
                   "old": a.old, "new": a.new} for a in audit],
        "admin_actions": [{"actor": a.actor, "area": a.area, "action": a.action, "subject": a.subject,
                           "details": a.details, "at": _dt(a.at)} for a in actions],
        "award_categories": [{
            "key": category_key[c.id], "name": c.name, "kind": c.kind, "place": c.place,
            "criterion": criterion_key.get(c.criterion_id), "position": c.position,
            "award": None if c.award is None else {
                "team": team_key[c.award.team_id], "reason": c.award.reason,
                "followed_suggestion": c.award.followed_suggestion, "decided_by": c.award.decided_by,
                "decided_at": _dt(c.award.decided_at)}} for c in categories],
        "snapshot": None if snapshot is None else {
            "method": snapshot.method, "seed": snapshot.seed, "created_by": snapshot.created_by,
            "created_at": _dt(snapshot.created_at), "data": _map_snapshot(snapshot.data, team_key, judge_key, member_key)},
        "certificates": [{
            "kind": c.kind, "uid": c.uid, "legacy_id": c.legacy_id,
            "subject": _map_subject(c.subject, category_key), "member": member_key.get(c.member_id),
            "issue": c.issue, "recipient": c.recipient, "team_name": c.team_name, "project": c.project,
            "award": c.award, "issued_at": _dt(c.issued_at), "revoked_at": _dt(c.revoked_at),
            "revoked_reason": c.revoked_reason, "revoked_by": c.revoked_by} for c in certificates],
    }


def _map_subject(subject: str, category_key: dict) -> str:
    if subject.startswith("award:") and subject[6:].isdigit():
        return "award:" + category_key.get(int(subject[6:]), subject[6:])
    return subject


def _map_snapshot(data: dict, teams: dict, judges: dict, members: dict) -> dict:
    """The snapshot with its row references turned into file keys (or back: pass the reverse maps)."""
    data = json.loads(json.dumps(data))
    for row in data.get("teams", []):
        row["team_id"] = teams.get(row.get("team_id"), row.get("team_id"))
    for row in data.get("judges", []):
        row["judge_id"] = judges.get(row.get("judge_id"), row.get("judge_id"))
    for award in data.get("awards", []):
        award["team_id"] = teams.get(award.get("team_id"), award.get("team_id"))
        if "member_ids" in award:  # a member removed since has no key: left out, never a stray number
            award["member_ids"] = [members[m] for m in award["member_ids"] if m in members]
    return data


def read_event_file(text: str) -> dict:
    """The parsed file, or EventFileError saying why it cannot be imported.

    Everything is checked here, before anything is written: JSON with finite numbers only (NaN and
    Infinity are refused), nesting at most event_schema.MAX_DEPTH deep, the format and schema number,
    values a database column can hold, and the whole file against the schema in event_schema, each
    problem named by its place ("teams[3].table_number: expected a whole number, got true").
    """
    from .event_schema import MAX_DEPTH, EventSchemaError, loads, validate

    try:
        data = loads(text)
    except RecursionError:
        raise EventFileError(f"The file is damaged: it is nested far too deeply (an event file needs fewer than "
                             f"{MAX_DEPTH} levels).") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise EventFileError(f"The file is not JSON: {exc}.") from None
    except ValueError:  # an integer of thousands of digits (Python refuses to convert it)
        raise EventFileError("The file is damaged: a number in it has thousands of digits, too large for any id, "
                             "count or table number.") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise EventFileError("This is not an Expo Judge event file (made by `expo export-event`).")
    schema = data.get("schema")
    if isinstance(schema, bool) or not isinstance(schema, int):
        raise EventFileError("The file does not say which version made it (no schema number).")
    if schema > SCHEMA:
        raise EventFileError(f"The file was exported by a newer Expo Judge (schema {schema}; this one reads up to "
                             f"{SCHEMA}). Upgrade this installation first.")
    if schema < OLDEST_SCHEMA:
        raise EventFileError(f"The file is from schema {schema}; this version reads schema {OLDEST_SCHEMA} to "
                             f"{SCHEMA} files only.")
    _check_values(data)
    try:
        validate(data)
    except EventSchemaError as exc:
        shown = exc.problems[:5]
        more = len(exc.problems) - len(shown)
        raise EventFileError("The file is incomplete or damaged: " + "; ".join(shown)
                             + (f"; and {more} more problem{'s' if more != 1 else ''}" if more else "") + ".") from None
    return data


def _check_values(value, path: tuple = ()) -> None:
    """No value a database column cannot hold: integers beyond 32 bits, NUL characters. Walked with a
    stack, never recursion, so any nesting json.loads returned is safe here."""
    from .event_schema import where

    stack = [(value, path)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, bool):
            continue
        if isinstance(item, int) and not -(2**31) <= item < 2**31:
            raise EventFileError(f"The file is damaged: the number {str(item)[:20]} in {where(at)} is too large "
                                 "for any id, count or table number.")
        if isinstance(item, str) and "\x00" in item:
            raise EventFileError(f"The file is damaged: {where(at)} contains a NUL character.")
        if isinstance(item, dict):
            if any("\x00" in str(k) for k in item):
                raise EventFileError(f"The file is damaged: a name in {where(at)} contains a NUL character.")
            stack.extend((v, at + (k,)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, at + (i,)) for i, v in enumerate(item))


def import_event(data: dict) -> Event:
    """Create the event from a parsed file. Flushes only; the caller commits (all or nothing)."""
    try:
        _check(data)
        savepoint = db.session.begin_nested()
        try:
            event = _import(data)
        except Exception:
            savepoint.rollback()
            raise
        savepoint.commit()
        return event
    except OperationError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, SQLAlchemyError) as exc:
        detail = str(exc).splitlines()[0][:300] if str(exc) else ""
        raise EventFileError(f"The file is incomplete or damaged ({type(exc).__name__}: {detail}).") from None


def _check(data: dict) -> None:
    """The rules the database would otherwise enforce with an error nobody can read."""
    from .models import PAPER_SIZES, SCORING_STATES
    from .scoring.grades import ScaleError, parse_scale

    e = data["event"]
    problems = []
    if not isinstance(e["name"], str) or not e["name"].strip() or len(e["name"]) > 200:
        problems.append("the event needs a name of at most 200 characters")
    if e["scoring_state"] not in SCORING_STATES:
        problems.append(f"scoring state {e['scoring_state']!r} is not one of {', '.join(SCORING_STATES)}")
    if not isinstance(e["judges_per_team"], int) or e["judges_per_team"] < 1:
        problems.append("judges per team must be a whole number of at least 1")
    if e["paper_size"] not in PAPER_SIZES:
        problems.append(f"paper size {e['paper_size']!r} is not one of {', '.join(PAPER_SIZES)}")
    if e["grade_scale"]:
        try:
            parse_scale("\n".join(f"{letter} {minimum}" for letter, minimum in e["grade_scale"]))
        except (ScaleError, ValueError, TypeError) as exc:
            problems.append(f"the letter scale is not usable ({exc})")
    if bool(e["awards_finalised_at"]) != bool(data["snapshot"]):
        problems.append("final awards and the ranking snapshot go together: the file has one without the other")
    names = [t["name"].casefold() for t in data["teams"]]
    if len(set(names)) != len(names):
        problems.append("two teams have the same name")
    tables = [t["table_number"] for t in data["teams"]]
    if len(set(tables)) != len(tables):
        problems.append("two teams have the same table")
    limits = {"name": 120, "project": 300}
    for t in data["teams"]:
        for field, limit in limits.items():
            if len(t[field]) > limit:
                problems.append(f"team {t['name'][:40]!r}: {field} longer than {limit} characters")
    for rows, noun, pattern in ((data["teams"], "team", _UID), (data["judges"], "judge", _UID),
                                (data["certificates"], "certificate", _CERTIFICATE_UID)):
        bad = [row["uid"] for row in rows if row.get("uid") is not None
               and not (isinstance(row["uid"], str) and pattern.fullmatch(row["uid"]))]
        if bad:
            problems.append(f"a {noun} has the malformed uid {str(bad[0])[:40]!r}")
    if problems:
        raise EventFileError("The file cannot be imported: " + "; ".join(problems) + ".")


def _refuse_clashes(data: dict) -> None:
    """Refuse a file whose printed identities are already here: the same file twice, or an event that
    is in this database already. Two rows must never answer to the same paper."""
    clash = db.session.execute(db.select(Team.code).where(Team.code.in_([t["code"] for t in data["teams"]]))).scalars().first()
    if clash:
        raise EventFileError(f"A team with QR code {clash} is already in this database: the event seems to be here "
                             "already. Import into a database that does not hold it.")
    for model, rows, noun in ((Team, data["teams"], "team"), (Judge, data["judges"], "judge"),
                              (Certificate, data["certificates"], "certificate")):
        for column, field in ((model.uid, "uid"), (model.legacy_id, "legacy_id")):
            values = [row[field] for row in rows if row.get(field) is not None]
            if len(set(values)) != len(values):
                raise EventFileError(f"The file is damaged: two {noun}s have the same {field}.")
            found = db.session.execute(db.select(column).where(column.in_(values))).scalars().first() if values else None
            if found is not None:
                what = "printed identity" if field == "uid" else "old printed id"
                raise EventFileError(
                    f"A {noun} with the {what} {found} is already in this database: the event seems to be here "
                    "already (or the file was imported before). Nothing was imported.")


def _import(data: dict) -> Event:
    e = data["event"]
    _refuse_clashes(data)
    event = Event(name=e["name"], held_on=date.fromisoformat(e["held_on"]) if e["held_on"] else None, venue=e["venue"],
                  scoring_state=e["scoring_state"], judges_per_team=e["judges_per_team"], paper_size=e["paper_size"],
                  instructor_name=e["instructor_name"], instructor_title=e["instructor_title"],
                  grade_scale=e["grade_scale"], feedback_released_at=_read_dt(e["feedback_released_at"]),
                  feedback_named=e["feedback_named"], awards_finalised_at=_read_dt(e["awards_finalised_at"]),
                  created_at=_read_dt(e["created_at"]), tables_per_row=e.get("tables_per_row"),
                  planned_at=_read_dt(e.get("planned_at")), plan_seed=e.get("plan_seed"),
                  live_routing=bool(e.get("live_routing", False)),
                  conflicted_may_score=bool(e.get("conflicted_may_score", False)),
                  is_current=db.session.execute(db.select(Event.id).where(Event.is_current.is_(True))).first() is None)
    db.session.add(event)
    criteria = {}
    for c in data["criteria"]:
        criteria[c["key"]] = Criterion(event=event, name=c["name"], description=c["description"], weight=c["weight"],
                                       scale_min=c["scale_min"], scale_max=c["scale_max"], position=c["position"],
                                       levels=[CriterionLevel(low=lv["low"], high=lv["high"], text=lv["text"])
                                               for lv in c["levels"]])
    teams, members = {}, {}
    for t in data["teams"]:
        team = teams[t["key"]] = Team(event=event, name=t["name"], project=t["project"], table_number=t["table_number"],
                                      code=t["code"], created_at=_read_dt(t["created_at"]),
                                      **_identity(t, "feedback_version"),
                                      feedback_revoked_at=_read_dt(t["feedback_revoked_at"]),
                                      companies=t.get("companies", ""), pos_x=t.get("pos_x"), pos_y=t.get("pos_y"),
                                      absent_cleared_at=_read_dt(t.get("absent_cleared_at")))
        for m in t["members"]:
            members[m["key"]] = TeamMember(team=team, name=m["name"], email=m["email"], student_id=m["student_id"],
                                           present=m["present"])
    judges = {}
    for j in data["judges"]:
        judges[j["key"]] = Judge(event=event, name=j["name"], email=j["email"], affiliation=j["affiliation"],
                                 last_seen_at=_read_dt(j["last_seen_at"]), created_at=_read_dt(j["created_at"]),
                                 revoked_at=_read_dt(j["revoked_at"]), available=j.get("available", True),
                                 **_identity(j, "token_version"))
    db.session.add_all([*criteria.values(), *teams.values(), *judges.values()])
    db.session.flush()
    for judge_key_, team_key_ in data.get("conflicts", []):
        db.session.add(JudgeConflict(event_id=event.id, judge=judges[judge_key_], team=teams[team_key_]))
    for judge_key_, team_key_, position in data.get("assignments", []):
        db.session.add(Assignment(event_id=event.id, judge=judges[judge_key_], team=teams[team_key_], position=position))
    scores = {}
    for s in data["scores"]:
        scores[s["key"]] = Score(
            judge=judges[s["judge"]], team=teams[s["team"]], comment=s["comment"], private_note=s["private_note"],
            absent=s["absent"], conflict=s["conflict"], revision=s["revision"],
            client_edited_at=_read_dt(s["client_edited_at"]),
            comment_hidden_at=_read_dt(s["comment_hidden_at"]), comment_hidden_reason=s["comment_hidden_reason"],
            set_aside_at=_read_dt(s.get("set_aside_at")), set_aside_reason=s.get("set_aside_reason", ""),
            set_aside_by=s.get("set_aside_by", ""),
            created_at=_read_dt(s["created_at"]), updated_at=_read_dt(s["updated_at"]),
            values=[ScoreValue(criterion=criteria[key], value=value) for key, value in s["values"].items()])
    db.session.add_all(scores.values())
    db.session.flush()
    for a in data["audit"]:
        db.session.add(ScoreAudit(event_id=event.id, score=scores[a["score"]], actor=a["actor"], action=a["action"],
                                  changed_at=_read_dt(a["changed_at"]), old=a["old"], new=a["new"]))
        db.session.flush()  # one at a time: ids follow the file's order, so a second export matches
    for a in data.get("admin_actions", []):
        if a["area"] not in ADMIN_ACTION_AREAS:
            raise EventFileError(f"An organiser action has an unknown area {a['area']!r}.")
        db.session.add(AdminAction(event_id=event.id, actor=a["actor"][:300], area=a["area"], action=a["action"][:60],
                                   subject=a["subject"][:300], details=a["details"], at=_read_dt(a["at"])))
        db.session.flush()
    categories = {}
    for c in data["award_categories"]:
        category = categories[c["key"]] = AwardCategory(
            event=event, name=c["name"], kind=c["kind"], place=c["place"], position=c["position"],
            criterion=criteria[c["criterion"]] if c["criterion"] else None)
        db.session.add(category)
        if c["award"]:
            a = c["award"]
            category.award = Award(team=teams[a["team"]], reason=a["reason"], followed_suggestion=a["followed_suggestion"],
                                   decided_by=a["decided_by"], decided_at=_read_dt(a["decided_at"]))
    db.session.flush()
    if data["snapshot"]:
        s = data["snapshot"]
        reverse = ({k: t.id for k, t in teams.items()}, {k: j.id for k, j in judges.items()},
                   {k: m.id for k, m in members.items()})
        db.session.add(RankingSnapshot(event=event, method=s["method"], seed=s["seed"], created_by=s["created_by"],
                                       created_at=_read_dt(s["created_at"]), data=_map_snapshot(s["data"], *reverse)))
    for c in data["certificates"]:
        subject = c["subject"]
        if subject.startswith("award:") and subject[6:] in categories:
            subject = f"award:{categories[subject[6:]].id}"
        db.session.add(Certificate(
            event=event, kind=c["kind"], subject=subject, member=members.get(c["member"]), issue=c["issue"],
            **_identity(c),
            recipient=c["recipient"], team_name=c["team_name"], project=c["project"], award=c["award"],
            issued_at=_read_dt(c["issued_at"]), revoked_at=_read_dt(c["revoked_at"]),
            revoked_reason=c["revoked_reason"], revoked_by=c["revoked_by"]))
    db.session.flush()
    return event


def _identity(row: dict, version_field: str | None = None) -> dict:
    """A row's printed identity from the file; files before schema 11 have none, so the new rows get
    new uids (paper printed from the old database then names nothing here, never another row)."""
    values = {}
    if row.get("uid"):
        values["uid"] = row["uid"]
    if row.get("legacy_id") is not None:
        values["legacy_id"] = row["legacy_id"]
    if version_field and row.get(version_field) is not None:
        values[version_field] = row[version_field]
    return values


def dumps(data: dict) -> str:
    """The file's text: sorted keys and two-space indents, so equal events give equal files."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
