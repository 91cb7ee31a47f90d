"""SMS replies from the provider (Twilio's incoming-message webhook): STOP-style keywords
suppress the number for the stores that text from the number it was sent to; START-style
keywords lift that suppression. Requests are checked against Twilio's signature
(``X-Twilio-Signature``: HMAC-SHA1 under the auth token of the URL it called, as
``CARTWHEEL_PUBLIC_URL`` names it, followed by every form field sorted by name)."""

from __future__ import annotations

import base64
import hmac

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cartwheel.config import Settings
from cartwheel.identity.addresses import normalize_phone
from cartwheel.messages import consent
from cartwheel.models import MessageSender, Store, Suppression

#: The keywords carriers and Twilio treat as an opt-out, and as an opt-in again.
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES", "OPTIN"})


def signature(token: str, url: str, form: dict[str, str]) -> str:
    signed = url + "".join(f"{key}{form[key]}" for key in sorted(form))
    return base64.b64encode(hmac.digest(token.encode(), signed.encode(), "sha1")).decode()


def is_signed(settings: Settings, url: str, form: dict[str, str], given: str | None) -> bool:
    if not settings.sms_token or not given:
        return False
    return hmac.compare_digest(signature(settings.sms_token, url, form), given)


def handle(session: Session, settings: Settings, form: dict[str, str]) -> int:
    """Apply a reply; returns how many stores it changed."""
    word = form.get("Body", "").strip().upper()
    sender = normalize_phone(form.get("From"))
    to = normalize_phone(form.get("To"))
    if sender is None or to is None or (word not in STOP_WORDS and word not in START_WORDS):
        return 0
    own = select(MessageSender.store_id).where(MessageSender.sms_from == to)
    stores = list(session.scalars(own))
    if not stores and normalize_phone(settings.sms_from) == to:
        # The server's default number: every store that has no number of its own.
        with_own = select(MessageSender.store_id).where(MessageSender.sms_from.is_not(None))
        stores = list(session.scalars(select(Store.id).where(Store.id.not_in(with_own))))
    for store_id in stores:
        if word in STOP_WORDS:
            consent.suppress(session, store_id, "sms", sender, consent.SMS_STOP, f"Replied {word}")
        else:
            session.execute(
                delete(Suppression).where(
                    Suppression.store_id == store_id,
                    Suppression.channel == "sms",
                    Suppression.address == sender,
                    Suppression.reason == consent.SMS_STOP,
                )
            )
    return len(stores)
