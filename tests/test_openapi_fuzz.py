"""Property-based fuzzing of every operation in Cartwheel's own OpenAPI document.

Schemathesis reads ``/openapi.json`` from the running app, so an endpoint added later is
fuzzed without touching this file. Requests go in-process to the ASGI app, authenticated as a
fresh store (its secret key, or its public client credential where the operation takes one),
with valid and invalid data. No answer may be a 5xx, and every answer must match the schema
the document gives for its status.

Each operation is driven by its own Hypothesis test (``APIOperation.as_strategy``) rather than
``schemathesis.pytest.from_fixture``, whose glue does not support this pytest's node ids; the
test collects every operation's failure and reports each with a curl command to replay it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import StoreFixture
from tests.hostile.catalog import WRITE_KEY

ASGIApp = Callable[..., Awaitable[None]]

#: Examples per operation (valid and invalid together): 73 operations at 10 examples
#: take about 15 seconds per engine.
MAX_EXAMPLES = 10
CHECKS = [not_a_server_error, response_schema_conformance]
STORE_ID_PARAMETERS = ("storeid", "store_id")


def load_schema(client: TestClient) -> Any:
    """The app's OpenAPI document, bound to the app the ``client`` fixture runs."""
    app: ASGIApp = client.app  # type: ignore[assignment]

    async def without_lifespan(scope: dict[str, Any], receive: Any, send: Any) -> None:
        # Schemathesis would run the app's lifespan a second time (and its shutdown would
        # stop the shared ingest writer); returning at once means "no lifespan support".
        if scope["type"] == "lifespan":
            return
        await app(scope, receive, send)

    config = schemathesis.Config.from_dict({"generation": {"database": "none"}})
    return schemathesis.openapi.from_asgi("/openapi.json", without_lifespan, config=config)


def credentials(operation: Any, store: StoreFixture) -> dict[str, str]:
    """The headers that authenticate a call of ``operation`` as ``store``."""
    declared = {parameter.name.lower() for parameter in operation.headers}
    if "x-client-token" in declared:
        return store.client_headers()
    if operation.method.upper() == "OPTIONS":
        return {}
    if operation.path in WRITE_KEY:
        return store.write_headers
    return store.headers


def fuzz(operation: Any, store: StoreFixture) -> None:
    """Run ``operation``'s Hypothesis test; raises on the first failing example."""
    path_parameters = {
        parameter.name: store.store_id
        for parameter in operation.path_parameters
        if parameter.name.lower() in STORE_ID_PARAMETERS
    }
    strategy = st.one_of(
        operation.as_strategy(generation_mode=mode, path_parameters=path_parameters or None)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    )
    headers = credentials(operation, store)

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=timedelta(seconds=5),
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case: Case) -> None:
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:
            exc.add_note(f"replay: {case.as_curl_command(headers=headers)}")
            raise

    check()


def describe(exc: BaseException) -> str:
    """One short paragraph per failure (schemathesis' own text repeats whole schemas)."""
    found = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
    lines = []
    for failure in found:
        title = getattr(failure, "title", type(failure).__name__)
        text = str(getattr(failure, "message", failure)).strip().splitlines()
        lines.append(f"  - {title}: {' '.join(line.strip() for line in text[:3])}"[:400])
    return "\n".join([*lines, *getattr(exc, "__notes__", [])])


def test_no_operation_answers_a_server_error_or_off_schema(
    client: TestClient, store: StoreFixture
) -> None:
    schema = load_schema(client)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"invalid operation in the OpenAPI document: {result.err()}")
            continue
        operation = result.ok()
        operations += 1
        try:
            fuzz(operation, store)
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.label}: {describe(exc)}")
    assert operations > 0
    assert not failures, f"{len(failures)} of {operations} operations failed:\n\n" + "\n\n".join(
        failures
    )
