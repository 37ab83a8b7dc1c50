"""What every fuzzed request must satisfy: no 500, a clear refusal that wrote nothing, inert output."""
from __future__ import annotations

import csv
import io
import re

from markupsafe import escape

from expo_app.extensions import db
from expo_app.scoring.csvio import FORMULA_TRIGGERS

from .conftest import diff_rows
from .strategies import HTML_PAYLOADS

ERROR_MARKERS = ('class="error"', 'class="form-errors"', "flash-error", 'role="alert"', "Not saved",
                 "Nothing was imported", "<h1>Something in that request was wrong</h1>", "File too large")


def describe(response) -> str:
    body = response.get_data(as_text=True)
    return f"{response.request.method} {response.request.path} -> {response.status_code}: {body[:600]!r}"


def no_server_error(response) -> None:
    assert response.status_code < 500, describe(response)


def has_error_message(response) -> bool:
    body = response.get_data(as_text=True)
    if response.is_json:
        return bool((response.get_json() or {}).get("reason"))
    if response.status_code >= 400 and "<h1>" in body:  # the error page: its title and message say why
        return True
    return any(marker in body for marker in ERROR_MARKERS)


def throttled(response) -> bool:
    """A 429 or 503 that says when to come back (login throttling, a busy database): a clean refusal."""
    return response.status_code in (429, 503) and response.headers.get("Retry-After", "").isdigit()


def refused_clearly(response) -> None:
    """A refusal says why: a 4xx page or a re-rendered form, with an error message on it (or a
    429/503 with Retry-After)."""
    assert response.status_code in (200, 400, 403, 404, 409, 413, 422) or throttled(response), describe(response)
    assert has_error_message(response), "refused without a message: " + describe(response)


NUL_TEXT = "NUL character"  # in every refusal of a request that carries one


def carries_nul(*values) -> bool:
    """Whether any of the values (strings, dicts of them, lists) holds a NUL character."""
    for value in values:
        if isinstance(value, str) and "\x00" in value:
            return True
        if isinstance(value, dict) and carries_nul(*value.keys(), *value.values()):
            return True
        if isinstance(value, (list, tuple)) and carries_nul(*value):
            return True
    return False


def refused_for_nul(response, as_json: bool = False) -> None:
    """A request carrying NUL: a 400 page saying so, or for the phone's JSON a 422 "refused"."""
    if as_json:
        body = response.get_json(silent=True) or {}
        assert response.status_code == 422 and body.get("status") == "refused", describe(response)
        assert NUL_TEXT in body.get("reason", ""), describe(response)
    else:
        assert response.status_code == 400, describe(response)
        assert NUL_TEXT in response.get_data(as_text=True), describe(response)


# Rate-limit counters and caches (login throttling writes on every failed sign-in, by design): not data.
VOLATILE = {"shared_state"}


def unchanged(before: dict, after: dict, response=None) -> None:
    before = {k: v for k, v in before.items() if k not in VOLATILE}
    after = {k: v for k, v in after.items() if k not in VOLATILE}
    assert after == before, ("a refused request changed rows: " + repr(diff_rows(before, after))
                             + ("" if response is None else " / " + describe(response)))


def inert_html(html: str, texts=()) -> None:
    """No markup payload reaches the page unescaped; `texts` (stored values with markup) neither."""
    for payload in HTML_PAYLOADS:
        assert payload not in html, f"unescaped payload {payload!r} in the page"
    for text in texts:
        text = (text or "").strip()
        if "<" in text and len(text) >= 6:
            assert text not in html, f"unescaped text {text[:80]!r} in the page"


def shows_escaped(html: str, text: str) -> bool:
    """Whether the (stripped) text appears on the page, escaped."""
    return str(escape(text.strip())) in html


def csv_cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


_PIECES = re.compile(r"[;,\t\n\r]")


def formula_safe_csv(text: str) -> None:
    """No cell of an export starts a spreadsheet formula (numbers, such as -1.5, are data), and no piece of
    one does where a spreadsheet may split it into cells of its own (after ; , tab, LF or CR, and spaces)."""
    for row in csv_cells(text):
        for cell in row:
            if cell.startswith(FORMULA_TRIGGERS):
                try:
                    float(cell)
                except ValueError:
                    raise AssertionError(f"CSV cell would run as a formula: {cell[:80]!r}") from None
            for piece in _PIECES.split(cell)[1:]:
                if piece.lstrip(" ").startswith(("=", "+", "-", "@")):
                    raise AssertionError(f"CSV cell {cell[:80]!r} holds a piece that would run as a formula once "
                                         f"split off: {piece[:40]!r}")


def columns_fit(app) -> None:
    """Every stored text fits its column's declared length (PostgreSQL refuses what SQLite keeps)."""
    with app.app_context():
        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                limited = [c for c in table.columns if getattr(c.type, "length", None)]
                if not limited:
                    continue
                for row in conn.execute(db.select(*limited)):
                    for column, value in zip(limited, row):
                        if isinstance(value, str):
                            assert len(value) <= column.type.length, (
                                f"{table.name}.{column.name} holds {len(value)} characters, more than its "
                                f"VARCHAR({column.type.length}): PostgreSQL would refuse the write with a 500. "
                                f"Value starts {value[:60]!r}")
            conn.rollback()
