from flask import flash, redirect, render_template, request, url_for

from ..extensions import db, write_intent
from ..models import Judge
from . import bp
from .forms import AdminLoginForm, SignOutForm, StartJudgingForm
from .operations import INVALID_LINK, authenticate_admin, record_judge_sign_in, resolve_judge_link
from . import throttle
from .session import (JudgeIdentity, admin_required, current_admin, current_judge, revoke_session, safe_next,
                      start_admin_session, start_judge_session)


@bp.route("/j/<token>", methods=["GET", "POST"])
def judge_sign_in(token):
    # A GET only shows who the badge belongs to: link previewers and scanners fetch URLs, and
    # fetching must not sign anybody in. The button's POST does.
    # Everything but the sign-in record is read first, in a plain read transaction: on SQLite the write
    # lock (BEGIN IMMEDIATE) is then held for one INSERT and one UPDATE, not for the link's checks, the
    # form and the page, while a hall of judges scans its badges at once.
    write_intent.set(False)
    judge, problem = resolve_judge_link(token)
    if problem:
        return render_template("auth/link_problem.html", problem=problem), problem.status
    form = StartJudgingForm()
    if form.validate_on_submit():
        identity = JudgeIdentity.of(judge)  # read now: the commits below would expire the row
        db.session.rollback()  # the read ends here
        write_intent.set(True)
        judge = db.session.get(Judge, identity.id)
        if judge is None:  # removed in the instant between the two transactions
            return render_template("auth/link_problem.html", problem=INVALID_LINK), INVALID_LINK.status
        record_judge_sign_in(judge, request.headers.get("User-Agent", ""), request.remote_addr or "")
        db.session.commit()
        write_intent.set(False)  # what follows only reads (the X-Expo-Judge header's session check)
        start_judge_session(identity)
        return redirect(url_for("judging.home"))
    return render_template("auth/judge_sign_in.html", judge=judge, form=form)


@bp.route("/admin/login", methods=["GET", "POST"])
def admin_login():
    form = AdminLoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        # The throttle's counters are written before the database session starts (on SQLite a
        # POST's session holds the write lock) and after it ends.
        attempt = throttle.admit(form.email.data)
        if isinstance(attempt, throttle.Refusal):
            form.form_errors.append(attempt.message)
            return (render_template("auth/admin_login.html", form=form), attempt.status,
                    {"Retry-After": str(attempt.retry_after)})
        try:
            admin = throttle.one_check_at_a_time(authenticate_admin, form.email.data, form.password.data)
        except throttle.HashingBusy:
            attempt.cancel()  # no password was checked: the attempt counts nowhere
            form.form_errors.append("Sign-in is busy right now. Try again in a few seconds.")
            return render_template("auth/admin_login.html", form=form), 503, {"Retry-After": "5"}
        except Exception:
            attempt.cancel()  # e.g. the database away (answered 503): no password was checked either
            raise
        if admin is not None:
            db.session.commit()
            attempt.succeeded()
            start_admin_session(admin)
            return redirect(safe_next(form.next.data, url_for("admin.index")))
        db.session.rollback()
        form.form_errors.append("That e-mail and password do not match an organiser account.")
    return render_template("auth/admin_login.html", form=form)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    if request.method == "GET":
        return _sign_out_page()
    form = SignOutForm()
    if form.validate_on_submit():
        revoke_session()
        flash("You are signed out.", "info")
    return redirect(url_for("judging.landing"))


def _sign_out_page():
    """The sign-out page (a GET signs nobody out). A judge's phone comes here from the judge home when
    it still holds sheets the server does not have: its script lists them, every word, for the judge to
    copy before they are removed from the (possibly shared) phone. The criteria's names are on the page
    for that list; without script it is a plain sign-out form. Never cached: the list is only ever drawn
    from the phone's own storage, and goes with it."""
    from ..judging.operations import event_criteria

    judge, admin = current_judge(), current_admin()
    if judge is None and admin is None:
        return redirect(url_for("judging.landing"))
    criteria = [[c.id, c.name] for c in event_criteria(judge.event_id)] if judge is not None else []
    page = render_template("judging/sign_out.html", judge=judge, admin=admin, criteria=criteria,
                           form=SignOutForm())
    return page, 200, {"Cache-Control": "no-store"}


@bp.route("/admin/sign-out-everywhere", methods=["POST"])
@admin_required
def sign_out_everywhere():
    """End every session of this organiser: other browsers, phones, and any copied cookie."""
    form = SignOutForm()
    if form.validate_on_submit():
        admin = current_admin()
        admin.session_version += 1
        db.session.commit()
        revoke_session()
        flash("You are signed out on every device.", "info")
        return redirect(url_for("auth.admin_login"))
    flash("This button's form had expired: nothing changed. Try again.", "error")
    return redirect(url_for("admin.index"))
