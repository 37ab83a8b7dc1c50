"""CSV in and out for the ranking engine (the CLI reads scores and criteria, writes the ranking).

Pure module: standard library only. Readers take the whole file as text and raise CsvError, whose
message starts with the line number, for anything they cannot read.
"""
from __future__ import annotations

import csv
import io
import math
import re
from typing import Any, Iterable

SCORE_COLUMNS = ("judge", "team", "criterion", "score")
CRITERION_COLUMNS = ("name", "weight", "min", "max")
RANKING_COLUMNS = ("rank", "team", "score", "raw_mean", "score_low", "score_high", "rank_low", "rank_high", "judges")
# Spreadsheets run a cell starting with these as a formula (=HYPERLINK(...), +cmd|..., @SUM...); tab and
# carriage return are on OWASP's list because some spreadsheets skip them before looking.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Inside a cell, a spreadsheet may split the text into cells of its own: at ";" or "," (Excel in locales
# whose list separator is ";", text import with another delimiter) and at tabs and line breaks (pasting).
# A piece that starts a formula there (after spaces, which some importers trim) gets a quote too.
CELL_SPLITTERS = (";", ",", "\t", "\n", "\r")
_SPLIT_FORMULA = re.compile(r"([;,\t\n\r] *)([=+\-@])")
TRUE_WORDS = ("true", "yes", "1")


class CsvError(ValueError):
    """A CSV file could not be read; the message names the line."""

    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line


def read_scores_csv(text: str) -> list[dict]:
    """Rows of a judge,team,criterion,score file as dicts; scores become int (or float if fractional).

    Other columns are ignored, except `absent` (as in the app's score export): a row marked absent
    (true/yes/1) is not a score and is skipped, empty score and all.
    """
    rows = []
    for line, record in _records(text, SCORE_COLUMNS, optional=("absent",)):
        if record.get("absent", "").strip().lower() in TRUE_WORDS:
            continue
        judge, team, criterion = (_required_text(record, column, line) for column in ("judge", "team", "criterion"))
        rows.append({"judge": judge, "team": team, "criterion": criterion,
                     "score": _number(record["score"], "score", line)})
    return rows


def read_criteria_csv(text: str) -> list[dict]:
    """Rows of a name,weight,min,max file as dicts with a float weight and whole-number min and max."""
    criteria: list[dict] = []
    seen: dict[str, int] = {}
    for line, record in _records(text, CRITERION_COLUMNS):
        name = _required_text(record, "name", line)
        if name in seen:
            raise CsvError(line, f"criterion '{name}' is already defined on line {seen[name]}")
        seen[name] = line
        weight = float(_number(record["weight"], "weight", line))
        if weight < 0:
            raise CsvError(line, f"weight '{record['weight'].strip()}' must not be negative")
        low = _whole(record["min"], "min", line)
        high = _whole(record["max"], "max", line)
        if low >= high:
            raise CsvError(line, f"min {low} must be below max {high}")
        criteria.append({"name": name, "weight": weight, "min": low, "max": high})
    return criteria


def format_ranking_csv(teams: Iterable[Any]) -> str:
    """The ranking as CSV: rank,team,score,raw_mean,score_low,score_high,rank_low,rank_high,judges.

    Scores have 2 decimals; team names are made safe against spreadsheet formulas (csv_safe).
    Accepts the ranking's objects or any mappings with those keys.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RANKING_COLUMNS)
    for team in teams:
        writer.writerow([
            int(team["rank"]),
            csv_safe(team["team"]),
            f"{float(team['score']):.2f}",
            f"{float(team['raw_mean']):.2f}",
            f"{float(team['score_low']):.2f}",
            f"{float(team['score_high']):.2f}",
            int(team["rank_low"]),
            int(team["rank_high"]),
            int(team["judges"]),
        ])
    return out.getvalue()


def to_csv(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> str:
    """A CSV file (CRLF line ends, UTF-8 text) with every cell passed through csv_safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_safe(cell) for cell in header])
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
    return buffer.getvalue()


def csv_safe(value: Any) -> Any:
    """Neutralise spreadsheet formulas: a text cell starting with = + - @ (or tab, CR) gets a leading quote,
    and so does every piece of it that starts one after a ; , tab, line feed or carriage return (and any
    spaces): "Rover;=HYPERLINK(...)" becomes "Rover;'=HYPERLINK(...)".

    Anything that is not text (numbers, None) is returned unchanged: csv.writer writes it as it is,
    and a negative number is data, not a formula. Applying it twice changes nothing more.
    """
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_TRIGGERS):
        value = "'" + value
    if any(splitter in value for splitter in CELL_SPLITTERS):
        value = _SPLIT_FORMULA.sub(r"\1'\2", value)
    return value


def _records(text: str, columns: tuple[str, ...], optional: tuple[str, ...] = ()):
    """(line number, {column: raw text}) for each non-blank data row, after checking the header."""
    if text.startswith("\ufeff"):
        text = text[1:]  # Excel's byte-order mark would otherwise stick to the first column name
    reader = csv.reader(io.StringIO(text, newline=""))
    header = None
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = _header_positions(row, columns, optional, reader.line_num)
                width = len(row)
                continue
            line = reader.line_num
            if len(row) != width:
                raise CsvError(line, f"expected {width} fields like the header, got {len(row)}")
            yield line, {column: row[position] for column, position in header.items()}
    except csv.Error as problem:
        raise CsvError(reader.line_num, f"not valid CSV ({problem})") from None
    if header is None:
        raise CsvError(1, f"the file is empty; expected a header {','.join(columns)}")


def _header_positions(row: list[str], columns: tuple[str, ...], optional: tuple[str, ...], line: int) -> dict[str, int]:
    names = [cell.strip().lower() for cell in row]
    missing = [column for column in columns if column not in names]
    if missing:
        raise CsvError(line, f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
                             f"the header must name {','.join(columns)}")
    wanted = columns + optional
    duplicated = sorted({name for name in names if name in wanted and names.count(name) > 1})
    if duplicated:
        raise CsvError(line, f"column {', '.join(duplicated)} appears twice in the header")
    return {column: names.index(column) for column in wanted if column in names}


def _required_text(record: dict[str, str], column: str, line: int) -> str:
    value = record[column].strip()
    if not value:
        raise CsvError(line, f"{column} is empty")
    return value


def _number(raw: str, column: str, line: int) -> int | float:
    text = raw.strip()
    if not text:
        raise CsvError(line, f"{column} is empty")
    try:
        value = float(text)
    except ValueError:
        raise CsvError(line, f"{column} '{text}' is not a number") from None
    if not math.isfinite(value):
        raise CsvError(line, f"{column} '{text}' is not a number")
    return int(value) if value.is_integer() else value


def _whole(raw: str, column: str, line: int) -> int:
    value = _number(raw, column, line)
    if not float(value).is_integer():
        raise CsvError(line, f"{column} '{raw.strip()}' is not a whole number")
    return int(value)
