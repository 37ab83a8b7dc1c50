"""Printed links as HMACs under the server secret, so the database never holds a usable link.

A token reads `<uid>-<version>-<mac>`. The uid says whose badge (or team slip) it claims to be: a
random identifier stored on the row (expo_app.models.new_uid), never reused and kept when the event
moves to another database, so paper never points at another person. The MAC proves the server made
it, for that purpose only (a judge's token is no team's feedback token). Reissuing bumps the
version, which retires older links, while the same version always yields the same link (reprinting
keeps it working).

Links printed before uids existed read `<row id>-<version>-<mac>` (all digits before the first
dash; a uid always starts with a letter). They still work for the row that had that id then, which
the row keeps as `legacy_id` (also across export and import), and never for any other row.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

_TOKEN = re.compile(r"^([a-z][a-z2-9]{15})-(\d{1,6})-([A-Za-z0-9_-]{32})$")
_LEGACY_TOKEN = re.compile(r"^(\d{1,12})-(\d{1,6})-([A-Za-z0-9_-]{32})$")
JUDGE_SIGN_IN = b"expo-judge/judge-sign-in/v1"
TEAM_FEEDBACK = b"expo-judge/team-feedback/v1"
_UID_PURPOSE = b"/uid"  # tokens naming a uid are MACed under their own key: never mistaken for legacy ones


def _mac(secret_key: str, purpose: bytes, owner: int | str, version: int) -> str:
    key = hmac.new(secret_key.encode(), purpose, hashlib.sha256).digest()
    digest = hmac.new(key, f"{owner}:{version}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]  # 192 bits


@dataclass(frozen=True)
class TokenClaim:
    """What a genuine token names: a uid (str), or for a link printed before uids a legacy row id (int)."""

    owner: str | int
    version: int

    @property
    def legacy(self) -> bool:
        return isinstance(self.owner, int)


def make_token(secret_key: str, purpose: bytes, uid: str, version: int) -> str:
    return f"{uid}-{version}-{_mac(secret_key, purpose + _UID_PURPOSE, uid, version)}"


def make_legacy_token(secret_key: str, purpose: bytes, owner_id: int, version: int) -> str:
    """A token in the form printed before uids existed (kept to read old paper, and for tests)."""
    return f"{owner_id}-{version}-{_mac(secret_key, purpose, owner_id, version)}"


def read_token(secret_key: str, purpose: bytes, token: str) -> TokenClaim | None:
    """The owner and version a genuine token names, or None for a malformed or forged one."""
    token = token or ""
    if match := _TOKEN.match(token):
        uid, version, mac = match[1], int(match[2]), match[3]
        expected = _mac(secret_key, purpose + _UID_PURPOSE, uid, version)
        return TokenClaim(uid, version) if hmac.compare_digest(mac, expected) else None
    if match := _LEGACY_TOKEN.match(token):
        owner_id, version, mac = int(match[1]), int(match[2]), match[3]
        expected = _mac(secret_key, purpose, owner_id, version)
        return TokenClaim(owner_id, version) if hmac.compare_digest(mac, expected) else None
    return None


def make_judge_token(secret_key: str, uid: str, version: int) -> str:
    """The sign-in token printed on a judge's badge."""
    return make_token(secret_key, JUDGE_SIGN_IN, uid, version)


def read_judge_token(secret_key: str, token: str) -> TokenClaim | None:
    return read_token(secret_key, JUDGE_SIGN_IN, token)


def make_feedback_token(secret_key: str, uid: str, version: int) -> str:
    """The token of a team's private feedback link (printed on its slip)."""
    return make_token(secret_key, TEAM_FEEDBACK, uid, version)


def read_feedback_token(secret_key: str, token: str) -> TokenClaim | None:
    return read_token(secret_key, TEAM_FEEDBACK, token)
