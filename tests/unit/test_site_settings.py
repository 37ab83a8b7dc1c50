"""normalise_base_url: the site's public address as printed links start with it, or the reason it cannot be."""
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings, strategies as st

from expo_app.site_settings import BaseUrlError, normalise_base_url


@pytest.mark.parametrize("typed, stored", [
    ("https://expo.example.org", "https://expo.example.org"),
    ("https://expo.example.org/", "https://expo.example.org"),
    ("  HTTPS://Expo.Example.ORG/  ", "https://expo.example.org"),
    ("http://192.168.1.20:5000", "http://192.168.1.20:5000"),
    ("http://192.168.1.20:5000/", "http://192.168.1.20:5000"),
    ("https://[2001:db8::1]:8443/", "https://[2001:db8::1]:8443"),
    ("https://expo-judge.cs.example.edu:443", "https://expo-judge.cs.example.edu:443"),
    ("http://localhost:5000", "http://localhost:5000"),
])
def test_accepted(typed, stored):
    assert normalise_base_url(typed) == stored


@pytest.mark.parametrize("typed, starts", [
    (None, "Give the address"), ("", "Give the address"),
    ("expo.example.org", "The address must start with https://"),
    ("mailto:x@example.org", "The address must start with https://"),
    ("https:expo.example.org", "The address must start with https://"),
    ("javascript://expo.example.org", "The address must start with https://"),
    ("https://expo.example.org/admin/", "The address cannot have a path (/admin/)"),
    ("https://expo.example.org//", "The address cannot have a path (//)"),
    ("https://expo.example.org?", "The address cannot have a query"),
    ("https://expo.example.org/#", "The address cannot have a query"),
    ("https://user@expo.example.org", "The address cannot hold a user name"),
    ("https://:5000", "The address needs a host name"),
    ("https://exa mple.org", "The address cannot contain spaces"),
    ("https://expo.example.org\x00", "The address cannot contain spaces or control characters"),
    ("https://-bad-.example.org", "The address needs a host name"),
    ("https://expo.example.org:0", "The port after the host must be a number from 1 to 65535"),
    ("https://expo.example.org:http", "The port after the host must be a number from 1 to 65535"),
    ("https://[::1", "That is not a web address we can read"),
])
def test_refused_with_the_reason(typed, starts):
    with pytest.raises(BaseUrlError) as refused:
        normalise_base_url(typed)
    assert str(refused.value).startswith(starts)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.one_of(st.text(max_size=80), st.builds(lambda scheme, rest: scheme + rest,
                                                 st.sampled_from(["http://", "https://", "HTTPS://", "ftp://"]),
                                                 st.text(max_size=60))))
def test_anything_is_either_refused_or_a_clean_address(text):
    try:
        url = normalise_base_url(text)
    except BaseUrlError as exc:
        assert str(exc).endswith(".")
        return
    parts = urlsplit(url)
    assert parts.scheme in ("http", "https") and parts.hostname and parts.path == ""
    assert not (parts.query or parts.fragment or parts.username) and url == url.strip()
    assert normalise_base_url(url) == url  # stored once, the same when read back
