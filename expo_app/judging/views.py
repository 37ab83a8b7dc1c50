import secrets
from datetime import datetime, timezone

from flask import abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_wtf.csrf import generate_csrf

from ..auth.forms import SignOutForm
from ..auth.session import current_admin, current_judge, judge_required, judging_ended_for_session
from ..extensions import db
from ..models import Team
from . import bp
from .forms import score_form_for
from .operations import (KeyReused, ScoringClosed, SheetInput, event_criteria, find_score, judge_actor,
                         judge_progress, overwrites_newer_save, score_snapshot, sheet_total, submit_sheet)
from ..scoring.rubric import level_rows

NOT_SAVED_REASON = {
    401: "Your judge session has ended (badge reissued or withdrawn, or judging locked). Scan your badge again "
         "or see the organisers' desk.",
    403: "You are signed in for another event.",
}
SAVED_MESSAGES = {
    "saved": "Saved: your score for ",
    "unchanged": "Already saved, nothing changed: ",
    "stale": "Not applied: a newer edit of this sheet is already saved (this older one is kept in the log): ",
}


def _wants_json() -> bool:
    """The phone's script (fetch with Accept: application/json) rather than a plain form post."""
    return request.accept_mimetypes.best == "application/json"


def _edited_at(millis: str | None):
    if not millis:
        return None
    return datetime.fromtimestamp(int(millis) / 1000, tz=timezone.utc).replace(tzinfo=None)


def _iso(value) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


@bp.route("/")
def landing():
    return render_template("judging/landing.html", judge=current_judge(), admin=current_admin(),
                           sign_out_form=SignOutForm())


@bp.route("/judge")
@judge_required
def home():
    judge = current_judge()
    progress = judge_progress(judge)
    next_team = next((team for team, score in progress if score is None), None)
    done = sum(1 for _team, score in progress if score is not None)
    return render_template("judging/home.html", judge=judge, progress=progress, next_team=next_team,
                           done=done, sign_out_form=SignOutForm())


@bp.route("/t/<code>", methods=["GET", "POST"])
def team(code):
    # This URL is printed on the team's table: it must keep working for as long as the event lives.
    team = db.session.execute(db.select(Team).where(Team.code == code.strip().upper())).scalar_one_or_none()
    if team is None:
        abort(404)
    judge = current_judge()
    if judge is None or judge.event_id != team.event_id:
        if request.method == "POST":
            # A sheet posted from a phone whose judge session ended (badge reissued or withdrawn,
            # judging locked) must say loudly that it was not saved, never fall back to the card.
            status = 401 if judge is None else 403
            if _wants_json():  # the phone's outbox keeps the sheet, marked with this reason
                return jsonify(status="not_saved", reason=NOT_SAVED_REASON[status]), status
            return render_template("judging/not_saved.html", team=team, judge=judge,
                                   was_signed_in=session.get("judge_id") is not None), 401 if judge is None else 403
        return render_template("judging/team_card.html", team=team, judge=judge,
                               judging_ended=judging_ended_for_session())

    criteria = event_criteria(team.event_id)
    score = find_score(judge, team)
    form = score_form_for(criteria, score if request.method == "GET" else None)
    if request.method == "GET":
        form.idempotency_key.data = secrets.token_urlsafe(16)  # the no-JS path: a double submit counts once
        form.revision.data = str(score.revision if score else 0)
    if form.validate_on_submit():
        sheet = SheetInput(values=form.clean_values, comment=form.comment.data or "",
                           private_note=form.private_note.data or "",
                           absent=form.absent.data, conflict=form.conflict.data)
        key = request.headers.get("Idempotency-Key") or form.idempotency_key.data or None
        edited_at = _edited_at(form.edited_at.data)
        loaded = int(form.revision.data) if form.revision.data else None
        if edited_at is None and overwrites_newer_save(score, loaded, team, sheet):
            # Two tabs: show the saved sheet beside the judge's entries; the judge keeps one.
            form.revision.data, form.idempotency_key.data = str(score.revision), secrets.token_urlsafe(16)
            form.form_errors.append("Not saved: this sheet was changed in another tab or on another phone after you "
                                    "opened it. Keep the saved version, or submit yours again to replace it.")
            return _sheet_page(team, judge, criteria, form, score, 409, newer=score)
        try:
            result = submit_sheet(judge, team, sheet, judge_actor(judge), key=key, edited_at=edited_at)
        except ScoringClosed as closed:
            form.form_errors.append(str(closed))
        except KeyReused as reused:
            db.session.rollback()
            if _wants_json():
                return jsonify(status="refused", reason=str(reused)), 422
            form.form_errors.append(str(reused) + " Reload the page and submit again.")
        else:
            db.session.commit()
            if _wants_json():  # a replay gets the stored answer back, marked as a replay
                return jsonify(status=result.outcome, message=SAVED_MESSAGES[result.outcome] + team.name,
                               replayed=result.replayed,
                               saved_at=_iso(result.score.updated_at if result.score else None))
            message = SAVED_MESSAGES["unchanged" if result.replayed else result.outcome] + team.name
            flash(message, "success" if result.outcome != "stale" else "error")
            return redirect(url_for("judging.team", code=team.code))
    elif form.is_submitted() and not form.form_errors:
        form.form_errors.append("Your score was not saved. Fix the highlighted parts and submit again.")
    return _sheet_page(team, judge, criteria, form, score, 422 if form.errors or form.form_errors else 200)


def _sheet_page(team, judge, criteria, form, score, status: int, newer=None):
    """The scoring page. Never cached: "back" must not bring up a form whose submission key was used.

    `newer`: a sheet saved since the form was loaded, shown beside the judge's entries to choose from.
    """
    total = sheet_total({v.criterion_id: v.value for v in score.values}, score.counts, criteria) if score else None
    rows = {c.id: level_rows(c.bands, c.scale_min, c.scale_max) for c in criteria}
    return render_template("judging/score.html", team=team, judge=judge, form=form, score=score, total=total,
                           criteria=criteria, level_rows=rows, event=team.event,
                           newer=score_snapshot(newer) if newer is not None else None,
                           picked=sum(1 for c in criteria if form.criterion_field(c).data),
                           invalid_ids=[c.id for c in criteria if form.criterion_field(c).errors]), \
        status, {"Cache-Control": "no-store"}


@bp.route("/judge/csrf")
def csrf_token():
    """A fresh CSRF token for the phone's outbox, fetched before it replays a queued sheet."""
    if current_judge() is None:
        return jsonify(status="not_saved", reason=NOT_SAVED_REASON[401]), 401
    response = jsonify(csrf_token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


def expired_sheet(code: str):
    """A sheet whose CSRF token had expired (the judge signed in again in another tab, say): the
    form comes back with everything the judge entered and a "Not saved" message, never a bare 400."""
    team = db.session.execute(db.select(Team).where(Team.code == code.strip().upper())).scalar_one_or_none()
    judge = current_judge()
    if team is None or judge is None or judge.event_id != team.event_id:
        status = 401 if judge is None else 403
        return render_template("judging/not_saved.html", team=team, judge=judge,
                               was_signed_in=session.get("judge_id") is not None), status
    criteria = event_criteria(team.event_id)
    score = find_score(judge, team)
    form = score_form_for(criteria, None)  # filled from the request: what the judge entered
    form.idempotency_key.data = secrets.token_urlsafe(16)
    form.form_errors.append("Not saved: this page's security token had expired (you signed in again in another tab, "
                            "or the page was open a long time). Your entries are still here: submit again.")
    return _sheet_page(team, judge, criteria, form, score, 400)
