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


def run_ticked(form, operation: Callable[[], object], success: str | Callable[[object], str]) -> bool:
    """run_operation for an action that asks for a ticked box (a TickedConfirmForm): without the tick,
    or with an expired form, nothing runs and the flash says why."""
    if not form.validate_on_submit():
        expired = "csrf_token" in form.errors
        for message in ([] if expired else form.understood.errors) or [EXPIRED]:
            flash(message, "error")
        return False
    return run_operation(operation, success)


def run_form(form, operation: Callable[[], object], success: str | Callable[[object], str], *fields) -> bool:
    """run_operation for a form with fields of its own (a reason, a text, a ticked box): when it does not
    validate, nothing runs and the flash gives each of `fields`' errors, or says the form had expired."""
    if not form.validate_on_submit():
        for message in [m for field in fields for m in field.errors] or [FORM_EXPIRED]:
            flash(message, "error")
        return False
    return run_operation(operation, success)


EXPIRED = "This button's form had expired: nothing changed. Try again."
FORM_EXPIRED = "This form had expired: nothing changed. Try again."
NOTHING_IMPORTED = "Nothing was imported. Fix these lines and upload the file again:"
SHOWN_IMPORT_ERRORS = 200


def import_refused(heading: str, errors) -> dict:
    """A refused upload's messages for the page itself (status 422), not for the cookie session."""
    lines = list(errors)
    if len(lines) > SHOWN_IMPORT_ERRORS:
        rest = len(lines) - SHOWN_IMPORT_ERRORS
        lines = lines[:SHOWN_IMPORT_ERRORS] + [f"… and {rest} more {'problem' if rest == 1 else 'problems'} "
                                               "after these. Fix these first, then import again."]
    return {"heading": heading, "lines": lines}


def release_lock_and_read(form) -> bytes:
    """The uploaded file's bytes, read and parsed outside any transaction.

    A POST starts with SQLite's write lock (BEGIN IMMEDIATE); ending that read-only start before a
    large file is parsed keeps judges' submits from waiting behind the parsing. The import then
    writes in one short transaction.
    """
    db.session.rollback()
    return form.file.data.read()
