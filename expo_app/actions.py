"""The shared shape of a one-click POST button: check the CSRF form, run one operation, commit once."""
from __future__ import annotations

from typing import Callable

from flask import flash

from .extensions import db


class OperationError(ValueError):
    """An organiser asked for something that cannot be done; the message says why, for them."""


def run_operation(operation: Callable[[], object], success: str | Callable[[object], str]) -> bool:
    """Run one operation: commit and flash `success`, or roll back and flash why not.

    `success` is a message, or a function of the operation's result that makes one. Returns
    whether the operation went through.
    """
    try:
        result = operation()
    except OperationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return False
    db.session.commit()
    flash(success(result) if callable(success) else success, "success")
    return True


def run_confirmed(operation: Callable[[], object], success: str | Callable[[object], str]) -> bool:
    """run_operation for a one-click button, once its form (CSRF) proves genuine."""
    from .admin.forms import ConfirmForm

    if not ConfirmForm().validate_on_submit():
        flash("This button's form had expired: nothing changed. Try again.", "error")
        return False
    return run_operation(operation, success)
