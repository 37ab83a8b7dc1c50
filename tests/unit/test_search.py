"""The organisers' list search, table by table: which fields a query finds, case and accents ignored."""
from types import SimpleNamespace as NS

import pytest

from expo_app.admin.search import MAX_QUERY, judge_matches, search, team_matches, tidy_query

TEAMS = [
    NS(name="Drift Busters", project="Real-time drift detection", table_number=7, companies="Stripe; Google Cloud",
       members=[NS(name="Zoë Ångström", email="zoe@uni.example.edu")]),
    NS(name="Pipeline Pilots", project="Reproducible retraining", table_number=17, companies="",
       members=[NS(name="Grace Hopper", email="grace@uni.example.edu")]),
    NS(name="Squad 42", project="", table_number=3, companies="Acme", members=[]),
]
JUDGES = [
    NS(name="Alan Kay", email="alan.kay@judges.example.com", affiliation="Xerox PARC"),
    NS(name="Grace Hopper", email="grace@navy.example.mil", affiliation="US Navy"),
]


@pytest.mark.parametrize("query, names", [
    ("", ["Drift Busters", "Pipeline Pilots", "Squad 42"]),
    ("drift busters", ["Drift Busters"]),         # name, any case
    ("RETRAINING", ["Pipeline Pilots"]),          # project
    ("7", ["Drift Busters"]),                     # a number is a table: 7, not 17
    ("17", ["Pipeline Pilots"]),
    ("42", ["Squad 42"]),                         # a number in a name still counts
    ("zoe", ["Drift Busters"]),                   # member name, accents ignored
    ("angstrom", ["Drift Busters"]),
    ("grace@uni", ["Pipeline Pilots"]),           # member e-mail
    ("google cloud", ["Drift Busters"]),          # company
    ("acme", ["Squad 42"]),
    ("uni.example", ["Drift Busters", "Pipeline Pilots"]),
    ("nothing like this", []),
])
def test_teams_are_found_by_name_project_table_member_email_and_company(query, names):
    assert [t.name for t in search(TEAMS, query, team_matches)] == names


@pytest.mark.parametrize("query, names", [
    ("", ["Alan Kay", "Grace Hopper"]),
    ("grace", ["Grace Hopper"]),
    ("JUDGES.EXAMPLE", ["Alan Kay"]),             # e-mail
    ("navy", ["Grace Hopper"]),                   # affiliation
    ("parc", ["Alan Kay"]),
    ("7", []),
])
def test_judges_are_found_by_name_email_and_affiliation(query, names):
    assert [j.name for j in search(JUDGES, query, judge_matches)] == names


def test_queries_are_tidied_and_bounded():
    assert tidy_query("  drift \t busters \n") == "drift busters"
    assert tidy_query(None) == ""
    assert len(tidy_query("x" * 500)) == MAX_QUERY
