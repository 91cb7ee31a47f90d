"""Opens and clicks: a campaign email's links become signed redirects and a 1×1 pixel is
added before ``</body>``; the endpoints record what happened on the message."""

from __future__ import annotations

import html as html_lib
import re

from sqlalchemy import update
from sqlalchemy.orm import Session

from cartwheel.messages import links
from cartwheel.models import Message
from cartwheel.models.base import utcnow

_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?://[^"']+)\2""", re.IGNORECASE)
#: A 1×1 transparent GIF.
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00"
    b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


def track(markup: str, store_id: int, message_id: int, urls: links.Urls, skip: str) -> str:
    """``markup`` with every http(s) link but ``skip`` (the unsubscribe link) made a signed
    click link, and the open pixel added."""

    def rewrite(match: re.Match[str]) -> str:
        url = html_lib.unescape(match.group(3))
        if url == skip:
            return match.group(0)
        tracked = urls.click(links.click_token(store_id, message_id, url))
        return f"{match.group(1)}{match.group(2)}{tracked}{match.group(2)}"

    tracked = _HREF.sub(rewrite, markup)
    pixel = (
        f'<img src="{urls.open_pixel(links.open_token(store_id, message_id))}" width="1" '
        'height="1" alt="" style="display:block;border:0">'
    )
    at = tracked.lower().rfind("</body>")
    return tracked[:at] + pixel + tracked[at:] if at >= 0 else tracked + pixel


def record_open(session: Session, store_id: int, message_id: int) -> None:
    now = utcnow()
    session.execute(
        update(Message)
        .where(Message.store_id == store_id, Message.id == message_id)
        .values(opens=Message.opens + 1)
    )
    session.execute(
        update(Message)
        .where(Message.store_id == store_id, Message.id == message_id, Message.opened_at.is_(None))
        .values(opened_at=now)
    )


def record_click(session: Session, store_id: int, message_id: int) -> None:
    """A click is an open too (images are often blocked)."""
    now = utcnow()
    session.execute(
        update(Message)
        .where(Message.store_id == store_id, Message.id == message_id)
        .values(clicks=Message.clicks + 1)
    )
    for column in (Message.clicked_at, Message.opened_at):
        session.execute(
            update(Message)
            .where(Message.store_id == store_id, Message.id == message_id, column.is_(None))
            .values({column.key: now})
        )
