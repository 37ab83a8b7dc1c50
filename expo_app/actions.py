"""The shared shape of a one-click POST button: check the CSRF form, run one operation, commit once."""
from __future__ import annotations

from typing import Callable

from flask import flash

from .extensions import db


class OperationError(ValueError):
    """An organiser asked for something that cannot be done; the message says why, for them."""


def run_confirmed(operation: Callable[[], object], success: str | Callable[[object], str]) -> None:
    """Run `operation` if the button's form is genuine; commit and flash `success`, or flash why not.

    `success` is a message, or a function of the operation's result that makes one.
    """
    from .admin.forms import ConfirmForm

    if not ConfirmForm().validate_on_submit():
        flash("This button's form had expired: nothing changed. Try again.", "error")
        return
    try:
        result = operation()
    except OperationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return
    db.session.commit()
    flash(success(result) if callable(success) else success, "success")
