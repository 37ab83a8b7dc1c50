"""Feeding the ranking engine from the database, and reading what it says for the dashboard."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app

from ..extensions import db
from ..models import (Assignment, Event, Judge, JudgeConflict, RankingSnapshot, Score, ScoreAudit, ScoreValue, Team,
                      utcnow)
from ..platform.cache import shared_result
from ..scoring import analyse, rank_teams
from ..scoring.alerts import Alert, conflict_alerts, coverage_alerts, disagreement_alerts
from ..scoring.assignment import company_key, split_companies
from ..scoring.awards import suggest_awards

DASHBOARD_SEED = 0  # fixed, so every worker and every refresh shows the same intervals


@dataclass
class EngineInput:
    """Score rows as expo_app.scoring expects them, and the objects behind each label."""

    rows: list[dict]
    criteria: list[dict]
    teams: dict[str, Team]
    judges: dict[str, Judge]


def engine_input(event: Event) -> EngineInput:
    """The event's counted sheets as engine rows (absent, conflict and set-aside sheets are not ratings).

    Teams are labelled by name (unique within an event, and the last tie-break); judges by name,
    with their id added when two judges share a name.
    """
    teams = {t.name: t for t in event.teams}
    names = [j.name for j in event.judges]
    judges = {(j.name if names.count(j.name) == 1 else f"{j.name} (#{j.id})"): j for j in event.judges}
    label_of_judge = {j.id: label for label, j in judges.items()}
    query = (db.select(Judge.id, Team.name, ScoreValue.value, ScoreValue.criterion_id)
             .select_from(ScoreValue).join(Score).join(Team).join(Judge, Score.judge_id == Judge.id)
             .where(Team.event_id == event.id, Score.absent.is_(False), Score.conflict.is_(False),
                    Score.set_aside_at.is_(None)))
    name_of = {c.id: c.name for c in event.criteria}
    rows = [{"judge": label_of_judge[judge_id], "team": team, "criterion": name_of[cid], "score": value}
            for judge_id, team, value, cid in db.session.execute(query)]
    return EngineInput(rows, [c.as_spec() for c in event.criteria], teams, judges)


def ranking_rows(event: Event) -> list[dict]:
    """The ranking's team rows (with `team_id`): frozen once the awards are final, live before."""
    snapshot = RankingSnapshot.final_for(event)
    if snapshot is not None:
        return snapshot.data["teams"]
    data = engine_input(event)
    if not data.rows:
        return []
    return [{**row.as_dict(), "team_id": data.teams[row.team].id}
            for row in analyse(data.rows, data.criteria, method="adjusted", seed=DASHBOARD_SEED).teams]


def dashboard_version(event: Event) -> str:
    """A cheap fingerprint of everything the dashboard shows; equal fingerprints, equal pages.

    Read from the database, so every gunicorn worker computes the same one for the same data.
    """
    audit = db.session.execute(db.select(db.func.count(ScoreAudit.id), db.func.max(ScoreAudit.id))
                               .where(ScoreAudit.event_id == event.id)).one()
    seen = db.session.execute(db.select(db.func.max(Judge.last_seen_at)).where(Judge.event_id == event.id)).scalar()
    plan = db.session.execute(db.select(db.func.count(Assignment.id)).where(Assignment.event_id == event.id)).scalar()
    parts = [event.id, event.scoring_state, event.judges_per_team, audit[0], audit[1], seen, event.planned_at, plan,
             [(c.id, c.name, c.weight, c.scale_min, c.scale_max) for c in event.criteria],
             [(t.id, t.name, t.table_number, t.absent_cleared_at, t.companies) for t in event.teams],
             [(j.id, j.name, j.revoked_at, j.available, j.affiliation) for j in event.judges],
             db.session.execute(db.select(db.func.count(JudgeConflict.id))
                                .where(JudgeConflict.event_id == event.id)).scalar()]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:20]


@dataclass
class TeamCoverage:
    team: Team
    rated: int
    absent: int
    conflicts: int
    planned: int = 0  # judges the assignment plan sends (0: no plan)
    dropped: bool = False  # marked absent by enough judges: no longer suggested


@dataclass
class JudgeProgress:
    judge: Judge
    rated: int
    absent: int
    conflicts: int
    last_activity: datetime | None
    diagnostics: object | None  # JudgeDiagnostics from the engine, None before the judge rated a team


@dataclass
class Dashboard:
    event: Event
    version: str
    leaderboard: list  # TeamRanking, adjusted, best first
    raw_rank: dict[str, int]
    teams: dict[str, Team]
    coverage: list[TeamCoverage]
    judges: list[JudgeProgress]
    alerts: list[Alert]
    reliability: object | None
    components: int
    sheets: int = 0
    generated_at: datetime | None = None
    notes: list[str] = field(default_factory=list)
    plan: object | None = None  # the assignment plan's figures (scoring.assignment.Plan), None without a plan


@dataclass
class Analysis:
    """The engine's fits behind the dashboard, with the ids behind its labels (for a shared cache)."""

    result: object | None  # scoring.ranking's AnalysisResult, adjusted; None without criteria
    raw_rank: dict[str, int]
    team_ids: dict[str, int]
    judge_ids: dict[str, int]


def analysis_version(event: Event) -> str:
    """A cheap fingerprint of everything the engine's input depends on (sheets, criteria, names)."""
    audit = db.session.execute(db.select(db.func.count(ScoreAudit.id), db.func.max(ScoreAudit.id))
                               .where(ScoreAudit.event_id == event.id)).one()
    parts = [tuple(audit), [(c.id, c.name, c.weight, c.scale_min, c.scale_max) for c in event.criteria],
             [(t.id, t.name) for t in event.teams], [(j.id, j.name) for j in event.judges]]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:20]


def dashboard_analysis(event: Event) -> tuple[Analysis, str | None]:
    """The dashboard's fits and the version they were made for (expo_app.platform.cache: one fit
    shared by every worker, refitted in the background at most every DASHBOARD_MAX_AGE_S)."""
    event_id = event.id

    def compute() -> Analysis:
        event = db.session.get(Event, event_id)  # perhaps in a background thread: its own session
        data = engine_input(event)
        result = analyse(data.rows, data.criteria, method="adjusted", seed=DASHBOARD_SEED) if data.criteria else None
        # Only the raw ranks are shown, so the raw bootstrap is skipped (n_boot=0).
        raw = analyse(data.rows, data.criteria, method="raw", n_boot=0).teams if data.rows else []
        return Analysis(result, {r.team: r.rank for r in raw}, {name: t.id for name, t in data.teams.items()},
                        {label: j.id for label, j in data.judges.items()})

    return shared_result(f"dashboard:{event.id}", analysis_version(event), compute,
                         current_app.config["DASHBOARD_MAX_AGE_S"])


def build_dashboard(event: Event, version: str, analysis: Analysis | None = None) -> Dashboard:
    """Everything the live dashboard shows. The ranking comes from the shared fit (dashboard_analysis)."""
    if analysis is None:
        analysis, _fit = dashboard_analysis(event)
    result = analysis.result
    leaderboard = result.teams if result else []
    raw_rank = analysis.raw_rank
    team_by_id = {t.id: t for t in event.teams}
    judge_by_id = {j.id: j for j in event.judges}
    teams = {name: team_by_id[tid] for name, tid in analysis.team_ids.items() if tid in team_by_id}

    counts = {t.id: [0, 0, 0] for t in event.teams}
    judge_counts = {j.id: [0, 0, 0, None] for j in event.judges}
    set_aside, counted_conflicts = [], []
    known = known_conflict_pairs(event)
    for team_id, judge_id, absent, conflict, set_aside_at, set_aside_by, updated_at in db.session.execute(
            db.select(Score.team_id, Score.judge_id, Score.absent, Score.conflict, Score.set_aside_at,
                      Score.set_aside_by, Score.updated_at)
            .join(Team).where(Team.event_id == event.id).order_by(Score.id)):
        jc = judge_counts[judge_id]
        jc[3] = max(jc[3], updated_at) if jc[3] else updated_at
        if set_aside_at is not None:  # kept, not counted: neither rated nor absent
            set_aside.append((judge_by_id[judge_id].name, team_by_id[team_id].name))
            continue
        kind = 1 if absent else 2 if conflict else 0
        counts[team_id][kind] += 1
        jc[kind] += 1
        if kind == 0 and (judge_id, team_id) in known and not set_aside_by:
            counted_conflicts.append((judge_by_id[judge_id].name, team_by_id[team_id].name))
    from ..assignments.operations import absent_team_ids, current_plan

    plan = current_plan(event)
    dropped = absent_team_ids(event)
    planned = {t: len(js) for t, js in plan.per_team.items()} if plan else {}
    coverage = sorted((TeamCoverage(t, *counts[t.id], planned=planned.get(t.id, 0), dropped=t.id in dropped)
                       for t in event.teams), key=lambda c: (c.rated, c.team.table_number))
    diagnostics = {analysis.judge_ids[d.judge]: d for d in (result.judges if result else [])
                   if analysis.judge_ids.get(d.judge) in judge_by_id}
    judges = []
    for j in event.judges:
        rated, absent, conflicts, last_score = judge_counts[j.id]
        activity = max(filter(None, [last_score, j.last_seen_at]), default=None)
        judges.append(JudgeProgress(j, rated, absent, conflicts, activity, diagnostics.get(j.id)))
    judges.sort(key=lambda p: (p.rated, p.judge.name.casefold()))

    alerts = []
    if event.scoring_state != "draft" and event.teams:
        alerts += coverage_alerts({c.team.name: c.rated for c in coverage}, event.judges_per_team)
    alerts += conflict_alerts(set_aside, counted_conflicts)
    if result:
        alerts += [Alert(w.code, w.message, tuple(w.teams), tuple(w.judges)) for w in result.warnings]
        alerts += disagreement_alerts(leaderboard)
    return Dashboard(event=event, version=version, leaderboard=leaderboard, raw_rank=raw_rank, teams=teams,
                     coverage=coverage, judges=judges, alerts=alerts,
                     reliability=result.reliability if result else None,
                     components=len(result.components) if result else 0,
                     sheets=sum(c.rated for c in coverage), generated_at=utcnow(), plan=plan)


def known_conflict_pairs(event: Event) -> set[tuple[int, int]]:
    """(judge id, team id) of every known conflict of interest: marked pairs and company matches."""
    from ..assignments.operations import marked_conflicts

    pairs = set(marked_conflicts(event))
    companies = {t.id: {company_key(c) for c in split_companies(t.companies)} for t in event.teams if t.companies}
    for judge in event.judges:
        mine = company_key(judge.affiliation or "")
        if mine:
            pairs |= {(judge.id, team_id) for team_id, keys in companies.items() if mine in keys}
    return pairs


def award_suggestions(event: Event) -> dict[int, object]:
    """The suggested winner per award category id (AwardSuggestion with team = Team or None)."""
    data = engine_input(event)
    overall = rank_teams(data.rows, data.criteria, method="adjusted", seed=DASHBOARD_SEED) if data.rows else []
    by_criterion = {}
    for c in event.criteria:
        # Each criterion ranked on its own, judge-corrected; the intervals say how close the call is.
        rows = [r for r in data.rows if r["criterion"] == c.name]
        by_criterion[c.name] = rank_teams(rows, [c.as_spec()], method="adjusted", seed=DASHBOARD_SEED) if rows else []
    categories = [{"key": cat.id, "name": cat.name, "kind": cat.kind, "place": cat.place,
                   "criterion": cat.criterion.name if cat.criterion else None,
                   "min": cat.criterion.scale_min if cat.criterion else None,
                   "max": cat.criterion.scale_max if cat.criterion else None} for cat in event.award_categories]
    suggestions = suggest_awards(categories, overall, by_criterion)
    return {s.category: (s, data.teams.get(s.team) if s.team is not None else None) for s in suggestions}
