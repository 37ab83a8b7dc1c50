"""The organisers' printing pages: previews, PDF downloads, background renders, certificates.

Printing only reads: certificates are issued (given their verification codes) by a POST, the
"Issue and ..." buttons or Prepare PDF, or by the CLI; a GET prints what is issued and, if some
certificate is still to be issued, says so instead of issuing it.

A render never runs inside a database transaction: the views read what they need, commit (which
also keeps the certificates a batch issued), render, and store a kept PDF in a new short
transaction. On SQLite an open write transaction would hold judges' score saves for as long as
the render takes.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for

from ..actions import run_confirmed, run_form
from ..admin.forms import ConfirmForm
from ..auth.session import admin_actor, admin_required
from ..audit import record
from ..extensions import db, write_intent
from ..filenames import slug
from ..models import Certificate, Event, Judge
from .batches import KINDS, PLACARD_QR_MM, Batch, build_batch
from .certificates import certificate_code, replace_certificate, revoke_certificate
from .checklist import certificate_checklist
from .forms import RevokeForm
from .render import render_preview
from .store import is_fresh, is_running, keep_pdf, kept_document, queue_render, render_batch, start_render

bp = Blueprint("documents", __name__, url_prefix="/admin")
KIND_PATH = "any(placards, badges, certificates, participation, slips)"
PREVIEW_ITEMS = {"placards": 4, "badges": 12, "certificates": 4, "participation": 4, "slips": 16}
NOUNS = {"placards": "placard", "badges": "badge", "certificates": "certificate", "participation": "certificate",
         "slips": "slip"}
@bp.before_request
@admin_required
def _require_admin():
    return None


def _pdf_response(pdf: bytes, filename: str) -> Response:
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"})


def _back_to_printing(event_id: int, message: str, anchor: str | None = None):
    flash(message, "error")
    return redirect(url_for("documents.print_page", event_id=event_id, _anchor=anchor))


def _printable(event_id: int, kind: str, **kwargs) -> tuple[Event, Batch]:
    """Load the event and build its batch without writing, or go back saying why nothing prints
    (nothing to print yet, or certificates still to be issued: a GET never issues them)."""
    event = db.get_or_404(Event, event_id)
    batch = build_batch(event, kind, issue=False, **kwargs)
    if batch.blocked:
        db.session.rollback()
        abort(_back_to_printing(event.id, batch.blocked))
    if batch.unissued:
        db.session.rollback()
        abort(_back_to_printing(event.id, f"{batch.unissued} of these certificates {_are(batch.unissued)} not issued yet: "
                                           "press “Issue and download” (or “Issue and preview”) below. Issuing gives "
                                           "each its verification code; downloading never does it by itself.", kind))
    return event, batch


def _are(count: int) -> str:
    return "is" if count == 1 else "are"


@bp.route("/events/<int:event_id>/print")
def print_page(event_id):
    event = db.get_or_404(Event, event_id)
    rows = []
    for kind in KINDS.values():
        batch = build_batch(event, kind.name, issue=False)  # read only: counting issues nothing
        kept = kept_document(event.id, kind.name) if kind.cacheable else None
        rows.append({"kind": kind, "batch": batch, "kept": kept, "fresh": is_fresh(kept, batch),
                     "running": is_running(kept), "noun": NOUNS[kind.name],
                     "inline": not kind.cacheable or batch.pages <= current_app.config["DOCUMENT_INLINE_PAGES"]})
    return render_template("documents/print.html", event=event, rows=rows, confirm=ConfirmForm(),
                           qr_mm=PLACARD_QR_MM[event.paper_size], checklist=certificate_checklist(event))


@bp.route(f"/events/<int:event_id>/print/<{KIND_PATH}:kind>")
def preview(event_id, kind):
    event, batch = _printable(event_id, kind)
    db.session.rollback()  # read only: no transaction while the preview is laid out
    shown = batch.items[:PREVIEW_ITEMS[kind]]
    context = {**batch.context(), "items": shown, "preview_bar": {
        "back_url": url_for("documents.print_page", event_id=event_id), "shown": len(shown),
        "total": len(batch.items), "noun": NOUNS[kind] + ("" if len(batch.items) == 1 else "s"),
        "download_url": url_for("documents.download", event_id=event_id, kind=kind)}}
    return render_preview(batch.kind.template, context, paper=batch.paper)


@bp.route(f"/events/<int:event_id>/print/<{KIND_PATH}:kind>.pdf")
def download(event_id, kind):
    event, batch = _printable(event_id, kind)
    filename, actor = f"{slug(event.name)}-{kind}.pdf", admin_actor()
    kept = kept_document(event_id, kind, with_pdf=True) if batch.kind.cacheable else None
    if is_fresh(kept, batch):
        pdf = kept.pdf
        db.session.commit()
        return _pdf_response(pdf, filename)
    if batch.kind.cacheable and batch.pages > current_app.config["DOCUMENT_INLINE_PAGES"]:
        running = is_running(kept)
        db.session.commit()
        if running:
            return redirect(url_for("documents.status", event_id=event_id, kind=kind))
        return _back_to_printing(event_id, f"{batch.kind.title}: {batch.pages} pages. Prepare the PDF first; it "
                                           "renders in the background.", kind)
    db.session.commit()  # before the render: no transaction, so no lock, while pages are laid out
    result = render_batch(batch)
    if batch.kind.cacheable:
        # Keeping the rendered PDF is the one write here (a cache of what was read): its own short
        # transaction, which takes SQLite's write lock up front.
        token = write_intent.set(True)
        try:
            keep_pdf(event_id, batch, result, actor)
            db.session.commit()
        finally:
            write_intent.reset(token)
    return _pdf_response(result.pdf, filename)


def _issue(event: Event, kind: str) -> tuple[Batch, int]:
    """The batch with every certificate in it issued, and how many this issued (audited). Flushes only."""
    batch = build_batch(event, kind, issue=False)
    if batch.blocked or not batch.unissued:
        return batch, 0
    issued = batch.unissued
    batch = build_batch(event, kind)
    record(event, "certificates", "certificates issued", KINDS[kind].title, {"issued": issued, "total": batch.count})
    return batch, issued


@bp.route(f"/events/<int:event_id>/print/<any(certificates, participation):kind>/issue", methods=["POST"])
def issue(event_id, kind):
    """Issue the certificates of a batch (each gets its verification code), then go on as asked:
    to the preview, the download, or back to the printing page."""
    event = db.get_or_404(Event, event_id)
    then = request.form.get("then", "")
    if not ConfirmForm().validate_on_submit():
        return _back_to_printing(event_id, "This button's form had expired: nothing changed. Try again.")
    batch, issued = _issue(event, kind)
    if batch.blocked:
        db.session.rollback()
        return _back_to_printing(event.id, batch.blocked, kind)
    db.session.commit()
    if then in ("preview", "download"):
        return redirect(url_for(f"documents.{then}", event_id=event_id, kind=kind))
    flash(f"{issued} certificate{'' if issued == 1 else 's'} issued." if issued
          else "Every certificate was issued already: nothing changed.", "success")
    return redirect(url_for("documents.print_page", event_id=event_id, _anchor=kind))


@bp.route(f"/events/<int:event_id>/print/<{KIND_PATH}:kind>/prepare", methods=["POST"])
def prepare(event_id, kind):
    if not KINDS[kind].cacheable:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        return _back_to_printing(event_id, "This button's form had expired: nothing changed. Try again.")
    event = db.get_or_404(Event, event_id)
    batch, _issued = _issue(event, kind)  # a POST: issuing here is what gives the render its codes
    if batch.blocked:
        db.session.rollback()
        return _back_to_printing(event.id, batch.blocked, kind)
    if is_fresh(kept_document(event_id, kind), batch):
        db.session.commit()
        flash(f"{batch.kind.title} are ready: nothing changed since they were rendered.", "success")
    else:
        queued = queue_render(event, batch, admin_actor())
        db.session.commit()  # before the render: an inline one opens its own session
        if queued is not None:
            start_render(current_app._get_current_object(), queued)
    return redirect(url_for("documents.status", event_id=event_id, kind=kind))


@bp.route(f"/events/<int:event_id>/print/<{KIND_PATH}:kind>/status")
def status(event_id, kind):
    event = db.get_or_404(Event, event_id)
    if not KINDS[kind].cacheable:
        abort(404)
    document = kept_document(event.id, kind)
    running = is_running(document)
    stalled = document is not None and document.state in ("queued", "rendering") and not running
    response = Response(render_template("documents/status.html", event=event, kind=KINDS[kind], document=document,
                                        running=running, stalled=stalled, confirm=ConfirmForm()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/judges/<int:judge_id>/badge.pdf")
def judge_badge(judge_id):
    judge = db.get_or_404(Judge, judge_id)
    if judge.revoked_at is not None:
        flash(f"{judge.name}'s badge is withdrawn: put it back in service before printing it.", "error")
        return redirect(url_for("admin.edit_judge", judge_id=judge.id))
    batch = build_batch(judge.event, "badges", judge=judge)
    filename = f"badge-{slug(judge.name)}-{judge.token_version}.pdf"
    db.session.rollback()  # nothing was written; no transaction while the sheet is laid out
    return _pdf_response(render_batch(batch).pdf, filename)


@bp.route("/events/<int:event_id>/certificates")
def certificates(event_id):
    event = db.get_or_404(Event, event_id)
    issued = db.session.execute(
        db.select(Certificate).where(Certificate.event_id == event.id)
        .order_by(Certificate.kind, Certificate.team_name, Certificate.recipient, Certificate.issue)).scalars().all()
    newest = {}
    for certificate in issued:
        key = (certificate.member_id, certificate.subject)
        if key not in newest or newest[key].issue < certificate.issue:
            newest[key] = certificate
    return render_template("documents/certificates.html", event=event, issued=issued, code=certificate_code,
                           replaceable={c.id for c in newest.values() if c.revoked_at is not None},
                           revoke_form=RevokeForm(), confirm=ConfirmForm())


@bp.route("/certificates/<int:certificate_id>.pdf")
def certificate_pdf(certificate_id):
    certificate = db.get_or_404(Certificate, certificate_id)
    back = url_for("documents.certificates", event_id=certificate.event_id)
    if certificate.revoked_at is not None or certificate.member_id is None:
        flash("A revoked certificate, or one whose person left the team, is not printed again.", "error")
        return redirect(back)
    kind = "certificates" if certificate.kind == "award" else "participation"
    event, batch = _printable(certificate.event_id, kind, certificate_ids=[certificate.id])
    if not batch.items:
        db.session.rollback()
        flash(f"{certificate.recipient} no longer gets this certificate (moved to another team, or not in the "
              "final awards), so it is not printed again.", "error")
        return redirect(back)
    filename = f"certificate-{slug(certificate.recipient)}-{certificate.id}.pdf"
    db.session.rollback()  # read only: no transaction while the page is laid out
    return _pdf_response(render_batch(batch).pdf, filename)


@bp.route("/certificates/<int:certificate_id>/revoke", methods=["POST"])
def revoke(certificate_id):
    certificate = db.get_or_404(Certificate, certificate_id)
    form = RevokeForm()
    run_form(form, lambda: revoke_certificate(certificate, form.reason.data, admin_actor()),
             f"{certificate.recipient}'s certificate is revoked: its verification page says so.", form.reason)
    return redirect(url_for("documents.certificates", event_id=certificate.event_id, _anchor=f"c{certificate.id}"))


@bp.route("/certificates/<int:certificate_id>/replace", methods=["POST"])
def replace(certificate_id):
    certificate = db.get_or_404(Certificate, certificate_id)
    event_id, recipient = certificate.event_id, certificate.recipient
    run_confirmed(lambda: replace_certificate(certificate),
                  f"A new certificate for {recipient}, with a new code: print it from this list.")
    return redirect(url_for("documents.certificates", event_id=event_id))

