"""Printed and downloadable matter: QR codes and PDFs (placards, badges, certificates).

`render.render_pdf` is the one way a PDF is made; `batches` says what each document holds;
`certificates` issues and revokes certificates; `store` keeps rendered batches and runs the long
ones in the background; `views` is the organisers' printing blueprint.
"""
from __future__ import annotations

FIT_LIMITS = (24, 40, 70)


def fit_class(text: str | None, *limits: int) -> str:
    """The size step for user text: "fit-0" while it is short, one step smaller past each limit.

    Templates shrink long names with it (CSS gives each step a font size), so that a 120-character
    team name still fits its box instead of running off the page.
    """
    length = len(text or "")
    return f"fit-{sum(length > limit for limit in (limits or FIT_LIMITS))}"


def init_app(app) -> None:
    """Give templates the `qr(url, label)` inline SVG and the `fit` size filter."""
    from .qr import qr_svg_inline

    app.jinja_env.globals["qr"] = qr_svg_inline
    app.jinja_env.filters["fit"] = fit_class
