"""The assignment plan of an event, in the database: making it, re-planning, import and export, and
each judge's route. The maths is expo_app.scoring.assignment; here it meets the ORM. Operations
change ORM objects and flush; the caller commits once."""
from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..actions import OperationError
from ..admin.csv_import import MAX_ROWS, CsvImportError, decode_csv
from ..audit import actor as audit_actor
from ..audit import change, record
from ..judging.conflicts import set_aside_marked_pair
from ..extensions import db
from ..models import Assignment, Event, Judge, JudgeConflict, Score, ScoreAudit, Team, TeamVisit, utcnow
from ..scoring.assignment import (Plan, PlanJudge, PlanTeam, conflicted, line_layout, measure_plan, plan_assignments,
                                  rows_layout, split_companies)
from ..scoring.csvio import to_csv

ABSENT_MARKS = 2  # independent "team absent" sheets that take a team out of the suggestions
CROWD_LIMIT = 2  # other judges at a table (opened it in the last CROWD_MINUTES) that make it crowded
CROWD_MINUTES = 5
VALUE_DRAWS = 200  # posterior draws behind the value of one more score


# The same refusal as every CSV import: `errors` lists every problem, each naming its line.
AssignmentImportError = CsvImportError


def absent_marks(event: Event) -> dict[int, int]:
    """Team id -> judges who marked the team absent since the organiser last brought it back."""
    rows = db.session.execute(
        db.select(Score.team_id, Score.judge_id, Score.updated_at, Team.absent_cleared_at)
        .join(Team, Team.id == Score.team_id)
        .where(Team.event_id == event.id, Score.absent.is_(True))).all()
    marks: dict[int, set] = defaultdict(set)
    for team_id, judge_id, when, cleared in rows:
        if cleared is None or when > cleared:
            marks[team_id].add(judge_id)
    return {team_id: len(judges) for team_id, judges in marks.items()}


def absent_team_ids(event: Event) -> set[int]:
    return {team_id for team_id, n in absent_marks(event).items() if n >= ABSENT_MARKS}


def marked_conflicts(event: Event) -> set[tuple[int, int]]:
    return set(db.session.execute(db.select(JudgeConflict.judge_id, JudgeConflict.team_id)
                                  .where(JudgeConflict.event_id == event.id)).all())


def scored_pairs(event: Event) -> set[tuple[int, int]]:
    """(judge, team) pairs with a sheet: done work, which no plan ever moves."""
    return set(db.session.execute(db.select(Score.judge_id, Score.team_id)
                                  .join(Team, Team.id == Score.team_id).where(Team.event_id == event.id)).all())


def saved_lists(event: Event) -> dict[int, list[int]]:
    """The plan in force: judge id -> team ids in visiting order."""
    lists: dict[int, list[int]] = defaultdict(list)
    for judge_id, team_id in db.session.execute(
            db.select(Assignment.judge_id, Assignment.team_id).where(Assignment.event_id == event.id)
            .order_by(Assignment.judge_id, Assignment.position)).all():
        lists[judge_id].append(team_id)
    return dict(lists)


def positions(event: Event) -> dict[int, tuple[float, float]]:
    """Table number -> position in the hall: the organiser's layout, else rows, else one line."""
    tables = [t.table_number for t in event.teams]
    base = rows_layout(tables, event.tables_per_row) if event.tables_per_row else line_layout(tables)
    for team in event.teams:
        if team.pos_x is not None and team.pos_y is not None:
            base[team.table_number] = (team.pos_x, team.pos_y)
    return base


def plan_inputs(event: Event):
    absent = absent_team_ids(event)
    teams = [PlanTeam(t.id, t.table_number, split_companies(t.companies), absent=t.id in absent) for t in event.teams]
    judges = [PlanJudge(j.id, j.affiliation or "", available=j.available and j.revoked_at is None) for j in event.judges]
    return teams, judges


def compute_plan(event: Event, *, k: int | None = None, seed: int | None = None, replan: bool = False) -> Plan:
    """The plan the event would get now (nothing saved). `replan`: keep the plan in force where it holds."""
    teams, judges = plan_inputs(event)
    seed = seed if seed is not None else (event.plan_seed or 0)
    return plan_assignments(teams, judges, k or event.judges_per_team, seed=seed, marked=marked_conflicts(event),
                            done=scored_pairs(event), previous=saved_lists(event) if replan else None,
                            positions=positions(event))


def save_plan(event: Event, plan: Plan, seed: int | None) -> None:
    db.session.execute(db.delete(Assignment).where(Assignment.event_id == event.id))
    for judge_id, team_ids in plan.lists.items():
        for position, team_id in enumerate(team_ids, start=1):
            db.session.add(Assignment(event_id=event.id, judge_id=judge_id, team_id=team_id, position=position))
    event.planned_at = utcnow()
    event.plan_seed = seed
    event.judges_per_team = plan.k
    db.session.flush()


def make_plan(event: Event, *, k: int | None = None, seed: int | None = None, replan: bool = False) -> Plan:
    """Make (or re-make) the event's plan and save it. Scored pairs always stay."""
    if k is not None and k < 1:
        raise OperationError("Judges per team must be at least 1.")
    if not event.teams or not event.judges:
        raise OperationError("Add teams and judges before planning who visits whom.")
    seed = seed if seed is not None else (event.plan_seed if replan and event.plan_seed is not None else 0)
    plan = compute_plan(event, k=k, seed=seed, replan=replan)
    save_plan(event, plan, seed)
    details = {"judges per team": plan.k, "seed": seed, "visits": sum(len(teams) for teams in plan.lists.values())}
    if replan:
        details["visits changed"] = plan.changed
    record(event, "assignments", "plan remade" if replan else "plan made", event.name, details)
    return plan


def current_plan(event: Event) -> Plan | None:
    """The plan in force with its figures (coverage and why a team is short, loads, connectivity,
    walks), or None when there is none."""
    lists = saved_lists(event)
    if not lists:
        return None
    teams, judges = plan_inputs(event)
    return measure_plan(teams, judges, event.judges_per_team, lists, marked=marked_conflicts(event),
                        done=scored_pairs(event), positions=positions(event))


# ------------------------------------------------------------------------------ import and export

def export_csv(event: Event) -> str:
    """The plan as `judge,team,order`: the judge's e-mail, the team's table number, the stop number."""
    rows = db.session.execute(
        db.select(Judge.email, Team.table_number, Assignment.position)
        .join(Judge, Judge.id == Assignment.judge_id).join(Team, Team.id == Assignment.team_id)
        .where(Assignment.event_id == event.id).order_by(Judge.email, Assignment.position)).all()
    return to_csv(["judge", "team", "order"], rows)


@dataclass(frozen=True)
class _Line:
    line: int
    judge: Judge
    team: Team
    order: int


def _csv_rows(data: bytes | str):
    """A CSV upload's rows, or AssignmentImportError for a file that is not UTF-8 text, holds NUL
    bytes, cannot be parsed, or is far longer than any expo's list (the same rules as team imports)."""
    reader = csv.reader(io.StringIO(decode_csv(data), newline=""))
    rows = []
    try:
        for cells in reader:
            rows.append((reader.line_num, cells))
            if len(rows) > MAX_ROWS + 1:
                raise AssignmentImportError([f"Line {reader.line_num}: the file has more than {MAX_ROWS:,} rows. "
                                             "An expo's list fits in far fewer: check that this is the right file."])
    except csv.Error as exc:
        raise AssignmentImportError([f"Line {reader.line_num}: the file cannot be read as CSV ({exc})."]) from None
    return rows


def import_csv(event: Event, data: bytes | str) -> int:
    """Replace the plan with one planned by hand (`judge,team,order`; judge by e-mail or exact name,
    team by table number or exact name). All or nothing; every error names its line."""
    rows = _csv_rows(data)
    errors: list[str] = []
    header = rows[0][1] if rows else None
    if header is None or [h.strip().lower() for h in header][:3] != ["judge", "team", "order"]:
        raise AssignmentImportError(["Line 1: the header must be judge,team,order."])
    judges_by = {j.email.lower(): j for j in event.judges} | {j.name.casefold(): j for j in event.judges}
    teams_by = {str(t.table_number): t for t in event.teams} | {t.name.casefold(): t for t in event.teams}
    marked = marked_conflicts(event)
    lines: list[_Line] = []
    seen_pairs: dict[tuple[int, int], int] = {}
    seen_orders: dict[tuple[int, int], int] = {}
    for n, cells in rows[1:]:
        if not any(c.strip() for c in cells):
            continue
        cells = [c.strip() for c in cells] + ["", "", ""]
        judge = judges_by.get(cells[0].lower()) or judges_by.get(cells[0].casefold())
        team = teams_by.get(cells[1]) or teams_by.get(cells[1].casefold())
        problems = []
        if judge is None:
            problems.append(f"no judge of this event has the e-mail or name '{cells[0]}'")
        if team is None:
            problems.append(f"no team of this event has the table number or name '{cells[1]}'")
        try:
            order = int(cells[2])
            if order < 1:
                raise ValueError
        except ValueError:
            problems.append(f"order '{cells[2]}' is not a whole number of 1 or more")
            order = 0
        if judge and team:
            if conflicted(PlanJudge(judge.id, judge.affiliation or ""),
                          PlanTeam(team.id, team.table_number, split_companies(team.companies)), marked):
                problems.append(f"{judge.name} has a conflict of interest with {team.name}")
            if (judge.id, team.id) in seen_pairs:
                problems.append(f"{judge.name} already visits {team.name} (line {seen_pairs[judge.id, team.id]})")
            seen_pairs.setdefault((judge.id, team.id), n)
        if judge and order:
            if (judge.id, order) in seen_orders:
                problems.append(f"{judge.name} already has stop {order} (line {seen_orders[judge.id, order]})")
            seen_orders.setdefault((judge.id, order), n)
        if problems:
            errors.append(f"Line {n}: " + "; ".join(problems) + ".")
        else:
            lines.append(_Line(n, judge, team, order))
    if errors:
        raise AssignmentImportError(errors)
    if not lines:
        raise AssignmentImportError(["The file has no assignments after its header."])
    db.session.execute(db.delete(Assignment).where(Assignment.event_id == event.id))
    by_judge: dict[int, list[_Line]] = defaultdict(list)
    for line in lines:
        by_judge[line.judge.id].append(line)
    for judge_id, its in by_judge.items():
        for position, line in enumerate(sorted(its, key=lambda x: x.order), start=1):
            db.session.add(Assignment(event_id=event.id, judge_id=judge_id, team_id=line.team.id, position=position))
    event.planned_at, event.plan_seed = utcnow(), None
    db.session.flush()
    record(event, "assignments", "plan imported", "CSV file",
           {"visits": len(lines), "judges": len(by_judge)})
    return len(lines)


# ---------------------------------------------------------------------------------- the judge's route

@dataclass(frozen=True)
class Route:
    """What the judge home shows: the next team, and the rest of the judge's list, in order."""

    next_team: Team | None
    remaining: list[Team]
    planned: bool  # whether a plan is in force for this judge
    extra: bool = False  # the list is done: the next team is one that needs judges most
    crowded: tuple[int, ...] = ()  # team ids where other judges are now (the next team included, if so)
    planned_total: int = 0  # teams on the judge's own list (with a plan)
    planned_scored: int = 0  # of which the judge has scored (or marked absent, or declared a conflict)
    planned_ids: frozenset = frozenset()  # the teams on the judge's own list


def record_visit(judge: Judge, team: Team) -> None:
    """The judge opened the team's scoring page (the server counts it when it serves the form)."""
    if team.event_id != judge.event_id:
        raise OperationError("That team is not in your event.")
    record_visit_of(team.event_id, judge.id, team.id)


def record_visit_of(event_id: int, judge_id: int, team_id: int) -> None:
    """record_visit by ids, in one statement when the pair has a visit already (the usual case), two
    when not: no row is loaded (this runs in a write transaction of its own on every form a judge opens)."""
    now, t = utcnow(), TeamVisit.__table__
    pair = (t.c.judge_id == judge_id) & (t.c.team_id == team_id)
    if db.session.execute(db.update(t).where(pair).values(opened_at=now)).rowcount:
        return
    try:
        with db.session.begin_nested():
            db.session.execute(db.insert(t).values(event_id=event_id, judge_id=judge_id, team_id=team_id,
                                                   opened_at=now))
    except IntegrityError:  # the same judge's other tab, a moment ago
        db.session.execute(db.update(t).where(pair).values(opened_at=now))


def crowding(event: Event, judge: Judge) -> dict[int, int]:
    """Team id -> other judges who opened the team's page in the last CROWD_MINUTES and have not
    scored it since (they are still at the table)."""
    since = utcnow() - timedelta(minutes=CROWD_MINUTES)
    rows = db.session.execute(
        db.select(TeamVisit.team_id, TeamVisit.judge_id, TeamVisit.opened_at, Score.updated_at)
        .outerjoin(Score, (Score.team_id == TeamVisit.team_id) & (Score.judge_id == TeamVisit.judge_id))
        .where(TeamVisit.event_id == event.id, TeamVisit.opened_at >= since, TeamVisit.judge_id != judge.id)).all()
    counts: dict[int, int] = defaultdict(int)
    for team_id, _judge_id, opened, scored in rows:
        if scored is None or scored < opened:
            counts[team_id] += 1
    return dict(counts)


def team_value_map(event: Event) -> dict[int, float]:
    """Team id -> the value of one more score (expo_app.scoring.routing), from the engine's fit.

    One fit per event shared by every worker (expo_app.platform.cache), refitted in the background
    at most every ROUTING_MAX_AGE_S while sheets arrive: a judge's home page never waits for a fit.
    Before the first fit exists every team is worth the same (the plan's order decides).
    """
    from ..platform.cache import shared_result
    from ..results.queries import engine_input
    from ..scoring.grades import scale_from_setting
    from ..scoring.ranking import analyse
    from ..scoring.routing import TeamState, boundaries_in_points, team_values

    audit = db.session.execute(db.select(db.func.count(ScoreAudit.id), db.func.max(ScoreAudit.id))
                               .where(ScoreAudit.event_id == event.id)).one()
    version = repr((tuple(audit), event.grade_scale and tuple(map(tuple, event.grade_scale)),
                    [t.id for t in event.teams]))

    event_id = event.id

    def compute() -> dict[int, float]:
        event = db.session.get(Event, event_id)  # perhaps in a background thread: its own session
        data = engine_input(event)
        team_ids = [t.id for t in event.teams]
        if not data.rows:
            return {t: 1.0 for t in team_ids}
        result = analyse(data.rows, data.criteria, method="adjusted", seed=0, n_boot=VALUE_DRAWS)
        states = [TeamState(data.teams[r.team].id, r.score, r.score_low, r.score_high, r.p_top3, r.judges)
                  for r in result.teams]
        return team_values(states, boundaries_in_points(scale_from_setting(event.grade_scale)), all_teams=team_ids)

    values, _served = shared_result(f"routing:{event.id}", hashlib.sha256(version.encode()).hexdigest()[:20],
                                    compute, current_app.config["ROUTING_MAX_AGE_S"], fallback=dict)
    # A team added since the last fit is worth a visit like any team no judge has seen.
    return {t.id: values.get(t.id, 1.0) for t in event.teams}


def judge_route(judge: Judge) -> Route:
    """Where the judge goes next. With a plan: the unscored teams of their list (absent teams left
    out), the first one not crowded now (or, with live routing, the one where one more score helps
    most per walk); once the list is done, the teams that need judges most by the same rule. Without
    a plan: the first table not yet scored. It suggests; a judge may score any team they scan."""
    from ..scoring.routing import choose_next

    event = judge.event
    # The route's teams from the event's team list (loaded once, and needed below for the hall anyway),
    # not one lazy load per assignment.
    teams_by_id = {t.id: t for t in event.teams}
    planned = [teams_by_id[team_id] for team_id in db.session.execute(
        db.select(Assignment.team_id).where(Assignment.judge_id == judge.id).order_by(Assignment.position)).scalars()
        if team_id in teams_by_id]
    scored = dict(db.session.execute(db.select(Score.team_id, Score.updated_at).where(Score.judge_id == judge.id)).all())
    absent = absent_team_ids(event)
    if not planned:
        remaining = [t for t in event.teams if t.id not in scored and t.id not in absent]
        return Route(remaining[0] if remaining else None, remaining, planned=False)
    counts = {"planned_total": len(planned), "planned_scored": sum(1 for t in planned if t.id in scored),
              "planned_ids": frozenset(t.id for t in planned)}
    remaining = [t for t in planned if t.id not in scored and t.id not in absent]
    extra = not remaining
    if extra:
        marked = marked_conflicts(event)
        me = PlanJudge(judge.id, judge.affiliation or "")
        remaining = [t for t in event.teams if t.id not in scored and t.id not in absent
                     and not conflicted(me, PlanTeam(t.id, t.table_number, split_companies(t.companies)), marked)]
    if not remaining:
        return Route(None, [], planned=True, extra=True, **counts)
    crowd = crowding(event, judge)
    by_id = {t.id: t for t in remaining}
    hall = positions(event)
    where = {t.id: hall[t.table_number] for t in event.teams}
    last = max(scored, key=lambda t: scored[t]) if scored else None
    here = where.get(last) if last is not None else None
    if extra or event.live_routing:
        values = team_value_map(event)
    else:  # the plan's order: equal values, so the first free team of the list wins
        values = {t.id: 1.0 for t in remaining}
        here = None
    choice = choose_next([t.id for t in remaining], values, here=here, where=where, opened_recently=crowd,
                         crowd_limit=CROWD_LIMIT)
    first = by_id[choice]
    rest = [t for t in remaining if t.id != choice]
    if extra:
        rest.sort(key=lambda t: -values.get(t.id, 0.0))
        rest = rest[:4]
    passed = tuple(t.id for t in remaining if crowd.get(t.id, 0) >= CROWD_LIMIT)
    return Route(first, [first] + rest, planned=True, extra=extra, crowded=passed, **counts)


def set_live_routing(event: Event, live: bool) -> None:
    if event.live_routing == live:
        return
    event.live_routing = live
    db.session.flush()
    record(event, "assignments", "live routing switched on" if live else "live routing switched off", event.name)


# ------------------------------------------------------------------------------------ organiser actions

def set_available(judge: Judge, available: bool) -> None:
    if judge.available == available:
        return
    judge.available = available
    db.session.flush()
    record(judge.event_id, "judges", "judge back in the hall" if available else "judge marked away", judge.name)


def bring_back(team: Team) -> None:
    """Absent marks so far no longer count: the team is suggested again."""
    marks = absent_marks(team.event).get(team.id, 0)
    team.absent_cleared_at = utcnow()
    db.session.flush()
    record(team.event_id, "assignments", "team brought back", team.name, {"absent marks cleared": marks})


def mark_conflict(event: Event, judge: Judge, team: Team) -> JudgeConflict:
    if judge.event_id != event.id or team.event_id != event.id:
        raise OperationError("That judge or team is not in this event.")
    existing = db.session.execute(db.select(JudgeConflict).where(
        JudgeConflict.judge_id == judge.id, JudgeConflict.team_id == team.id)).scalar_one_or_none()
    if existing is not None:
        raise OperationError(f"{judge.name} is already marked as conflicted with {team.name}.")
    conflict = JudgeConflict(event_id=event.id, judge=judge, team=team)
    db.session.add(conflict)
    db.session.execute(db.delete(Assignment).where(Assignment.judge_id == judge.id, Assignment.team_id == team.id))
    rest = db.session.execute(db.select(Assignment).where(Assignment.judge_id == judge.id)
                              .order_by(Assignment.position)).scalars().all()
    for position, row in enumerate(rest, start=1):
        row.position = position
    db.session.flush()
    record(event, "assignments", "conflict marked", f"{judge.name} and {team.name}")
    # A sheet the judge already gave that team stops counting (kept; the organiser may count it again).
    if set_aside_marked_pair(judge, team, audit_actor()):
        record(event, "scoring", "sheet set aside", f"{judge.name}'s sheet for {team.name}",
               {"reason": "Known conflict: the organisers marked this pair as a conflict of interest"})
    return conflict


def unmark_conflict(conflict: JudgeConflict) -> None:
    record(conflict.event_id, "assignments", "conflict removed", f"{conflict.judge.name} and {conflict.team.name}")
    db.session.delete(conflict)
    db.session.flush()


def set_layout(event: Event, tables_per_row: int | None) -> None:
    if event.tables_per_row == tables_per_row:
        return
    before, event.tables_per_row = event.tables_per_row, tables_per_row
    db.session.flush()
    record(event, "assignments", "layout changed", event.name, {"tables per row": change(before, tables_per_row)})


def import_layout(event: Event, data: bytes | str) -> int:
    """Table positions from `table,x,y` (any unit, e.g. metres): all or nothing, errors by line."""
    rows = _csv_rows(data)
    header = rows[0][1] if rows else None
    if header is None or [h.strip().lower() for h in header][:3] != ["table", "x", "y"]:
        raise AssignmentImportError(["Line 1: the header must be table,x,y."])
    teams = {t.table_number: t for t in event.teams}
    errors, found, seen = [], [], {}
    for n, cells in rows[1:]:
        if not any(c.strip() for c in cells):
            continue
        cells = [c.strip() for c in cells] + ["", "", ""]
        problems = []
        team = teams.get(int(cells[0])) if cells[0].isdecimal() and len(cells[0]) < 10 else None
        if team is None:
            problems.append(f"no team of this event sits at table '{cells[0]}'")
        elif team.table_number in seen:
            problems.append(f"table {team.table_number} is already placed on line {seen[team.table_number]}")
        try:
            x, y = float(cells[1]), float(cells[2])
            if not (abs(x) < 1e6 and abs(y) < 1e6):
                raise ValueError
        except ValueError:
            problems.append(f"'{cells[1]}', '{cells[2]}' is not a position (two numbers)")
            x = y = 0.0
        if problems:
            errors.append(f"Line {n}: " + "; ".join(problems) + ".")
        else:
            seen[team.table_number] = n
            found.append((team, x, y))
    if errors:
        raise AssignmentImportError(errors)
    if not found:
        raise AssignmentImportError(["The file has no positions after its header."])
    for team, x, y in found:
        team.pos_x, team.pos_y = x, y
    db.session.flush()
    record(event, "assignments", "table positions imported", "CSV file", {"tables": len(found)})
    return len(found)
