"""The Site settings form (the site's public address): hostile text and odd addresses are refused with a
message and write nothing; an accepted address is stored as printed links start with it, inert in the pages."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from expo_app.extensions import db
from expo_app.models import SiteSetting
from expo_app.site_settings import BaseUrlError, normalise_base_url

from . import checks
from .conftest import budget
from .strategies import PAYLOADS, hostile_text

addresses = st.one_of(
    hostile_text(),
    st.builds(lambda scheme, host, tail: scheme + host + tail,
              st.sampled_from(["https://", "http://", "HTTP://", "ftp://", "", "https:", "//"]),
              st.sampled_from(["expo.example.org", "192.168.1.20", "[::1]", "exa_mple.org", "", "a" * 300,
                               "user:pw@expo.example.org", "expo.example.org:5000", "expo.example.org:99999"]),
              st.one_of(st.sampled_from(["", "/", "/admin", "?x=1", "#f", ":", "\x00", " "]), st.sampled_from(PAYLOADS))),
)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PUBLIC_BASE_URL": None}


@budget(ci=15)
@given(typed=addresses)
def test_site_address(world, typed):
    before = world.rows()
    response = world.client.post("/admin/settings", data={"public_base_url": typed})
    checks.no_server_error(response)
    after = world.rows()
    try:
        expected = normalise_base_url(typed)
    except BaseUrlError:
        expected = None
    if checks.carries_nul(typed):
        checks.refused_for_nul(response)
    if expected is None:
        checks.refused_clearly(response)
        checks.inert_html(response.get_data(as_text=True), [typed])
        checks.unchanged(before, after, response)
        return
    assert response.status_code == 302, checks.describe(response)
    with world.app.app_context():
        assert db.session.get(SiteSetting, "public_base_url").value == expected
    for path in ("/admin/settings", f"/admin/events/{world.ids['event']}",
                 f"/admin/events/{world.ids['event']}/audit"):
        page = world.client.get(path)
        checks.no_server_error(page)
        checks.inert_html(page.get_data(as_text=True), [typed])
    world.reset(world.rows())
