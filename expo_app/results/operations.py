"""Awards and the finalised ranking. Operations change ORM objects and flush; views commit once."""
from __future__ import annotations

from ..actions import OperationError
from ..audit import change, record
from ..extensions import db
from ..models import Award, AwardCategory, Event, RankingSnapshot, Team, utcnow
from ..scoring import analyse
from .queries import DASHBOARD_SEED, engine_input


class AwardError(OperationError):
    """The organiser asked for something the awards cannot do; the message says why."""


def add_default_award_categories(event: Event) -> None:
    """1st, 2nd and 3rd place overall, then best in each criterion."""
    for place, name in enumerate(("1st place", "2nd place", "3rd place"), start=1):
        event.award_categories.append(AwardCategory(name=name, kind="overall", place=place, position=place - 1))
    for offset, criterion in enumerate(event.criteria):
        event.award_categories.append(AwardCategory(name=f"Best in {criterion.name}"[:120], kind="criterion",
                                                    criterion=criterion, position=3 + offset))
    db.session.flush()


def _check_open(event: Event) -> None:
    if event.awards_finalised_at is not None:
        raise AwardError("The awards are final and can no longer change.")


def add_award_category(event: Event, name: str, basis: str, place: int | None) -> AwardCategory:
    """Add a category: basis "place" (with `place`) or "criterion-<id>"."""
    _check_open(event)
    name = name.strip()
    if any(c.name.casefold() == name.casefold() for c in event.award_categories):
        raise AwardError(f"There is already an award called {name}.")
    position = max((c.position for c in event.award_categories), default=-1) + 1
    if basis == "place":
        if not place or place < 1:
            raise AwardError("An overall award needs a place of 1 or more.")
        category = AwardCategory(name=name, kind="overall", place=place, position=position)
    else:
        criterion = next((c for c in event.criteria if f"criterion-{c.id}" == basis), None)
        if criterion is None:
            raise AwardError("Choose an overall place or one of this event's criteria.")
        category = AwardCategory(name=name, kind="criterion", criterion=criterion, position=position)
    event.award_categories.append(category)
    db.session.flush()
    record(event, "awards", "award category added", category.name, _basis(category))
    return category


def _basis(category: AwardCategory) -> dict:
    if category.kind == "overall":
        return {"place": category.place}
    return {"best in": category.criterion.name if category.criterion else None}


def remove_award_category(category: AwardCategory) -> None:
    _check_open(category.event)
    details = _basis(category)
    if category.award is not None:
        details["decided for"] = category.award.team.name
    record(category.event_id, "awards", "award category removed", category.name, details)
    db.session.delete(category)
    db.session.flush()


def decide_award(category: AwardCategory, team: Team, reason: str, suggestion, actor: str) -> Award:
    """Give the category to `team`. Overriding the suggestion needs a reason, which is kept."""
    before = category.award.team.name if category.award is not None else None
    award = _decide(category, team, reason, suggestion, actor)
    details = {"team": team.name if before is None else change(before, team.name),
               "followed suggestion": award.followed_suggestion, "reason": award.reason}
    record(category.event_id, "awards", "award decided", category.name, details)
    return award


def _decide(category: AwardCategory, team: Team, reason: str, suggestion, actor: str) -> Award:
    _check_open(category.event)
    if team.event_id != category.event_id:
        raise AwardError("That team is not in this event.")
    suggested_team = suggestion[1] if suggestion else None
    follows = suggested_team is not None and suggested_team.id == team.id
    reason = reason.strip()
    if not follows and not reason:
        raise AwardError(f"Say why {team.name} should win {category.name} instead of the suggestion.")
    if follows and not reason:
        reason = suggestion[0].reason
    award = category.award or Award(category=category)
    award.team, award.reason, award.followed_suggestion = team, reason, follows
    award.decided_by, award.decided_at = actor, utcnow()
    db.session.add(award)
    db.session.flush()
    return award


def clear_award(category: AwardCategory) -> None:
    _check_open(category.event)
    if category.award is not None:
        record(category.event_id, "awards", "award cleared", category.name, {"was": category.award.team.name})
        db.session.delete(category.award)
        category.award = None
    db.session.flush()


def accept_suggestions(event: Event, suggestions: dict, actor: str) -> int:
    """Decide every undecided category as suggested; returns how many were decided."""
    _check_open(event)
    decided = {}
    for category in event.award_categories:
        suggestion = suggestions.get(category.id)
        if category.award is None and suggestion and suggestion[1] is not None:
            _decide(category, suggestion[1], "", suggestion, actor)
            decided[category.name] = suggestion[1].name
    if decided:
        record(event, "awards", "suggestions accepted", event.name, {"decided": len(decided), "awards": decided})
    return len(decided)


def drifted_awards(event: Event, suggestions: dict) -> list[tuple[AwardCategory, Team | None]]:
    """Awards decided "as suggested" whose suggestion has changed since (scores arrived after)."""
    drifted = []
    for category in event.award_categories:
        award = category.award
        if award is None or not award.followed_suggestion:
            continue
        suggested = suggestions.get(category.id, (None, None))[1]
        if suggested is None or suggested.id != award.team_id:
            drifted.append((category, suggested))
    return drifted


def finalise_awards(event: Event, actor: str, suggestions: dict) -> RankingSnapshot:
    """Freeze the ranking and the awards: the snapshot certificates and grades are built from.

    `suggestions` are the current ones (queries.award_suggestions): an award accepted as suggested
    must still match, or it would be frozen with a reason the final ranking contradicts.
    """
    # Lock the event row: a double click on PostgreSQL must not make two snapshots.
    db.session.refresh(event, with_for_update=True)
    _check_open(event)
    if event.scoring_state != "locked":
        raise AwardError("Lock scoring before finalising the awards, so that no score can change afterwards.")
    undecided = [c.name for c in event.award_categories if c.award is None]
    if undecided:
        raise AwardError("Decide every award first (or remove it): " + ", ".join(undecided) + ".")
    drifted = drifted_awards(event, suggestions)
    if drifted:
        raise AwardError("The ranking has changed since these awards were accepted as suggested; decide them "
                         "again: " + "; ".join(f"{c.name} (now suggested: {t.name if t else 'nobody'})"
                                                for c, t in drifted) + ".")
    data = engine_input(event)
    result = analyse(data.rows, data.criteria, method="adjusted", seed=DASHBOARD_SEED)
    snapshot = RankingSnapshot(event=event, method="adjusted", seed=DASHBOARD_SEED, created_by=actor, data={
        "criteria": data.criteria,
        "teams": [{**row.as_dict(), "team_id": data.teams[row.team].id} for row in result.teams],
        "judges": [{**{k: v for k, v in d.as_dict().items() if k != "judge"}, "judge": d.judge,
                    "judge_id": data.judges[d.judge].id, "flags": list(d.flags)} for d in result.judges],
        "warnings": [w.message for w in result.warnings],
        "awards": [{"category": c.name, "kind": c.kind, "place": c.place,
                    "criterion": c.criterion.name if c.criterion else None, "team": c.award.team.name,
                    "team_id": c.award.team_id, "reason": c.award.reason,
                    # Who was on the team when it won: the award certificates go to them.
                    "member_ids": [m.id for m in c.award.team.members],
                    "followed_suggestion": c.award.followed_suggestion} for c in event.award_categories],
    })
    db.session.add(snapshot)
    event.awards_finalised_at = utcnow()
    db.session.flush()
    record(event, "awards", "awards finalised", event.name,
           {"awards": {c.name: c.award.team.name for c in event.award_categories}})
    return snapshot
