"""Signing, secrets, the retry schedule and Retry-After parsing."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from standardwebhooks import Webhook

from cartwheel.config import Settings
from cartwheel.webhooks import signing
from cartwheel.webhooks.client import retry_after_seconds
from cartwheel.webhooks.delivery import parse_schedule, retry_delay


def test_signature_matches_the_reference_library() -> None:
    secret = signing.new_secret()
    body = '{"id":1234,"note":"caf\u00e9"}'.encode()
    timestamp = int(datetime.now(UTC).timestamp())
    headers = signing.headers(secret, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", timestamp, body)
    reference = Webhook(secret).sign(
        "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", datetime.fromtimestamp(timestamp, UTC), body.decode()
    )
    assert headers["webhook-signature"] == reference
    assert Webhook(secret).verify(body, headers) == {"id": 1234, "note": "caf\u00e9"}


def test_generated_secret_has_the_standard_shape() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) == 32
    assert signing.secret_problem(secret) is None
    assert signing.new_secret() != secret


def test_unpadded_whsec_secrets_are_accepted() -> None:
    key = bytes(range(24))
    unpadded = "whsec_" + base64.b64encode(key).decode().rstrip("=")
    assert signing.secret_problem(unpadded) is None
    assert signing.signing_key(unpadded) == key


def test_default_schedule_spans_about_a_day_with_a_quick_first_retry() -> None:
    schedule = parse_schedule(Settings().webhook_retry_schedule)
    assert schedule[0] <= 10
    assert timedelta(hours=20) < timedelta(seconds=sum(schedule)) < timedelta(hours=36)


def test_retry_delay_has_jitter_and_an_end() -> None:
    rng = random.Random(7)
    schedule = [5.0, 30.0]
    delays = {round(retry_delay(schedule, 1, None, rng) or 0, 3) for _ in range(20)}
    assert len(delays) > 1 and all(4.0 <= d <= 6.0 for d in delays)
    assert retry_delay(schedule, 3, None, rng) is None


def test_retry_after_wins_when_longer_and_is_capped() -> None:
    rng = random.Random(1)
    assert retry_delay([5.0], 1, 600, rng) == 600
    assert (retry_delay([5.0], 1, 1, rng) or 0) >= 4
    assert retry_delay([5.0], 1, 10**9, rng) == 24 * 3600


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds("120") == 120
    later = datetime.now(UTC) + timedelta(seconds=300)
    parsed = retry_after_seconds(format_datetime(later, usegmt=True))
    assert parsed is not None and 290 <= parsed <= 301
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
