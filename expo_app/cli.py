"""The `expo` command: set-up, imports and exports. Every event command acts on the current event
unless --event names another (by id or by exact name)."""
from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
import sys
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, run_command, with_appcontext

from .extensions import db
from .models import Event

DEMO_ADMIN_EMAIL = "admin@example.org"


def _event(selector: str | None) -> Event:
    """The event a command acts on: the current one, or the one --event names. Says which on stderr."""
    from .admin.operations import current_event

    if selector is None:
        event = current_event()
        if event is None:
            raise click.ClickException("There is no current event. Run `expo seed-demo` or create one in the admin pages.")
    else:
        event = db.session.get(Event, int(selector)) if selector.isdigit() and len(selector) < 10 else None
        if event is None:
            event = db.session.execute(db.select(Event).where(Event.name == selector)).scalars().first()
        if event is None:
            raise click.ClickException(f"No event has the id or name {selector!r}.")
    click.echo(which_event(event, named=selector is not None), err=True)
    return event


SHOWN_OTHER_EVENTS = 10


def which_event(event: Event, named: bool) -> str:
    """The line that says which event a command used (on standard error, so that a CSV piped to a file
    stays clean), and, when none was named while others exist, which others there are."""
    others = db.session.execute(db.select(Event.id, Event.name, Event.is_current).where(Event.id != event.id)
                                .order_by(Event.id)).all()
    if named:
        current = next((o for o in others if o.is_current), None)
        where = "named with --event" + (", current" if event.is_current else "") \
            + (f"; the current event is {current.name}, id {current.id}" if current is not None else "")
        return f"Event: {event.name} (id {event.id}, {where})."
    line = f"Event: {event.name} (id {event.id}, current). Use --event ID|NAME for another."
    if not others:
        return line
    listed = ", ".join(f"{o.id} {o.name}" for o in others[:SHOWN_OTHER_EVENTS])
    more = len(others) - SHOWN_OTHER_EVENTS
    return (f"{line}\nNo event was named and {len(others) + 1} events exist, so the current one is used. "
            f"The others: {listed}" + (f", and {more} more" if more > 0 else "") + ".")


event_option = click.option("--event", "event_selector", default=None, metavar="ID|NAME",
                            help="Act on this event instead of the current one.")
output_option = click.option("-o", "--output", "--out", "output", type=click.Path(dir_okay=False, writable=True),
                             default=None,
                             help="Write to this file instead of standard output.")


def write_private(path: str | os.PathLike, content: str | bytes) -> None:
    """Write a file only its owner can read or write (0600, like the SQLite database): the files the
    commands write hold sign-in links, private notes, student ids or grades.

    The contents go into a new file in the same folder, created 0600, which is then renamed over the
    target: an existing file's wider permissions never apply to them, and whoever had the old file open
    cannot read them. A symbolic link, or something that is not a regular file (a pipe, /dev/stdout), is
    written through instead, as is a file whose folder cannot take a new one: a regular file is then
    narrowed to 0600 before anything is written into it. Text is written as UTF-8, line ends as given.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    target = Path(path)
    try:
        if target.is_symlink() or (target.exists() and not target.is_file()):
            _write_through(target, data)
            return
        try:
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        except PermissionError:
            if not target.is_file():
                raise
            _write_through(target, data)
            return
        try:
            with os.fdopen(handle, "wb") as stream:
                os.fchmod(stream.fileno(), 0o600)
                stream.write(data)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as exc:
        raise click.ClickException(f"Could not write {path}: {exc.strerror or exc}.") from None


def _write_through(target: Path, data: bytes) -> None:
    """Open the target itself (emptied, or created 0600); a regular file is made 0600 before it is written."""
    with open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as stream:
        if stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            os.fchmod(stream.fileno(), 0o600)
        stream.write(data)


def _emit(text: str, output: str | None) -> None:
    if output:
        write_private(output, text)
        click.echo(f"Wrote {output}", err=True)
    else:
        sys.stdout.write(text)


@click.command("init-db")
@with_appcontext
def init_db():
    """Create or upgrade the database schema (Alembic migrations)."""
    from flask_migrate import upgrade

    upgrade()
    click.echo("Database is up to date.")


@click.command("create-admin")
@click.argument("email")
@click.password_option("--password", prompt="Password (10+ characters)", help="Prompted for when omitted.")
@with_appcontext
def create_admin(email, password):
    """Create an organiser account, or reset its password."""
    from .auth.operations import create_or_reset_admin
    from .auth.throttle import clear_account
    from .links import public_url

    try:
        admin = create_or_reset_admin(email, password)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    address = admin.email
    db.session.commit()
    # The sign-in limits' failures for this account are forgotten, from every address (after the
    # commit, with no transaction open: on SQLite the session would hold the write lock they need).
    clear_account(address)
    click.echo(f"Admin {address} can sign in at {public_url('/admin/login')}")


@click.command("seed-demo")
@click.option("--with-scores", is_flag=True, help="Also fill in scores from the demo judges.")
@with_appcontext
def seed_demo(with_scores):
    """Create the demo expo (12 teams, 6 judges, an admin) if the database has no event yet."""
    from .demo import seed_demo_event

    if db.session.execute(db.select(db.func.count(Event.id))).scalar():
        click.echo("The database already holds an event: nothing seeded.")
        return
    # The demo login is kept in the instance folder, which production does not create by itself:
    # made first, so that a seeded demo never ends up with a password nobody was told.
    Path(current_app.instance_path).mkdir(mode=0o700, parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    event = seed_demo_event(DEMO_ADMIN_EMAIL, password, with_scores=with_scores)
    db.session.commit()
    # Kept (owner-only) in the instance folder so `make run` can print the demo login again; one
    # file per database, so seeding another database never replaces the development one's.
    write_private(_demo_credentials_file(), f"{DEMO_ADMIN_EMAIL}\n{password}\n")
    click.echo(f"Seeded {event.name}: {len(event.teams)} teams, {len(event.judges)} judges"
               + (", with scores." if with_scores else "."))


@click.command("sign-in-info")
@event_option
@with_appcontext
def sign_in_info(event_selector):
    """Print the admin login (demo) and every judge's sign-in link for the event."""
    from .admin.exports import judge_sign_in_url
    from .links import public_url
    from .site_settings import DEFAULT, public_base_url

    click.echo(f"\nAdmin pages: {public_url('/admin/login')}")
    login = _demo_login()
    if login:
        click.echo(f"  e-mail:   {login[0]}\n  password: {login[1]}")
    else:
        click.echo("  (create an organiser account, or reset the demo one, with `expo create-admin EMAIL`)")
    event = _event(event_selector)
    click.echo(f"\nJudge sign-in links for {event.name} (scoring is {event.scoring_state}):")
    for judge in event.judges:
        if judge.revoked_at is None:
            click.echo(f"  {judge.name:<24} {judge_sign_in_url(judge)}")
    address = public_base_url()
    if address.source == DEFAULT:
        click.echo(f"\nThese links start with {address.url}, which only this machine reaches. For phones, set the "
                   f"address they reach on the Site settings page ({public_url('/admin/settings')}) or in "
                   "PUBLIC_BASE_URL.")
    click.echo("")


def _demo_credentials_file() -> Path:
    """instance/demo-admin.txt for the instance's own SQLite database; another database's demo
    login is kept beside it under a name made from that database's address."""
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    default = "sqlite:///" + str(Path(current_app.instance_path) / "expo.sqlite")
    if uri == default:
        return Path(current_app.instance_path) / "demo-admin.txt"
    return Path(current_app.instance_path) / f"demo-admin-{hashlib.sha256(uri.encode()).hexdigest()[:12]}.txt"


def _demo_login() -> tuple[str, str] | None:
    """The demo login kept for this database, if it still signs in there (else None: never print a
    password that does not work)."""
    from .models import AdminUser

    creds = _demo_credentials_file()
    if not creds.exists():
        return None
    try:
        email, password = creds.read_text().split()[:2]
    except ValueError:
        return None
    admin = db.session.execute(db.select(AdminUser).where(AdminUser.email == email)).scalar_one_or_none()
    return (email, password) if admin is not None and admin.check_password(password) else None


def _import(parse, apply, file, event_selector, noun):
    from .admin.csv_import import CsvImportError

    event = _event(event_selector)
    try:
        added, updated = apply(event, parse(Path(file).read_bytes()))
    except CsvImportError as exc:
        _refuse_file(file, exc)
    db.session.commit()
    click.echo(f"Imported {noun} into {event.name}: {added} added, {updated} updated.")


def _refuse_file(file, exc) -> None:
    """A file refused as a whole: roll back, list every problem (each names its line), exit 1."""
    db.session.rollback()
    click.echo(f"Nothing was imported from {file}:", err=True)
    for message in exc.errors:
        click.echo(f"  {message}", err=True)
    raise SystemExit(1) from None


@click.command("import-teams")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@event_option
@with_appcontext
def import_teams(file, event_selector):
    """Import teams from CSV (team,project,table,member,email; optional student_id, present, companies),
    all or nothing. Columns separated by commas, semicolons or tabs."""
    from .admin.csv_import import parse_teams_csv
    from .admin.operations import import_teams as apply

    _import(parse_teams_csv, apply, file, event_selector, "teams")


@click.command("import-judges")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@event_option
@with_appcontext
def import_judges(file, event_selector):
    """Import judges from CSV (name,email,affiliation), all or nothing."""
    from .admin.csv_import import parse_judges_csv
    from .admin.operations import import_judges as apply

    _import(parse_judges_csv, apply, file, event_selector, "judges")


@click.command("judge-links")
@event_option
@output_option
@with_appcontext
def judge_links(event_selector, output):
    """CSV judge,email,url: each judge's current sign-in link."""
    from .admin.exports import judge_links_csv

    _emit(judge_links_csv(_event(event_selector)), output)


@click.command("team-links")
@event_option
@output_option
@with_appcontext
def team_links(event_selector, output):
    """CSV team,table,qr_url: the URL each team's table QR code carries."""
    from .admin.exports import team_links_csv

    _emit(team_links_csv(_event(event_selector)), output)


@click.command("export-scores")
@event_option
@output_option
@with_appcontext
def export_scores(event_selector, output):
    """CSV judge,team,criterion,score,absent,updated_at: every raw score."""
    from .admin.exports import scores_csv

    _emit(scores_csv(_event(event_selector)), output)


@click.command("rank")
@click.argument("scores_file", required=False, type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--criteria", "criteria_file", type=click.Path(exists=True, dir_okay=False),
              help="CSV name,weight,min,max (needed with SCORES_FILE).")
@click.option("--method", type=click.Choice(["adjusted", "raw"]), default="adjusted", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the uncertainty intervals.")
@event_option
@output_option
@with_appcontext
def rank(scores_file, criteria_file, method, seed, event_selector, output):
    """Rank teams as CSV: from SCORES_FILE (judge,team,criterion,score) and --criteria, or from the event."""
    from .scoring import rank_teams
    from .scoring.csvio import CsvError, format_ranking_csv, read_criteria_csv, read_scores_csv

    if scores_file:
        if not criteria_file:
            raise click.UsageError("With a scores file, give the rubric too: --criteria CRITERIA.csv")
        try:
            criteria = read_criteria_csv(Path(criteria_file).read_text(encoding="utf-8-sig"))
        except CsvError as exc:
            raise click.ClickException(f"{criteria_file}: {exc}") from None
        try:
            with click.open_file(scores_file, encoding="utf-8-sig") as handle:
                rows = read_scores_csv(handle.read())
        except CsvError as exc:
            raise click.ClickException(f"{scores_file}: {exc}") from None
    else:
        from .results.queries import engine_input

        data = engine_input(_event(event_selector))
        rows, criteria = data.rows, data.criteria
    try:
        teams = rank_teams(rows, criteria, method=method, seed=seed)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    _emit(format_ranking_csv(teams), output)


@click.command("print")
@click.argument("kind", type=click.Choice(["placards", "badges", "certificates", "participation", "slips"]))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True), help="The PDF file to write.")
@click.option("--judge", "judge_selector", default=None, metavar="ID|EMAIL", help="Badges: only this judge's badge.")
@click.option("--fresh", is_flag=True, help="Render again even when the kept PDF is up to date.")
@event_option
@with_appcontext
def print_documents(kind, out, judge_selector, fresh, event_selector):
    """Write a PDF: table placards, judge badges, award or participation certificates, team feedback slips."""
    from .documents.batches import build_batch
    from .documents.store import is_fresh, keep_pdf, kept_document, render_batch

    event = _event(event_selector)
    judge = None
    if judge_selector is not None:
        if kind != "badges":
            raise click.UsageError("--judge goes with badges.")
        judge = next((j for j in event.judges if str(j.id) == judge_selector or j.email == judge_selector.lower()), None)
        if judge is None:
            raise click.ClickException(f"{event.name} has no judge with the id or e-mail {judge_selector!r}.")
        if judge.revoked_at is not None:
            raise click.ClickException(f"{judge.name}'s badge is withdrawn: put it back in service first.")
    batch = build_batch(event, kind, judge=judge)
    if batch.blocked:
        db.session.rollback()
        raise click.ClickException(batch.blocked)
    event_id = event.id
    kept = kept_document(event_id, kind, with_pdf=True) if batch.kind.cacheable else None
    fresh_pdf = kept.pdf if is_fresh(kept, batch) and not fresh else None
    finished_at, kept_pages = (kept.finished_at, kept.pages_total) if fresh_pdf else (None, 0)
    db.session.commit()  # keeps the certificates this issued; no transaction while pages are laid out
    if fresh_pdf is not None:
        write_private(out, fresh_pdf)
        click.echo(f"Wrote {out}: {kept_pages} pages, unchanged since {finished_at:%Y-%m-%d %H:%M} UTC "
                   "(--fresh renders again).")
        return
    with click.progressbar(length=len(batch.items), label=f"{batch.kind.title}", show_pos=True,
                           file=sys.stderr) as bar:
        def progress(done, _total):
            bar.update(done - bar.pos)

        result = render_batch(batch, progress)
    write_private(out, result.pdf)
    if batch.kind.cacheable:
        keep_pdf(event_id, batch, result, "cli: expo print")
        db.session.commit()
    pages = f"{result.pages} page{'' if result.pages == 1 else 's'}"
    click.echo(f"Wrote {out}: {pages} in {result.seconds:.1f} s ({result.pages / result.seconds:.0f} pages/s).")


@click.command("export-grades")
@click.option("--format", "fmt", type=click.Choice(["csv", "excel-csv", "canvas", "moodle"]), default="csv",
              show_default=True, help="excel-csv: the csv columns with a UTF-8 byte order mark, so that Excel shows "
                                      "accented names right.")
@click.option("--draft", is_flag=True, help="Before the awards are final: export from the live ranking, every row DRAFT.")
@click.option("--assignment", default=None, help="The grade column's name (Canvas and Moodle). Default: the event's name.")
@event_option
@output_option
@with_appcontext
def export_grades(fmt, draft, assignment, event_selector, output):
    """One grade row per team member, from the final awards (csv, excel-csv, canvas or moodle)."""
    from .actions import OperationError
    from .results.grades import export_grades as build

    try:
        text = build(_event(event_selector), fmt, draft=draft, assignment=assignment)
    except OperationError as exc:
        raise click.ClickException(str(exc).replace("export a draft", "export a draft with --draft")) from None
    _emit(text, output)


@click.command("export-event")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@event_option
@with_appcontext
def export_event(file, event_selector):
    """Write one event completely (settings, rubric, teams, judges, scores and audit, awards) as JSON."""
    from .portability import dumps, export_event as build

    event = _event(event_selector)
    write_private(file, dumps(build(event)))
    click.echo(f"Wrote {event.name} to {file}. It holds no sign-in link, feedback link or certificate code, but "
               "it does hold private notes and student ids: keep it private. Imported where SECRET_KEY is the same, "
               "every printed badge, feedback slip and certificate keeps working for the same person.")


@click.command("import-event")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_event(file):
    """Restore an event from `expo export-event`'s JSON, all or nothing (into an empty database too)."""
    from .portability import EventFileError, import_event as restore, read_event_file

    _create_tables_if_none()
    try:
        try:
            text = Path(file).read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise EventFileError("The file is not UTF-8 text, so it is not an event file made by "
                                 "`expo export-event`.") from None
        data = read_event_file(text)
        event = restore(data)
    except EventFileError as exc:
        db.session.rollback()
        raise click.ClickException(f"Nothing was imported from {file}: {exc}") from None
    db.session.commit()
    if data["schema"] >= 11:
        paper = ("Printed badges, feedback slips and certificates keep working for the same people, provided this "
                 "server's SECRET_KEY is the one they were printed under. The teams' table QR codes are unchanged.")
    else:
        paper = ("The file is from before printed identities were exported: judge badges, team feedback links and "
                 "certificate codes are new, so print the badges and slips again. The teams' table QR codes are "
                 "unchanged.")
    click.echo(f"Imported {event.name} (id {event.id}): {len(event.teams)} teams, {len(event.judges)} judges. {paper}")
    _say_how_to_add_an_organiser()


def _create_tables_if_none() -> None:
    """A database without tables gets them first, as `expo init-db` makes them (the migrations)."""
    from flask_migrate import upgrade

    # Through the session's own connection: on SQLite a second connection would wait for the write
    # lock this command's transaction already holds.
    if "event" in db.inspect(db.session.connection()).get_table_names():
        return
    db.session.rollback()  # the migrations run on their own connection
    upgrade()
    click.echo("The database had no tables: created them (as `expo init-db` does).")


def _say_how_to_add_an_organiser() -> None:
    from .models import AdminUser

    if not db.session.execute(db.select(db.func.count(AdminUser.id))).scalar():
        click.echo("No organiser can sign in to this database yet: add one with `expo create-admin EMAIL`.")


@click.command("assign")
@click.option("--per-team", "per_team", type=click.IntRange(min=1), default=None,
              help="Judges per team (k); default: the event's setting.")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="The same seed gives the same plan.")
@click.option("--new", "new", is_flag=True, help="Start over instead of keeping the plan in force where it holds.")
@event_option
@with_appcontext
def assign(per_team, seed, new, event_selector):
    """Plan which judges visit which teams (scored visits always stay), and print the figures."""
    from .actions import OperationError
    from .assignments.operations import make_plan

    event = _event(event_selector)
    try:
        plan = make_plan(event, k=per_team, seed=seed, replan=not new and event.planned_at is not None)
    except OperationError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    s = plan.summary()
    names = {t.id: f"table {t.table_number} ({t.name})" for t in event.teams}
    click.echo(f"Planned {event.name}: {s['teams']} teams, {s['judges']} judges, k = {s['k']}.")
    click.echo(f"  judges per team {s['min_per_team']}-{s['max_per_team']}, teams per judge "
               f"{s['min_load']}-{s['max_load']}, connectivity {s['connectivity']:.3f} "
               f"({s['components']} part{'s' if s['components'] != 1 else ''}), mean walk {s['mean_walk']:.1f}"
               + (f", {s['changed']} visits changed" if plan.changed else ""))
    for short in plan.shortfalls:
        click.echo(f"  {names[short.team]}: {short.judges} of {short.wanted} judges, because {short.reason}.")
    for note in plan.notes:
        click.echo(f"  {note}")


@click.command("export-assignments")
@event_option
@output_option
@with_appcontext
def export_assignments(event_selector, output):
    """The plan as CSV: judge (e-mail), team (table number), order."""
    from .assignments.operations import export_csv

    _emit(export_csv(_event(event_selector)), output)


@click.command("import-assignments")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@event_option
@with_appcontext
def import_assignments(file, event_selector):
    """Replace the plan with one made by hand (judge,team,order), all or nothing."""
    from .assignments.operations import AssignmentImportError, import_csv

    event = _event(event_selector)
    try:
        count = import_csv(event, Path(file).read_bytes())
    except AssignmentImportError as exc:
        _refuse_file(file, exc)
    db.session.commit()
    click.echo(f"Imported the plan of {event.name}: {count} visits.")


from .mail.cli import mail  # noqa: E402 - after the helpers above, which it uses

COMMANDS = [mail, assign, export_assignments, import_assignments, export_event, import_event, export_grades, print_documents, rank, init_db, create_admin, seed_demo, sign_in_info, import_teams, import_judges, judge_links, team_links,
            export_scores]


def register_commands(app) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app():
    from . import create_app

    return create_app()


main = FlaskGroup(name="expo", create_app=_create_app, add_version_option=False,
                  help="Expo Judge: set up, import, export. See docs/organiser-guide.md for the whole reference.")

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@click.command("run", params=run_command.params, help=run_command.help, short_help=run_command.short_help)
@click.pass_context
def run_development_server(ctx, **options):
    """Flask's development server, with a warning when it listens beyond this machine."""
    host = options.get("host") or "127.0.0.1"
    if host not in LOOPBACK and options.get("cert") is None:
        click.secho(f"Warning: serving on {host} over plain HTTP. Sign-in cookies (organisers' and judges') "
                    "cross the network unencrypted: anyone on the same Wi-Fi can read them. Use this only to try "
                    "the app from a phone; for an expo, deploy behind HTTPS (docs/deployment.md).",
                    fg="yellow", err=True)
    ctx.invoke(run_command, **options)


main.add_command(run_development_server)
