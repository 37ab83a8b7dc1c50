"""Finding a team or a judge in the organiser's lists: the matching rule, stated once.

A query matches when, ignoring case and accents ("zoe" finds "Zoë"), it appears in one of the
fields: a team's name, project, members' names and e-mails, and companies; a judge's name, e-mail
and affiliation. A query that is a number also finds the team at that table (7 finds table 7, not
17). Spaces are tidied first; an empty query matches everything.
"""
from __future__ import annotations

import unicodedata
from typing import Iterable, TypeVar

MAX_QUERY = 100
T = TypeVar("T")


def tidy_query(text: str | None) -> str:
    """The query as it is searched and shown: single spaces, at most MAX_QUERY characters."""
    return " ".join((text or "").split())[:MAX_QUERY]


def fold(text: str | None) -> str:
    """Text compared without case or accents."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def team_matches(team, query: str) -> bool:
    needle = fold(query)
    if not needle:
        return True
    if needle.isdigit() and int(needle) == team.table_number:
        return True
    fields = [team.name, team.project, team.companies]
    fields += [text for member in team.members for text in (member.name, member.email)]
    return any(needle in fold(text) for text in fields)


def judge_matches(judge, query: str) -> bool:
    needle = fold(query)
    return not needle or any(needle in fold(text) for text in (judge.name, judge.email, judge.affiliation))


def search(items: Iterable[T], query: str, matches) -> list[T]:
    """The items that `matches(item, query)`, in their order."""
    return [item for item in items if matches(item, query)]
