"""Judge sign-in tokens: HMACs under the server secret, so the database never holds a usable link.

A token reads `<judge id>-<version>-<mac>`. The id and version say whose badge it claims to be;
the MAC proves the server made it. Reissuing a badge bumps the version, which retires older links
while the same version always yields the same link (reprinting a badge keeps it working).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

_TOKEN = re.compile(r"^(\d{1,12})-(\d{1,6})-([A-Za-z0-9_-]{32})$")
_PURPOSE = b"expo-judge/judge-sign-in/v1"


def _mac(secret_key: str, judge_id: int, version: int) -> str:
    key = hmac.new(secret_key.encode(), _PURPOSE, hashlib.sha256).digest()
    digest = hmac.new(key, f"{judge_id}:{version}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]  # 192 bits


def make_judge_token(secret_key: str, judge_id: int, version: int) -> str:
    """The sign-in token printed on a judge's badge."""
    return f"{judge_id}-{version}-{_mac(secret_key, judge_id, version)}"


@dataclass(frozen=True)
class TokenClaim:
    judge_id: int
    version: int


def read_judge_token(secret_key: str, token: str) -> TokenClaim | None:
    """The judge and version a genuine token names, or None for a malformed or forged one."""
    match = _TOKEN.match(token or "")
    if not match:
        return None
    judge_id, version, mac = int(match[1]), int(match[2]), match[3]
    if not hmac.compare_digest(mac, _mac(secret_key, judge_id, version)):
        return None
    return TokenClaim(judge_id, version)
