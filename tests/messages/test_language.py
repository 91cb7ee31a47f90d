"""Liquid's limits as Cartwheel sets them, and the text part made from HTML."""

from __future__ import annotations

import pytest

from cartwheel.messages import language, rendering


@pytest.mark.parametrize(
    "source",
    [
        "{% for a in (1..200) %}{% for b in (1..200) %}x{% endfor %}{% endfor %}",  # loops
        "{% for a in (1..5000) %}{{ big }}{% endfor %}",  # output
        "{% assign s = big %}{% for a in (1..100) %}{% assign s = s | append: big %}"
        "{% endfor %}",  # what assign may hold
    ],
)
def test_a_render_that_would_run_away_stops(source: str) -> None:
    template = language.parse(source, True)
    with pytest.raises(language.RenderFailed, match="limit"):
        language.render(template, {"big": "y" * 5000})


def test_values_are_escaped_in_html_only() -> None:
    values = {"contact": {"firstName": '<b>"Ann" & co</b>'}}
    html = language.render(language.parse("{{ contact.firstName }}", True), values)
    text = language.render(language.parse("{{ contact.firstName }}", False), values)
    assert html == "&lt;b&gt;&#34;Ann&#34; &amp; co&lt;/b&gt;"
    assert text == '<b>"Ann" & co</b>'


def test_a_template_cannot_reach_python_objects() -> None:
    values = {"contact": {"firstName": "Ann"}}
    for probe in (
        "{{ contact.__class__ }}",
        "{{ contact.items }}",
        "{{ contact.firstName.__class__.__mro__ }}",
    ):
        assert language.render(language.parse(probe, False), values) == ""


def test_the_text_part_keeps_blocks_lists_and_links() -> None:
    html = (
        "<html><head><style>p{color:red}</style><title>t</title></head><body>"
        "<h1>Hello &amp; welcome</h1><p>Line one<br>line two</p>"
        '<ul><li><a href="https://x.example/a?b=1&amp;c=2">First</a></li><li>Second</li></ul>'
        "<script>alert(1)</script></body></html>"
    )
    assert rendering.html_to_text(html) == (
        "Hello & welcome\n\nLine one\nline two\n\n- First (https://x.example/a?b=1&c=2)\n\n- Second"
    )


def test_the_text_part_decodes_references_once_and_reads_awkward_tags() -> None:
    # A contact named "Tom &amp; Jerry" is escaped once into the HTML: the text shows the
    # name as written, not decoded twice.
    assert rendering.html_to_text("<p>Tom &amp;amp; Jerry</p>") == "Tom &amp; Jerry"
    html = (
        '<A HREF="https://x.example/?a=1&amp;b=2" title="a > b">Shop</A><!-- <p>hidden</p> -->'
        "<TABLE><tr><td>One</td><td>Two</td></tr></TABLE><a href=#top>Top</a><a>No link</a>"
        "<style>a > b { color: red }</style>x&nbsp;y"
    )
    assert rendering.html_to_text(html) == (
        "Shop (https://x.example/?a=1&b=2)\n\nOne Two\n\nTopNo linkx y"
    )


def test_bodies_over_the_cache_limit_and_repeated_ones_render_alike() -> None:
    repeats = rendering.CACHED_BODY_LIMIT // 20 + 1
    source = rendering.Source(
        "email",
        "Hi",
        "<style>p{color:red}</style>" + "<p>{{ contact.firstName }}</p>" * repeats,
        None,
    )
    for name in ("Ann", "Bob", "Ann"):
        result = rendering.render(source, {"contact": {"firstName": name}})
        assert result.html is not None
        assert len(result.html) > rendering.CACHED_BODY_LIMIT
        assert result.html.count(f'<p style="color: red;">{name}</p>') == repeats
        assert result.text.split("\n\n") == [name] * repeats
    small = rendering.Source("email", "Hi", "<p>{{ contact.firstName }}</p>", None)
    first = rendering.render(small, {"contact": {"firstName": "Ann"}})
    assert rendering.render(small, {"contact": {"firstName": "Ann"}}) == first
    assert rendering.render(small, {"contact": {"firstName": "Bob"}}).text == "Bob"
