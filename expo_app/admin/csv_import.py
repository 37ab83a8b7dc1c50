"""Reading the teams and judges CSV files: every problem is reported with its line number.

Parsing is pure (text in, rows and errors out); expo_app.admin.operations applies the rows to the
database, all or nothing.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import NamedTuple

TEAM_COLUMNS = ("team", "project", "table", "member", "email")
TEAM_OPTIONAL = ("student_id", "present", "companies")
JUDGE_COLUMNS = ("name", "email", "affiliation")
EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
# The database's column sizes, and the largest table number (the forms allow the same).
MAX_NAME, MAX_EMAIL, MAX_TABLE, MAX_STUDENT_ID, MAX_COMPANIES = 120, 254, 100_000, 64, 300
# An expo's teams, judges or visits fit in far fewer rows. The bound keeps an import's one write
# transaction short, so judges' submits never wait long behind it (SQLite has one writer).
MAX_ROWS = 5000
PRESENT_WORDS = {"yes": True, "y": True, "true": True, "1": True, "present": True,
                 "no": False, "n": False, "false": False, "0": False, "absent": False, "not present": False}

# Spreadsheets set to a European locale save "CSV" with semicolons, and some tools with tabs: the
# header line says which (see _delimiter).
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}
SAVE_WITH_COMMAS = ("Save the file as CSV (UTF-8) with commas between the columns, or copy your rows into the "
                    "downloadable template, and import it again.")

TEAMS_TEMPLATE = (
    "team,project,table,member,email,student_id,present,companies\r\n"
    "Drift Busters,Real-time drift detection for fraud models,1,Ada Lovelace,ada@example.edu,001234567,yes,"
    "Stripe; Google Cloud\r\n"
    "Drift Busters,Real-time drift detection for fraud models,1,Alan Turing,alan@example.edu,001234568,yes,"
    "Stripe; Google Cloud\r\n"
    "Pipeline Pilots,Reproducible retraining on Vertex AI,2,Grace Hopper,grace@example.edu,001234569,no,\r\n"
)
JUDGES_TEMPLATE = (
    "name,email,affiliation\r\n"
    "Katherine Johnson,katherine@example.com,Google Cloud\r\n"
    "Edsger Dijkstra,edsger@example.com,Faculty\r\n"
)


def is_email(address: str) -> bool:
    """Whether the address can be written to (the syntax the judge form's Email() checks, through
    email_validator; no DNS look-up): the e-mails to judges and members go to these addresses."""
    from email_validator import EmailNotValidError, validate_email

    if not EMAIL.match(address):
        return False
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


class CsvImportError(ValueError):
    """The file cannot be imported; `errors` lists every problem, each naming its line."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


class MemberRow(NamedTuple):
    """A member as a file or form gives it; None: that column was not given (leave it as it is)."""

    name: str
    email: str
    line: int = 0
    student_id: str | None = None
    present: bool | None = None


@dataclass
class TeamRow:
    name: str
    project: str
    table: int
    line: int
    members: list[MemberRow] = field(default_factory=list)
    # "A; B" as the team form stores it; None: no company given (the team's list stays as it is).
    companies: str | None = None
    companies_line: int = 0


@dataclass(frozen=True)
class JudgeRow:
    name: str
    email: str
    affiliation: str
    line: int


def decode_csv(data: bytes | str) -> str:
    """An upload's text, or CsvImportError for a file that is not UTF-8 text or holds NUL bytes."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CsvImportError(["The file is not UTF-8 text. In a spreadsheet, save it as 'CSV UTF-8'."]) from None
    else:
        text = data.lstrip("\ufeff")
    if "\x00" in text:
        raise CsvImportError(["The file contains NUL bytes: it is not a text CSV file."])
    return text


def tidy_companies(text: str) -> str:
    """A cell's companies, separated by ';', '|' or ',', written 'A; B' as the team form writes them."""
    return "; ".join(part.strip() for part in re.split(r"[;|,]", text) if part.strip())


def _header_cells(line: str, delimiter: str) -> list[str]:
    try:
        cells = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return []
    return [cell.strip().lower() for cell in cells]


def _delimiter(first_line: str, columns: tuple[str, ...], required: tuple[str, ...]) -> str | None:
    """The delimiter under which the header line names every required column (the one that names
    the most known columns, commas first on a tie), or None when no delimiter does."""
    fitting = [(sum(c in cells for c in columns), -rank, delimiter)
               for rank, delimiter in enumerate(DELIMITERS)
               if all(c in (cells := _header_cells(first_line, delimiter)) for c in required)]
    return max(fitting)[2] if fitting else None


def _records(data: bytes | str, columns: tuple[str, ...], required: tuple[str, ...], optional: tuple[str, ...] = ()):
    """Yield (line number, row dict) for each non-blank record; raise CsvImportError on a bad header.

    Columns may be separated by commas, semicolons or tabs; the header line decides which. A first
    line `sep=;` (which Excel writes and reads) names the delimiter itself.
    """
    text = decode_csv(data)
    first_line = text.split("\n", 1)[0].rstrip("\r")
    skip = 0
    if re.fullmatch(r"sep=(,|;|\t)", first_line):
        delimiter, skip = first_line[4], 1
    else:
        delimiter = _delimiter(first_line, columns + optional, required)
    if delimiter is None:
        if ";" not in first_line and "\t" not in first_line:
            delimiter = ","  # a comma file (or one column): the header check below says what is missing
        else:
            # Neither commas nor semicolons nor tabs give the columns: saying "missing: team" for a
            # header that holds "team" would mislead, so say what to do instead.
            shown = first_line if len(first_line) <= 80 else first_line[:77] + "..."
            raise CsvImportError([f"Line 1: the header must name the columns {','.join(columns)}, separated by "
                                  f"commas, semicolons or tabs (it reads '{shown}'). " + SAVE_WITH_COMMAS])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for _ in range(skip):
            next(reader)
        header = next(reader)
    except StopIteration:
        raise CsvImportError(["The file is empty: it needs a header row " + ",".join(columns) + "."]) from None
    except csv.Error as exc:
        raise CsvImportError([f"Line {1 + skip}: the header cannot be read as CSV ({exc})."]) from None
    header = [h.strip().lower() for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        separated = "" if delimiter == "," else f", separated by {DELIMITER_NAMES[delimiter]} as line 1 says"
        raise CsvImportError([f"Line {1 + skip}: the header must name the columns {','.join(columns)}{separated} "
                              f"(missing: {', '.join(missing)})."])
    index = {name: header.index(name) for name in columns + optional if name in header}
    line = reader.line_num + 1
    count = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvImportError([f"Line {line}: the file cannot be read as CSV ({exc})."]) from None
        start, line = line, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise CsvImportError([f"Line {start}: the file has more than {MAX_ROWS:,} rows. An expo's list fits in "
                                  "far fewer: check that this is the right file, or split it."])
        yield start, {name: (cells[i].strip() if i < len(cells) else "") for name, i in index.items()}


def parse_teams_csv(data: bytes | str) -> list[TeamRow]:
    """Teams from a CSV with one row per member: team,project,table,member,email.

    A team with several members repeats its name, project and table on each row; they must agree.
    A row with an empty member and e-mail lists a team without members. The optional `companies`
    cell (separated by ';', '|' or ',') may be given on any of a team's rows; rows that give it
    must agree.
    """
    errors: list[str] = []
    teams: dict[str, TeamRow] = {}
    tables: dict[int, str] = {}
    emails: dict[str, int] = {}
    for line, row in _records(data, TEAM_COLUMNS, ("team", "table"), TEAM_OPTIONAL):
        name, project = row["team"], row.get("project", "")
        member, email = row.get("member", ""), row.get("email", "").lower()
        problems = []
        if not name:
            problems.append("the team name is empty")
        elif len(name) > 120:
            problems.append("the team name is longer than 120 characters")
        if len(project) > 300:
            problems.append("the project title is longer than 300 characters")
        try:
            table = int(row["table"])
            if not 1 <= table <= MAX_TABLE:
                raise ValueError
        except ValueError:
            problems.append(f"table '{row['table']}' is not a whole number from 1 to {MAX_TABLE}")
            table = None
        if len(member) > MAX_NAME:
            problems.append(f"the member name is longer than {MAX_NAME} characters")
        if len(email) > MAX_EMAIL:
            problems.append(f"the e-mail is longer than {MAX_EMAIL} characters")
        if email and len(email) <= MAX_EMAIL and not is_email(email):
            problems.append(f"'{row.get('email', '')}' is not an e-mail address")
        if member and not email:
            problems.append(f"member {member} has no e-mail address")
        if email and not member:
            problems.append(f"e-mail {email} has no member name")
        student_id = row.get("student_id", "") or None
        if student_id and len(student_id) > MAX_STUDENT_ID:
            problems.append(f"the student id is longer than {MAX_STUDENT_ID} characters")
        present_text = " ".join(row.get("present", "").lower().split())
        present = PRESENT_WORDS.get(present_text) if present_text else None
        if present_text and present is None:
            problems.append(f"present '{row['present']}' is not yes or no")
        if (student_id or present_text) and not email:
            problems.append("student_id and present describe a member: give the member and e-mail too")
        companies = tidy_companies(row.get("companies", "")) or None
        if companies and len(companies) > MAX_COMPANIES:
            problems.append(f"the companies are longer than {MAX_COMPANIES} characters once written as 'A; B'")
        if problems:
            errors.append(f"Line {line}: " + "; ".join(problems) + ".")
            continue
        key = name.casefold()
        team = teams.get(key)
        if team is None:
            if table in tables:
                errors.append(f"Line {line}: table {table} is already used by {tables[table]} in this file.")
                continue
            team = teams[key] = TeamRow(name=name, project=project, table=table, line=line)
            tables[table] = name
        elif (team.project, team.table) != (project, table):
            errors.append(f"Line {line}: {name} has project/table '{project}'/{table} here but "
                          f"'{team.project}'/{team.table} on line {team.line}.")
            continue
        if companies:
            if team.companies is None:
                team.companies, team.companies_line = companies, line
            elif team.companies.casefold() != companies.casefold():
                errors.append(f"Line {line}: {name} has companies '{companies}' here but "
                              f"'{team.companies}' on line {team.companies_line}.")
                continue
        if email:
            if email in emails:
                errors.append(f"Line {line}: {email} is already listed on line {emails[email]}.")
                continue
            emails[email] = line
            team.members.append(MemberRow(member, email, line, student_id, present))
    if errors:
        raise CsvImportError(errors)
    if not teams:
        raise CsvImportError(["The file has a header but no teams."])
    return list(teams.values())


def parse_judges_csv(data: bytes | str) -> list[JudgeRow]:
    """Judges from a CSV: name,email,affiliation (affiliation may be empty)."""
    errors: list[str] = []
    judges: list[JudgeRow] = []
    seen: dict[str, int] = {}
    for line, row in _records(data, JUDGE_COLUMNS, ("name", "email")):
        name, email, affiliation = row["name"], row["email"].lower(), row.get("affiliation", "")
        problems = []
        if not name:
            problems.append("the name is empty")
        elif len(name) > 120:
            problems.append("the name is longer than 120 characters")
        if len(email) > MAX_EMAIL:
            problems.append(f"the e-mail is longer than {MAX_EMAIL} characters")
        elif not is_email(email):
            problems.append(f"'{row['email']}' is not an e-mail address" if email else "the e-mail is empty")
        elif email in seen:
            problems.append(f"{email} is already listed on line {seen[email]}")
        if len(affiliation) > 200:
            problems.append("the affiliation is longer than 200 characters")
        if problems:
            errors.append(f"Line {line}: " + "; ".join(problems) + ".")
            continue
        seen[email] = line
        judges.append(JudgeRow(name, email, affiliation, line))
    if errors:
        raise CsvImportError(errors)
    if not judges:
        raise CsvImportError(["The file has a header but no judges."])
    return judges
