"""Read-only views of an event's data for the admin pages (no writes here)."""
from __future__ import annotations

from dataclasses import dataclass

from ..extensions import db
from ..models import Event, Judge, JudgeSignIn, Score, ScoreAudit, Team
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
        rows.append(SheetRow(score, values, sheet_total(values, score.counts, criteria)))
    return rows


def group_sheets(rows: list[SheetRow], by: str) -> list[tuple[object, list[SheetRow], float | None]]:
    """Sheets grouped by team or by judge, each group with the mean of its rubric totals."""
    groups: dict[int, tuple[object, list[SheetRow]]] = {}
    for row in rows:
        owner = row.score.team if by == "team" else row.score.judge
        groups.setdefault(owner.id, (owner, []))[1].append(row)
    result = []
    for owner, sheets in groups.values():
        totals = [s.total for s in sheets if s.total is not None]
        result.append((owner, sheets, sum(totals) / len(totals) if totals else None))
    if by == "judge":
        result.sort(key=lambda g: (g[0].name.casefold(), g[0].id))
    return result


def audit_entries(event: Event, limit: int, offset: int) -> list[ScoreAudit]:
    return list(db.session.execute(
        db.select(ScoreAudit).where(ScoreAudit.event_id == event.id)
        .order_by(ScoreAudit.changed_at.desc(), ScoreAudit.id.desc()).limit(limit).offset(offset)
    ).scalars())


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
