"""The core's checks of canonical fields: control characters are named by their field."""

from __future__ import annotations

import pytest

from cartwheel.exceptions import ValidationFailed
from cartwheel.ingest.canonical import CanonicalEvent, IdentityHints, ProfilePatch
from cartwheel.ingest.columns import check_single_line


def _event(**fields: object) -> CanonicalEvent:
    hints = IdentityHints()
    hints.add("email", "ann@example.com")
    return CanonicalEvent(store_id=1, name="order_created", identity=hints, **fields)  # type: ignore[arg-type]


def test_every_field_holding_a_control_character_is_named() -> None:
    event = _event(
        currency="U\nS",
        profile=ProfilePatch(fields={"city": "Paris\r\n", "latitude": 1.5}),
        entity={
            "id": "o\x00",
            "items": [{"sku": "ok"}, {"sku": "S\x7fKU"}],
            "billing_address": {"first_name": "A\u2028"},
            "tags": ["fine", "x\x85y"],
        },
    )
    with pytest.raises(ValidationFailed) as raised:
        check_single_line(event)
    assert raised.value.errors == {
        field: [f"The {field} must not contain control characters."]
        for field in (
            "currency",
            "city",
            "entity.id",
            "entity.items.1.sku",
            "entity.billing_address.first_name",
            "entity.tags.1",
        )
    }


def test_free_text_and_clean_fields_pass() -> None:
    check_single_line(
        _event(
            source="woo",
            dedup_key="k-1",
            properties={"comment": "line\r\nline"},
            extra={"nested": {"text": "a\tb"}},
            entity={"id": "o-1", "note": "ASAP\r\nplease", "description": "a\nb", "total": 1.0},
        )
    )
