"""A real SMTP server on 127.0.0.1 for the e-mail tests and bench/mail.py (aiosmtpd)."""
from __future__ import annotations

import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Recorder:
    """Keeps every message the server accepted; refuses the recipients listed in `refuse` (550)."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpServer:
    """Start, stop and start again (the same port): a mail server that goes down and comes back."""

    def __init__(self, port: int | None = None, **controller_options):
        self.port = port or free_port()
        self.recorder = Recorder()
        self.options = controller_options
        self.controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.recorder.messages

    def start(self) -> "SmtpServer":
        hostname = self.options.pop("hostname", "127.0.0.1")
        self.options["hostname"] = hostname
        self.controller = Controller(self.recorder, port=self.port, **self.options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?tls=none"


def accept_login(username: str, password: str):
    """An aiosmtpd authenticator that accepts this one user name and password."""

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login.decode() == username and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

    return authenticator
