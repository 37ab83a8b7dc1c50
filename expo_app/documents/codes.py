"""Certificate verification codes: an HMAC of the certificate's id under the server secret.

A code reads `<id>-<16 characters>`. The characters are 80 bits of the MAC in an alphabet with no
look-alikes (no 0/O, 1/I), so a code can be typed from paper and matched in any case. The
certificate table stores no code, and a reprint of the same certificate carries the same one.
Revocation is a flag on the row. A code is a proof that a certificate is genuine, not a key to
anything: it is printed on paper that the student hands to employers, so kept certificate PDFs
(which print it) may sit in the database, unlike badges, whose links sign a judge in.
"""
from __future__ import annotations

import hashlib
import hmac
import re

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols, 5 bits each
MAC_CHARS = 16
_PURPOSE = b"expo-judge/certificate-verification/v1"
_CODE = re.compile(r"^(\d{1,12})-([0-9A-Za-z]{%d})$" % MAC_CHARS)


def _mac(secret_key: str, certificate_id: int) -> str:
    key = hmac.new(secret_key.encode(), _PURPOSE, hashlib.sha256).digest()
    number = int.from_bytes(hmac.new(key, str(certificate_id).encode(), hashlib.sha256).digest()[:10], "big")
    return "".join(ALPHABET[(number >> (5 * i)) & 31] for i in range(MAC_CHARS))


def make_certificate_code(secret_key: str, certificate_id: int) -> str:
    """The code printed on certificate `certificate_id` (and in its /v/ URL)."""
    return f"{certificate_id}-{_mac(secret_key, certificate_id)}"


def read_certificate_code(secret_key: str, code: str) -> int | None:
    """The certificate id a genuine code names, or None for a malformed or forged one."""
    match = _CODE.match(code or "")
    if not match:
        return None
    certificate_id = int(match[1])
    if not hmac.compare_digest(match[2].upper(), _mac(secret_key, certificate_id)):
        return None
    return certificate_id
