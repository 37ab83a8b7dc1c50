"""CSV exports shared by the admin pages and the CLI. Every cell goes through csv_safe."""
from __future__ import annotations

from ..extensions import db
from ..links import feedback_url, judge_sign_in_url, team_url  # noqa: F401 - re-exported for the views and CLI
from ..models import Event, Judge, Score, Team
from ..scoring.csvio import to_csv  # noqa: F401 - re-exported

SCORE_COLUMNS = ("judge", "team", "criterion", "score", "absent", "updated_at")


def score_rows(event: Event) -> list[tuple]:
    """One row per judge × team × criterion, in table then judge order.

    An absent team's sheet gives a row per criterion with an empty score and absent=true; sheets
    with a declared conflict of interest are not scores and are left out, and so are set-aside sheets
    (kept, not counted): the file ranks the way the dashboard does (`expo rank`).
    """
    scores = db.session.execute(
        db.select(Score).join(Team).join(Judge, Score.judge_id == Judge.id)
        .where(Team.event_id == event.id, Score.conflict.is_(False), Score.set_aside_at.is_(None))
        .order_by(Team.table_number, Judge.name, Judge.id)
    ).scalars()
    rows = []
    for score in scores:
        values = {v.criterion_id: v.value for v in score.values}
        for criterion in event.criteria:
            value = values.get(criterion.id)
            rows.append((score.judge.name, score.team.name, criterion.name, "" if value is None else value,
                         "true" if score.absent else "false", score.updated_at.isoformat(timespec="seconds") + "Z"))
    return rows


def scores_csv(event: Event) -> str:
    return to_csv(SCORE_COLUMNS, score_rows(event))


def judge_links_csv(event: Event) -> str:
    return to_csv(("judge", "email", "url"),
                  ((j.name, j.email, judge_sign_in_url(j)) for j in event.judges if j.revoked_at is None))


def team_links_csv(event: Event) -> str:
    return to_csv(("team", "table", "qr_url", "feedback_url"),
                  ((t.name, t.table_number, team_url(t), feedback_url(t)) for t in event.teams))
