"""Out-of-range paging is a 400 on every paginated list, on both engines (issue 8 item 2)."""

from __future__ import annotations

import pytest

from cartwheel.kit.pagination import MAX_SKIP
from tests.conftest import json_of
from tests.hostile.catalog import (
    Targets,
    paginated_lists,
)

# -- item 2: out-of-range paging is a 400 on every list ------------------------------------


@pytest.mark.parametrize("path", paginated_lists())
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("skip=9223372036854775808", f"The skip parameter may not exceed {MAX_SKIP}."),
        ("skip=18446744073709551616", f"The skip parameter may not exceed {MAX_SKIP}."),
        (f"skip={MAX_SKIP + 1}", f"The skip parameter may not exceed {MAX_SKIP}."),
        ("skip=-1", "The skip parameter must be at least 0."),
        ("limit=9223372036854775808", "The limit parameter must be between 1 and 50."),
        ("skip=" + "9" * 5000, "The skip parameter must be an integer."),
    ],
)
def test_out_of_range_paging_is_a_400_on_every_list(
    targets: Targets, path: str, query: str, message: str
) -> None:
    response = targets.client.get(f"{targets.url(path)}?{query}", headers=targets.store.headers)
    assert response.status_code == 400, response.text
    assert json_of(response) == {"success": False, "message": message}
    last = targets.client.get(f"{targets.url(path)}?skip={MAX_SKIP}", headers=targets.store.headers)
    assert last.status_code in (200, 404), last.text
