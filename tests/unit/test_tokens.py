import pytest

from expo_app.auth.tokens import (JUDGE_SIGN_IN, TEAM_FEEDBACK, TokenClaim, make_feedback_token, make_judge_token,
                                  make_legacy_token, read_feedback_token, read_judge_token)
from expo_app.models import UID_ALPHABET, UID_LENGTH, new_uid

KEY = "k" * 40
UID = "k7m3qx9pa2bcdefg"
OTHER = "k7m3qx9pa2bcdefh"


def test_token_names_the_uid_round_trips_and_is_stable():
    token = make_judge_token(KEY, UID, 2)
    assert token.startswith(f"{UID}-2-") and len(token.split("-", 2)[2]) == 32
    assert make_judge_token(KEY, UID, 2) == token  # reprinting a badge gives the same link
    assert read_judge_token(KEY, token) == TokenClaim(UID, 2)
    assert not read_judge_token(KEY, token).legacy


def test_new_version_gives_a_different_token():
    assert make_judge_token(KEY, UID, 2) != make_judge_token(KEY, UID, 3)


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # forged MAC
    lambda t: OTHER + t[len(UID):],  # another judge's uid with this MAC
    lambda t: t.replace("-2-", "-3-"),  # a version the MAC was not made for
    lambda t: t[:-5],  # truncated scan
    lambda t: t.upper(),  # uids are lower case
    lambda t: "",
    lambda t: "../../etc/passwd",
])
def test_forged_or_damaged_tokens_are_refused(mangle):
    assert read_judge_token(KEY, mangle(make_judge_token(KEY, UID, 2))) is None


def test_token_depends_on_the_secret_and_the_purpose():
    assert read_judge_token("another-secret" * 3, make_judge_token(KEY, UID, 2)) is None
    assert read_feedback_token(KEY, make_judge_token(KEY, UID, 2)) is None  # a badge opens no team's feedback
    assert read_judge_token(KEY, make_feedback_token(KEY, UID, 2)) is None


def test_links_printed_before_uids_name_their_old_row_id():
    """Old paper reads `<row id>-<version>-<mac>`: it still names that row id (the row keeps it as
    legacy_id), and a uid token's MAC never passes as a legacy one or back."""
    old = make_legacy_token(KEY, JUDGE_SIGN_IN, 17, 2)
    assert old.startswith("17-2-")
    claim = read_judge_token(KEY, old)
    assert claim == TokenClaim(17, 2) and claim.legacy
    assert read_feedback_token(KEY, old) is None
    assert read_feedback_token(KEY, make_legacy_token(KEY, TEAM_FEEDBACK, 17, 2)) == TokenClaim(17, 2)
    assert read_judge_token(KEY, "18" + old[2:]) is None


def test_uids_are_random_lower_case_and_start_with_a_letter():
    uids = {new_uid() for _ in range(2000)}
    assert len(uids) == 2000
    assert all(len(u) == UID_LENGTH and u[0].isalpha() and set(u) <= set(UID_ALPHABET) for u in uids)
