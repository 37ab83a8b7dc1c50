"""Addresses that no e-mail could reach are refused at import, each with its line."""
import pytest

from expo_app.admin.csv_import import CsvImportError, is_email, parse_judges_csv, parse_teams_csv


@pytest.mark.parametrize("address, ok", [
    ("ada@uni.example.edu", True),
    ("ada.lovelace+expo@mail.example.org", True),
    ("adé@example.org", True),  # internationalised local parts are addresses (sent with SMTPUTF8)
    ("ada@x..org", False),  # the loose pattern alone let these four through
    ("ada@-x.org", False),
    ("ada@x_y.org", False),
    ("ada@expo.test", False),  # a reserved name: no mail reaches it
    ("ada", False),
    ("ada@", False),
    ("ada@@x.org", False),
    ("ada lovelace@x.org", False),
    ("<ada@x.org>", False),
])
def test_is_email(address, ok):
    assert is_email(address) is ok


def test_judges_with_addresses_no_mail_reaches_are_refused_by_line():
    text = ("name,email,affiliation\n"
            "Ada,ada@x.org,\n"
            "Bob,bob@x..org,\n"
            "Cy,cy@-x.org,ACME\n"
            "Di,di@expo.test,\n")
    with pytest.raises(CsvImportError) as refused:
        parse_judges_csv(text)
    assert refused.value.errors == ["Line 3: 'bob@x..org' is not an e-mail address.",
                                    "Line 4: 'cy@-x.org' is not an e-mail address.",
                                    "Line 5: 'di@expo.test' is not an e-mail address."]


def test_team_members_with_bad_addresses_are_refused_by_line():
    text = ("team,project,table,member,email\n"
            "A,p,1,Ada,ada@x.org\n"
            "A,p,1,Bob,bob@x_y.org\n")
    with pytest.raises(CsvImportError) as refused:
        parse_teams_csv(text)
    assert refused.value.errors == ["Line 3: 'bob@x_y.org' is not an e-mail address."]
