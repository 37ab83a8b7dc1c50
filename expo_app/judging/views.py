from flask import abort, flash, redirect, render_template, request, session, url_for

from ..auth.forms import SignOutForm
from ..auth.session import current_admin, current_judge, judge_required
from ..extensions import db
from ..models import Team
from . import bp
from .forms import score_form_for
from .operations import (ScoringClosed, SheetInput, event_criteria, find_score, judge_actor, judge_progress,
                         sheet_total, submit_score)
from ..scoring.rubric import level_rows


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
            return render_template("judging/not_saved.html", team=team, judge=judge,
                                   was_signed_in=session.get("judge_id") is not None), 401 if judge is None else 403
        return render_template("judging/team_card.html", team=team, judge=judge)

    criteria = event_criteria(team.event_id)
    score = find_score(judge, team)
    form = score_form_for(criteria, score if request.method == "GET" else None)
    if form.validate_on_submit():
        sheet = SheetInput(values=form.clean_values, comment=form.comment.data or "",
                           private_note=form.private_note.data or "",
                           absent=form.absent.data, conflict=form.conflict.data)
        try:
            score, changed = submit_score(judge, team, sheet, judge_actor(judge))
        except ScoringClosed as closed:
            form.form_errors.append(str(closed))
        else:
            db.session.commit()
            flash(("Saved: your score for " if changed else "Already saved, nothing changed: ") + team.name,
                  "success")
            return redirect(url_for("judging.team", code=team.code))
    elif form.is_submitted() and not form.form_errors:
        form.form_errors.append("Your score was not saved. Fix the highlighted parts and submit again.")
    total = sheet_total({v.criterion_id: v.value for v in score.values}, score.counts, criteria) if score else None
    rows = {c.id: level_rows(c.bands, c.scale_min, c.scale_max) for c in criteria}
    return render_template("judging/score.html", team=team, judge=judge, form=form, score=score, total=total,
                           criteria=criteria, level_rows=rows, event=team.event,
                           invalid_ids=[c.id for c in criteria if form.criterion_field(c).errors]), \
        (422 if form.errors or form.form_errors else 200)
