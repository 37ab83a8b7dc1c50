"""Live dashboard, ranking export and awards (organisers only)."""
from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from wtforms.fields import SelectChoice

from ..actions import OperationError, run_confirmed, run_form, run_operation
from ..admin.forms import ConfirmForm
from ..auth.session import admin_actor, admin_required
from ..documents.store import render_award_certificates
from ..extensions import db
from ..models import AwardCategory, Event, RankingSnapshot, Score
from ..scoring.csvio import format_ranking_csv
from . import bp, feedback as feedback_ops, operations as ops
from .feedback import comments_by_team, redaction_reasons
from .grades import CSV_COLUMNS, FORMATS, assignment_name, event_scale, export_grades, grades_filename
from ..judging import conflicts
from .forms import (AwardCategoryForm, AwardDecisionForm, FinaliseForm, HideCommentForm, RedactCommentForm,
                    ReleaseFeedbackForm, SheetCountingForm)
from .queries import (DASHBOARD_SEED, award_suggestions, build_dashboard, dashboard_analysis, dashboard_version,
                      engine_input)


@bp.before_request
@admin_required
def _require_admin():
    return None


@bp.route("/events/<int:event_id>/dashboard")
def dashboard(event_id):
    event = db.get_or_404(Event, event_id)
    version = dashboard_version(event)
    return render_template("results/dashboard.html", event=event, board=build_dashboard(event, version))


@bp.route("/events/<int:event_id>/dashboard.json")
def dashboard_json(event_id):
    # Polled every few seconds by static/dashboard.js. The ETag is derived from the database, so
    # it agrees across gunicorn workers, and an unchanged dashboard costs a few cheap queries.
    event = db.get_or_404(Event, event_id)
    # The ranking part may lag the sheets by a refit (one fit shared by every organiser and worker,
    # refitted in the background): the ETag names the fit it shows, so the first poll after a refit
    # gets it even when no sheet arrived since.
    analysis, fit = dashboard_analysis(event)
    version = dashboard_version(event) + "." + (fit or "none")[:8]
    if request.if_none_match.contains(version):
        response = Response(status=304)
    else:
        html = render_template("results/_live.html", event=event, board=build_dashboard(event, version, analysis))
        response = jsonify(version=version, html=html)
    response.set_etag(version)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/events/<int:event_id>/ranking.csv")
def ranking_csv(event_id):
    from ..scoring import rank_teams

    event = db.get_or_404(Event, event_id)
    method = "raw" if request.args.get("method") == "raw" else "adjusted"
    data = engine_input(event)
    teams = rank_teams(data.rows, data.criteria, method=method, seed=DASHBOARD_SEED) if data.rows else []
    return Response(format_ranking_csv(teams), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="ranking-{method}.csv"'})


def _decision_form(event, category, suggestion):
    form = AwardDecisionForm(prefix=f"c{category.id}")
    form.team.choices = [SelectChoice(t.id, f"Table {t.table_number} · {t.name}") for t in event.teams]
    if not form.is_submitted():
        chosen = category.award.team_id if category.award else (suggestion[1].id if suggestion and suggestion[1] else None)
        form.team.data = chosen
        form.reason.data = category.award.reason if category.award and not category.award.followed_suggestion else ""
    return form


@bp.route("/events/<int:event_id>/awards")
def awards(event_id):
    event = db.get_or_404(Event, event_id)
    suggestions = award_suggestions(event) if event.awards_finalised_at is None else {}
    forms = {c.id: _decision_form(event, c, suggestions.get(c.id)) for c in event.award_categories}
    category_form = AwardCategoryForm()
    category_form.basis.choices = [SelectChoice("place", "An overall place")] + [
        SelectChoice(f"criterion-{c.id}", f"Best in {c.name}") for c in event.criteria]
    snapshot = None
    if event.awards_finalised_at is not None:
        snapshot = RankingSnapshot.final_for(event)
    drifted = {c.id: team for c, team in ops.drifted_awards(event, suggestions)} if suggestions else {}
    return render_template("results/awards.html", event=event, suggestions=suggestions, forms=forms,
                           category_form=category_form, confirm=ConfirmForm(), snapshot=snapshot,
                           drifted=drifted, finalise_form=FinaliseForm(), scale=event_scale(event),
                           default_assignment=assignment_name(event), csv_columns=CSV_COLUMNS)


@bp.route("/award-categories/<int:category_id>/decide", methods=["POST"])
def decide_award(category_id):
    category = db.get_or_404(AwardCategory, category_id)
    event = category.event
    suggestion = award_suggestions(event).get(category.id)
    form = _decision_form(event, category, suggestion)
    if form.validate_on_submit():
        team = next(t for t in event.teams if t.id == form.team.data)
        run_operation(lambda: ops.decide_award(category, team, form.reason.data or "", suggestion, admin_actor()),
                      f"{category.name}: {team.name}.")
    else:
        flash("Choose a team from the list.", "error")
    return redirect(url_for("results.awards", event_id=event.id, _anchor=f"award-{category.id}"))


@bp.route("/award-categories/<int:category_id>/clear", methods=["POST"])
def clear_award(category_id):
    category = db.get_or_404(AwardCategory, category_id)
    run_confirmed(lambda: ops.clear_award(category), f"{category.name} is undecided again.")
    return redirect(url_for("results.awards", event_id=category.event_id))


@bp.route("/events/<int:event_id>/awards/accept", methods=["POST"])
def accept_suggestions(event_id):
    event = db.get_or_404(Event, event_id)
    run_confirmed(lambda: ops.accept_suggestions(event, award_suggestions(event), admin_actor()),
                  lambda decided: f"Accepted {decided} suggestion{'s' if decided != 1 else ''}.")
    return redirect(url_for("results.awards", event_id=event.id))


@bp.route("/events/<int:event_id>/award-categories", methods=["POST"])
def add_award_category(event_id):
    event = db.get_or_404(Event, event_id)
    form = AwardCategoryForm()
    if form.validate_on_submit():
        run_operation(lambda: ops.add_award_category(event, form.name.data, form.basis.data or "", form.place.data),
                      lambda category: f"Award {category.name} added.")
    else:
        for field in (form.name, form.place):
            for message in field.errors:
                flash(f"{field.label.text}: {message}", "error")
    return redirect(url_for("results.awards", event_id=event.id))


@bp.route("/award-categories/<int:category_id>/delete", methods=["POST"])
def delete_award_category(category_id):
    category = db.get_or_404(AwardCategory, category_id)
    event_id = category.event_id
    run_confirmed(lambda: ops.remove_award_category(category), "Award removed.")
    return redirect(url_for("results.awards", event_id=event_id))


@bp.route("/events/<int:event_id>/awards/finalise", methods=["POST"])
def finalise_awards(event_id):
    event = db.get_or_404(Event, event_id)
    form = FinaliseForm()
    if run_form(form, lambda: ops.finalise_awards(event, admin_actor(), award_suggestions(event)),
                "The awards are final; the ranking is frozen for certificates and grades.", form.understood):
        # Rendered once, now, so that the morning's download is instant.
        message = render_award_certificates(event, admin_actor())
        if message:
            flash(message, "success")
    return redirect(url_for("results.awards", event_id=event.id))


@bp.route("/events/<int:event_id>/grades.csv")
def grades_export(event_id):
    event = db.get_or_404(Event, event_id)
    fmt = request.args.get("format", "csv")
    fmt = fmt if fmt in FORMATS else "csv"
    draft = request.args.get("draft") in ("1", "y", "on", "true")
    try:
        text = export_grades(event, fmt, draft=draft, assignment=request.args.get("assignment"))
    except OperationError as exc:
        flash(str(exc), "error")
        return redirect(url_for("results.awards", event_id=event.id, _anchor="grades"))
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{grades_filename(event, fmt)}"',
        "Cache-Control": "private, no-store"})


@bp.route("/events/<int:event_id>/feedback")
def feedback(event_id):
    event = db.get_or_404(Event, event_id)
    return render_template("results/feedback.html", event=event, groups=comments_by_team(event),
                           redacted=redaction_reasons(event),
                           release_form=ReleaseFeedbackForm(), confirm=ConfirmForm(),
                           hide_form=HideCommentForm(), redact_form=RedactCommentForm())


@bp.route("/events/<int:event_id>/feedback/release", methods=["POST"])
def release_feedback(event_id):
    event = db.get_or_404(Event, event_id)
    form = ReleaseFeedbackForm()
    run_form(form, lambda: feedback_ops.release_feedback(event),
             "Feedback released: every team's link now shows its scores, comments and awards.", form.understood)
    return redirect(url_for("results.feedback", event_id=event.id))


@bp.route("/events/<int:event_id>/feedback/withdraw", methods=["POST"])
def withdraw_feedback(event_id):
    event = db.get_or_404(Event, event_id)
    run_confirmed(lambda: feedback_ops.withdraw_feedback(event),
                  "Feedback withdrawn: teams' links say judging is in progress again.")
    return redirect(url_for("results.feedback", event_id=event.id))


@bp.route("/scores/<int:score_id>/hide-comment", methods=["POST"])
def hide_comment(score_id):
    score = db.get_or_404(Score, score_id)
    form = HideCommentForm()
    run_form(form, lambda: feedback_ops.hide_comment(score, form.reason.data, admin_actor()),
             "Comment hidden from the team (the reason is in the audit log).", form.reason)
    return redirect(url_for("results.feedback", event_id=score.team.event_id, _anchor=f"s{score.id}"))


@bp.route("/scores/<int:score_id>/redact-comment", methods=["POST"])
def redact_comment(score_id):
    score = db.get_or_404(Score, score_id)
    form = RedactCommentForm()
    run_form(form, lambda: feedback_ops.redact_comment(score, form.text.data, form.reason.data, admin_actor()),
             "Comment redacted: the team reads the new text; the original is in the audit log.", form.text, form.reason)
    return redirect(url_for("results.feedback", event_id=score.team.event_id, _anchor=f"s{score.id}"))


def _change_counting(score_id: int, operation, done: str):
    """Set a sheet aside or count it again (`operation(score, reason, actor)`), with the form's reason."""
    score = db.get_or_404(Score, score_id)
    form = SheetCountingForm()
    run_form(form, lambda: operation(score, form.reason.data, admin_actor()),
             f"{score.judge.name}'s sheet for {score.team.name} {done}.", form.reason)
    return redirect(url_for("admin.scores", event_id=score.team.event_id, _anchor=f"s{score.id}"))


@bp.route("/scores/<int:score_id>/set-aside", methods=["POST"])
def set_aside(score_id):
    return _change_counting(score_id, conflicts.set_aside, "is set aside: kept, not counted")


@bp.route("/scores/<int:score_id>/count", methods=["POST"])
def count_again(score_id):
    return _change_counting(score_id, conflicts.count_again, "counts again")


@bp.route("/scores/<int:score_id>/restore-comment", methods=["POST"])
def restore_comment(score_id):
    score = db.get_or_404(Score, score_id)
    event_id = score.team.event_id
    run_confirmed(lambda: feedback_ops.restore_comment(score, admin_actor()), "Comment shown to the team again.")
    return redirect(url_for("results.feedback", event_id=event_id, _anchor=f"s{score_id}"))
