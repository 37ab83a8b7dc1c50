"""Issuing, revoking and replacing certificates. Operations change ORM objects and flush only.

A certificate is issued by the organiser (the Printing page's "Issue and ..." buttons, Prepare PDF,
or `expo print`), never by a GET, and the same row (so the same verification code) is reused for
every reprint. What it certifies is one (member, subject) pair,
where the subject is "participation" or "award:<category id>". A revoked certificate is never
printed again; the organiser may issue a replacement, which gets a new row and a new code.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..actions import OperationError
from ..audit import change, record
from ..extensions import db
from ..models import Certificate, Event, Team, TeamMember, find_by_identity, utcnow
from .codes import make_certificate_code, read_certificate_code

PARTICIPATION = "participation"
NOT_ISSUED = object()  # planned_certificates: printing would issue this one first


def award_subject(category_id: int) -> str:
    return f"award:{category_id}"


def certificate_code(certificate: Certificate) -> str:
    """The verification code printed on this certificate (the same on every reprint)."""
    return make_certificate_code(current_app.config["SECRET_KEY"], certificate.uid)


def find_certificate(code: str) -> Certificate | None:
    """The certificate a verification code names, or None for an unknown, malformed or forged one.

    Codes made under an earlier secret key (SECRET_KEY_FALLBACKS) still verify: paper outlives keys.
    """
    for key in (current_app.config["SECRET_KEY"], *current_app.config.get("SECRET_KEY_FALLBACKS", [])):
        claim = read_certificate_code(key, code)
        if claim is not None:
            return find_by_identity(Certificate, claim.owner)
    return None


def eligible_members(team: Team) -> list[TeamMember]:
    """The members who receive certificates for `team`: those not marked absent, in the order entered."""
    return [member for member in team.members if member.present]


@dataclass(frozen=True)
class Wanted:
    """A certificate a batch is about to print: who, for what, and the text it certifies."""

    member: TeamMember
    team: Team
    kind: str
    subject: str
    award: str = ""


def _latest(event: Event) -> dict[tuple[int, str], Certificate]:
    rows = db.session.execute(
        db.select(Certificate).where(Certificate.event_id == event.id, Certificate.member_id.is_not(None))
        .order_by(Certificate.issue)).scalars()
    return {(c.member_id, c.subject): c for c in rows}  # the highest issue wins


def _refresh_text(certificate: Certificate, wanted: Wanted) -> None:
    """A valid certificate says what it certifies today (a corrected spelling, say)."""
    text = {"recipient": wanted.member.name, "team_name": wanted.team.name, "project": wanted.team.project,
            "award": wanted.award}
    for field, value in text.items():
        if getattr(certificate, field) != value:
            setattr(certificate, field, value)


def refresh_certificate_texts(teams: list[Team]) -> None:
    """Valid certificates say what they certify today: a corrected spelling of a member's name, a
    team's name or its project reaches their verification pages when it is saved (printing only
    reads, so this is where the text is copied). Flushes only."""
    by_member = {m.id: (m, t) for t in teams for m in t.members if m.id is not None}
    if not by_member:
        return
    rows = db.session.execute(db.select(Certificate).where(Certificate.member_id.in_(list(by_member)),
                                                           Certificate.revoked_at.is_(None))).scalars().all()
    for certificate in rows:
        member, team = by_member[certificate.member_id]
        _refresh_text(certificate, Wanted(member, team, certificate.kind, certificate.subject, certificate.award))
    db.session.flush()


def planned_certificates(event: Event, wanted: list[Wanted]) -> list[Certificate | object | None]:
    """What issue_certificates would return, without writing: NOT_ISSUED for those it would issue."""
    latest = _latest(event)
    plan = []
    for item in wanted:
        certificate = latest.get((item.member.id, item.subject))
        plan.append(NOT_ISSUED if certificate is None else None if certificate.revoked_at is not None else certificate)
    return plan


def issue_certificates(event: Event, wanted: list[Wanted]) -> list[Certificate | None]:
    """The certificate for each wanted one, issuing those that do not exist yet.

    Returns None in the place of one whose latest issue was revoked: it is not printed until the
    organiser issues a replacement. Safe to run twice at once: a unique (member, subject, issue)
    key means a parallel issuer's rows are found and reused instead of duplicated.
    """
    for attempt in range(2):
        latest = _latest(event)
        result: list[Certificate | None] = []
        fresh = []
        for item in wanted:
            certificate = latest.get((item.member.id, item.subject))
            if certificate is None:
                certificate = Certificate(event=event, kind=item.kind, subject=item.subject, member=item.member,
                                          issue=1, recipient=item.member.name, team_name=item.team.name,
                                          project=item.team.project, award=item.award)
                fresh.append(certificate)
                latest[(item.member.id, item.subject)] = certificate
            elif certificate.revoked_at is not None:
                result.append(None)
                continue
            else:
                _refresh_text(certificate, item)
            result.append(certificate)
        if not fresh:
            db.session.flush()
            return result
        savepoint = db.session.begin_nested()
        try:
            db.session.add_all(fresh)
            db.session.flush()
        except IntegrityError:
            savepoint.rollback()
            if attempt:
                raise
            continue
        savepoint.commit()
        return result
    raise AssertionError("unreachable")


def revoke_certificate(certificate: Certificate, reason: str, actor: str) -> Certificate:
    """Mark the certificate revoked: its verification page says so from now on."""
    if certificate.revoked_at is not None:
        raise OperationError("This certificate is already revoked.")
    reason = (reason or "").strip()
    if not reason:
        raise OperationError("Say why the certificate is revoked (kept for the organisers, not shown publicly).")
    certificate.revoked_at, certificate.revoked_reason, certificate.revoked_by = utcnow(), reason[:300], actor[:300]
    db.session.flush()
    record(certificate.event_id, "certificates", "certificate revoked", _subject(certificate),
           {"reason": reason[:300], "issue": certificate.issue})
    return certificate


WITHDRAWN_BY = "removed from the event"


def withdraw_certificates_of(members: list[TeamMember], reason: str) -> int:
    """Withdraw the valid certificates of members about to be removed (with their team, or from it).

    Their verification page says "withdrawn" from now on: a printed code never goes on vouching for
    someone the event no longer lists, and never for anyone else. Returns how many were withdrawn.
    """
    ids = [m.id for m in members if m.id is not None]
    if not ids:
        return 0
    rows = db.session.execute(db.select(Certificate).where(Certificate.member_id.in_(ids),
                                                           Certificate.revoked_at.is_(None))).scalars().all()
    now = utcnow()
    for certificate in rows:
        certificate.revoked_at, certificate.revoked_reason, certificate.revoked_by = now, reason[:300], WITHDRAWN_BY
    return len(rows)


def _subject(certificate: Certificate) -> str:
    """Whose certificate, for what: "Ada Lovelace (Drift Busters), 1st place" for the audit log."""
    what = certificate.award or certificate.kind
    return f"{certificate.recipient} ({certificate.team_name}), {what}"


def replace_certificate(certificate: Certificate) -> Certificate:
    """Issue a new certificate (new code) for what a revoked one certified."""
    if certificate.revoked_at is None:
        raise OperationError("Only a revoked certificate can be replaced: revoke it first.")
    if certificate.member_id is None:
        raise OperationError(f"{certificate.recipient} is no longer on the team, so there is nobody to issue it to.")
    # Lock the revoked row: a double click on PostgreSQL must not issue two replacements.
    db.session.refresh(certificate, with_for_update=True)
    newest = db.session.execute(
        db.select(db.func.max(Certificate.issue))
        .where(Certificate.member_id == certificate.member_id, Certificate.subject == certificate.subject)).scalar()
    if newest != certificate.issue:
        raise OperationError("A newer certificate was already issued for this.")
    replacement = Certificate(event_id=certificate.event_id, kind=certificate.kind, subject=certificate.subject,
                              member_id=certificate.member_id, issue=certificate.issue + 1,
                              recipient=certificate.recipient, team_name=certificate.team_name,
                              project=certificate.project, award=certificate.award)
    db.session.add(replacement)
    db.session.flush()
    record(certificate.event_id, "certificates", "certificate replaced", _subject(replacement),
           {"issue": change(certificate.issue, replacement.issue)})
    return replacement
