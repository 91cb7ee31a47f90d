"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, and a send task
pointed at it."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from cartwheel.config import Settings
from cartwheel.messages.sending import SendTask

PUBLIC_URL = "https://cartwheel.example.com"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    #: The message as it came over the wire (after SMTP's dot-unstuffing).
    raw: bytes = b""


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    #: Recipient → the reply RCPT TO gets (e.g. "550 5.1.1 No such user").
    refuse: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        reply = self.refuse.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.received.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed, raw)
            )
        return "250 Message accepted"


class LoopbackController(Controller):
    """aiosmtpd's controller bound to port 0: the port the kernel chose is read from the
    listening socket before the controller's start-up probe connects to it."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class SmtpServer:
    handler: Handler
    port: int

    @property
    def received(self) -> list[Received]:
        return self.handler.received


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    handler = Handler()
    controller = LoopbackController(handler, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield SmtpServer(handler, controller.port)
    finally:
        controller.stop()


def mail_settings(settings: Settings, port: int, **more: Any) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
            "smtp_timeout": 5.0,
            "public_url": PUBLIC_URL,
            "mail_from": "Cartwheel Test <noreply@cartwheel.example.com>",
            **more,
        }
    )


@pytest.fixture
def sender(settings: Settings, smtp_server: SmtpServer) -> Any:
    """Make a send task for some stores, pointed at the loopback SMTP server."""

    def make(*store_ids: int, **more: Any) -> SendTask:
        # In the test's thread: each call claims, sends and records one batch.
        return SendTask(
            mail_settings(settings, smtp_server.port, **more), stores=store_ids, background=False
        )

    return make
