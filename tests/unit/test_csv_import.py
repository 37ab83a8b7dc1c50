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
    assert [(t.name, t.table, [m[1] for m in t.members], t.companies) for t in teams] == [
        ("Drift Busters", 1, ["ada@example.edu", "alan@example.edu"], "Stripe; Google Cloud"),
        ("Pipeline Pilots", 2, ["grace@example.edu"], None),
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


# --- delimiters: European Excel saves "CSV" with semicolons; some tools with tabs ------------------

@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_commas_semicolons_and_tabs_are_read_alike(delimiter):
    rows = [["team", "project", "table", "member", "email", "companies"],
            ["Drift Busters", "Drift, in real time", "1", "Ada", "ada@x.org", "Stripe; Google Cloud"],
            ["Drift Busters", "Drift, in real time", "1", "Alan", "alan@x.org", ""],
            ["Solo", "p", "2", "", "", ""]]
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    teams = parse_teams_csv(out.getvalue().encode())
    assert [(t.name, t.project, t.table, [(m.name, m.email, m.line) for m in t.members], t.companies)
            for t in teams] == [
        ("Drift Busters", "Drift, in real time", 1, [("Ada", "ada@x.org", 2), ("Alan", "alan@x.org", 3)],
         "Stripe; Google Cloud"),
        ("Solo", "p", 2, [], None),
    ]


def test_a_semicolon_file_from_european_excel_reports_its_bad_rows_by_line():
    text = ("\ufeffTeam;Project;Table;Member;Email\r\n"
            "A;Projet, version 2;1;Marie Curie;marie@x.org\r\n"
            "B;p;deux;Pierre;pierre@x.org\r\n"
            "C;p;3;Paul;pas-un-email\r\n")
    assert errors_of(parse_teams_csv, text.encode()) == [
        "Line 3: table 'deux' is not a whole number from 1 to 100000.",
        "Line 4: 'pas-un-email' is not an e-mail address."]


def test_semicolon_judges_and_excel_sep_line():
    assert parse_judges_csv("name;email;affiliation\nA;A@x.org;Acme, Inc.\n") == [
        JudgeRow("A", "a@x.org", "Acme, Inc.", 2)]
    assert parse_judges_csv("sep=;\r\nname;email\r\nB;b@x.org\r\n") == [JudgeRow("B", "b@x.org", "", 3)]
    assert errors_of(parse_judges_csv, "sep=;\nname;mail\nB;b@x.org\n") == [
        "Line 2: the header must name the columns name,email,affiliation, separated by semicolons as line 1 says "
        "(missing: email)."]


@pytest.mark.parametrize("header", ["Équipe;Projet;Table;Membre;Courriel", "team name\tproject\ttable no."])
def test_a_header_that_no_delimiter_reads_says_to_save_with_commas(header):
    (message,) = errors_of(parse_teams_csv, header + "\nA;p;1;;\n")
    assert message == (
        "Line 1: the header must name the columns team,project,table,member,email, separated by commas, semicolons "
        f"or tabs (it reads '{header}'). Save the file as CSV (UTF-8) with commas between the columns, or copy your "
        "rows into the downloadable template, and import it again.")
    assert "missing" not in message


def test_a_comma_header_with_a_semicolon_inside_a_name_stays_a_comma_file():
    (team,) = parse_teams_csv("team,project,table,notes; misc\nA,p;q,1,x\n")
    assert (team.name, team.project, team.table) == ("A", "p;q", 1)


# --- companies ------------------------------------------------------------------------------------

@pytest.mark.parametrize("cell, stored", [
    ("Google Cloud", "Google Cloud"),
    ("  Google Cloud ;Stripe;; ", "Google Cloud; Stripe"),
    ("Google Cloud|Stripe | Acme", "Google Cloud; Stripe; Acme"),
    ("Google Cloud, Stripe", "Google Cloud; Stripe"),  # as the team form splits them
    ("", None),
    (" ; | ", None),
])
def test_companies_are_stored_as_the_team_form_writes_them(cell, stored):
    (team,) = parse_teams_csv(f'team,table,companies\nA,1,"{cell}"\n')
    assert team.companies == stored


def test_companies_on_any_row_of_a_team_and_rows_that_disagree():
    text = ("team,table,member,email,companies\n"
            "A,1,Ann,ann@x.org,\n"
            "A,1,Bob,bob@x.org,Stripe|Acme\n"
            "A,1,Cy,cy@x.org,stripe; acme\n"
            "B,2,Di,di@x.org,Stripe\n"
            "B,2,Ed,ed@x.org,Acme\n")
    assert errors_of(parse_teams_csv, text) == ["Line 6: B has companies 'Acme' here but 'Stripe' on line 5."]
    first, _ = parse_teams_csv(text.rsplit("B,2,Ed", 1)[0])
    assert (first.companies, [m.email for m in first.members]) == ("Stripe; Acme", ["ann@x.org", "bob@x.org", "cy@x.org"])


def test_companies_longer_than_the_column_are_refused_by_line():
    cell = "; ".join(f"Company {i:03d}" for i in range(40))
    assert errors_of(parse_teams_csv, f"team,table,companies\nA,1,{cell}\n") == [
        "Line 2: the companies are longer than 300 characters once written as 'A; B'."]
