"""The organisers' part of the audit log: one AdminAction per change an organiser makes.

Operations call `record` next to the change itself. It only adds the row to the session: the view
(or CLI command) commits it with the change, and a refused operation rolls both back, so nothing is
recorded for it. `details` says what changed (before and after for edited fields) as short,
JSON-safe values; it must never hold a password or a token.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import has_request_context

from .extensions import db
from .models import ADMIN_ACTION_AREAS, AdminAction, Event

MAX_TEXT = 500  # characters of any one text value kept in details
MAX_ITEMS = 50  # entries of any one list or mapping kept in details


def actor() -> str:
    """Who is acting: "admin: a@b.org" inside an organiser's request, "cli" outside any request."""
    if not has_request_context():
        return "cli"
    from .auth.session import current_admin

    admin = current_admin()
    return f"admin: {admin.email}"[:300] if admin is not None else "unknown"


def _short(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def json_safe(value: Any, depth: int = 0) -> Any:
    """`value` as short JSON data: long text cut, long lists and mappings cut, dates as ISO text."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, str):
        return _short(value)
    if depth >= 4:
        return _short(str(value))
    if isinstance(value, dict):
        items = list(value.items())
        safe = {_short(str(k), 100): json_safe(v, depth + 1) for k, v in items[:MAX_ITEMS]}
        if len(items) > MAX_ITEMS:
            safe["…"] = f"{len(items) - MAX_ITEMS} more"
        return safe
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
        safe = [json_safe(v, depth + 1) for v in items[:MAX_ITEMS]]
        if len(items) > MAX_ITEMS:
            safe.append(f"… {len(items) - MAX_ITEMS} more")
        return safe
    return _short(str(value))


def change(before: Any, after: Any) -> dict:
    """One edited value, as the audit page shows it: before → after."""
    return {"before": json_safe(before), "after": json_safe(after)}


def changes(before: dict, after: dict) -> dict:
    """The fields whose value differs, as {field: {"before": ..., "after": ...}}."""
    return {field: change(before.get(field), after.get(field))
            for field in after if before.get(field) != after.get(field)}


def record(event: Event | int | None, area: str, action: str, subject: str = "",
           details: dict | None = None) -> AdminAction:
    """Add one organiser action to the session (no commit: it goes in with the change it records)."""
    if area not in ADMIN_ACTION_AREAS:
        raise ValueError(f"unknown audit area {area!r}")
    event_id = event
    if isinstance(event, Event):
        if event.id is None:
            db.session.flush()
        event_id = event.id
    entry = AdminAction(event_id=event_id, actor=actor(), area=area, action=_short(action, 60),
                        subject=_short(str(subject or ""), 300),
                        details=json_safe(details) if details else None)
    db.session.add(entry)
    return entry
