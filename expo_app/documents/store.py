"""Rendered batches kept in the database, and the background renders that fill them.

Why this design (docs/organiser-guide.md, "Printed matter"): a batch of 600 certificates takes longer than a web
worker may hold a request, so large batches render in a background thread of the web process
that asked for them, a chunk at a time, writing its progress to the database. Any instance can
show that progress and serve the result, the PDF is kept (keyed by the batch's fingerprint), and
a second download of unchanged data is instant. Each render holds a claim (a random token on the
row): a render whose claim was taken over by a newer one stops at its next chunk, and a render
whose process died stops sending its heartbeat and can be started again. Small batches (and every
badge sheet, which is never kept) render inside the request.

No transaction stays open while pages are laid out: on SQLite an open write transaction would keep
judges from saving scores for as long as the render takes.
"""
from __future__ import annotations

import logging
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import undefer

from ..extensions import db, write_intent
from ..models import Event, RenderedDocument, utcnow
from .batches import Batch, BatchBlocked, build_batch
from .render import RenderedPdf, render_pdf

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(seconds=90)  # no heartbeat for this long: the render's process has gone

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


class RenderSuperseded(Exception):
    """A newer render took this one's claim: stop, and leave the row to it."""


def render_batch(batch: Batch, progress=None) -> RenderedPdf:
    """Render a built batch to PDF (with progress reports between chunks)."""
    per_page = batch.kind.per_page
    chunk = max(per_page, current_app.config["DOCUMENT_CHUNK_ITEMS"] // per_page * per_page)
    return render_pdf(batch.kind.template, batch.context(), paper=batch.paper, items="items", chunk=chunk,
                      progress=progress)


def kept_document(event_id: int, kind: str, with_pdf: bool = False) -> RenderedDocument | None:
    """The kept render of this kind (state, fingerprint and, when asked, the PDF, in one query)."""
    query = db.select(RenderedDocument).where(RenderedDocument.event_id == event_id, RenderedDocument.kind == kind)
    if with_pdf:
        query = query.options(undefer(RenderedDocument.pdf))
    return db.session.execute(query).scalar_one_or_none()


def is_running(document: RenderedDocument | None) -> bool:
    return (document is not None and document.state in ("queued", "rendering")
            and utcnow() - document.heartbeat_at < STALE_AFTER)


def is_fresh(document: RenderedDocument | None, batch: Batch) -> bool:
    """Whether the kept PDF was made from exactly this batch's data (and design)."""
    return (document is not None and document.state == "ready" and not batch.unissued
            and document.fingerprint == batch.fingerprint())


def _row(event_id: int, kind: str) -> RenderedDocument:
    """The event's row for this kind, made if missing; a parallel maker's row is reused."""
    document = kept_document(event_id, kind)
    if document is not None:
        return document
    savepoint = db.session.begin_nested()
    try:
        document = RenderedDocument(event_id=event_id, kind=kind, fingerprint="", state="queued")
        db.session.add(document)
        db.session.flush()
    except IntegrityError:
        savepoint.rollback()
        return kept_document(event_id, kind)
    savepoint.commit()
    return document


def keep_pdf(event_id: int, batch: Batch, result: RenderedPdf, actor: str) -> RenderedDocument:
    """Store a rendered batch (replacing what was kept for its kind). Flushes only."""
    if not batch.kind.cacheable:
        raise ValueError(f"{batch.kind.title} carry sign-in links and are never stored.")
    document = _row(event_id, batch.kind.name)
    document.fingerprint, document.state, document.error, document.claim = batch.fingerprint(), "ready", "", ""
    document.pdf, document.pdf_bytes = result.pdf, len(result.pdf)
    document.pages_total = document.pages_done = result.pages
    document.render_seconds, document.requested_by = round(result.seconds, 2), actor[:300]
    document.heartbeat_at = document.finished_at = utcnow()
    db.session.flush()
    return document


@dataclass(frozen=True)
class Queued:
    document_id: int
    claim: str


def queue_render(event: Event, batch: Batch, actor: str) -> Queued | None:
    """Queue the batch's render under a new claim (None when one is already running). Flushes only.

    The view commits, then calls start_render with what this returns.
    """
    document = _row(event.id, batch.kind.name)
    if document.id is not None and is_running(document) and document.claim:
        return None
    claim = secrets.token_hex(16)
    document.fingerprint, document.state, document.error, document.claim = "", "queued", "", claim
    document.pdf, document.pdf_bytes = None, 0
    document.pages_total, document.pages_done = batch.pages, 0
    document.requested_by, document.render_seconds = actor[:300], None
    document.created_at = document.heartbeat_at = utcnow()
    document.finished_at = None
    db.session.flush()
    return Queued(document.id, claim)


def start_render(app: Flask, queued: Queued) -> None:
    """Run a queued render: in a background thread, or at once when DOCUMENT_JOBS is "inline"."""
    if app.config["DOCUMENT_JOBS"] == "inline":
        run_render(app, queued)
        return
    global _executor
    with _executor_lock:
        if _executor is None:  # made lazily: after gunicorn forks its workers
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="expo-render")
        _executor.submit(run_render, app, queued)


def _update(queued: Queued, **values) -> bool:
    """One short committed UPDATE of our row, only while we still hold its claim."""
    result = db.session.execute(
        db.update(RenderedDocument)
        .where(RenderedDocument.id == queued.document_id, RenderedDocument.claim == queued.claim).values(**values))
    db.session.commit()
    return result.rowcount == 1


def run_render(app: Flask, queued: Queued) -> None:
    """Render a queued document and keep it: claims it, reports progress, stores the PDF."""
    token = write_intent.set(True)
    try:
        with app.app_context():
            try:
                _run(queued)
            except RenderSuperseded:
                log.info("Render %s was superseded by a newer one", queued.document_id)
            except BatchBlocked as exc:
                db.session.rollback()
                _update(queued, state="failed", error=str(exc)[:500], finished_at=utcnow())
            except Exception as exc:  # noqa: BLE001 - the organiser must see why, not a page that never ends
                log.exception("Rendering document %s failed", queued.document_id)
                db.session.rollback()
                _update(queued, state="failed", error=f"{type(exc).__name__}: {exc}"[:500], finished_at=utcnow())
            finally:
                db.session.remove()
    finally:
        write_intent.reset(token)


def _run(queued: Queued) -> None:
    if not _update(queued, state="rendering", heartbeat_at=utcnow()):
        raise RenderSuperseded()
    document = db.session.get(RenderedDocument, queued.document_id)
    event = db.session.get(Event, document.event_id)
    batch = build_batch(event, document.kind)
    if batch.blocked:
        raise BatchBlocked(batch.blocked)
    fingerprint = batch.fingerprint()
    db.session.commit()  # certificates issued by build_batch; ends the transaction before layout
    per_page = batch.kind.per_page

    def progress(done: int, total: int) -> None:
        if not _update(queued, pages_done=-(-done // per_page), pages_total=-(-total // per_page),
                       heartbeat_at=utcnow()):
            raise RenderSuperseded()

    result = render_batch(batch, progress)
    if not _update(queued, state="ready", pdf=result.pdf, pdf_bytes=len(result.pdf), fingerprint=fingerprint,
                   pages_total=result.pages, pages_done=result.pages, render_seconds=round(result.seconds, 2),
                   finished_at=utcnow(), heartbeat_at=utcnow(), claim=""):
        raise RenderSuperseded()
    log.info("Rendered %s for event %s: %d pages in %.1f s", batch.kind.name, event.id, result.pages, result.seconds)


def render_award_certificates(event: Event, actor: str) -> str | None:
    """Queue the award certificates' render once the awards are final; returns what to tell the organiser.

    The awards are already committed: a failure here must not look like a failed finalise.
    """
    try:
        batch = build_batch(event, "certificates", issue=False)
        if batch.blocked:
            db.session.rollback()
            return None
        queued = queue_render(event, batch, actor)
        db.session.commit()
        if queued is not None:
            start_render(current_app._get_current_object(), queued)
    except Exception:  # noqa: BLE001
        log.exception("Could not start rendering the award certificates of event %s", event.id)
        db.session.rollback()
        return "The award certificates could not be prepared now: prepare them from the Printing page."
    return "Their certificates are being rendered in the background: print them from the Printing page."


def wait_for_renders() -> None:
    """Block until the queued background renders of this process have finished (tests use it)."""
    global _executor
    with _executor_lock:
        executor, _executor = _executor, None
    if executor is not None:
        executor.shutdown(wait=True)
