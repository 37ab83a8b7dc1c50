"""Reading our PDFs back in tests: pages, text, fonts."""
from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of every page, whitespace folded (line breaks inside a name become spaces)."""
    reader = PdfReader(io.BytesIO(pdf))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def pdf_some_pages(pdf: bytes, *indices: int) -> tuple[int, list[str]]:
    """The number of pages, and the text of the pages at `indices` only (extracting every page of a
    600-page batch takes longer than rendering it)."""
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), [" ".join(reader.pages[i].extract_text().split()) for i in indices]


def pdf_fonts(pdf: bytes) -> set[str]:
    """The base names of every font the PDF embeds (subset prefixes removed)."""
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for ref in fonts.values():
            name = str(ref.get_object().get("/BaseFont", ""))
            names.add(name.split("+", 1)[-1].lstrip("/").replace("-", ""))
    return names


def pdf_page_sizes_mm(pdf: bytes) -> list[tuple[int, int]]:
    reader = PdfReader(io.BytesIO(pdf))
    return [(round(float(p.mediabox.width) * 25.4 / 72), round(float(p.mediabox.height) * 25.4 / 72))
            for p in reader.pages]


def text_positions(pdf: bytes) -> list[tuple[int, float, float, str]]:
    """(page, x, y, text) of every drawn text run, in PDF points from the bottom-left corner."""
    runs = []
    reader = PdfReader(io.BytesIO(pdf))
    for number, page in enumerate(reader.pages):
        def visit(text, cm, tm, _font, _size, number=number):
            if text.strip():
                # The text matrix is relative to the current transformation matrix.
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                runs.append((number, x, y, text))
        page.extract_text(visitor_text=visit)
    return runs


def clipped_text(document) -> list[tuple[str, str]]:
    """(class, text) of every line that a box with overflow: hidden cuts off, in a laid-out
    WeasyPrint document (expo_app.documents.render._layout). Empty when every line shows whole."""
    from weasyprint.formatting_structure.boxes import LineBox, TextBox

    clipped = []
    for page in document.pages:
        for box in page._page_box.descendants():
            if box.style["overflow"] != "hidden" or not hasattr(box, "children") or box.element_tag in ("svg", "html"):
                continue
            bottom = box.content_box_y() + box.height + box.padding_bottom
            right = box.content_box_x() + box.width + box.padding_right
            for inner in box.descendants():
                if isinstance(inner, LineBox) and (inner.position_y + inner.height > bottom + 0.5
                                                   or inner.position_x + inner.width > right + 0.5):
                    text = "".join(t.text for t in inner.descendants() if isinstance(t, TextBox))
                    clipped.append((" ".join(box.element.get("class", "").split()), text))
    return clipped
