"""From a team's adjusted score to a student's Expo grade: percent, letter, and when to look twice.

Pure functions (no Flask, no ORM), one rule each:

- `expo_percent`: the adjusted score is already in rubric points out of 100 (each criterion's lowest
  level counts 0 and its highest 1, weighted: `rubric.weighted_total`), so the percent is that
  score rounded to one decimal and kept within 0..100. A team judged at the top level of every
  criterion gets 100, at the bottom 0, and 4 on every 1-5 criterion gets 75.
- `letter_for`: the first letter of the scale whose minimum the rounded percent reaches; the
  syllabus scale is A >= 94, A- >= 88, B+ >= 82, B >= 76, B- >= 70, C+ >= 64, C >= 58, C- >= 52,
  F below. Exactly 94.0 is an A.
- `review_reasons`: a grade needs a second look when the team's 90 % score interval reaches into
  another letter, or when fewer judges scored the team than the event wanted.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

SYLLABUS_SCALE: tuple[tuple[str, float], ...] = (
    ("A", 94), ("A-", 88), ("B+", 82), ("B", 76), ("B-", 70), ("C+", 64), ("C", 58), ("C-", 52), ("F", 0))


class ScaleError(ValueError):
    """A letter scale that cannot be used; `errors` name the lines."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def round_half_up(value: float, digits: int) -> float:
    """Round as people do (82.05 -> 82.1), on the number as written, not on its binary approximation."""
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def expo_percent(adjusted_score: float) -> float:
    """The Expo percent of an adjusted score (rubric points out of 100), one decimal, within 0..100."""
    return round_half_up(min(100.0, max(0.0, adjusted_score)), 1)


def letter_for(percent: float, scale=SYLLABUS_SCALE) -> str:
    """The letter for a percent: the first (highest) letter whose minimum it reaches."""
    rounded = round_half_up(percent, 1)
    for letter, minimum in scale:
        if rounded >= minimum:
            return letter
    return scale[-1][0]


def review_reasons(score_low: float, score_high: float, judges: int, target: int, scale=SYLLABUS_SCALE) -> list[str]:
    """Why a grade should be looked at by a person (empty when it can be trusted as it is)."""
    reasons = []
    low, high = letter_for(expo_percent(score_low), scale), letter_for(expo_percent(score_high), scale)
    if low != high:
        reasons.append(f"90% interval {expo_percent(score_low):.1f}-{expo_percent(score_high):.1f} spans {low} to {high}")
    if judges < target:
        reasons.append(f"{judges} of {target} judges")
    return reasons


def scale_from_setting(setting) -> tuple[tuple[str, float], ...]:
    """The scale an event keeps as [[letter, minimum], ...] (None or empty: the syllabus scale)."""
    return tuple((str(letter), float(minimum)) for letter, minimum in setting) if setting else SYLLABUS_SCALE


def format_scale(scale) -> str:
    """The scale as the organiser edits it: one `letter minimum` per line, best first."""
    return "\n".join(f"{letter} {minimum:g}" for letter, minimum in scale)


def parse_scale(text: str) -> tuple[tuple[str, float], ...]:
    """A letter scale from lines `A 94` (letter, minimum percent), best first, ending at 0."""
    scale, errors = [], []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.replace(">=", " ").replace(":", " ").split()
        if len(parts) != 2:
            errors.append(f"Line {number}: write a letter and its minimum percent, like 'A 94'.")
            continue
        letter, minimum = parts
        try:
            value = float(minimum)
        except ValueError:
            errors.append(f"Line {number}: '{minimum}' is not a number.")
            continue
        if not 0 <= value <= 100:
            errors.append(f"Line {number}: {value:g} is not between 0 and 100.")
        elif len(letter) > 5:
            errors.append(f"Line {number}: a letter has at most 5 characters.")
        elif scale and value >= scale[-1][1]:
            errors.append(f"Line {number}: {letter} must need less than {scale[-1][0]} ({scale[-1][1]:g}).")
        elif any(letter == known for known, _ in scale):
            errors.append(f"Line {number}: {letter} is listed twice.")
        else:
            scale.append((letter, value))
    if not errors and not scale:
        errors.append("Give at least one letter, ending with the one for 0, like 'F 0'.")
    elif not errors and scale[-1][1] != 0:
        errors.append(f"The last letter ({scale[-1][0]}) must start at 0, so that every percent gets a letter.")
    if errors:
        raise ScaleError(errors)
    return tuple(scale)


def last_first(name: str) -> str:
    """A name as "Last, First" for a gradebook: split at the last space; one word or a comma: as it is."""
    name = " ".join(name.split())
    if "," in name or " " not in name:
        return name
    first, last = name.rsplit(" ", 1)
    return f"{last}, {first}"


@dataclass(frozen=True)
class TeamResult:
    """What the finalised (or live) ranking says about one team."""

    score: float
    score_low: float
    score_high: float
    rank: int
    judges: int


@dataclass(frozen=True)
class Student:
    name: str
    email: str
    student_id: str
    team: str
    present: bool
    awards: tuple[str, ...] = ()
    # Why the team has no result when it has none (for example "no scores", "marked absent by 2 judges").
    no_result: str = "no scores"
    # What the results are keyed by (the team's id, say); the team's name when empty.
    team_key: str = ""


@dataclass(frozen=True)
class GradeRow:
    student: Student
    score: float | None
    percent: float | None
    letter: str
    rank: int | None
    review: str


def grade_rows(students, results: dict[str, TeamResult], target: int, scale=SYLLABUS_SCALE,
               draft: bool = False) -> list[GradeRow]:
    """One row per student: the team's grade, or an empty grade with the reason in `review`.

    A student marked not present gets no grade; a team without a result gets none either. Never a
    silent 0. With `draft` every row says so first.
    """
    rows = []
    for student in students:
        result = results.get(student.team_key or student.team)
        reasons = ["DRAFT: the awards are not final"] if draft else []
        if not student.present:
            reasons.append("not present at the expo: no Expo grade")
            rows.append(GradeRow(student, None, None, "", result.rank if result else None, "; ".join(reasons)))
            continue
        if result is None:
            reasons.append(f"team has no result ({student.no_result}): no Expo grade")
            rows.append(GradeRow(student, None, None, "", None, "; ".join(reasons)))
            continue
        percent = expo_percent(result.score)
        reasons += review_reasons(result.score_low, result.score_high, result.judges, target, scale)
        rows.append(GradeRow(student, round_half_up(result.score, 2), percent, letter_for(percent, scale), result.rank,
                             "; ".join(reasons)))
    return rows
