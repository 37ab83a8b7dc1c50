import pytest

from expo_app.scoring.rubric import (format_descriptors, level_rows, parse_descriptors, validate_values,
                                     weighted_total)

FOUR = [{"name": n, "weight": w, "min": 1, "max": 5} for n, w in [("tech", 1), ("ops", 1), ("team", 1), ("ml", 1)]]


@pytest.mark.parametrize("values, expected", [
    ({"tech": 5, "ops": 5, "team": 5, "ml": 5}, 100.0),
    ({"tech": 1, "ops": 1, "team": 1, "ml": 1}, 0.0),
    ({"tech": 3, "ops": 3, "team": 3, "ml": 3}, 50.0),
    ({"tech": 5, "ops": 1, "team": 3, "ml": 4}, 56.25),  # (1 + 0 + .5 + .75) / 4
])
def test_weighted_total_equal_weights(values, expected):
    assert weighted_total(values, FOUR) == pytest.approx(expected)


@pytest.mark.parametrize("criteria, values, expected", [
    # weight 3 vs 1: (3*1 + 1*0) / 4
    ([{"name": "a", "weight": 3, "min": 1, "max": 5}, {"name": "b", "weight": 1, "min": 1, "max": 5}],
     {"a": 5, "b": 1}, 75.0),
    # different scales: 0-10 at 7 is .7, 1-3 at 2 is .5
    ([{"name": "a", "weight": 1, "min": 0, "max": 10}, {"name": "b", "weight": 1, "min": 1, "max": 3}],
     {"a": 7, "b": 2}, 60.0),
])
def test_weighted_total_weights_and_scales(criteria, values, expected):
    assert weighted_total(values, criteria) == pytest.approx(expected)


@pytest.mark.parametrize("values, errors", [
    ({"tech": 5, "ops": 4, "team": 3, "ml": 2}, {}),
    ({"tech": 6, "ops": 4, "team": 3, "ml": 2}, {"tech": "6 is outside the scale 1–5."}),
    ({"tech": 0, "ops": 4, "team": 3, "ml": 2}, {"tech": "0 is outside the scale 1–5."}),
    ({"tech": "3.5", "ops": 4, "team": 3, "ml": 2}, {"tech": "3.5 is not a whole number; choose 1–5."}),
    ({"tech": "abc", "ops": 4, "team": 3, "ml": 2}, {"tech": "abc is not a number; choose 1–5."}),
    ({"ops": 4, "team": 3, "ml": ""}, {"tech": "Choose a score for tech (1–5).", "ml": "Choose a score for ml (1–5)."}),
])
def test_validate_values(values, errors):
    clean, found = validate_values(values, FOUR)
    assert found == errors
    assert set(clean) == {"tech", "ops", "team", "ml"} - set(errors)


def test_validate_values_returns_ints():
    clean, errors = validate_values({"tech": "5", "ops": "4.0", "team": 3, "ml": 2}, FOUR)
    assert errors == {} and clean == {"tech": 5, "ops": 4, "team": 3, "ml": 2}


@pytest.mark.parametrize("text, bands, errors", [
    ("5: great\n1: poor", [(1, 1, "poor"), (5, 5, "great")], []),
    ("1-2: weak\n3–5: strong", [(1, 2, "weak"), (3, 5, "strong")], []),
    ("\n\n4: fine\n", [(4, 4, "fine")], []),
    ("6: too high", [], ["Line 1: 6 is outside the scale 1–5."]),
    ("x: what", [], ["Line 1: 'x' is not a level or a range of levels."]),
    ("3 great", [], ["Line 1: write it as 'level: description' or 'low-high: description'."]),
    ("4-2: backwards", [], ["Line 1: the range 4-2 runs backwards."]),
    ("1-3: a\n3-5: b", [(1, 3, "a"), (3, 5, "b")], ["Levels 1-3 and 3-5 overlap."]),
])
def test_parse_descriptors(text, bands, errors):
    assert parse_descriptors(text, 1, 5) == (bands, errors)


def test_format_descriptors_round_trips():
    bands = [(1, 2, "weak"), (3, 3, "ok"), (4, 5, "strong")]
    assert format_descriptors(bands) == "1-2: weak\n3: ok\n4-5: strong"
    assert parse_descriptors(format_descriptors(bands), 1, 5) == (bands, [])


@pytest.mark.parametrize("bands, lo, hi, rows", [
    ([(1, 1, "a"), (2, 2, "b"), (3, 3, "c")], 1, 3, [("c", [3]), ("b", [2]), ("a", [1])]),
    ([(0, 3, "low"), (7, 10, "high")], 0, 10,
     [("high", [10, 9, 8, 7]), ("", [6]), ("", [5]), ("", [4]), ("low", [3, 2, 1, 0])]),
    ([], 1, 3, [("", [3]), ("", [2]), ("", [1])]),
])
def test_level_rows(bands, lo, hi, rows):
    assert level_rows(bands, lo, hi) == rows
