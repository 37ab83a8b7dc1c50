"""The grade rules, table by table: percent, letters at their exact boundaries, review, scale, names."""
import pytest

from expo_app.scoring.grades import (
    SYLLABUS_SCALE,
    ScaleError,
    Student,
    TeamResult,
    expo_percent,
    format_scale,
    grade_rows,
    last_first,
    letter_for,
    parse_scale,
    review_reasons,
)


@pytest.mark.parametrize("score, percent", [
    (75.0, 75.0), (93.95, 94.0), (93.94, 93.9), (100.0, 100.0), (104.2, 100.0), (-3.1, 0.0), (0.0, 0.0),
    (87.96, 88.0), (82.05, 82.1), (93.95, 94.0), (75.25, 75.3),
])
def test_expo_percent_is_the_adjusted_score_rounded_and_kept_in_range(score, percent):
    assert expo_percent(score) == percent


@pytest.mark.parametrize("percent, letter", [
    (100, "A"), (94, "A"), (93.9, "A-"), (88, "A-"), (87.9, "B+"), (82, "B+"), (81.9, "B"), (76, "B"),
    (75.9, "B-"), (70, "B-"), (69.9, "C+"), (64, "C+"), (63.9, "C"), (58, "C"), (57.9, "C-"), (52, "C-"),
    (51.9, "F"), (0, "F"), (93.96, "A"),  # rounded to the shown decimal first
])
def test_letters_at_exactly_the_syllabus_boundaries(percent, letter):
    assert letter_for(percent) == letter


@pytest.mark.parametrize("low, high, judges, target, expected", [
    (80, 86, 4, 4, ["90% interval 80.0-86.0 spans B to B+"]),
    (82, 87.9, 4, 4, []),
    (82, 87.96, 4, 4, ["90% interval 82.0-88.0 spans B+ to A-"]),
    (60, 61, 2, 3, ["2 of 3 judges"]),
    (40, 99, 1, 4, ["90% interval 40.0-99.0 spans F to A", "1 of 4 judges"]),
])
def test_review_when_the_interval_crosses_a_letter_or_judges_are_short(low, high, judges, target, expected):
    assert review_reasons(low, high, judges, target) == expected


def test_the_syllabus_scale_reads_back_from_its_text():
    assert parse_scale(format_scale(SYLLABUS_SCALE)) == SYLLABUS_SCALE
    assert parse_scale("Pass 50\nFail 0") == (("Pass", 50.0), ("Fail", 0.0))
    assert parse_scale("A >= 90\n\nB: 80\nF 0") == (("A", 90.0), ("B", 80.0), ("F", 0.0))


@pytest.mark.parametrize("text, message", [
    ("", "Give at least one letter"),
    ("A 94\nB 80", "The last letter (B) must start at 0"),
    ("A 94\nB 96\nF 0", "Line 2: B must need less than A (94)."),
    ("A ninety\nF 0", "Line 1: 'ninety' is not a number."),
    ("A 94 extra\nF 0", "Line 1: write a letter and its minimum percent"),
    ("A 101\nF 0", "Line 1: 101 is not between 0 and 100."),
    ("A 94\nA 80\nF 0", "Line 2: A is listed twice."),
])
def test_a_bad_scale_is_refused_by_line(text, message):
    with pytest.raises(ScaleError) as caught:
        parse_scale(text)
    assert any(message in error for error in caught.value.errors), caught.value.errors


@pytest.mark.parametrize("name, expected", [
    ("Ada Lovelace", "Lovelace, Ada"), ("Maria de la Cruz", "Cruz, Maria de la"), ("Plato", "Plato"),
    ("Lovelace, Ada", "Lovelace, Ada"), ("  Ada   Lovelace ", "Lovelace, Ada"), ("王小明", "王小明"),
])
def test_last_first(name, expected):
    assert last_first(name) == expected


def test_grade_rows_never_give_a_silent_zero():
    results = {"Drift": TeamResult(score=95.04, score_low=92.0, score_high=97.0, rank=1, judges=4),
               "Canary": TeamResult(score=70.0, score_low=69.0, score_high=71.0, rank=2, judges=4)}
    students = [
        Student("Ada Lovelace", "ada@x.edu", "001", "Drift", True, ("1st place",)),
        Student("Alan Turing", "alan@x.edu", "002", "Drift", False),
        Student("Grace Hopper", "grace@x.edu", "", "Canary", True),
        Student("Edsger Dijkstra", "ed@x.edu", "", "Nobody", True, no_result="marked absent by 2 judges"),
    ]
    rows = grade_rows(students, results, target=4)
    assert [(r.score, r.percent, r.letter, r.rank, r.review) for r in rows] == [
        (95.04, 95.0, "A", 1, "90% interval 92.0-97.0 spans A- to A"),
        (None, None, "", 1, "not present at the expo: no Expo grade"),
        (70.0, 70.0, "B-", 2, "90% interval 69.0-71.0 spans C+ to B-"),
        (None, None, "", None, "team has no result (marked absent by 2 judges): no Expo grade"),
    ]
    drafts = grade_rows(students[:1], results, target=4, draft=True)
    assert drafts[0].review.startswith("DRAFT: the awards are not final; ")


@pytest.mark.parametrize("name, fmt, final, expected", [
    ("MLOps Innovation Expo", "csv", True, "mlops-innovation-expo-grades-csv.csv"),
    ("MLOps Innovation Expo (demo)", "canvas", False, "mlops-innovation-expo-demo-grades-canvas-DRAFT.csv"),
    ("Expo d'hiver 2026: Zürich", "excel-csv", True, "expo-d-hiver-2026-zurich-grades-excel-csv.csv"),
    ("王小明的展览", "moodle", True, "event-grades-moodle.csv"),          # nothing left in ASCII
    ("x" * 59 + " y" * 30, "csv", True, "x" * 59 + "-grades-csv.csv"),  # at most 60, no trailing hyphen
])
def test_the_grade_file_is_named_after_the_event_and_the_format(name, fmt, final, expected):
    from types import SimpleNamespace

    from expo_app.results.grades import grades_filename

    event = SimpleNamespace(name=name, awards_finalised_at=object() if final else None)
    assert grades_filename(event, fmt) == expected


@pytest.mark.parametrize("asked, expected", [
    (None, "MLOps Innovation Expo 2026"),
    ("", "MLOps Innovation Expo 2026"),
    ("   ", "MLOps Innovation Expo 2026"),
    ("  Final   project ", "Final project"),
    ("a" * 150, "a" * 100),
])
def test_the_assignment_defaults_to_the_event_name(asked, expected):
    from types import SimpleNamespace

    from expo_app.results.grades import assignment_name

    assert assignment_name(SimpleNamespace(name="MLOps  Innovation Expo 2026"), asked) == expected
