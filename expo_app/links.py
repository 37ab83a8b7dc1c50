"""The public URLs that get printed (QR codes, badges, certificates) or e-mailed.

Each is built on the site's public address, the address phones reach, which a CLI run cannot guess
from a request (expo_app.site_settings: PUBLIC_BASE_URL, else the Site settings page, else the
default). Printed URLs are a public contract: once on paper they must keep working.
"""
from __future__ import annotations

from flask import current_app

from .auth.operations import judge_token
from .auth.tokens import make_feedback_token
from .models import Judge, Team
from .site_settings import public_base_url


def public_url(path: str) -> str:
    """An absolute URL on the address phones reach (the site's public address), for QR codes and e-mails."""
    return public_base_url().url + path


def judge_sign_in_url(judge: Judge) -> str:
    return public_url(f"/j/{judge_token(judge)}")


def team_url(team: Team) -> str:
    return public_url(f"/t/{team.code}")


def certificate_url(code: str) -> str:
    return public_url(f"/v/{code}")


def feedback_token(team: Team) -> str:
    """The team's current feedback token (the same every time until the link is reissued)."""
    return make_feedback_token(current_app.config["SECRET_KEY"], team.uid, team.feedback_version)


def feedback_url(team: Team) -> str:
    """The team's private feedback page, printed on its slip (empty while the link is withdrawn)."""
    return "" if team.feedback_revoked_at is not None else public_url(f"/f/{feedback_token(team)}")
