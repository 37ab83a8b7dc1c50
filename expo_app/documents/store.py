"""Rendered batches kept in the database, and the background renders that fill them.

Why this design (README, "Printed matter"): a batch of 600 certificates takes longer than a web
worker may hold a request, so large batches render in a background thread of the web process
that asked for them, a chunk at a time, writing its progress to the database. Any instance can
show that progress and serve the result, the PDF is kept (keyed by the batch's fingerprint), and
a second download of unchanged data is instant. A render whose process died stops sending its
heartbeat and can be started again. Small batches (and every badge sheet, which is never kept)
render inside the request.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from flask import Flask, current_app

from ..extensions import db, write_intent
from ..models import Event, RenderedDocument, utcnow
from .batches import Batch, build_batch
from .render import RenderedPdf, render_pdf

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(seconds=90)  # no heartbeat for this long: the render's process has gone

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def render_batch(batch: Batch, progress=None) -> RenderedPdf:
    """Render a built batch to PDF (with progress reports between chunks)."""
    return render_pdf(batch.kind.template, batch.context(), paper=batch.paper, items="items",
                      chunk=max(batch.kind.per_page, current_app.config["DOCUMENT_CHUNK_ITEMS"]
                                // batch.kind.per_page * batch.kind.per_page), progress=progress)


def kept_document(event: Event, kind: str) -> RenderedDocument | None:
    return db.session.execute(db.select(RenderedDocument).where(
        RenderedDocument.event_id == event.id, RenderedDocument.kind == kind)).scalar_one_or_none()


def is_running(document: RenderedDocument | None) -> bool:
    return (document is not None and document.state in ("queued", "rendering")
            and utcnow() - document.heartbeat_at < STALE_AFTER)


def is_fresh(document: RenderedDocument | None, batch: Batch) -> bool:
    """Whether the kept PDF was made from exactly this batch's data."""
    return document is not None and document.state == "ready" and document.fingerprint == batch.fingerprint()


def keep_pdf(event: Event, batch: Batch, result: RenderedPdf, actor: str) -> RenderedDocument:
    """Store a rendered batch (replacing what was kept for its kind). Flushes only."""
    if not batch.kind.cacheable:
        raise ValueError(f"{batch.kind.title} carry sign-in links and are never stored.")
    document = kept_document(event, batch.kind.name) or RenderedDocument(event_id=event.id, kind=batch.kind.name)
    document.fingerprint, document.state, document.error = batch.fingerprint(), "ready", ""
    document.pdf, document.pdf_bytes = result.pdf, len(result.pdf)
    document.pages_total = document.pages_done = result.pages
    document.render_seconds, document.requested_by = round(result.seconds, 2), actor[:300]
    document.heartbeat_at = document.finished_at = utcnow()
    db.session.add(document)
    db.session.flush()
    return document


def queue_render(event: Event, batch: Batch, actor: str) -> RenderedDocument:
    """Mark the batch's render as queued (the view commits, then calls start_render). Flushes only."""
    document = kept_document(event, batch.kind.name)
    if document is None:
        document = RenderedDocument(event_id=event.id, kind=batch.kind.name)
        db.session.add(document)
    elif is_running(document):
        return document
    document.fingerprint, document.state, document.error = batch.fingerprint(), "queued", ""
    document.pdf, document.pdf_bytes = None, 0
    document.pages_total, document.pages_done = batch.pages, 0
    document.requested_by, document.render_seconds = actor[:300], None
    document.created_at = document.heartbeat_at = utcnow()
    document.finished_at = None
    db.session.flush()
    return document


def start_render(app: Flask, document_id: int) -> None:
    """Run a queued render: in a background thread, or at once when DOCUMENT_JOBS is "inline"."""
    if app.config["DOCUMENT_JOBS"] == "inline":
        run_render(app, document_id)
        return
    global _executor
    with _executor_lock:
        if _executor is None:  # made lazily: after gunicorn forks its workers
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="expo-render")
        _executor.submit(run_render, app, document_id)


def _update(document_id: int, only_if_state: tuple[str, ...], **values) -> bool:
    """One short committed UPDATE: no transaction stays open while pages are laid out."""
    result = db.session.execute(
        db.update(RenderedDocument)
        .where(RenderedDocument.id == document_id, RenderedDocument.state.in_(only_if_state)).values(**values))
    db.session.commit()
    return result.rowcount == 1


def run_render(app: Flask, document_id: int) -> None:
    """Render a queued document and keep it: claims it, reports progress, stores the PDF."""
    token = write_intent.set(True)
    try:
        with app.app_context():
            try:
                _run(document_id)
            except Exception as exc:  # noqa: BLE001 - the organiser must see why, not a page that never ends
                log.exception("Rendering document %s failed", document_id)
                db.session.rollback()
                _update(document_id, ("queued", "rendering"), state="failed",
                        error=f"{type(exc).__name__}: {exc}"[:500], finished_at=utcnow())
            finally:
                db.session.remove()
    finally:
        write_intent.reset(token)


def _run(document_id: int) -> None:
    if not _update(document_id, ("queued",), state="rendering", heartbeat_at=utcnow()):
        return  # another worker took it, or it was replaced
    document = db.session.get(RenderedDocument, document_id)
    event = db.session.get(Event, document.event_id)
    batch = build_batch(event, document.kind)
    if batch.blocked:
        raise RuntimeError(batch.blocked)
    fingerprint = batch.fingerprint()
    db.session.commit()  # certificates issued by build_batch; ends the read transaction before layout

    def progress(done: int, total: int) -> None:
        per_page = batch.kind.per_page
        _update(document_id, ("rendering",), pages_done=-(-done // per_page), pages_total=-(-total // per_page),
                heartbeat_at=utcnow())

    result = render_batch(batch, progress)
    stored = _update(document_id, ("rendering",), state="ready", pdf=result.pdf, pdf_bytes=len(result.pdf),
                     fingerprint=fingerprint, pages_total=result.pages, pages_done=result.pages,
                     render_seconds=round(result.seconds, 2), finished_at=utcnow(), heartbeat_at=utcnow())
    if stored:
        log.info("Rendered %s for event %s: %d pages in %.1f s", document.kind, event.id, result.pages, result.seconds)


def wait_for_renders(timeout: float = 60.0) -> None:
    """Block until queued background renders have finished (tests and the CLI use it)."""
    global _executor
    with _executor_lock:
        executor, _executor = _executor, None
    if executor is not None:
        executor.shutdown(wait=True)
