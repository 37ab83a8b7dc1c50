"""Read-only views of an event's data for the admin pages (no writes here)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import ADMIN_ACTION_AREAS, AdminAction, Event, Judge, JudgeSignIn, Score, ScoreAudit, Team
from ..judging.operations import sheet_total


@dataclass(frozen=True)
class SheetRow:
    score: Score
    values: dict[int, int]  # criterion id -> value
    total: float | None  # rubric points out of 100; None for absent or conflicted sheets


def score_sheets(event: Event) -> list[SheetRow]:
    """Every score sheet of the event with its rubric total, in table then judge order."""
    criteria = list(event.criteria)
    scores = db.session.execute(
        db.select(Score).join(Team).join(Judge, Score.judge_id == Judge.id).where(Team.event_id == event.id)
        .order_by(Team.table_number, Judge.name, Judge.id)
    ).scalars()
    rows = []
    for score in scores:
        values = {v.criterion_id: v.value for v in score.values}
        rows.append(SheetRow(score, values, sheet_total(values, score.rated, criteria)))
    return rows


def filter_sheets(rows: list[SheetRow], query: str, show: str, known: set[tuple[int, int]]) -> list[SheetRow]:
    """The sheets matching a search (judge, team, table number, comment; any case) and a filter:
    "set_aside", "conflicts" (known conflicts of interest), "counted", or "" for all."""
    needle = query.casefold()

    def matches(row: SheetRow) -> bool:
        s = row.score
        if needle and not any(needle in text.casefold() for text in
                              (s.judge.name, s.team.name, str(s.team.table_number), s.comment, s.judge.affiliation)):
            return False
        if show == "set_aside":
            return s.set_aside_at is not None
        if show == "conflicts":
            return (s.judge_id, s.team_id) in known or s.conflict
        if show == "counted":
            return s.counts
        return True

    return [row for row in rows if matches(row)]


def group_sheets(rows: list[SheetRow], by: str) -> list[tuple[object, list[SheetRow], float | None]]:
    """Sheets grouped by team or by judge, each group with the mean of its counted sheets' rubric totals."""
    groups: dict[int, tuple[object, list[SheetRow]]] = {}
    for row in rows:
        owner = row.score.team if by == "team" else row.score.judge
        groups.setdefault(owner.id, (owner, []))[1].append(row)
    result = []
    for owner, sheets in groups.values():
        totals = [s.total for s in sheets if s.total is not None and s.score.counts]
        result.append((owner, sheets, sum(totals) / len(totals) if totals else None))
    if by == "judge":
        result.sort(key=lambda g: (g[0].name.casefold(), g[0].id))
    return result


# What the audit page can show: everything (""), the score sheets, the organisers' actions, or one area of them.
AUDIT_KINDS = ("", "sheets", "actions", *ADMIN_ACTION_AREAS)


@dataclass(frozen=True)
class AuditRow:
    kind: str  # "sheet" (a ScoreAudit) or "action" (an AdminAction)
    entry: ScoreAudit | AdminAction

    @property
    def at(self):
        return self.entry.changed_at if self.kind == "sheet" else self.entry.at


COMMENT_ACTIONS = ("comment hidden", "comment restored")  # expo_app.results.feedback


def audit_entries(event: Event, limit: int, offset: int, kind: str = "", actor: str = "") -> list[AuditRow]:
    """The event's audit log, newest first: score sheets and organisers' actions in one list.

    `kind` is one of AUDIT_KINDS (anything else means everything); `actor` keeps the entries whose
    actor contains it, whatever the case.
    """
    kind = kind if kind in AUDIT_KINDS else ""
    parts = []
    if kind in ("", "sheets"):
        sheets = db.select(db.literal("sheet", db.String).label("kind"), ScoreAudit.id.label("id"),
                           ScoreAudit.changed_at.label("at")).where(ScoreAudit.event_id == event.id)
        if actor:
            sheets = sheets.where(db.func.lower(ScoreAudit.actor).contains(actor.lower(), autoescape=True))
        if kind == "":
            # Hiding or restoring a comment is in the sheet's history and among the organiser's
            # actions; in the list of everything it is shown once, as the organiser's action.
            sheets = sheets.where(ScoreAudit.action.not_in(COMMENT_ACTIONS))
        parts.append(sheets)
    if kind != "sheets":
        # With the event's own actions, the site's (no event: the site's address), which every event's
        # printed links depend on.
        actions = db.select(db.literal("action", db.String).label("kind"), AdminAction.id.label("id"),
                            AdminAction.at.label("at")).where(db.or_(AdminAction.event_id == event.id,
                                                                     AdminAction.event_id.is_(None)))
        if kind in ADMIN_ACTION_AREAS:
            actions = actions.where(AdminAction.area == kind)
        if actor:
            actions = actions.where(db.func.lower(AdminAction.actor).contains(actor.lower(), autoescape=True))
        parts.append(actions)
    both = (parts[0] if len(parts) == 1 else db.union_all(*parts)).subquery()
    page = db.session.execute(db.select(both.c.kind, both.c.id).order_by(both.c.at.desc(), both.c.kind, both.c.id.desc())
                              .limit(limit).offset(offset)).all()
    sheet_ids = [i for k, i in page if k == "sheet"]
    action_ids = [i for k, i in page if k == "action"]
    sheets_by_id = {a.id: a for a in db.session.execute(
        db.select(ScoreAudit).where(ScoreAudit.id.in_(sheet_ids))
        .options(selectinload(ScoreAudit.score).selectinload(Score.team))).scalars()} if sheet_ids else {}
    actions_by_id = {a.id: a for a in db.session.execute(
        db.select(AdminAction).where(AdminAction.id.in_(action_ids))).scalars()} if action_ids else {}
    return [AuditRow(k, sheets_by_id[i] if k == "sheet" else actions_by_id[i]) for k, i in page]


def sign_in_counts(event: Event) -> dict[int, int]:
    return dict(db.session.execute(
        db.select(JudgeSignIn.judge_id, db.func.count(JudgeSignIn.id)).join(Judge)
        .where(Judge.event_id == event.id).group_by(JudgeSignIn.judge_id)
    ).all())


def event_counts(event: Event) -> dict[str, int]:
    sheets = db.session.execute(
        db.select(db.func.count(Score.id)).join(Team).where(Team.event_id == event.id)).scalar()
    return {"teams": len(event.teams), "judges": len(event.judges), "criteria": len(event.criteria),
            "sheets": sheets}
