"""Organiser sign-in throttling, in the shared state every instance sees (expo_app.platform.shared).

Three limits, each over a window:
- failures per account (any e-mail, known or not, so the limit says nothing about which exist);
- attempts per client address (the hall's organisers share one address: the limit is generous);
- password checks for the whole site per minute, so that a flood of sign-ins (scrypt costs ~0.1 s of
  CPU each) cannot slow the judges' pages: past it, sign-in answers 503 "busy" without hashing.
Judges never pass through here: their badge links are unguessable tokens, and judges share the
hall's address, so nothing of theirs is throttled by address.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from flask import current_app, request

from ..platform.observability import LOGIN_REFUSED
from ..platform.shared import hashed, shared


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str
    retry_after: int


def _account_key(email: str) -> str:
    return "login:account:" + hashed(email.strip().lower())


def _client_key() -> str:
    return "login:client:" + hashed(request.remote_addr or "unknown")


def _minutes(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def refusal(email: str) -> Refusal | None:
    """Why this attempt is refused before any password is checked, or None. Counts the attempt."""
    config, state = current_app.config, shared()
    account = _account_key(email)
    # Counted before the password is checked (a success clears it): concurrent guesses waiting for
    # the hashing cannot all pass a count that only failures raise.
    if state.hit(account, config["LOGIN_WINDOW_S"]) > config["LOGIN_FAILURES_PER_ACCOUNT"]:
        wait = state.ttl(account) or config["LOGIN_WINDOW_S"]
        LOGIN_REFUSED.labels("account").inc()
        return Refusal(429, f"Too many failed sign-ins for this e-mail. Try again in {_minutes(wait)}, "
                            "or ask another organiser to reset the password (expo create-admin).", wait)
    client = _client_key()
    if state.hit(client, config["LOGIN_WINDOW_S"]) > config["LOGIN_ATTEMPTS_PER_CLIENT"]:
        wait = state.ttl(client) or config["LOGIN_WINDOW_S"]
        LOGIN_REFUSED.labels("client").inc()
        return Refusal(429, f"Too many sign-in attempts from this network. Try again in {_minutes(wait)}.", wait)
    if state.hit("login:checks", 60) > config["LOGIN_CHECKS_PER_MINUTE"]:
        LOGIN_REFUSED.labels("busy").inc()
        return Refusal(503, "Sign-in is busy right now. Try again in a minute.", max(state.ttl("login:checks"), 1))
    return None


def clear_failures(email: str) -> None:
    shared().delete(_account_key(email))


# One password check at a time per process: the rest of the process's threads stay free for judges.
_hashing = threading.BoundedSemaphore(1)


class HashingBusy(Exception):
    pass


def one_check_at_a_time(check, *args, wait_s: float = 3.0):
    if not _hashing.acquire(timeout=wait_s):
        LOGIN_REFUSED.labels("busy").inc()
        raise HashingBusy
    try:
        return check(*args)
    finally:
        _hashing.release()
