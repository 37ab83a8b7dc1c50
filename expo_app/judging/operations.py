"""Recording judges' scores. Operations change ORM objects and flush; the view commits once."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Criterion, Judge, Score, ScoreAudit, ScoreSubmission, ScoreValue, Team, utcnow
from ..scoring import weighted_total
from .conflicts import known_conflict, set_aside_automatically

CLOSED_MESSAGES = {
    "draft": "Scoring has not opened yet. Your score was not saved: try again once the organisers open scoring.",
    "closed": "Scoring is closed right now. Your score was not saved: ask the organisers' desk.",
    "locked": "Scoring is locked: the results are final and scores can no longer change.",
}


class ScoringClosed(Exception):
    """The event is not accepting scores; the message says why, for the judge."""


class KnownConflict(Exception):
    """A rated sheet from a judge with a known conflict of interest, where the organisers do not
    allow scoring it: refused (nothing written); the message says why, for the judge."""


@dataclass(frozen=True)
class SheetInput:
    """What a judge submitted for one team: values keyed by criterion id, texts and flags."""

    values: dict[int, int]
    comment: str = ""
    private_note: str = ""
    absent: bool = False
    conflict: bool = False


def score_snapshot(score: Score) -> dict:
    """A score sheet as plain data, for the audit log and for comparing old with new."""
    return {
        "values": {v.criterion.name: v.value for v in sorted(score.values, key=lambda v: v.criterion.position)},
        "comment": score.comment,
        "private_note": score.private_note,
        "absent": score.absent,
        "conflict": score.conflict,
    }


def find_score(judge: Judge, team: Team, for_update: bool = False) -> Score | None:
    """The judge's sheet for the team; `for_update` locks the row until commit (PostgreSQL), so
    parallel revisions of one sheet queue up instead of all comparing against the same old sheet."""
    query = db.select(Score).where(Score.judge_id == judge.id, Score.team_id == team.id)
    if for_update:
        query = query.with_for_update()
    return db.session.execute(query).scalar_one_or_none()


_LOOK_UP = object()


def submit_score(judge: Judge, team: Team, sheet: SheetInput, actor: str, *, current=_LOOK_UP) -> tuple[Score, bool]:
    """Create or revise the judge's one score sheet for the team; returns (score, whether it changed).

    Absent or conflicted sheets carry no values. An identical resubmission (a double tap, a retried
    request) changes nothing and writes no audit entry, so nothing is ever counted twice. `current`:
    the sheet as find_score(for_update=True) gave it in this transaction, if the caller has it.
    """
    if team.event_id != judge.event_id:
        raise PermissionError("this team is not in the judge's event")
    event = team.event
    if not event.accepts_scores:
        raise ScoringClosed(CLOSED_MESSAGES[event.scoring_state])
    criteria = {c.id: c for c in event.criteria}
    rated = not (sheet.absent or sheet.conflict)
    if rated and set(sheet.values) != set(criteria):
        raise ValueError("a rated sheet needs exactly one value per criterion")
    conflict_reason = known_conflict(judge, team) if rated else None
    if conflict_reason and not event.conflicted_may_score:
        raise KnownConflict(f"Not saved: {conflict_reason} Judges do not score teams they have a conflict of "
                            "interest with: declare the conflict instead, or ask the organisers' desk.")

    score = find_score(judge, team, for_update=True) if current is _LOOK_UP else current
    old = score_snapshot(score) if score is not None else None
    if score is None:
        score, inserted = _insert_empty_score(judge, team, comment=sheet.comment.strip(),
                                              private_note=sheet.private_note.strip(), absent=sheet.absent,
                                              conflict=sheet.conflict)
        if not inserted:  # a parallel request (a double tap) created it a moment ago
            old = score_snapshot(score)

    score.comment = sheet.comment.strip()
    score.private_note = sheet.private_note.strip()
    score.absent = sheet.absent
    score.conflict = sheet.conflict
    wanted = sheet.values if rated else {}
    by_criterion = {v.criterion_id: v for v in score.values}
    for criterion_id, value in wanted.items():
        if criterion_id in by_criterion:
            by_criterion[criterion_id].value = value
        else:
            score.values.append(ScoreValue(criterion=criteria[criterion_id], value=value))
    for criterion_id, row in by_criterion.items():
        if criterion_id not in wanted:
            score.values.remove(row)

    new = score_snapshot(score)
    if old == new:
        return score, False
    if old is not None:
        score.revision += 1
        score.updated_at = utcnow()
    db.session.add(ScoreAudit(event_id=event.id, score=score, actor=actor,
                              action="created" if old is None else "updated", old=old, new=new))
    if conflict_reason:  # allowed by the organisers: kept, but not counted until they say so
        set_aside_automatically(score, conflict_reason, actor)
    db.session.flush()
    return score, True


class KeyReused(ValueError):
    """An idempotency key came back with a different sheet: refused (HTTP 422)."""


@dataclass(frozen=True)
class Submitted:
    """What became of a submission: saved, unchanged (identical sheet), or stale (a newer edit is
    already saved); `replayed` when the key was seen before and nothing was done this time."""

    score: Score | None
    outcome: str
    replayed: bool = False


def _body_hash(team: Team, sheet: SheetInput, edited_at: datetime | None) -> str:
    body = {"team": team.id, "values": {str(k): v for k, v in sorted(sheet.values.items())},
            "comment": sheet.comment.strip(), "private_note": sheet.private_note.strip(), "absent": sheet.absent,
            "conflict": sheet.conflict, "edited_at": edited_at.isoformat() if edited_at else None}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def submit_sheet(judge: Judge, team: Team, sheet: SheetInput, actor: str, *, key: str | None = None,
                 edited_at: datetime | None = None) -> Submitted:
    """Submit a sheet exactly once: by its idempotency key, and never over a newer edit.

    - A key seen before with the same sheet returns the first outcome and writes nothing; with
      another sheet it raises KeyReused.
    - `edited_at` is when the judge edited the sheet on the phone. An edit older than the one saved
      (a queued submission that arrives late) does not overwrite it; it goes to the audit log as
      "stale" so that nothing a judge sent is lost.
    The key is stored with the sheet in the same transaction.
    """
    body_hash = _body_hash(team, sheet, edited_at)
    if key:
        seen = db.session.execute(db.select(ScoreSubmission).where(
            ScoreSubmission.judge_id == judge.id, ScoreSubmission.key == key)).scalar_one_or_none()
        if seen is not None:
            if seen.body_hash != body_hash or seen.team_id != team.id:
                raise KeyReused("This submission key was already used for a different score sheet.")
            return Submitted(find_score(judge, team), seen.outcome, replayed=True)
    if edited_at is not None:
        # A phone whose clock runs ahead must not make its sheet win over every later edit: it
        # counts as edited now (after the hash, so that a replay of it still matches).
        edited_at = min(edited_at, utcnow())
    current = find_score(judge, team, for_update=True)
    if edited_at is not None and current is not None and current.client_edited_at is not None \
            and edited_at < current.client_edited_at:
        if not team.event.accepts_scores:
            raise ScoringClosed(CLOSED_MESSAGES[team.event.scoring_state])
        db.session.add(ScoreAudit(event_id=team.event_id, score=current, actor=actor, action="stale",
                                  old=score_snapshot(current), new=_sheet_snapshot(team, sheet)))
        outcome, score = "stale", current
    else:
        score, changed = submit_score(judge, team, sheet, actor, current=current)
        # A plain form (no phone edit time) is stamped with the server's time, so that an older edit
        # queued on a phone and arriving later does not overwrite it (phones keep their clocks in sync).
        stamp = edited_at if edited_at is not None else (utcnow() if changed else None)
        if stamp is not None and (score.client_edited_at is None or stamp > score.client_edited_at):
            score.client_edited_at = stamp
        outcome = "saved" if changed else "unchanged"
    db.session.flush()
    if key:
        try:
            with db.session.begin_nested():
                db.session.add(ScoreSubmission(judge_id=judge.id, team_id=team.id, key=key[:64], body_hash=body_hash,
                                               outcome=outcome, edited_at=edited_at))
                db.session.flush()
        except IntegrityError:  # the same key in a parallel request, which saved the same sheet
            seen = db.session.execute(db.select(ScoreSubmission).where(
                ScoreSubmission.judge_id == judge.id, ScoreSubmission.key == key[:64])).scalar_one()
            return Submitted(score, seen.outcome, replayed=True)
    return Submitted(score, outcome)


def overwrites_newer_save(score: Score | None, loaded_revision: int | None, team: Team, sheet: SheetInput) -> bool:
    """Whether a form loaded at `loaded_revision` would overwrite a different sheet saved since
    (another tab or phone). The phone's script sends its edit time instead, and there the later edit
    wins (submit_sheet); this rule is for forms without one."""
    return (score is not None and loaded_revision is not None and score.revision > loaded_revision
            and score_snapshot(score) != _sheet_snapshot(team, sheet))


def _sheet_snapshot(team: Team, sheet: SheetInput) -> dict:
    """An incoming sheet in the audit log's shape (for a stale edit that is kept but not applied)."""
    names = {c.id: c for c in team.event.criteria}
    values = {names[cid].name: value for cid, value in sorted(sheet.values.items(), key=lambda kv: names[kv[0]].position)
              if cid in names}
    return {"values": values if not (sheet.absent or sheet.conflict) else {}, "comment": sheet.comment.strip(),
            "private_note": sheet.private_note.strip(), "absent": sheet.absent, "conflict": sheet.conflict}


def _insert_empty_score(judge: Judge, team: Team, **fields) -> tuple[Score, bool]:
    """Insert the (judge, team) row, with `fields` (the sheet's texts and flags, so that they are
    not written a second time); if a parallel request just did, use that row instead.

    Returns (score, whether this call inserted it). The unique (judge, team) constraint decides.
    """
    score = Score(judge=judge, team=team, **fields)
    try:
        with db.session.begin_nested():
            db.session.add(score)
            db.session.flush()
    except IntegrityError:
        existing = find_score(judge, team)
        if existing is None:
            raise
        return existing, False
    return score, True


def sheet_total(values: dict[int, int], counts: bool, criteria: list[Criterion]) -> float | None:
    """The rubric total (points out of 100) of a sheet's values keyed by criterion id; None if not rated."""
    if not counts or not criteria or set(values) != {c.id for c in criteria}:
        return None
    return weighted_total({c.name: values[c.id] for c in criteria}, [c.as_spec() for c in criteria])


def judge_actor(judge: Judge) -> str:
    return f"judge {judge.id}: {judge.name}"


def judge_progress(judge: Judge) -> list[tuple[Team, Score | None]]:
    """The judge's teams in table order, each with the judge's score sheet or None."""
    scores = {s.team_id: s for s in db.session.execute(
        db.select(Score).where(Score.judge_id == judge.id)).scalars()}
    teams = db.session.execute(
        db.select(Team).where(Team.event_id == judge.event_id).order_by(Team.table_number)).scalars()
    return [(t, scores.get(t.id)) for t in teams]


def event_criteria(event_id: int) -> list[Criterion]:
    return list(db.session.execute(
        db.select(Criterion).where(Criterion.event_id == event_id).order_by(Criterion.position, Criterion.id)
        .options(selectinload(Criterion.levels))  # the form shows every level: one query, not one per criterion
    ).scalars())
