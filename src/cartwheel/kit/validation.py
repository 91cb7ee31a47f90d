"""Collecting every field error of a request before answering, so a client sees them all."""

from __future__ import annotations

from cartwheel.exceptions import InvalidRequest


class FieldErrors:
    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.fields.setdefault(path, []).append(message)

    def raise_any(self) -> None:
        """Raise :class:`InvalidRequest` (400) with everything collected, if anything was."""
        if self.fields:
            raise InvalidRequest(self.fields)
