"""Certificate verification: /v/<code>, printed on every certificate, for anyone who scans it."""
from flask import render_template

from ..documents.batches import long_date
from ..documents.certificates import find_certificate
from . import bp

# An employer's scan must see a revocation at once, and these pages are nobody's search result.
NO_CACHE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


@bp.route("/v/<string(maxlength=40):code>")
def verify_certificate(code):
    certificate = find_certificate(code)
    if certificate is None:
        return render_template("public/verify_unknown.html"), 404, NO_CACHE
    event = certificate.event
    page = render_template("public/verify.html", certificate=certificate, event=event,
                           event_date=long_date(event.held_on), issued=long_date(certificate.issued_at.date()),
                           revoked=long_date(certificate.revoked_at.date()) if certificate.revoked_at else "")
    return page, 200, NO_CACHE
