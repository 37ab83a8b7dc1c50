"""Known conflicts of interest at scoring time, and sheets that are kept but not counted.

A conflict is known when the judge's affiliation is one of the companies the team lists, or when the
organisers marked the pair (Assignments page). The planner never sends such a judge; this module
makes scoring agree with it: the phone warns before scoring and offers "declare conflict", a rated
sheet from a known conflict is refused (or, if the organisers allow it, saved but set aside), and
the organisers can set any sheet aside or count it again, with a reason. Every change of counting is
a ScoreAudit entry (so the dashboard, ranking and caches see it) and an organiser action.

A sheet's counting state is three-valued, on its set_aside_* columns:
- counted, never touched: set_aside_at None, set_aside_by "";
- set aside: set_aside_at set, with the reason and who (or "known conflict" when automatic);
- counted again by the organiser: set_aside_at None, set_aside_by the organiser, set_aside_reason why.
  A known conflict never sets such a sheet aside again by itself.
Operations flush only; the view commits.
"""
from __future__ import annotations

from ..actions import OperationError
from ..audit import record
from ..extensions import db
from ..models import Judge, JudgeConflict, Score, ScoreAudit, Team, utcnow
from ..scoring.assignment import company_key, split_companies

AUTOMATIC = "known conflict"


def known_conflict(judge: Judge, team: Team) -> str | None:
    """Why this judge has a known conflict with this team (for the judge to read), or None."""
    marked = db.session.execute(db.select(JudgeConflict.id).where(
        JudgeConflict.judge_id == judge.id, JudgeConflict.team_id == team.id)).first()
    if marked is not None:
        return "The organisers marked this team as a conflict of interest for you."
    mine = company_key(judge.affiliation or "")
    if mine:
        for company in split_companies(team.companies):
            if company_key(company) == mine:
                return f"This team works with {company}, and you are with {judge.affiliation.rstrip('.')}."
    return None


def conflicted_team_ids(judge: Judge) -> set[int]:
    """The teams of the judge's event that are a known conflict for the judge (one query each kind)."""
    marked = set(db.session.execute(db.select(JudgeConflict.team_id)
                                    .where(JudgeConflict.judge_id == judge.id)).scalars())
    mine = company_key(judge.affiliation or "")
    if mine:
        rows = db.session.execute(db.select(Team.id, Team.companies).where(
            Team.event_id == judge.event_id, Team.companies != "")).all()
        marked |= {team_id for team_id, companies in rows
                   if any(company_key(c) == mine for c in split_companies(companies))}
    return marked


def _state(score: Score) -> str:
    if score.set_aside_at is not None:
        return f"set aside: {score.set_aside_reason}"
    return "counted"


def _audit(score: Score, actor: str, action: str, before: str) -> None:
    db.session.add(ScoreAudit(event_id=score.team.event_id, score=score, actor=actor[:300], action=action,
                              old={"counting": before}, new={"counting": _state(score)}))


def _subject(score: Score) -> str:
    return f"{score.judge.name}'s sheet for {score.team.name}"


def set_aside_automatically(score: Score, reason: str, actor: str) -> bool:
    """Set a rated sheet from a known conflict aside, unless the organiser chose to count it.

    Called when such a sheet is saved, and when the organisers mark a pair that already has a sheet.
    Returns whether it was set aside now.
    """
    if score.set_aside_at is not None or score.set_aside_by not in ("", AUTOMATIC) or not (
            not score.absent and not score.conflict):
        return False
    before = _state(score)
    score.set_aside_at, score.set_aside_reason, score.set_aside_by = utcnow(), f"Known conflict: {reason}"[:300], AUTOMATIC
    _audit(score, actor, "set aside", before)
    db.session.flush()
    return True


def set_aside(score: Score, reason: str, actor: str) -> Score:
    """The organiser sets a sheet aside: kept, not counted, with the reason (audited)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise OperationError("Say why the sheet is set aside (it is kept in the audit log).")
    if score.set_aside_at is not None:
        raise OperationError("This sheet is already set aside.")
    if score.team.event.is_locked:
        raise OperationError("Scoring is locked: the results are final and no sheet can be set aside now.")
    before = _state(score)
    score.set_aside_at, score.set_aside_reason, score.set_aside_by = utcnow(), reason[:300], actor[:300]
    _audit(score, actor, "set aside", before)
    record(score.team.event_id, "scoring", "sheet set aside", _subject(score), {"reason": reason[:300]})
    db.session.flush()
    return score


def count_again(score: Score, reason: str, actor: str) -> Score:
    """The organiser counts a set-aside sheet again, with the reason (audited)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise OperationError("Say why the sheet counts again (it is kept in the audit log).")
    if score.set_aside_at is None:
        raise OperationError("This sheet is counted already.")
    if score.team.event.is_locked:
        raise OperationError("Scoring is locked: the results are final and no sheet can be counted again now.")
    before = _state(score)
    set_aside_because = score.set_aside_reason
    score.set_aside_at, score.set_aside_reason, score.set_aside_by = None, reason[:300], actor[:300]
    _audit(score, actor, "counted again", before)
    record(score.team.event_id, "scoring", "sheet counted again", _subject(score),
           {"reason": reason[:300], "was set aside because": set_aside_because})
    db.session.flush()
    return score


def set_aside_marked_pair(judge: Judge, team: Team, actor: str) -> bool:
    """After the organisers mark a conflict: the pair's rated sheet, if any, is set aside."""
    score = db.session.execute(db.select(Score).where(Score.judge_id == judge.id, Score.team_id == team.id)
                               ).scalar_one_or_none()
    if score is None:
        return False
    return set_aside_automatically(score, "the organisers marked this pair as a conflict of interest", actor)
