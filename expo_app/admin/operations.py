"""What organisers do to an event. Operations change ORM objects and flush; views commit once."""
from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..actions import OperationError
from ..audit import changes, record
from ..documents.certificates import refresh_certificate_texts, withdraw_certificates_of
from ..extensions import db
from ..models import (SCORING_STATES, Award, Criterion, CriterionLevel, Event, Judge, Score, ScoreValue, SiteSetting,
                      Team, TeamMember, utcnow)
from ..scoring.rubric import format_descriptors, parse_descriptors
from ..site_settings import (PUBLIC_BASE_URL, BaseUrlError, forget_public_base_url, normalise_base_url,
                             saved_setting)
from .csv_import import CsvImportError, JudgeRow, MemberRow, TeamRow

# The four judging criteria of the MLOps Innovation Expo (syllabus), each on a 1-5 scale.
DEFAULT_RUBRIC = [
    ("Technical completeness and correctness",
     "Does the deployed system work end to end, and is it built correctly?",
     ["Little works; major parts of the pipeline are missing or broken.",
      "Parts work in isolation; the end-to-end path fails or is faked.",
      "Works end to end with noticeable gaps or errors.",
      "Complete and correct, with minor rough edges.",
      "Complete, correct and robust; handles failure cases well."]),
    ("System scalability, observability and reproducibility",
     "Can it scale, can you see what it is doing, and can it be rebuilt from scratch?",
     ["No monitoring, manual steps, cannot be reproduced.",
      "Some logging; rebuilding needs the authors.",
      "Basic dashboards and scripted deployment; scaling untested.",
      "Monitoring with alerts, CI/CD, reproducible builds; scaling considered.",
      "Drift and performance monitored with retraining triggers; reproducible and shown to scale."]),
    ("Team collaboration and presentation clarity",
     "Is the demo clear, and did the whole team build and explain it?",
     ["Hard to follow; one person carries everything.",
      "Understandable with effort; uneven contributions.",
      "Clear overall; some questions left unanswered.",
      "Clear, well paced, answers questions; the team shares the work.",
      "Compelling and precise; every member explains their part with confidence."]),
    ("Innovation and relevance of the ML solution",
     "Is the problem worth solving, and is the approach fresh?",
     ["No clear problem or use of ML.",
      "A textbook exercise with little relevance.",
      "A sensible application of standard methods.",
      "A relevant problem with a thoughtful, somewhat novel approach.",
      "An original, high-impact solution that industry would want."]),
]

# Scoring moves forward through the expo; "locked" is final because certificates and grades
# are built from it (the page asks for a ticked confirmation), straight from open too. Closed can
# reopen (a judge arrived late); draft is only for set-up.
STATE_TRANSITIONS = {
    "draft": {"open"},
    "open": {"closed", "locked"},
    "closed": {"open", "locked"},
    "locked": set(),
}


def create_event(name: str, held_on: date | None = None, venue: str = "", judges_per_team: int | None = None,
                 with_default_rubric: bool = True) -> Event:
    """A new event in draft, with the syllabus rubric unless asked otherwise; current if it is the first.

    Without `judges_per_team`, the model's default (4)."""
    event = Event(name=name.strip(), held_on=held_on, venue=venue.strip())
    if judges_per_team is not None:
        event.judges_per_team = judges_per_team
    if db.session.execute(db.select(db.func.count(Event.id))).scalar() == 0:
        event.is_current = True
    db.session.add(event)
    if with_default_rubric:
        for position, (cname, description, levels) in enumerate(DEFAULT_RUBRIC):
            criterion = Criterion(name=cname, description=description, weight=1.0, scale_min=1, scale_max=5,
                                  position=position)
            criterion.levels = [CriterionLevel(low=i + 1, high=i + 1, text=t) for i, t in enumerate(levels)]
            event.criteria.append(criterion)
        db.session.flush()
        from ..results.operations import add_default_award_categories

        add_default_award_categories(event)
    db.session.flush()
    record(event, "events", "event created", event.name,
           {"held on": event.held_on, "venue": event.venue, "judges per team": event.judges_per_team,
            "syllabus rubric": with_default_rubric})
    return event


def set_current_event(event: Event) -> None:
    """Make `event` the one the admin pages and CLI act on by default."""
    was_current = event.is_current
    db.session.execute(db.update(Event).where(Event.id != event.id).values(is_current=False))
    event.is_current = True
    db.session.flush()
    if not was_current:
        record(event, "events", "event made current", event.name)


def current_event() -> Event | None:
    return db.session.execute(db.select(Event).where(Event.is_current.is_(True))).scalars().first()


def change_scoring_state(event: Event, new_state: str) -> None:
    """Move scoring to `new_state` if STATE_TRANSITIONS allows it."""
    if new_state not in SCORING_STATES:
        raise OperationError(f"'{new_state}' is not a scoring state.")
    if new_state == event.scoring_state:
        return
    if new_state not in STATE_TRANSITIONS[event.scoring_state]:
        raise OperationError(f"Scoring cannot go from {event.scoring_state} to {new_state}.")
    if new_state == "open" and not event.criteria:
        raise OperationError("Add at least one rubric criterion before opening scoring.")
    old_state, event.scoring_state = event.scoring_state, new_state
    db.session.flush()
    action = {"open": "scoring reopened" if old_state == "closed" else "scoring opened",
              "closed": "scoring closed", "locked": "scoring locked"}[new_state]
    record(event, "scoring", action, event.name, {"from": old_state, "to": new_state})


# The event's settings, with the words the audit log uses for them.
EVENT_SETTINGS = {"name": "name", "held_on": "date", "venue": "venue", "judges_per_team": "judges per team",
                  "paper_size": "paper", "instructor_name": "certificates signed by",
                  "instructor_title": "signer's title", "feedback_named": "judges named to the teams",
                  "grade_scale": "letter scale", "conflicted_may_score": "judges with a known conflict may score"}


def save_event_settings(event: Event, **settings) -> None:
    """Change the event's settings (any of EVENT_SETTINGS); the changed ones go to the audit log."""
    unknown = set(settings) - set(EVENT_SETTINGS)
    if unknown:
        raise TypeError(f"not event settings: {', '.join(sorted(unknown))}")
    def logged(field, value):
        if field == "grade_scale":  # as the organiser types it: "A 93, B 90, ..."
            return "the syllabus scale" if value is None else ", ".join(f"{letter} {minimum:g}" for letter, minimum in value)
        return value

    before = {EVENT_SETTINGS[field]: logged(field, getattr(event, field)) for field in settings}
    for field, value in settings.items():
        setattr(event, field, value)
    db.session.flush()
    changed = changes(before, {EVENT_SETTINGS[field]: logged(field, value) for field, value in settings.items()})
    if changed:
        record(event, "settings", "event settings edited", event.name, changed)


def event_has_scores(event: Event) -> bool:
    return db.session.execute(
        db.select(db.func.count(Score.id)).join(Judge).where(Judge.event_id == event.id)).scalar() > 0


def save_criterion(event: Event, criterion: Criterion | None, *, name: str, description: str, weight: float,
                   scale_min: int, scale_max: int, descriptors: str) -> Criterion:
    """Add or edit a criterion. Once scores exist its scale is frozen: old scores were given on it."""
    _check_rubric_open(event)
    bands, errors = parse_descriptors(descriptors or "", scale_min, scale_max)
    if errors:
        raise OperationError("Level descriptors: " + " ".join(errors))
    if scale_min >= scale_max:
        raise OperationError("The scale's lowest level must be below its highest.")
    if weight <= 0:
        raise OperationError("The weight must be more than zero.")
    clash = db.session.execute(db.select(Criterion).where(
        Criterion.event_id == event.id, db.func.lower(Criterion.name) == name.strip().lower())).scalar_one_or_none()
    if clash is not None and clash is not criterion:
        raise OperationError(f"The rubric already has a criterion called {clash.name}.")
    if event_has_scores(event):
        if criterion is None:
            raise OperationError("Scores already exist, so the rubric cannot gain a criterion: "
                                 "their sheets would be incomplete.")
        if (criterion.scale_min, criterion.scale_max) != (scale_min, scale_max):
            raise OperationError("Scores already exist, so this criterion's scale cannot change.")
    before = None if criterion is None else _criterion_fields(criterion)
    if criterion is None:
        position = max((c.position for c in event.criteria), default=-1) + 1
        criterion = Criterion(position=position)
        event.criteria.append(criterion)
    criterion.name = name.strip()
    criterion.description = description.strip()
    criterion.weight = weight
    criterion.scale_min, criterion.scale_max = scale_min, scale_max
    criterion.levels = [CriterionLevel(low=lo, high=hi, text=text) for lo, hi, text in bands]
    db.session.flush()
    after = _criterion_fields(criterion)
    if before is None:
        record(event, "rubric", "criterion added", criterion.name,
               {"weight": criterion.weight, "scale": after["scale"]})
    elif changed := changes(before, after):
        record(event, "rubric", "criterion edited", criterion.name, changed)
    return criterion


def _criterion_fields(criterion: Criterion) -> dict:
    """A criterion as the audit log compares it."""
    return {"name": criterion.name, "description": criterion.description, "weight": criterion.weight,
            "scale": f"{criterion.scale_min}-{criterion.scale_max}",
            "descriptors": format_descriptors(criterion.bands)}


def _check_rubric_open(event: Event) -> None:
    # Locked scores are final, and so is the rubric that weighs them into the ranking.
    if event.scoring_state == "locked":
        raise OperationError("Scoring is locked, so the rubric can no longer change.")


def delete_criterion(criterion: Criterion) -> None:
    _check_rubric_open(criterion.event)
    used = db.session.execute(
        db.select(db.func.count(ScoreValue.id)).where(ScoreValue.criterion_id == criterion.id)).scalar()
    if used:
        raise OperationError(f"{criterion.name} has {used} scores and cannot be removed.")
    record(criterion.event, "rubric", "criterion deleted", criterion.name,
           {"weight": criterion.weight, "scale": f"{criterion.scale_min}-{criterion.scale_max}"})
    db.session.delete(criterion)
    db.session.flush()


def parse_members(text: str) -> list[MemberRow]:
    """Members typed one per line as `Name <email>` (optionally followed by the student id) or `Name, email`."""
    from .csv_import import EMAIL, MAX_EMAIL, MAX_NAME, MAX_STUDENT_ID

    members, errors, seen = [], [], set()
    for lineno, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        student_id = ""
        if "<" in line and ">" in line:
            before, _, student_id = line.rpartition(">")
            name, _, email = before.rpartition("<")
            student_id = student_id.strip().lstrip(",;").strip()
        else:
            name, _, email = line.rpartition(",")
        name, email = name.strip().strip(","), email.strip().lower()
        if len(name) > MAX_NAME or len(email) > MAX_EMAIL or len(student_id) > MAX_STUDENT_ID:
            errors.append(f"Member line {lineno}: names have at most {MAX_NAME} characters, "
                          f"e-mails at most {MAX_EMAIL}, student ids at most {MAX_STUDENT_ID}.")
        elif not name or not EMAIL.match(email):
            errors.append(f"Member line {lineno}: write it as 'Name <email>'.")
        elif email in seen:
            errors.append(f"Member line {lineno}: {email} is listed twice.")
        else:
            seen.add(email)
            members.append(MemberRow(name, email, lineno, student_id))
    if errors:
        raise OperationError(" ".join(errors))
    return members


def save_team(event: Event, team: Team | None, *, name: str, project: str, table_number: int,
              members: list[tuple[str, str]] | None, companies: str | None = None) -> Team:
    """Add or edit a team; names and table numbers are unique within the event.

    `members` replaces the team's members; None leaves them as they are.
    """
    name = name.strip()
    tidy_companies = None
    if companies is not None:
        tidy_companies = "; ".join(part.strip() for part in companies.replace(",", ";").split(";") if part.strip())
        if len(tidy_companies) > 300:
            raise OperationError("The companies list is too long: at most 300 characters once written as "
                                 "'A; B; C'. Keep the companies whose judges would have a conflict.")
    for other in event.teams:
        if other is team:
            continue
        if other.name.casefold() == name.casefold():
            raise OperationError(f"There is already a team called {other.name}.")
        if other.table_number == table_number:
            raise OperationError(f"Table {table_number} is already {other.name}'s.")
    before = None if team is None else _team_fields(team)
    if team is None:
        team = Team(event=event)
        db.session.add(team)
    team.name, team.project, team.table_number = name, project.strip(), table_number
    if tidy_companies is not None:
        team.companies = tidy_companies
    if members is not None:
        _set_members(team, members, replace=True)
    db.session.flush()
    after = _team_fields(team)
    if before is None:
        record(event, "teams", "team added", team.name,
               {"table": team.table_number, "project": team.project, "members": len(team.members)})
    else:
        changed = changes({k: v for k, v in before.items() if k != "members"},
                          {k: v for k, v in after.items() if k != "members"})
        added = [m for m in after["members"] if m not in before["members"]]
        removed = [m for m in before["members"] if m not in after["members"]]
        if added:
            changed["members added"] = added
        if removed:
            changed["members removed"] = removed
        if changed:
            record(event, "teams", "team edited", team.name, changed)
            refresh_certificate_texts([team])
    return team


def _team_fields(team: Team) -> dict:
    """A team as the audit log compares it."""
    return {"name": team.name, "project": team.project, "table": team.table_number, "companies": team.companies,
            "members": [f"{m.name} <{m.email}>" + (f" {m.student_id}" if m.student_id else "") for m in team.members]}


def _set_members(team: Team, members, replace: bool) -> None:
    """Add or update members by e-mail; a student id or presence of None leaves the member's as it is."""
    by_email = {m.email: m for m in team.members}
    for data in members:
        data = data if isinstance(data, MemberRow) else MemberRow(*data)
        member = by_email.pop(data.email, None)
        if member is None:
            member = TeamMember(email=data.email, student_id="", present=True)
            team.members.append(member)
        member.name = data.name
        if data.student_id is not None:
            member.student_id = data.student_id
        if data.present is not None:
            member.present = data.present
    if replace and by_email:
        withdrawn = withdraw_certificates_of(list(by_email.values()),
                                             f"{', '.join(m.name for m in by_email.values())} left {team.name}")
        for gone in by_email.values():
            team.members.remove(gone)
        if withdrawn:
            record(team.event_id, "certificates", "certificates withdrawn", team.name,
                   {"certificates": withdrawn, "members removed": [m.name for m in by_email.values()]})


def reissue_feedback_link(team: Team) -> Team:
    """A new feedback link for the team (print a new slip): every older link stops working."""
    team.feedback_version += 1
    team.feedback_revoked_at = None
    db.session.flush()
    record(team.event_id, "teams", "feedback link reissued", team.name)
    from ..mail.operations import renotify_after_reissue

    renotify_after_reissue(team)  # members told by e-mail get the new link by e-mail too
    return team


def set_feedback_link_withdrawn(team: Team, withdrawn: bool) -> Team:
    """Switch the team's feedback link off (every version) or back on."""
    if (team.feedback_revoked_at is not None) == withdrawn:
        return team  # already so (a double submit): nothing changes
    team.feedback_revoked_at = utcnow() if withdrawn else None
    db.session.flush()
    record(team.event_id, "teams", "feedback link withdrawn" if withdrawn else "feedback link restored", team.name)
    return team


def set_member_present(member: TeamMember, present: bool) -> TeamMember:
    """Mark a member present at the expo or not (not present: no Expo grade, no participation certificate)."""
    if member.present == present:
        return member
    member.present = present
    db.session.flush()
    record(member.team.event_id, "teams", "member marked present" if present else "member marked not present",
           f"{member.team.name}: {member.name}")
    return member


def delete_team(team: Team) -> None:
    scored = db.session.execute(db.select(db.func.count(Score.id)).where(Score.team_id == team.id)).scalar()
    if scored:
        raise OperationError(f"{team.name} has {scored} score sheets, so it cannot be removed.")
    awarded = db.session.execute(db.select(db.func.count(Award.id)).where(Award.team_id == team.id)).scalar()
    if awarded:
        raise OperationError(f"{team.name} holds {awarded} award{'s' if awarded != 1 else ''}: undo the decision first.")
    record(team.event_id, "teams", "team deleted", team.name,
           {"table": team.table_number, "project": team.project, "members": len(team.members)})
    withdrawn = withdraw_certificates_of(list(team.members), f"{team.name} was removed from the event")
    if withdrawn:
        record(team.event_id, "certificates", "certificates withdrawn", team.name, {"certificates": withdrawn})
    db.session.delete(team)
    db.session.flush()


def save_judge(event: Event, judge: Judge | None, *, name: str, email: str, affiliation: str) -> Judge:
    email = email.strip().lower()
    clash = db.session.execute(
        db.select(Judge).where(Judge.event_id == event.id, Judge.email == email)).scalar_one_or_none()
    if clash is not None and clash is not judge:
        raise OperationError(f"{clash.name} already uses {email}.")
    before = None if judge is None else _judge_fields(judge)
    if judge is None:
        judge = Judge(event=event)
        db.session.add(judge)
    judge.name, judge.email, judge.affiliation = name.strip(), email, affiliation.strip()
    db.session.flush()
    if before is None:
        record(event, "judges", "judge added", judge.name, {"email": judge.email, "affiliation": judge.affiliation})
    elif changed := changes(before, _judge_fields(judge)):
        record(event, "judges", "judge edited", judge.name, changed)
    return judge


def _judge_fields(judge: Judge) -> dict:
    return {"name": judge.name, "email": judge.email, "affiliation": judge.affiliation}


def delete_judge(judge: Judge) -> None:
    scored = db.session.execute(db.select(db.func.count(Score.id)).where(Score.judge_id == judge.id)).scalar()
    if scored:
        raise OperationError(f"{judge.name} has submitted {scored} score sheets, so they cannot be removed. "
                             "Withdraw their badge instead.")
    record(judge.event_id, "judges", "judge deleted", judge.name, {"email": judge.email})
    db.session.delete(judge)
    db.session.flush()


def reissue_badge(judge: Judge) -> None:
    """A new sign-in link for the judge; every older link (and phone session) stops working."""
    judge.token_version += 1
    judge.revoked_at = None
    db.session.flush()
    record(judge.event_id, "badges", "badge reissued", judge.name)
    from ..mail.operations import reinvite_after_reissue

    reinvite_after_reissue(judge)  # a judge invited by e-mail gets the new link by e-mail too


def set_badge_withdrawn(judge: Judge, withdrawn: bool) -> None:
    if (judge.revoked_at is not None) == withdrawn:
        return  # already so: nothing changes
    judge.revoked_at = utcnow() if withdrawn else None
    db.session.flush()
    record(judge.event_id, "badges", "badge withdrawn" if withdrawn else "badge restored", judge.name)


def import_teams(event: Event, rows: list[TeamRow]) -> tuple[int, int]:
    """Apply parsed team rows, all or nothing: new teams are added, existing ones (same name) updated.

    Members are added or renamed by e-mail and never removed by an import; a team's companies are
    replaced by the file's when it gives some. Returns (added, updated).
    """
    # One query for the teams and one for their members: linear in the rows, whatever the event's size.
    teams = db.session.execute(db.select(Team).where(Team.event_id == event.id)
                               .options(selectinload(Team.members))).scalars().all()
    existing = {t.name.casefold(): t for t in teams}
    by_table = {t.table_number: t for t in teams}
    incoming = {r.name.casefold() for r in rows}
    errors = []
    for row in rows:
        other = by_table.get(row.table)
        if other is not None and other.name.casefold() != row.name.casefold() \
                and other.name.casefold() not in incoming:
            errors.append(f"Line {row.line}: table {row.table} already belongs to {other.name}.")
    if errors:
        raise CsvImportError(errors)
    # Two teams may swap tables in one file: park the moving ones first so the unique
    # (event, table) constraint never sees a transient clash.
    moving = [existing[r.name.casefold()] for r in rows
              if r.name.casefold() in existing and existing[r.name.casefold()].table_number != r.table]
    for team in moving:
        team.table_number = 1_000_000 + team.id
    db.session.flush()
    added = updated = 0
    for row in rows:
        team = existing.get(row.name.casefold())
        if team is None:
            team = Team(event=event, name=row.name)
            db.session.add(team)
            added += 1
        else:
            updated += 1
        team.project, team.table_number = row.project, row.table
        if row.companies is not None:  # no company given: the team's list stays as it is
            team.companies = row.companies
        _set_members(team, row.members, replace=False)
    db.session.flush()
    refresh_certificate_texts(teams)
    record(event, "teams", "teams imported", "CSV file",
           {"added": added, "updated": updated, "members": sum(len(r.members) for r in rows)})
    return added, updated


def import_judges(event: Event, rows: list[JudgeRow]) -> tuple[int, int]:
    """Apply parsed judge rows: new e-mails are added, known ones updated. Returns (added, updated)."""
    existing = {j.email: j for j in event.judges}
    added = updated = 0
    for row in rows:
        judge = existing.get(row.email)
        if judge is None:
            judge = Judge(event=event, email=row.email)
            db.session.add(judge)
            added += 1
        else:
            updated += 1
        judge.name, judge.affiliation = row.name, row.affiliation
    db.session.flush()
    record(event, "judges", "judges imported", "CSV file", {"added": added, "updated": updated})
    return added, updated


def save_public_base_url(text: str) -> str:
    """Save the site's public address, the start of every printed link and QR code; returns it as saved.

    Refused (with the reason) when it is not a usable address, or when the environment variable
    PUBLIC_BASE_URL is set: that one wins, so a saved address would not be used.
    """
    if (current_app.config.get("PUBLIC_BASE_URL") or "").strip():
        raise OperationError("The environment variable PUBLIC_BASE_URL is set, and it wins: change it where the "
                             "server is started (or unset it to use the address saved here).")
    try:
        url = normalise_base_url(text)
    except BaseUrlError as exc:
        raise OperationError(str(exc)) from None
    setting = saved_setting(PUBLIC_BASE_URL)
    before = setting.value if setting is not None else None
    if before == url:
        return url
    if setting is None:
        try:
            with db.session.begin_nested():  # another organiser saving the first address at the same time
                db.session.add(SiteSetting(key=PUBLIC_BASE_URL, value=url))
        except IntegrityError:
            setting = saved_setting(PUBLIC_BASE_URL)
            before = setting.value
    if setting is not None:
        setting.value, setting.updated_at = url, utcnow()
    db.session.flush()
    forget_public_base_url()
    record(None, "settings", "site address changed", "public address of the site", changes(
        {"address": before}, {"address": url}))
    return url
