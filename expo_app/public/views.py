"""Public pages: certificate verification (/v/<code>, printed on every certificate) and a team's
private feedback (/f/<token>, printed on its slip)."""
from flask import Response, abort, render_template

from ..documents.batches import build_batch, long_date
from ..documents.certificates import WITHDRAWN_BY, find_certificate
from ..documents.store import render_batch
from ..extensions import db
from . import bp
from .operations import resolve_feedback_link, team_certificate, team_feedback

# An employer's scan must see a revocation at once, and these pages are nobody's search result.
NO_CACHE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


@bp.route("/v/<string(maxlength=40):code>")
def verify_certificate(code):
    certificate = find_certificate(code)
    if certificate is None:
        return render_template("public/verify_unknown.html"), 404, NO_CACHE
    event = certificate.event
    # Withdrawn: its team or member was removed (a row from before withdrawal existed may just have lost its member).
    withdrawn = certificate.member_id is None or certificate.revoked_by == WITHDRAWN_BY
    page = render_template("public/verify.html", certificate=certificate, event=event, withdrawn=withdrawn,
                           event_date=long_date(event.held_on), issued=long_date(certificate.issued_at.date()),
                           revoked=long_date(certificate.revoked_at.date()) if certificate.revoked_at else "")
    return page, 200, NO_CACHE


@bp.route("/f/<string(maxlength=60):token>")
def team_feedback_page(token):
    team, problem = resolve_feedback_link(token)
    if problem:
        return render_template("auth/link_problem.html", problem=problem), problem.status, NO_CACHE
    feedback = team_feedback(team)
    return render_template("public/feedback.html", team=team, event=team.event, feedback=feedback, token=token,
                           event_date=long_date(team.event.held_on)), 200, NO_CACHE


@bp.route("/f/<string(maxlength=60):token>/certificates/<int:certificate_id>.pdf")
def team_certificate_pdf(token, certificate_id):
    team, problem = resolve_feedback_link(token)
    if problem:
        return render_template("auth/link_problem.html", problem=problem), problem.status, NO_CACHE
    certificate = team_certificate(team, certificate_id)
    if certificate is None:
        abort(404)
    kind = "certificates" if certificate.kind == "award" else "participation"
    batch = build_batch(team.event, kind, certificate_ids=[certificate.id], issue=False)
    if not batch.items:
        abort(404)
    filename = f"certificate-{certificate.id}.pdf"
    db.session.rollback()  # nothing was written; no transaction while the page is laid out
    return Response(render_batch(batch).pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"})
