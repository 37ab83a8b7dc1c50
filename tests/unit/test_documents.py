"""The document pipeline without a database: codes, sizing, QR, the fetcher, inert text, scripts, long names."""
from __future__ import annotations

import re

import pytest

from expo_app import create_app
from expo_app.documents import fit_class
from expo_app.documents.batches import KINDS, Batch, badge_item
from expo_app.documents.codes import (CodeClaim, make_certificate_code, make_legacy_certificate_code,
                                      read_certificate_code)
from expo_app.documents.qr import qr_matrix, qr_modules, qr_svg_inline
from expo_app.documents.render import STATIC_BASE, FetchRefused, StaticOnlyFetcher, render_pdf
from tests.pdfs import pdf_fonts, pdf_page_sizes_mm, pdf_pages, text_positions

SECRET = "unit-test-secret"


# --- verification codes -------------------------------------------------------------------------

def test_a_code_reads_back_to_its_certificate_and_reprints_identically():
    code = make_certificate_code(SECRET, "K7M3QX9PA2")
    assert code == make_certificate_code(SECRET, "K7M3QX9PA2")
    uid, mac = code.split("-")
    assert uid == "K7M3QX9PA2" and len(mac) == 16 and set(mac) <= set("23456789ABCDEFGHJKLMNPQRSTUVWXYZ")
    assert read_certificate_code(SECRET, code) == CodeClaim("K7M3QX9PA2")
    assert read_certificate_code(SECRET, code.lower()) == CodeClaim("K7M3QX9PA2")  # typed in any case
    assert read_certificate_code(SECRET, f" {code}\n") == CodeClaim("K7M3QX9PA2")


@pytest.mark.parametrize("code", [
    "", "42", "42-", "-ABCDEFGHJKLMNPQR", "42-ABCDEFGHJKLMNPQ", "42-ABCDEFGHJKLMNPQRS", "x-ABCDEFGHJKLMNPQR",
    "42-ABCDEFGHJKLMNPQ!", "1234567890123-ABCDEFGHJKLMNPQR", "K7M3QX9PA-ABCDEFGHJKLMNPQR",
    "7K7M3QX9PA-ABCDEFGHJKLMNPQR", "K7M3QX9PA2-ABCDEFGHJKLMNPQR",
])
def test_malformed_or_forged_codes_name_no_certificate(code):
    assert read_certificate_code(SECRET, code) is None


def test_a_code_is_bound_to_its_uid_and_to_the_server_secret():
    code = make_certificate_code(SECRET, "K7M3QX9PA2")
    mac = code.split("-")[1]
    assert read_certificate_code(SECRET, f"K7M3QX9PA3-{mac}") is None
    assert read_certificate_code("another-secret", code) is None
    assert make_certificate_code(SECRET, "K7M3QX9PA3").split("-")[1] != mac


def test_codes_printed_before_uids_name_their_old_row_id():
    old = make_legacy_certificate_code(SECRET, 42)
    assert old.startswith("42-") and len(old) == 19
    assert read_certificate_code(SECRET, old) == CodeClaim(42) and read_certificate_code(SECRET, old).legacy
    assert read_certificate_code(SECRET, "43-" + old[3:]) is None
    # a uid code's MAC is made under another key: it never reads as an old code's, or back
    assert make_certificate_code(SECRET, "K7M3QX9PA2").split("-")[1] != make_legacy_certificate_code(SECRET, 42)[3:]


# --- sizing long text ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, limits, expected", [
    ("", (10, 20), "fit-0"), (None, (10, 20), "fit-0"), ("x" * 10, (10, 20), "fit-0"), ("x" * 11, (10, 20), "fit-1"),
    ("x" * 20, (10, 20), "fit-1"), ("x" * 21, (10, 20), "fit-2"), ("x" * 500, (10, 20, 30, 40), "fit-4"),
    ("x" * 25, (), "fit-1"),  # default limits 24, 40, 70
])
def test_fit_class_steps_down_past_each_limit(text, limits, expected):
    assert fit_class(text, *limits) == expected


# --- QR codes -----------------------------------------------------------------------------------

def test_inline_qr_is_one_path_drawing_exactly_the_dark_modules():
    url = "https://expo.example.org/t/ABCD2345"
    svg = str(qr_svg_inline(url, 'scan "me" <now>'))
    matrix = qr_matrix(url)
    size = qr_modules(url)
    assert size == len(matrix) == 29 + 8  # version 3 plus the quiet zone on both sides
    assert svg.count("<path") == 1 and f'viewBox="0 0 {size} {size}"' in svg and 'stroke-width="1"' in svg
    assert 'aria-label="scan &#34;me&#34; &lt;now&gt;"' in svg
    drawn = set()
    for x, y, length in re.findall(r"M(\d+) (\d+)\.5h(\d+)", svg):
        drawn |= {(int(x) + i, int(y)) for i in range(int(length))}
    assert drawn == {(x, y) for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark}
    assert url not in svg  # only geometry: nothing to escape, nothing to fetch


# --- the fetcher --------------------------------------------------------------------------------

def test_the_fetcher_serves_our_static_files_only():
    fetcher = StaticOnlyFetcher()
    response = fetcher.fetch(STATIC_BASE + "pdf/seal.svg")
    assert response.content_type == "image/svg+xml" and b"<svg" in response.read()
    for url in ("file:///etc/passwd", "http://example.org/x.png", "https://example.org/static/pdf/seal.svg",
                STATIC_BASE + "../../etc/passwd", STATIC_BASE + "pdf/%2e%2e/%2e%2e/config.py",
                STATIC_BASE + "pdf/seal.svg?x=1", STATIC_BASE + "nothing-here.css", STATIC_BASE + "pdf",
                "data:text/plain,hello", "ftp://example.org/x"):
        with pytest.raises(FetchRefused):
            fetcher.fetch(url)


# --- rendering: inert user text, every script, long names --------------------------------------

class RecordingFetcher(StaticOnlyFetcher):
    """Our fetcher, noting every URL a render asks for."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def fetch(self, url, headers=None):
        self.calls.append(url)
        return super().fetch(url, headers)


@pytest.fixture(scope="module")
def render_app():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "PUBLIC_BASE_URL": "https://expo.example.org"})
    with app.app_context():
        yield app


EVENT = {"name": "MLOps Innovation Expo", "date": "10 December 2026", "award_date": "10 December 2026",
         "venue": "Ballroom", "instructor_name": "Dr. Ada Lovelace", "instructor_title": "Instructor"}


def _batch(kind: str, items: list[dict], paper: str = "A4") -> Batch:
    batch = Batch(KINDS[kind], paper, dict(EVENT), items)
    if kind == "placards":
        batch.extra["qr_quiet"] = 2
    return batch


def _render(batch: Batch, fetcher=None):
    return render_pdf(batch.kind.template, batch.context(), paper=batch.paper, items="items", fetcher=fetcher)


def _placard(team, project="", table=7):
    return {"team": team, "project": project, "table": table, "url": "https://expo.example.org/t/ABCD2345",
            "short_url": "expo.example.org/t/ABCD2345", "module_mm": 4.6}


def _certificate(recipient, team="Team", project="Project", award="", kind="participation"):
    return {"id": 1, "kind": kind, "recipient": recipient, "team": team, "project": project, "award": award,
            "code": "1-ABCDEFGHJKLMNPQR", "url": "https://expo.example.org/v/1-ABCDEFGHJKLMNPQR",
            "short_url": "expo.example.org/v/1-ABCDEFGHJKLMNPQR"}


def _badge(name, affiliation=""):
    return badge_item(name, affiliation, "https://expo.example.org/j/1-1-" + "x" * 32)


HOSTILE = [
    '<img src="http://attacker.example/pixel.png">',
    '<link rel="stylesheet" href="file:///etc/passwd">',
    "<style>@import url(http://attacker.example/a.css); body { background: url(file:///etc/shadow) }</style>",
    "url(http://attacker.example/x.png)",
    '"><svg><image href="http://attacker.example/s.png"/></svg>',
]


def test_user_text_is_inert_in_every_document(render_app):
    fetcher = RecordingFetcher()
    batches = [
        _batch("placards", [_placard(HOSTILE[0], HOSTILE[2]), _placard(HOSTILE[3], HOSTILE[4])]),
        _batch("badges", [_badge(HOSTILE[1], HOSTILE[0]), _badge(HOSTILE[4], HOSTILE[3])]),
        _batch("participation", [_certificate(HOSTILE[0], HOSTILE[1], HOSTILE[2])]),
        _batch("certificates", [_certificate(HOSTILE[3], HOSTILE[4], HOSTILE[0], award=HOSTILE[1], kind="award")]),
    ]
    for batch in batches:
        batch.event["name"] = HOSTILE[2]
        pdf = _render(batch, fetcher)
        text = " ".join(pdf_pages(pdf.pdf)).replace(" ", "")
        assert "attacker.example/pixel.png" in text or batch.kind.name == "certificates"  # shown, as text
        assert "file:///etc/passwd" in text or batch.kind.name in ("placards", "certificates")
    # Only our own ornaments were fetched, and only from our static folder.
    assert fetcher.calls and all(url.startswith(STATIC_BASE + "pdf/") for url in fetcher.calls)
    assert {url.rsplit("/", 1)[1] for url in fetcher.calls} <= {"corner.png", "seal.png"}


NAMES = {
    "accents": "Zoë Ångström-Núñez",
    "polish": "Łukasz Żółćiński",
    "greek": "Αλέξανδρος Παπαδόπουλος",
    "cyrillic": "Анастасия Кузнецова",
    "chinese": "王小明 李华",
    "arabic": "فاطمة الزهراء",
}


def test_names_in_every_script_render_as_text_with_fonts_that_have_them(render_app):
    batch = _batch("participation", [_certificate(name, team=name, project=name) for name in NAMES.values()])
    result = _render(batch)
    pages = pdf_pages(result.pdf)
    for page, (script, name) in zip(pages, NAMES.items()):
        if script == "arabic":  # extracted in visual order; compare the letters
            assert set(name.replace(" ", "")) <= set(page), script
        else:
            assert name in page, script
    fonts = pdf_fonts(result.pdf)
    # The fallback reached real fonts for each script (no empty boxes from a font without them).
    assert any(f.startswith("NotoSerif") and "CJK" not in f for f in fonts)
    assert any("CJK" in f for f in fonts), fonts
    assert any("Arabic" in f for f in fonts), fonts


def test_installed_fonts_cover_every_character_of_those_names():
    """The Noto fonts `make` installs hold a glyph for every character the names above use."""
    import subprocess

    from fontTools.ttLib import TTCollection, TTFont

    families = ["Noto Serif", "Noto Serif CJK SC", "Noto Naskh Arabic", "Noto Sans", "Noto Sans CJK SC"]
    covered = set()
    for family in families:
        path = subprocess.run(["fc-match", "-f", "%{file}", family], capture_output=True, text=True).stdout
        fonts = TTCollection(path).fonts if path.endswith(".ttc") else [TTFont(path)]
        for font in fonts:
            covered |= set(font.getBestCmap())
    missing = {ch for name in NAMES.values() for ch in name if ch != " " and ord(ch) not in covered}
    assert not missing


LONG_TEAM = "The Extraordinarily Long-Named Team of Reproducible Observable Scalable Machine Learning Ops Enthusiasts XYZ"
LONG_PROJECT = ("An end-to-end, production-grade, continuously trained, monitored and explained machine learning platform "
                "for detecting data drift, concept drift and label shift in real time across forty-two heterogeneous "
                "streaming data sources, with canary releases, shadow deployments and cost dashboards")
LONG_PERSON = "Maximilian Alexander Constantin Bartholomew von Hohenzollern-Sigmaringen-Wittelsbach y Borbón"
UNBROKEN = "Supercalifragilisticexpialidocious" * 3


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_very_long_names_shrink_or_wrap_and_never_leave_the_page(render_app, paper):
    assert len(LONG_TEAM) <= 120 and len(LONG_PROJECT) <= 300 and len(LONG_PERSON) <= 120
    batches = [
        _batch("placards", [_placard(LONG_TEAM, LONG_PROJECT, 100000), _placard(UNBROKEN[:120], UNBROKEN)], paper),
        _batch("badges", [_badge(LONG_PERSON, LONG_PROJECT[:200]), _badge(UNBROKEN[:120], UNBROKEN[:200])], paper),
        _batch("certificates", [_certificate(LONG_PERSON, LONG_TEAM, LONG_PROJECT, "Best in " + "x" * 100, "award"),
                                _certificate(UNBROKEN[:120], UNBROKEN[:120], UNBROKEN + UNBROKEN, UNBROKEN[:120], "award")],
               paper),
    ]
    for batch in batches:
        batch.event["name"] = "The Annual International Graduate MLOps Innovation Expo and Industry Showcase " * 2
        result = _render(batch)
        assert result.pages == batch.pages  # nothing spilled onto an extra page
        sizes = pdf_page_sizes_mm(result.pdf)
        for page, x, y, text in text_positions(result.pdf):
            width, height = (s * 72 / 25.4 for s in sizes[page])
            assert -1 <= x <= width and -1 <= y <= height, (batch.kind.name, text)


WORDINGS = {
    "sentence": "Reproducible observable scalable machine learning operations with great care ",
    "title case": "Warehouse-Scale Model Monitoring With Drift Alarms, Weekly Audits And Dashboards ",
    "random words": " ".join("".join(__import__("random").Random(n).choices("abcdefghijklmnopqrstuvwxyzMW", k=2 + n % 12))
                             for n in range(60)) + " ",
}


@pytest.mark.parametrize("wording", WORDINGS)
@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_text_at_every_allowed_length_shows_whole(render_app, paper, wording):
    """The form limits (team 120, project 300, names 120, affiliation 200, event 200, venue 200,
    signer 120 and title 200): every line of every field is inside its box, none cut off."""
    from expo_app.documents.render import _layout
    from tests.pdfs import clipped_text

    text = lambda n: (WORDINGS[wording] * 10)[:n].strip()  # noqa: E731
    event = {"name": text(200), "date": "30 September 2026", "award_date": "30 September 2026",
             "venue": text(200), "instructor_name": text(120), "instructor_title": text(200)}
    batches = [
        _batch("placards", [_placard(text(120), text(300), 100000)], paper),
        _batch("badges", [_badge(text(120), text(200))], paper),
        _batch("certificates", [_certificate(text(120), text(120), text(300), text(120), "award")], paper),
        _batch("participation", [_certificate(text(120), text(120), text(300))], paper),
    ]
    for batch in batches:
        batch.event.update(event)
        document = _layout(batch.kind.template, batch.context(), paper)
        assert len(document.pages) == batch.pages
        assert clipped_text(document) == [], batch.kind.name


# --- the sign-in URL under a badge's QR code ------------------------------------------------------

TOKEN = "k7mqx9pa2bcdefgh-12-uJOqOAk4txB9wbfwIAjPteOBLYxPSp_y"


def test_a_badge_splits_its_url_into_the_address_and_the_token_to_type():
    item = badge_item("Grace Hopper", "US Navy", "https://expo.example.org/j/" + TOKEN)
    assert (item["url"], item["typed_address"], item["typed_token"]) == (
        "https://expo.example.org/j/" + TOKEN, "expo.example.org/j/", TOKEN)
    # A browser adds https:// by itself; plain http has to be typed.
    assert badge_item("A", "", "http://192.168.1.20:5000/j/" + TOKEN)["typed_address"] == "http://192.168.1.20:5000/j/"


def _walk(box):
    """Every box under `box`, absolutely positioned ones (kept behind placeholders) included."""
    box = getattr(box, "_box", box)
    yield box
    for child in getattr(box, "children", ()):
        yield from _walk(child)


def _boxes(document, css_class):
    return [box for page in document.pages for box in _walk(page._page_box)
            if box.element is not None and css_class in box.element.get("class", "").split()
            and box.element_tag in ("p", "div", "article") and box.element_tag == getattr(box, "element_tag", "")
            and type(box).__name__ == "BlockBox"]


@pytest.mark.parametrize("paper", ["A4", "Letter"])
@pytest.mark.parametrize("base", ["https://expo.example.org", "http://192.168.1.20:5000",
                                  "https://judging.mlops-expo.cs.example-university.edu",
                                  "https://judging-day.graduate-mlops-innovation-expo.engineering.example-university.edu"])
def test_the_sign_in_url_prints_under_the_qr_code_in_monospace_inside_the_badge(render_app, paper, base):
    from weasyprint.formatting_structure.boxes import TextBox

    from expo_app.documents.render import _layout

    url = f"{base}/j/{TOKEN}"
    batch = _batch("badges", [badge_item("Grace Hopper", "US Navy", url)] * 6, paper)
    (page,) = pdf_pages(_render(batch).pdf)
    typed = url.removeprefix("https://")
    assert page.replace(" ", "").count("NOSCAN?TYPE" + typed) == 6
    assert page.count(TOKEN) == 6  # the token on one line, never split
    document = _layout(batch.kind.template, batch.context(), paper)
    badges, qrs, urls = (_boxes(document, c) for c in ("badge", "badge-qr", "badge-url"))
    assert len(badges) == len(qrs) == len(urls) == 6
    mm = 25.4 / 96  # WeasyPrint lays out in CSS pixels
    for badge, qr, line in zip(badges, qrs, urls):
        top, bottom = badge.position_y, badge.position_y + badge.height
        left, right = badge.position_x, badge.position_x + badge.width
        assert line.position_y >= qr.position_y + qr.height  # under the code
        assert (bottom - (line.position_y + line.height)) * mm >= 1.5  # inside the badge, clear of the cut
        texts = [t for t in _walk(line) if isinstance(t, TextBox)]
        label, *rest = texts
        assert label.text == "NO SCAN? TYPE" and "".join(t.text for t in rest).replace("\u200b", "").strip() == typed
        for text in texts:
            assert left + 4.9 / mm <= text.position_x and text.position_x + text.width <= right - 3.9 / mm, text.text
            assert top <= text.position_y and text.position_y + text.height <= bottom
            if text is not label and text.text.replace("\u200b", "").strip():
                assert text.style["font_family"][0] == "DejaVu Sans Mono"
                assert round(text.style["font_size"] * 72 / 96, 2) >= 5  # points: small, still legible
