"""The docs stay true: every setting is documented, and the README has its two commands."""

from pathlib import Path

from cartwheel.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    missing = [n for n in Settings.model_fields if f"CARTWHEEL_{n.upper()}" not in text]
    assert missing == []


def test_readme_gives_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    assert "make run" in text and "make test" in text
