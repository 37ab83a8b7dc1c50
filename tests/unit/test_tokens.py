import pytest

from expo_app.auth.tokens import TokenClaim, make_judge_token, read_judge_token

KEY = "k" * 40


def test_token_round_trips_and_is_stable():
    token = make_judge_token(KEY, 17, 2)
    assert token.startswith("17-2-") and len(token.split("-", 2)[2]) == 32
    assert make_judge_token(KEY, 17, 2) == token  # reprinting a badge gives the same link
    assert read_judge_token(KEY, token) == TokenClaim(17, 2)


def test_new_version_gives_a_different_token():
    assert make_judge_token(KEY, 17, 2) != make_judge_token(KEY, 17, 3)


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # forged MAC
    lambda t: "18" + t[2:],  # another judge's id with this MAC
    lambda t: t.replace("-2-", "-3-"),  # a version the MAC was not made for
    lambda t: t[:-5],  # truncated scan
    lambda t: "",
    lambda t: "../../etc/passwd",
])
def test_forged_or_damaged_tokens_are_refused(mangle):
    assert read_judge_token(KEY, mangle(make_judge_token(KEY, 17, 2))) is None


def test_token_depends_on_the_secret():
    assert read_judge_token("another-secret" * 3, make_judge_token(KEY, 17, 2)) is None
