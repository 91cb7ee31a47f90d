"""Regenerate docs/configuration.md's settings table from cartwheel.config.Settings.

    .venv/bin/python scripts/gen_config_docs.py
"""

from __future__ import annotations

from pathlib import Path

from cartwheel.config import Settings

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def table() -> str:
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        lines.append(f"| `CARTWHEEL_{name.upper()}` | `{field.default}` | {field.description or ''} |")
    return "\n".join(lines)


def main() -> None:
    text = DOC.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n{table()}\n{END}{tail}")


if __name__ == "__main__":
    main()
