"""Organiser pages. Each view: load or 404, check permission, validate, one operation, commit, redirect."""
from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for

from ..actions import (NOTHING_IMPORTED, OperationError, import_refused, release_lock_and_read, run_confirmed,
                       run_operation, run_ticked)
from ..auth.session import admin_required
from ..documents.qr import qr_svg
from ..extensions import db
from ..models import ADMIN_ACTION_AREAS, Criterion, Event, Judge, Team, TeamMember
from ..scoring.grades import SYLLABUS_SCALE, format_scale, parse_scale, scale_from_setting
from ..scoring.rubric import format_descriptors
from ..site_settings import (ENVIRONMENT, SETTINGS, BaseUrlError, address_history, normalise_base_url,
                             public_base_url)
from . import bp, operations as ops
from .csv_import import JUDGES_TEMPLATE, TEAMS_TEMPLATE, CsvImportError, parse_judges_csv, parse_teams_csv
from ..links import feedback_url
from .exports import judge_links_csv, judge_sign_in_url, scores_csv, team_links_csv, team_url
from .search import judge_matches, search, team_matches, tidy_query
from .forms import (ConfirmForm, CriterionForm, EventForm, ImportForm, JudgeForm, ReissueBadgeForm,
                    ReissueFeedbackLinkForm, RemoveJudgeForm, RemoveTeamForm, ScoringStateForm, SiteSettingsForm,
                    TeamForm, WithdrawBadgeForm)
from .queries import (AUDIT_KINDS, audit_entries, event_counts, filter_sheets, group_sheets, score_sheets,
                      sign_in_counts)

AUDIT_PAGE = 100


@bp.before_request
@admin_required
def _require_admin():
    return None


def _get(model, object_id):
    return db.get_or_404(model, object_id)


def _csv(text: str, filename: str) -> Response:
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _svg(url: str, filename: str, cache: str = "private, max-age=300") -> Response:
    return Response(qr_svg(url), mimetype="image/svg+xml",
                    headers={"Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": cache})


@bp.route("/")
def index():
    event = ops.current_event()
    if event is None:
        return redirect(url_for("admin.events"))
    return redirect(url_for("admin.event", event_id=event.id))


@bp.route("/events", methods=["GET", "POST"])
def events():
    form = EventForm()
    if form.validate_on_submit():
        event = ops.create_event(form.name.data, form.held_on.data, form.venue.data or "", form.judges_per_team.data)
        db.session.commit()
        flash(f"{event.name} created with the syllabus rubric. Edit it under Rubric.", "success")
        return redirect(url_for("admin.event", event_id=event.id))
    all_events = db.session.execute(db.select(Event).order_by(Event.created_at.desc())).scalars().all()
    return render_template("admin/events.html", events=all_events, form=form, confirm=ConfirmForm())


@bp.route("/events/<int:event_id>/make-current", methods=["POST"])
def make_current(event_id):
    event = _get(Event, event_id)
    run_confirmed(lambda: ops.set_current_event(event), f"{event.name} is now the current event.")
    return redirect(url_for("admin.event", event_id=event.id))


@bp.route("/events/<int:event_id>")
def event(event_id):
    event = _get(Event, event_id)
    state_form = ScoringStateForm(state=event.scoring_state)
    state_form.state.choices = [event.scoring_state, *sorted(ops.STATE_TRANSITIONS[event.scoring_state])]
    return render_template("admin/event.html", event=event, counts=event_counts(event), state_form=state_form,
                           confirm=ConfirmForm(), base_url=public_base_url())


@bp.route("/events/<int:event_id>/settings", methods=["GET", "POST"])
def event_settings(event_id):
    event = _get(Event, event_id)
    form = EventForm(obj=event)
    if request.method == "GET":
        form.grade_scale.data = format_scale(scale_from_setting(event.grade_scale))
    if form.validate_on_submit():
        scale = parse_scale(form.grade_scale.data) if (form.grade_scale.data or "").strip() else SYLLABUS_SCALE
        ops.save_event_settings(
            event, name=form.name.data.strip(), held_on=form.held_on.data, venue=(form.venue.data or "").strip(),
            judges_per_team=form.judges_per_team.data, paper_size=form.paper_size.data,
            instructor_name=(form.instructor_name.data or "").strip(),
            instructor_title=(form.instructor_title.data or "").strip(),
            feedback_named=bool(form.feedback_named.data),
            conflicted_may_score=bool(form.conflicted_may_score.data),
            grade_scale=None if scale == SYLLABUS_SCALE else [list(step) for step in scale])
        db.session.commit()
        flash("Event saved.", "success")
        return redirect(url_for("admin.event", event_id=event.id))
    return render_template("admin/event_settings.html", event=event, form=form)


@bp.route("/events/<int:event_id>/state", methods=["POST"])
def scoring_state(event_id):
    event = _get(Event, event_id)
    form = ScoringStateForm()
    if form.validate_on_submit():
        run_operation(lambda: ops.change_scoring_state(event, form.state.data),
                      lambda _: f"Scoring is now {event.scoring_state}.")
    else:
        for message in form.confirm_lock.errors or form.state.errors:
            flash(message, "error")
    return redirect(url_for("admin.event", event_id=event.id))


# --- the whole site -----------------------------------------------------------------------------

@bp.route("/settings", methods=["GET", "POST"])
def site_settings():
    current = public_base_url()
    form = SiteSettingsForm()
    if request.method == "GET":
        form.public_base_url.data = current.url if current.source == SETTINGS else ""
    elif current.source == ENVIRONMENT:
        form.form_errors.append("The environment variable PUBLIC_BASE_URL is set, and it wins: nothing was saved.")
    elif form.validate_on_submit():
        before = current
        try:
            url = ops.save_public_base_url(form.public_base_url.data)
        except OperationError as exc:
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            if url == before.url:
                flash(f"Nothing changed: printed links already start with {url}.", "success")
            else:
                flash(f"Saved: printed links and QR codes now start with {url}. Paper printed before still shows "
                      f"{before.url}: print it again if that address does not reach this site.", "success")
            return redirect(url_for("admin.site_settings"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/site_settings.html", event=None, form=form, current=current,
                           history=address_history(), environment_problem=_environment_problem(current),
                           default_url=current_app.config["DEFAULT_PUBLIC_BASE_URL"]), status


def _environment_problem(current) -> str:
    """Why the address set in the environment would not work, if it would not."""
    if current.source != ENVIRONMENT:
        return ""
    try:
        normalise_base_url(current.url)
    except BaseUrlError as exc:
        return str(exc)
    return ""


# --- rubric -------------------------------------------------------------------------------------

@bp.route("/events/<int:event_id>/rubric", methods=["GET", "POST"])
def rubric(event_id):
    event = _get(Event, event_id)
    form = CriterionForm()
    if form.validate_on_submit():
        try:
            ops.save_criterion(event, None, **_criterion_fields(form))
        except OperationError as exc:
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash("Criterion added.", "success")
            return redirect(url_for("admin.rubric", event_id=event.id))
    total_weight = sum(c.weight for c in event.criteria)
    return render_template("admin/rubric.html", event=event, form=form, confirm=ConfirmForm(),
                           total_weight=total_weight)


def _criterion_fields(form: CriterionForm) -> dict:
    return {"name": form.name.data, "description": form.description.data or "", "weight": form.weight.data,
            "scale_min": form.scale_min.data, "scale_max": form.scale_max.data,
            "descriptors": form.descriptors.data or ""}


@bp.route("/criteria/<int:criterion_id>/edit", methods=["GET", "POST"])
def edit_criterion(criterion_id):
    criterion = _get(Criterion, criterion_id)
    form = CriterionForm(obj=criterion)
    if request.method == "GET":
        form.descriptors.data = format_descriptors(criterion.bands)
    if form.validate_on_submit():
        try:
            ops.save_criterion(criterion.event, criterion, **_criterion_fields(form))
        except OperationError as exc:
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash("Criterion saved.", "success")
            return redirect(url_for("admin.rubric", event_id=criterion.event_id))
    return render_template("admin/criterion_edit.html", event=criterion.event, criterion=criterion, form=form)


@bp.route("/criteria/<int:criterion_id>/delete", methods=["POST"])
def delete_criterion(criterion_id):
    criterion = _get(Criterion, criterion_id)
    event_id = criterion.event_id
    run_confirmed(lambda: ops.delete_criterion(criterion), "Criterion removed.")
    return redirect(url_for("admin.rubric", event_id=event_id))


# --- teams --------------------------------------------------------------------------------------

@bp.route("/events/<int:event_id>/teams", methods=["GET", "POST"])
def teams(event_id):
    event = _get(Event, event_id)
    form = TeamForm()
    if form.validate_on_submit():
        try:
            members = ops.parse_members(form.members.data)
            team = ops.save_team(event, None, name=form.name.data, project=form.project.data or "",
                                 companies=form.companies.data or "",
                                 table_number=form.table_number.data, members=members)
        except OperationError as exc:
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"{team.name} added at table {team.table_number}.", "success")
            return redirect(url_for("admin.teams", event_id=event.id))
    return _teams_page(event, form)


def _teams_page(event, form, import_errors=None, status=200):
    from ..mail.status import team_mail_summary

    query = tidy_query(request.args.get("q"))
    return render_template("admin/teams.html", event=event, form=form, import_form=ImportForm(),
                           confirm=ConfirmForm(), team_url=team_url, import_errors=import_errors, query=query,
                           shown=search(event.teams, query, team_matches), team_mail=team_mail_summary(event)), status


@bp.route("/teams/<int:team_id>/edit", methods=["GET", "POST"])
def edit_team(team_id):
    team = _get(Team, team_id)
    form = TeamForm(obj=team)
    # A POST without a members field leaves the members as they are (the field would otherwise be
    # filled from the team object's list of members).
    members_sent = request.method == "POST" and "members" in request.form
    if request.method == "GET":
        form.members.data = "\n".join(f"{m.name} <{m.email}>" + (f" {m.student_id}" if m.student_id else "")
                                      for m in team.members)
    if form.validate_on_submit():
        try:
            members = ops.parse_members(form.members.data) if members_sent else None
            ops.save_team(team.event, team, name=form.name.data, project=form.project.data or "",
                          companies=form.companies.data or "",
                          table_number=form.table_number.data, members=members)
        except OperationError as exc:
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"{team.name} saved.", "success")
            return redirect(url_for("admin.teams", event_id=team.event_id))
    return render_template("admin/team_edit.html", event=team.event, team=team, form=form, url=team_url(team),
                           feedback_url=feedback_url(team), confirm=ConfirmForm(),
                           remove_form=RemoveTeamForm(prefix="remove"),
                           reissue_form=ReissueFeedbackLinkForm(prefix="reissue"))


@bp.route("/teams/<int:team_id>/delete", methods=["POST"])
def delete_team(team_id):
    team = _get(Team, team_id)
    event_id, name = team.event_id, team.name
    if run_ticked(RemoveTeamForm(prefix="remove"), lambda: ops.delete_team(team),
                  f"{name} removed: its printed table placard no longer works."):
        return redirect(url_for("admin.teams", event_id=event_id))
    return redirect(url_for("admin.edit_team", team_id=team_id))


@bp.route("/teams/<int:team_id>/feedback-link/reissue", methods=["POST"])
def reissue_feedback_link(team_id):
    team = _get(Team, team_id)
    if run_ticked(ReissueFeedbackLinkForm(prefix="reissue"), lambda: ops.reissue_feedback_link(team),
                  f"New feedback link for {team.name}: print a new slip. Older links no longer work."):
        return redirect(url_for("admin.edit_team", team_id=team.id, _anchor="feedback-link"))
    return redirect(url_for("admin.edit_team", team_id=team.id))


@bp.route("/teams/<int:team_id>/feedback-link/withdraw", methods=["POST"])
def withdraw_feedback_link(team_id):
    team = _get(Team, team_id)
    withdrawing = request.form.get("off", "1" if team.feedback_revoked_at is None else "0") == "1"
    run_confirmed(lambda: ops.set_feedback_link_withdrawn(team, withdrawing),
                  f"{team.name}'s feedback link is {'switched off' if withdrawing else 'working again'}.")
    return redirect(url_for("admin.edit_team", team_id=team.id, _anchor="feedback-link"))


@bp.route("/members/<int:member_id>/presence", methods=["POST"])
def member_presence(member_id):
    member = _get(TeamMember, member_id)
    # The wanted state, not a toggle: a double submit must not flip it back.
    present = request.form.get("present", "1" if not member.present else "0") == "1"
    run_confirmed(lambda: ops.set_member_present(member, present),
                  f"{member.name} is marked {'present' if present else 'not present: no Expo grade and no participation certificate'}.")
    return redirect(url_for("admin.edit_team", team_id=member.team_id, _anchor="members"))


@bp.route("/teams/<int:team_id>/qr.svg")
def team_qr(team_id):
    team = _get(Team, team_id)
    return _svg(team_url(team), f"team-{team.table_number}-qr.svg")


@bp.route("/events/<int:event_id>/teams/import", methods=["POST"])
def import_teams(event_id):
    return _import(event_id, parse_teams_csv, ops.import_teams, _teams_page, TeamForm, "teams", "admin.teams")


def _import(event_id, parse, apply, page, form_class, noun: str, endpoint: str):
    """A CSV upload, all or nothing: parsed outside the write lock, applied in one short transaction;
    refused lines are listed in the page itself (422), never in the cookie."""
    event = _get(Event, event_id)
    form = ImportForm()
    if not form.validate_on_submit():
        return page(event, form_class(formdata=None), import_refused(
            "Nothing was imported:", form.file.errors or ["Choose a CSV file."]), 422)
    data = release_lock_and_read(form)
    try:
        rows = parse(data)
        added, updated = apply(_get(Event, event_id), rows)
    except CsvImportError as exc:
        db.session.rollback()
        return page(_get(Event, event_id), form_class(formdata=None), import_refused(NOTHING_IMPORTED, exc.errors), 422)
    db.session.commit()
    flash(f"Imported {noun}: {added} added, {updated} updated.", "success")
    return redirect(url_for(endpoint, event_id=event_id))


@bp.route("/teams-template.csv")
def teams_template():
    return _csv(TEAMS_TEMPLATE, "teams-template.csv")


@bp.route("/events/<int:event_id>/team-links.csv")
def team_links(event_id):
    return _csv(team_links_csv(_get(Event, event_id)), "team-links.csv")


# --- judges -------------------------------------------------------------------------------------

@bp.route("/events/<int:event_id>/judges", methods=["GET", "POST"])
def judges(event_id):
    event = _get(Event, event_id)
    form = JudgeForm()
    if form.validate_on_submit():
        try:
            judge = ops.save_judge(event, None, name=form.name.data, email=form.email.data,
                                   affiliation=form.affiliation.data or "")
        except OperationError as exc:
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"{judge.name} added.", "success")
            return redirect(url_for("admin.judges", event_id=event.id))
    return _judges_page(event, form)


def _judges_page(event, form, import_errors=None, status=200):
    from ..mail.status import NOTHING, judge_mail

    query = tidy_query(request.args.get("q"))
    return render_template("admin/judges.html", event=event, form=form, import_form=ImportForm(),
                           confirm=ConfirmForm(), sign_ins=sign_in_counts(event), import_errors=import_errors,
                           query=query, shown=search(event.judges, query, judge_matches),
                           judge_mail=judge_mail(event), no_mail=NOTHING), status


@bp.route("/judges/<int:judge_id>/edit", methods=["GET", "POST"])
def edit_judge(judge_id):
    judge = _get(Judge, judge_id)
    form = JudgeForm(obj=judge)
    if form.validate_on_submit():
        try:
            ops.save_judge(judge.event, judge, name=form.name.data, email=form.email.data,
                           affiliation=form.affiliation.data or "")
        except OperationError as exc:
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"{judge.name} saved.", "success")
            return redirect(url_for("admin.judges", event_id=judge.event_id))
    return render_template("admin/judge_edit.html", event=judge.event, judge=judge, form=form,
                           sign_in_url=judge_sign_in_url(judge), confirm=ConfirmForm(),
                           reissue_form=ReissueBadgeForm(prefix="reissue"),
                           withdraw_form=WithdrawBadgeForm(prefix="withdraw"),
                           remove_form=RemoveJudgeForm(prefix="remove"))


@bp.route("/judges/<int:judge_id>/delete", methods=["POST"])
def delete_judge(judge_id):
    judge = _get(Judge, judge_id)
    event_id, name = judge.event_id, judge.name
    if run_ticked(RemoveJudgeForm(prefix="remove"), lambda: ops.delete_judge(judge),
                  f"{name} removed: their printed badge no longer works."):
        return redirect(url_for("admin.judges", event_id=event_id))
    return redirect(url_for("admin.edit_judge", judge_id=judge_id))


@bp.route("/judges/<int:judge_id>/reissue", methods=["POST"])
def reissue_badge(judge_id):
    judge = _get(Judge, judge_id)
    run_ticked(ReissueBadgeForm(prefix="reissue"), lambda: ops.reissue_badge(judge),
               f"New sign-in link for {judge.name}: print the new badge. Older links no longer work.")
    return redirect(url_for("admin.edit_judge", judge_id=judge.id))


@bp.route("/judges/<int:judge_id>/withdraw", methods=["POST"])
def withdraw_badge(judge_id):
    judge = _get(Judge, judge_id)
    # The wanted state ("off": 1 withdraws, 0 lets it work again), so a double submit cannot flip it
    # back; without it, the other state than now.
    withdrawing = request.form.get("off", "1" if judge.revoked_at is None else "0") == "1"
    if withdrawing:
        run_ticked(WithdrawBadgeForm(prefix="withdraw"), lambda: ops.set_badge_withdrawn(judge, True),
                   f"{judge.name}'s badge is withdrawn: it no longer signs in.")
    else:
        run_confirmed(lambda: ops.set_badge_withdrawn(judge, False), f"{judge.name}'s badge is working again.")
    return redirect(url_for("admin.edit_judge", judge_id=judge.id))


@bp.route("/judges/<int:judge_id>/qr.svg")
def judge_qr(judge_id):
    judge = _get(Judge, judge_id)
    if judge.revoked_at is not None:
        abort(404)
    # Never cached: after a reissue the same address must show the new link at once.
    return _svg(judge_sign_in_url(judge), f"judge-{judge.id}-badge-{judge.token_version}-qr.svg", "no-store")


@bp.route("/events/<int:event_id>/judges/import", methods=["POST"])
def import_judges(event_id):
    return _import(event_id, parse_judges_csv, ops.import_judges, _judges_page, JudgeForm, "judges", "admin.judges")


@bp.route("/judges-template.csv")
def judges_template():
    return _csv(JUDGES_TEMPLATE, "judges-template.csv")


@bp.route("/events/<int:event_id>/judge-links.csv")
def judge_links(event_id):
    return _csv(judge_links_csv(_get(Event, event_id)), "judge-links.csv")


# --- scores -------------------------------------------------------------------------------------

SCORE_FILTERS = {"": "All sheets", "set_aside": "Set aside", "conflicts": "Known conflicts", "counted": "Counted"}


@bp.route("/events/<int:event_id>/scores")
def scores(event_id):
    from ..results.forms import SheetCountingForm
    from ..results.queries import known_conflict_pairs

    event = _get(Event, event_id)
    by = "judge" if request.args.get("by") == "judge" else "team"
    query = (request.args.get("q") or "").strip()[:100]
    show = request.args.get("show", "") if request.args.get("show", "") in SCORE_FILTERS else ""
    known = known_conflict_pairs(event)
    rows = score_sheets(event)
    total = len(rows)
    rows = filter_sheets(rows, query, show, known)
    return render_template("admin/scores.html", event=event, by=by, groups=group_sheets(rows, by), known=known,
                           query=query, show=show, filters=SCORE_FILTERS, shown=len(rows), total=total,
                           counting_form=SheetCountingForm())


@bp.route("/events/<int:event_id>/scores.csv")
def scores_export(event_id):
    return _csv(scores_csv(_get(Event, event_id)), "scores.csv")


@bp.route("/events/<int:event_id>/audit")
def audit(event_id):
    event = _get(Event, event_id)
    page = min(max(request.args.get("page", 1, type=int), 1), 1_000_000)
    kind = request.args.get("kind", "")
    kind = kind if kind in AUDIT_KINDS else ""
    actor = " ".join(request.args.get("actor", "").split())[:300]
    entries = audit_entries(event, AUDIT_PAGE + 1, (page - 1) * AUDIT_PAGE, kind=kind, actor=actor)
    return render_template("admin/audit.html", event=event, entries=entries[:AUDIT_PAGE], page=page,
                           has_more=len(entries) > AUDIT_PAGE, kind=kind, actor=actor, areas=ADMIN_ACTION_AREAS)
