"""The Liquid language as Cartwheel runs it: python-liquid with its resource limits, one
environment that escapes every value into HTML bodies and one that does not (subjects,
plain text, SMS), and template errors with their line and column.

Liquid, unlike a Jinja sandbox, has no way to reach a Python object's attributes: a
template sees only the JSON-like values it is given."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from liquid import BoundTemplate, Environment
from liquid.exceptions import LiquidError, ResourceLimitError

#: The most loop iterations one render may run (all loops together).
LOOP_LIMIT = 10_000
#: The most characters one render may write.
OUTPUT_LIMIT = 1_000_000
#: How deeply renders may nest (``include``-free templates rarely go past 3).
DEPTH_LIMIT = 20
#: The most bytes ``assign`` and ``capture`` may hold.
NAMESPACE_LIMIT = 100_000


class _Limited(Environment):
    loop_iteration_limit = LOOP_LIMIT
    output_stream_limit = OUTPUT_LIMIT
    context_depth_limit = DEPTH_LIMIT
    local_namespace_limit = NAMESPACE_LIMIT


#: For HTML bodies: every value is HTML-escaped unless a filter marks it safe.
HTML = _Limited(autoescape=True)
#: For subjects, plain-text parts and SMS, where escaping would show as ``&amp;``.
TEXT = _Limited(autoescape=False)


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with a template, and where (1-based line and column)."""

    message: str
    line: int
    column: int


class TemplateProblem(Exception):
    def __init__(self, field: str, problem: Problem) -> None:
        super().__init__(problem.message)
        self.field = field
        self.problem = problem


class RenderFailed(Exception):
    """A render stopped: a limit was reached or a filter failed."""


def problem_of(error: LiquidError) -> Problem:
    context = error.context()
    line, column = (context[0], context[1] + 1) if context else (1, 1)
    return Problem(str(error.message), line, column)


def position(source: str, index: int) -> tuple[int, int]:
    """1-based line and column of ``index`` in ``source``."""
    before = source[:index]
    line = before.count("\n") + 1
    return line, index - (before.rfind("\n") + 1) + 1


@lru_cache(maxsize=512)
def parse(source: str, html: bool) -> BoundTemplate:
    """The parsed template (cached: a campaign renders one template many times)."""
    return (HTML if html else TEXT).from_string(source)


def render(template: BoundTemplate, variables: dict[str, object]) -> str:
    try:
        return template.render(**variables)
    except ResourceLimitError as exc:
        raise RenderFailed(f"The template reached a limit: {exc.message}") from exc
    except LiquidError as exc:
        raise RenderFailed(f"The template failed: {exc.message}") from exc
