"""Certificate verification codes: the certificate's uid and an HMAC of it under the server secret.

A code reads `<uid>-<16 characters>`: the uid is the random, never-reused identity stored on the
certificate (10 characters, the first a letter: expo_app.models.new_certificate_uid), kept when the
event moves to another database, so a code never verifies as another person's certificate. The 16
characters are 80 bits of the MAC. Both use an alphabet with no look-alikes (no 0/O, 1/I), so a code
can be typed from paper and matched in any case, and a reprint carries the same code. Revocation is
a flag on the row. A code is a proof that a certificate is genuine, not a key to anything: it is
printed on paper that the student hands to employers, so kept certificate PDFs (which print it) may
sit in the database, unlike badges, whose links sign a judge in.

Codes printed before uids existed read `<row id>-<16 characters>`; they still verify the row that
had that id then, which keeps it as `legacy_id` (across export and import too), and no other.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols, 5 bits each
MAC_CHARS = 16
_PURPOSE = b"expo-judge/certificate-verification/v1"
_UID_PURPOSE = b"expo-judge/certificate-verification/v2-uid"
_CODE = re.compile(r"^([A-Za-z][0-9A-Za-z]{9})-([0-9A-Za-z]{%d})$" % MAC_CHARS)
_LEGACY_CODE = re.compile(r"^(\d{1,12})-([0-9A-Za-z]{%d})$" % MAC_CHARS)


def _mac(secret_key: str, purpose: bytes, owner: str) -> str:
    key = hmac.new(secret_key.encode(), purpose, hashlib.sha256).digest()
    number = int.from_bytes(hmac.new(key, owner.encode(), hashlib.sha256).digest()[:10], "big")
    return "".join(ALPHABET[(number >> (5 * i)) & 31] for i in range(MAC_CHARS))


@dataclass(frozen=True)
class CodeClaim:
    """What a genuine code names: a certificate uid (str), or for an old code a legacy row id (int)."""

    owner: str | int

    @property
    def legacy(self) -> bool:
        return isinstance(self.owner, int)


def make_certificate_code(secret_key: str, uid: str) -> str:
    """The code printed on the certificate whose uid this is (and in its /v/ URL)."""
    return f"{uid}-{_mac(secret_key, _UID_PURPOSE, uid.upper())}"


def make_legacy_certificate_code(secret_key: str, certificate_id: int) -> str:
    """A code in the form printed before uids existed (kept to read old paper, and for tests)."""
    return f"{certificate_id}-{_mac(secret_key, _PURPOSE, str(certificate_id))}"


def read_certificate_code(secret_key: str, code: str) -> CodeClaim | None:
    """What a genuine code names, or None for a malformed or forged one."""
    code = (code or "").strip()
    if match := _CODE.match(code):
        uid = match[1].upper()
        good = hmac.compare_digest(match[2].upper(), _mac(secret_key, _UID_PURPOSE, uid))
        return CodeClaim(uid) if good else None
    if match := _LEGACY_CODE.match(code):
        certificate_id = int(match[1])
        good = hmac.compare_digest(match[2].upper(), _mac(secret_key, _PURPOSE, str(certificate_id)))
        return CodeClaim(certificate_id) if good else None
    return None
