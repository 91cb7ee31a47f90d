"""SMS over a Twilio-compatible HTTP API (``CARTWHEEL_SMS_*``), sent through the webhooks'
SSRF-guarded HTTP client: ``POST {base}/2010-04-01/Accounts/{account}/Messages.json`` with
``To``, ``From`` and ``Body`` as a form, HTTP Basic auth (account, token).

The provider's answer decides: 2xx is sent (its ``sid`` kept), 429 and 5xx are temporary,
other 4xx are permanent; Twilio's error 21610 (the recipient replied STOP) suppresses the
number."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, urlencode

from cartwheel.config import Settings
from cartwheel.messages.smtp import PERMANENT, SENT, TEMPORARY, Outcome
from cartwheel.webhooks.client import WebhookClient

#: Twilio: "Attempt to send to unsubscribed recipient" (the number texted STOP).
STOPPED = 21610


class SmsClient:
    def __init__(self, settings: Settings, client: WebhookClient | None = None) -> None:
        self.settings = settings
        self.client = client or WebhookClient(
            timeout_seconds=settings.smtp_timeout,
            allow_private=settings.webhook_allow_private,
            max_connections=8,
        )

    def send(self, to: str, sender: str, body: str) -> Outcome:
        s = self.settings
        if not s.sms_account:
            return Outcome(TEMPORARY, None, "No SMS provider is configured (CARTWHEEL_SMS_*).")
        url = (
            f"{s.sms_api_url.rstrip('/')}/2010-04-01/Accounts/"
            f"{quote(s.sms_account, safe='')}/Messages.json"
        )
        auth = base64.b64encode(f"{s.sms_account}:{s.sms_token}".encode()).decode()
        form = urlencode({"To": to, "From": sender, "Body": body}).encode()
        result = self.client.post(
            url,
            form,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": f"Basic {auth}",
                "Accept": "application/json",
            },
        )
        answer = _json(result.response_body)
        if result.succeeded:
            sid = answer.get("sid")
            return Outcome(SENT, result.status_code, provider_id=str(sid)[:100] if sid else None)
        code = result.status_code
        detail = answer.get("message") or result.error or "no answer"
        error = f"{code or ''} {detail}".strip()[:1000]
        if code is None or code == 429 or code >= 500:
            return Outcome(TEMPORARY, code, error)
        return Outcome(PERMANENT, code, error, bad_recipient=answer.get("code") == STOPPED)

    def close(self) -> None:
        self.client.close()


def _json(body: str | None) -> dict[str, object]:
    if not body:
        return {}
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
