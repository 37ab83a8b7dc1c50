"""`expo mail ...`: queue invitations and team notices, run the delivery worker, print the outbox."""
from __future__ import annotations

import signal
import sys
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from ..actions import OperationError
from ..cli import _emit, _event, event_option, output_option
from ..extensions import db
from ..models import OutboxMessage


def _queued(operation, event, what: str) -> None:
    try:
        result = operation()
    except OperationError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"{what} for {event.name}: {result.summary()}")
    if result.queued:
        click.echo(delivery_hint(), err=True)


def delivery_hint() -> str:
    if current_app.config.get("MAIL_URL"):
        return "The worker (`expo mail send`) delivers them; `expo mail status` shows where each one is."
    return ("MAIL_URL is not set: `expo mail send --once` writes them as .eml files into "
            f"{current_app.instance_path}/mail (the organisers' Mail page shows them).")


@click.group("mail")
def mail():
    """E-mail: invite judges, tell teams their feedback is out, deliver the outbox."""


@mail.command("invite-judges")
@click.option("--resend", is_flag=True, help="Also judges already invited with their current badge.")
@event_option
@with_appcontext
def invite_judges(resend, event_selector):
    """Queue an invitation (sign-in link and QR code) for every judge not invited yet."""
    from .operations import queue_judge_invitations

    event = _event(event_selector)
    _queued(lambda: queue_judge_invitations(event, resend=resend), event, "Judge invitations")


@mail.command("teams")
@event_option
@with_appcontext
def notify_teams(event_selector):
    """Queue the feedback notices (and, once the awards are final, certificates) for every team member."""
    from .operations import queue_team_notices

    event = _event(event_selector)
    _queued(lambda: queue_team_notices(event), event, "Team notices")


def _check_settings() -> str:
    """What the worker delivers to; ClickException when the settings cannot work."""
    from .transport import MailConfigError, make_transport

    config = current_app.config
    if not config.get("MAIL_URL") and config.get("ENV_NAME") == "production":
        raise click.ClickException("MAIL_URL is not set: in production the worker needs an SMTP server "
                                   "(smtp://user:password@host:587). See README: E-mail.")
    if config.get("MAIL_URL") and not config.get("MAIL_FROM") and config.get("ENV_NAME") == "production":
        raise click.ClickException("MAIL_FROM is not set: the address the messages come from, e.g. "
                                   "'MLOps Expo <expo@example.org>'.")
    try:
        return make_transport(current_app).describe()
    except MailConfigError as exc:
        raise click.ClickException(str(exc)) from None


@mail.command("send")
@click.option("--once", is_flag=True, help="Try every message waiting now (backoff aside) once, then exit.")
@with_appcontext
def send(once):
    """Deliver the outbox: the worker. Without --once it keeps running until stopped (SIGTERM, Ctrl-C)."""
    where = _check_settings()
    stop = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):  # finish the message in hand, then stop
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    try:
        _send(once, where, stop)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _send(once: bool, where: str, stop: threading.Event) -> None:
    from .worker import _due, reading, run
    from ..models import utcnow

    if not once:
        click.echo(f"Delivering to {where}, at most {current_app.config['MAIL_RATE']:g} messages a second "
                   "(0: no limit). Stop with Ctrl-C or SIGTERM.", err=True)
        report = run(once=False, stop=stop)
        click.echo(f"Stopped: {report.sent} sent, {report.failed} failed, {report.retrying} to try again.", err=True)
        return
    with reading() as session:  # a read: on SQLite it must not take the write lock
        total = session.execute(db.select(db.func.count(OutboxMessage.id)).where(
            _due(utcnow(), current_app.config["MAIL_LEASE_S"], True))).scalar()
    with click.progressbar(length=total, label=f"Sending to {where}", show_pos=True, file=sys.stderr) as bar:
        def progress(report):
            bar.update(min(total, report.tried + report.dropped) - bar.pos)

        report = run(once=True, stop=stop, progress=progress)
    click.echo(f"{report.sent} sent, {report.failed} failed, {report.retrying} to try again later"
               + (f", {report.dropped} taken over by another worker" if report.dropped else "") + ".")
    if report.unreachable:
        click.echo(f"Stopped early: {report.unreachable}. The rest wait for the next try.", err=True)
        raise SystemExit(1)


@mail.command("status")
@event_option
@output_option
@with_appcontext
def status(event_selector, output):
    """CSV to,kind,status,attempts,last_error: every message of the event, oldest first."""
    from .status import status_csv

    _emit(status_csv(_event(event_selector)), output)
