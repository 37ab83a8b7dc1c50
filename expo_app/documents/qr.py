"""QR codes as SVG: crisp at any print size, and small enough to inline in a page or a PDF."""
from __future__ import annotations

import io
from functools import lru_cache

import qrcode
import qrcode.image.svg
from markupsafe import Markup
from qrcode.constants import ERROR_CORRECT_M

QUIET_ZONE = 4  # modules of white border the QR standard asks for


def qr_svg(url: str) -> bytes:
    """An SVG QR code for `url`, with medium error correction (survives a crease or a smudge)."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE,
                       image_factory=qrcode.image.svg.SvgPathImage)
    qr.add_data(url)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer)
    return buffer.getvalue()


@lru_cache(maxsize=4096)
def qr_matrix(url: str) -> tuple[tuple[bool, ...], ...]:
    """The modules of `url`'s QR code (medium error correction), quiet zone included."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE)
    qr.add_data(url)
    qr.make(fit=True)
    return tuple(tuple(row) for row in qr.get_matrix())


def qr_modules(url: str) -> int:
    """How many modules wide the printed code is, quiet zone included (sets the module size)."""
    return len(qr_matrix(url))


@lru_cache(maxsize=4096)
def qr_svg_inline(url: str, label: str = "QR code") -> Markup:
    """An <svg> element for inlining in HTML or a PDF: one path, dark runs merged per row.

    Its size comes from the CSS of the element around it (class "qr"); the URL itself only ever
    appears in the path's geometry, never as text, so it needs no escaping.
    """
    matrix = qr_matrix(url)
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    size = len(matrix)
    return Markup(
        f'<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges" role="img" aria-label="{Markup.escape(label)}">'
        f'<rect width="{size}" height="{size}" fill="#fff"/><path fill="#000" d="{"".join(runs)}"/></svg>')
