"""The shape of an event file (`expo export-event`), checked whole before anything is written.

Every import of an event file (`expo import-event`) goes through `portability.read_event_file`,
which parses the text with `loads` and then calls `validate`. The
schema is a small structural one written out below (no dependency): every section, every field's
type, the lengths the database columns hold, finite numbers only, keys that refer to rows the file
really has, and no nesting beyond MAX_DEPTH. A refusal lists the problems, each naming its place in
the file the way a reader would look it up: ``teams[3].table_number: expected a whole number, got
true``.

What it accepts: every file `export_event` writes at schemas 6 to 11. Fields that appeared after
schema 6 (the assignment plan and the hall in 7, live routing in 8, the organisers' actions in 10,
public identities, set-aside sheets and conflicted_may_score in 11) are optional, so older files still read. Unknown fields are refused, at
the top and in every row of the sections the importer reads field by field: it would drop them
without a word, and a file made by Expo Judge never has any (a newer file is refused earlier, by its
schema number). The free-form parts (the ranking snapshot's figures, the audit log's sheets, the
organisers' action details) may hold more fields and any JSON, but their numbers must be finite,
the fields pages and grades read must have their types, and nothing nests deeper than MAX_DEPTH.

Rules about meaning rather than shape (scoring states, paper sizes, unique team names and tables,
the letter scale, final awards with their snapshot) stay in `portability._check`, which runs before
anything is written too.
"""
from __future__ import annotations

import json
import math
import re
from datetime import date, datetime
from typing import Any

from .models import ADMIN_ACTION_AREAS, CERTIFICATE_KINDS

MAX_DEPTH = 32  # levels from the top of the file; a file Expo Judge writes uses fewer than 10
MAX_PROBLEMS = 20  # a refusal stops collecting here: enough to fix a file, not a report of every row
MAX_KEY = 40  # a row's key in the file: "t12", "m340", ...


# ------------------------------------------------------------------------------------------ parsing

class NonFinite:
    """NaN, Infinity, -Infinity, or a number beyond any float (1e999), as read from a file.

    JSON has no such numbers; Python's reader takes them anyway. They are kept as this marker (never
    as a float) so that `validate` can refuse them and say where they are; nothing else accepts it.
    """

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _constant(name: str) -> NonFinite:
    return NonFinite(name)


def _float(text: str) -> float | NonFinite:
    value = float(text)
    return value if math.isfinite(value) else NonFinite(text[:24])


def loads(text: str) -> Any:
    """json.loads, with NaN, Infinity, -Infinity and overflowing numbers kept as NonFinite markers.

    Raises what json.loads raises: JSONDecodeError, ValueError (an integer of more than 4300
    digits) and RecursionError (nesting deeper than the interpreter's stack).
    """
    return json.loads(text, parse_constant=_constant, parse_float=_float)


# ------------------------------------------------------------------------------------------ places

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def where(path: tuple) -> str:
    """A place in the file as a reader looks it up: teams[3].members[0].name (the top: "the file")."""
    shown, cut = path, False
    if len(path) > 12:
        shown, cut = path[:10], True
    text = ""
    for part in shown:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _NAME.fullmatch(part):
            text += ("." if text else "") + part
        else:
            text += "[" + json.dumps(part[:40] + ("…" if len(part) > 40 else ""), ensure_ascii=False) + "]"
    return (text + " …" if cut else text) or "the file"


def show(value: Any) -> str:
    """A value as the file spells it, short."""
    if isinstance(value, NonFinite):
        return value.text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value[:30] + ("…" if len(value) > 30 else ""), ensure_ascii=False)
    if isinstance(value, (int, float)):
        text = repr(value)
        return text if len(text) <= 24 else text[:20] + "…"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


class EventSchemaError(ValueError):
    """The file does not have an event file's shape; `problems` lists where and why."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class _Full(Exception):
    """MAX_PROBLEMS found: stop looking."""


class _Context:
    def __init__(self):
        self.problems: list[str] = []
        self.keys: dict[str, dict[str, tuple]] = {}  # kind -> key -> where it is defined
        self.refs: list[tuple[str, str, tuple]] = []  # (kind, key, where it is used)

    def problem(self, path: tuple, message: str, separator: str = ": ") -> None:
        self.problems.append(f"{where(path)}{separator}{message}")
        if len(self.problems) >= MAX_PROBLEMS:
            raise _Full


# ------------------------------------------------------------------------------------------ specs

class Spec:
    expected = "a value"

    def check(self, value: Any, path: tuple, ctx: _Context, null: bool = False) -> bool:
        """Whether the value fits; records a problem when it does not (`null`: inside Nullable)."""
        raise NotImplementedError

    def wrong(self, value: Any, path: tuple, ctx: _Context, null: bool = False) -> bool:
        ctx.problem(path, f"expected {self.expected}{' or null' if null else ''}, got {show(value)}")
        return False


class Text(Spec):
    expected = "text"

    def __init__(self, max_len: int | None = None, min_len: int = 0):
        self.max_len, self.min_len = max_len, min_len

    def check(self, value, path, ctx, null=False):
        if not isinstance(value, str):
            return self.wrong(value, path, ctx, null)
        if self.max_len is not None and len(value) > self.max_len:
            ctx.problem(path, f"longer than {self.max_len} characters (it has {len(value)})", " ")
            return False
        if len(value) < self.min_len:
            ctx.problem(path, "empty" if self.min_len == 1 else f"shorter than {self.min_len} characters")
            return False
        return True


class Whole(Spec):
    expected = "a whole number"

    def __init__(self, minimum: int | None = None):
        self.minimum = minimum

    def check(self, value, path, ctx, null=False):
        if isinstance(value, bool) or not isinstance(value, int):
            return self.wrong(value, path, ctx, null)
        if self.minimum is not None and value < self.minimum:
            ctx.problem(path, f"expected a whole number of at least {self.minimum}, got {show(value)}")
            return False
        return True


class Number(Spec):
    expected = "a number"

    def __init__(self, positive: bool = False):
        self.positive = positive

    def check(self, value, path, ctx, null=False):
        if isinstance(value, bool) or not isinstance(value, (int, float)):  # NonFinite is neither
            return self.wrong(value, path, ctx, null)
        if self.positive and value <= 0:
            ctx.problem(path, f"expected a number above 0, got {show(value)}")
            return False
        return True


class Bool(Spec):
    expected = "true or false"

    def check(self, value, path, ctx, null=False):
        return isinstance(value, bool) or self.wrong(value, path, ctx, null)


class Stamp(Spec):
    """A date and time as export_event writes it: ISO 8601, UTC without an offset."""

    expected = "a date and time (ISO 8601, such as 2025-05-14T09:30:00)"

    def check(self, value, path, ctx, null=False):
        if not isinstance(value, str) or len(value) > 40:
            return self.wrong(value, path, ctx, null)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return self.wrong(value, path, ctx, null)
        if parsed.tzinfo is not None:
            ctx.problem(path, f"expected a UTC time without an offset, got {show(value)}")
            return False
        return True


class Day(Spec):
    expected = "a date (YYYY-MM-DD)"

    def check(self, value, path, ctx, null=False):
        if not isinstance(value, str) or len(value) > 10:
            return self.wrong(value, path, ctx, null)
        try:
            date.fromisoformat(value)
        except ValueError:
            return self.wrong(value, path, ctx, null)
        return True


class OneOf(Spec):
    def __init__(self, choices):
        self.choices = tuple(choices)
        self.expected = "one of " + ", ".join(self.choices)

    def check(self, value, path, ctx, null=False):
        return (isinstance(value, str) and value in self.choices) or self.wrong(value, path, ctx, null)


class Nullable(Spec):
    def __init__(self, inner: Spec):
        self.inner = inner
        self.expected = f"{inner.expected} or null"

    def check(self, value, path, ctx, null=False):
        return value is None or self.inner.check(value, path, ctx, null=True)


class Key(Text):
    """A row's key ("t3"), unique among the rows of its kind."""

    def __init__(self, kind: str):
        super().__init__(MAX_KEY, 1)
        self.kind = kind

    def check(self, value, path, ctx, null=False):
        if not super().check(value, path, ctx, null):
            return False
        seen = ctx.keys.setdefault(self.kind, {})
        if value in seen:
            ctx.problem(path, f"the {self.kind} key {show(value)} is also at {where(seen[value])}")
            return False
        seen[value] = path
        return True


class Unique(Text):
    """Text that no other row of the file may repeat (a team's QR code)."""

    def __init__(self, what: str, max_len: int, min_len: int = 1):
        super().__init__(max_len, min_len)
        self.what = what

    def check(self, value, path, ctx, null=False):
        if not super().check(value, path, ctx, null):
            return False
        seen = ctx.keys.setdefault(self.what, {})
        if value in seen:
            ctx.problem(path, f"the same {self.what} as {where(seen[value])}")
            return False
        seen[value] = path
        return True


class Ref(Text):
    """The key of a row of the file ("j2" for a judge); checked once every key is known."""

    def __init__(self, kind: str):
        super().__init__(MAX_KEY, 1)
        self.kind = kind
        self.expected = f"the key of a {kind}"

    def check(self, value, path, ctx, null=False):
        if not isinstance(value, str):
            return self.wrong(value, path, ctx, null)
        ctx.refs.append((self.kind, value, path))
        return True


class ListOf(Spec):
    expected = "a list"

    def __init__(self, item: Spec):
        self.item = item

    def check(self, value, path, ctx, null=False):
        if not isinstance(value, list):
            return self.wrong(value, path, ctx, null)
        ok = True
        for index, item in enumerate(value):
            ok = self.item.check(item, path + (index,), ctx) and ok
        return ok


class Row(Spec):
    """A fixed-length list: [judge, team] or [letter, minimum]."""

    def __init__(self, *items: Spec, names: str):
        self.items = items
        self.expected = f"a list [{names}]"

    def check(self, value, path, ctx, null=False):
        if not isinstance(value, list) or len(value) != len(self.items):
            return self.wrong(value, path, ctx, null)
        ok = True
        for index, (spec, item) in enumerate(zip(self.items, value)):
            ok = spec.check(item, path + (index,), ctx) and ok
        return ok


class MapOf(Spec):
    """An object whose names are free (criterion names, keys) and whose values share one spec."""

    expected = "an object"

    def __init__(self, name: Spec, value: Spec):
        self.name, self.value = name, value

    def check(self, value, path, ctx, null=False):
        if not isinstance(value, dict):
            return self.wrong(value, path, ctx, null)
        ok = True
        for name, item in value.items():
            ok = self.name.check(name, path + (name,), ctx) and ok
            ok = self.value.check(item, path + (name,), ctx) and ok
        return ok


class Optional:
    """A field a file may leave out (one added after schema 6, or never written when empty)."""

    def __init__(self, spec: Spec):
        self.spec = spec


class Record(Spec):
    """An object with named fields: required ones, Optional ones, and either no other field
    (`extra=None`: refused) or any other whose value fits `extra`. `rules` run once every field fits."""

    expected = "an object"

    def __init__(self, fields: dict[str, Spec | Optional], extra: Spec | None = None, rules=()):
        self.fields, self.extra, self.rules = fields, extra, rules

    def check(self, value, path, ctx, null=False):
        if not isinstance(value, dict):
            return self.wrong(value, path, ctx, null)
        ok = True
        for name, spec in self.fields.items():
            if name not in value:
                if not isinstance(spec, Optional):
                    ctx.problem(path + (name,), "missing")
                    ok = False
                continue
            spec = spec.spec if isinstance(spec, Optional) else spec
            ok = spec.check(value[name], path + (name,), ctx) and ok
        for name in value:
            if name in self.fields:
                continue
            if self.extra is None:
                ctx.problem(path + (name,), "not a field of an event file")
                ok = False
            else:
                ok = self.extra.check(value[name], path + (name,), ctx) and ok
        if ok:
            for rule in self.rules:
                message = rule(value)
                if message:
                    ctx.problem(path, message)
                    ok = False
        return ok


class AnyJSON(Spec):
    """Free-form data: any JSON, as long as every number is finite and it nests at most MAX_DEPTH
    levels from the top of the file. Walked with a stack, never recursion."""

    expected = "JSON data"

    def check(self, value, path, ctx, null=False):
        ok = True
        stack = [(value, path)]
        while stack:
            item, at = stack.pop()
            if isinstance(item, NonFinite):
                ctx.problem(at, f"expected a finite number, got {item.text}")
                ok = False
            elif isinstance(item, (dict, list)):
                if len(at) >= MAX_DEPTH:
                    ctx.problem(at, f"nested more than {MAX_DEPTH} levels deep")
                    ok = False
                    continue
                pairs = item.items() if isinstance(item, dict) else enumerate(item)
                stack.extend((inner, at + (name,)) for name, inner in reversed(list(pairs)))
            elif not (item is None or isinstance(item, (str, int, float))):
                return self.wrong(item, at, ctx)
        return ok


class JSONObject(AnyJSON):
    expected = "an object"

    def check(self, value, path, ctx, null=False):
        if not isinstance(value, dict):
            return self.wrong(value, path, ctx, null)
        return super().check(value, path, ctx)


# ------------------------------------------------------------------------------------------ the file

def _scale_order(criterion: dict) -> str | None:
    if criterion["scale_min"] >= criterion["scale_max"]:
        return f"scale_min ({criterion['scale_min']}) must be below scale_max ({criterion['scale_max']})"
    return None


def _category_kind(category: dict) -> str | None:
    if category["kind"] == "overall" and (category["place"] is None or category["place"] < 1
                                          or category["criterion"] is not None):
        return "an overall award needs a place of at least 1 and no criterion"
    if category["kind"] == "criterion" and (category["place"] is not None or category["criterion"] is None):
        return "a criterion award needs a criterion and no place"
    return None


STAMP, MAYBE_STAMP, ANY = Stamp(), Nullable(Stamp()), AnyJSON()
UID = Nullable(Text(32, 1))  # null: the import makes a new one, as for a file before schema 11

EVENT = Record({
    "name": Text(200), "held_on": Nullable(Day()), "venue": Text(200),
    "scoring_state": Text(10), "judges_per_team": Whole(),  # their values: portability._check
    "paper_size": Text(10), "instructor_name": Text(120), "instructor_title": Text(200),
    "grade_scale": Nullable(ListOf(Row(Text(), Number(), names="letter, minimum percent"))),
    "feedback_released_at": MAYBE_STAMP, "feedback_named": Bool(), "awards_finalised_at": MAYBE_STAMP,
    "created_at": STAMP,
    "tables_per_row": Optional(Nullable(Whole(1))), "planned_at": Optional(MAYBE_STAMP),
    "plan_seed": Optional(Nullable(Whole(0))), "live_routing": Optional(Bool()),
    "conflicted_may_score": Optional(Bool()),
})

CRITERION = Record({
    "key": Key("criterion"), "name": Text(120), "description": Text(), "weight": Number(positive=True),
    "scale_min": Whole(), "scale_max": Whole(), "position": Whole(),
    "levels": ListOf(Record({"low": Whole(), "high": Whole(), "text": Text()})),
}, rules=[_scale_order])

MEMBER = Record({"key": Key("member"), "name": Text(120), "email": Text(254), "student_id": Text(64),
                 "present": Bool()})

TEAM = Record({
    "key": Key("team"), "name": Text(120), "project": Text(300), "table_number": Whole(1),
    "code": Unique("team code", 16), "feedback_revoked_at": MAYBE_STAMP, "created_at": STAMP,
    "members": ListOf(MEMBER),
    "companies": Optional(Text(300)), "pos_x": Optional(Nullable(Number())), "pos_y": Optional(Nullable(Number())),
    "absent_cleared_at": Optional(MAYBE_STAMP),
    "uid": Optional(UID), "legacy_id": Optional(Nullable(Whole())), "feedback_version": Optional(Whole(1)),
})

JUDGE = Record({
    "key": Key("judge"), "name": Text(120), "email": Text(254), "affiliation": Text(200),
    "revoked_at": MAYBE_STAMP, "last_seen_at": MAYBE_STAMP, "created_at": STAMP,
    "available": Optional(Bool()),
    "uid": Optional(UID), "legacy_id": Optional(Nullable(Whole())), "token_version": Optional(Whole(1)),
})

SCORE = Record({
    "key": Key("score sheet"), "judge": Ref("judge"), "team": Ref("team"),
    "values": MapOf(Ref("criterion"), Whole()),
    "comment": Text(), "private_note": Text(), "absent": Bool(), "conflict": Bool(), "revision": Whole(),
    "client_edited_at": MAYBE_STAMP, "comment_hidden_at": MAYBE_STAMP, "comment_hidden_reason": Text(300),
    "created_at": STAMP, "updated_at": STAMP,
    "set_aside_at": Optional(MAYBE_STAMP), "set_aside_reason": Optional(Text(300)), "set_aside_by": Optional(Text(300)),
})

SHEET = Record({  # a sheet as the audit log keeps it: score_snapshot, a moderation, a change of counting, ...
    "values": Optional(MapOf(Text(), ANY)), "comment": Optional(Text()), "private_note": Optional(Text()),
    "absent": Optional(Bool()), "conflict": Optional(Bool()), "moderation": Optional(Text()),
}, extra=ANY)

AUDIT = Record({
    "score": Ref("score sheet"), "actor": Text(300), "action": Text(20), "changed_at": STAMP,
    "old": Nullable(SHEET), "new": SHEET,
})

ADMIN_ACTION = Record({  # actor, action and subject are cut to their columns on import
    "actor": Text(), "area": OneOf(ADMIN_ACTION_AREAS), "action": Text(), "subject": Text(),
    "details": Nullable(JSONObject()), "at": STAMP,
})

AWARD = Record({
    "team": Ref("team"), "reason": Text(), "followed_suggestion": Bool(), "decided_by": Text(300),
    "decided_at": STAMP,
})

AWARD_CATEGORY = Record({
    "key": Key("award category"), "name": Text(120), "kind": OneOf(("overall", "criterion")),
    "place": Nullable(Whole()), "criterion": Nullable(Ref("criterion")), "position": Whole(),
    "award": Nullable(AWARD),
}, rules=[_category_kind])

# The frozen ranking (results.operations.finalise_awards): the figures pages, grades and
# certificates read are typed; the rest may be any (finite) data.
RANKED_TEAM = Record({
    "team_id": Ref("team"), "team": Text(), "rank": Whole(), "score": Number(), "raw_mean": Number(),
    "score_low": Number(), "score_high": Number(), "judges": Whole(),
    "criterion_means": MapOf(Text(), Nullable(Number())),
    "rank_low": Optional(Whole()), "rank_high": Optional(Whole()), "p_top3": Optional(Number()),
    "adjusted_score": Optional(Number()), "disagreement": Optional(Nullable(Number())),
}, extra=ANY)

FINAL_AWARD = Record({
    "category": Text(), "team_id": Ref("team"), "member_ids": Optional(ListOf(Ref("member"))),
    "team": Optional(Text()), "reason": Optional(Text()), "followed_suggestion": Optional(Bool()),
    "kind": Optional(Text()), "place": Optional(Nullable(Whole())), "criterion": Optional(Nullable(Text())),
}, extra=ANY)

SNAPSHOT = Record({
    "method": Text(20), "seed": Whole(), "created_by": Text(300), "created_at": STAMP,
    "data": Record({
        "teams": ListOf(RANKED_TEAM), "awards": Optional(ListOf(FINAL_AWARD)),
        "judges": Optional(ListOf(Record({"judge_id": Optional(Ref("judge"))}, extra=ANY))),
        "warnings": Optional(ListOf(Text())), "criteria": Optional(ListOf(JSONObject())),
    }, extra=ANY),
})

CERTIFICATE = Record({
    "kind": OneOf(CERTIFICATE_KINDS), "subject": Text(40, 1), "member": Nullable(Ref("member")),
    "issue": Whole(), "recipient": Text(120), "team_name": Text(120), "project": Text(300), "award": Text(120),
    "issued_at": STAMP, "revoked_at": MAYBE_STAMP, "revoked_reason": Text(300), "revoked_by": Text(300),
    "uid": Optional(UID), "legacy_id": Optional(Nullable(Whole())),
})

EVENT_FILE = Record({
    "format": Text(), "schema": Whole(), "note": Optional(Text()),
    "event": EVENT, "criteria": ListOf(CRITERION), "teams": ListOf(TEAM), "judges": ListOf(JUDGE),
    "conflicts": Optional(ListOf(Row(Ref("judge"), Ref("team"), names="judge, team"))),
    "assignments": Optional(ListOf(Row(Ref("judge"), Ref("team"), Whole(), names="judge, team, order"))),
    "scores": ListOf(SCORE), "audit": ListOf(AUDIT), "admin_actions": Optional(ListOf(ADMIN_ACTION)),
    "award_categories": ListOf(AWARD_CATEGORY), "snapshot": Nullable(SNAPSHOT),
    "certificates": ListOf(CERTIFICATE),
})


def validate(data: Any) -> None:
    """Raise EventSchemaError (its `problems` name each place) unless `data` has an event file's shape."""
    ctx = _Context()
    try:
        if EVENT_FILE.check(data, (), ctx):
            for kind, key, path in ctx.refs:
                if key not in ctx.keys.get(kind, {}):
                    ctx.problem(path, f"no {kind} in the file has the key {show(key)}")
    except _Full:
        pass
    if ctx.problems:
        raise EventSchemaError(ctx.problems)
