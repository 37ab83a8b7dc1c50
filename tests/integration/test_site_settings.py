"""Issue 17: the site's public address (the start of every printed link and QR code) is a setting in the
database, set on the Site settings page and read alike by the web and the CLI. The environment variable
PUBLIC_BASE_URL, when set, wins (the page shows it read-only and says so); neither set, the default is
this machine on the port it serves on."""
from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from expo_app.extensions import db
from expo_app.models import AdminAction, SiteSetting
from tests.conftest import ADMIN_EMAIL

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = "http://127.0.0.1:5000"
ACTOR = f"admin: {ADMIN_EMAIL}"


def text_of(response) -> str:
    """The page's visible text: tags taken out, unescaped, every run of white space one space."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True))).split())


def flashes(response) -> list[tuple[str, str]]:
    return [(kind, " ".join(html.unescape(message).split())) for kind, message in
            re.findall(r'<p class="flash flash-(\w+)">(.*?)</p>', response.get_data(as_text=True), re.S)]


def saved(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(s.key, s.value) for s in db.session.execute(db.select(SiteSetting)).scalars()]


def site_actions(app) -> list[tuple]:
    with app.app_context():
        return [(a.event_id, a.area, a.action, a.subject, a.details, a.actor) for a in db.session.execute(
            db.select(AdminAction).where(AdminAction.area == "settings").order_by(AdminAction.id)).scalars()]


@pytest.fixture
def app_config(app_config):
    """No PUBLIC_BASE_URL: the page decides (the tests' default config pins one)."""
    return {**app_config, "PUBLIC_BASE_URL": None, "DEFAULT_PUBLIC_BASE_URL": DEFAULT}


@pytest.fixture
def admin(demo, auth):
    auth.admin()
    return demo


def test_every_admin_page_links_to_the_site_settings(client, admin):
    for url in ("/admin/events", f"/admin/events/{admin['event']}", f"/admin/events/{admin['event']}/teams"):
        assert '<a href="/admin/settings">Site settings</a>' in client.get(url).get_data(as_text=True)


def test_unset_the_default_is_used_and_the_pages_say_so(app, client, admin, runner):
    page = text_of(client.get("/admin/settings"))
    assert ("No address is set yet: links use the default, http://127.0.0.1:5000, which only a browser on this "
            "machine reaches. Set the address phones reach before printing anything.") in page
    assert re.search(r'<input[^>]*id="public_base_url"[^>]*value=""', client.get("/admin/settings").get_data(
        as_text=True))
    overview = text_of(client.get(f"/admin/events/{admin['event']}"))
    assert ("Links point at http://127.0.0.1:5000, the default, which only this machine reaches: set the address "
            "judges' phones reach.") in overview
    links = client.get(f"/admin/events/{admin['event']}/team-links.csv").get_data(as_text=True).splitlines()
    assert links[1].startswith(f"Drift Busters,1,{DEFAULT}/t/") and f",{DEFAULT}/f/" in links[1]
    info = runner.invoke(args=["sign-in-info"])
    assert f"Admin pages: {DEFAULT}/admin/login" in info.stdout and info.stdout.count(f"{DEFAULT}/j/") == 6
    assert (f"These links start with {DEFAULT}, which only this machine reaches. For phones, set the address they "
            f"reach on the Site settings page ({DEFAULT}/admin/settings) or in PUBLIC_BASE_URL.") in info.stdout


@pytest.mark.parametrize("typed, message", [
    ("", "Give the address judges' phones reach, for example https://expo.example.org."),
    ("   ", "Give the address judges' phones reach, for example https://expo.example.org."),
    ("expo.example.org", "The address must start with https:// (or http://), for example https://expo.example.org."),
    ("192.168.1.20:5000/j", "The address must start with https:// (or http://), for example https://192.168.1.20:5000."),
    ("ftp://expo.example.org", "The address must start with https:// (or http://), for example "
                               "https://expo.example.org."),
    ("https://expo.example.org/expo", "The address cannot have a path (/expo): Expo Judge is served at the root of "
                                      "its address, so give only the start, for example https://expo.example.org."),
    ("https://expo.example.org/?a=1", "The address cannot have a query (?…) or a fragment (#…): give only the start, "
                                      "for example https://expo.example.org."),
    ("https://expo.example.org#top", "The address cannot have a query (?…) or a fragment (#…): give only the start, "
                                     "for example https://expo.example.org."),
    ("https://me:secret@expo.example.org", "The address cannot hold a user name or password: give only https://host "
                                           "(and :port if needed)."),
    ("https://", "The address needs a host name (letters, digits, dots and hyphens) or an IP address, for example "
                 "https://expo.example.org."),
    ("https://expo_judge.example.org", "The address needs a host name (letters, digits, dots and hyphens) or an IP "
                                       "address, for example https://expo.example.org."),
    ("http://192.168.1.20:99999", "The port after the host must be a number from 1 to 65535, for example "
                                  "http://192.168.1.20:5000."),
    ("http://192.168.1.20:", "The port after the host must be a number from 1 to 65535, for example "
                             "http://192.168.1.20:5000."),
    ("https://expo.example .org", "The address cannot contain spaces or control characters, for example "
                                  "https://expo.example.org."),
    ("https://" + "a" * 200 + ".org", "The address is too long: at most 200 characters."),
])
@pytest.mark.any_database
def test_a_bad_address_is_refused_with_the_reason_and_nothing_is_saved(app, client, admin, typed, message):
    response = client.post("/admin/settings", data={"public_base_url": typed})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors = [html.unescape(e) for e in re.findall(r'<p class="error" id="public_base_url-err">(.*?)</p>', page)]
    assert errors == [message]
    assert saved(app) == [] and site_actions(app) == []


def test_a_saved_address_is_used_by_the_pages_the_exports_and_the_cli(app, client, admin, runner):
    response = client.post("/admin/settings", data={"public_base_url": "  HTTPS://Expo.Example.ORG/ "},
                           follow_redirects=True)
    assert response.request.path == "/admin/settings"
    assert flashes(response) == [("success", "Saved: printed links and QR codes now start with "
                                             "https://expo.example.org. Paper printed before still shows "
                                             "http://127.0.0.1:5000: print it again if that address does not reach "
                                             "this site.")]
    assert saved(app) == [("public_base_url", "https://expo.example.org")]
    assert site_actions(app) == [(None, "settings", "site address changed", "public address of the site",
                                  {"address": {"before": None, "after": "https://expo.example.org"}}, ACTOR)]
    page = response.get_data(as_text=True)
    assert re.search(r'<input[^>]*id="public_base_url"[^>]*value="https://expo.example.org"', page)
    history = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td>\s*<td>([^<]*)</td><td>([^<]*)</td></tr>", page)
    assert history == [(ACTOR, "(not set)", "https://expo.example.org")]

    links = client.get(f"/admin/events/{admin['event']}/team-links.csv").get_data(as_text=True).splitlines()
    assert links[1].startswith("Drift Busters,1,https://expo.example.org/t/")
    judge_page = client.get(f"/admin/judges/{admin['judges'][0]}/edit").get_data(as_text=True)
    assert "https://expo.example.org/j/" in judge_page
    overview = text_of(client.get(f"/admin/events/{admin['event']}"))
    assert "Links point at https://expo.example.org (Site settings)." in overview
    # Every event's audit log lists it: every event's printed links start with it.
    audit = text_of(client.get(f"/admin/events/{admin['event']}/audit?kind=settings"))
    assert "public address of the site" in audit and "(empty)" not in audit
    assert "— → https://expo.example.org" in audit

    # The CLI reads the same setting (it used to print the development address for a moved event).
    csv_lines = runner.invoke(args=["judge-links"]).stdout.splitlines()
    assert len(csv_lines) == 7 and all(",https://expo.example.org/j/" in line for line in csv_lines[1:])
    team_lines = runner.invoke(args=["team-links"]).stdout.splitlines()
    assert all(",https://expo.example.org/t/" in line for line in team_lines[1:])
    info = runner.invoke(args=["sign-in-info"]).stdout
    assert "Admin pages: https://expo.example.org/admin/login" in info and "only this machine" not in info
    created = runner.invoke(args=["create-admin", "boss@x.org", "--password", "long-enough-pw"])
    assert "Admin boss@x.org can sign in at https://expo.example.org/admin/login" in created.output

    # The same address again changes nothing, and records nothing.
    again = client.post("/admin/settings", data={"public_base_url": "https://expo.example.org"},
                        follow_redirects=True)
    assert flashes(again) == [("success", "Nothing changed: printed links already start with "
                                          "https://expo.example.org.")]
    assert len(site_actions(app)) == 1
    client.post("/admin/settings", data={"public_base_url": "http://192.168.1.20:5000"})
    assert saved(app) == [("public_base_url", "http://192.168.1.20:5000")]
    assert site_actions(app)[-1][4] == {"address": {"before": "https://expo.example.org",
                                                    "after": "http://192.168.1.20:5000"}}
    assert runner.invoke(args=["team-links"]).stdout.splitlines()[1].startswith(
        "Drift Busters,1,http://192.168.1.20:5000/t/")


def test_printed_placards_follow_a_new_address(app, client, admin):
    """A kept PDF made under the old address is not served again after a change (its data changed)."""
    from expo_app.documents.batches import build_batch
    from expo_app.models import Event

    with app.app_context():
        before = build_batch(db.session.get(Event, admin["event"]), "placards").fingerprint()
    client.post("/admin/settings", data={"public_base_url": "https://expo.example.org"})
    with app.app_context():
        batch = build_batch(db.session.get(Event, admin["event"]), "placards")
        assert batch.items[0]["url"].startswith("https://expo.example.org/t/") and batch.fingerprint() != before


class TestEnvironmentWins:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "PUBLIC_BASE_URL": "https://env.example.org"}

    def test_the_page_shows_it_read_only_and_saves_nothing(self, app, client, admin, runner):
        with app.app_context():
            db.session.add(SiteSetting(key="public_base_url", value="https://saved.example.org"))
            db.session.commit()
        response = client.get("/admin/settings")
        page = response.get_data(as_text=True)
        assert re.search(r'<input type="text" id="public_base_url" value="https://env.example.org" readonly', page)
        assert ("Read-only here: set by the environment variable PUBLIC_BASE_URL where the server runs, which wins "
                "over this page.") in text_of(response)
        assert "<form method=\"post\" novalidate>" not in page and "This address will not work" not in page
        refused = client.post("/admin/settings", data={"public_base_url": "https://other.example.org"})
        assert refused.status_code == 422
        assert "The environment variable PUBLIC_BASE_URL is set, and it wins: nothing was saved." in text_of(refused)
        assert saved(app) == [("public_base_url", "https://saved.example.org")] and site_actions(app) == []
        links = client.get(f"/admin/events/{admin['event']}/team-links.csv").get_data(as_text=True).splitlines()
        assert links[1].startswith("Drift Busters,1,https://env.example.org/t/")
        assert "(set by the environment variable PUBLIC_BASE_URL)." in text_of(
            client.get(f"/admin/events/{admin['event']}"))
        assert runner.invoke(args=["judge-links"]).stdout.splitlines()[1].split(",")[2].startswith(
            "https://env.example.org/j/")

    def test_the_operation_refuses_too(self, app, admin):
        from expo_app.actions import OperationError
        from expo_app.admin.operations import save_public_base_url

        with app.app_context(), pytest.raises(OperationError, match="PUBLIC_BASE_URL is set, and it wins"):
            save_public_base_url("https://other.example.org")


class TestEnvironmentWithAPath:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "PUBLIC_BASE_URL": "https://env.example.org/expo"}

    def test_the_page_warns_that_printed_links_will_not_work(self, client, admin):
        assert ("This address will not work for printed links: The address cannot have a path (/expo): Expo Judge is "
                "served at the root of its address, so give only the start, for example https://expo.example.org."
                ) in text_of(client.get("/admin/settings"))


@pytest.mark.parametrize("environment, base, default", [
    ({}, None, "http://127.0.0.1:5000"),
    ({"PORT": "8000"}, None, "http://127.0.0.1:8000"),  # `make run` with PORT=8000, and the image
    ({"PUBLIC_BASE_URL": ""}, None, "http://127.0.0.1:5000"),  # compose passes it empty when unset
    ({"PUBLIC_BASE_URL": "https://expo.example.org/ "}, "https://expo.example.org", "http://127.0.0.1:5000"),
])
@pytest.mark.any_database
def test_the_configuration_reads_the_environment(backend, environment, base, default):
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "PUBLIC_BASE_URL")}
    out = subprocess.run([sys.executable, "-c", "import config; c = config.Config; "
                          "print(repr(c.PUBLIC_BASE_URL)); print(c.DEFAULT_PUBLIC_BASE_URL)"],
                         cwd=ROOT, env={**env, **environment}, capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [repr(base), default]
