from flask import flash, redirect, render_template, request, session, url_for

from ..extensions import db
from . import bp
from .forms import AdminLoginForm, SignOutForm, StartJudgingForm
from .operations import authenticate_admin, record_judge_sign_in, resolve_judge_link
from .session import safe_next, start_admin_session, start_judge_session


@bp.route("/j/<token>", methods=["GET", "POST"])
def judge_sign_in(token):
    # A GET only shows who the badge belongs to: link previewers and scanners fetch URLs, and
    # fetching must not sign anybody in. The button's POST does.
    judge, problem = resolve_judge_link(token)
    if problem:
        return render_template("auth/link_problem.html", problem=problem), problem.status
    form = StartJudgingForm()
    if form.validate_on_submit():
        record_judge_sign_in(judge, request.headers.get("User-Agent", ""), request.remote_addr or "")
        db.session.commit()
        start_judge_session(judge)
        return redirect(url_for("judging.home"))
    return render_template("auth/judge_sign_in.html", judge=judge, form=form)


@bp.route("/admin/login", methods=["GET", "POST"])
def admin_login():
    form = AdminLoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        admin = authenticate_admin(form.email.data, form.password.data)
        if admin is not None:
            db.session.commit()
            start_admin_session(admin)
            return redirect(safe_next(form.next.data, url_for("admin.index")))
        flash("That e-mail and password do not match an organiser account.", "error")
    return render_template("auth/admin_login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    form = SignOutForm()
    if form.validate_on_submit():
        session.clear()
        flash("You are signed out.", "info")
    return redirect(url_for("judging.landing"))
