"""What a team's private feedback link shows, and whether the link works. Reads only."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from ..auth.operations import LinkProblem
from ..auth.tokens import read_feedback_token
from ..extensions import db
from ..models import Certificate, Judge, RankingSnapshot, Score, Team, TeamMember, find_by_identity

INVALID_FEEDBACK_LINK = LinkProblem(
    404, "This feedback link is not valid",
    "The address may be incomplete. Scan the QR code on your team slip again, or ask the organisers for it.")


def resolve_feedback_link(token: str) -> tuple[Team | None, LinkProblem | None]:
    """The team a feedback link belongs to, or why it does not work (for the student holding it)."""
    claim = read_feedback_token(current_app.config["SECRET_KEY"], token)
    team = find_by_identity(Team, claim.owner) if claim else None
    if team is None or claim.version > team.feedback_version:
        return None, INVALID_FEEDBACK_LINK
    if team.feedback_revoked_at is not None:
        return None, LinkProblem(410, "This feedback link has been switched off",
                                 "The organisers have withdrawn this link. Please ask them for your team's feedback.")
    if claim.version < team.feedback_version:
        return None, LinkProblem(410, "This feedback link has been replaced",
                                 "A newer slip was printed for your team and this older link no longer works. "
                                 "Use the newest slip, or ask the organisers.")
    return team, None


@dataclass
class CriterionBar:
    name: str
    low: int
    high: int
    team: float | None
    expo: float | None


@dataclass
class Feedback:
    released: bool
    judges: int
    score: float | None = None
    score_low: float | None = None
    score_high: float | None = None
    criteria: list[CriterionBar] = field(default_factory=list)
    comments: list[tuple[str, str]] = field(default_factory=list)  # (judge name or "", comment)
    awards: list[str] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)


def team_feedback(team: Team) -> Feedback:
    """What the team's page shows: before release only how many judges scored it; after, the rest."""
    event = team.event
    judges = db.session.execute(db.select(db.func.count(Score.id)).where(
        Score.team_id == team.id, Score.absent.is_(False), Score.conflict.is_(False),
        Score.set_aside_at.is_(None))).scalar()
    if event.feedback_released_at is None:
        return Feedback(released=False, judges=judges)
    feedback = Feedback(released=True, judges=judges)
    from ..results.queries import ranking_rows

    ranking = ranking_rows(event)
    mine = next((row for row in ranking if row["team_id"] == team.id), None)
    if mine is not None:
        feedback.score, feedback.score_low, feedback.score_high = mine["score"], mine["score_low"], mine["score_high"]
    for criterion in event.criteria:
        values = [row["criterion_means"].get(criterion.name) for row in ranking]
        values = [v for v in values if v is not None]
        feedback.criteria.append(CriterionBar(
            criterion.name, criterion.scale_min, criterion.scale_max,
            mine["criterion_means"].get(criterion.name) if mine else None,
            sum(values) / len(values) if values else None))
    sheets = db.session.execute(
        db.select(Score.comment, Judge.name).join(Judge, Score.judge_id == Judge.id)
        .where(Score.team_id == team.id, Score.conflict.is_(False), Score.set_aside_at.is_(None), Score.comment != "",
               Score.comment_hidden_at.is_(None)).order_by(Score.created_at, Score.id)).all()
    feedback.comments = [(name if event.feedback_named else "", comment) for comment, name in sheets]
    snapshot = RankingSnapshot.final_for(event)
    if snapshot is not None:
        feedback.awards = [a["category"] for a in snapshot.data.get("awards", []) if a["team_id"] == team.id]
        feedback.certificates = db.session.execute(
            db.select(Certificate).join(TeamMember, Certificate.member_id == TeamMember.id)
            .where(TeamMember.team_id == team.id, TeamMember.present.is_(True), Certificate.revoked_at.is_(None))
            .order_by(Certificate.kind, Certificate.recipient, Certificate.id)).scalars().all()
    return feedback


def team_certificate(team: Team, certificate_id: int) -> Certificate | None:
    """One of the team's valid certificates, once its feedback is released and the awards are final.

    None for anyone else's, a revoked one, or any before then (its existence would tell the award).
    """
    event = team.event
    if event.feedback_released_at is None or RankingSnapshot.final_for(event) is None:
        return None
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.revoked_at is not None or certificate.member is None \
            or certificate.member.team_id != team.id or not certificate.member.present:
        return None
    return certificate
