"""The checklist before printing certificates, point by point: ready or not, what it says, where to fix it."""
from datetime import date, datetime
from types import SimpleNamespace

import pytest

from expo_app.documents.checklist import certificate_checklist


def _event(**changes):
    ready = dict(instructor_name="Dr. Ada Lovelace", instructor_title="Instructor", paper_size="A4",
                 held_on=date(2026, 12, 10), venue="Ballroom", awards_finalised_at=datetime(2026, 12, 10, 18))
    return SimpleNamespace(**{**ready, **changes})


def _points(event):
    return {c.key: (c.ok, c.title, c.detail, c.fix, c.endpoint, c.anchor) for c in certificate_checklist(event)}


def test_an_event_ready_for_certificates_ticks_every_point():
    assert _points(_event()) == {
        "signer": (True, "Signer named", "Certificates are signed by Dr. Ada Lovelace, Instructor.",
                   "Change the signer", "admin.event_settings", "instructor_name"),
        "paper": (True, "Paper: A4", "Every PDF is laid out for A4 (210 × 297 mm): load the same paper and print "
                  "at 100 %.", "Change the paper size", "admin.event_settings", "paper_size"),
        "when": (True, "Date and place set", "Certificates say 10 December 2026 · Ballroom.", "Change them",
                 "admin.event_settings", "held_on"),
        "awards": (True, "Awards final", "Award certificates are printed from the final awards.", "See the awards",
                   "results.awards", ""),
    }


@pytest.mark.parametrize("changes, key, expected", [
    ({"instructor_name": "  ", "instructor_title": "Instructor"}, "signer",
     (False, "No signer named", "Certificates print “Organiser” under the signature line until someone is named.",
      "Name the signer", "admin.event_settings", "instructor_name")),
    ({"instructor_title": ""}, "signer",
     (True, "Signer named", "Certificates are signed by Dr. Ada Lovelace.", "Change the signer",
      "admin.event_settings", "instructor_name")),
    ({"paper_size": "Letter"}, "paper",
     (True, "Paper: Letter", "Every PDF is laid out for Letter (8.5 × 11 in): load the same paper and print at 100 %.",
      "Change the paper size", "admin.event_settings", "paper_size")),
    ({"held_on": None}, "when",
     (False, "No date set", "Participation certificates print no date; award certificates print the day the awards "
      "were finalised.", "Set the date", "admin.event_settings", "held_on")),
    ({"venue": ""}, "when",
     (False, "No place set", "Certificates print no place.", "Set the place", "admin.event_settings", "venue")),
    ({"held_on": None, "venue": " "}, "when",
     (False, "No date and no place set", "Participation certificates print no date; award certificates print the "
      "day the awards were finalised. Certificates print no place.", "Set the date and place",
      "admin.event_settings", "held_on")),
    ({"awards_finalised_at": None}, "awards",
     (False, "Awards not final", "Award certificates wait for the final awards (participation certificates do not): "
      "lock scoring, decide every award and finalise.", "Finalise the awards", "results.awards", "finalise")),
])
def test_each_point_not_ready_says_what_would_print_and_where_to_fix_it(changes, key, expected):
    points = _points(_event(**changes))
    assert points[key] == expected
    assert all(point[0] for other, point in points.items() if other != key)  # the others stay ready
