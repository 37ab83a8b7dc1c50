"""Where messages go: an SMTP server (MAIL_URL), or .eml files in the instance folder (no MAIL_URL).

MAIL_URL forms:
- `smtp://user:password@host:587`: STARTTLS, required (a server that does not offer it is an error,
  never a reason to send the password and the sign-in links in the clear);
- `smtps://user:password@host:465`: TLS from the first byte;
- `smtp://host:1025?tls=none`: plain SMTP, for a mail catcher on the same machine or network (with a
  user name or password this is refused).
The certificate is checked against the system's trust store (`SSL_CERT_FILE` names another).
The password is never shown: `describe()` and every error message leave it out.
"""
from __future__ import annotations

import os
import smtplib
import socket
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from ..platform.observability import redact_text

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
IDLE_CHECK_S = 20  # a kept connection idle for longer is checked (NOOP) before the next message


class MailConfigError(ValueError):
    """MAIL_URL or MAIL_FROM cannot be used; the message says why (without the password)."""


class DeliveryError(Exception):
    """A message was not accepted. `permanent`: the server refused it for good (a 5xx answer to this
    message: an unknown recipient, a rejected message); otherwise it is tried again later."""

    def __init__(self, reason: str, permanent: bool = False, server: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.server = server  # about the server or the set-up (unreachable, login refused), not this message


@dataclass(frozen=True)
class SmtpSettings:
    scheme: str  # smtp | smtps
    host: str
    port: int
    username: str
    password: str
    starttls: bool

    def describe(self) -> str:
        """The server as the pages and logs may show it: never the password."""
        who = f"{self.username}@" if self.username else ""
        how = "TLS" if self.scheme == "smtps" else "STARTTLS" if self.starttls else "no TLS"
        return f"{self.scheme}://{who}{self.host}:{self.port} ({how})"


def parse_mail_url(url: str) -> SmtpSettings:
    """MAIL_URL as settings, or MailConfigError saying what is wrong with it."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise MailConfigError("MAIL_URL is not a URL we can read: smtp://user:password@host:587 or "
                              "smtps://user:password@host:465.") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise MailConfigError(f"MAIL_URL must start with smtp:// (STARTTLS) or smtps:// (TLS), not {scheme or '(none)'}://.")
    if not parts.hostname:
        raise MailConfigError("MAIL_URL names no host: smtp://user:password@host:587.")
    options = {key.lower(): values[-1].lower() for key, values in parse_qs(parts.query).items()}
    unknown = set(options) - {"tls"}
    if unknown:
        raise MailConfigError(f"MAIL_URL has an option we do not know: {', '.join(sorted(unknown))} (only tls=none).")
    tls = options.get("tls", "starttls" if scheme == "smtp" else "ssl")
    if scheme == "smtp" and tls not in ("starttls", "none"):
        raise MailConfigError("MAIL_URL: tls= is starttls (the default) or none.")
    if scheme == "smtps" and tls != "ssl":
        raise MailConfigError("MAIL_URL: smtps:// is always TLS; leave tls= out.")
    username, password = unquote(parts.username or ""), unquote(parts.password or "")
    if tls == "none" and (username or password):
        raise MailConfigError("MAIL_URL: tls=none would send the password in the clear. Use STARTTLS (smtp://) or "
                              "smtps://, or leave the user name and password out for a local mail catcher.")
    return SmtpSettings(scheme, parts.hostname, port or DEFAULT_PORTS[scheme], username, password, tls == "starttls")


def _code_reason(code: int, text: bytes | str, what: str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return redact_text(f"{what}: {code} {' '.join(message.split())}")[:400]


class SmtpTransport:
    """One SMTP connection, kept open from message to message (opened again when it was lost)."""

    def __init__(self, settings: SmtpSettings, timeout: float = 30.0):
        self.settings = settings
        self.timeout = timeout
        self.connection: smtplib.SMTP | None = None
        self.used_at = 0.0

    def describe(self) -> str:
        return self.settings.describe()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.scheme == "smtps":
                connection = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout,
                                              context=ssl.create_default_context())
            else:
                connection = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
                connection.ehlo()
                if s.starttls:
                    if not connection.has_extn("starttls"):
                        connection.close()
                        raise DeliveryError(f"{s.host}:{s.port} does not offer STARTTLS; MAIL_URL asks for it "
                                            "(use smtps:// for a server that speaks TLS from the start)", server=True)
                    connection.starttls(context=ssl.create_default_context())
                    connection.ehlo()
            if s.username:
                connection.login(s.username, s.password)
        except DeliveryError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(_code_reason(exc.smtp_code, exc.smtp_error,
                                             f"{s.host} refused the login of {s.username} (check MAIL_URL)"), server=True) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(_code_reason(exc.smtp_code, exc.smtp_error, f"{s.host}:{s.port} answered"), server=True) from None
        except ssl.SSLError as exc:
            raise DeliveryError(f"TLS with {s.host}:{s.port} failed: {exc.reason or exc}", server=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"cannot reach the mail server {s.host}:{s.port}: {_describe_os_error(exc)}",
                                server=True) from None
        return connection

    def _ready(self) -> smtplib.SMTP:
        if self.connection is not None and time.monotonic() - self.used_at > IDLE_CHECK_S:
            try:
                code, _ = self.connection.noop()
                if code != 250:
                    raise smtplib.SMTPServerDisconnected()
            except (OSError, smtplib.SMTPException):
                self._drop()
        if self.connection is None:
            self.connection = self._connect()
        return self.connection

    def send(self, message: EmailMessage, name: str) -> None:
        """Hand one message to the server; DeliveryError when it was not accepted."""
        connection = self._ready()
        try:
            connection.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise DeliveryError(_code_reason(code, text, "the server refused the recipient"),
                                permanent=500 <= code < 600) from None
        except smtplib.SMTPSenderRefused as exc:
            raise DeliveryError(_code_reason(exc.smtp_code, exc.smtp_error, "the server refused the sender (MAIL_FROM)"),
                                permanent=False) from None
        except smtplib.SMTPDataError as exc:
            raise DeliveryError(_code_reason(exc.smtp_code, exc.smtp_error, "the server refused the message"),
                                permanent=500 <= exc.smtp_code < 600) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"the server cannot take this message: {exc}", permanent=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            # The connection broke mid-message: whether the server kept it is unknown (see worker.py).
            self._drop()
            raise DeliveryError(f"the connection to the mail server broke: {_describe_os_error(exc)}") from None
        self.used_at = time.monotonic()

    def _drop(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except OSError:
                pass
        self.connection = None

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (OSError, smtplib.SMTPException):
                pass
        self._drop()


def _describe_os_error(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return "unknown host name"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return redact_text(text)[:300]


class FileTransport:
    """Development's mailbox: each message an .eml file (owner-only: it holds sign-in links)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def describe(self) -> str:
        return f"files in {self.folder}"

    def send(self, message: EmailMessage, name: str) -> None:
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            target = self.folder / f"{name}.eml"
            temporary = self.folder / f".{name}.eml.tmp"
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as stream:
                stream.write(message.as_bytes())
            os.replace(temporary, target)
        except OSError as exc:
            raise DeliveryError(f"cannot write the message into {self.folder}: {exc.strerror or exc}",
                                server=True) from None

    def close(self) -> None:
        return None


def mailbox_folder(app) -> Path:
    """Where the development mailbox keeps its .eml files: the instance folder's mail/."""
    return Path(app.instance_path) / "mail"


def eml_name(message_id: int, created_at) -> str:
    """The .eml file of one outbox row: its id and the moment it was queued, so that a mailbox folder
    kept across a new database never shows an old file as a new row's message."""
    return f"message-{message_id:06d}-{created_at:%Y%m%d-%H%M%S-%f}"


def make_transport(app):
    """The transport MAIL_URL names (MailConfigError when it cannot be used), or the mailbox folder."""
    url = app.config.get("MAIL_URL")
    if url:
        return SmtpTransport(parse_mail_url(url), timeout=app.config.get("MAIL_TIMEOUT_S", 30.0))
    return FileTransport(mailbox_folder(app))
