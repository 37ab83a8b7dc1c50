"""The messages themselves: built when they are sent (or previewed), never stored with their links.

Each message has a plain-text part and an HTML part (templates/mail/messages/, autoescaped), and the
judge's invitation a QR code of the sign-in link as an inline PNG (multipart/related, cid:), since
mail programs show inline PNG far more reliably than SVG or a remote image. Every name that comes
from an organiser's list (people, teams, projects, the event, the venue) is put on one line first,
so a name with line breaks cannot add lines that look like ours, and the HTML part escapes it.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from functools import lru_cache

from flask import current_app, render_template

from ..documents.batches import long_date
from ..documents.certificates import certificate_code
from ..documents.qr import QUIET_ZONE, qr_matrix
from ..extensions import db
from ..links import certificate_url, feedback_token, feedback_url, judge_sign_in_url, public_url
from ..models import Assignment, Certificate, Event, Judge, OutboxMessage, RankingSnapshot, Team, TeamMember

JUDGE_INVITATION, TEAM_FEEDBACK, TEAM_CERTIFICATES = "judge_invitation", "team_feedback", "team_certificates"
KIND_TITLES = {JUDGE_INVITATION: "Judge invitation", TEAM_FEEDBACK: "Team feedback released",
               TEAM_CERTIFICATES: "Certificates ready"}
PLANNED_SHOWN = 5  # the judge's first planned tables named in the invitation
QR_CID = "sign-in-qr"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
DEFAULT_FROM = "Expo Judge <expo-judge@localhost>"
# Python's header folding at 78 characters moves a whole subject holding a colon onto a line of its
# own, which some mail programs then show with a leading space; lines up to 998 are the standard's limit.
MIME_POLICY = policy.SMTP.clone(max_line_length=998)


class NotSendable(Exception):
    """The message must not go out now (its person was removed, the badge withdrawn, ...); the
    reason is shown to the organisers."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def one_line(text: str | None) -> str:
    """A name as it may appear in a message: control characters and line breaks become spaces."""
    return " ".join(_CONTROL.sub(" ", text or "").split())


@dataclass
class Draft:
    kind: str
    to_name: str
    to_address: str
    subject: str
    text: str
    html: str
    version: int
    images: dict[str, bytes] = field(default_factory=dict)  # Content-ID -> PNG
    includes_certificates: bool = False


@lru_cache(maxsize=256)
def qr_png(url: str, box: int = 8) -> bytes:
    """A PNG QR code of `url` (medium error correction, the standard 4-module border), `box` pixels a module.

    The modules come from the same code as the printed badges (documents.qr.qr_matrix); the image is
    one pixel a module scaled up, which costs a fraction of drawing each module as a rectangle."""
    from PIL import Image

    matrix = qr_matrix(url, QUIET_ZONE)
    size = len(matrix)
    image = Image.new("1", (size, size), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    buffer = io.BytesIO()
    image.resize((size * box, size * box), Image.NEAREST).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _event_facts(event: Event) -> dict:
    return {"name": one_line(event.name), "date": long_date(event.held_on), "venue": one_line(event.venue)}


def planned_stops(judge: Judge) -> list[dict]:
    """The judge's planned teams in walking order (table and name), from the plan in force."""
    rows = db.session.execute(
        db.select(Team.table_number, Team.name).join(Assignment, Assignment.team_id == Team.id)
        .where(Assignment.judge_id == judge.id).order_by(Assignment.position, Team.table_number)).all()
    return [{"table": table, "team": one_line(name)} for table, name in rows]


def judge_invitation(judge: Judge, check: bool = True) -> Draft:
    """The judge's invitation with their current sign-in link (NotSendable when it would not work,
    unless `check` is off: a preview)."""
    event = judge.event
    if check and judge.revoked_at is not None:
        raise NotSendable("the judge's badge is withdrawn, so the link would not work: not sent")
    if check and event.is_locked:
        raise NotSendable("scoring is locked, so judge links no longer work: not sent")
    url = judge_sign_in_url(judge)
    stops = planned_stops(judge)
    context = {"name": one_line(judge.name), "first_name": one_line(judge.name).split(" ")[0] if judge.name else "",
               "affiliation": one_line(judge.affiliation), "event": _event_facts(event), "url": url,
               "replaced": judge.token_version > 1, "stops": stops[:PLANNED_SHOWN],
               "more_stops": max(0, len(stops) - PLANNED_SHOWN), "total_stops": len(stops), "qr_cid": QR_CID,
               "scoring_open": event.scoring_state == "open"}
    subject = (f"Your new judge link for {context['event']['name']}" if context["replaced"]
               else f"You are invited to judge at {context['event']['name']}")
    return Draft(JUDGE_INVITATION, context["name"], judge.email, subject,
                 render_template("mail/messages/judge_invitation.txt", **context),
                 render_template("mail/messages/judge_invitation.html", **context),
                 judge.token_version, images={QR_CID: qr_png(url)})


def member_certificates(member: TeamMember) -> list[dict]:
    """The member's valid certificates with their links (download and verification), once the
    team's feedback is released and the awards are final; else none."""
    team = member.team
    event = team.event
    if event.feedback_released_at is None or RankingSnapshot.final_for(event) is None or not member.present:
        return []
    rows = db.session.execute(
        db.select(Certificate).where(Certificate.member_id == member.id, Certificate.revoked_at.is_(None))
        .order_by(Certificate.kind, Certificate.id)).scalars().all()
    token = feedback_token(team)
    return [{"what": one_line(c.award) if c.kind == "award" else "Participation",
             "pdf_url": public_url(f"/f/{token}/certificates/{c.id}.pdf"),
             "verify_url": certificate_url(certificate_code(c))} for c in rows]


def team_notice(member: TeamMember, kind: str, check: bool = True) -> Draft:
    """A team member's notice: the feedback is out (with certificates once the awards are final),
    or the certificates are ready. NotSendable when the team's page would not show it (unless
    `check` is off: a preview)."""
    team = member.team
    event = team.event
    if check and event.feedback_released_at is None:
        raise NotSendable("the feedback is not released (or the release was withdrawn): not sent")
    if check and team.feedback_revoked_at is not None:
        raise NotSendable("the team's feedback link is switched off: not sent")
    certificates = member_certificates(member)
    if check and kind == TEAM_CERTIFICATES and not certificates:
        raise NotSendable("the member has no valid certificate: not sent")
    snapshot = RankingSnapshot.final_for(event)
    awards = [one_line(a["category"]) for a in snapshot.data.get("awards", []) if a["team_id"] == team.id] \
        if snapshot is not None else []
    context = {"name": one_line(member.name), "first_name": one_line(member.name).split(" ")[0] if member.name else "",
               "team": one_line(team.name), "project": one_line(team.project), "event": _event_facts(event),
               "url": feedback_url(team) or public_url(f"/f/{feedback_token(team)}"), "certificates": certificates,
               "awards": awards,
               "replaced": team.feedback_version > 1, "kind": kind}
    subject = (f"Your certificate from {context['event']['name']}" if kind == TEAM_CERTIFICATES
               else f"{context['team']}: your feedback from {context['event']['name']} is ready")
    return Draft(kind, context["name"], member.email, subject,
                 render_template("mail/messages/team_notice.txt", **context),
                 render_template("mail/messages/team_notice.html", **context),
                 team.feedback_version, includes_certificates=bool(certificates))


def draft_for(row: OutboxMessage) -> Draft:
    """The message an outbox row stands for, as it would go out now (NotSendable with the reason)."""
    if row.kind == JUDGE_INVITATION:
        judge = db.session.get(Judge, row.judge_id) if row.judge_id is not None else None
        if judge is None:
            raise NotSendable("the judge was removed: not sent")
        return judge_invitation(judge)
    member = db.session.get(TeamMember, row.member_id) if row.member_id is not None else None
    if member is None:
        raise NotSendable("the member was removed from the team: not sent")
    return team_notice(member, row.kind)


def sender() -> str:
    return current_app.config.get("MAIL_FROM") or DEFAULT_FROM


def message_id(row_id: int, created_at) -> str:
    """The same Message-ID on every try of one outbox row: a mail program that gets a message twice
    (the rare case worker.py describes) can tell it is one message."""
    domain = parseaddr(sender())[1].rpartition("@")[2] or "localhost"
    return f"<expo-mail-{row_id}.{created_at:%Y%m%d%H%M%S}@{domain}>"


def to_mime(draft: Draft, msg_id: str) -> EmailMessage:
    """The e-mail: multipart/alternative of the text and (multipart/related) the HTML with its images.

    ValueError when the address cannot be written in a header (the caller fails the message)."""
    message = EmailMessage(policy=MIME_POLICY)
    message["From"] = sender()
    message["To"] = Address(display_name=draft.to_name, addr_spec=draft.to_address)
    message["Subject"] = one_line(draft.subject)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = msg_id
    # Tells vacation responders and the like not to answer a message no person wrote.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(draft.text)
    message.add_alternative(draft.html, subtype="html")
    html_part = message.get_payload()[1]
    for cid, png in draft.images.items():
        html_part.add_related(png, "image", "png", cid=f"<{cid}>", filename=f"{cid}.png", disposition="inline")
    return message


def preview(kind: str, person) -> tuple[Draft, str]:
    """The message `person` (a Judge or a TeamMember) would get, and why it would not go out now ("" if it would)."""
    build = (lambda check: judge_invitation(person, check)) if kind == JUDGE_INVITATION \
        else (lambda check: team_notice(person, kind, check))
    try:
        return build(True), ""
    except NotSendable as exc:
        return build(False), exc.reason.removesuffix(": not sent")


def html_with_images(draft: Draft) -> str:
    """The HTML part with its cid: images as data: URLs, for showing it in a browser."""
    import base64

    html = draft.html
    for cid, png in draft.images.items():
        html = html.replace(f"cid:{cid}", "data:image/png;base64," + base64.b64encode(png).decode())
    return html
