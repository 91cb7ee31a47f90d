"""From a template and its variables to what is sent: the subject, the HTML with its CSS
inlined, and the plain-text part (the template's own, or made from the HTML); or an SMS
text. Links are rewritten for click tracking by the caller (:mod:`.tracking`)."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import css_inline

from cartwheel.messages import language

#: Remote stylesheets are never fetched: a template must not make the worker call out.
_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)


@dataclass(frozen=True, slots=True)
class Source:
    """The parts of a template."""

    channel: str
    subject: str | None
    body: str
    text: str | None


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str | None
    #: The email's HTML (CSS inlined); None for SMS.
    html: str | None
    #: The plain-text part, or the SMS.
    text: str


def render(source: Source, variables: dict[str, Any]) -> Rendered:
    """Render every part; :class:`language.RenderFailed` when a part cannot be."""
    if source.channel == "sms":
        text = language.render(language.parse(source.body, False), variables)
        return Rendered(None, None, text.strip())
    subject = language.render(language.parse(source.subject or "", False), variables)
    body = language.render(language.parse(source.body, True), variables)
    try:
        inlined = _INLINER.inline(body)
    except ValueError as exc:
        raise language.RenderFailed(f"The CSS could not be inlined: {exc}") from exc
    if source.text is not None:
        text = language.render(language.parse(source.text, False), variables)
    else:
        text = html_to_text(body)
    # A subject is one header line: folding characters would split it.
    return Rendered(" ".join(subject.split()), inlined, text)


_BLOCKS = {"p", "div", "br", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "li", "table", "ul"}
_SKIP = {"style", "script", "head", "title"}


class _TextMaker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")
        if tag == "a":
            self.links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        if tag == "a" and self.links:
            href = self.links.pop()
            if href and not href.startswith("#"):
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(markup: str) -> str:
    """A readable plain-text version of an HTML body: blocks on their own lines, links
    written out after their text."""
    maker = _TextMaker()
    maker.feed(markup)
    maker.close()
    lines = [line.strip() for line in "".join(maker.parts).split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return html_lib.unescape(text)
