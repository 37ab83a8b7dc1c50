"""The mail worker (`expo mail send`): takes queued messages from the outbox and delivers them.

The rules:
- **Claims.** A worker claims a batch (MAIL_BATCH) in one short transaction: the rows go from
  queued to sending with the worker's random claim token, the time (the lease) and one more
  attempt. On PostgreSQL the rows are picked with `FOR UPDATE SKIP LOCKED`, so two workers never
  take the same row and never wait for each other; on SQLite the claim is one atomic UPDATE under
  the database's single write lock (BEGIN IMMEDIATE). A row is taken only while queued and due, or
  while "sending" under a lease older than MAIL_LEASE_S: a worker that died (killed, out of memory,
  a lost node) leaves its rows sending, and once the lease has run out another worker takes them.
  Nothing claimed is ever lost.
- **Lease.** While it works through a batch the worker renews the lease of the rows it still holds
  (every third of MAIL_LEASE_S); a row whose claim another worker has taken is dropped, not sent.
- **Sent once.** No transaction is open while the SMTP server talks. Right after the server accepts
  a message, one short transaction marks it sent, under the worker's claim. What remains is
  at-least-once delivery in one window: if the worker dies (or the database is out of reach, after
  a few retries of that one UPDATE) between the server's "250 OK" and that commit, the row is still
  "sending" and is sent again after its lease runs out. The message then carries the same
  Message-ID, by which mail programs can tell the copy. A connection that breaks during the DATA
  phase is the same window seen from the other side (the server may have kept the message): it is
  counted as a failed attempt and tried again.
- **Failures.** A refusal of this message for good (a 5xx answer: unknown recipient, rejected
  message) or a message that must not go out now (person removed, badge withdrawn, feedback not
  released) is `failed` at once with the reason. Anything else (server down, 4xx, a timeout, a
  refused login) is tried again after MAIL_BACKOFF_S × 2^(attempt−1), at most MAIL_BACKOFF_MAX_S
  (±10 %), up to MAIL_MAX_ATTEMPTS attempts, then `failed` with the last reason. When the server
  cannot be reached at all, the rest of the batch gets the same reason and the worker waits
  (`--once` stops there) instead of knocking on a closed door for every message.
- **Rate.** At most MAIL_RATE messages a second per worker (0: no limit).
"""
from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from flask import current_app
from sqlalchemy import and_, or_, update
from sqlalchemy.exc import DBAPIError, OperationalError

from ..extensions import db, write_intent
from ..models import OutboxMessage, utcnow
from .messages import NotSendable, draft_for, message_id, to_mime
from .transport import DeliveryError, eml_name, make_transport

log = logging.getLogger("expo.mail")
MARK_RETRIES = (0.5, 1.0, 2.0, 4.0)  # waits before trying again to mark a message sent


@dataclass
class Report:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    dropped: int = 0  # claims another worker took over (lease ran out): not sent by this one
    unreachable: str = ""  # why the server could not be reached, when it could not
    reasons: dict = field(default_factory=dict)

    @property
    def tried(self) -> int:
        return self.sent + self.failed + self.retrying


class _Writes:
    """A short write transaction on the worker's session (BEGIN IMMEDIATE on SQLite)."""

    def __init__(self, writing: bool):
        self.writing = writing

    def __enter__(self):
        self.token = write_intent.set(self.writing)
        return db.session

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None and self.writing:
                db.session.commit()
            else:
                db.session.rollback()
        finally:
            write_intent.reset(self.token)
        return False


def writing() -> _Writes:
    return _Writes(True)


def reading() -> _Writes:
    return _Writes(False)


def _due(now, lease_s: float, ignore_backoff: bool):
    queued = OutboxMessage.status == "queued"
    if not ignore_backoff:
        queued = and_(queued, OutboxMessage.next_attempt_at <= now)
    expired = and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - timedelta(seconds=lease_s))
    return or_(queued, expired)


def claim_batch(token: str, limit: int, *, after_id: int = 0, ignore_backoff: bool = False,
                lease_s: float | None = None) -> list[int]:
    """Claim up to `limit` due messages (ids above `after_id`) for this worker; their ids, in order."""
    lease_s = current_app.config["MAIL_LEASE_S"] if lease_s is None else lease_s
    with writing() as session:
        now = utcnow()
        due = _due(now, lease_s, ignore_backoff)
        pick = db.select(OutboxMessage.id).where(due, OutboxMessage.id > after_id).order_by(OutboxMessage.id).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            # A CTE, run once: inside `id IN (...)` PostgreSQL may run a LIMIT ... SKIP LOCKED subquery
            # again for each row and claim more than `limit` (the tests caught it claiming all).
            picked = pick.with_for_update(skip_locked=True).cte("picked")
            chosen = OutboxMessage.id == picked.c.id
        else:
            chosen = OutboxMessage.id.in_(pick.scalar_subquery())
        statement = (update(OutboxMessage).where(chosen, due)
                     .values(status="sending", claim=token, claimed_at=now, attempts=OutboxMessage.attempts + 1)
                     .returning(OutboxMessage.id).execution_options(synchronize_session=False))
        ids = sorted(session.execute(statement).scalars().all())
    return ids


def renew(token: str, ids: list[int]) -> list[int]:
    """Renew the lease of the rows this worker still holds; the ids it still holds."""
    if not ids:
        return []
    with writing() as session:
        held = session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.claim == token,
                                        OutboxMessage.status == "sending")
            .values(claimed_at=utcnow()).returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)).scalars().all()
    return sorted(held)


def _finish(row_id: int, token: str, **values) -> bool:
    """Write the outcome of this worker's try, under its claim; whether the claim was still its own."""
    with writing() as session:
        result = session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id, OutboxMessage.claim == token)
                                 .values(claim="", **values).execution_options(synchronize_session=False))
    return result.rowcount == 1


def _mark_sent(row_id: int, token: str, draft) -> bool:
    """Mark the message sent right after the server took it, trying again while the database is away."""
    values = {"status": "sent", "sent_at": utcnow(), "last_error": "", "version": draft.version,
              "to_name": draft.to_name[:120], "to_address": draft.to_address[:254],
              "includes_certificates": draft.includes_certificates}
    for wait in (*MARK_RETRIES, None):
        try:
            return _finish(row_id, token, **values)
        except (OperationalError, DBAPIError) as exc:
            db.session.rollback()
            if wait is None:
                log.error("mail %s was sent but could not be marked sent (%s): it will be sent again after its "
                          "lease runs out", row_id, type(exc).__name__)
                return False
            time.sleep(wait)
    return False


def backoff_s(attempts: int) -> float:
    """The wait before the next try after `attempts` failed ones: base × 2^(n−1), capped, ±10 %."""
    config = current_app.config
    wait = min(config["MAIL_BACKOFF_MAX_S"], config["MAIL_BACKOFF_S"] * 2 ** max(0, attempts - 1))
    return wait * random.uniform(0.9, 1.1)


def _failure(row_id: int, token: str, attempts: int, reason: str, permanent: bool) -> str:
    """Record a failed try: `failed` for good, or back to queued for a later try. Its new status."""
    reason = reason[:500]
    if permanent or attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        if not permanent:
            reason = f"gave up after {attempts} attempts: {reason}"[:500]
        _finish(row_id, token, status="failed", last_error=reason)
        return "failed"
    _finish(row_id, token, status="queued", last_error=reason,
            next_attempt_at=utcnow() + timedelta(seconds=backoff_s(attempts)))
    return "queued"


@dataclass
class _Prepared:
    row_id: int
    attempts: int
    name: str
    draft: object = None
    message: object = None
    problem: str = ""


def _prepare(row_id: int, token: str) -> _Prepared | None:
    """Build the message of a row this worker holds (None when the claim is no longer its own)."""
    with reading() as session:
        row = session.get(OutboxMessage, row_id, populate_existing=True)
        if row is None or row.status != "sending" or row.claim != token:
            return None
        prepared = _Prepared(row_id, row.attempts, eml_name(row.id, row.created_at))
        if row.attempts > current_app.config["MAIL_MAX_ATTEMPTS"]:
            prepared.problem = f"gave up after {row.attempts - 1} attempts (the last one's worker stopped mid-way)"
            return prepared
        try:
            prepared.draft = draft_for(row)
            prepared.message = to_mime(prepared.draft, message_id(row.id, row.created_at))
        except NotSendable as exc:
            prepared.problem = exc.reason
        except (ValueError, TypeError, IndexError) as exc:  # an address no header can hold
            prepared.problem = f"the address cannot be used: {exc}"[:300]
        return prepared


def deliver_one(row_id: int, token: str, transport, report: Report) -> str:
    """Try one claimed message: 'sent', 'failed', 'queued' (to try again), 'dropped' or 'unreachable'."""
    prepared = _prepare(row_id, token)
    if prepared is None:
        report.dropped += 1
        return "dropped"
    if prepared.problem:
        _finish(row_id, token, status="failed", last_error=prepared.problem[:500])
        report.failed += 1
        return "failed"
    try:
        transport.send(prepared.message, prepared.name)
    except DeliveryError as exc:
        status = _failure(row_id, token, prepared.attempts, exc.reason, exc.permanent)
        if status == "failed":
            report.failed += 1
        else:
            report.retrying += 1
        report.reasons[row_id] = exc.reason
        log.warning("mail %s (%s) not delivered: %s", row_id, prepared.draft.kind, exc.reason)
        return "unreachable" if exc.server else status
    if _mark_sent(row_id, token, prepared.draft):
        report.sent += 1
        log.info("mail %s (%s) sent", row_id, prepared.draft.kind,
                 extra={"outbox_id": row_id, "kind": prepared.draft.kind})
        return "sent"
    report.dropped += 1
    return "dropped"


class _Pace:
    """At most `rate` sends a second (0: no limit)."""

    def __init__(self, rate: float, stop: threading.Event):
        self.gap = 1.0 / rate if rate and rate > 0 else 0.0
        self.next_at = 0.0
        self.stop = stop

    def wait(self) -> None:
        if not self.gap:
            return
        now = time.monotonic()
        if self.next_at > now:
            self.stop.wait(self.next_at - now)
        self.next_at = max(now, self.next_at) + self.gap


def run(*, once: bool, stop: threading.Event | None = None, transport=None,
        progress: Callable[[Report], None] | None = None, lease_s: float | None = None) -> Report:
    """Deliver the outbox. `once`: try every message waiting now (backoff aside) one time, then
    return; else run until `stop` is set, waiting MAIL_POLL_S when nothing is due."""
    config = current_app.config
    stop = stop or threading.Event()
    lease_s = config["MAIL_LEASE_S"] if lease_s is None else lease_s
    transport = transport or make_transport(current_app)
    token = secrets.token_hex(16)
    report = Report()
    pace = _Pace(config["MAIL_RATE"], stop)
    after_id = 0
    try:
        while not stop.is_set():
            try:
                ids = claim_batch(token, config["MAIL_BATCH"], after_id=after_id if once else 0,
                                  ignore_backoff=once, lease_s=lease_s)
            except DBAPIError as exc:
                if once:
                    raise
                # The database is away (a restart, the migrations not run yet): wait, never die for it.
                db.session.rollback()
                log.warning("mail worker: the database did not answer (%s); trying again", type(exc).__name__)
                stop.wait(config["MAIL_POLL_S"])
                continue
            if not ids:
                if once:
                    break
                stop.wait(config["MAIL_POLL_S"])
                continue
            after_id = ids[-1]
            renewed_at = time.monotonic()
            pending = list(ids)
            while pending and not stop.is_set():
                if time.monotonic() - renewed_at > lease_s / 3:
                    held = set(renew(token, pending))
                    report.dropped += len([i for i in pending if i not in held])
                    pending = [i for i in pending if i in held]
                    renewed_at = time.monotonic()
                    if not pending:
                        break
                row_id = pending.pop(0)
                pace.wait()
                outcome = deliver_one(row_id, token, transport, report)
                if progress is not None:
                    progress(report)
                if outcome == "unreachable":
                    reason = report.reasons[row_id]
                    report.unreachable = reason
                    for other in pending:  # the same closed door: the same reason, one attempt each
                        attempts = _attempts(other)
                        status = _failure(other, token, attempts, reason, False) if attempts is not None else None
                        report.retrying += status == "queued"
                        report.failed += status == "failed"
                    pending = []
                    if once:
                        return report
                    stop.wait(min(config["MAIL_BACKOFF_S"], config["MAIL_POLL_S"] * 6))
            if pending:  # stopped: hand the rest back untouched (no attempt counted)
                _release(token, pending)
    finally:
        transport.close()
    return report


def _attempts(row_id: int) -> int | None:
    with reading() as session:
        return session.execute(db.select(OutboxMessage.attempts).where(OutboxMessage.id == row_id)).scalar()


def _release(token: str, ids: list[int]) -> None:
    with writing() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.claim == token,
                                                    OutboxMessage.status == "sending")
                        .values(status="queued", claim="", claimed_at=None, attempts=OutboxMessage.attempts - 1)
                        .execution_options(synchronize_session=False))


# --- development: deliver to the mailbox folder right after a request queued something ---------

_kick_lock = threading.Lock()
_kick_again = threading.Event()
_kick_running = threading.Event()


def kick(app) -> bool:
    """Without MAIL_URL (and MAIL_BACKGROUND=thread): write the queued messages into the mailbox
    folder from a background thread, so `make run` shows them without a worker. Whether it started."""
    if app.config.get("MAIL_URL") or app.config.get("MAIL_BACKGROUND") != "thread":
        return False
    with _kick_lock:
        if _kick_running.is_set():
            _kick_again.set()
            return True
        _kick_running.set()

    def work():
        try:
            while True:
                _kick_again.clear()
                with app.app_context():
                    try:
                        run(once=True)
                    except Exception:  # noqa: BLE001 - a background thread must say why it stopped
                        log.exception("writing queued mail into the mailbox folder failed")
                    finally:
                        db.session.remove()
                with _kick_lock:
                    if not _kick_again.is_set():
                        _kick_running.clear()
                        return
        except BaseException:
            _kick_running.clear()
            raise

    threading.Thread(target=work, name="expo-mail-mailbox", daemon=True).start()
    return True
