"""Where ``send_email`` and ``send_sms`` hand their message over: the messages channel.

A flow step never talks SMTP or an SMS provider; it queues one message row in the step's
transaction, keyed by run and step visit, so a step replayed after a crash queues nothing
new and the messages queue sends what was queued once. :class:`Sender` is the whole
interface the engine needs, so the channel behind it can be swapped (tests use a recording
one where the channel is not the subject)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class Queued:
    """What a send step did: the message it queued (or why it queued none)."""

    message_id: str | None
    skipped: str | None = None


class Sender(Protocol):
    def channel_of(self, session: Session, store_id: int, template_id: int) -> str | None:
        """The template's channel ("email" or "sms"), or None if the store has no such
        template."""

    def send(
        self,
        session: Session,
        *,
        store_id: int,
        template_id: int,
        contact_id: int,
        context: dict[str, Any],
        idempotency_key: str,
    ) -> Queued:
        """Queue one message in ``session``'s transaction; the same key queues it once."""


class Unavailable:
    """No messages channel in this build: every template is unknown, so a flow that sends
    is refused at its ``template`` path, and nothing is ever half-sent."""

    def channel_of(self, session: Session, store_id: int, template_id: int) -> str | None:
        return None

    def send(
        self,
        session: Session,
        *,
        store_id: int,
        template_id: int,
        contact_id: int,
        context: dict[str, Any],
        idempotency_key: str,
    ) -> Queued:
        return Queued(None, "No messages channel is configured.")


_current: list[Sender] = [Unavailable()]


def sender() -> Sender:
    return _current[0]


def use(new: Sender) -> Sender:
    """Install ``new`` as the channel; returns the previous one."""
    previous = _current[0]
    _current[0] = new
    return previous
