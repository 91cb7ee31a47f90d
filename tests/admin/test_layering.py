"""The pages call the domains' services, as the API does, and never reach around them: no
page module imports SQLAlchemy, the ORM models or a domain's repository."""

from __future__ import annotations

import ast
from pathlib import Path

PAGES = Path(__file__).resolve().parents[2] / "src" / "cartwheel" / "admin" / "pages"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_pages_import_services_not_tables() -> None:
    modules = sorted(PAGES.glob("*.py"))
    assert len(modules) >= 7
    for path in modules:
        for name in _imports(path):
            assert not name.startswith("sqlalchemy"), (path.name, name)
            if not name.startswith("cartwheel.models.base"):  # utcnow, not a table
                assert not name.startswith("cartwheel.models"), (path.name, name)
            assert ".repository" not in name and not name.endswith("repository"), (
                path.name,
                name,
            )
