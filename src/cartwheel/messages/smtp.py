"""Email over SMTP (``CARTWHEEL_SMTP_*``): the MIME message and its delivery to the relay.

One connection is opened per batch and reused for every message in it. Outcomes are
classified the way the relay means them: a 4xx reply, a refused or dropped connection or a
timeout is *temporary* (tried again with backoff); a 5xx reply is *permanent* (no retry;
the address is suppressed when the relay refused the recipient)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.charset import QP, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr
from types import TracebackType

from cartwheel.config import Settings
from cartwheel.models.base import utcnow

SENT = "sent"
TEMPORARY = "temporary"
PERMANENT = "permanent"


@dataclass(frozen=True, slots=True)
class Outcome:
    outcome: str
    code: int | None = None
    error: str | None = None
    #: The relay refused the recipient itself (a hard bounce): suppress the address.
    bad_recipient: bool = False
    provider_id: str | None = None


@dataclass(frozen=True, slots=True)
class Email:
    from_address: str
    to: str
    subject: str
    html: str
    text: str
    message_id: str
    reply_to: str | None = None
    #: ``List-Unsubscribe`` links (HTTPS and mailto), marketing only.
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None


#: SMTP wants CRLF line ends; smtplib converts them for str messages only, not bytes.
_WIRE = compat32.clone(linesep="\r\n")
_UTF8 = Charset("utf-8")
_UTF8.header_encoding = QP
_UTF8.body_encoding = QP


def mime(email: Email) -> MIMEMultipart:
    """The ``multipart/alternative`` message: text, then HTML, both quoted-printable UTF-8.

    Built with the ``compat32`` classes: the default policy's header objects parse every
    header again and cost several times more per message."""
    message = MIMEMultipart("alternative")
    message["From"] = _address_header(email.from_address)
    message["To"] = email.to
    message["Subject"] = _header(email.subject)
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = email.message_id
    if email.reply_to:
        message["Reply-To"] = email.reply_to
    if email.unsubscribe_url:
        links = [f"<{email.unsubscribe_url}>"]
        if email.unsubscribe_mailto:
            links.append(f"<{email.unsubscribe_mailto}>")
        message["List-Unsubscribe"] = ", ".join(links)
        # RFC 8058: a POST to the HTTPS link unsubscribes at once.
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.attach(_text_part("plain", email.text))
    message.attach(_text_part("html", email.html))
    return message


def _text_part(subtype: str, text: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype)
    part.set_payload(text, _UTF8)
    return part


def _header(value: str) -> str:
    return value if value.isascii() else Header(value, _UTF8).encode()


def _address_header(value: str) -> str:
    name, address = parseaddr(value)
    if not name or (name.isascii() and value.isascii()):
        return value
    return formataddr((name, address), charset=_UTF8)


def envelope_sender(from_address: str) -> str:
    return parseaddr(from_address)[1]


def sender_address(email: str, name: str | None) -> str:
    return formataddr((name, email)) if name else email


class SmtpConnection:
    """An SMTP session to the relay, opened on first use, reused, closed at the end."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpConnection:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if not s.smtp_host:
            raise ConnectionError("No SMTP relay is configured (CARTWHEEL_SMTP_HOST).")
        smtp: smtplib.SMTP
        if s.smtp_security == "tls":
            context = ssl.create_default_context()
            smtp = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        try:
            smtp.ehlo()
            if s.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, email: Email) -> Outcome:
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            refused = self._smtp.sendmail(
                envelope_sender(email.from_address), [email.to], mime(email).as_bytes(policy=_WIRE)
            )
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            return self._refused(code, reply, recipient=True)
        except smtplib.SMTPResponseException as exc:
            return self._refused(exc.smtp_code, exc.smtp_error, recipient=False)
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            self.close()
            return Outcome(TEMPORARY, None, _describe(exc))
        if refused:  # only with several recipients; one is given
            code, reply = next(iter(refused.values()))
            return self._refused(code, reply, recipient=True)
        return Outcome(SENT, 250)

    def _refused(self, code: int, reply: bytes | str, *, recipient: bool) -> Outcome:
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        error = f"{code} {text}"[:1000]
        if code >= 500:
            # A refused transaction leaves the session usable; reset it for the next one.
            self._reset()
            return Outcome(PERMANENT, code, error, bad_recipient=recipient or code == 550)
        self._reset()
        return Outcome(TEMPORARY, code, error)

    def _reset(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            self._smtp.close()
        self._smtp = None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]
