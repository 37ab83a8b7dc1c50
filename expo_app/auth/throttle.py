"""Organiser sign-in throttling, in the shared state every instance sees (expo_app.platform.shared).

Four limits, each over its window:
- failed sign-ins per account *from one client* (tight: 5 in 15 minutes), so one address cannot
  guess, and cannot lock the organiser out from anywhere else either;
- failed sign-ins per account from all clients together (loose: 100 an hour), enough to stop
  guessing spread over many addresses, far above what one address may try;
- attempts per client address, on any accounts (the hall's organisers share one address: generous);
- password checks for the whole site per minute, so that a flood of sign-ins (scrypt costs ~0.1 s of
  CPU each) cannot slow the judges' pages: past it, sign-in answers 503 "busy" without hashing.
Unknown e-mails count alike, so a limit says nothing about which e-mails have accounts. Only an
attempt that reaches the password check counts: one refused by any limit counts nowhere. Resetting
the password (`expo create-admin`) clears the account's counters.
Judges never pass through here: their badge links are unguessable tokens, and judges share the
hall's address, so nothing of theirs is throttled by address.
"""
from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass, field

from flask import current_app, request

from ..platform.observability import LOGIN_REFUSED
from ..platform.shared import hashed, shared


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str
    retry_after: int


def _account(email: str) -> str:
    return hashed(email.strip().lower())


def client_address(address: str | None) -> str:
    """The client a limit counts: its address, or for IPv6 its /64 (one home or office hands out
    addresses from a /64, so a single client could otherwise switch address at every attempt)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _client() -> str:
    return hashed(client_address(request.remote_addr))


def _account_client_key(account: str, client: str) -> str:
    return f"login:pair:{account}:{client}"


def _account_key(account: str) -> str:
    return f"login:account:{account}"


def _client_key(client: str) -> str:
    return f"login:client:{client}"


CHECKS_KEY = "login:checks"


def _minutes(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@dataclass
class Attempt:
    """An attempt admitted to the password check; its counters are raised already."""

    account: str
    client: str
    raised: list[str] = field(default_factory=list)

    def cancel(self) -> None:
        """It never reached the password check after all (the check was busy): it counts nowhere."""
        state = shared()
        for key in self.raised:
            state.unhit(key)

    def succeeded(self) -> None:
        """The right password: this client's failures on the account are forgotten, and the attempt
        is no failure of the account's (the attackers' count elsewhere goes on, though)."""
        state = shared()
        state.delete(_account_client_key(self.account, self.client))
        state.unhit(_account_key(self.account))


def admit(email: str) -> Attempt | Refusal:
    """Let this attempt through to the password check (counting it), or say why not (counting nothing)."""
    config, state = current_app.config, shared()
    account, client = _account(email), _client()
    window = config["LOGIN_WINDOW_S"]
    again = "or ask another organiser to reset the password (expo create-admin)."
    limits = [
        (_account_client_key(account, client), config["LOGIN_FAILURES_PER_ACCOUNT_AND_CLIENT"], window,
         "account_client", 429, "Too many failed sign-ins for this e-mail from this network. Try again in {}, " + again),
        (_client_key(client), config["LOGIN_ATTEMPTS_PER_CLIENT"], window,
         "client", 429, "Too many sign-in attempts from this network. Try again in {}."),
        (_account_key(account), config["LOGIN_FAILURES_PER_ACCOUNT"], config["LOGIN_ACCOUNT_WINDOW_S"],
         "account", 429, "Too many failed sign-ins for this e-mail. Try again in {}, " + again),
        (CHECKS_KEY, config["LOGIN_CHECKS_PER_MINUTE"], 60,
         "busy", 503, "Sign-in is busy right now. Try again in a minute."),
    ]

    def refuse(key, window_s, reason, status, message) -> Refusal:
        wait = max(state.ttl(key), 1) if reason == "busy" else (state.ttl(key) or window_s)
        LOGIN_REFUSED.labels(reason).inc()
        return Refusal(status, message.format(_minutes(wait)), wait)

    # Refused at a limit: nothing is counted, so neither a flood from one address nor a limit reached
    # elsewhere raises the account's counters any further.
    for key, limit, window_s, reason, status, message in limits:
        if state.count(key) >= limit:
            return refuse(key, window_s, reason, status, message)
    # Counted before the password is checked (a success takes its failure back), so that concurrent
    # guesses waiting for the hashing cannot all pass a count that only failures would raise. One
    # that finds a limit reached meanwhile takes back what it counted, and is refused.
    attempt = Attempt(account, client)
    for key, limit, window_s, reason, status, message in limits:
        attempt.raised.append(key)
        if state.hit(key, window_s) > limit:
            attempt.cancel()
            return refuse(key, window_s, reason, status, message)
    return attempt


def clear_account(email: str) -> None:
    """Forget every failure counted against this account, from every client (a password reset)."""
    state, account = shared(), _account(email)
    state.delete(_account_key(account))
    state.delete_prefix(_account_client_key(account, ""))


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
