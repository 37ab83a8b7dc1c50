"""The four CSV uploads (teams, judges, assignment plan, table layout): all or nothing, never a 500,
refusals on the page itself, and what they import shown inert in pages and exports."""
from __future__ import annotations

import io

import pytest
from hypothesis import given, strategies as st

from . import checks
from .conftest import budget
from .strategies import (NUL, PAYLOADS, binary_junk, csv_text, encoded, hostile_text, number_text)

MAX_CONTENT_LENGTH = 2 * 1024 * 1024
COOKIE_LIMIT = 4093  # bytes a browser keeps in one cookie; a longer session cookie is dropped silently


def _url(ids, kind):
    event = ids["event"]
    return {"teams": f"/admin/events/{event}/teams/import", "judges": f"/admin/events/{event}/judges/import",
            "assignments": f"/admin/events/{event}/assignments/import",
            "layout": f"/admin/events/{event}/layout/import"}[kind]


FIELD = {"teams": "file", "judges": "file", "assignments": "file", "layout": "layout-file"}
PAGES = {"teams": ["/admin/events/{e}/teams", "/t/{code}"], "judges": ["/admin/events/{e}/judges"],
         "assignments": ["/admin/events/{e}/assignments"], "layout": ["/admin/events/{e}/assignments"]}
EXPORTS = {"teams": ["/admin/events/{e}/team-links.csv", "/admin/events/{e}/grades.csv?draft=1",
                     "/admin/events/{e}/grades.csv?draft=1&format=moodle"],
           "judges": ["/admin/events/{e}/judge-links.csv", "/admin/events/{e}/scores.csv"],
           "assignments": ["/admin/events/{e}/assignments.csv"], "layout": []}

cell = hostile_text().filter(lambda t: len(t) < 400)
small_table = st.one_of(st.integers(min_value=1, max_value=40).map(str), number_text)
email = st.one_of(st.builds(lambda p, n: f"{p}{n}@example.org", st.sampled_from(["a", "=x", "+y", "-z", "@w"]),
                            st.integers(0, 50)), cell)
seeded_judge = st.sampled_from(["alan.kay@judges.example.com", "grace.hopper@judges.example.com", "Alan Kay"])

HEADERS = {
    "teams": st.sampled_from([["team", "project", "table", "member", "email"],
                              ["team", "project", "table", "member", "email", "student_id", "present"],
                              ["TEAM", " Table ", "project", "email", "member"], ["team", "table"], ["team"], []]),
    "judges": st.sampled_from([["name", "email", "affiliation"], ["Name", "E-mail"], ["email", "name"], []]),
    "assignments": st.sampled_from([["judge", "team", "order"], ["team", "judge", "order"], []]),
    "layout": st.sampled_from([["table", "x", "y"], ["x", "y", "table"], []]),
}
ROWS = {
    "teams": st.fixed_dictionaries({
        "team": cell, "project": cell, "table": small_table, "member": cell, "email": email,
        "student_id": st.one_of(cell, st.just("-123")), "present": st.sampled_from(["yes", "no", "", "maybe", "=1"])}),
    "judges": st.fixed_dictionaries({"name": cell, "email": email, "affiliation": cell}),
    "assignments": st.fixed_dictionaries({"judge": st.one_of(seeded_judge, cell),
                                          "team": st.one_of(small_table, cell), "order": number_text}),
    "layout": st.fixed_dictionaries({"table": small_table, "x": number_text, "y": number_text}),
}


@st.composite
def csv_files(draw, kind):
    """(file bytes, file name): a CSV of hostile rows in some encoding, or junk."""
    name = draw(st.sampled_from(["upload.csv", "upload.csv", "upload.txt", "upload.CSV", "upload.xlsx", "upload",
                                 "../../etc/passwd.csv", "<script>.csv"]))
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        return draw(binary_junk), name
    header = draw(HEADERS[kind])
    rows = draw(st.lists(ROWS[kind], max_size=6))
    text = csv_text([header] + [[row.get(col.strip().lower(), "") for col in header] for row in rows])
    if draw(st.booleans()):
        text = text.replace("\r\n", "\n")
    if draw(st.integers(min_value=0, max_value=5)) == 0:
        text += draw(st.sampled_from(['"unterminated,quote\n', "a,b\x00c\n", "\n\n\n", ",,,,,\n", "x" * 3000]))
    return draw(encoded(text)), name


def upload(world, kind, data: bytes | None, filename="upload.csv"):
    files = {} if data is None else {FIELD[kind]: (io.BytesIO(data), filename)}
    return world.client.post(_url(world.ids, kind), data=files, content_type="multipart/form-data")


def _fill(path, ids):
    return path.format(e=ids["event"], code=ids["codes"][0])


def check_import(world, kind, data, filename="upload.csv"):
    before = world.rows()
    response = upload(world, kind, data, filename)
    checks.no_server_error(response)
    after = world.rows()
    cookie = response.headers.get("Set-Cookie", "")
    accepted = response.status_code == 302 and "flash-success" in world.client.get("/admin/events").get_data(
        as_text=True)
    if not accepted:
        checks.unchanged(before, after, response)
        # Refused on the page itself (422, the lines listed), never a redirect with a flash in the cookie.
        checks.refused_clearly(response)
        assert response.status_code in (413, 422), checks.describe(response)
        checks.inert_html(response.get_data(as_text=True))
    else:
        checks.columns_fit(world.app)
        for path in PAGES[kind]:
            page = world.client.get(_fill(path, world.ids))
            checks.no_server_error(page)
            checks.inert_html(page.get_data(as_text=True), PAYLOADS)
        for path in EXPORTS[kind]:
            export = world.client.get(_fill(path, world.ids))
            checks.no_server_error(export)
            if export.status_code == 200:
                checks.formula_safe_csv(export.get_data(as_text=True))
    assert len(cookie.split(";", 1)[0]) < COOKIE_LIMIT, f"session cookie of {len(cookie)} bytes: a browser drops it"
    world.reset(after)
    return response, accepted


@pytest.mark.parametrize("kind", ["teams", "judges", "assignments", "layout"])
@budget(ci=15)
@given(data=st.data())
def test_csv_import(world, kind, data):
    content, filename = data.draw(csv_files(kind), label="file")
    response, accepted = check_import(world, kind, content, filename)
    if not accepted and filename.lower().endswith((".csv", ".txt")):  # read at all (not refused by its name)
        page = response.get_data(as_text=True)
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            assert "The file is not UTF-8 text" in page, checks.describe(response)
        else:
            if "\x00" in text:
                assert "NUL bytes" in page, checks.describe(response)


VALID = {
    "teams": lambda p: csv_text([["team", "project", "table", "member", "email", "student_id"],
                                 [p[0], p[1], "31", p[2], "ann@x.org", p[3]],
                                 [p[0], p[1], "31", p[4], "bob@x.org", "-42"]]),
    "judges": lambda p: csv_text([["name", "email", "affiliation"], [p[0], "new@x.org", p[1]],
                                  [p[2], "=cmd@x.org", p[3]]]),
}


@pytest.mark.parametrize("kind", ["teams", "judges"])
@budget(ci=3)
@given(payloads=st.lists(st.sampled_from(PAYLOADS), min_size=5, max_size=5))
def test_imported_payloads_are_inert(world, kind, payloads):
    content = VALID[kind]([p[:100] for p in payloads]).encode()
    response, accepted = check_import(world, kind, content)
    assert accepted, checks.describe(response)


@pytest.mark.parametrize("kind", ["teams", "judges", "assignments", "layout"])
def test_upload_over_max_content_length_is_413(world, kind):
    big = b"team,project,table,member,email\n" + b"x" * (MAX_CONTENT_LENGTH + 1)
    before = world.rows()
    response = upload(world, kind, big)
    assert response.status_code == 413, checks.describe(response)
    checks.refused_clearly(response)
    checks.unchanged(before, world.rows(), response)


@pytest.mark.parametrize("kind", ["teams", "judges", "assignments", "layout"])
def test_missing_or_empty_file_is_refused(world, kind):
    for data in (None, b""):
        check_import(world, kind, data)


@pytest.mark.parametrize("kind", ["teams", "judges", "assignments", "layout"])
def test_import_errors_are_on_the_page_not_in_the_cookie(world, kind):
    """Hundreds of refused lines: the page lists them (422) and the session cookie stays small."""
    header = {"teams": "team,project,table,member,email", "judges": "name,email,affiliation",
              "assignments": "judge,team,order", "layout": "table,x,y"}[kind]
    body = "\n".join(f"{'<script>alert(1)</script>' * 3},x,not-a-number-{i},y,bad" for i in range(400))
    before = world.rows()
    response = upload(world, kind, f"{header}\n{body}\n".encode())
    assert response.status_code == 422, checks.describe(response)
    assert len(response.headers.get("Set-Cookie", "")) < COOKIE_LIMIT
    page = response.get_data(as_text=True)
    headline = "No position was changed" if kind == "layout" else "Nothing was imported"
    assert headline in page and ("Line 2" in page or "line 2" in page), checks.describe(response)
    checks.inert_html(page)
    checks.unchanged(before, world.rows(), response)


@pytest.mark.parametrize("kind", ["teams", "judges", "assignments", "layout"])
def test_nul_in_csv_is_refused(world, kind):
    header = {"teams": "team,project,table,member,email", "judges": "name,email,affiliation",
              "assignments": "judge,team,order", "layout": "table,x,y"}[kind]
    row = {"teams": "Nul\x00Team,p,33,,", "judges": "Nul\x00Judge,nul@x.org,", "assignments":
           "alan.kay@judges.example.com\x00,1,1", "layout": "1\x00,1,1"}[kind]
    before = world.rows()
    response = upload(world, kind, f"{header}\n{row}\n".encode())
    checks.no_server_error(response)
    assert response.status_code == 422, checks.describe(response)
    checks.refused_clearly(response)
    assert "NUL bytes" in response.get_data(as_text=True), checks.describe(response)
    checks.unchanged(before, world.rows(), response)


@pytest.mark.parametrize("kind", ["teams", "judges", "assignments", "layout"])
def test_non_utf8_csv_is_refused(world, kind):
    header = {"teams": "team,project,table,member,email", "judges": "name,email,affiliation",
              "assignments": "judge,team,order", "layout": "table,x,y"}[kind]
    response, accepted = check_import(world, kind, f"{header}\nJosé,1,1\n".encode("latin-1"))
    assert not accepted and response.status_code == 422, checks.describe(response)
    assert "The file is not UTF-8 text" in response.get_data(as_text=True), checks.describe(response)


@pytest.mark.parametrize("cell", ["²", "①"])
def test_layout_superscript_digit_is_refused(world, cell):
    """Cells that pass str.isdigit() but that int() refuses: a line error."""
    response, accepted = check_import(world, "layout", f"table,x,y\n{cell},1,1\n".encode())
    assert not accepted and response.status_code == 422, checks.describe(response)
    assert "Line 2" in response.get_data(as_text=True) or "line 2" in response.get_data(as_text=True), \
        checks.describe(response)
