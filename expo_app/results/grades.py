"""The grade export: one row per team member, from the finalised snapshot (or, marked as such, a draft).

The rules (percent, letters, review) are in expo_app.scoring.grades; this module gathers the data
and writes the file formats. Every cell goes through the formula-safe CSV writer.
"""
from __future__ import annotations

from ..actions import OperationError
from ..extensions import db
from ..filenames import slug
from ..models import Award, AwardCategory, Event, RankingSnapshot, Score, Team
from ..scoring.csvio import to_csv
from ..scoring.grades import GradeRow, Student, TeamResult, grade_rows, last_first, scale_from_setting
from .queries import ranking_rows

# "excel-csv" is the plain CSV with a UTF-8 byte order mark, which is how Excel (double-click to open)
# knows the file is UTF-8: without it, accented names show as "ZoÃ«".
FORMATS = ("csv", "excel-csv", "canvas", "moodle")
CSV_COLUMNS = ("student", "email", "student_id", "team", "expo_score", "expo_percent", "letter", "rank", "awards",
               "present", "review")
UTF8_BOM = "\ufeff"
NOT_FINAL = ("Grades come from the final awards. Lock scoring and finalise the awards on the Awards page first, "
             "or export a draft (every row is then marked DRAFT).")


class GradesNotFinal(OperationError):
    """Grades were asked for before the awards are final, without asking for a draft."""


def event_scale(event: Event) -> tuple[tuple[str, float], ...]:
    """The event's letter scale (the syllabus scale unless the organiser changed it)."""
    return scale_from_setting(event.grade_scale)


def _results(event: Event) -> dict[int, TeamResult]:
    """TeamResult by team id: the frozen ranking, or the live one for a draft."""
    return {t["team_id"]: TeamResult(t["score"], t["score_low"], t["score_high"], t["rank"], t["judges"])
            for t in ranking_rows(event)}


def _awards(event: Event, snapshot: RankingSnapshot | None) -> dict[int, list[str]]:
    won: dict[int, list[str]] = {}
    if snapshot is not None:
        for award in snapshot.data.get("awards", []):
            won.setdefault(award["team_id"], []).append(award["category"])
    else:
        decided = db.session.execute(db.select(AwardCategory.name, Award.team_id).join(Award)
                                     .where(AwardCategory.event_id == event.id).order_by(AwardCategory.position))
        for name, team_id in decided:
            won.setdefault(team_id, []).append(name)
    return won


def _absent_marks(event: Event) -> dict[int, int]:
    rows = db.session.execute(db.select(Score.team_id, db.func.count(Score.id)).join(Team)
                              .where(Team.event_id == event.id, Score.absent.is_(True)).group_by(Score.team_id))
    return dict(rows.all())


def build_grades(event: Event, draft: bool = False) -> list[GradeRow]:
    """Every member's grade row, team by team in table order. Refused before finalising unless a draft."""
    snapshot = RankingSnapshot.final_for(event)
    if snapshot is None and not draft:
        raise GradesNotFinal(NOT_FINAL)
    results, awards, absent = _results(event), _awards(event, snapshot), _absent_marks(event)
    students = []
    for team in event.teams:
        marks = absent.get(team.id, 0)
        no_result = f"marked absent by {marks} judge{'s' if marks != 1 else ''}" if marks else "no scores"
        students.extend(Student(m.name, m.email, m.student_id, team.name, m.present, tuple(awards.get(team.id, ())),
                                no_result, team_key=str(team.id)) for m in team.members)
    by_key = {str(team_id): result for team_id, result in results.items()}
    return grade_rows(students, by_key, event.judges_per_team, event_scale(event), draft=snapshot is None)


def _number(value: float | None, digits: int) -> float | str:
    """A number cell: a float (never text, so a negative number is not mistaken for a formula) or empty."""
    return "" if value is None else round(value, digits)


def grades_csv(rows: list[GradeRow]) -> str:
    return to_csv(CSV_COLUMNS, ((r.student.name, r.student.email, r.student.student_id, r.student.team,
                                 _number(r.score, 2), _number(r.percent, 1), r.letter, r.rank or "",
                                 "; ".join(r.student.awards), "yes" if r.student.present else "no", r.review)
                                for r in rows))


def canvas_csv(rows: list[GradeRow], assignment: str, draft: bool) -> str:
    """Canvas' gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, <assignment>; points 100."""
    title = assignment + (" (DRAFT)" if draft else "")
    header = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section", title)
    body = [("Points Possible", "", "", "", "", "100")]
    body += [(last_first(r.student.name), "", r.student.student_id, r.student.email, "", _number(r.percent, 1))
             for r in rows]
    return to_csv(header, body)


def moodle_csv(rows: list[GradeRow], assignment: str, draft: bool) -> str:
    """Moodle's CSV grade import: matched by e-mail, one grade column."""
    title = assignment + (" (DRAFT)" if draft else "")
    return to_csv(("email", title), ((r.student.email, _number(r.percent, 1)) for r in rows))


def assignment_name(event: Event, asked: str | None = None) -> str:
    """The gradebook column's name: as asked (spaces tidied, at most 100 characters), else the event's name."""
    return " ".join((asked or "").split())[:100] or " ".join(event.name.split())[:100]


def grades_filename(event: Event, fmt: str) -> str:
    """The download's name: the event, the format, and DRAFT until the awards are final."""
    draft = "-DRAFT" if event.awards_finalised_at is None else ""
    return f"{slug(event.name)}-grades-{fmt}{draft}.csv"


def export_grades(event: Event, fmt: str = "csv", draft: bool = False, assignment: str | None = None) -> str:
    """The grade file in `fmt` (csv, excel-csv, canvas or moodle); the assignment defaults to the event's name."""
    if fmt not in FORMATS:
        raise OperationError(f"The format must be one of {', '.join(FORMATS)}.")
    rows = build_grades(event, draft)
    is_draft = event.awards_finalised_at is None
    assignment = assignment_name(event, assignment)
    if fmt == "canvas":
        return canvas_csv(rows, assignment, is_draft)
    if fmt == "moodle":
        return moodle_csv(rows, assignment, is_draft)
    if fmt == "excel-csv":
        return UTF8_BOM + grades_csv(rows)
    return grades_csv(rows)
