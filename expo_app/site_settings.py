"""Settings of the whole site, kept in the database (SiteSetting) so that the web and the CLI read the same.

The one setting today is the site's public address: the start of every printed link and QR code
(badges, placards, slips, certificates), which a CLI run cannot guess from a request. Where it comes
from, first found wins:

1. the environment variable PUBLIC_BASE_URL (app.config; a deployment pins it there);
2. the address the organiser saved on the Site settings page (site_setting "public_base_url");
3. the default: this machine on the port it serves on (config DEFAULT_PUBLIC_BASE_URL), which only
   works for a browser on the same machine.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, g

from .extensions import db
from .models import AdminAction, SiteSetting

PUBLIC_BASE_URL = "public_base_url"
MAX_BASE_URL = 200
ENVIRONMENT, SETTINGS, DEFAULT = "environment", "settings", "default"
EXAMPLE = "https://expo.example.org"
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?|\[[0-9a-f:.]+\]")


class BaseUrlError(ValueError):
    """The address cannot be used for printed links; the message says why, for the organiser."""


@dataclass(frozen=True)
class PublicBaseUrl:
    url: str
    source: str  # ENVIRONMENT, SETTINGS or DEFAULT


def normalise_base_url(text: str | None) -> str:
    """The address as printed links start with it: scheme and host in lower case, no trailing slash.

    It must be an http or https URL with a host (and maybe a port), and nothing after it: no path
    (Expo Judge is served at the root of its address), no query, no fragment, no user name.
    """
    text = (text or "").strip()
    if not text:
        raise BaseUrlError(f"Give the address judges' phones reach, for example {EXAMPLE}.")
    if len(text) > MAX_BASE_URL:
        raise BaseUrlError(f"The address is too long: at most {MAX_BASE_URL} characters.")
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise BaseUrlError(f"The address cannot contain spaces or control characters, for example {EXAMPLE}.")
    try:
        parts = urlsplit(text)
    except ValueError:  # an unclosed [ of an IPv6 address
        raise BaseUrlError(f"That is not a web address we can read, for example {EXAMPLE}.") from None
    if "://" not in text:
        raise BaseUrlError(f"The address must start with https:// (or http://), for example "
                           f"https://{text.split('/')[0][:80]}.")
    if parts.scheme.lower() not in ("http", "https") or not text.lower().startswith(parts.scheme.lower() + "://"):
        raise BaseUrlError(f"The address must start with https:// (or http://), for example {EXAMPLE}.")
    if "@" in parts.netloc:
        raise BaseUrlError("The address cannot hold a user name or password: give only https://host "
                           "(and :port if needed).")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise BaseUrlError(f"The address cannot have a query (?…) or a fragment (#…): give only the start, "
                           f"for example {EXAMPLE}.")
    if parts.path not in ("", "/"):
        raise BaseUrlError(f"The address cannot have a path ({parts.path}): Expo Judge is served at the root of "
                           f"its address, so give only the start, for example {EXAMPLE}.")
    host = (parts.hostname or "").lower()
    if not host or not _HOST.fullmatch(host if ":" not in host else f"[{host}]"):
        raise BaseUrlError(f"The address needs a host name (letters, digits, dots and hyphens) or an IP address, "
                           f"for example {EXAMPLE}.")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port == -1 or port == 0 or (port is None and parts.netloc.endswith(":")):
        raise BaseUrlError("The port after the host must be a number from 1 to 65535, for example "
                           "http://192.168.1.20:5000.")
    netloc = f"[{host}]" if ":" in host else host
    return f"{parts.scheme.lower()}://{netloc}" + (f":{port}" if port is not None else "")


def public_base_url() -> PublicBaseUrl:
    """The address printed links start with, and where it comes from (read once per request or command)."""
    cached = g.get("_public_base_url")
    if cached is not None:
        return cached
    from_environment = (current_app.config.get("PUBLIC_BASE_URL") or "").strip().rstrip("/")
    if from_environment:
        found = PublicBaseUrl(from_environment, ENVIRONMENT)
    else:
        saved = db.session.get(SiteSetting, PUBLIC_BASE_URL)
        if saved is not None and saved.value:
            found = PublicBaseUrl(saved.value, SETTINGS)
        else:
            found = PublicBaseUrl(current_app.config["DEFAULT_PUBLIC_BASE_URL"].rstrip("/"), DEFAULT)
    g._public_base_url = found
    return found


def forget_public_base_url() -> None:
    """After a change: the next link is built on the new address."""
    g.pop("_public_base_url", None)


def saved_setting(key: str) -> SiteSetting | None:
    return db.session.get(SiteSetting, key)


def address_history(limit: int = 10) -> list[AdminAction]:
    """The latest changes of the site's address (audit log, area "settings", no event), newest first."""
    return db.session.execute(
        db.select(AdminAction).where(AdminAction.event_id.is_(None), AdminAction.area == "settings")
        .order_by(AdminAction.at.desc(), AdminAction.id.desc()).limit(limit)).scalars().all()
