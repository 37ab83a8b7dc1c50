"""QR codes as SVG: crisp at any print size, and small enough to inline in a page or a PDF."""
from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def qr_svg(url: str) -> bytes:
    """An SVG QR code for `url`, with medium error correction (survives a crease or a smudge)."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4,
                       image_factory=qrcode.image.svg.SvgPathImage)
    qr.add_data(url)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer)
    return buffer.getvalue()
