"""Queuing e-mails: what organisers ask for. Operations add outbox rows and flush; the caller commits.

The rules, whatever asks (the mail page, `expo mail ...`):
- A judge is *invited* once their current badge has an invitation queued, being sent or sent.
  Inviting again skips them, unless it is a resend; a badge reissued since makes them not invited
  (the new invitation says the earlier link stopped working). A withdrawn badge gets nothing.
- A team member is *told* about the feedback once a notice for the team's current feedback link is
  queued, being sent or sent; once the awards are final, a member told before then gets a second
  notice with their certificates (queuing it issues the certificates that are not issued yet, so
  that their links exist). Nothing before the feedback is released.
- A message that failed is queued again (the same row, attempts from zero), never a second copy;
  one already waiting is never doubled, even by a resend.
Two organisers asking at once are serialised on the event row (PostgreSQL: FOR UPDATE; SQLite:
every write holds the one write lock), so a double click never queues twice.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ..actions import OperationError
from ..audit import actor, record
from ..documents.batches import build_batch
from ..extensions import db
from ..models import Event, Judge, OutboxMessage, RankingSnapshot, TeamMember, utcnow
from .messages import JUDGE_INVITATION, TEAM_CERTIFICATES, TEAM_FEEDBACK

LIVE = ("queued", "sending", "sent")
WAITING = ("queued", "sending")
TEAM_KINDS = (TEAM_FEEDBACK, TEAM_CERTIFICATES)


@dataclass
class Queued:
    """What a queuing operation did: how many messages it queued, and why it skipped the others."""

    queued: int = 0
    skipped: Counter = field(default_factory=Counter)
    certificates_issued: int = 0

    def summary(self) -> str:
        parts = [f"{self.queued} message{'' if self.queued == 1 else 's'} queued"]
        parts += [f"{count} {reason}" for reason, count in sorted(self.skipped.items())]
        if self.certificates_issued:
            parts.append(f"{self.certificates_issued} certificates issued so that their links work")
        return "; ".join(parts) + "."


def _lock(event: Event) -> None:
    """Serialise queuing per event (a double click, two organisers, the CLI and the page at once)."""
    db.session.refresh(event, with_for_update=True)


def _rows(event: Event, kinds: tuple[str, ...]) -> list[OutboxMessage]:
    return db.session.execute(db.select(OutboxMessage).where(OutboxMessage.event_id == event.id,
                                                             OutboxMessage.kind.in_(kinds))
                              .order_by(OutboxMessage.id)).scalars().all()


def _requeue(row: OutboxMessage, version: int) -> None:
    row.status, row.attempts, row.next_attempt_at = "queued", 0, utcnow()
    row.claim, row.claimed_at, row.version = "", None, version
    row.requested_by = actor()


def _queue_judge(judge: Judge, rows: list[OutboxMessage], resend: bool, result: Queued) -> None:
    if judge.revoked_at is not None:
        result.skipped["skipped: badge withdrawn"] += 1
        return
    waiting = [r for r in rows if r.status in WAITING]
    if waiting:
        for row in waiting:
            if row.status == "queued":
                row.version = judge.token_version  # it goes out with the current link anyway
        result.skipped["already waiting to be sent"] += 1
        return
    if not resend and any(r.status == "sent" and r.version == judge.token_version for r in rows):
        result.skipped["already invited"] += 1
        return
    if rows and rows[-1].status == "failed":
        _requeue(rows[-1], judge.token_version)
    else:
        db.session.add(OutboxMessage(event_id=judge.event_id, kind=JUDGE_INVITATION, judge_id=judge.id,
                                     version=judge.token_version, to_name=judge.name[:120],
                                     to_address=judge.email, requested_by=actor()))
    result.queued += 1


def queue_judge_invitations(event: Event, resend: bool = False, judges: list[Judge] | None = None) -> Queued:
    """Queue an invitation for every judge (or those given) not invited with their current badge;
    with `resend`, for every judge (or those given) but one whose invitation is still waiting."""
    _lock(event)
    if event.is_locked:
        raise OperationError("Scoring is locked: judge links no longer work, so no invitation is sent.")
    by_judge: dict[int, list[OutboxMessage]] = defaultdict(list)
    for row in _rows(event, (JUDGE_INVITATION,)):
        by_judge[row.judge_id].append(row)
    result = Queued()
    for judge in judges if judges is not None else event.judges:
        _queue_judge(judge, by_judge[judge.id], resend, result)
    _record_queued(event, "judges", "judge invitations", judges, "judges", resend, result)
    return result


def _record_queued(event: Event, area: str, what: str, people, noun: str, resend: bool, result: Queued) -> None:
    """Flush, and audit what a queuing did (nothing when nothing was queued): the one person asked for by
    name, else how many, with the reasons others were skipped."""
    db.session.flush()
    if result.queued:
        record(event, area, f"{what} resent" if resend else f"{what} queued",
               people[0].name if people is not None and len(people) == 1 else f"{result.queued} {noun}",
               {"queued": result.queued, **dict(result.skipped)})


def reinvite_after_reissue(judge: Judge) -> bool:
    """After a badge is reissued: a judge who was invited by e-mail (or has an invitation waiting)
    gets the new link by e-mail, saying the earlier one stopped working. Whether one was queued."""
    rows = db.session.execute(db.select(OutboxMessage).where(OutboxMessage.judge_id == judge.id,
                                                             OutboxMessage.kind == JUDGE_INVITATION)
                              .order_by(OutboxMessage.id)).scalars().all()
    if judge.event.is_locked or not any(r.status in LIVE for r in rows):
        return False
    result = Queued()
    _queue_judge(judge, rows, False, result)
    db.session.flush()
    if result.queued:
        record(judge.event_id, "judges", "judge invitation queued", judge.name,
               {"why": "badge reissued: the new link replaces the e-mailed one"})
    return bool(result.queued)


def renotify_after_reissue(team) -> int:
    """After a team's feedback link is reissued: members who were told by e-mail (or have a notice
    waiting) get the new link by e-mail. How many were queued."""
    event = team.event
    if event.feedback_released_at is None or team.feedback_revoked_at is not None:
        return 0
    rows: dict[int, list[OutboxMessage]] = defaultdict(list)
    for row in db.session.execute(db.select(OutboxMessage).where(OutboxMessage.team_id == team.id,
                                                                 OutboxMessage.kind.in_(TEAM_KINDS))
                                  .order_by(OutboxMessage.id)).scalars():
        rows[row.member_id].append(row)
    result = Queued()
    final = RankingSnapshot.final_for(event)
    for member in team.members:
        mine = rows.get(member.id, [])
        if any(r.status in LIVE for r in mine):
            for row in mine:
                if row.status == "queued":
                    row.version = team.feedback_version  # it goes out with the new link anyway
            _queue_member(member, mine, final, False, result)
    db.session.flush()
    if result.queued:
        record(event, "releases", "team notices queued", team.name,
               {"queued": result.queued, "why": "feedback link reissued: the new link replaces the e-mailed one"})
    return result.queued


def _issue_certificates(event: Event) -> int:
    """Issue the event's certificates not issued yet (participation, and the final awards'), as the
    Printing page's Issue button does: their links go into the notices. Audited."""
    issued = 0
    for kind in ("participation", "certificates"):
        batch = build_batch(event, kind, issue=False)
        if batch.blocked or not batch.unissued:
            continue
        count = batch.unissued
        issued += count
        batch = build_batch(event, kind)
        record(event, "certificates", "certificates issued", batch.kind.title,
               {"issued": count, "total": batch.count, "for": "e-mail to the teams"})
    return issued


def _covers_certificates(rows: list[OutboxMessage]) -> bool:
    """Whether the member has (or will have) their certificates by e-mail: a certificate notice, a
    feedback notice sent with them, or a feedback notice still waiting (sent from now on, it carries them)."""
    for row in rows:
        if row.status not in LIVE:
            continue
        if row.kind == TEAM_CERTIFICATES or row.includes_certificates or row.status in WAITING:
            return True
    return False


def _queue_member(member: TeamMember, rows: list[OutboxMessage], final, resend: bool, result: Queued) -> None:
    team = member.team
    version = team.feedback_version
    current = [r for r in rows if r.version == version or r.status in WAITING]
    feedback = [r for r in current if r.kind == TEAM_FEEDBACK]
    if resend or not any(r.status in LIVE for r in feedback):
        if any(r.status in WAITING for r in rows):
            result.skipped["already waiting to be sent"] += 1
            return
        if rows and rows[-1].kind == TEAM_FEEDBACK and rows[-1].status == "failed":
            _requeue(rows[-1], version)
        else:
            db.session.add(OutboxMessage(event_id=team.event_id, kind=TEAM_FEEDBACK, team_id=team.id,
                                         member_id=member.id, version=version, to_name=member.name[:120],
                                         to_address=member.email, requested_by=actor()))
        result.queued += 1
        return
    if final is None or not member.present:
        result.skipped["already told"] += 1
        return
    if _covers_certificates(current):
        result.skipped["already told, certificates included"] += 1
        return
    if rows[-1].kind == TEAM_CERTIFICATES and rows[-1].status == "failed":
        _requeue(rows[-1], version)
    else:
        db.session.add(OutboxMessage(event_id=team.event_id, kind=TEAM_CERTIFICATES, team_id=team.id,
                                     member_id=member.id, version=version, to_name=member.name[:120],
                                     to_address=member.email, requested_by=actor()))
    result.queued += 1


def queue_team_notices(event: Event, members: list[TeamMember] | None = None, resend: bool = False) -> Queued:
    """Tell every team member (or those given) that their team's feedback is out, and once the awards
    are final, where their certificates are. Refused before the feedback is released."""
    _lock(event)
    if event.feedback_released_at is None:
        raise OperationError("The feedback is not released yet: release it on the Feedback page first, then tell "
                             "the teams.")
    final = RankingSnapshot.final_for(event)
    result = Queued()
    if final is not None:
        result.certificates_issued = _issue_certificates(event)
    by_member: dict[int, list[OutboxMessage]] = defaultdict(list)
    for row in _rows(event, TEAM_KINDS):
        by_member[row.member_id].append(row)
    chosen = members if members is not None else [m for t in event.teams for m in t.members]
    for member in chosen:
        if member.team.feedback_revoked_at is not None:
            result.skipped["skipped: team's feedback link switched off"] += 1
            continue
        if not member.email:
            result.skipped["skipped: no e-mail address"] += 1
            continue
        _queue_member(member, by_member[member.id], final, resend, result)
    _record_queued(event, "releases", "team notices", members, "members", resend, result)
    return result


def retry_failed(event: Event) -> int:
    """Queue again every message of the event whose latest try for its person and kind failed."""
    _lock(event)
    latest: dict[tuple, OutboxMessage] = {}
    for row in db.session.execute(db.select(OutboxMessage).where(OutboxMessage.event_id == event.id)
                                  .order_by(OutboxMessage.id)).scalars():
        latest[(row.kind, row.judge_id, row.member_id)] = row
    again = [row for (kind, judge_id, member_id), row in latest.items()
             if row.status == "failed" and (judge_id is not None or member_id is not None)]
    for row in again:
        _requeue(row, row.version)
    db.session.flush()
    if again:
        record(event, "judges" if all(r.kind == JUDGE_INVITATION for r in again) else "releases",
               "failed e-mails queued again", f"{len(again)} messages", {"queued": len(again)})
    return len(again)
