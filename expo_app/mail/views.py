"""The organisers' Mail page: who was sent what, invite or tell everyone not told yet, resend one,
retry failures, preview every kind of message, and (without MAIL_URL) read the development mailbox.

Each view: load or 404, check permission (every page here is the organisers'), validate the
(CSRF) form, call one operation, commit once, redirect. The request only queues: the worker
delivers (without MAIL_URL, a background thread writes the .eml files right after the commit).
"""
from __future__ import annotations

import base64
from email import message_from_bytes, policy
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for

from ..actions import run_confirmed
from ..admin.forms import ConfirmForm
from ..auth.session import admin_required
from ..extensions import db
from ..models import Event, Judge, OutboxMessage, TeamMember, utcnow
from . import operations as ops
from .messages import JUDGE_INVITATION, KIND_TITLES, TEAM_CERTIFICATES, TEAM_FEEDBACK, html_with_images, preview
from .status import NOTHING, counts, judge_mail, judges_not_invited, member_mail, messages
from .transport import MailConfigError, eml_name, mailbox_folder, make_transport
from .worker import kick

bp = Blueprint("mail", __name__, url_prefix="/admin")
RECENT = 50
STALE_MINUTES = 5  # queued longer than this with SMTP: the page asks whether the worker runs
# The previewed or delivered HTML part alone, inside the page's sandboxed frame: its own inline styles
# and data: images, nothing else, and framed only by our own pages.
PART_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                           "frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
                "X-Frame-Options": "SAMEORIGIN", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@bp.before_request
@admin_required
def _require_admin():
    return None


def _delivery() -> dict:
    """How messages leave, for the page: the SMTP server (no password) or the mailbox folder."""
    try:
        where = make_transport(current_app).describe()
        problem = ""
    except MailConfigError as exc:
        where, problem = "", str(exc)
    return {"smtp": bool(current_app.config.get("MAIL_URL")), "where": where, "problem": problem,
            "sender": current_app.config.get("MAIL_FROM") or "", "rate": current_app.config.get("MAIL_RATE"),
            "background": current_app.config.get("MAIL_BACKGROUND") == "thread"}


@bp.route("/events/<int:event_id>/mail")
def outbox(event_id):
    event = db.get_or_404(Event, event_id)
    recent = messages(event, RECENT)
    stale = [m for m in recent if m.status == "queued" and m.attempts == 0
             and (utcnow() - m.created_at).total_seconds() > STALE_MINUTES * 60]
    mailbox = mailbox_folder(current_app)
    delivered = {m.id for m in recent if m.status == "sent" and (mailbox / f"{eml_name(m.id, m.created_at)}.eml").exists()}
    members = [(team, member) for team in event.teams for member in team.members]
    return render_template("mail/outbox.html", event=event, counts=counts(event), recent=recent, stale=stale,
                           delivery=_delivery(), judges=judge_mail(event), members=members,
                           member_status=member_mail(event), nothing=NOTHING, to_invite=judges_not_invited(event),
                           delivered=delivered, confirm=ConfirmForm(), titles=KIND_TITLES)


def _queued_and_delivering(operation, success) -> None:
    if run_confirmed(operation, success):
        kick(current_app._get_current_object())


@bp.route("/events/<int:event_id>/mail/invite-judges", methods=["POST"])
def invite_judges(event_id):
    event = db.get_or_404(Event, event_id)
    _queued_and_delivering(lambda: ops.queue_judge_invitations(event),
                           lambda result: f"Judge invitations: {result.summary()}")
    return redirect(url_for("mail.outbox", event_id=event.id, _anchor="judges"))


@bp.route("/events/<int:event_id>/mail/notify-teams", methods=["POST"])
def notify_teams(event_id):
    event = db.get_or_404(Event, event_id)
    _queued_and_delivering(lambda: ops.queue_team_notices(event), lambda result: f"Team notices: {result.summary()}")
    return redirect(url_for("mail.outbox", event_id=event.id, _anchor="teams"))


@bp.route("/events/<int:event_id>/mail/retry-failed", methods=["POST"])
def retry_failed(event_id):
    event = db.get_or_404(Event, event_id)
    _queued_and_delivering(lambda: ops.retry_failed(event),
                           lambda count: f"{count} failed message{'' if count == 1 else 's'} queued again.")
    return redirect(url_for("mail.outbox", event_id=event.id))


@bp.route("/judges/<int:judge_id>/mail/resend", methods=["POST"])
def resend_judge(judge_id):
    judge = db.get_or_404(Judge, judge_id)
    _queued_and_delivering(lambda: ops.queue_judge_invitations(judge.event, resend=True, judges=[judge]),
                           lambda result: f"{judge.name}: {result.summary()}")
    return redirect(url_for("mail.outbox", event_id=judge.event_id, _anchor="judges"))


@bp.route("/members/<int:member_id>/mail/resend", methods=["POST"])
def resend_member(member_id):
    member = db.get_or_404(TeamMember, member_id)
    event = member.team.event
    _queued_and_delivering(lambda: ops.queue_team_notices(event, members=[member], resend=True),
                           lambda result: f"{member.name}: {result.summary()}")
    return redirect(url_for("mail.outbox", event_id=event.id, _anchor="teams"))


KINDS = f"any({JUDGE_INVITATION}, {TEAM_FEEDBACK}, {TEAM_CERTIFICATES})"


def _recipient(event: Event, kind: str):
    """The judge or member named by ?to=<id> (default: the first one), in this event; 404 otherwise."""
    wanted = request.args.get("to", type=int)
    people = event.judges if kind == JUDGE_INVITATION else [m for t in event.teams for m in t.members]
    if not people:
        abort(404)
    person = people[0] if wanted is None else next((p for p in people if p.id == wanted), None)
    if person is None:
        abort(404)
    return person, people


@bp.route(f"/events/<int:event_id>/mail/preview/<{KINDS}:kind>")
def preview_page(event_id, kind):
    event = db.get_or_404(Event, event_id)
    person, people = _recipient(event, kind)
    draft, blocked = preview(kind, person)
    db.session.rollback()  # a preview writes nothing
    return render_template("mail/message.html", event=event, title=f"Preview: {KIND_TITLES[kind]}", kind=kind,
                           person=person, people=people, to=f"{draft.to_name} <{draft.to_address}>",
                           subject=draft.subject, text=draft.text, blocked=blocked,
                           frame=url_for("mail.preview_html", event_id=event.id, kind=kind, to=person.id),
                           row=None, eml=None, titles=KIND_TITLES), 200, {"Cache-Control": "no-store"}


@bp.route(f"/events/<int:event_id>/mail/preview/<{KINDS}:kind>.html")
def preview_html(event_id, kind):
    event = db.get_or_404(Event, event_id)
    person, _people = _recipient(event, kind)
    draft, _blocked = preview(kind, person)
    db.session.rollback()
    return Response(html_with_images(draft), mimetype="text/html", headers=PART_HEADERS)


def _delivered_file(message_id: int) -> tuple[OutboxMessage, Path | None]:
    row = db.get_or_404(OutboxMessage, message_id)
    path = mailbox_folder(current_app) / f"{eml_name(row.id, row.created_at)}.eml"
    return row, path if path.is_file() else None


def _read_eml(path: Path):
    return message_from_bytes(path.read_bytes(), policy=policy.default)


@bp.route("/mail/<int:message_id>")
def delivered(message_id):
    row, path = _delivered_file(message_id)
    text = subject = to = ""
    if path is not None:
        parsed = _read_eml(path)
        body = parsed.get_body(("plain",))
        text, subject, to = (body.get_content() if body else ""), str(parsed["Subject"]), str(parsed["To"])
    return render_template("mail/message.html", event=db.session.get(Event, row.event_id), row=row, eml=path,
                           title=f"{KIND_TITLES[row.kind]} to {row.to_name}", kind=row.kind, person=None, people=[],
                           to=to, subject=subject, text=text, blocked="", titles=KIND_TITLES,
                           frame=url_for("mail.delivered_html", message_id=row.id) if path else ""), \
        200, {"Cache-Control": "no-store"}


@bp.route("/mail/<int:message_id>.html")
def delivered_html(message_id):
    _row, path = _delivered_file(message_id)
    if path is None:
        abort(404)
    parsed = _read_eml(path)
    body = parsed.get_body(("html",))
    html = body.get_content() if body else ""
    for part in parsed.walk():
        cid = (part["Content-ID"] or "").strip("<>")
        if cid and part.get_content_maintype() == "image":
            data = base64.b64encode(part.get_content()).decode()
            html = html.replace(f"cid:{cid}", f"data:{part.get_content_type()};base64,{data}")
    return Response(html, mimetype="text/html", headers=PART_HEADERS)


@bp.route("/mail/<int:message_id>.eml")
def delivered_eml(message_id):
    row, path = _delivered_file(message_id)
    if path is None:
        abort(404)
    return Response(path.read_bytes(), mimetype="message/rfc822", headers={
        "Content-Disposition": f'attachment; filename="{eml_name(row.id, row.created_at)}.eml"', "Cache-Control": "no-store"})
