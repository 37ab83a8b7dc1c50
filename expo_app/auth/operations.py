"""Signing judges and admins in. Operations change ORM objects and flush; the view commits."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import AdminUser, Judge, JudgeSignIn, find_by_identity, utcnow
from .tokens import make_judge_token, read_judge_token


@dataclass(frozen=True)
class LinkProblem:
    status: int
    title: str
    message: str


INVALID_LINK = LinkProblem(
    404, "This sign-in link is not valid",
    "The code may be damaged or incomplete. Scan the QR code on your judge badge again, "
    "or ask the organisers' desk for a new badge.")


def judge_token(judge: Judge) -> str:
    """The judge's current sign-in token (the same every time until the badge is reissued)."""
    return make_judge_token(current_app.config["SECRET_KEY"], judge.uid, judge.token_version)


def resolve_judge_link(token: str) -> tuple[Judge | None, LinkProblem | None]:
    """The judge a sign-in link belongs to, or the reason it does not work (for the person holding it)."""
    claim = read_judge_token(current_app.config["SECRET_KEY"], token)
    judge = find_by_identity(Judge, claim.owner) if claim else None
    if judge is None or claim.version > judge.token_version:
        return None, INVALID_LINK
    if judge.revoked_at is not None:
        return None, LinkProblem(
            410, "This badge has been withdrawn",
            "The organisers have switched this sign-in link off. Please see the organisers' desk.")
    if claim.version < judge.token_version:
        return None, LinkProblem(
            410, "This badge has been replaced",
            "A newer badge was printed for you, and this older link no longer works. "
            "Use the newest badge, or ask the organisers' desk.")
    if judge.event.is_locked:
        return None, LinkProblem(
            410, "Judging has ended",
            f"Scoring for {judge.event.name} is locked, so judge sign-in links no longer work. Thank you for judging!")
    return judge, None


def record_judge_sign_in(judge: Judge, user_agent: str, remote_addr: str) -> JudgeSignIn:
    """Log one use of the judge's link and mark the judge as seen."""
    entry = JudgeSignIn(judge=judge, token_version=judge.token_version,
                        user_agent=(user_agent or "")[:300], remote_addr=(remote_addr or "")[:64])
    db.session.add(entry)
    judge.last_seen_at = utcnow()
    db.session.flush()
    return entry


def prepare_dummy_hash(app) -> None:
    """Made when the app is built (create_app), before any request: made lazily, the first unknown
    e-mail a worker saw cost two hashes (making it, checking it), and so stood out by its timing."""
    method = app.config["PASSWORD_HASH_METHOD"]
    cache = app.extensions.setdefault("expo_dummy_hash", {})
    if method not in cache:
        cache[method] = generate_password_hash(secrets.token_urlsafe(16), method=method)


def _dummy_hash() -> str:
    """A hash to check unknown e-mails against, so they take as long as known ones."""
    prepare_dummy_hash(current_app)  # made at start-up; again only if the hash method was changed since
    return current_app.extensions["expo_dummy_hash"][current_app.config["PASSWORD_HASH_METHOD"]]


def authenticate_admin(email: str, password: str) -> AdminUser | None:
    """The admin with these credentials, or None (callers show one generic message).

    An unknown e-mail costs a password check too, against a dummy hash: the answer's timing must not
    tell which e-mails have accounts.
    """
    address = email.strip().lower()
    found = db.session.execute(db.select(AdminUser.id, AdminUser.password_hash)
                               .where(db.func.lower(AdminUser.email) == address)).first()
    # The check takes ~0.1 s: not inside a transaction, which on SQLite would hold the write lock
    # (a POST's) and keep every judge's save waiting meanwhile.
    db.session.rollback()
    if found is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(found.password_hash, password):
        return None
    admin = db.session.get(AdminUser, found.id)
    if admin is None or admin.password_hash != found.password_hash:
        return None  # changed or removed meanwhile
    admin.last_login_at = utcnow()
    db.session.flush()
    return admin


def create_or_reset_admin(email: str, password: str) -> AdminUser:
    """Create the admin, or set a new password if the e-mail already has an account."""
    if len(password) < 10:
        raise ValueError("The password needs at least 10 characters.")
    email = email.strip().lower()
    admin = db.session.execute(db.select(AdminUser).where(AdminUser.email == email)).scalar_one_or_none()
    if admin is None:
        admin = AdminUser(email=email)
        db.session.add(admin)
    admin.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    db.session.flush()
    return admin
