"""What to check before printing certificates: each point ready or not, with where to put it right.

Certificates are the paper that outlives the expo (a student shows one to an employer), so the
Printing page lists what would otherwise print wrong without a word: "Organiser" under the
signature, the wrong paper, no date or place, awards that are not final yet.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..models import Event
from .batches import long_date

PAPER_DIMENSIONS = {"A4": "210 × 297 mm", "Letter": "8.5 × 11 in"}


@dataclass(frozen=True)
class Check:
    """One point: `ok` (ready) or not, what it says, and the link that fixes it (an endpoint taking event_id)."""

    key: str
    ok: bool
    title: str
    detail: str
    fix: str
    endpoint: str
    anchor: str = ""


def certificate_checklist(event: Event) -> list[Check]:
    """The points to check before printing the event's certificates, in the order to check them."""
    settings = "admin.event_settings"
    signer = event.instructor_name.strip()
    if signer:
        signed = Check("signer", True, "Signer named",
                       f"Certificates are signed by {signer}" + (f", {event.instructor_title}." if event.instructor_title
                                                                 else "."), "Change the signer", settings,
                       "instructor_name")
    else:
        signed = Check("signer", False, "No signer named",
                       "Certificates print “Organiser” under the signature line until someone is named.",
                       "Name the signer", settings, "instructor_name")
    paper = Check("paper", True, f"Paper: {event.paper_size}",
                  f"Every PDF is laid out for {event.paper_size} ({PAPER_DIMENSIONS[event.paper_size]}): load the "
                  "same paper and print at 100 %.", "Change the paper size", settings, "paper_size")
    missing = [what for what, value in (("date", event.held_on), ("place", event.venue.strip())) if not value]
    if not missing:
        when = Check("when", True, "Date and place set",
                     f"Certificates say {long_date(event.held_on)} · {event.venue.strip()}.",
                     "Change them", settings, "held_on")
    else:
        effects = {"date": "Participation certificates print no date; award certificates print the day the "
                           "awards were finalised.",
                   "place": "Certificates print no place."}
        when = Check("when", False, f"No {' and no '.join(missing)} set", " ".join(effects[m] for m in missing),
                     f"Set the {' and '.join(missing)}", settings, "held_on" if "date" in missing else "venue")
    if event.awards_finalised_at is not None:
        awards = Check("awards", True, "Awards final",
                       "Award certificates are printed from the final awards.", "See the awards", "results.awards")
    else:
        awards = Check("awards", False, "Awards not final",
                       "Award certificates wait for the final awards (participation certificates do not): lock "
                       "scoring, decide every award and finalise.", "Finalise the awards", "results.awards",
                       "finalise")
    return [signed, paper, when, awards]
