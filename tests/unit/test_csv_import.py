import pytest

from expo_app.admin.csv_import import (JUDGES_TEMPLATE, MemberRow, TEAMS_TEMPLATE, CsvImportError, JudgeRow,
                                       parse_judges_csv, parse_teams_csv)

HEADER = "team,project,table,member,email\n"


def errors_of(parse, text):
    with pytest.raises(CsvImportError) as info:
        parse(text)
    return info.value.errors


def test_templates_parse():
    teams = parse_teams_csv(TEAMS_TEMPLATE.encode())
    assert [(t.name, t.table, [m[1] for m in t.members]) for t in teams] == [
        ("Drift Busters", 1, ["ada@example.edu", "alan@example.edu"]),
        ("Pipeline Pilots", 2, ["grace@example.edu"]),
    ]
    assert parse_judges_csv(JUDGES_TEMPLATE) == [
        JudgeRow("Katherine Johnson", "katherine@example.com", "Google Cloud", 2),
        JudgeRow("Edsger Dijkstra", "edsger@example.com", "Faculty", 3),
    ]


def test_bom_blank_lines_case_and_spacing_are_tolerated():
    data = "\ufeffTeam , Project,TABLE,member,email\r\n\r\n A , p , 3 , M , M@X.ORG \r\n".encode()
    (team,) = parse_teams_csv(data)
    assert (team.name, team.project, team.table, team.members) == ("A", "p", 3, [MemberRow("M", "m@x.org", 3)])


def test_team_without_members():
    (team,) = parse_teams_csv(HEADER + "Solo,Project,4,,\n")
    assert team.members == []


@pytest.mark.parametrize("body, expected", [
    ("A,p,x,M,m@x.org\n", ["Line 2: table 'x' is not a whole number from 1 to 100000."]),
    ("A,p,0,M,m@x.org\n", ["Line 2: table '0' is not a whole number from 1 to 100000."]),
    (",p,1,M,m@x.org\n", ["Line 2: the team name is empty."]),
    ("A,p,1,M,not-an-email\n", ["Line 2: 'not-an-email' is not an e-mail address."]),
    ("A,p,1,M,\n", ["Line 2: member M has no e-mail address."]),
    ("A,p,1,M,m@x.org\nA,q,1,N,n@x.org\n",
     ["Line 3: A has project/table 'q'/1 here but 'p'/1 on line 2."]),
    ("A,p,1,M,m@x.org\nB,p,1,N,n@x.org\n", ["Line 3: table 1 is already used by A in this file."]),
    ("A,p,1,M,m@x.org\nB,p,2,N,m@x.org\n", ["Line 3: m@x.org is already listed on line 2."]),
    ("A,p,x,M,m@x.org\nB,p,1,,bad\n",
     ["Line 2: table 'x' is not a whole number from 1 to 100000.",
      "Line 3: 'bad' is not an e-mail address; e-mail bad has no member name."]),
    ("", ["The file has a header but no teams."]),
])
def test_team_errors_name_their_line(body, expected):
    assert errors_of(parse_teams_csv, HEADER + body) == expected


def test_multiline_quoted_field_keeps_line_numbers_right():
    text = HEADER + 'A,"two\nlines",1,M,m@x.org\nB,p,zz,N,n@x.org\n'
    assert errors_of(parse_teams_csv, text) == ["Line 4: table 'zz' is not a whole number from 1 to 100000."]


@pytest.mark.parametrize("text, expected", [
    ("", ["The file is empty: it needs a header row team,project,table,member,email."]),
    ("name,project\nA,p\n", ["Line 1: the header must name the columns team,project,table,member,email "
                             "(missing: team, table)."]),
])
def test_team_header_errors(text, expected):
    assert errors_of(parse_teams_csv, text) == expected


def test_non_utf8_is_refused_with_advice():
    assert errors_of(parse_teams_csv, (HEADER + "Caf\xe9,p,1,,\n").encode("latin-1")) == [
        "The file is not UTF-8 text. In a spreadsheet, save it as 'CSV UTF-8'."]


@pytest.mark.parametrize("body, expected", [
    ("A,a@x.org,\nB,a@x.org,\n", ["Line 3: a@x.org is already listed on line 2."]),
    (",a@x.org,G\n", ["Line 2: the name is empty."]),
    ("A,,G\n", ["Line 2: the e-mail is empty."]),
    ("A,nope,G\n", ["Line 2: 'nope' is not an e-mail address."]),
])
def test_judge_errors_name_their_line(body, expected):
    assert errors_of(parse_judges_csv, "name,email,affiliation\n" + body) == expected


def test_judge_affiliation_column_is_optional():
    assert parse_judges_csv("name,email\nA,A@X.org\n") == [JudgeRow("A", "a@x.org", "", 2)]


@pytest.mark.parametrize("body, expected", [
    ("A,p,3000000000,M,m@x.org\n", ["Line 2: table '3000000000' is not a whole number from 1 to 100000."]),
    ("A,p,1," + "M" * 121 + ",m@x.org\n", ["Line 2: the member name is longer than 120 characters."]),
    ("A,p,1,M," + "m" * 250 + "@x.org\n", ["Line 2: the e-mail is longer than 254 characters."]),
])
def test_values_that_do_not_fit_the_database_are_refused_by_line(body, expected):
    assert errors_of(parse_teams_csv, HEADER + body) == expected


def test_nul_bytes_and_unreadable_headers_are_refused():
    assert errors_of(parse_teams_csv, HEADER + "A,p,1,M\x00,m@x.org\n") == [
        "The file contains NUL bytes: it is not a text CSV file."]
    errors = errors_of(parse_teams_csv, '"' + "x" * 200_000 + '"\n')
    assert len(errors) == 1 and errors[0].startswith("Line 1: the header cannot be read as CSV")


def test_judge_email_length():
    assert errors_of(parse_judges_csv, "name,email\nA," + "a" * 250 + "@x.org\n") == [
        "Line 2: the e-mail is longer than 254 characters."]
