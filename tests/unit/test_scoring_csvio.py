"""CSV in and out of the ranking engine: readers with line-numbered errors, the ranking writer, csv_safe."""
import re

import pytest

from expo_app.scoring.csvio import CsvError, csv_safe, format_ranking_csv, read_criteria_csv, read_scores_csv
from expo_app.scoring.ranking import rank_teams


def test_read_scores_csv():
    text = ("\ufeffTeam, Judge ,criterion,score,comment\n"
            "Rover,Ann,Idea,4,great\n"
            "\n"
            '"Kiosk, the",Bob,Demo, 3.5 ,\n'
            "=cmd,Ann,Idea,5,\n")
    assert read_scores_csv(text) == [
        {"judge": "Ann", "team": "Rover", "criterion": "Idea", "score": 4},
        {"judge": "Bob", "team": "Kiosk, the", "criterion": "Demo", "score": 3.5},
        {"judge": "Ann", "team": "=cmd", "criterion": "Idea", "score": 5},
    ]


def test_read_scores_csv_skips_rows_marked_absent():
    text = ("judge,team,criterion,score,absent,updated_at\n"
            "Ann,Rover,Idea,4,false,2026-05-01T10:00:00Z\n"
            "Ann,Kiosk,Idea,,true,2026-05-01T10:05:00Z\n")
    assert read_scores_csv(text) == [{"judge": "Ann", "team": "Rover", "criterion": "Idea", "score": 4}]


def test_header_only_gives_no_rows():
    assert read_scores_csv("judge,team,criterion,score\n") == []
    assert read_criteria_csv("name,weight,min,max\r\n") == []


@pytest.mark.parametrize("text, message", [
    ("", "line 1: the file is empty; expected a header judge,team,criterion,score"),
    ("\n\n", "line 1: the file is empty; expected a header judge,team,criterion,score"),
    ("judge,team,score\nAnn,Rover,3\n", "line 1: missing column criterion; the header must name judge,team,criterion,score"),
    ("judge,team\n", "line 1: missing columns criterion, score; the header must name judge,team,criterion,score"),
    ("\njudge,team,criterion,score,score\n", "line 2: column score appears twice in the header"),
    ("judge,team,criterion,score\nAnn,Rover,Idea,4\n\nAnn,Kiosk,Idea,x\n", "line 4: score 'x' is not a number"),
    ("judge,team,criterion,score\nAnn,Rover,Idea,\n", "line 2: score is empty"),
    ("judge,team,criterion,score\nAnn,Rover,Idea,nan\n", "line 2: score 'nan' is not a number"),
    ("judge,team,criterion,score\nAnn,,Idea,3\n", "line 2: team is empty"),
    ("judge,team,criterion,score\nAnn,Rover,Idea\n", "line 2: expected 4 fields like the header, got 3"),
    ("judge,team,criterion,score\nAnn,Rover,Idea,3,extra\n", "line 2: expected 4 fields like the header, got 5"),
    ('judge,team,criterion,score\nAnn,"Rover\nTwo",Idea,3\nBob,Kiosk,Idea,y\n', "line 4: score 'y' is not a number"),
])
def test_read_scores_csv_errors_name_the_line(text, message):
    with pytest.raises(CsvError) as caught:
        read_scores_csv(text)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_read_criteria_csv():
    text = "name,weight,min,max\nIdea,25,1,5\nDemo,12.5,0,10\n"
    assert read_criteria_csv(text) == [{"name": "Idea", "weight": 25.0, "min": 1, "max": 5},
                                       {"name": "Demo", "weight": 12.5, "min": 0, "max": 10}]


@pytest.mark.parametrize("text, message", [
    ("name,weight,min\n", "line 1: missing column max; the header must name name,weight,min,max"),
    ("name,weight,min,max\nIdea,heavy,1,5\n", "line 2: weight 'heavy' is not a number"),
    ("name,weight,min,max\nIdea,-1,1,5\n", "line 2: weight '-1' must not be negative"),
    ("name,weight,min,max\nIdea,1,1.5,5\n", "line 2: min '1.5' is not a whole number"),
    ("name,weight,min,max\nIdea,1,5,5\n", "line 2: min 5 must be below max 5"),
    ("name,weight,min,max\nIdea,1,1,5\n\nIdea,2,1,5\n", "line 4: criterion 'Idea' is already defined on line 2"),
    ("name,weight,min,max\n,1,1,5\n", "line 2: name is empty"),
])
def test_read_criteria_csv_errors_name_the_line(text, message):
    with pytest.raises(CsvError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        read_criteria_csv(text)


def test_format_ranking_csv_exact():
    teams = [
        {"rank": 1, "team": "Rover", "score": 81.23456, "raw_mean": 79.999, "score_low": 75.0, "score_high": 88.005,
         "rank_low": 1, "rank_high": 3, "judges": 4, "p_top3": 0.9},
        {"rank": 2, "team": "=HYPERLINK(\"x\")", "score": 70, "raw_mean": 71.5, "score_low": 60.125,
         "score_high": 80.5, "rank_low": 1, "rank_high": 5, "judges": 3},
        {"rank": 3, "team": "Kiosk, the", "score": 5.0, "raw_mean": 5.0, "score_low": 5.0, "score_high": 5.0,
         "rank_low": 3, "rank_high": 3, "judges": 1},
    ]
    assert format_ranking_csv(teams) == (
        "rank,team,score,raw_mean,score_low,score_high,rank_low,rank_high,judges\n"
        "1,Rover,81.23,80.00,75.00,88.00,1,3,4\n"
        "2,\"'=HYPERLINK(\"\"x\"\")\",70.00,71.50,60.12,80.50,1,5,3\n"
        "3,\"Kiosk, the\",5.00,5.00,5.00,5.00,3,3,1\n"
    )


def test_format_ranking_csv_of_an_empty_ranking():
    assert format_ranking_csv([]) == "rank,team,score,raw_mean,score_low,score_high,rank_low,rank_high,judges\n"


def test_csv_round_trip_through_the_engine():
    scores = read_scores_csv("judge,team,criterion,score\n"
                             "Ann,Rover,Idea,5\nAnn,-Kiosk,Idea,2\nBob,Rover,Idea,4\nBob,-Kiosk,Idea,3\n")
    criteria = read_criteria_csv("name,weight,min,max\nIdea,1,1,5\n")
    text = format_ranking_csv(rank_teams(scores, criteria, method="raw", seed=0))
    lines = text.splitlines()
    assert lines[1].startswith("1,Rover,87.50,87.50,")
    assert lines[2].startswith("2,'-Kiosk,37.50,37.50,")


@pytest.mark.parametrize("value, expected", [
    ("Rover", "Rover"),
    ("=1+1", "'=1+1"),
    ("+49 30 1234", "'+49 30 1234"),
    ("-2", "'-2"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"),
    ("\rcmd", "'\rcmd"),
    ("a=b", "a=b"),
    ("", ""),
    (-2, -2),     # numbers are data, not formulas
    (3.5, 3.5),
    (None, None),
    # A piece after ; , tab, LF or CR becomes a cell of its own in some spreadsheets (locale, paste).
    ("Rover;=HYPERLINK(\"http://x\")", "Rover;'=HYPERLINK(\"http://x\")"),
    ("Rover,+cmd|' /C calc'!A0", "Rover,'+cmd|' /C calc'!A0"),
    ("Rover; @SUM(A1)", "Rover; '@SUM(A1)"),
    ("Rover,   -2+3", "Rover,   '-2+3"),
    ("Rover\t=1+1", "Rover\t'=1+1"),
    ("Rover\n=1+1", "Rover\n'=1+1"),
    ("Rover\r\n+1", "Rover\r\n'+1"),
    ("=1;=2", "'=1;'=2"),
    ("\t=1", "'\t'=1"),
    ("a;;=1", "a;;'=1"),
    ("a;\t=1", "a;\t'=1"),
    ("a;'=1", "a;'=1"),
    ("a=b;c=d", "a=b;c=d"),
    ("Smith, Ada; Lovelace", "Smith, Ada; Lovelace"),
    ("1,5", "1,5"),
    ("e-mail, x-ray", "e-mail, x-ray"),
    ("https://expo.example.org/j/a-b_c", "https://expo.example.org/j/a-b_c"),
])
def test_csv_safe(value, expected):
    assert csv_safe(value) == expected
    assert csv_safe(expected) == expected  # once is enough: a second pass changes nothing


@pytest.mark.parametrize("splitter", [";", ",", "\t", "\n", "\r", "\r\n", "; ", ",  "])
@pytest.mark.parametrize("payload", ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)"])
def test_csv_safe_quotes_every_piece_a_spreadsheet_may_split_off(splitter, payload):
    value = csv_safe(f"Team{splitter}{payload}{splitter}{payload}")
    assert value == f"Team{splitter}'{payload}{splitter}'{payload}"
    for piece in re.split(r"[;,\t\n\r]", value):
        assert not piece.lstrip(" ").startswith(("=", "+", "-", "@")), (value, piece)
