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
def qr_matrix(url: str, quiet: int = QUIET_ZONE) -> tuple[tuple[bool, ...], ...]:
    """The modules of `url`'s QR code (medium error correction), with `quiet` white modules around."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=quiet)
    qr.add_data(url)
    qr.make(fit=True)
    return tuple(tuple(row) for row in qr.get_matrix())


def qr_modules(url: str, quiet: int = QUIET_ZONE) -> int:
    """How many modules wide the drawn code is, with `quiet` modules of border (sets the module size)."""
    return len(qr_matrix(url, quiet))


@lru_cache(maxsize=4096)
def qr_svg_inline(url: str, label: str = "QR code", quiet: int = QUIET_ZONE) -> Markup:
    """An <svg> element for inlining in HTML or a PDF: one path, dark runs merged per row.

    Each run of dark modules is one stroked line ("M x y.5 h length", butt caps, width 1): the same
    squares as filled rectangles, in two path commands instead of five, which is what WeasyPrint
    spends its time parsing when a batch prints hundreds of codes. Its size comes from the CSS of
    the element around it (class "qr"); the URL only ever appears as geometry, never as text. A
    `quiet` border under the standard 4 is for a layout that keeps enough white paper around it.
    """
    matrix = qr_matrix(url, quiet)
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append(f"M{start} {y}.5h{x - start}")
            else:
                x += 1
    size = len(matrix)
    return Markup(
        f'<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges" role="img" aria-label="{Markup.escape(label)}">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="none" stroke="#000" stroke-width="1" d="{"".join(runs)}"/></svg>')
