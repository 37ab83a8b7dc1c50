"""The assignment plan's admin pages. Each view: load or 404, check permission, validate, one
operation, commit, redirect."""
from collections import Counter

from flask import Response, flash, redirect, render_template, url_for
from wtforms.fields.choices import SelectChoice

from ..actions import import_refused, release_lock_and_read, run_confirmed, run_operation
from ..admin.forms import ConfirmForm, ImportForm
from ..auth.session import admin_required
from ..extensions import db
from ..models import Event, Judge, JudgeConflict, Team
from ..scoring.assignment import PlanJudge, PlanTeam, conflicted, split_companies
from . import bp, operations as ops
from .forms import ConflictForm, LayoutForm, PlanForm, RoutingForm


@bp.before_request
@admin_required
def _require_admin():
    return None


def _back(event_id: int):
    return redirect(url_for("assignments.plan", event_id=event_id))


def _conflict_form(event: Event) -> ConflictForm:
    form = ConflictForm()
    form.judge_id.choices = [SelectChoice(j.id, j.name) for j in event.judges]
    form.team_id.choices = [SelectChoice(t.id, f"Table {t.table_number}: {t.name}") for t in event.teams]
    return form


@bp.route("/events/<int:event_id>/assignments")
def plan(event_id):
    event = db.get_or_404(Event, event_id)
    return _page(event, _plan_form(event))


def _plan_form(event: Event) -> PlanForm:
    return PlanForm(formdata=None, per_team=event.judges_per_team, seed=event.plan_seed or 0,
                    mode="replan" if event.planned_at else "new")


def _page(event, form, status=200, import_errors=None):
    current = ops.current_plan(event)
    marks = ops.absent_marks(event)
    done = ops.scored_pairs(event)
    marked = ops.marked_conflicts(event)
    judges = {j.id: j for j in event.judges}
    teams = {t.id: t for t in event.teams}
    company_conflicts = [(j, t) for j in event.judges for t in event.teams
                         if conflicted(PlanJudge(j.id, j.affiliation or ""),
                                       PlanTeam(t.id, t.table_number, split_companies(t.companies)), set())]
    conflicts = db.session.execute(db.select(JudgeConflict).where(JudgeConflict.event_id == event.id)
                                   .order_by(JudgeConflict.id)).scalars().all()
    return render_template("assignments/plan.html", event=event, form=form, plan=current, judges=judges, teams=teams,
                           done=done, scored=Counter(j for j, _t in done), marks=marks, absent=ops.absent_team_ids(event), marked=marked,
                           company_conflicts=company_conflicts, conflicts=conflicts,
                           conflict_form=_conflict_form(event), layout_form=LayoutForm(tables_per_row=event.tables_per_row),
                           import_form=ImportForm(), layout_import_form=ImportForm(prefix="layout"),
                           confirm=ConfirmForm(), absent_marks_needed=ops.ABSENT_MARKS,
                           routing_form=RoutingForm(live=event.live_routing), import_errors=import_errors), status


@bp.route("/events/<int:event_id>/assignments/plan", methods=["POST"])
def make_plan(event_id):
    event = db.get_or_404(Event, event_id)
    form = PlanForm()
    if not form.validate_on_submit():
        flash("The plan was not made: " + "; ".join(e for errors in form.errors.values() for e in errors), "error")
        return _page(event, form, 422)

    def describe(result):
        summary = result.summary()
        text = (f"Plan made: {summary['teams']} teams, {summary['min_per_team']}–{summary['max_per_team']} judges each, "
                f"loads {summary['min_load']}–{summary['max_load']}, connectivity {summary['connectivity']:.2f}.")
        if result.changed:
            text += f" {result.changed} visits changed."
        if result.shortfalls:
            n = len(result.shortfalls)
            text += f" {n} {'team gets' if n == 1 else 'teams get'} fewer than {result.k} judges: see below why."
        return text

    run_operation(lambda: ops.make_plan(event, k=form.per_team.data, seed=form.seed.data or 0,
                                        replan=form.mode.data == "replan"), describe)
    return _back(event.id)


@bp.route("/events/<int:event_id>/assignments.csv")
def export_csv(event_id):
    event = db.get_or_404(Event, event_id)
    return Response(ops.export_csv(event), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="assignments.csv"'})


def _import_file(event: Event, form: ImportForm, apply, done: str, missing: str, nothing: str):
    """An uploaded CSV, all or nothing: refused lines are listed on the page itself, and nothing changes."""
    if not form.validate_on_submit():
        return _page(event, _plan_form(event), 422, import_refused(missing, form.file.errors))
    event_id = event.id
    data = release_lock_and_read(form)
    try:
        count = apply(db.get_or_404(Event, event_id), data)
    except ops.AssignmentImportError as exc:
        db.session.rollback()
        event = db.get_or_404(Event, event_id)
        return _page(event, _plan_form(event), 422, import_refused(nothing, exc.errors))
    db.session.commit()
    flash(done.format(count=count), "success")
    return _back(event_id)


@bp.route("/events/<int:event_id>/assignments/import", methods=["POST"])
def import_csv(event_id):
    event = db.get_or_404(Event, event_id)
    return _import_file(event, ImportForm(), ops.import_csv, "Plan imported: {count} visits.",
                        "Choose a .csv file to import.", "Nothing was imported: fix the file and import it again.")


@bp.route("/events/<int:event_id>/layout", methods=["POST"])
def layout(event_id):
    event = db.get_or_404(Event, event_id)
    form = LayoutForm()
    if form.validate_on_submit():
        run_operation(lambda: ops.set_layout(event, form.tables_per_row.data),
                      "Layout saved: re-plan to shorten the walks with it.")
    else:
        flash("Tables per row must be a whole number of 1 or more, or empty.", "error")
    return _back(event.id)


@bp.route("/events/<int:event_id>/layout/import", methods=["POST"])
def import_layout(event_id):
    event = db.get_or_404(Event, event_id)
    return _import_file(event, ImportForm(prefix="layout"), ops.import_layout,
                        "{count} table positions saved: re-plan to shorten the walks with them.",
                        "Choose a .csv file of table positions.",
                        "No position was changed: fix the file and import it again.")


@bp.route("/events/<int:event_id>/routing", methods=["POST"])
def routing(event_id):
    event = db.get_or_404(Event, event_id)
    form = RoutingForm()
    if form.validate_on_submit():
        live = bool(form.live.data)
        run_operation(lambda: ops.set_live_routing(event, live),
                      "Live routing is on." if live else "Judges follow their lists in order.")
    else:
        flash("This form had expired: nothing changed. Try again.", "error")
    return _back(event.id)


@bp.route("/events/<int:event_id>/conflicts", methods=["POST"])
def mark_conflict(event_id):
    event = db.get_or_404(Event, event_id)
    form = _conflict_form(event)
    if not form.validate_on_submit():
        flash("Choose a judge and a team.", "error")
        return _back(event.id)
    judge, team = db.get_or_404(Judge, form.judge_id.data), db.get_or_404(Team, form.team_id.data)
    run_operation(lambda: ops.mark_conflict(event, judge, team),
                  f"{judge.name} will not be sent to {team.name}. Re-plan to fill the visit.")
    return _back(event.id)


@bp.route("/conflicts/<int:conflict_id>/delete", methods=["POST"])
def unmark_conflict(conflict_id):
    conflict = db.get_or_404(JudgeConflict, conflict_id)
    event_id = conflict.event_id
    run_confirmed(lambda: ops.unmark_conflict(conflict), "Conflict removed.")
    return _back(event_id)


@bp.route("/judges/<int:judge_id>/availability", methods=["POST"])
def availability(judge_id):
    judge = db.get_or_404(Judge, judge_id)
    wanted = not judge.available
    run_confirmed(lambda: ops.set_available(judge, wanted),
                  f"{judge.name} is {'back in the hall' if wanted else 'marked away'}: re-plan to move their unscored visits.")
    return _back(judge.event_id)


@bp.route("/teams/<int:team_id>/bring-back", methods=["POST"])
def bring_back(team_id):
    team = db.get_or_404(Team, team_id)
    run_confirmed(lambda: ops.bring_back(team), f"{team.name} is suggested to judges again.")
    return _back(team.event_id)

