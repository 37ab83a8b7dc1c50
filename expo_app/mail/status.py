"""What the outbox says about each person: read by the mail page, the judges and teams pages and
`expo mail status`. Reads only."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from ..extensions import db
from ..models import MAIL_STATES, Event, Judge, OutboxMessage
from ..scoring.csvio import to_csv
from .messages import JUDGE_INVITATION, KIND_TITLES, TEAM_CERTIFICATES, TEAM_FEEDBACK

STATUS_COLUMNS = ("to", "kind", "status", "attempts", "last_error")


@dataclass(frozen=True)
class PersonMail:
    """A person's latest message of one kind, as the pages show it.

    state: none (nothing queued), queued, retrying (queued after a failed try), sending, sent,
    outdated (sent for a badge or feedback link that has been reissued since) or failed."""

    state: str
    row: OutboxMessage | None = None

    @property
    def at(self) -> datetime | None:
        return None if self.row is None else self.row.sent_at or self.row.created_at

    @property
    def reason(self) -> str:
        return "" if self.row is None else self.row.last_error

    @property
    def attempts(self) -> int:
        return 0 if self.row is None else self.row.attempts


NOTHING = PersonMail("none")


def _state(row: OutboxMessage, current_version: int | None) -> PersonMail:
    if row.status == "queued" and row.attempts and row.last_error:
        return PersonMail("retrying", row)
    if row.status == "sent" and current_version is not None and row.version < current_version:
        return PersonMail("outdated", row)
    return PersonMail(row.status, row)


def _rows(event: Event, kinds: tuple[str, ...]) -> list[OutboxMessage]:
    return db.session.execute(db.select(OutboxMessage).where(OutboxMessage.event_id == event.id,
                                                             OutboxMessage.kind.in_(kinds))
                              .order_by(OutboxMessage.id)).scalars().all()


def judge_mail(event: Event) -> dict[int, PersonMail]:
    """Each judge's latest invitation (judges never invited are missing: NOTHING)."""
    versions = {j.id: j.token_version for j in event.judges}
    latest = {row.judge_id: row for row in _rows(event, (JUDGE_INVITATION,)) if row.judge_id is not None}
    return {judge_id: _state(row, versions.get(judge_id)) for judge_id, row in latest.items()}


def member_mail(event: Event) -> dict[int, dict[str, PersonMail]]:
    """Each member's latest feedback notice and certificate notice, by kind."""
    versions = {m.id: t.feedback_version for t in event.teams for m in t.members}
    result: dict[int, dict[str, PersonMail]] = defaultdict(dict)
    for row in _rows(event, (TEAM_FEEDBACK, TEAM_CERTIFICATES)):
        if row.member_id is not None:
            result[row.member_id][row.kind] = _state(row, versions.get(row.member_id))
    return dict(result)


def team_mail_summary(event: Event) -> dict[int, str]:
    """Per team, one line for the teams page: "Feedback e-mailed to 2 of 3", "1 failed", ..."""
    members = member_mail(event)
    summary = {}
    for team in event.teams:
        states = [members.get(m.id, {}).get(TEAM_FEEDBACK, NOTHING).state for m in team.members]
        if not states or all(s == "none" for s in states):
            continue
        told = sum(s == "sent" for s in states)
        parts = [f"Feedback e-mailed to {told} of {len(states)}"]
        waiting = sum(s in ("queued", "sending", "retrying") for s in states)
        failed = sum(s == "failed" for s in states)
        if waiting:
            parts.append(f"{waiting} waiting")
        if failed:
            parts.append(f"{failed} failed")
        summary[team.id] = ", ".join(parts)
    return summary


def counts(event: Event) -> dict[str, int]:
    """Messages of the event by status (every status present, zero when none)."""
    found = Counter(dict(db.session.execute(
        db.select(OutboxMessage.status, db.func.count(OutboxMessage.id))
        .where(OutboxMessage.event_id == event.id).group_by(OutboxMessage.status)).all()))
    return {status: found.get(status, 0) for status in MAIL_STATES}


def messages(event: Event, limit: int | None = None) -> list[OutboxMessage]:
    """The event's messages, newest first."""
    query = db.select(OutboxMessage).where(OutboxMessage.event_id == event.id).order_by(OutboxMessage.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return db.session.execute(query).scalars().all()


def status_csv(event: Event) -> str:
    """`expo mail status`: one row per message, oldest first: to,kind,status,attempts,last_error."""
    rows = db.session.execute(db.select(OutboxMessage).where(OutboxMessage.event_id == event.id)
                              .order_by(OutboxMessage.id)).scalars().all()
    return to_csv(STATUS_COLUMNS, ((r.to_address, r.kind, r.status, r.attempts, r.last_error) for r in rows))


def judges_not_invited(event: Event) -> list[Judge]:
    """Judges an "invite all" would queue a message for: badge in service, no live invitation for it."""
    mail = judge_mail(event)
    return [j for j in event.judges if j.revoked_at is None
            and mail.get(j.id, NOTHING).state in ("none", "failed", "outdated")]


def kind_title(kind: str) -> str:
    return KIND_TITLES.get(kind, kind)
