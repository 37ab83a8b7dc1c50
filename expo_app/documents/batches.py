"""What each printed document holds: the data of a batch, as plain values, ready for its template.

A batch is built from the database in one go and holds no ORM objects, so a long render runs with
no database transaction open. Its fingerprint is a hash of everything the PDF is made from (data,
paper, templates and stylesheet): the same fingerprint means the same PDF, which is what lets a
rendered batch be kept and served again at once.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from ..links import certificate_url, feedback_url, judge_sign_in_url, team_url
from ..models import Event, Judge, RankingSnapshot
from .certificates import (NOT_ISSUED, PARTICIPATION, Wanted, award_subject, certificate_code, eligible_members,
                           issue_certificates, planned_certificates)
from .qr import qr_modules

ROOT = Path(__file__).resolve().parents[2]
BADGES_PER_SHEET = 6
SLIPS_PER_SHEET = 8
# The placard's QR code: its drawn square (mm) on each paper, with a 2-module white border inside it;
# the layout keeps at least 2 more modules of white paper around it, so the quiet zone is the
# standard 4. docs/organiser-guide.md ("Printed matter") says why this scans from 2 m.
PLACARD_QR_MM = {"A4": 170, "Letter": 160}
PLACARD_QUIET = 2


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    template: str
    per_page: int = 1
    # Kept in the database once rendered. Never for documents carrying sign-in links (badges).
    cacheable: bool = True


KINDS = {
    "placards": Kind("placards", "Table placards", "pdf/placards.html"),
    "badges": Kind("badges", "Judge badges", "pdf/badges.html", per_page=BADGES_PER_SHEET, cacheable=False),
    "certificates": Kind("certificates", "Award certificates", "pdf/certificates.html"),
    "participation": Kind("participation", "Participation certificates", "pdf/certificates.html"),
    "slips": Kind("slips", "Team feedback slips", "pdf/slips.html", per_page=SLIPS_PER_SHEET, cacheable=False),
}


class BatchBlocked(Exception):
    """There is nothing to print yet; the message says why (for the organiser)."""


@dataclass
class Batch:
    kind: Kind
    paper: str
    event: dict
    items: list[dict]
    # Why there is nothing to print (shown instead of a download), when that is so.
    blocked: str = ""
    extra: dict = field(default_factory=dict)
    # Planned without issuing: certificates that printing would issue first (their codes are unknown).
    unissued: int = 0

    @property
    def pages(self) -> int:
        return -(-(len(self.items) + self.unissued) // self.kind.per_page)

    @property
    def count(self) -> int:
        return len(self.items) + self.unissued

    def context(self) -> dict:
        return {"kind": self.kind.name, "title": self.kind.title, "event": self.event, "items": self.items,
                **self.extra}

    def fingerprint(self) -> str:
        payload = json.dumps({"kind": self.kind.name, "paper": self.paper, "design": design_digest(),
                              "context": self.context()}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()


@lru_cache(maxsize=1)
def design_digest() -> str:
    """A hash of everything besides the data that shapes a PDF: a new design makes kept PDFs stale.

    The templates, the print stylesheet and its images, this package's code (QR drawing, page
    sizes, text sizing) and the WeasyPrint version. Fonts are the system's and are not hashed.
    """
    import weasyprint

    digest = hashlib.sha256(f"weasyprint {weasyprint.__version__}".encode())
    paths = [*ROOT.joinpath("templates", "pdf").rglob("*"), *ROOT.joinpath("static", "pdf").rglob("*"),
             *Path(__file__).parent.glob("*.py")]
    for path in sorted(paths):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def long_date(day: date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else ""


def _event_facts(event: Event) -> dict:
    return {"name": event.name, "date": long_date(event.held_on), "venue": event.venue,
            "instructor_name": event.instructor_name, "instructor_title": event.instructor_title}


def build_batch(event: Event, kind: str, *, judge: Judge | None = None, certificate_ids: list[int] | None = None,
                issue: bool = True) -> Batch:
    """The batch of `kind` for the event (or one judge's badge, or chosen certificates).

    Certificates are issued as they are built (their codes are printed). With issue=False nothing is
    written: the batch holds the certificates issued so far and counts the rest in `unissued`,
    enough to say how many pages there are and whether a kept PDF is still current.
    """
    spec = KINDS[kind]
    batch = Batch(spec, event.paper_size, _event_facts(event), [])
    if kind == "placards":
        batch.items = [_placard(team, PLACARD_QR_MM[event.paper_size]) for team in event.teams]
        batch.extra["qr_quiet"] = PLACARD_QUIET
        if not batch.items:
            batch.blocked = "Add teams first: there is no table to print a placard for."
    elif kind == "badges":
        judges = [judge] if judge is not None else [j for j in event.judges if j.revoked_at is None]
        batch.items = [badge_item(j.name, j.affiliation, judge_sign_in_url(j)) for j in judges]
        if not batch.items:
            batch.blocked = "Add judges first: there is no badge to print."
    elif kind == "slips":
        teams = [t for t in event.teams if t.feedback_revoked_at is None]
        batch.items = [{"team": t.name, "table": t.table_number, "url": feedback_url(t),
                        "short_url": feedback_url(t).split("://", 1)[-1]} for t in teams]
        if not batch.items:
            batch.blocked = "Add teams first (or switch their feedback links on): there is no slip to print."
    elif kind == "participation":
        wanted = [Wanted(member, team, "participation", PARTICIPATION)
                  for team in event.teams for member in eligible_members(team)]
        batch.items, batch.unissued = _certificate_items(event, wanted, certificate_ids, issue)
        batch.event["award_date"] = batch.event["date"]
        if not batch.count:
            batch.blocked = "Add teams with their members first: participation certificates name each member."
    elif kind == "certificates":
        snapshot = RankingSnapshot.final_for(event)
        if snapshot is None:
            batch.blocked = ("Award certificates are printed from the final awards only. Finalise the awards "
                             "(Awards page, after locking scoring), then print them here.")
            return batch
        batch.event["award_date"] = batch.event["date"] or long_date(snapshot.created_at.date())
        batch.items, batch.unissued = _certificate_items(event, _award_wanted(event, snapshot), certificate_ids, issue)
        if not batch.count:
            batch.blocked = "The award-winning teams have no members listed, so there is nobody to certify."
    else:
        raise KeyError(kind)
    return batch


def badge_item(name: str, affiliation: str, url: str) -> dict:
    """A badge: the judge, the sign-in URL for the QR code, and the same URL to type when a camera
    will not scan it, in two parts that print on two lines (the address up to /j/, then the token)."""
    typed = url.removeprefix("https://")  # a browser adds it; plain http must be typed out
    address, _, token = typed.rpartition("/")
    return {"name": name, "affiliation": affiliation, "url": url, "typed_address": address + "/", "typed_token": token}


def _placard(team, qr_mm: int) -> dict:
    url = team_url(team)
    return {"team": team.name, "project": team.project, "table": team.table_number, "url": url,
            "short_url": url.split("://", 1)[-1], "qr_mm": qr_mm,
            "module_mm": round(qr_mm / qr_modules(url, PLACARD_QUIET), 2)}


def _award_wanted(event: Event, snapshot: RankingSnapshot) -> list[Wanted]:
    """A certificate per award and per member the team had when the awards were finalised.

    Members added to the team afterwards did not win it; members since removed are left out.
    """
    categories = {c.name: c for c in event.award_categories}
    teams = {t.id: t for t in event.teams}
    wanted = []
    for award in snapshot.data.get("awards", []):
        team, category = teams.get(award["team_id"]), categories.get(award["category"])
        if team is None:
            continue
        subject = award_subject(category.id) if category else f"award:{award['category']}"[:40]
        members = eligible_members(team)
        if "member_ids" in award:  # snapshots made before members were recorded use today's team
            members = [m for m in members if m.id in set(award["member_ids"])]
        wanted.extend(Wanted(member, team, "award", subject, award["category"]) for member in members)
    return wanted


def _certificate_items(event: Event, wanted: list[Wanted], only: list[int] | None,
                       issue: bool) -> tuple[list[dict], int]:
    """The items of the certificates to print, and how many are still to be issued (issue=False)."""
    items = []
    certificates = issue_certificates(event, wanted) if issue else planned_certificates(event, wanted)
    unissued = sum(1 for c in certificates if c is NOT_ISSUED)
    for certificate, want in zip(certificates, wanted):
        if certificate is None or certificate is NOT_ISSUED or (only is not None and certificate.id not in only):
            continue
        code = certificate_code(certificate)
        url = certificate_url(code)
        # Today's names (issue_certificates copies them onto the row; a plan must not lag behind).
        items.append({"id": certificate.id, "kind": want.kind, "recipient": want.member.name, "team": want.team.name,
                      "project": want.team.project, "award": want.award,
                      "code": code, "url": url, "short_url": url.split("://", 1)[-1]})
    return items, unissued

