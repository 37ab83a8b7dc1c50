"""Who is signed in: the judge or admin behind the session cookie, re-checked on every request."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, render_template, request, session, url_for

from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import AdminUser, Judge
from ..platform.shared import hashed, shared


REVOKED = "session:revoked:"


def _session_revoked() -> bool:
    """Whether this cookie's session was ended (signed out), checked in the shared state.

    A signed cookie cannot be taken back, so each sign-in gets a random session id and signing out
    records that id as revoked (for as long as the cookie could live): a copy of the cookie made
    before then stops working. A session without an id (made before this check existed) counts as
    ended.
    """
    if "session_revoked" not in g:
        sid = session.get("sid")
        # Read on the request's own connection when the shared state is the database (no second
        # connection per request); in Redis otherwise.
        g.session_revoked = not sid or shared().get_here(db.session, REVOKED + hashed(sid)) is not None
        if g.session_revoked:
            # Empty the cookie too: Flask would otherwise send the ended session back with a fresh
            # date on every request, and it could outlive its revocation record.
            session.clear()
    return g.session_revoked


def revoke_session() -> None:
    """End this cookie's session for good, then clear it."""
    _revoke(session.get("sid"))
    session.clear()
    for key in ("current_admin", "current_judge", "session_revoked"):
        g.pop(key, None)


def _revoke(sid: str | None) -> None:
    """Record a session id as ended for as long as any cookie carrying it could still be honoured
    (a cookie is good for the session lifetime from its last refresh, which is at most now)."""
    if sid:
        lifetime = int(current_app.permanent_session_lifetime.total_seconds())
        shared().set(REVOKED + hashed(sid), b"1", lifetime + 3600)


def _new_session_id() -> None:
    """A new id for a new sign-in; the old one, if any, is ended (a copy of the old cookie must not
    keep whatever it carried). Call before the database session starts: on SQLite the shared
    state's write must not wait for this request's own write lock."""
    _revoke(session.get("sid"))
    session["sid"] = secrets.token_urlsafe(18)
    g.pop("session_revoked", None)


def current_judge() -> Judge | None:
    """The signed-in judge, or None once the badge was revoked or reissued or the event locked."""
    if "current_judge" not in g:
        judge = None
        judge_id = session.get("judge_id")
        if judge_id is not None and not _session_revoked():
            judge = _session_judge(judge_id)
            if (judge is None or judge.revoked_at is not None
                    or judge.token_version != session.get("judge_token_version")
                    or judge.event.is_locked):
                judge = None
        g.current_judge = judge
    return g.current_judge


def _session_judge(judge_id) -> Judge | None:
    """The judge row this cookie names, if it is still the same judge: a row id alone may name another
    judge in another database (after an event moved with the same SECRET_KEY), so the cookie carries
    the judge's uid too. A cookie from before uids existed is honoured only for the row that had that
    id then (its legacy_id)."""
    # With its event, in one query: every judge request reads whether judging is locked.
    judge = (db.session.get(Judge, judge_id, options=[joinedload(Judge.event)]) if isinstance(judge_id, int)
             and not isinstance(judge_id, bool) else None)
    if judge is None:
        return None
    uid = session.get("judge_uid")
    if uid is None:
        return judge if judge.legacy_id == judge_id else None
    return judge if judge.uid == uid else None


class _Ended:
    status = 410
    title = "Judging has ended"
    message = "Scoring is locked: the results are final and scores can no longer change. Thank you for judging!"


JUDGING_ENDED = _Ended()


def judging_ended_for_session() -> bool:
    """Whether this phone's judge is still valid but the event's judging has ended (scoring locked).

    Such a judge is told "Judging has ended" directly, not to scan a badge that would only say so.
    """
    judge_id = session.get("judge_id")
    if judge_id is None or current_judge() is not None or _session_revoked():
        return False
    judge = _session_judge(judge_id)
    return (judge is not None and judge.revoked_at is None and judge.token_version == session.get("judge_token_version")
            and judge.event.is_locked)


def _password_stamp(admin: AdminUser) -> str:
    """Changes whenever the password does, so a reset signs out every other browser."""
    return hashlib.sha256(admin.password_hash.encode()).hexdigest()[:16]


def current_admin() -> AdminUser | None:
    if "current_admin" not in g:
        admin_id = session.get("admin_id")
        admin = db.session.get(AdminUser, admin_id) if admin_id is not None and not _session_revoked() else None
        if admin is not None and (session.get("admin_stamp") != _password_stamp(admin)
                                  or session.get("admin_sv") != admin.session_version):
            admin = None
        g.current_admin = admin
    return g.current_admin


def admin_actor() -> str:
    """How the signed-in organiser appears in audit logs and decisions: "admin: a@b.org"."""
    return f"admin: {current_admin().email}"


@dataclass(frozen=True)
class JudgeIdentity:
    """What a judge's session cookie holds, read while the judge row is loaded (before the commit that
    would expire it: reloading it after would take SQLite's write lock a second time)."""

    id: int
    uid: str
    token_version: int

    @classmethod
    def of(cls, judge: Judge) -> "JudgeIdentity":
        return cls(judge.id, judge.uid, judge.token_version)


def start_judge_session(judge: JudgeIdentity) -> None:
    # A fresh session: nothing from before sign-in (a fixation attempt) carries over.
    _new_session_id()
    admin_keys = {k: session[k] for k in ("admin_id", "admin_stamp", "admin_sv", "sid") if k in session}
    session.clear()
    session.update(admin_keys)
    session.permanent = True
    session["judge_id"] = judge.id
    session["judge_uid"] = judge.uid
    session["judge_token_version"] = judge.token_version
    g.pop("current_judge", None)


def start_admin_session(admin: AdminUser) -> None:
    _new_session_id()
    sid = session["sid"]
    session.clear()
    session.permanent = True
    session["sid"] = sid
    session["admin_id"] = admin.id
    session["admin_stamp"] = _password_stamp(admin)
    session["admin_sv"] = admin.session_version
    g.pop("current_admin", None)


def admin_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_admin() is None:
            return redirect(url_for("auth.admin_login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def judge_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_judge() is None:
            if judging_ended_for_session():
                return render_template("auth/link_problem.html", problem=JUDGING_ENDED), 410
            abort(401)
        return view(*args, **kwargs)

    return wrapped


def safe_next(target: str | None, default: str) -> str:
    r"""Only follow a `next` that stays on this site: a plain path, never another host.

    Browsers and Werkzeug drop tabs and newlines from URLs, so "/\t/evil.com" would become
    "//evil.com": any control character or backslash makes the target unsafe.
    """
    if not target or any(ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
