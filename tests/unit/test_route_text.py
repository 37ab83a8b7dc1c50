"""The judge's route in words: never contradicts itself, whatever the state (exhaustive over small states)."""
from __future__ import annotations

import itertools
import re

import pytest

from expo_app.judging.route_text import Stop, route_text, tables

STOPS = [Stop(i, table, f"Team {table}") for i, table in enumerate((3, 2, 8, 5), start=1)]


def _numbers(sentence: str) -> set[int]:
    return {int(n) for n in re.findall(r"\d+", sentence)}


def test_tables_are_listed_in_plain_english():
    assert tables(STOPS[:1]) == "table 3"
    assert tables(STOPS[:2]) == "tables 3 and 2"
    assert tables(STOPS[:3]) == "tables 3, 2 and 8"


def test_the_reported_contradiction_cannot_happen():
    """'Next: table 3 … Other judges are at tables 3, 2 now … Then: table 2' was shown with nobody at
    either table; with judges at both, the words now agree with themselves."""
    text = route_text(STOPS[0], STOPS[:2], planned=True, extra=False, crowded_ids={1, 2}, planned_total=6,
                      planned_scored=4)
    assert text.next == STOPS[0] and text.crowded == "" and text.then == []
    assert text.intro == ("Other judges are at tables 3 and 2 now: they are all that is left, so start with the "
                          "first; wait a moment if it is busy.")
    assert text.progress == "Your list: 6 teams, 4 scored."


def test_one_busy_table_is_singular_and_not_listed_again():
    text = route_text(STOPS[0], STOPS, planned=True, extra=False, crowded_ids={3})
    assert text.crowded == "Other judges are at table 8 now: come back to it later."
    assert text.then_label == "Then" and [s.table for s in text.then] == [2, 5]


def test_after_the_list_the_next_teams_are_offered_with_or():
    text = route_text(STOPS[1], STOPS[1:], planned=True, extra=True, crowded_ids=set(), planned_total=1,
                      planned_scored=1)
    assert text.intro == "You have visited every team on your list. Thank you! These teams need judges most:"
    assert text.then_label == "Or" and [s.table for s in text.then] == [8, 5]
    assert text.progress == "Your list: 1 team, 1 scored."


def test_nowhere_left_to_go():
    assert route_text(None, [], planned=False, extra=False, crowded_ids=(), teams_total=4).done == \
        "You have scored every team. Thank you!"
    assert route_text(None, [], planned=True, extra=True, crowded_ids=(), teams_total=4).done.startswith(
        "You have visited every team on your list")
    assert route_text(None, [], planned=False, extra=False, crowded_ids=(), teams_total=0).done == ""


def test_without_a_plan_no_list_is_given():
    text = route_text(STOPS[0], STOPS, planned=False, extra=False, crowded_ids={2})
    assert text.then == [] and text.then_label == "" and text.progress == ""
    assert text.crowded == "Other judges are at table 2 now: come back to it later."


@pytest.mark.parametrize("planned, extra", [(True, False), (True, True), (False, False)])
def test_every_state_gives_consistent_words(planned, extra):
    states = 0
    for size in range(1, len(STOPS) + 1):
        for remaining in itertools.permutations(STOPS, size):
            for next_index in range(size):
                next_stop = remaining[next_index]
                for mask in range(2 ** size):
                    crowded = {s.id for bit, s in enumerate(remaining) if mask >> bit & 1}
                    text = route_text(next_stop, list(remaining), planned=planned, extra=extra, crowded_ids=crowded)
                    states += 1
                    then = {s.table for s in text.then}
                    busy = _numbers(text.crowded)
                    assert next_stop.table not in busy, (text, crowded)  # Next is never called crowded ...
                    assert next_stop.table not in then  # ... nor listed again
                    assert not busy & then  # the crowded list and Then/Or never overlap
                    assert busy <= {s.table for s in remaining if s.id in crowded}
                    assert then <= {s.table for s in remaining if s.id not in crowded}
                    listed = busy | then | {next_stop.table} | _numbers(text.intro)
                    assert listed == {s.table for s in remaining} or not (planned or extra)
                    for sentence in (text.crowded, text.intro):  # singular and plural agree with the count
                        for word, numbers in re.findall(r"\b(tables?) ([\d, and]+?) now", sentence):
                            count = len(re.findall(r"\d+", numbers))
                            assert (word == "table") == (count == 1), sentence
                        if "come back to it" in sentence:
                            assert re.search(r"\btable \d+ now", sentence)
                        if "come back to them" in sentence:
                            assert re.search(r"\btables ", sentence)
    assert states > 1000
