"""From a template and its variables to what is sent: the subject, the HTML with its CSS
inlined, and the plain-text part (the template's own, or made from the HTML); or an SMS
text. Links are rewritten for click tracking by the caller (:mod:`.tracking`)."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from functools import lru_cache
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
    cached = len(body) <= CACHED_BODY_LIMIT
    inlined = _inlined(body) if cached else _inline(body)
    if source.text is not None:
        text = language.render(language.parse(source.text, False), variables)
    else:
        text = _text_of(body) if cached else html_to_text(body)
    # A subject is one header line: folding characters would split it.
    return Rendered(" ".join(subject.split()), inlined, text)


def _inline(body: str) -> str:
    try:
        return _INLINER.inline(body)
    except ValueError as exc:
        raise language.RenderFailed(f"The CSS could not be inlined: {exc}") from exc


# A body that renders the same for many recipients (a campaign that names no contact field)
# is inlined and turned into text once. Only bodies up to this size are kept (64 of each at
# most: a few MB, where a body may be up to language.OUTPUT_LIMIT characters).
CACHED_BODY_LIMIT = 50_000
_inlined = lru_cache(maxsize=64)(_inline)


@lru_cache(maxsize=64)
def _text_of(body: str) -> str:
    return html_to_text(body)


_BLOCKS = frozenset(
    {"p", "div", "br", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "li", "table", "ul"}
)
_SKIP = frozenset({"style", "script", "head", "title"})
#: A comment, a declaration or processing instruction, or a start or end tag (its
#: attributes may hold a quoted ``>``).
_TOKEN = re.compile(
    r"<!--.*?(?:-->|$)|<[!?][^>]*>|<(/?)([a-zA-Z][^\s/>]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
    re.DOTALL,
)
_HREF = re.compile(r"""(?:^|[\s/])href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""", re.I)
_SPACE = re.compile(r"\s+")
_GAPS = re.compile(r"\n{3,}")


def html_to_text(markup: str) -> str:
    """A readable plain-text version of an HTML body: blocks on their own lines, list
    items with a dash, links written out after their text; style, script and head left out.

    One regular expression walks the tags (this runs for every message sent, and
    :class:`html.parser.HTMLParser` cost as much as the template itself); character
    references are decoded once, in text and in links."""
    parts: list[str] = []
    links: list[str | None] = []
    skipping = 0
    end = 0
    for match in _TOKEN.finditer(markup):
        if not skipping and match.start() > end:
            parts.append(_data(markup[end : match.start()]))
        end = match.end()
        name = match.group(2)
        if name is None:
            continue  # a comment or declaration
        tag = name.lower()
        if match.group(1):  # an end tag
            if tag in _SKIP:
                skipping = max(0, skipping - 1)
            elif tag in _BLOCKS:
                parts.append("\n")
            elif tag in ("td", "th"):
                parts.append(" ")
            if tag == "a" and links:
                href = links.pop()
                if href and not href.startswith("#"):
                    parts.append(f" ({href})")
            continue
        if tag in _SKIP:
            skipping += 1
        elif tag in _BLOCKS:
            parts.append("\n")
        if tag == "li":
            parts.append("- ")
        elif tag == "a":
            links.append(_href(match.group(3)))
    if not skipping and end < len(markup):
        parts.append(_data(markup[end:]))
    lines = [line.strip() for line in "".join(parts).split("\n")]
    return _GAPS.sub("\n\n", "\n".join(lines)).strip()


def _data(text: str) -> str:
    if "&" in text:
        text = html_lib.unescape(text)
    return _SPACE.sub(" ", text)


def _href(attributes: str) -> str | None:
    found = _HREF.search(attributes)
    if found is None:
        return None
    value = next(v for v in found.groups() if v is not None)
    return html_lib.unescape(value) if "&" in value else value
