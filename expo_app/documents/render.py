"""HTML templates to PDF bytes with WeasyPrint: the one place a PDF is made.

Everything a render needs from outside the HTML string comes through `StaticOnlyFetcher`, which
can read our own static files and nothing else: no `file://`, no network, no other host. User text
reaches templates only through Jinja's autoescaping, so it can never become markup or a URL.

Parsing the print stylesheet and setting up fonts is the slow part of a small render, so both are
done once per process and shared by every render (WeasyPrint's own advice for batches).
"""
from __future__ import annotations

import io
import mimetypes
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import unquote, urlsplit

from flask import render_template
from pypdf import PdfReader, PdfWriter
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

# The only base URL our documents know: relative URLs in templates and CSS resolve under it, and
# the fetcher maps it onto the static folder. ".invalid" can never be a real host (RFC 2606).
STATIC_BASE = "https://static.expo-judge.invalid/static/"
STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
PRINT_CSS = "pdf/print.css"
PAPER_SIZES = {"A4": ("210mm", "297mm"), "Letter": ("8.5in", "11in")}


class FetchRefused(ValueError):
    """A document asked for something outside our static files."""


class StaticOnlyFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves files under static/ and refuses every other URL."""

    def __init__(self, static_dir: Path = STATIC_DIR, base: str = STATIC_BASE):
        super().__init__(allowed_protocols=("https",), allow_redirects=False)
        self.static_dir, self.base = static_dir.resolve(), base

    def fetch(self, url, headers=None):
        if not url.startswith(self.base) or "?" in url or "#" in url:
            raise FetchRefused(f"Documents may only load our own static files, not {url[:200]}")
        relative = unquote(urlsplit(url).path[len(urlsplit(self.base).path):])
        path = (self.static_dir / relative).resolve()
        if not path.is_relative_to(self.static_dir) or not path.is_file():
            raise FetchRefused(f"No such static file: {relative[:200]}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})


@dataclass
class _Shared:
    fetcher: StaticOnlyFetcher
    fonts: FontConfiguration
    stylesheets: dict[str, list[CSS]]


_shared: _Shared | None = None
_shared_lock = threading.Lock()
# One layout at a time per process: the shared font configuration is not made for threads, and a
# background batch takes it a chunk at a time, so a one-page render waits for one chunk at most.
_render_lock = threading.Lock()


def _resources(paper: str) -> tuple[StaticOnlyFetcher, FontConfiguration, list[CSS]]:
    """The process-wide fetcher, font configuration and parsed stylesheets for `paper`."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = _Shared(StaticOnlyFetcher(), FontConfiguration(), {})
        if paper not in _shared.stylesheets:
            width, height = PAPER_SIZES[paper]
            # The paper size is the one thing that varies per event: a tiny sheet of its own, so the
            # big stylesheet is parsed once. Named pages turn the sheet for landscape documents.
            page_css = f"@page {{ size: {width} {height}; }}\n@page landscape {{ size: {height} {width}; }}\n"
            _shared.stylesheets[paper] = [
                CSS(url=STATIC_BASE + PRINT_CSS, url_fetcher=_shared.fetcher, font_config=_shared.fonts),
                CSS(string=page_css, font_config=_shared.fonts),
            ]
        return _shared.fetcher, _shared.fonts, _shared.stylesheets[paper]


@dataclass(frozen=True)
class RenderedPdf:
    pdf: bytes
    pages: int
    seconds: float


def _layout(template: str, context: dict, paper: str, fetcher=None):
    shared_fetcher, fonts, stylesheets = _resources(paper)
    html = render_template(template, paper=paper, **context)
    with _render_lock:
        return HTML(string=html, base_url=STATIC_BASE, url_fetcher=fetcher or shared_fetcher).render(
            font_config=fonts, stylesheets=stylesheets)


def render_pdf(template: str, context: dict, *, paper: str = "A4", items: str | None = None, chunk: int = 50,
               progress: Callable[[int, int], None] | None = None, fetcher=None) -> RenderedPdf:
    """Render a templates/pdf/ template to PDF bytes.

    For a batch, `items` names the context list the template lays out (a page or a sheet each).
    A long batch is laid out and written `chunk` items at a time, so that memory holds one chunk's
    pages rather than the whole batch's, and `progress(done, total)` reports between chunks; the
    chunks are then joined into one PDF. Needs an application context (for the templates).
    """
    started = time.perf_counter()
    if paper not in PAPER_SIZES:
        raise ValueError(f"Paper size must be one of {', '.join(PAPER_SIZES)}")
    entries: Sequence = context.get(items, []) if items else []
    parts: list[tuple[bytes, int]] = []
    for start in range(0, max(len(entries), 1), chunk) if items else [0]:
        part_context = {**context, items: entries[start:start + chunk]} if items else context
        document = _layout(template, part_context, paper, fetcher)
        with _render_lock:
            parts.append((document.write_pdf(), len(document.pages)))
        del document  # its boxes are the bulk of the memory; keep only the bytes
        if progress:
            progress(min(start + chunk, len(entries)), len(entries))
    pdf = parts[0][0] if len(parts) == 1 else _join([part for part, _pages in parts])
    seconds = time.perf_counter() - started
    from ..platform.observability import PDF_RENDER

    PDF_RENDER.labels(template.rsplit("/", 1)[-1].removesuffix(".html")).observe(seconds)
    return RenderedPdf(pdf=pdf, pages=sum(pages for _part, pages in parts), seconds=seconds)


def _join(parts: list[bytes]) -> bytes:
    """One PDF from several, pages in order (pypdf copies each part's pages and what they use)."""
    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def render_preview(template: str, context: dict, paper: str = "A4") -> str:
    """The same template as an HTML page for the browser (the admin's preview)."""
    return render_template(template, preview=True, paper=paper, **context)
