"""Email over SMTP (``CARTWHEEL_SMTP_*``): the MIME message and its delivery to the relay.

One connection is opened per batch and reused for every message in it. Outcomes are
classified the way the relay means them: a 4xx reply, a refused or dropped connection or a
timeout is *temporary* (tried again with backoff); a 5xx reply is *permanent* (no retry;
the address is suppressed when the relay refused the recipient)."""

from __future__ import annotations

import binascii
import re
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from email.charset import QP, Charset
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache
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


def wire(email: Email) -> bytes:
    """The ``multipart/alternative`` message as sent: text, then HTML, both
    quoted-printable UTF-8, CRLF line ends.

    Written out directly rather than through :mod:`email`'s classes and generator: their
    header folding and the generator's boundary search (a regular expression compiled per
    message) cost more than everything else in a send. The boundary starts with ``=_``,
    which quoted-printable text can never contain (it writes ``=`` as ``=3D``), so no
    search is needed."""
    boundary = f"=_cw{secrets.token_hex(12)}"
    headers = [
        ("From", _address_header(email.from_address)),
        ("To", email.to),
        ("Subject", _header("Subject", email.subject)),
        ("Date", format_datetime(utcnow())),
        ("Message-ID", email.message_id),
    ]
    if email.reply_to:
        headers.append(("Reply-To", email.reply_to))
    if email.unsubscribe_url:
        links = [f"<{email.unsubscribe_url}>"]
        if email.unsubscribe_mailto:
            links.append(f"<{email.unsubscribe_mailto}>")
        headers.append(("List-Unsubscribe", ", ".join(links)))
        # RFC 8058: a POST to the HTTPS link unsubscribes at once.
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    headers.append(("MIME-Version", "1.0"))
    headers.append(("Content-Type", f'multipart/alternative; boundary="{boundary}"'))
    # No value may break its line (a header of its own would follow).
    lines = [_fold(f"{name}: {_NEWLINES.sub(' ', value)}") for name, value in headers]
    lines.append("")
    for subtype, content in (("plain", email.text), ("html", email.html)):
        lines.append(f"--{boundary}")
        lines.append(f'Content-Type: text/{subtype}; charset="utf-8"')
        lines.append("Content-Transfer-Encoding: quoted-printable")
        lines.append("")
        lines.append(_quoted_printable(content))
    lines.append(f"--{boundary}--")
    lines.append("")
    # Addresses may be UTF-8 (RFC 6531); everything else is ASCII by now.
    return "\r\n".join(lines).encode("utf-8")


#: Longest header line (RFC 5322 asks for 78 characters where it can be done).
_LINE = 78
_NEWLINES = re.compile(r"\r\n|\r|\n")


def _fold(line: str) -> str:
    """A header line folded at spaces into lines of at most 78 characters where it has
    spaces to fold at (a long word, such as a link, is left whole)."""
    if len(line) <= _LINE or "\r\n" in line:
        return line  # short, or folded already (encoded words)
    folded: list[str] = []
    current = ""
    for word in line.split(" "):
        if current and len(current) + 1 + len(word) > _LINE:
            folded.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    folded.append(current)
    return "\r\n ".join(folded)


def _quoted_printable(text: str) -> str:
    """``text`` as quoted-printable UTF-8 with CRLF line ends (binascii's encoder, in C:
    ``=`` and every byte outside ASCII encoded, lines broken softly at 76)."""
    encoded = binascii.b2a_qp(_NEWLINES.sub("\n", text).encode("utf-8"), istext=True)
    # Every line break in the output is one of the text's or a soft break: all LF here.
    return encoded.decode("ascii").replace("\n", "\r\n")


_UTF8 = Charset("utf-8")
_UTF8.header_encoding = QP


def _header(name: str, value: str) -> str:
    """An unstructured header's value; encoded words (RFC 2047) where it is not ASCII."""
    if value.isascii():
        return value
    return Header(value, _UTF8, maxlinelen=_LINE, header_name=name).encode(linesep="\r\n")


@lru_cache(maxsize=256)
def _address_header(value: str) -> str:
    name, address = parseaddr(value)
    if not name or (name.isascii() and value.isascii()):
        return value
    return formataddr((name, address), charset=_UTF8)


@lru_cache(maxsize=256)
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
                envelope_sender(email.from_address), [email.to], wire(email)
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
