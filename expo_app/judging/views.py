import hashlib
import json
import secrets
from datetime import datetime, timezone
from pathlib import Path

from flask import (abort, current_app, flash, jsonify, redirect, render_template, request, send_file, session,
                   url_for)
from flask_wtf.csrf import generate_csrf
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import SQLAlchemyError

from ..assignments.operations import judge_route, record_visit_of
from ..auth.forms import SignOutForm
from ..auth.session import current_admin, current_judge, judge_required, judging_ended_for_session
from ..extensions import db, write_intent
from ..models import Assignment, Judge, Team
from ..platform.guards import is_a_kept_copy, wants_json  # wants_json: the phone's script, not a plain form
from ..platform.observability import SCORES
from . import bp
from .forms import score_form_for
from .conflicts import conflicted_team_ids, known_conflict
from .route_text import RouteText, Stop, route_text
from .operations import (KeyReused, KnownConflict, ScoringClosed, SheetInput, event_criteria, find_score,
                         judge_actor, judge_progress, overwrites_newer_save, score_snapshot, sheet_total, submit_sheet)
from ..scoring.rubric import level_rows

NOT_SAVED_REASON = {
    401: "Your judge session has ended (badge reissued or withdrawn, or judging locked). Scan your badge again "
         "or see the organisers' desk.",
    403: "You are signed in for another event.",
}
OTHER_JUDGE = ("This score was made on this phone by another judge, who is not the one signed in now. It is kept "
               "on the phone and sent when that judge signs in here again.")
SAVED_MESSAGES = {
    "saved": "Saved: your score for ",
    "unchanged": "Already saved, nothing changed: ",
    "stale": "Not applied: a newer edit of this sheet is already saved (this older one is kept in the log): ",
}


MAX_KEY = 64  # ScoreSubmission.key's length


def _edited_at(millis: str | None):
    """The phone's edit time. One no calendar can hold (past the year 9999) counts as now."""
    if not millis:
        return None
    try:
        return datetime.fromtimestamp(int(millis) / 1000, tz=timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        return datetime.now(timezone.utc).replace(tzinfo=None)


def _millis(value) -> int:
    return int(value.replace(tzinfo=timezone.utc).timestamp() * 1000) if value else 0


def _iso(value) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


@bp.after_app_request
def _say_whose_page(response):
    """Whom the server answered for (every page, the sign-in and organiser pages too): the phone's
    service worker keeps cached pages for that judge only, and empties its cache when a page is
    answered for another judge or for nobody."""
    if request.endpoint == "static":
        return response
    judge = current_judge()
    # The id from the identity map: after the view's commit, judge.id would reload the whole row.
    response.headers["X-Expo-Judge"] = str(sa_inspect(judge).identity[0]) if judge is not None else ""
    response.vary.add("Cookie")
    return response


def saved_words(score) -> str:
    """The "Saved" state of a sheet, the same words on the page and in the phone's script."""
    text = "Saved " + current_app.jinja_env.filters["when_exact"](score.updated_at)
    return text + (f" (revision {score.revision})" if score.revision > 1 else "")


@bp.route("/")
def landing():
    return render_template("judging/landing.html", judge=current_judge(), admin=current_admin(),
                           sign_out_form=SignOutForm())


@bp.route("/judge")
@judge_required
def home():
    judge = current_judge()
    progress = judge_progress(judge)
    done = sum(1 for _team, score in progress if score is not None)
    route = judge_route(judge)
    return render_template("judging/home.html", judge=judge, progress=progress, route=route,
                           words=words_for(route, len(progress)), done=done, sign_out_form=SignOutForm(),
                           conflicted=conflicted_team_ids(judge))


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
            if wants_json():  # the phone's outbox keeps the sheet, marked with this reason
                return jsonify(status="not_saved", reason=NOT_SAVED_REASON[status]), status
            return render_template("judging/not_saved.html", team=team, judge=judge,
                                   was_signed_in=session.get("judge_id") is not None), 401 if judge is None else 403
        return render_template("judging/team_card.html", team=team, judge=judge,
                               judging_ended=judging_ended_for_session())

    if request.method == "POST" and request.form.get("judge_id", str(judge.id)) != str(judge.id):
        # A sheet queued on this phone by another judge: never saved under this judge's name.
        return jsonify(status="not_saved", reason=OTHER_JUDGE), 403
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
        if key is not None and len(key) > MAX_KEY:
            # Stored keys are at most 64 characters: a longer one could never be matched again.
            if wants_json():
                return jsonify(status="refused", reason="The submission key is longer than 64 characters."), 422
            abort(400, "The submission key is longer than 64 characters.")
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
            if wants_json():  # kept on the phone: scoring may open again
                return jsonify(status="not_saved", reason=str(closed)), 409
            form.form_errors.append(str(closed))
        except KnownConflict as conflict:
            db.session.rollback()
            if wants_json():  # kept on the phone with the reason; the judge declares the conflict instead
                return jsonify(status="not_saved", reason=str(conflict)), 409
            form.form_errors.append(str(conflict))
        except KeyReused as reused:
            db.session.rollback()
            if wants_json():
                return jsonify(status="refused", reason=str(reused)), 422
            form.form_errors.append(str(reused) + " Reload the page and submit again.")
        else:
            # The answer is read before the commit, which would expire every object (a reload each).
            if wants_json():  # a replay gets the stored answer back, marked as a replay
                saved = result.score
                answer = jsonify(status=result.outcome, message=SAVED_MESSAGES[result.outcome] + team.name,
                                 replayed=result.replayed, saved_at=_iso(saved.updated_at if saved else None),
                                 saved_text=saved_words(saved) if saved else None,
                                 revision=saved.revision if saved else None)
            else:
                message = SAVED_MESSAGES["unchanged" if result.replayed else result.outcome] + team.name
                answer = redirect(url_for("judging.team", code=team.code, saved=1))
            db.session.commit()
            SCORES.labels("replayed" if result.replayed else result.outcome).inc()
            if not wants_json():  # said only once it is true
                flash(message, "success" if result.outcome != "stale" else "error")
            return answer
    elif form.is_submitted() and wants_json():  # the phone keeps the sheet, with the reasons, for the judge
        reasons = [str(e) for e in form.form_errors] + [str(e) if c.name in str(e) else f"{c.name}: {e}"
                                                        for c in criteria for e in form.criterion_field(c).errors]
        reasons += [f"{field.label.text}: {field.errors[0]}" for field in form
                    if field.errors and not field.name.startswith("criterion_")]
        return jsonify(status="refused", reason=" ".join(reasons) or "The sheet was refused."), 422
    elif form.is_submitted() and not form.form_errors:
        form.form_errors.append("Your score was not saved. Fix the highlighted parts and submit again.")
    status = 422 if form.errors or form.form_errors else 200
    if request.method != "GET":
        return _sheet_page(team, judge, criteria, form, score, status)
    if request.headers.get("X-Expo-Precache"):
        # The phone keeping a copy for offline use: nothing changed since its copy, nothing to render.
        conflict_reason = known_conflict(judge, team)
        etag = _sheet_etag(judge, team, criteria, score, conflict_reason)
        if etag in request.if_none_match:
            return "", 304, {"ETag": f'"{etag}"', "Cache-Control": "no-store"}
        page, code, headers = _sheet_page(team, judge, criteria, form, score, status, conflict_reason=conflict_reason)
        return page, code, {**headers, "ETag": f'"{etag}"'}
    after_save = request.args.get("saved") is not None
    next_words = words_for(judge_route(judge), len(team.event.teams)) if after_save else None
    page = _sheet_page(team, judge, criteria, form, score, status, next_words=next_words)
    if not after_save and _opened_by_the_judge():
        _record_visit(judge, team)
    return page


def _sheet_etag(judge, team, criteria, score, conflict_reason: str | None) -> str:
    """A fingerprint of everything a team's form shows this judge, but its one-time fields (the CSRF
    token and the submission key, which the phone's script replaces before it sends anything): the
    release (templates and scripts), the team, the rubric, the judge's sheet, the event's state and
    the known conflict."""
    event = team.event
    parts = [_release(current_app._get_current_object()), judge.id, judge.name, judge.token_version,
             team.id, team.name, team.project, team.table_number, team.code, event.scoring_state,
             event.conflicted_may_score, conflict_reason,
             [(c.id, c.name, c.description, c.weight, c.scale_min, c.scale_max, c.position, c.bands) for c in criteria],
             (score.id, score.revision, score.updated_at, score.client_edited_at) if score else None]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _opened_by_the_judge() -> bool:
    """Whether this GET of a form is the judge opening it, rather than the phone keeping a copy for
    offline use (the service worker's precache says so), a browser's prefetch, or the page loaded
    again after a save (?saved: the judge is leaving the table)."""
    return not is_a_kept_copy()


def _record_visit(judge, team) -> None:
    """Count the visit (live routing keeps other judges away from a crowded table) in a short write
    transaction of its own, after the page is made: the read ends first, so on SQLite the write lock
    is taken up front and held for one statement. A visit is advice: failing to record one is logged,
    never shown."""
    event_id, judge_id, team_id = team.event_id, judge.id, team.id
    db.session.commit()  # ends the read; nothing was written
    token = write_intent.set(True)
    try:
        record_visit_of(event_id, judge_id, team_id)
        db.session.commit()
    except SQLAlchemyError as exc:
        db.session.rollback()
        current_app.logger.warning("visit not recorded: %s", str(exc).splitlines()[0][:200])
    finally:
        write_intent.reset(token)


def _stop(team: Team) -> Stop:
    return Stop(team.id, team.table_number, team.name, team.code)


def words_for(route, teams_total: int) -> RouteText:
    """The route as the judge reads it (expo_app.judging.route_text keeps the words consistent)."""
    return route_text(_stop(route.next_team) if route.next_team else None, [_stop(t) for t in route.remaining],
                      planned=route.planned, extra=route.extra, crowded_ids=set(route.crowded),
                      planned_total=route.planned_total, planned_scored=route.planned_scored,
                      teams_total=teams_total)


_ASK = object()


def _sheet_page(team, judge, criteria, form, score, status: int, newer=None, next_words=None, conflict_reason=_ASK):
    """The scoring page. Never cached: "back" must not bring up a form whose submission key was used.

    `newer`: a sheet saved since the form was loaded, shown beside the judge's entries to choose from.
    """
    total = sheet_total({v.criterion_id: v.value for v in score.values}, score.rated, criteria) if score else None
    rows = {c.id: level_rows(c.bands, c.scale_min, c.scale_max) for c in criteria}
    if form.form_errors or form.errors:
        first = str(form.form_errors[0]) if form.form_errors else "fix the highlighted parts and submit again."
        state = ("Not saved: " + first.removeprefix("Not saved: "), "error")
    else:
        state = (saved_words(score), "saved") if score else ("Not scored yet", "none")
    edited = (score.client_edited_at or score.updated_at) if score else None
    if conflict_reason is _ASK:  # the caller may have it already (the offline copy's ETag): one query
        conflict_reason = known_conflict(judge, team)
    return render_template("judging/score.html", team=team, judge=judge, form=form, score=score, total=total,
                           state=state, saved_edited=_millis(edited), conflict_reason=conflict_reason,
                           next_words=next_words,
                           declare_key=secrets.token_urlsafe(16) if conflict_reason else "",
                           criteria=criteria, level_rows=rows, event=team.event,
                           newer=score_snapshot(newer) if newer is not None else None,
                           picked=sum(1 for c in criteria if form.criterion_field(c).data),
                           invalid_ids=[c.id for c in criteria if form.criterion_field(c).errors]), \
        status, {"Cache-Control": "no-store"}


@bp.route("/judge/visiting/<code>", methods=["POST"])
def visiting(code):
    """Kept for phones that still run an older script, which said here that its judge opened a team's
    page (and again after each save, which made a judge who had just scored look as if still at the
    table). Visits are now counted by the server when it serves the form (see team()); this records
    nothing and answers 204, so such a phone neither fails nor counts twice."""
    if current_judge() is None:
        return jsonify(status="not_saved", reason=NOT_SAVED_REASON[401]), 401
    return "", 204


@bp.route("/judge/csrf")
def csrf_token():
    """A fresh CSRF token for the phone's outbox, fetched before it replays a queued sheet."""
    if current_judge() is None:
        return jsonify(status="not_saved", reason=NOT_SAVED_REASON[401]), 401
    response = jsonify(csrf_token=generate_csrf(), judge_id=current_judge().id)
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


# ------------------------------------------------------------------------------ the phone, offline

# What the service worker caches at install: everything a judge page needs besides its HTML.
SHELL_FILES = ("app.css", "favicon.svg", "judge/phone.js", "judge/store.js")


def _release(app) -> str:
    """A digest of the phone's files and of the judging templates: a new deployment that changes any of
    them is a new service worker, whose new caches replace the old ones."""
    cached = app.extensions.get("expo_release")
    if cached is None:
        digest = hashlib.sha256()
        static, templates = Path(app.static_folder), Path(app.root_path, app.template_folder, "judging")
        for path in [static / name for name in SHELL_FILES] + [static / "judge" / "sw.js"] + sorted(templates.glob("*")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        cached = app.extensions["expo_release"] = digest.hexdigest()[:16]
    return cached


@bp.route("/sw.js")
def service_worker():
    """The service worker, from the site root so that its scope covers /t/ and /judge."""
    app = current_app._get_current_object()
    source = (Path(app.static_folder) / "judge" / "sw.js").read_text()
    shell = [url_for("static", filename=name) for name in SHELL_FILES]
    body = source.replace("__VERSION__", _release(app)).replace("__SHELL_FILES__", json.dumps(shell))
    return body, 200, {"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache",
                       "Service-Worker-Allowed": "/"}


# The pages a phone keeps for offline use, in two parts (protocol 2). `now`: the judge home and the
# judge's own route (or, without a plan, the first tables), cached at once, 3 at a time; small events
# keep every form in it. `later`: the other forms, one every LATER_GAP_S seconds while a judge page is
# open, after a random wait in LATER_START_S, so that "everyone, scan your badge now" does not make the
# server render every form for every judge at the same moment.
# Settings (config.py): OFFLINE_NOW_ALL_TEAMS (24: an event with this many teams or fewer keeps every
# form now), OFFLINE_NOW_UNPLANNED (8: without a plan, this many tables now, in walking order),
# OFFLINE_LATER_START_S ((20, 120)) and OFFLINE_LATER_GAP_S (6).


@bp.route("/judge/offline.json")
def offline_manifest():
    """The pages the phone keeps for the signed-in judge: their home and every team's form (`urls`,
    what phones of protocol 1 fetch), split into `now` and `later` (protocol 2, static/judge/sw.js)."""
    judge = current_judge()
    if judge is None:
        return jsonify(status="not_saved", reason=NOT_SAVED_REASON[401]), 401
    rows = db.session.execute(db.select(Team.id, Team.code).where(Team.event_id == judge.event_id)
                              .order_by(Team.table_number)).all()
    urls = {team_id: url_for("judging.team", code=code) for team_id, code in rows}
    config = current_app.config
    if len(rows) <= config["OFFLINE_NOW_ALL_TEAMS"]:
        first = list(urls)
    else:
        planned = list(db.session.execute(db.select(Assignment.team_id).where(Assignment.judge_id == judge.id)
                                          .order_by(Assignment.position)).scalars())
        first = planned or list(urls)[:config["OFFLINE_NOW_UNPLANNED"]]
    later = [team_id for team_id in urls if team_id not in set(first)]
    home = url_for("judging.home")
    response = jsonify(judge_id=judge.id, release=_release(current_app._get_current_object()), protocol=2,
                       urls=[home] + list(urls.values()), now=[home] + [urls[t] for t in first if t in urls],
                       later=[urls[t] for t in later], later_start_s=list(config["OFFLINE_LATER_START_S"]),
                       later_gap_s=config["OFFLINE_LATER_GAP_S"])
    response.headers["Cache-Control"] = "no-store"
    return response
