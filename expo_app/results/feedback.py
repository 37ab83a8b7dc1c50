"""Releasing feedback to the teams and moderating judges' comments. Operations flush only."""
from __future__ import annotations

from ..actions import OperationError
from ..audit import record
from ..extensions import db
from ..models import Event, Judge, Score, ScoreAudit, Team, utcnow


def release_feedback(event: Event) -> None:
    """Teams see their scores, the judges' comments and their awards from now on."""
    if event.feedback_released_at is not None:
        raise OperationError("The feedback is already released.")
    if event.scoring_state not in ("closed", "locked"):
        raise OperationError("Close scoring before releasing the feedback: a comment written after the release would "
                             "reach its team before anyone read it.")
    event.feedback_released_at = utcnow()
    db.session.flush()
    record(event, "releases", "feedback released", event.name, {"judges named": event.feedback_named})


def withdraw_feedback(event: Event) -> None:
    """Teams' pages go back to "judging in progress" until the next release."""
    if event.feedback_released_at is None:
        raise OperationError("The feedback is not released.")
    event.feedback_released_at = None
    db.session.flush()
    record(event, "releases", "feedback withdrawn", event.name)


def _audit(score: Score, actor: str, action: str, before: str, after: str) -> None:
    db.session.add(ScoreAudit(event_id=score.team.event_id, score=score, actor=actor[:300], action=action,
                              old={"moderation": before, "comment": score.comment},
                              new={"moderation": after, "comment": score.comment}))


def _comment_subject(score: Score) -> str:
    return f"{score.judge.name}'s comment to {score.team.name}"


def hide_comment(score: Score, reason: str, actor: str) -> Score:
    """Hide a judge's comment from the team; the reason goes to the audit log."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise OperationError("Say why the comment is hidden (it is kept in the audit log).")
    if score.comment_hidden_at is not None:
        raise OperationError("This comment is already hidden.")
    score.comment_hidden_at, score.comment_hidden_reason = utcnow(), reason[:300]
    _audit(score, actor, "comment hidden", "shown to the team", f"hidden from the team: {reason[:300]}")
    record(score.team.event_id, "releases", "comment hidden", _comment_subject(score), {"reason": reason[:300]})
    db.session.flush()
    return score


def redact_comment(score: Score, text: str, reason: str, actor: str) -> Score:
    """Replace what the team reads of a judge's comment (a name, an insult cut out); the original text
    is kept in the audit log, with the reason. Redacting twice keeps every version there."""
    text, reason = (text or "").strip(), " ".join((reason or "").split())
    if not reason:
        raise OperationError("Say why the comment is redacted (it is kept in the audit log).")
    if not text:
        raise OperationError("Write what the team should read instead, or hide the comment.")
    if text == score.comment:
        raise OperationError("The text is the same as the comment: nothing to redact.")
    original = score.comment
    db.session.add(ScoreAudit(event_id=score.team.event_id, score=score, actor=actor[:300], action="comment redacted",
                              old={"moderation": "as the judge wrote it", "comment": original},
                              new={"moderation": f"redacted: {reason[:300]}", "comment": text}))
    score.comment = text[:2000]
    record(score.team.event_id, "releases", "comment redacted", _comment_subject(score),
           {"reason": reason[:300], "original": original})
    db.session.flush()
    return score


def restore_comment(score: Score, actor: str) -> Score:
    """Show a hidden comment to the team again (audited)."""
    if score.comment_hidden_at is None:
        raise OperationError("This comment is not hidden.")
    reason = score.comment_hidden_reason
    score.comment_hidden_at, score.comment_hidden_reason = None, ""
    _audit(score, actor, "comment restored", f"hidden from the team: {reason}", "shown to the team")
    record(score.team.event_id, "releases", "comment restored", _comment_subject(score), {"hidden because": reason})
    db.session.flush()
    return score


def comments_by_team(event: Event) -> list[tuple[Team, list[Score]]]:
    """Every comment that would reach a team (counted sheets), team by team, for the moderation page."""
    sheets = db.session.execute(
        db.select(Score).join(Team).join(Judge, Score.judge_id == Judge.id)
        .where(Team.event_id == event.id, Score.comment != "", Score.conflict.is_(False), Score.set_aside_at.is_(None))
        .order_by(Team.table_number, Score.created_at, Score.id)).scalars().all()
    grouped: dict[int, list[Score]] = {}
    for score in sheets:
        grouped.setdefault(score.team_id, []).append(score)
    return [(team, grouped[team.id]) for team in event.teams if team.id in grouped]


def redaction_reasons(event: Event) -> dict[int, str]:
    """Why each comment the team reads redacted was redacted (the latest reason), by score id. The
    moderation page marks them: the text shown is no longer what the judge wrote. A comment the judge
    rewrote after its redaction is the judge's own again, and is not marked."""
    rows = db.session.execute(
        db.select(ScoreAudit.score_id, ScoreAudit.new, Score.comment).join(Score, ScoreAudit.score_id == Score.id)
        .where(ScoreAudit.event_id == event.id, ScoreAudit.action == "comment redacted")
        .order_by(ScoreAudit.id)).all()
    reasons = {}
    for score_id, new, comment in rows:
        reasons.pop(score_id, None)
        if str((new or {}).get("comment", ""))[:2000] == comment:
            reasons[score_id] = str(new.get("moderation", "")).removeprefix("redacted: ")
    return reasons
