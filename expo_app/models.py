"""Slim ORM classes. Behaviour lives in the blueprints' operations and in expo_app.scoring."""
from __future__ import annotations

import secrets
from datetime import date, datetime, timezone

import sqlalchemy as sa
from sqlalchemy import CheckConstraint, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db

SCORING_STATES = ("draft", "open", "closed", "locked")
PAPER_SIZES = ("A4", "Letter")
TEAM_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I: codes get typed from paper


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_team_code() -> str:
    return "".join(secrets.choice(TEAM_CODE_ALPHABET) for _ in range(8))


# A row's public identity, printed (inside an HMAC'd token or code) on paper that outlives the row:
# random, so a new row never takes over a deleted one's paper, and kept when an event moves to
# another database (expo export-event / import-event). Never a row id, which SQLite may reuse and
# another database numbers differently. The first character is a letter, so a uid is never all
# digits (links printed before uids existed named the row id: see `legacy_id`).
UID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no l/o/0/1
UID_LENGTH = 16  # 80 bits
CERTIFICATE_UID_LENGTH = 10  # 50 bits, in the typing alphabet: certificate codes are typed from paper


def _random_uid(alphabet: str, length: int) -> str:
    letters = [ch for ch in alphabet if ch.isalpha()]
    return secrets.choice(letters) + "".join(secrets.choice(alphabet) for _ in range(length - 1))


def new_uid() -> str:
    """A judge's or team's public identity (lower case: it goes into URLs)."""
    return _random_uid(UID_ALPHABET, UID_LENGTH)


def new_certificate_uid() -> str:
    """A certificate's public identity (upper case, no look-alikes: it is typed from paper)."""
    return _random_uid(TEAM_CODE_ALPHABET, CERTIFICATE_UID_LENGTH)


def find_by_identity(model, owner: str | int):
    """The Judge, Team or Certificate a printed token or code names: by uid (a str), or for paper
    printed before uids existed by the row id it had then (an int, kept as legacy_id). Never by
    today's row id, which may belong to another row."""
    column = model.legacy_id if isinstance(owner, int) else model.uid
    return db.session.execute(db.select(model).where(column == owner)).scalar_one_or_none()


# SQLite reuses the highest id after a delete unless a table is AUTOINCREMENT: rows that paper,
# snapshots or certificates point at never get a recycled id (PostgreSQL's sequences never reuse).
NO_REUSE = {"sqlite_autoincrement": True}


class AdminUser(db.Model):
    __tablename__ = "admin_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(db.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(db.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Bumped by "sign out everywhere": every session made before then stops working.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    def set_password(self, password: str, method: str = "scrypt") -> None:
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class Event(db.Model):
    __tablename__ = "event"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(db.String(200))
    held_on: Mapped[date | None]
    venue: Mapped[str] = mapped_column(db.String(200), default="")
    scoring_state: Mapped[str] = mapped_column(db.String(10), default="draft")
    is_current: Mapped[bool] = mapped_column(default=False)
    # k: how many judges each team should get (the assignment plan aims for it).
    judges_per_team: Mapped[int] = mapped_column(default=4)
    # The hall: tables in rows of this many (numbered back and forth), or None for one line; a
    # team's own position (pos_x, pos_y, from the organiser's layout CSV) overrides it.
    tables_per_row: Mapped[int | None]
    # The assignment plan in force: when it was made, and its seed (a plan is deterministic per seed).
    planned_at: Mapped[datetime | None]
    plan_seed: Mapped[int | None]
    # The judge's next team: False (default) follows the plan's order, skipping crowded tables; True
    # picks by the value of one more score per walk (expo_app.scoring.routing; see bench/routing.py).
    live_routing: Mapped[bool] = mapped_column(default=False)
    # A judge with a known conflict of interest (company match or marked pair) may still submit scores
    # for that team when True; such a sheet is set aside (kept, not counted) until the organiser counts
    # it. False (default): the phone offers only "declare conflict" for that team.
    conflicted_may_score: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Printed matter: the paper in the organisers' printer, and who signs the certificates.
    paper_size: Mapped[str] = mapped_column(db.String(10), default="A4")
    instructor_name: Mapped[str] = mapped_column(db.String(120), default="")
    instructor_title: Mapped[str] = mapped_column(db.String(200), default="")
    # The letter scale as [[letter, minimum percent], ...], best first; None: the syllabus scale.
    grade_scale: Mapped[list | None] = mapped_column(db.JSON)
    # Teams see their feedback from this moment (None: not released, or withdrawn).
    feedback_released_at: Mapped[datetime | None]
    # Show judges' names with their comments to the teams (anonymous by default).
    feedback_named: Mapped[bool] = mapped_column(default=False)
    # Set when the organiser finalises the awards: the ranking snapshot is frozen from then on.
    awards_finalised_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    criteria: Mapped[list["Criterion"]] = relationship(
        back_populates="event", order_by="Criterion.position", cascade="all, delete-orphan")
    teams: Mapped[list["Team"]] = relationship(
        back_populates="event", order_by="Team.table_number", cascade="all, delete-orphan")
    judges: Mapped[list["Judge"]] = relationship(
        back_populates="event", order_by="Judge.name", cascade="all, delete-orphan")
    award_categories: Mapped[list["AwardCategory"]] = relationship(
        back_populates="event", order_by="AwardCategory.position", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint(f"scoring_state IN {SCORING_STATES}", name="scoring_state"),
        CheckConstraint("judges_per_team >= 1", name="judges_per_team"),
        CheckConstraint(f"paper_size IN {PAPER_SIZES}", name="paper_size"),
    )

    @property
    def accepts_scores(self) -> bool:
        return self.scoring_state == "open"

    @property
    def is_locked(self) -> bool:
        return self.scoring_state == "locked"


class Criterion(db.Model):
    __tablename__ = "criterion"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(db.String(120))
    description: Mapped[str] = mapped_column(db.Text, default="")
    weight: Mapped[float] = mapped_column(default=1.0)
    scale_min: Mapped[int] = mapped_column(default=1)
    scale_max: Mapped[int] = mapped_column(default=5)
    position: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship(back_populates="criteria")
    levels: Mapped[list["CriterionLevel"]] = relationship(
        back_populates="criterion", order_by="CriterionLevel.low", cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("event_id", "name"),
        CheckConstraint("scale_min < scale_max", name="scale_order"),
        CheckConstraint("weight > 0", name="weight_positive"),
    )

    @property
    def bands(self) -> list[tuple[int, int, str]]:
        return [(lv.low, lv.high, lv.text) for lv in self.levels]

    def as_spec(self) -> dict:
        """The mapping expo_app.scoring expects for this criterion."""
        return {"name": self.name, "weight": self.weight, "min": self.scale_min, "max": self.scale_max}


class CriterionLevel(db.Model):
    """A level descriptor: the text for one level, or for a band of levels low..high."""

    __tablename__ = "criterion_level"
    id: Mapped[int] = mapped_column(primary_key=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id", ondelete="CASCADE"), index=True)
    low: Mapped[int]
    high: Mapped[int]
    text: Mapped[str] = mapped_column(db.Text)

    criterion: Mapped[Criterion] = relationship(back_populates="levels")


class Team(db.Model):
    __tablename__ = "team"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(db.String(120))
    project: Mapped[str] = mapped_column(db.String(300), default="")
    table_number: Mapped[int]
    # Printed in the team's QR code: a public contract, never changed once made.
    code: Mapped[str] = mapped_column(db.String(16), unique=True, default=new_team_code)
    # Named by the team's private feedback link (see new_uid); kept across export and import.
    uid: Mapped[str] = mapped_column(db.String(16), unique=True, default=new_uid)
    # The row id a feedback slip printed before uids existed names (None for teams made since).
    legacy_id: Mapped[int | None] = mapped_column(unique=True)
    # The team's private feedback link is an HMAC of (uid, feedback_version), like a judge's badge:
    # reissuing bumps the version; withdrawing switches every version off.
    feedback_version: Mapped[int] = mapped_column(default=1)
    feedback_revoked_at: Mapped[datetime | None]
    # Companies the team works with (sponsors, clients), separated by ";": a judge from one of them
    # has a conflict of interest.
    companies: Mapped[str] = mapped_column(db.String(300), default="")
    # Where the table stands in the hall (any unit), from the organiser's layout; None: by number.
    pos_x: Mapped[float | None]
    pos_y: Mapped[float | None]
    # The organiser brought back a team that judges had marked absent: marks before this time no longer count.
    absent_cleared_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[Event] = relationship(back_populates="teams")
    members: Mapped[list["TeamMember"]] = relationship(
        back_populates="team", order_by="TeamMember.id", cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("event_id", "name"),
        UniqueConstraint("event_id", "table_number"),
        CheckConstraint("table_number >= 1", name="table_positive"),
        NO_REUSE,
    )


class TeamMember(db.Model):
    __tablename__ = "team_member"
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(db.String(120))
    email: Mapped[str] = mapped_column(db.String(254))
    # The university's student (SIS) id, for the gradebook export; may be empty.
    student_id: Mapped[str] = mapped_column(db.String(64), default="")
    # Marked not present by the organiser: no Expo grade and no participation certificate.
    present: Mapped[bool] = mapped_column(default=True)

    team: Mapped[Team] = relationship(back_populates="members")

    __table_args__ = (UniqueConstraint("team_id", "email"), NO_REUSE)


class Judge(db.Model):
    __tablename__ = "judge"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(db.String(120))
    email: Mapped[str] = mapped_column(db.String(254))
    affiliation: Mapped[str] = mapped_column(db.String(200), default="")
    # Named by the judge's sign-in link (see new_uid); kept across export and import.
    uid: Mapped[str] = mapped_column(db.String(16), unique=True, default=new_uid)
    # The row id a badge printed before uids existed names (None for judges added since).
    legacy_id: Mapped[int | None] = mapped_column(unique=True)
    # The sign-in link is an HMAC of (uid, token_version) under the server's secret: the database
    # holds no token, and reissuing a badge is a version bump that retires every older link.
    token_version: Mapped[int] = mapped_column(default=1)
    revoked_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    # False while the judge is not in the hall (late, or left): re-planning gives their unscored teams away.
    available: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[Event] = relationship(back_populates="judges")

    __table_args__ = (UniqueConstraint("event_id", "email"), NO_REUSE)


class JudgeConflict(db.Model):
    """A judge–team pair the organiser marked as a conflict of interest (beyond company matches)."""

    __tablename__ = "judge_conflict"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("judge.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    judge: Mapped[Judge] = relationship()
    team: Mapped[Team] = relationship()

    __table_args__ = (UniqueConstraint("judge_id", "team_id"),)


class TeamVisit(db.Model):
    """A judge opened a team's scoring page (the phone says so once per visit): how crowded a table is."""

    __tablename__ = "team_visit"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("judge.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (UniqueConstraint("judge_id", "team_id"),)


class Assignment(db.Model):
    """One line of the plan: the judge visits the team, as stop number `position` of their list."""

    __tablename__ = "assignment"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("judge.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    judge: Mapped[Judge] = relationship()
    team: Mapped[Team] = relationship()

    __table_args__ = (UniqueConstraint("judge_id", "team_id"),)


class JudgeSignIn(db.Model):
    """One use of a judge's sign-in link (kept for the organisers' audit)."""

    __tablename__ = "judge_sign_in"
    id: Mapped[int] = mapped_column(primary_key=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("judge.id", ondelete="CASCADE"), index=True)
    token_version: Mapped[int]
    signed_in_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_agent: Mapped[str] = mapped_column(db.String(300), default="")
    remote_addr: Mapped[str] = mapped_column(db.String(64), default="")

    judge: Mapped[Judge] = relationship()


class Score(db.Model):
    """One judge's score sheet for one team: at most one per pair, revised in place."""

    __tablename__ = "score"
    id: Mapped[int] = mapped_column(primary_key=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("judge.id", ondelete="RESTRICT"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="RESTRICT"), index=True)
    comment: Mapped[str] = mapped_column(db.Text, default="")
    private_note: Mapped[str] = mapped_column(db.Text, default="")
    absent: Mapped[bool] = mapped_column(default=False)
    conflict: Mapped[bool] = mapped_column(default=False)
    revision: Mapped[int] = mapped_column(default=1)
    # When the judge last edited the sheet on the phone (sent with each submission): an older queued
    # edit that arrives later never overwrites a newer one.
    client_edited_at: Mapped[datetime | None]
    # Set aside (kept, not counted): a sheet from a known conflict of interest, set aside when it was
    # saved, or any sheet the organiser set aside. Ranking, awards, feedback and grades read counted
    # sheets only; the organiser may count it again (with a reason). Both are audited.
    set_aside_at: Mapped[datetime | None]
    set_aside_reason: Mapped[str] = mapped_column(db.String(300), default="", server_default="")
    set_aside_by: Mapped[str] = mapped_column(db.String(300), default="", server_default="")
    # Moderation: a comment the organisers hid is never shown to the team (the reason is audited).
    comment_hidden_at: Mapped[datetime | None]
    comment_hidden_reason: Mapped[str] = mapped_column(db.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    judge: Mapped[Judge] = relationship()
    team: Mapped[Team] = relationship()
    values: Mapped[list["ScoreValue"]] = relationship(back_populates="score", cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("judge_id", "team_id"),)

    @property
    def rated(self) -> bool:
        """Whether this sheet carries a rating (not absent, no declared conflict), counted or set aside."""
        return not (self.absent or self.conflict)

    @property
    def counts(self) -> bool:
        """Whether this sheet carries a rating that counts (not absent, no conflict, not set aside)."""
        return not (self.absent or self.conflict or self.set_aside_at is not None)

    def values_by_name(self) -> dict[str, int]:
        return {v.criterion.name: v.value for v in self.values}


class ScoreValue(db.Model):
    __tablename__ = "score_value"
    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("score.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id", ondelete="RESTRICT"), index=True)
    value: Mapped[int]

    score: Mapped[Score] = relationship(back_populates="values")
    criterion: Mapped[Criterion] = relationship()

    __table_args__ = (UniqueConstraint("score_id", "criterion_id"),)


class ScoreAudit(db.Model):
    """Every creation or change of a score sheet: who, when, the sheet before and after."""

    __tablename__ = "score_audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    score_id: Mapped[int] = mapped_column(ForeignKey("score.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(db.String(300))  # "judge 3: Ada Lovelace" / "admin: a@b.org"
    action: Mapped[str] = mapped_column(db.String(20))  # created / updated
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    old: Mapped[dict | None] = mapped_column(db.JSON)
    new: Mapped[dict] = mapped_column(db.JSON)

    score: Mapped[Score] = relationship()

    __table_args__ = (Index("ix_score_audit_event_changed", "event_id", "changed_at"),)


ADMIN_ACTION_AREAS = ("rubric", "teams", "judges", "badges", "scoring", "awards", "releases", "certificates",
                      "assignments", "settings", "events")


class AdminAction(db.Model):
    """One thing an organiser changed (outside the score sheets): who, when, what, and before/after.

    Written by expo_app.audit.record in the same transaction as the change itself, so a refused
    operation leaves no entry. `details` never holds a password or a token.
    """

    __tablename__ = "admin_action"
    id: Mapped[int] = mapped_column(primary_key=True)
    # None for an action outside any one event.
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(db.String(300))  # "admin: a@b.org", or "cli" from the command line
    area: Mapped[str] = mapped_column(db.String(20))  # one of ADMIN_ACTION_AREAS
    action: Mapped[str] = mapped_column(db.String(60))  # a short verb phrase: "criterion edited"
    subject: Mapped[str] = mapped_column(db.String(300), default="")  # the team, judge, criterion, ... name
    details: Mapped[dict | None] = mapped_column(db.JSON)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_admin_action_event_at", "event_id", "at"),
        CheckConstraint(f"area IN {ADMIN_ACTION_AREAS}", name="area"),
    )




class AwardCategory(db.Model):
    """An award the event gives: an overall place (1st, 2nd, ...) or the best team in one criterion."""

    __tablename__ = "award_category"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(db.String(120))
    kind: Mapped[str] = mapped_column(db.String(10))  # overall / criterion
    place: Mapped[int | None]  # overall: 1 for first place, ...
    criterion_id: Mapped[int | None] = mapped_column(ForeignKey("criterion.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    event: Mapped[Event] = relationship(back_populates="award_categories")
    criterion: Mapped[Criterion | None] = relationship()
    award: Mapped["Award | None"] = relationship(back_populates="category", cascade="all, delete-orphan",
                                                 uselist=False)

    __table_args__ = (
        UniqueConstraint("event_id", "name"),
        CheckConstraint("kind IN ('overall', 'criterion')", name="kind"),
        CheckConstraint("(kind = 'overall' AND place >= 1 AND criterion_id IS NULL) OR "
                        "(kind = 'criterion' AND place IS NULL AND criterion_id IS NOT NULL)", name="kind_fields"),
        NO_REUSE,  # certificates name their award by category id
    )


class Award(db.Model):
    """The organiser's decision for one category: which team wins it, and why."""

    __tablename__ = "award"
    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("award_category.id", ondelete="CASCADE"), unique=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="RESTRICT"), index=True)
    reason: Mapped[str] = mapped_column(db.Text, default="")
    followed_suggestion: Mapped[bool] = mapped_column(default=True)
    decided_by: Mapped[str] = mapped_column(db.String(300), default="")
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    category: Mapped[AwardCategory] = relationship(back_populates="award")
    team: Mapped[Team] = relationship()


class RankingSnapshot(db.Model):
    """The ranking and awards as finalised: what certificates and grades are built from."""

    __tablename__ = "ranking_snapshot"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), unique=True)
    method: Mapped[str] = mapped_column(db.String(20))
    seed: Mapped[int]
    data: Mapped[dict] = mapped_column(db.JSON)
    created_by: Mapped[str] = mapped_column(db.String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[Event] = relationship()

    @classmethod
    def final_for(cls, event: Event) -> "RankingSnapshot | None":
        """The event's finalised snapshot (None before the awards are final)."""
        if event.awards_finalised_at is None:
            return None
        return db.session.execute(db.select(cls).where(cls.event_id == event.id)).scalar_one_or_none()


CERTIFICATE_KINDS = ("award", "participation")


class Certificate(db.Model):
    """One printed certificate, as issued: what the verification page at /v/<code> confirms.

    The text is copied at issue (and refreshed while the certificate is valid and its person still
    listed). Removing the team or the member withdraws it (it verifies as withdrawn, never as
    someone else's). The code printed on it is the uid and an HMAC of it
    (expo_app.documents.codes): this table holds no MAC.
    """

    __tablename__ = "certificate"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(db.String(20))
    # Named by the printed verification code (see new_certificate_uid); kept across export and import.
    uid: Mapped[str] = mapped_column(db.String(16), unique=True, default=new_certificate_uid)
    # The row id a code printed before uids existed names (None for certificates issued since).
    legacy_id: Mapped[int | None] = mapped_column(unique=True)
    # "participation" or "award:<category id>": with member and issue, what makes a certificate unique.
    subject: Mapped[str] = mapped_column(db.String(40))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("team_member.id", ondelete="SET NULL"), index=True)
    issue: Mapped[int] = mapped_column(default=1)  # 2, 3, ... for replacements of a revoked one
    recipient: Mapped[str] = mapped_column(db.String(120))
    team_name: Mapped[str] = mapped_column(db.String(120))
    project: Mapped[str] = mapped_column(db.String(300), default="")
    award: Mapped[str] = mapped_column(db.String(120), default="")
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str] = mapped_column(db.String(300), default="")
    revoked_by: Mapped[str] = mapped_column(db.String(300), default="")

    event: Mapped[Event] = relationship()
    member: Mapped[TeamMember | None] = relationship()

    __table_args__ = (
        UniqueConstraint("member_id", "subject", "issue"),
        CheckConstraint(f"kind IN {CERTIFICATE_KINDS}", name="kind"),
        NO_REUSE,
    )


DOCUMENT_STATES = ("queued", "rendering", "ready", "failed")


class RenderedDocument(db.Model):
    """A batch PDF rendered once and kept (placards, certificates), with the state of its render.

    `fingerprint` is a hash of everything the PDF was made from: a download whose data still hashes
    the same is served from here at once. Badges and other documents that carry sign-in links are
    never stored (a copy of the database must not reveal a working link).
    """

    __tablename__ = "rendered_document"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(db.String(20))
    fingerprint: Mapped[str] = mapped_column(db.String(64))
    state: Mapped[str] = mapped_column(db.String(10), default="queued")
    pages_total: Mapped[int] = mapped_column(default=0)
    pages_done: Mapped[int] = mapped_column(default=0)
    pdf: Mapped[bytes | None] = mapped_column(db.LargeBinary, deferred=True)
    pdf_bytes: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(db.String(500), default="")
    render_seconds: Mapped[float | None]
    requested_by: Mapped[str] = mapped_column(db.String(300), default="")
    # The token of the render that owns the row: a render that lost it stops at its next chunk.
    claim: Mapped[str] = mapped_column(db.String(32), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("event_id", "kind"),
        CheckConstraint(f"state IN {DOCUMENT_STATES}", name="state"),
    )


class ScoreSubmission(db.Model):
    """One submission of a score sheet, by the idempotency key the phone made for it.

    Stored in the same transaction as the sheet: a replay of the key (a retry, an outbox flush) gets
    the first answer back and changes nothing; the same key with another sheet is refused.
    """

    __tablename__ = "score_submission"
    id: Mapped[int] = mapped_column(primary_key=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("judge.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(db.String(64))
    body_hash: Mapped[str] = mapped_column(db.String(64))
    outcome: Mapped[str] = mapped_column(db.String(20))  # saved / unchanged / stale
    edited_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("judge_id", "key"),)


class SharedState(db.Model):
    """State that every app instance and worker must see alike, when there is no Redis (REDIS_URL):
    rate-limit counters, revoked sessions, and shared caches. Rows expire at `expires_at`.
    See expo_app.platform.shared."""

    __tablename__ = "shared_state"
    key: Mapped[str] = mapped_column(db.String(200), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    value: Mapped[bytes | None] = mapped_column(db.LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class SiteSetting(db.Model):
    """One setting of the whole site rather than of one event, by key (expo_app.site_settings reads
    them): the organiser sets it in the admin pages, and the web and the CLI read the same row."""

    __tablename__ = "site_setting"
    key: Mapped[str] = mapped_column(db.String(60), primary_key=True)
    value: Mapped[str] = mapped_column(db.String(2000))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


MAIL_KINDS = ("judge_invitation", "team_feedback", "team_certificates")
MAIL_STATES = ("queued", "sending", "sent", "failed")


class OutboxMessage(db.Model):
    """One e-mail to one person, from queued to sent (or failed), delivered by the mail worker.

    It names the person, the kind and the badge or feedback-link version it was queued for, never
    a link: the link is built when the message is sent (expo_app.mail), as printing builds it, so a
    copy of the database reveals no working link. `claim` and `claimed_at` are the lease of the
    worker delivering it: a worker that died leaves it "sending" until the lease runs out, and then
    another worker takes it. See expo_app/mail/worker.py for the rules.
    """

    __tablename__ = "mail_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(db.String(30))
    # The person: a judge (invitations) or a team member (team notices). Removing them keeps the row
    # (so the page shows what was sent) and stops a queued one from going out.
    judge_id: Mapped[int | None] = mapped_column(ForeignKey("judge.id", ondelete="SET NULL"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("team_member.id", ondelete="SET NULL"), index=True)
    # The judge's badge version (token_version) or the team's feedback-link version it is for.
    version: Mapped[int] = mapped_column(default=1)
    # Who it goes to, as shown on the organisers' page (refreshed from the person when it is sent).
    to_name: Mapped[str] = mapped_column(db.String(120), default="")
    to_address: Mapped[str] = mapped_column(db.String(254), default="")
    status: Mapped[str] = mapped_column(db.String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(db.String(500), default="")
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claim: Mapped[str] = mapped_column(db.String(32), default="")
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    # A team notice sent once the awards were final carries the member's certificate links too.
    includes_certificates: Mapped[bool] = mapped_column(default=False)
    requested_by: Mapped[str] = mapped_column(db.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(f"kind IN {MAIL_KINDS}", name="kind"),
        CheckConstraint(f"status IN {MAIL_STATES}", name="status"),
        Index("ix_mail_outbox_status_next", "status", "next_attempt_at"),
        NO_REUSE,  # the id names the message (Message-ID, the .eml file of the development mailbox)
    )
