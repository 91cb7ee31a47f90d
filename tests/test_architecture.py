"""The shape of the package graph, read from the source (every import, also those inside
functions): ``kit/`` knows no domain, and the domains that hold a contact's rows do not
import each other in a circle; and each key a module keeps per session (``session.info``,
the queue's deferred work) is that module's alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "cartwheel"

#: What kit/ may import: itself and the error tree.
KIT_MAY_IMPORT = {"kit", "exceptions"}

#: The domains that hold a contact's rows, and identity, which owns the contact.
DOMAINS = {
    "identity",
    "contacts",
    "lists",
    "members",
    "forms",
    "bookings",
    "orders",
    "records",
    "catalog",
    "events",
}


def _top(module: str) -> str | None:
    """``cartwheel.contacts.service`` → ``contacts``."""
    parts = module.split(".")
    return parts[1] if parts[0] == "cartwheel" and len(parts) > 1 else None


def _graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        if len(parts) < 2 or parts[0] == "migrations":
            continue  # top-level modules are not packages
        source = parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                top = _top(target)
                if top is not None and top != source:
                    edges.setdefault(source, set()).add(top)
    return edges


def _cycle(edges: dict[str, set[str]], nodes: set[str]) -> list[str] | None:
    """One cycle of the graph restricted to ``nodes``, or None."""
    state: dict[str, int] = {}  # 1 = on the path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, set()) & nodes):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(nodes):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_kit_imports_no_domain_code_and_not_the_runtime() -> None:
    assert _graph().get("kit", set()) <= KIT_MAY_IMPORT


def test_the_domains_holding_contact_rows_import_each_other_in_no_circle() -> None:
    assert _cycle(_graph(), DOMAINS) is None


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}}, None),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ],
)
def test_the_cycle_finder_finds_cycles(
    edges: dict[str, set[str]], expected: list[str] | None
) -> None:
    assert _cycle(edges, {"a", "b", "c"}) == expected


def _session_keys() -> dict[str, set[str]]:
    """Every string constant a module uses as a key of ``session.info`` or of the queue's
    deferred work (``deferred(session)``), by value: which ``module.NAME`` holds it."""
    keys: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign | ast.AnnAssign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name)
        }
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                holder, key = node.func.value, node.args[0] if node.args else None
                if node.func.attr not in {"get", "pop", "setdefault"}:
                    continue
            elif isinstance(node, ast.Subscript):
                holder, key = node.value, node.slice
            else:
                continue
            text = ast.unparse(holder)
            if not (text.endswith(".info") or text.startswith("deferred(")):
                continue
            if isinstance(key, ast.Name) and key.id in constants:
                keys.setdefault(constants[key.id], set()).add(f"{module}.{key.id}")
    return keys


def test_each_session_key_is_one_modules_own() -> None:
    """Two modules keeping different things under one key of a session (a pass's noted
    outbox messages and its batch's run messages were both "cartwheel.flows.messages")
    would each read the other's: every key has one holder."""
    keys = _session_keys()
    assert {"cartwheel.flows.writes", "cartwheel.queue.deferred"} <= set(keys)
    shared = {value: holders for value, holders in keys.items() if len(holders) > 1}
    assert shared == {}
