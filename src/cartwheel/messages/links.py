"""Signed links in messages: unsubscribe, the open pixel, tracked clicks.

A token is ``base64url(JSON claims) "." base64url(HMAC-SHA256)`` under a key derived from
the application key (``sealing.Keyring.mac_keys``), one key per purpose, so an open token
is no click token and no unsubscribe token. The claims name the store, the contact or the
message, and for a click the destination: a link that is not signed, or was altered, is
refused, so the click endpoint is never an open redirect, and an unsubscribe token works
for the one contact, channel and topic it names."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass
from typing import Any

from cartwheel import sealing

UNSUBSCRIBE = "cartwheel.messages.unsubscribe"
OPEN = "cartwheel.messages.open"
CLICK = "cartwheel.messages.click"
#: The signature kept: 128 bits.
_MAC_BYTES = 16
#: The longest token accepted before any decoding.
MAX_TOKEN = 4096


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(purpose: str, claims: list[Any]) -> str:
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    key = sealing.keyring().mac_keys(purpose)[0]
    return payload + "." + _b64(hmac.digest(key, payload.encode(), "sha256")[:_MAC_BYTES])


def verify(purpose: str, token: str) -> list[Any] | None:
    """The claims of a token signed for ``purpose``; None if it is not one."""
    if len(token) > MAX_TOKEN or token.count(".") != 1 or not token.isascii():
        return None
    payload, _, signature = token.partition(".")
    try:
        given = _unb64(signature)
    except (binascii.Error, ValueError):
        return None
    for key in sealing.keyring().mac_keys(purpose):
        expected = hmac.digest(key, payload.encode(), "sha256")[:_MAC_BYTES]
        if hmac.compare_digest(expected, given):
            try:
                claims = json.loads(_unb64(payload))
            except (binascii.Error, ValueError):
                return None
            return claims if isinstance(claims, list) else None
    return None


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    store_id: int
    contact_id: int
    channel: str
    topic: str
    message_id: int | None


def unsubscribe_token(
    store_id: int, contact_id: int, channel: str, topic: str, message_id: int | None
) -> str:
    return sign(UNSUBSCRIBE, [store_id, contact_id, channel, topic, message_id])


def read_unsubscribe(token: str) -> Unsubscribe | None:
    claims = verify(UNSUBSCRIBE, token)
    if claims is None or len(claims) != 5:
        return None
    store_id, contact_id, channel, topic, message_id = claims
    if not (isinstance(store_id, int) and isinstance(contact_id, int)):
        return None
    if not (isinstance(channel, str) and isinstance(topic, str)):
        return None
    return Unsubscribe(
        store_id, contact_id, channel, topic, message_id if isinstance(message_id, int) else None
    )


def open_token(store_id: int, message_id: int) -> str:
    return sign(OPEN, [store_id, message_id])


def read_open(token: str) -> tuple[int, int] | None:
    claims = verify(OPEN, token)
    if claims is None or len(claims) != 2 or not all(isinstance(c, int) for c in claims):
        return None
    return claims[0], claims[1]


def click_token(store_id: int, message_id: int, url: str) -> str:
    return sign(CLICK, [store_id, message_id, url])


def read_click(token: str) -> tuple[int, int, str] | None:
    claims = verify(CLICK, token)
    if claims is None or len(claims) != 3:
        return None
    store_id, message_id, url = claims
    if not (isinstance(store_id, int) and isinstance(message_id, int) and isinstance(url, str)):
        return None
    return store_id, message_id, url


class Urls:
    """The public URLs of a Cartwheel (``CARTWHEEL_PUBLIC_URL``)."""

    def __init__(self, public_url: str) -> None:
        self.base = public_url.rstrip("/")

    def unsubscribe(self, token: str) -> str:
        return f"{self.base}/v1/unsubscribe/{token}"

    def open_pixel(self, token: str) -> str:
        return f"{self.base}/v1/t/o/{token}"

    def click(self, token: str) -> str:
        return f"{self.base}/v1/t/c/{token}"

    def password_reset(self, token: str) -> str:
        return f"{self.base}/v1/password-reset?token={token}"
