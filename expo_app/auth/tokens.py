"""Printed links as HMACs under the server secret, so the database never holds a usable link.

A token reads `<id>-<version>-<mac>`. The id and version say whose badge (or team slip) it claims
to be; the MAC proves the server made it, for that purpose only (a judge's token is no team's
feedback token). Reissuing bumps the version, which retires older links, while the same version
always yields the same link (reprinting keeps it working).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

_TOKEN = re.compile(r"^(\d{1,12})-(\d{1,6})-([A-Za-z0-9_-]{32})$")
JUDGE_SIGN_IN = b"expo-judge/judge-sign-in/v1"
TEAM_FEEDBACK = b"expo-judge/team-feedback/v1"


def _mac(secret_key: str, purpose: bytes, owner_id: int, version: int) -> str:
    key = hmac.new(secret_key.encode(), purpose, hashlib.sha256).digest()
    digest = hmac.new(key, f"{owner_id}:{version}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]  # 192 bits


@dataclass(frozen=True)
class TokenClaim:
    owner_id: int
    version: int

    @property
    def judge_id(self) -> int:
        return self.owner_id


def make_token(secret_key: str, purpose: bytes, owner_id: int, version: int) -> str:
    return f"{owner_id}-{version}-{_mac(secret_key, purpose, owner_id, version)}"


def read_token(secret_key: str, purpose: bytes, token: str) -> TokenClaim | None:
    """The owner and version a genuine token names, or None for a malformed or forged one."""
    match = _TOKEN.match(token or "")
    if not match:
        return None
    owner_id, version, mac = int(match[1]), int(match[2]), match[3]
    if not hmac.compare_digest(mac, _mac(secret_key, purpose, owner_id, version)):
        return None
    return TokenClaim(owner_id, version)


def make_judge_token(secret_key: str, judge_id: int, version: int) -> str:
    """The sign-in token printed on a judge's badge."""
    return make_token(secret_key, JUDGE_SIGN_IN, judge_id, version)


def read_judge_token(secret_key: str, token: str) -> TokenClaim | None:
    return read_token(secret_key, JUDGE_SIGN_IN, token)


def make_feedback_token(secret_key: str, team_id: int, version: int) -> str:
    """The token of a team's private feedback link (printed on its slip)."""
    return make_token(secret_key, TEAM_FEEDBACK, team_id, version)


def read_feedback_token(secret_key: str, token: str) -> TokenClaim | None:
    return read_token(secret_key, TEAM_FEEDBACK, token)
