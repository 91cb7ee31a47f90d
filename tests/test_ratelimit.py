"""Per-store rate limits: the token bucket (with an injected clock), the per-store override
set by ``cartwheel stores rate-limit``, and the 429 answers of the event endpoints."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cartwheel import cli
from cartwheel.config import Settings, get_settings
from cartwheel.db import Database
from cartwheel.exceptions import RateLimited
from cartwheel.models import Store
from cartwheel.ratelimit import Quota, RateLimiter
from cartwheel.stores import service as stores
from tests.conftest import StoreFixture, json_of


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def limiter(clock: FakeClock, rate: float = 10, burst: int | None = None) -> RateLimiter:
    # The wall clock (for X-RateLimit-Reset) is the same fake, 1.7e9 seconds later.
    return RateLimiter(rate, burst, clock=clock, wall_clock=lambda: clock.now + 1.7e9)


# -- the token bucket -------------------------------------------------------------------------


def test_a_full_bucket_allows_one_seconds_worth_then_refuses(clock: FakeClock) -> None:
    bucket = limiter(clock, rate=10)
    quotas = [bucket.check(1) for _ in range(10)]
    assert quotas[0] == Quota(limit=10, remaining=9)
    assert quotas[-1] == Quota(limit=10, remaining=0)
    with pytest.raises(RateLimited) as refused:
        bucket.check(1)
    assert refused.value.status_code == 429
    assert refused.value.headers == {
        "Retry-After": "1",
        "X-RateLimit-Limit": "10",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(clock.now + 1.7e9 + 1)),
    }


def test_tokens_refill_at_the_rate(clock: FakeClock) -> None:
    bucket = limiter(clock, rate=10)
    for _ in range(10):
        bucket.check(1)
    clock.now += 0.25  # 2.5 tokens
    assert bucket.check(1).remaining == 1
    assert bucket.check(1).remaining == 0
    with pytest.raises(RateLimited):
        bucket.check(1)
    clock.now += 60  # never more than the bucket holds
    assert bucket.check(1) == Quota(limit=10, remaining=9)


def test_retry_after_is_the_whole_seconds_until_a_token(clock: FakeClock) -> None:
    bucket = limiter(clock, rate=0.25)  # one request every 4 s; the bucket holds 1
    assert bucket.check(1) == Quota(limit=1, remaining=0)
    clock.now += 1
    with pytest.raises(RateLimited) as refused:
        bucket.check(1)
    assert refused.value.headers["Retry-After"] == "3"
    assert refused.value.headers["X-RateLimit-Limit"] == "1"
    clock.now += 3
    assert bucket.check(1).limit == 1


def test_an_explicit_burst_sizes_the_bucket(clock: FakeClock) -> None:
    bucket = limiter(clock, rate=1, burst=3)
    assert [bucket.check(1).remaining for _ in range(3)] == [2, 1, 0]
    with pytest.raises(RateLimited) as refused:
        bucket.check(1)
    assert refused.value.headers["X-RateLimit-Limit"] == "3"


def test_each_store_has_its_own_bucket_and_may_have_its_own_rate(clock: FakeClock) -> None:
    bucket = limiter(clock, rate=2)
    bucket.check(1)
    bucket.check(1)
    with pytest.raises(RateLimited):
        bucket.check(1)
    assert bucket.check(2).remaining == 1  # another store is untouched
    assert bucket.check(3, rate=50) == Quota(limit=50, remaining=49)
    assert bucket.check(4, rate=None).limit == 2  # None means the default


# -- the per-store override -------------------------------------------------------------------


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The CLI pointed at the test database."""
    monkeypatch.setenv("CARTWHEEL_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_the_cli_sets_and_clears_a_stores_rate_limit(
    cli_env: CliRunner, db: Database, store: StoreFixture
) -> None:
    result = cli_env.invoke(cli.app, ["stores", "rate-limit", str(store.store_id), "2.5"])
    assert result.exit_code == 0, result.output
    with db.read() as session:
        row = session.get(Store, store.store_id)
        assert row is not None and row.rate_limit_per_second == 2.5
    cleared = cli_env.invoke(cli.app, ["stores", "rate-limit", str(store.store_id)])
    assert cleared.exit_code == 0, cleared.output
    with db.read() as session:
        row = session.get(Store, store.store_id)
        assert row is not None and row.rate_limit_per_second is None
    missing = cli_env.invoke(cli.app, ["stores", "rate-limit", "999999999", "1"])
    assert missing.exit_code == 1


def test_a_store_override_set_by_the_cli_limits_its_requests(
    cli_env: CliRunner,
    client: TestClient,
    store: StoreFixture,
    other_store: StoreFixture,
) -> None:
    # Set before the store's first request: a verified key is cached with its limit.
    result = cli_env.invoke(cli.app, ["stores", "rate-limit", str(store.store_id), "0.001"])
    assert result.exit_code == 0, result.output
    body = {"name": "a", "contact": {"email": "rl@example.com"}}
    first = client.post("/v1/events", json=body, headers=store.headers)
    assert first.status_code == 202
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == (
        "1",
        "0",
    )
    assert client.post("/v1/events", json=body, headers=store.headers).status_code == 429
    # The other store keeps the (test-raised) default.
    assert client.post("/v1/events", json=body, headers=other_store.headers).status_code == 202


# -- 429 answers ------------------------------------------------------------------------------


def limit_store(db: Database, store: StoreFixture, per_second: float = 0.001) -> None:
    with db.transaction() as session:
        stores.set_rate_limit(session, store.store_id, per_second)


def assert_limit_headers(headers: dict[str, str] | object) -> None:
    assert isinstance(headers, dict)
    retry_after = int(headers["retry-after"])
    assert 900 <= retry_after <= 1000
    assert headers["x-ratelimit-limit"] == "1"
    assert headers["x-ratelimit-remaining"] == "0"
    assert int(headers["x-ratelimit-reset"]) >= retry_after


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/events", {"name": "a", "contact": {"email": "a@example.com"}}),
        ("/v1/events/batch", {"events": [{"name": "a", "contact": {"email": "a@example.com"}}]}),
    ],
)
def test_the_native_endpoints_answer_429_in_the_native_shape(
    client: TestClient, db: Database, store: StoreFixture, path: str, body: object
) -> None:
    limit_store(db, store)
    assert client.post(path, json=body, headers=store.headers).status_code == 202
    refused = client.post(path, json=body, headers=store.headers)
    assert refused.status_code == 429
    assert json_of(refused) == {"success": False, "message": "Rate limit exceeded."}
    assert_limit_headers({k.lower(): v for k, v in refused.headers.items()})


def test_the_voucherify_endpoint_answers_429_in_its_shape(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    limit_store(db, store)
    body = {"event": "e", "customer": {"source_id": "rl"}}
    assert client.post("/client/v1/events", json=body, headers=store.client_headers()).is_success
    refused = client.post("/client/v1/events", json=body, headers=store.client_headers())
    assert refused.status_code == 429
    answer = json_of(refused)
    assert answer.pop("request_id").startswith("v-")
    assert answer == {
        "code": 429,
        "key": "too_many_requests",
        "message": "API limit reached",
        "details": "Rate limit exceeded.",
    }
    headers = {k.lower(): v for k, v in refused.headers.items()}
    assert_limit_headers(headers)
    # The page may read the answer (and its Retry-After): its origin is allowed.
    assert headers["access-control-allow-origin"] == store.allowed_origin


def test_the_secret_key_and_the_client_credential_share_the_stores_bucket(
    client: TestClient, db: Database, store: StoreFixture
) -> None:
    limit_store(db, store)
    event = {"name": "a", "contact": {"email": "a@example.com"}}
    assert client.post("/v1/events", json=event, headers=store.headers).status_code == 202
    client_event = {"event": "e", "customer": {"source_id": "rl"}}
    refused = client.post("/client/v1/events", json=client_event, headers=store.client_headers())
    assert refused.status_code == 429
